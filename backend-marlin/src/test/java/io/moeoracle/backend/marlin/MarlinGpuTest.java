package io.moeoracle.backend.marlin;

import io.moeoracle.api.CapturedForward;
import io.moeoracle.api.MoeKernel;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.error.BadInputException;
import io.moeoracle.api.error.KernelStateException;
import io.moeoracle.api.spec.Activation;
import io.moeoracle.api.spec.ActivationFormat;
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
 * marlin and batched-marlin against the float64 reference on a real NVIDIA GPU: relative L2 error
 * at most 1e-2, fresh random inputs every run (seed logged), outputs NaN-filled before each call
 * and checked to be fully overwritten. Large calls compare a random subset of rows with the
 * reference (which is slow for the gpt-oss shapes); the kernel still computes every row.
 */
@Tag("gpu")
class MarlinGpuTest {
    private static final Logger LOG = LoggerFactory.getLogger(MarlinGpuTest.class);
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
    private double standardCase(MarlinKernel k, MoeWeights w, int t, RoutingMode mode, boolean hot, boolean onDevice,
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

    private MarlinKernel create(MoeLayerSpec spec) {
        MoeKernel k = spec.activationFormat() == ActivationFormat.BATCHED
                ? new BatchedMarlinProvider().create(spec, device) : new MarlinProvider().create(spec, device);
        return (MarlinKernel) k;
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
        boolean batchedFormat = index % 4 == 3;
        MoeLayerSpec spec = drawn.spec().toBuilder()
                .activationFormat(batchedFormat ? ActivationFormat.BATCHED : ActivationFormat.STANDARD).build();
        try (Arena arena = Arena.ofShared(); MarlinKernel kernel = create(spec)) {
            MoeWeights w = RandomMoe.weights(spec, rnd.nextLong(), arena);
            kernel.prepare(w);
            int forced = rnd.nextInt(3) == 0 ? MarlinPlan.M_TILES[rnd.nextInt(MarlinPlan.M_TILES.length)] : 0;
            kernel.forceM(forced);
            double err;
            String what;
            if (batchedFormat) {
                int tb = Math.min(t, 64);
                err = batchedCase(kernel, w, tb, rnd.nextBoolean(), rnd.nextBoolean() ? DType.BF16 : DType.F32,
                        rnd.nextBoolean() ? DType.BF16 : DType.F32);
                what = "batched Tb=" + tb;
            } else {
                RoutingMode mode = rnd.nextBoolean() ? RoutingMode.LOGITS : RoutingMode.TOPK;
                boolean dev = rnd.nextBoolean();
                DType hd = rnd.nextBoolean() ? DType.BF16 : DType.F32;
                DType od = rnd.nextBoolean() ? DType.BF16 : DType.F32;
                err = standardCase(kernel, w, t, mode, rnd.nextInt(3) == 0, dev, hd, od, 300);
                what = "T=" + t + " " + mode + (dev ? " device" : " host") + " hidden " + hd + " out " + od;
            }
            long rowsForM = batchedFormat ? (long) spec.localExperts() * Math.min(t, 64) : (long) t * spec.topK();
            LOG.info("{} {} M={}: relL2 {}", spec.describe(), what,
                    forced == 0 ? "auto (" + MarlinPlan.chooseM(rowsForM, spec.localExperts()) + ")" : forced, err);
            assertThat(err).as(spec.describe() + " " + what).isLessThanOrEqualTo(TOLERANCE);
        }
    }

    /** Batched format: reference = each local expert alone on its rows (top-1 routing, weight 1). */
    private double batchedCase(MoeKernel k, MoeWeights w, int tb, boolean onDevice, DType hiddenType,
                               DType outType) {
        MoeLayerSpec spec = k.spec();
        int el = spec.localExperts();
        int h = spec.hiddenSize();
        try (Arena arena = Arena.ofConfined()) {
            HostTensor hidden = RandomMoe.hidden(el * tb, h, hiddenType, rnd.nextLong(), arena).reshape(el, tb, h);
            HostTensor counts = HostTensor.allocate(arena, DType.I32, el);
            for (int e = 0; e < el; e++) {
                int c = switch (e % 4) {
                    case 0 -> 0;       // an expert with no tokens
                    case 1 -> tb;      // a full batch
                    default -> rnd.nextInt(tb + 1);
                };
                counts.data().setAtIndex(ValueLayout.JAVA_INT, e, c);
            }
            HostTensor out = HostTensor.allocate(arena, outType, el, tb, h);
            out.data().fill((byte) 0xFF);
            if (onDevice) {
                try (DeviceTensor dh = upload(k, hidden); DeviceTensor dc = upload(k, counts);
                     DeviceTensor dout = upload(k, out)) {
                    k.forwardBatched(dh, dc, dout);
                    k.synchronize();
                    dout.copyTo(out);
                }
            } else {
                k.forwardBatched(hidden, counts, out);
            }
            assertFullyWritten(out);
            // reference: a standard single-rank spec over the local experts, each row routed to its expert
            MoeLayerSpec ref = spec.toBuilder().activationFormat(ActivationFormat.STANDARD).expertParallel(1, 0)
                    .experts(el).topK(1).maxTokensPerCall(el * tb).build();
            HostTensor ids = HostTensor.allocate(arena, DType.I32, (long) el * tb, 1);
            HostTensor ones = HostTensor.allocate(arena, DType.F32, (long) el * tb, 1);
            for (int r = 0; r < el * tb; r++) {
                ids.data().setAtIndex(ValueLayout.JAVA_INT, r, r / tb);
                ones.data().setAtIndex(ValueLayout.JAVA_FLOAT, r, 1f);
            }
            HostTensor refOut = HostTensor.allocate(arena, DType.F32, (long) el * tb, h);
            ReferenceMoe.forward(ref, w, hidden.reshape((long) el * tb, h), Routing.topK(ids, ones), refOut);
            for (int e = 0; e < el; e++) {
                int c = counts.data().getAtIndex(ValueLayout.JAVA_INT, e);
                long from = ((long) e * tb + c) * h * 4;
                long to = (long) (e + 1) * tb * h * 4;
                refOut.data().asSlice(from, to - from).fill((byte) 0); // rows past the count are zero
            }
            return RelativeError.l2(out.reshape((long) el * tb, h), refOut);
        }
    }

    @Test
    void decodeSizesRunTheGemvKernelsAndMatchTheMmaPath() {
        int e = 32;
        int h = 32 * (8 + rnd.nextInt(40)); // 256..1504, not always a multiple of the 64-wide tile
        int i = 32 * (8 + rnd.nextInt(40));
        MoeLayerSpec spec = MoeLayerSpec.builder().experts(e).topK(4).hiddenSize(h).intermediateSize(i)
                .quant(QuantScheme.MXFP4_BF16).activation(new Activation.SwigluOai(1.0 + rnd.nextDouble(), 7.0))
                .hasBias(true).maxTokensPerCall(64).build();
        try (Arena arena = Arena.ofShared(); MarlinKernel kernel = create(spec)) {
            MoeWeights w = RandomMoe.weights(spec, rnd.nextLong(), arena);
            kernel.prepare(w);
            for (int t : new int[] {1, 7}) {
                assertThat(MarlinPlan.chooseM((long) t * 4, e)).as("auto M at T=%d", t).isEqualTo(8);
                for (int forced : new int[] {0, 8, 16}) {
                    kernel.forceM(forced);
                    RoutingMode mode = rnd.nextBoolean() ? RoutingMode.LOGITS : RoutingMode.TOPK;
                    double err = standardCase(kernel, w, t, mode, false, rnd.nextBoolean(), DType.BF16, DType.BF16, t);
                    LOG.info("{} T={} {} M={}: relL2 {}", spec.describe(), t, mode, forced == 0 ? "auto (8)" : forced,
                            err);
                    assertThat(err).as("T=%d M=%d", t, forced).isLessThanOrEqualTo(TOLERANCE);
                }
            }
            kernel.forceM(0);
        }
    }

    @ParameterizedTest(name = "gpt-oss-{0} layer")
    @ValueSource(ints = {20, 120})
    void gptOssLayersMatchTheReference(int model) {
        MoeLayerSpec spec = MoeLayerSpec.builder().experts(model == 20 ? 32 : 128).topK(4).hiddenSize(2880)
                .intermediateSize(2880).quant(QuantScheme.MXFP4_BF16).maxTokensPerCall(4096).build();
        try (Arena arena = Arena.ofShared(); MarlinKernel kernel = create(spec)) {
            MoeWeights w = RandomMoe.weights(spec, rnd.nextLong(), arena);
            kernel.prepare(w);
            for (int t : new int[] {1, 7, 64, 300, 4096}) {
                int check = t <= 64 ? t : 32; // reference on a random subset of rows for the large calls
                boolean hot = t == 300;
                RoutingMode mode = t == 64 ? RoutingMode.TOPK : RoutingMode.LOGITS;
                double err = standardCase(kernel, w, t, mode, hot, t != 7, DType.BF16, DType.BF16, check);
                LOG.info("gpt-oss-{} T={} {}{} rows checked {}: relL2 {}", model, t, mode, hot ? " hot expert" : "",
                        Math.min(t, check), err);
                assertThat(err).as("gpt-oss-%d T=%d", model, t).isLessThanOrEqualTo(TOLERANCE);
            }
        }
    }

    @Test
    void capturedForwardReplaysOnNewInputContents() {
        MoeLayerSpec spec = MoeLayerSpec.builder().experts(32).topK(4).hiddenSize(2880).intermediateSize(2880)
                .quant(QuantScheme.MXFP4_BF16).maxTokensPerCall(64).build();
        int t = 8;
        try (Arena arena = Arena.ofShared(); MarlinKernel kernel = create(spec)) {
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
    void deviceRepackEqualsTheJavaLayout() {
        MoeLayerSpec spec = MoeLayerSpec.builder().experts(4).topK(2).hiddenSize(160).intermediateSize(96)
                .quant(QuantScheme.MXFP4_BF16).maxTokensPerCall(16).build();
        try (Arena arena = Arena.ofShared(); MarlinKernel kernel = create(spec)) {
            MoeWeights w = RandomMoe.weights(spec, rnd.nextLong(), arena);
            kernel.prepare(w);
            int hp = MarlinLayout.pad(160);
            int ip = MarlinLayout.pad(96);
            for (boolean w13 : new boolean[] {true, false}) {
                int nReal = w13 ? 2 * 96 : 160;
                int kReal = w13 ? 160 : 96;
                int nPad = w13 ? 2 * ip : hp;
                int kPad = w13 ? hp : ip;
                HostTensor blocks = w13 ? w.w13() : w.w2();
                HostTensor scales = (w13 ? w.w13Scales() : w.w2Scales()).orElseThrow();
                MemorySegment q = arena.allocate(MarlinLayout.weightBytes(4, nPad, kPad));
                MemorySegment sc = arena.allocate(MarlinLayout.scaleBytes(4, nPad, kPad));
                MarlinLayout.repack(blocks.data(), scales.data(), 4, nReal, kReal, nPad, kPad,
                        MarlinLayout.scaleBias(scales.data()), q, sc);
                byte[][] dev = kernel.deviceLayout(w13);
                assertThat(dev[0]).as(w13 ? "w13" : "w2").isEqualTo(q.toArray(ValueLayout.JAVA_BYTE));
                assertThat(dev[1]).as(w13 ? "w13 scales" : "w2 scales").isEqualTo(sc.toArray(ValueLayout.JAVA_BYTE));
            }
        }
    }

    @Test
    void badInputRaisesBeforeAnyLaunch() {
        MoeLayerSpec spec = MoeLayerSpec.builder().experts(8).topK(2).hiddenSize(128).intermediateSize(64)
                .quant(QuantScheme.MXFP4_BF16).maxTokensPerCall(16).build();
        MarlinKernel kernel = create(spec);
        try (Arena arena = Arena.ofShared()) {
            HostTensor hidden = RandomMoe.hidden(4, 128, DType.BF16, rnd.nextLong(), arena);
            HostTensor logits = RandomMoe.routerLogits(4, 8, rnd.nextLong(), arena);
            HostTensor out = HostTensor.allocate(arena, DType.F32, 4, 128);
            assertThatThrownBy(() -> kernel.forward(hidden, Routing.logits(logits), out))
                    .isInstanceOf(KernelStateException.class).hasMessageContaining("not prepared");
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
            assertThatThrownBy(() -> kernel.forwardBatched(hidden, hidden, out)).as("the standard kernel takes no batches")
                    .isInstanceOf(BadInputException.class).hasMessageContaining("call forward(");
            assertThatThrownBy(() -> kernel.capture(hidden, Routing.logits(logits), out))
                    .isInstanceOf(BadInputException.class).hasMessageContaining("device tensors");
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

    @Test
    void batchedKernelRejectsTheStandardCallAndBadCounts() {
        MoeLayerSpec spec = MoeLayerSpec.builder().experts(8).topK(2).hiddenSize(128).intermediateSize(64)
                .quant(QuantScheme.MXFP4_BF16).maxTokensPerCall(16).activationFormat(ActivationFormat.BATCHED)
                .expertParallel(2, 1).build();
        try (Arena arena = Arena.ofShared(); MoeKernel kernel = create(spec)) {
            kernel.prepare(RandomMoe.weights(spec, rnd.nextLong(), arena));
            HostTensor hidden = RandomMoe.hidden(4 * 8, 128, DType.BF16, rnd.nextLong(), arena).reshape(4, 8, 128);
            HostTensor out = HostTensor.allocate(arena, DType.BF16, 4, 8, 128);
            HostTensor badCounts = HostTensor.allocate(arena, DType.I32, 3);
            assertThatThrownBy(() -> kernel.forwardBatched(hidden, badCounts, out))
                    .isInstanceOf(BadInputException.class).hasMessageContaining("counts");
            Tensor flat = hidden.reshape(32, 128);
            assertThatThrownBy(() -> kernel.forward(flat, Routing.logits(RandomMoe.routerLogits(32, 8, 1, arena)),
                    HostTensor.allocate(arena, DType.BF16, 32, 128)))
                    .isInstanceOf(BadInputException.class).hasMessageContaining("forwardBatched");
        }
    }
}
