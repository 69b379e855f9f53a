package io.moeoracle.backend.marlin;

import io.moeoracle.api.MoeKernel;
import io.moeoracle.api.error.BadInputException;
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
import io.moeoracle.driver.cuda.testing.CudaDeviceTest;
import io.moeoracle.driver.cuda.testing.StandardBadInputs;
import io.moeoracle.reference.ForwardCase;
import io.moeoracle.reference.RandomLayer;
import io.moeoracle.reference.RandomMoe;
import io.moeoracle.reference.ReferenceMoe;
import io.moeoracle.reference.RelativeError;
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
import java.util.stream.IntStream;

import static io.moeoracle.reference.ForwardChecks.assertFullyWritten;
import static io.moeoracle.reference.ForwardChecks.poisoned;
import static io.moeoracle.reference.ForwardChecks.upload;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * marlin and batched-marlin against the float64 reference on a real NVIDIA GPU: relative L2 error
 * at most 1e-2, fresh random inputs every run (seed logged), outputs NaN-filled before each call
 * and checked to be fully overwritten. Large calls compare a random subset of rows with the
 * reference (which is slow for the gpt-oss shapes); the kernel still computes every row.
 */
@Tag("gpu")
class MarlinGpuTest extends CudaDeviceTest {
    private static final Logger LOG = LoggerFactory.getLogger(MarlinGpuTest.class);
    private static final double TOLERANCE = 1e-2;

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
                boolean logits = rnd.nextBoolean();
                boolean dev = rnd.nextBoolean();
                DType hd = rnd.nextBoolean() ? DType.BF16 : DType.F32;
                DType od = rnd.nextBoolean() ? DType.BF16 : DType.F32;
                ForwardCase c = ForwardCase.of(t, logits, rnd.nextInt(3) == 0, dev, hd, od, 300);
                err = c.error(kernel, w, rnd);
                what = c.describe();
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
            HostTensor out = poisoned(arena, outType, el, tb, h);
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
                    ForwardCase c = ForwardCase.of(t, rnd.nextBoolean(), false, rnd.nextBoolean(), DType.BF16,
                            DType.BF16, t);
                    double err = c.error(kernel, w, rnd);
                    LOG.info("{} {} M={}: relL2 {}", spec.describe(), c.describe(), forced == 0 ? "auto (8)" : forced,
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
        MoeLayerSpec spec = ForwardCase.gptOssLayer(model).quant(QuantScheme.MXFP4_BF16).maxTokensPerCall(4096).build();
        try (Arena arena = Arena.ofShared(); MarlinKernel kernel = create(spec)) {
            MoeWeights w = RandomMoe.weights(spec, rnd.nextLong(), arena);
            kernel.prepare(w);
            for (ForwardCase c : ForwardCase.gptOssSweep()) { // large calls: the reference on a sample of rows
                double err = c.error(kernel, w, rnd);
                LOG.info("gpt-oss-{} {}: relL2 {}", model, c.describe(), err);
                assertThat(err).as("gpt-oss-%d T=%d", model, c.tokens()).isLessThanOrEqualTo(TOLERANCE);
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
            double[] err = ForwardCase.replayCaptured(kernel, w, t, DType.BF16, 3, rnd);
            for (int round = 0; round < err.length; round++) {
                LOG.info("graph replay {}: relL2 {}", round, err[round]);
                assertThat(err[round]).isLessThanOrEqualTo(TOLERANCE);
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
        StandardBadInputs.check(create(StandardBadInputs.spec()), "not prepared", rnd, call -> assertThatThrownBy(
                () -> call.kernel().forwardBatched(call.hidden(), call.hidden(), call.out()))
                .as("the standard kernel takes no batches")
                .isInstanceOf(BadInputException.class).hasMessageContaining("call forward("));
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
