package io.moeoracle.cuda.moe.launch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moeoracle.api.quant.Bf16;
import io.moeoracle.api.spec.Activation;
import io.moeoracle.api.tensor.DType;
import io.moeoracle.api.tensor.HostTensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The host-side parts of the launches: padded biases, the epilogue's activation code, scratch sizes, names. */
class LaunchPartsTest {

    @Test
    @DisplayName("a BF16 or F32 bias [E, N] widens to FP32 [E, N_pad] with zeros in the padding")
    void paddedBias() {
        try (Arena arena = Arena.ofConfined()) {
            HostTensor bf16 = HostTensor.allocate(arena, DType.BF16, 2, 3);
            HostTensor f32 = HostTensor.allocate(arena, DType.F32, 2, 3);
            float[] values = {1.5f, -2f, 0.25f, 3f, -0.125f, 8f};
            for (int i = 0; i < values.length; i++) {
                bf16.data().setAtIndex(ValueLayout.JAVA_SHORT, i, Bf16.fromFloat(values[i]));
                f32.data().setAtIndex(ValueLayout.JAVA_FLOAT, i, values[i]);
            }
            for (HostTensor bias : new HostTensor[] {bf16, f32}) {
                MemorySegment w = PaddedBias.widen(arena, bias, 2, 3, 5);
                assertThat(w.byteSize()).isEqualTo(2 * 5 * 4);
                assertThat(w.address() % 16).isZero();
                float[] got = w.toArray(ValueLayout.JAVA_FLOAT);
                assertThat(got).as(bias.dtype().toString()).containsExactly(1.5f, -2f, 0.25f, 0f, 0f, 3f, -0.125f, 8f,
                        0f, 0f);
            }
            assertThatThrownBy(() -> PaddedBias.widen(arena, f32, 2, 3, 2)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> PaddedBias.widen(arena, f32, 3, 3, 4)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("[3, 3]");
        }
    }

    @Test
    @DisplayName("each activation maps to the kernels' code with its own parameters")
    void epilogueActivation() {
        assertThat(EpilogueActivation.of(new Activation.SwigluOai(1.702, 7.0)))
                .isEqualTo(new EpilogueActivation(EpilogueActivation.SWIGLU_OAI, 1.702f, 7f));
        assertThat(EpilogueActivation.of(new Activation.Silu()))
                .isEqualTo(new EpilogueActivation(EpilogueActivation.SILU, 1f, Float.POSITIVE_INFINITY));
        assertThat(EpilogueActivation.of(new Activation.Gelu()))
                .isEqualTo(new EpilogueActivation(EpilogueActivation.GELU, 1f, Float.POSITIVE_INFINITY));
        assertThat(new int[] {EpilogueActivation.SWIGLU_OAI, EpilogueActivation.SILU, EpilogueActivation.GELU})
                .containsExactly(0, 1, 2);
    }

    @Test
    @DisplayName("scratch sizes follow the layer, and every buffer counts at least 256 bytes")
    void scratchSizes() {
        // T=3 tokens, top-4, H=64, E=8 of which 2 local, batched=false
        RoutedScratch.Sizes s = new RoutedScratch.Sizes(12, 40, 5, 3, 3, 64, 40 * 128 * 2, 3, 8, 2);
        assertThat(s.bytes()).containsExactly(48, 48, 160, 20, 4, 3 * 64 * 4, 40 * 128 * 2, 3 * 64 * 2, 3 * 8 * 4,
                12 * 4, 48, 3 * 64 * 4);
        long total = 0;
        for (long b : s.bytes()) {
            total += Math.max(RoutedScratch.MIN_BYTES, b);
        }
        assertThat(s.total()).isEqualTo(total).isEqualTo(256 * 8 + 768 + 10240 + 384 + 768);
        // the batched format stages no logits, and one count per local expert when there are more experts than rows
        RoutedScratch.Sizes batched = new RoutedScratch.Sizes(1, 16, 1, 1, 1, 64, 0, 0, 8, 4);
        assertThat(batched.bytes()[8]).isZero();
        assertThat(batched.bytes()[9]).isEqualTo(4 * 4);
    }

    @Test
    @DisplayName("the shared launches name their functions under the image's prefix")
    void functionNames() {
        assertThat(RoutingLaunches.functions("moe_")).containsExactly("moe_route", "moe_align", "moe_route_align",
                "moe_finalize", "moe_zero", "moe_f32_to_bf16");
        assertThat(RoutingLaunches.functions("fi_")).allMatch(n -> n.startsWith("fi_")).hasSize(6);
    }
}
