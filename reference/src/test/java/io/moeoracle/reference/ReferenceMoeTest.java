package io.moeoracle.reference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moeoracle.api.error.BadInputException;
import io.moeoracle.api.quant.Bf16;
import io.moeoracle.api.spec.Activation;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.spec.QuantScheme;
import io.moeoracle.api.tensor.DType;
import io.moeoracle.api.tensor.HostTensor;
import io.moeoracle.api.tensor.MoeWeights;
import io.moeoracle.api.tensor.Routing;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Optional;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

class ReferenceMoeTest {
    private static final Logger LOG = LoggerFactory.getLogger(ReferenceMoeTest.class);
    private static final long SEED = Long.getLong("moe.test.seed", System.nanoTime());

    static {
        LOG.info("ReferenceMoeTest seed {}", SEED);
    }

    // ---- the hand-computed case: E=2, k=1, H=I=32

    private static MoeLayerSpec tiny(Activation act) {
        return MoeLayerSpec.builder().experts(2).topK(1).hiddenSize(32).intermediateSize(32)
                .quant(QuantScheme.MXFP4_BF16).activation(act).hasBias(true).build();
    }

    /**
     * Expert 0: gate row 2c picks x_c (value 1, scale 1), up rows zero; w2 = 2 * identity; b2 = 0.5.
     * Expert 1: all weights zero; b13 gate 1, up 2; w2 all 0.5 (scale 1); b2 = 0.
     */
    private static MoeWeights tinyWeights(Arena arena) {
        HostTensor w13 = HostTensor.allocate(arena, DType.U8, 2, 64, 16);
        HostTensor s13 = HostTensor.allocate(arena, DType.U8, 2, 64, 1);
        HostTensor w2 = HostTensor.allocate(arena, DType.U8, 2, 32, 16);
        HostTensor s2 = HostTensor.allocate(arena, DType.U8, 2, 32, 1);
        HostTensor b13 = HostTensor.allocate(arena, DType.BF16, 2, 64);
        HostTensor b2 = HostTensor.allocate(arena, DType.F32, 2, 32);
        s13.data().fill((byte) 127);
        for (int c = 0; c < 32; c++) {
            // expert 0, row 2c, column c: nibble 2 (= 1.0)
            long byteIdx = (2L * c) * 16 + c / 2;
            byte old = w13.data().get(ValueLayout.JAVA_BYTE, byteIdx);
            w13.data().set(ValueLayout.JAVA_BYTE, byteIdx, (byte) (old | (c % 2 == 0 ? 0x2 : 0x20)));
            // expert 0 w2 row c, column c: nibble 2 (1.0) with scale code 128 (2.0)
            long w2Idx = (long) c * 16 + c / 2;
            byte o2 = w2.data().get(ValueLayout.JAVA_BYTE, w2Idx);
            w2.data().set(ValueLayout.JAVA_BYTE, w2Idx, (byte) (o2 | (c % 2 == 0 ? 0x2 : 0x20)));
            s2.data().set(ValueLayout.JAVA_BYTE, c, (byte) 128);
            b2.data().setAtIndex(ValueLayout.JAVA_FLOAT, c, 0.5f);
            // expert 1: b13 gate 1, up 2; w2 all 0.5 (nibble 1), scale 1
            b13.data().setAtIndex(ValueLayout.JAVA_SHORT, 64 + 2 * c, Bf16.fromFloat(1f));
            b13.data().setAtIndex(ValueLayout.JAVA_SHORT, 64 + 2 * c + 1, Bf16.fromFloat(2f));
            s2.data().set(ValueLayout.JAVA_BYTE, 32 + c, (byte) 127);
        }
        w2.data().asSlice(32 * 16, 32 * 16).fill((byte) 0x11);
        return new MoeWeights(w13, Optional.of(s13), Optional.of(b13), w2, Optional.of(s2), Optional.of(b2));
    }

    private static double x(int c) {
        return (c - 10) / 2.0; // up to 10.5: beyond the SwiGLU limit of 7
    }

    @Test
    void handComputedTinyLayer() {
        try (Arena arena = Arena.ofConfined()) {
            MoeLayerSpec spec = tiny(Activation.SWIGLU_OAI);
            HostTensor hidden = HostTensor.allocate(arena, DType.F32, 3, 32);
            for (int t = 0; t < 3; t++) {
                for (int c = 0; c < 32; c++) {
                    hidden.data().setAtIndex(ValueLayout.JAVA_FLOAT, t * 32L + c, (float) x(c));
                }
            }
            HostTensor logits = HostTensor.allocate(arena, DType.F32, 3, 2);
            float[] l = {2f, -1f, /* token 1 */ 0f, 3f, /* token 2: a tie goes to expert 0 */ 1.5f, 1.5f};
            MemorySegment.copy(l, 0, logits.data(), ValueLayout.JAVA_FLOAT, 0, 6);
            HostTensor out = HostTensor.allocate(arena, DType.F32, 3, 32);
            out.data().fill((byte) 0xFF); // NaN: every element must be written
            ReferenceMoe.forward(spec, tinyWeights(arena), hidden, Routing.logits(logits), out);

            double e1 = 0.5 * 32 * (1.0 / (1 + Math.exp(-1.702))) * 3; // g = 1, u = 2 for every c
            for (int c = 0; c < 32; c++) {
                double g = Math.min(x(c), 7);
                double e0 = 2 * g / (1 + Math.exp(-1.702 * g)) + 0.5;
                assertThat(out.data().getAtIndex(ValueLayout.JAVA_FLOAT, c)).isEqualTo((float) e0);
                assertThat(out.data().getAtIndex(ValueLayout.JAVA_FLOAT, 32 + c)).isEqualTo((float) e1);
                assertThat(out.data().getAtIndex(ValueLayout.JAVA_FLOAT, 64 + c)).isEqualTo((float) e0);
            }
        }
    }

    @Test
    void siluAndGeluOnTheHandCase() {
        try (Arena arena = Arena.ofConfined()) {
            HostTensor hidden = RandomMoe.hidden(1, 32, DType.F32, SEED, arena);
            HostTensor ids = HostTensor.allocate(arena, DType.I32, 1, 1);
            ids.data().set(ValueLayout.JAVA_INT, 0, 1);
            HostTensor w = HostTensor.allocate(arena, DType.F32, 1, 1);
            w.data().set(ValueLayout.JAVA_FLOAT, 0, 0.25f);
            HostTensor out = HostTensor.allocate(arena, DType.F32, 1, 32);
            ReferenceMoe.forward(tiny(Activation.SILU), tinyWeights(arena), hidden, Routing.topK(ids, w), out);
            double silu = 1.0 / (1 + Math.exp(-1.0)) * 2; // silu(1) * 2
            assertThat(out.data().getAtIndex(ValueLayout.JAVA_FLOAT, 5)).isEqualTo((float) (0.25 * 0.5 * 32 * silu));
            ReferenceMoe.forward(tiny(Activation.GELU), tinyWeights(arena), hidden, Routing.topK(ids, w), out);
            double gelu = 0.8411919906082768 * 2; // gelu_tanh(1) * 2
            assertThat((double) out.data().getAtIndex(ValueLayout.JAVA_FLOAT, 5))
                    .isCloseTo(0.25 * 0.5 * 32 * gelu, org.assertj.core.data.Offset.offset(1e-5));
        }
    }

    // ---- against the brute force on random specs

    private static MoeLayerSpec randomSpec(SplittableRandom rnd) {
        int e = 1 + rnd.nextInt(8);
        Activation[] acts = {Activation.SWIGLU_OAI, Activation.SILU, Activation.GELU};
        QuantScheme[] q = {QuantScheme.MXFP4_BF16, QuantScheme.BF16, QuantScheme.MXFP4_AUTO};
        return MoeLayerSpec.builder().experts(e).topK(1 + rnd.nextInt(e))
                .hiddenSize(32 * (1 + rnd.nextInt(3))).intermediateSize(32 * (1 + rnd.nextInt(3)))
                .quant(q[rnd.nextInt(q.length)]).activation(acts[rnd.nextInt(3)]).hasBias(rnd.nextBoolean())
                .build();
    }

    @Test
    void matchesABruteForceRecomputationOnRandomSpecs() {
        SplittableRandom rnd = new SplittableRandom(SEED);
        for (int trial = 0; trial < 12; trial++) {
            MoeLayerSpec spec = randomSpec(rnd);
            int tokens = rnd.nextInt(6);
            long seed = rnd.nextLong();
            try (Arena arena = Arena.ofConfined()) {
                MoeWeights w = RandomMoe.weights(spec, seed, arena);
                HostTensor hidden = RandomMoe.hidden(tokens, spec.hiddenSize(),
                        rnd.nextBoolean() ? DType.F32 : DType.BF16, seed, arena);
                HostTensor logits = RandomMoe.routerLogits(tokens, spec.experts(), seed, arena);
                HostTensor out = HostTensor.allocate(arena, DType.F32, tokens, spec.hiddenSize());
                ReferenceMoe.forward(spec, w, hidden, Routing.logits(logits), out);
                int[][] ids = new int[tokens][];
                double[][] wt = new double[tokens][];
                BruteForceMoe.route(logits, spec.topK(), ids, wt);
                double[] expected = BruteForceMoe.flat(BruteForceMoe.forward(spec, w, hidden, ids, wt));
                double err = RelativeError.l2(BruteForceMoe.floats(out), expected);
                assertThat(err).as("seed %d, %s, T=%d", SEED, spec.describe(), tokens).isLessThan(1e-6);
            }
        }
    }

    /** BF16 widths that are not multiples of 32 (the last 32-column tile is partial); found by the kit. */
    @Test
    void bf16WidthsThatAreNotMultiplesOf32() {
        int[][] sizes = {{16, 16}, {48, 32}, {100, 80}, {64, 40}};
        for (int[] hi : sizes) {
            MoeLayerSpec spec = MoeLayerSpec.builder().experts(3).topK(2).hiddenSize(hi[0]).intermediateSize(hi[1])
                    .quant(io.moeoracle.api.spec.QuantScheme.BF16).build();
            try (Arena arena = Arena.ofConfined()) {
                MoeWeights w = RandomMoe.weights(spec, SEED, arena);
                HostTensor hidden = RandomMoe.hidden(5, spec.hiddenSize(), DType.F32, SEED, arena);
                HostTensor logits = RandomMoe.routerLogits(5, spec.experts(), SEED, arena);
                HostTensor out = HostTensor.allocate(arena, DType.F32, 5, spec.hiddenSize());
                ReferenceMoe.forward(spec, w, hidden, Routing.logits(logits), out);
                int[][] ids = new int[5][];
                double[][] wt = new double[5][];
                BruteForceMoe.route(logits, spec.topK(), ids, wt);
                double[] expected = BruteForceMoe.flat(BruteForceMoe.forward(spec, w, hidden, ids, wt));
                assertThat(RelativeError.l2(BruteForceMoe.floats(out), expected)).as(spec.describe()).isLessThan(1e-6);
            }
        }
    }

    @Test
    void precomputedTopKIsUsedAsGiven() {
        SplittableRandom rnd = new SplittableRandom(SEED + 1);
        MoeLayerSpec spec = MoeLayerSpec.builder().experts(6).topK(3).hiddenSize(64).intermediateSize(32).build();
        try (Arena arena = Arena.ofConfined()) {
            MoeWeights w = RandomMoe.weights(spec, rnd.nextLong(), arena);
            HostTensor hidden = RandomMoe.hidden(9, 64, DType.BF16, rnd.nextLong(), arena);
            Routing.TopK topK = RandomMoe.topK(spec, 9, rnd.nextLong(), arena);
            HostTensor out = HostTensor.allocate(arena, DType.BF16, 9, 64);
            ReferenceMoe.forward(spec, w, hidden, topK, out);
            int[][] ids = new int[9][3];
            double[][] wt = new double[9][3];
            for (int t = 0; t < 9; t++) {
                for (int j = 0; j < 3; j++) {
                    ids[t][j] = ((HostTensor) topK.ids()).data().getAtIndex(ValueLayout.JAVA_INT, t * 3 + j);
                    wt[t][j] = ((HostTensor) topK.weights()).data().getAtIndex(ValueLayout.JAVA_FLOAT, t * 3 + j);
                }
            }
            double[] expected = BruteForceMoe.flat(BruteForceMoe.forward(spec, w, hidden, ids, wt));
            assertThat(RelativeError.l2(BruteForceMoe.floats(out), expected)).as("seed %d", SEED).isLessThan(5e-3);
        }
    }

    @Test
    void expertParallelRanksAddUpToTheWholeLayer() {
        SplittableRandom rnd = new SplittableRandom(SEED + 2);
        MoeLayerSpec full = MoeLayerSpec.builder().experts(4).topK(2).hiddenSize(32).intermediateSize(64).build();
        try (Arena arena = Arena.ofConfined()) {
            MoeWeights w = RandomMoe.weights(full, rnd.nextLong(), arena);
            HostTensor hidden = RandomMoe.hidden(7, 32, DType.F32, rnd.nextLong(), arena);
            Routing logits = Routing.logits(RandomMoe.routerLogits(7, 4, rnd.nextLong(), arena));
            HostTensor whole = HostTensor.allocate(arena, DType.F32, 7, 32);
            ReferenceMoe.forward(full, w, hidden, logits, whole);
            double[] sum = new double[7 * 32];
            for (int rank = 0; rank < 2; rank++) {
                MoeLayerSpec part = full.toBuilder().expertParallel(2, rank).build();
                HostTensor out = HostTensor.allocate(arena, DType.F32, 7, 32);
                ReferenceMoe.forward(part, half(w, rank), hidden, logits, out);
                for (int i = 0; i < sum.length; i++) {
                    sum[i] += out.data().getAtIndex(ValueLayout.JAVA_FLOAT, i);
                }
            }
            assertThat(RelativeError.l2(BruteForceMoe.floats(whole), sum)).as("seed %d", SEED).isLessThan(1e-6);
        }
    }

    private static HostTensor halfOf(HostTensor t, int rank) {
        long[] s = t.shape();
        long bytes = t.byteSize() / 2;
        s[0] /= 2;
        return HostTensor.of(t.data().asSlice(rank * bytes, bytes), t.dtype(), s);
    }

    private static MoeWeights half(MoeWeights w, int rank) {
        return new MoeWeights(halfOf(w.w13(), rank), w.w13Scales().map(t -> halfOf(t, rank)),
                w.w13Bias().map(t -> halfOf(t, rank)), halfOf(w.w2(), rank),
                w.w2Scales().map(t -> halfOf(t, rank)), w.w2Bias().map(t -> halfOf(t, rank)));
    }

    @Test
    void nanScaleGivesNanExactlyWhereItIsUsed() {
        SplittableRandom rnd = new SplittableRandom(SEED + 3);
        MoeLayerSpec spec = MoeLayerSpec.builder().experts(4).topK(1).hiddenSize(64).intermediateSize(32).build();
        try (Arena arena = Arena.ofConfined()) {
            MoeWeights w = RandomMoe.weights(spec, rnd.nextLong(), arena);
            int tokens = 16;
            HostTensor hidden = RandomMoe.hidden(tokens, 64, DType.F32, rnd.nextLong(), arena);
            HostTensor ids = HostTensor.allocate(arena, DType.I32, tokens, 1);
            HostTensor wt = HostTensor.allocate(arena, DType.F32, tokens, 1);
            for (int t = 0; t < tokens; t++) {
                ids.data().setAtIndex(ValueLayout.JAVA_INT, t, t % 4);
                wt.data().setAtIndex(ValueLayout.JAVA_FLOAT, t, 1f);
            }
            // expert 1, w13 row 5, block 1: NaN -> whole output rows of tokens on expert 1
            w.w13Scales().get().data().set(ValueLayout.JAVA_BYTE, (1L * 64 + 5) * 2 + 1, (byte) 0xFF);
            // expert 2, w2 row 17: NaN -> column 17 of tokens on expert 2
            w.w2Scales().get().data().set(ValueLayout.JAVA_BYTE, (2L * 64 + 17) * 1, (byte) 0xFF);
            HostTensor out = HostTensor.allocate(arena, DType.F32, tokens, 64);
            ReferenceMoe.forward(spec, w, hidden, Routing.topK(ids, wt), out);
            for (int t = 0; t < tokens; t++) {
                for (int c = 0; c < 64; c++) {
                    float v = out.data().getAtIndex(ValueLayout.JAVA_FLOAT, t * 64L + c);
                    boolean nan = t % 4 == 1 || (t % 4 == 2 && c == 17);
                    assertThat(Float.isNaN(v)).as("token %d column %d", t, c).isEqualTo(nan);
                }
            }
            assertThat(RelativeError.l2(out, out)).isNaN();
        }
    }

    @Test
    void mxfp8ActivationsAreEmulatedCloseToBf16() {
        SplittableRandom rnd = new SplittableRandom(SEED + 4);
        MoeLayerSpec bf16 = MoeLayerSpec.builder().experts(4).topK(2).hiddenSize(96).intermediateSize(64)
                .quant(QuantScheme.MXFP4_BF16).build();
        MoeLayerSpec mx = bf16.toBuilder().quant(QuantScheme.MXFP4_MXFP8).build();
        try (Arena arena = Arena.ofConfined()) {
            MoeWeights w = RandomMoe.weights(bf16, rnd.nextLong(), arena);
            HostTensor hidden = RandomMoe.hidden(5, 96, DType.F32, rnd.nextLong(), arena);
            // The FLOOR and CEIL scale rules pick different scales only for a block whose largest magnitude has
            // a mantissa above 448/256 = 1.75; random rows may have none (then the two rules agree exactly).
            // Make row 0's first block such a block: its new largest element is 1.875 * 2^k.
            MemorySegment h = hidden.data();
            float amax = 0;
            for (int i = 0; i < 32; i++) {
                amax = Math.max(amax, Math.abs(h.getAtIndex(ValueLayout.JAVA_FLOAT, i)));
            }
            h.setAtIndex(ValueLayout.JAVA_FLOAT, 0, Math.scalb(1.875f, Math.getExponent(amax) + 1));
            Routing logits = Routing.logits(RandomMoe.routerLogits(5, 4, rnd.nextLong(), arena));
            HostTensor a = HostTensor.allocate(arena, DType.F32, 5, 96);
            HostTensor b = HostTensor.allocate(arena, DType.F32, 5, 96);
            ReferenceMoe.forward(bf16, w, hidden, logits, a);
            ReferenceMoe.forward(mx, w, hidden, logits, b);
            double err = RelativeError.l2(b, a);
            assertThat(err).as("seed %d", SEED).isGreaterThan(1e-4).isLessThan(0.1);
            int[][] ids = new int[5][];
            double[][] wts = new double[5][];
            BruteForceMoe.route((HostTensor) ((Routing.Logits) logits).logits(), 2, ids, wts);
            double[] expected = BruteForceMoe.flat(BruteForceMoe.forward(mx, w, hidden, ids, wts));
            assertThat(RelativeError.l2(BruteForceMoe.floats(b), expected)).isLessThan(1e-6);
            HostTensor c = HostTensor.allocate(arena, DType.F32, 5, 96);
            ReferenceMoe.forward(mx, w, hidden, logits, c, io.moeoracle.api.quant.Mxfp8.ScaleRule.CEIL);
            assertThat(RelativeError.l2(c, a)).as("seed %d", SEED).isGreaterThan(1e-4).isLessThan(0.1);
            assertThat(RelativeError.l2(c, b)).as("the rules differ (seed %d)", SEED).isGreaterThan(0);
        }
    }

    @Test
    void badInputIsRejectedBeforeComputing() {
        MoeLayerSpec spec = tiny(Activation.SWIGLU_OAI);
        try (Arena arena = Arena.ofConfined()) {
            MoeWeights w = tinyWeights(arena);
            HostTensor hidden = HostTensor.allocate(arena, DType.F32, 2, 32);
            HostTensor out = HostTensor.allocate(arena, DType.F32, 2, 64);
            HostTensor logits = HostTensor.allocate(arena, DType.F32, 2, 2);
            assertThatThrownBy(() -> ReferenceMoe.forward(spec, w, hidden, Routing.logits(logits), out))
                    .isInstanceOf(BadInputException.class).hasMessageContaining("out");
            HostTensor ids = HostTensor.allocate(arena, DType.I32, 2, 1);
            ids.data().set(ValueLayout.JAVA_INT, 4, 7);
            HostTensor wt = HostTensor.allocate(arena, DType.F32, 2, 1);
            HostTensor out2 = HostTensor.allocate(arena, DType.F32, 2, 32);
            assertThatThrownBy(() -> ReferenceMoe.forward(spec, w, hidden, Routing.topK(ids, wt), out2))
                    .hasMessageContaining("top-k id 7");
            MoeLayerSpec lora = spec.toBuilder().lora(4, 2).build();
            HostTensor adapterIds = HostTensor.allocate(arena, DType.I32, 2);
            adapterIds.data().setAtIndex(ValueLayout.JAVA_INT, 1, 1);
            assertThatThrownBy(() -> ReferenceMoe.forward(lora, w, hidden, Routing.logits(logits),
                    new LoraInput(java.util.Map.of(), adapterIds), out2)).hasMessageContaining("empty slot");
            MoeLayerSpec wrong = spec.toBuilder().intermediateSize(64).build();
            assertThatThrownBy(() -> ReferenceMoe.forward(wrong, w, hidden, Routing.logits(logits), out2))
                    .hasMessageContaining("w13");
        }
    }

    @Test
    void extremeScalesStayExactInTheFloat64Output() {
        SplittableRandom rnd = new SplittableRandom(SEED + 5);
        MoeLayerSpec spec = MoeLayerSpec.builder().experts(2).topK(1).hiddenSize(32).intermediateSize(32)
                .activation(Activation.SILU).hasBias(false).build();
        try (Arena arena = Arena.ofConfined()) {
            MoeWeights w = RandomMoe.weights(spec, rnd.nextLong(), arena);
            w.w13Scales().get().data().fill((byte) 254); // 2^127: gate and up reach ~1e39
            w.w2Scales().get().data().fill((byte) 0);    // 2^-127 brings it back down
            HostTensor hidden = RandomMoe.hidden(3, 32, DType.F32, rnd.nextLong(), arena);
            Routing r = Routing.logits(RandomMoe.routerLogits(3, 2, rnd.nextLong(), arena));
            double[] got = ReferenceMoe.forward(spec, w, hidden, r);
            int[][] ids = new int[3][];
            double[][] wt = new double[3][];
            BruteForceMoe.route((HostTensor) ((Routing.Logits) r).logits(), 1, ids, wt);
            double[] expected = BruteForceMoe.flat(BruteForceMoe.forward(spec, w, hidden, ids, wt));
            double num = 0;
            double den = 0;
            for (int i = 0; i < got.length; i++) {
                assertThat(got[i]).isFinite();
                num += (got[i] - expected[i]) * (got[i] - expected[i]);
                den += expected[i] * expected[i];
            }
            assertThat(den).isPositive();
            assertThat(Math.sqrt(num / den)).as("seed %d", SEED).isLessThan(1e-12);
        }
    }

    @Test
    void zeroTokensIsFine() {
        try (Arena arena = Arena.ofConfined()) {
            HostTensor hidden = HostTensor.allocate(arena, DType.F32, 0, 32);
            HostTensor out = HostTensor.allocate(arena, DType.F32, 0, 32);
            HostTensor logits = HostTensor.allocate(arena, DType.F32, 0, 2);
            ReferenceMoe.forward(tiny(Activation.SILU), tinyWeights(arena), hidden, Routing.logits(logits), out);
            assertThat(out.numel()).isZero();
        }
    }
}
