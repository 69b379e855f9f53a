package io.moeoracle.api.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moeoracle.api.error.BadInputException;
import io.moeoracle.api.spec.InvalidSpecException;
import io.moeoracle.api.spec.MoeLayerSpec;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

class LoraAdapterTest {
    private static final MoeLayerSpec SPEC = MoeLayerSpec.builder().experts(4).topK(2).hiddenSize(64)
            .intermediateSize(32).lora(8, 3).build();

    private static LoraAdapter adapter(Arena a, int rank, int h) {
        int e = 4;
        int i = 32;
        return new LoraAdapter("t", rank, 0.5, HostTensor.allocate(a, DType.BF16, e, rank, h),
                HostTensor.allocate(a, DType.BF16, e, i, rank), HostTensor.allocate(a, DType.BF16, e, rank, h),
                HostTensor.allocate(a, DType.BF16, e, i, rank), HostTensor.allocate(a, DType.BF16, e, rank, i),
                HostTensor.allocate(a, DType.BF16, e, h, rank));
    }

    @Test
    void specCarriesRankAndSlotsConsistentlyWithTheFlag() {
        assertThat(SPEC.lora()).isTrue();
        assertThat(SPEC.maxLoraRank()).isEqualTo(8);
        assertThat(SPEC.adapterSlots()).isEqualTo(3);
        assertThat(SPEC.describe()).contains("lora(r<=8 x3)");
        MoeLayerSpec dflt = SPEC.toBuilder().lora(false).lora(true).build();
        assertThat(dflt.maxLoraRank()).isEqualTo(MoeLayerSpec.DEFAULT_LORA_RANK);
        assertThat(dflt.adapterSlots()).isEqualTo(MoeLayerSpec.DEFAULT_ADAPTER_SLOTS);
        assertThat(SPEC.toBuilder().lora(true).build()).isEqualTo(SPEC);
        MoeLayerSpec off = SPEC.toBuilder().lora(false).build();
        assertThat(off.lora()).isFalse();
        assertThat(off.maxLoraRank()).isZero();
        assertThatThrownBy(() -> SPEC.toBuilder().lora(0, 2).build()).isInstanceOf(InvalidSpecException.class)
                .hasMessageContaining("maxLoraRank 0");
        assertThatThrownBy(() -> SPEC.toBuilder().lora(600, 2).build()).hasMessageContaining("maxLoraRank 600");
        assertThatThrownBy(() -> SPEC.toBuilder().lora(8, 0).build()).hasMessageContaining("adapterSlots 0");
        assertThatThrownBy(() -> new MoeLayerSpec(4, 2, 64, 32, SPEC.quant(), SPEC.activation(), true,
                SPEC.activationFormat(), false, 8, 0, 1, 0, 16, java.util.Optional.empty()))
                .hasMessageContaining("must be 0 when lora is false");
    }

    @Test
    void adapterShapesAndRankAreValidated() {
        try (Arena a = Arena.ofConfined()) {
            adapter(a, 8, 64).validate(SPEC);
            assertThatThrownBy(() -> adapter(a, 16, 64).validate(SPEC)).isInstanceOf(BadInputException.class)
                    .hasMessageContaining("rank 16, above the layer's maxLoraRank 8");
            assertThatThrownBy(() -> adapter(a, 4, 32).validate(SPEC)).isInstanceOf(BadInputException.class)
                    .hasMessageContaining("gateA is BF16 [4, 4, 32] but must be BF16 [4, 4, 64]");
            assertThatThrownBy(() -> adapter(a, 4, 64).validate(SPEC.toBuilder().lora(false).build()))
                    .hasMessageContaining("without LoRA");
            HostTensor x = HostTensor.allocate(a, DType.BF16, 1, 1, 1);
            assertThatThrownBy(() -> new LoraAdapter("n", 0, 1, x, x, x, x, x, x))
                    .hasMessageContaining("rank 0");
            assertThatThrownBy(() -> new LoraAdapter("n", 1, Double.NaN, x, x, x, x, x, x))
                    .hasMessageContaining("scaling NaN");
        }
    }

    @Test
    void slotsAndTokenIndicesAreChecked() {
        LoraArgs.checkSlot("p", SPEC, 2);
        assertThatThrownBy(() -> LoraArgs.checkSlot("p", SPEC, 3)).hasMessageContaining("slot 3 is outside [0, 3)");
        assertThatThrownBy(() -> LoraArgs.checkSlot("p", SPEC.toBuilder().lora(false).build(), 0))
                .hasMessageContaining("lora=false");
        try (Arena a = Arena.ofConfined()) {
            HostTensor ids = HostTensor.allocate(a, DType.I32, 4);
            int[] v = {-1, 0, 2, -1};
            for (int t = 0; t < 4; t++) {
                ids.data().setAtIndex(ValueLayout.JAVA_INT, t, v[t]);
            }
            LoraArgs.checkIds("p", SPEC, ids, 4, s -> true);
            assertThat(LoraArgs.read(ids)).containsExactly(v);
            assertThatThrownBy(() -> LoraArgs.checkIds("p", SPEC, ids, 4, s -> s != 2))
                    .hasMessageContaining("adapter id 2 of token 2 names an empty slot");
            assertThatThrownBy(() -> LoraArgs.checkIds("p", SPEC, ids, 5, s -> true))
                    .hasMessageContaining("must be I32 [5]");
            ids.data().setAtIndex(ValueLayout.JAVA_INT, 3, 3);
            assertThatThrownBy(() -> LoraArgs.checkIds("p", SPEC, ids, 4, s -> true))
                    .hasMessageContaining("adapter id 3 of token 3 is outside [-1, 3)");
        }
    }
}
