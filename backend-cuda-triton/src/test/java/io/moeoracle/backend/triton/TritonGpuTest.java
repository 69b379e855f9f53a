package io.moeoracle.backend.triton;

import io.moeoracle.api.CapturedForward;
import io.moeoracle.api.MoeKernel;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.error.BadInputException;
import io.moeoracle.api.error.KernelStateException;
import io.moeoracle.api.spec.Activation;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.spec.QuantScheme;
import io.moeoracle.api.tensor.DType;
import io.moeoracle.api.tensor.DeviceTensor;
import io.moeoracle.api.tensor.HostTensor;
import io.moeoracle.api.tensor.MoeWeights;
import io.moeoracle.api.tensor.Routing;
import io.moeoracle.api.tensor.Tensor;
import io.moeoracle.driver.cuda.CudaDriver;
import io.moeoracle.reference.RandomLayer;
import io.moeoracle.reference.RandomMoe;
import io.moeoracle.reference.ReferenceMoe;
import io.moeoracle.reference.RelativeError;
import io.moeoracle.reference.TopKRouting;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * triton and triton-unfused against the float64 reference on a real NVIDIA GPU: relative L2 error
 * at most 1e-2, fresh random inputs every run (seed logged), outputs NaN-filled before each call
 * and checked to be fully overwritten. Large calls compare a random subset of rows with the
 * reference (which is slow for the gpt-oss shapes); the kernel still computes every row.
 */
@Tag("gpu")
class TritonGpuTest {
    private static final Logger LOG = LoggerFactory.getLogger(TritonGpuTest.class);
    private static final double TOLERANCE = 1e-2;
    private static DeviceInfo device;

    private long seed;
    private SplittableRandom rnd;

    @BeforeAll
    static void probe() {
        device = CudaDriver.load().device(0).toDeviceInfo();
        LOG.info("device {}", device.describe());
    }

    @BeforeEach
    void seed() {
        seed = System.nanoTime();
        rnd = new SplittableRandom(seed);
        LOG.info("seed {}", seed);
    }

    enum RoutingMode { LOGITS, TOPK }

    /** One standard-format case: returns the relative L2 error over the checked rows. */
    private double standardCase(TritonKernel k, MoeWeights w, int t, RoutingMode mode, boolean hot, boolean onDevice,
                                DType hiddenType, DType outType, int checkRows) {
        MoeLayerSpec spec = k.spec();
        int h = spec.hiddenSize();
        int e = spec.experts();
        try (Arena arena = Arena.ofConfined()) {
            HostTensor hidden = RandomMoe.hidden(t, h, hiddenType, rnd.nextLong(), arena);
            HostTensor logits = RandomMoe.routerLogits(t, e, rnd.nextLong(), arena);
            int el = spec.localExperts();
            int e0 = spec.expertParallelRank() * el;
            int hotExpert = e0 + rnd.nextInt(el);
            for (int tok = 0; tok < t; tok++) {
                // a quarter of the local experts never get a token; a hot one takes most tokens
                for (int x = e0 + el * 3 / 4; x < e0 + el && el >= 4; x++) {
                    add(logits, tok * (long) e + x, -100f);
                }
                if (hot && rnd.nextInt(10) < 8) {
                    add(logits, tok * (long) e + hotExpert, 50f);
                }
            }
            if (mode == RoutingMode.LOGITS && rnd.nextBoolean()) {
                logits = toBf16(logits, arena); // the kernel reads BF16 logits too
            }
            Routing routing = mode == RoutingMode.LOGITS ? Routing.logits(logits)
                    : TopKRouting.fromLogits(logits, spec.topK(), arena);
            HostTensor out = HostTensor.allocate(arena, outType, t, h);
            out.data().fill((byte) 0xFF); // NaN in F32 and BF16
            if (onDevice) {
                try (DeviceTensor dh = upload(k, hidden); DeviceTensor dout = upload(k, out)) {
                    List<DeviceTensor> extra = new ArrayList<>();
                    Routing dr = switch (routing) {
                        case Routing.Logits l -> Routing.logits(track(extra, upload(k, (HostTensor) l.logits())));
                        case Routing.TopK tk -> Routing.topK(track(extra, upload(k, (HostTensor) tk.ids())),
                                track(extra, upload(k, (HostTensor) tk.weights())));
                    };
                    k.forward(dh, dr, dout);
                    k.synchronize();
                    dout.copyTo(out);
                    extra.forEach(DeviceTensor::close);
                }
            } else {
                k.forward(hidden, routing, out);
            }
            assertFullyWritten(out);
            int[] rows = pickRows(t, checkRows);
            HostTensor refOut = HostTensor.allocate(arena, DType.F32, rows.length, h);
            ReferenceMoe.forward(spec, w, rowsOf(hidden, rows, arena), subset(routing, rows, arena), refOut);
            return RelativeError.l2(rowsOf(out, rows, arena), refOut);
        }
    }

    private static HostTensor toBf16(HostTensor f32, Arena arena) {
        HostTensor b = HostTensor.allocate(arena, DType.BF16, f32.shape());
        for (long j = 0; j < f32.numel(); j++) {
            b.data().setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, j,
                    io.moeoracle.api.quant.Bf16.fromFloat(f32.data().getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, j)));
        }
        return b;
    }

    private static DeviceTensor track(List<DeviceTensor> list, DeviceTensor t) {
        list.add(t);
        return t;
    }

    private static void add(HostTensor f32, long index, float delta) {
        MemorySegment d = f32.data();
        d.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, index, d.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, index) + delta);
    }

    private static DeviceTensor upload(MoeKernel k, HostTensor t) {
        DeviceTensor d = k.allocate(t.dtype(), t.shape());
        d.copyFrom(t);
        return d;
    }

    private int[] pickRows(int t, int max) {
        if (t <= max) {
            return IntStream.range(0, t).toArray();
        }
        TreeSet<Integer> s = new TreeSet<>();
        while (s.size() < max) {
            s.add(rnd.nextInt(t));
        }
        return s.stream().mapToInt(Integer::intValue).toArray();
    }

    private static HostTensor rowsOf(HostTensor t, int[] rows, Arena arena) {
        long[] shape = t.shape();
        long rowBytes = t.byteSize() / shape[0];
        shape[0] = rows.length;
        HostTensor r = HostTensor.allocate(arena, t.dtype(), shape);
        for (int i = 0; i < rows.length; i++) {
            MemorySegment.copy(t.data(), rows[i] * rowBytes, r.data(), i * rowBytes, rowBytes);
        }
        return r;
    }

    private static Routing subset(Routing routing, int[] rows, Arena arena) {
        return switch (routing) {
            case Routing.Logits l -> Routing.logits(rowsOf((HostTensor) l.logits(), rows, arena));
            case Routing.TopK tk -> Routing.topK(rowsOf((HostTensor) tk.ids(), rows, arena),
                    rowsOf((HostTensor) tk.weights(), rows, arena));
        };
    }

    private static void assertFullyWritten(HostTensor out) {
        long n = out.numel();
        for (long i = 0; i < n; i++) {
            float v = out.dtype() == DType.F32 ? out.data().getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i)
                    : io.moeoracle.api.quant.Bf16.toFloat(out.data().getAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i));
            if (!Float.isFinite(v)) {
                throw new AssertionError("out element " + i + " of " + out.shapeString() + " is " + v
                        + ": not (or wrongly) written");
            }
        }
    }

    private static TritonKernel create(MoeLayerSpec spec, boolean fused) {
        MoeKernel k = fused ? new TritonProvider().create(spec, device) : new TritonUnfusedProvider().create(spec, device);
        return (TritonKernel) k;
    }

    private TritonKernel create(MoeLayerSpec spec) {
        return create(spec, spec.activation() instanceof Activation.SwigluOai && rnd.nextBoolean());
    }

    // ------------------------------------------------------------------------------------------

    static IntStream specIndex() {
        return IntStream.range(0, 24);
    }

    @ParameterizedTest(name = "random spec {0}")
    @MethodSource("specIndex")
    void randomSpecsMatchTheReference(int index) {
        RandomLayer drawn = RandomLayer.draw(rnd, QuantScheme.MXFP4_BF16);
        int t = drawn.tokens();
        MoeLayerSpec spec = drawn.spec();
        try (Arena arena = Arena.ofShared(); TritonKernel kernel = create(spec)) {
            MoeWeights w = RandomMoe.weights(spec, rnd.nextLong(), arena);
            kernel.prepare(w);
            RoutingMode mode = rnd.nextBoolean() ? RoutingMode.LOGITS : RoutingMode.TOPK;
            boolean dev = rnd.nextBoolean();
            DType hd = rnd.nextBoolean() ? DType.BF16 : DType.F32;
            DType od = rnd.nextBoolean() ? DType.BF16 : DType.F32;
            double err = standardCase(kernel, w, t, mode, rnd.nextInt(3) == 0, dev, hd, od, 300);
            String what = "T=" + t + " " + mode + (dev ? " device" : " host") + " hidden " + hd + " out " + od;
            LOG.info("{} {} {} bucket {}: relL2 {}", kernel.providerId(), spec.describe(), what,
                    TritonPlan.bucket((long) t * spec.topK(), spec.localExperts()), err);
            assertThat(err).as(kernel.providerId() + " " + spec.describe() + " " + what).isLessThanOrEqualTo(TOLERANCE);
        }
    }

    @Test
    void everyBucketAndBothProvidersMatchTheReference() {
        int e = 16;
        int h = 32 * (8 + rnd.nextInt(40)); // 256..1504, not always a multiple of the 64-wide padding
        int i = 32 * (8 + rnd.nextInt(40));
        MoeLayerSpec spec = MoeLayerSpec.builder().experts(e).topK(4).hiddenSize(h).intermediateSize(i)
                .quant(QuantScheme.MXFP4_BF16).activation(new Activation.SwigluOai(1.0 + rnd.nextDouble(), 7.0))
                .hasBias(true).maxTokensPerCall(512).build();
        for (boolean fused : new boolean[] {true, false}) {
            try (Arena arena = Arena.ofShared(); TritonKernel kernel = create(spec, fused)) {
                MoeWeights w = RandomMoe.weights(spec, rnd.nextLong(), arena);
                kernel.prepare(w);
                for (int t : new int[] {1, 128, 512}) { // decode, mid and prefill buckets at E=16, k=4
                    String bucket = TritonPlan.bucket((long) t * 4, e);
                    RoutingMode mode = rnd.nextBoolean() ? RoutingMode.LOGITS : RoutingMode.TOPK;
                    double err = standardCase(kernel, w, t, mode, false, rnd.nextBoolean(), DType.BF16, DType.BF16, 48);
                    LOG.info("{} {} T={} {} bucket {}: relL2 {}", kernel.providerId(), spec.describe(), t, mode, bucket,
                            err);
                    assertThat(err).as("%s T=%d bucket %s", kernel.providerId(), t, bucket)
                            .isLessThanOrEqualTo(TOLERANCE);
                }
            }
        }
        assertThat(new String[] {TritonPlan.bucket(4, e), TritonPlan.bucket(512, e), TritonPlan.bucket(2048, e)})
                .containsExactly(TritonPlan.DECODE, TritonPlan.MID, TritonPlan.PREFILL);
    }

    @ParameterizedTest(name = "gpt-oss-{0} layer")
    @ValueSource(ints = {20, 120})
    void gptOssLayersMatchTheReference(int model) {
        MoeLayerSpec spec = MoeLayerSpec.builder().experts(model == 20 ? 32 : 128).topK(4).hiddenSize(2880)
                .intermediateSize(2880).quant(QuantScheme.MXFP4_BF16).maxTokensPerCall(4096).build();
        try (Arena arena = Arena.ofShared(); TritonKernel kernel = create(spec, model == 120 || rnd.nextBoolean())) {
            MoeWeights w = RandomMoe.weights(spec, rnd.nextLong(), arena);
            kernel.prepare(w);
            for (int t : new int[] {1, 7, 64, 300, 4096}) {
                int check = t <= 64 ? t : 32; // reference on a random subset of rows for the large calls
                boolean hot = t == 300;
                RoutingMode mode = t == 64 ? RoutingMode.TOPK : RoutingMode.LOGITS;
                double err = standardCase(kernel, w, t, mode, hot, t != 7, DType.BF16, DType.BF16, check);
                LOG.info("{} gpt-oss-{} T={} {}{} rows checked {}: relL2 {}", kernel.providerId(), model, t, mode,
                        hot ? " hot expert" : "", Math.min(t, check), err);
                assertThat(err).as("gpt-oss-%d T=%d", model, t).isLessThanOrEqualTo(TOLERANCE);
            }
        }
    }

    @Test
    void capturedForwardReplaysOnNewInputContents() {
        MoeLayerSpec spec = MoeLayerSpec.builder().experts(32).topK(4).hiddenSize(2880).intermediateSize(2880)
                .quant(QuantScheme.MXFP4_BF16).maxTokensPerCall(64).build();
        int t = 8;
        try (Arena arena = Arena.ofShared(); TritonKernel kernel = create(spec, rnd.nextBoolean())) {
            MoeWeights w = RandomMoe.weights(spec, rnd.nextLong(), arena);
            kernel.prepare(w);
            try (DeviceTensor dh = kernel.allocate(DType.BF16, t, 2880);
                 DeviceTensor dl = kernel.allocate(DType.F32, t, 32);
                 DeviceTensor dout = kernel.allocate(DType.F32, t, 2880)) {
                CapturedForward graph = kernel.capture(dh, Routing.logits(dl), dout).orElseThrow();
                for (int round = 0; round < 3; round++) {
                    HostTensor hidden = RandomMoe.hidden(t, 2880, DType.BF16, rnd.nextLong(), arena);
                    HostTensor logits = RandomMoe.routerLogits(t, 32, rnd.nextLong(), arena);
                    HostTensor out = HostTensor.allocate(arena, DType.F32, t, 2880);
                    out.data().fill((byte) 0xFF);
                    dh.copyFrom(hidden);
                    dl.copyFrom(logits);
                    dout.copyFrom(out);
                    graph.replay();
                    kernel.synchronize();
                    dout.copyTo(out);
                    assertFullyWritten(out);
                    HostTensor ref = HostTensor.allocate(arena, DType.F32, t, 2880);
                    ReferenceMoe.forward(spec, w, hidden, Routing.logits(logits), ref);
                    double err = RelativeError.l2(out, ref);
                    LOG.info("graph replay {}: relL2 {}", round, err);
                    assertThat(err).isLessThanOrEqualTo(TOLERANCE);
                }
                graph.close();
            }
        }
    }

    @Test
    void badInputRaisesBeforeAnyLaunch() {
        MoeLayerSpec spec = MoeLayerSpec.builder().experts(8).topK(2).hiddenSize(128).intermediateSize(64)
                .quant(QuantScheme.MXFP4_BF16).maxTokensPerCall(16).build();
        TritonKernel kernel = create(spec, true);
        try (Arena arena = Arena.ofShared()) {
            HostTensor hidden = RandomMoe.hidden(4, 128, DType.BF16, rnd.nextLong(), arena);
            HostTensor logits = RandomMoe.routerLogits(4, 8, rnd.nextLong(), arena);
            HostTensor out = HostTensor.allocate(arena, DType.F32, 4, 128);
            assertThatThrownBy(() -> kernel.forward(hidden, Routing.logits(logits), out))
                    .isInstanceOf(KernelStateException.class).hasMessageContaining("prepare(weights) before forward");
            MoeWeights w = RandomMoe.weights(spec, rnd.nextLong(), arena);
            MoeWeights noScales = new MoeWeights(w.w13(), Optional.empty(), w.w13Bias(), w.w2(), w.w2Scales(),
                    w.w2Bias());
            assertThatThrownBy(() -> kernel.prepare(noScales)).isInstanceOf(BadInputException.class)
                    .hasMessageContaining("w13Scales");
            MoeLayerSpec other = spec.toBuilder().hiddenSize(256).build();
            MoeWeights otherWeights = RandomMoe.weights(other, rnd.nextLong(), arena);
            assertThatThrownBy(() -> kernel.prepare(otherWeights)).isInstanceOf(BadInputException.class);
            kernel.prepare(w);
            HostTensor wrongH = RandomMoe.hidden(4, 96, DType.BF16, rnd.nextLong(), arena);
            assertThatThrownBy(() -> kernel.forward(wrongH, Routing.logits(logits), out))
                    .isInstanceOf(BadInputException.class).hasMessageContaining("hidden");
            HostTensor tooMany = RandomMoe.hidden(17, 128, DType.BF16, rnd.nextLong(), arena);
            assertThatThrownBy(() -> kernel.forward(tooMany, Routing.logits(RandomMoe.routerLogits(17, 8, 1, arena)),
                    HostTensor.allocate(arena, DType.F32, 17, 128)))
                    .isInstanceOf(BadInputException.class).hasMessageContaining("maxTokensPerCall");
            try (DeviceTensor wrongSize = kernel.allocate(DType.BF16, 4, 160)) {
                assertThatThrownBy(() -> kernel.forward(wrongSize, Routing.logits(logits), out))
                        .isInstanceOf(BadInputException.class);
            }
            HostTensor ids = HostTensor.allocate(arena, DType.I32, 4, 2);
            ids.data().setAtIndex(ValueLayout.JAVA_INT, 3, 8);
            HostTensor wts = HostTensor.allocate(arena, DType.F32, 4, 2);
            assertThatThrownBy(() -> kernel.forward(hidden, Routing.topK(ids, wts), out))
                    .isInstanceOf(BadInputException.class).hasMessageContaining("outside");
            HostTensor intOut = HostTensor.allocate(arena, DType.I32, 4, 128);
            assertThatThrownBy(() -> kernel.forward(hidden, Routing.logits(logits), intOut))
                    .isInstanceOf(BadInputException.class);
            assertThatThrownBy(() -> kernel.capture(hidden, Routing.logits(logits), out))
                    .isInstanceOf(BadInputException.class).hasMessageContaining("device tensors");
            // the batched format is not this kernel's: the api's answer names the call to make instead
            HostTensor counts = HostTensor.allocate(arena, DType.I32, 8);
            HostTensor batched = HostTensor.allocate(arena, DType.BF16, 8, 4, 128);
            assertThatThrownBy(() -> kernel.forwardBatched(batched, counts, batched))
                    .isInstanceOf(BadInputException.class).hasMessageContaining("forwardBatched")
                    .hasMessageContaining("forward(hidden [T, H], routing, out)");
            assertThat(kernel.captureBatched(batched, counts, batched)).isEmpty();
            // the kernel still works after all that
            out.data().fill((byte) 0xFF);
            kernel.forward(hidden, Routing.logits(logits), out);
            assertFullyWritten(out);
            kernel.close();
            assertThatThrownBy(() -> kernel.forward(hidden, Routing.logits(logits), out))
                    .isInstanceOf(KernelStateException.class).hasMessageContaining("closed");
        } finally {
            kernel.close();
        }
    }
}
