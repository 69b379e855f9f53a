package io.moeoracle.api.tensor;

import io.moeoracle.api.error.BadInputException;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moeoracle.api.spec.ActivationType;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.spec.QuantScheme;
import io.moeoracle.api.spec.WeightFormat;
import java.lang.foreign.Arena;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class MoeWeightsTest {
    // E=8 (4 local with EP=2), H=64, I=32
    private static final MoeLayerSpec SPEC = MoeLayerSpec.builder().experts(8).topK(2).hiddenSize(64)
            .intermediateSize(32).expertParallel(2, 1).build();
    private final Arena arena = Arena.ofConfined();
    private final long seed = System.nanoTime();
    private final Random rnd = new Random(seed);

    @AfterEach
    void close() {
        arena.close();
    }

    private HostTensor random(DType dtype, long... shape) {
        HostTensor t = HostTensor.allocate(arena, dtype, shape);
        byte[] bytes = new byte[(int) t.byteSize()];
        rnd.nextBytes(bytes);
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] |= 1; // never zero
        }
        t.data().copyFrom(java.lang.foreign.MemorySegment.ofArray(bytes));
        return t;
    }

    private MoeWeights mxfp4(HostTensor w13) {
        return new MoeWeights(w13, Optional.of(random(DType.U8, 4, 64, 2)), Optional.of(random(DType.BF16, 4, 64)),
                random(DType.U8, 4, 64, 16), Optional.of(random(DType.U8, 4, 64, 1)),
                Optional.of(random(DType.F32, 4, 64)));
    }

    @Test
    void canonicalMxfp4WeightsOfTheLocalExpertsPass() {
        System.out.println("MoeWeightsTest seed " + seed);
        mxfp4(random(DType.U8, 4, 64, 32)).validate(SPEC);
    }

    @Test
    void theFourDimensionalCheckpointViewIsFolded() {
        MoeWeights w = mxfp4(random(DType.U8, 4, 64, 2, 16));
        assertThat(w.w13().shape()).containsExactly(4, 64, 32);
        w.validate(SPEC);
    }

    @Test
    void aWrongShapeNamesTheTensorAndBothShapes() {
        assertThatThrownBy(() -> mxfp4(random(DType.U8, 4, 64, 31)).validate(SPEC))
                .isInstanceOf(BadInputException.class)
                .hasMessage("w13 is U8 [4, 64, 31] but the spec needs U8 [4, 64, 32]");
        assertThatThrownBy(() -> mxfp4(random(DType.U8, 8, 64, 32)).validate(SPEC))
                .as("all experts given to one expert-parallel rank")
                .hasMessage("w13 is U8 [8, 64, 32] but the spec needs U8 [4, 64, 32]");
        assertThatThrownBy(() -> mxfp4(random(DType.I8, 4, 64, 32)).validate(SPEC))
                .hasMessage("w13 is I8 [4, 64, 32] but the spec needs U8 [4, 64, 32]");
    }

    @Test
    void missingScalesAndBiasesAreNamed() {
        MoeWeights noScales = new MoeWeights(random(DType.U8, 4, 64, 32), Optional.empty(), Optional.empty(),
                random(DType.U8, 4, 64, 16), Optional.empty(), Optional.empty());
        assertThatThrownBy(() -> noScales.validate(SPEC)).hasMessage("w13Scales is missing; it is required for mxfp4");
        MoeWeights noBias = new MoeWeights(random(DType.U8, 4, 64, 32), Optional.of(random(DType.U8, 4, 64, 2)),
                Optional.empty(), random(DType.U8, 4, 64, 16), Optional.of(random(DType.U8, 4, 64, 1)),
                Optional.empty());
        assertThatThrownBy(() -> noBias.validate(SPEC))
                .hasMessage("w13Bias is missing; it is required for the spec has biases");
        noBias.validate(SPEC.toBuilder().hasBias(false).build());
    }

    @Test
    void biasesGivenToABiasFreeSpecAreRejected() {
        assertThatThrownBy(() -> mxfp4(random(DType.U8, 4, 64, 32)).validate(SPEC.toBuilder().hasBias(false).build()))
                .hasMessage("biases were given but the spec says hasBias=false");
    }

    @Test
    void biasesMustBeBf16OrF32() {
        MoeWeights w = new MoeWeights(random(DType.U8, 4, 64, 32), Optional.of(random(DType.U8, 4, 64, 2)),
                Optional.of(random(DType.I32, 4, 64)), random(DType.U8, 4, 64, 16),
                Optional.of(random(DType.U8, 4, 64, 1)), Optional.of(random(DType.F32, 4, 64)));
        assertThatThrownBy(() -> w.validate(SPEC)).hasMessage("w13Bias is I32 [4, 64] but the spec needs BF16 or F32 [4, 64]");
    }

    @Test
    void bf16WeightsTakeNoScales() {
        MoeLayerSpec bf16 = SPEC.toBuilder().quant(QuantScheme.BF16).hasBias(false).build();
        new MoeWeights(random(DType.BF16, 4, 64, 64), Optional.empty(), Optional.empty(), random(DType.BF16, 4, 64, 32),
                Optional.empty(), Optional.empty()).validate(bf16);
        MoeWeights scaled = new MoeWeights(random(DType.BF16, 4, 64, 64), Optional.of(random(DType.U8, 4, 64, 2)),
                Optional.empty(), random(DType.BF16, 4, 64, 32), Optional.empty(), Optional.empty());
        assertThatThrownBy(() -> scaled.validate(bf16)).hasMessage("BF16 weights take no scales, but scales were given");
    }

    @Test
    void formatsWithoutACanonicalLayoutSaySo() {
        MoeLayerSpec nvfp4 = SPEC.toBuilder().quant(new QuantScheme(WeightFormat.NVFP4, ActivationType.AUTO)).build();
        assertThatThrownBy(() -> mxfp4(random(DType.U8, 4, 64, 32)).validate(nvfp4))
                .hasMessage("no canonical layout is defined yet for nvfp4 weights; supported: mxfp4, bf16");
    }

    @Test
    void nullsAreRejected() {
        assertThatThrownBy(() -> new MoeWeights(null, Optional.empty(), Optional.empty(), random(DType.U8, 1),
                Optional.empty(), Optional.empty())).isInstanceOf(NullPointerException.class).hasMessage("w13");
    }
}
