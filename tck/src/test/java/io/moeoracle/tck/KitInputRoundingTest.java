package io.moeoracle.tck;

import static org.assertj.core.api.Assertions.assertThat;

import io.moeoracle.api.quant.Bf16;
import io.moeoracle.api.spec.Activation;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.spec.QuantScheme;
import io.moeoracle.api.tensor.DType;
import io.moeoracle.api.tensor.HostTensor;
import io.moeoracle.api.tensor.MoeWeights;
import io.moeoracle.reference.RandomMoe;
import io.moeoracle.reference.RelativeError;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/**
 * The kit's allowance for the BF16 rounding of F32 hidden states ({@link KitForward#inputRounding}):
 * on the call that once failed the cpu backend's kit, a kernel that does exactly what a BF16-activation
 * scheme says (round the input, then compute exactly) is further from the float64 reference than 5e-3
 * and is accepted only thanks to the allowance, which is exactly its distance; where nothing is
 * rounded the allowance is zero.
 */
class KitInputRoundingTest {
    /** The freshRandomInputs seed that failed the cpu kit (1.04e-2 against 1e-2). */
    private static final long SEED = -2691323555539498975L;

    /** The catalogue's E=4 top4 H=32 I=64 mxfp4/bf16 gelu layer. */
    private static MoeLayerSpec smallGelu() {
        return KitSpecs.catalogue().stream()
                .filter(s -> s.hiddenSize() == 32 && s.activation() instanceof Activation.Gelu).findFirst().orElseThrow();
    }

    @Test
    void anExactBf16InputKernelIsWithinTheAllowanceAndNotWithinTheToleranceAlone() {
        MoeLayerSpec spec = KitForward.concrete(smallGelu(), QuantScheme.MXFP4_BF16.activations());
        try (Arena arena = Arena.ofConfined()) {
            MoeWeights w = RandomMoe.weights(spec, SEED, arena);
            // the kit's first call of freshRandomInputs: T=1, router logits, F32 hidden and output
            KitForward.Call in = KitForward.call(spec, 1, SEED, true, false, arena);
            HostTensor expected = KitForward.reference(spec, w, in, arena);
            HostTensor exactBf16 = KitForward.reference(spec, w, bf16Copy((KitForward.Inputs) in, arena), arena);
            double distance = RelativeError.l2(exactBf16, expected);
            double allowance = KitForward.inputRounding(spec, w, in, expected, arena);

            assertThat(distance).as("an exact BF16-input kernel against the float64 reference").isGreaterThan(5e-3);
            assertThat(allowance).isEqualTo(distance);
            // 9.4e-3 on this call, almost 5 BF16 unit roundoffs (2^-9) from the input rounding alone
            assertThat(allowance).isGreaterThan(4 * 0x1p-9).isLessThan(2e-2);
        }
    }

    @Test
    void noAllowanceWhereNothingIsRounded() {
        MoeLayerSpec bf16 = KitForward.concrete(smallGelu(), QuantScheme.MXFP4_BF16.activations());
        MoeLayerSpec mxfp8 = KitSpecs.catalogue().stream().filter(s -> s.quant().equals(QuantScheme.MXFP4_MXFP8))
                .findFirst().orElseThrow();
        try (Arena arena = Arena.ofConfined()) {
            MoeWeights w = RandomMoe.weights(bf16, SEED, arena);
            KitForward.Call bf16Hidden = KitForward.call(bf16, 7, SEED, true, true, arena);
            assertThat(KitForward.inputRounding(bf16, w, bf16Hidden, KitForward.reference(bf16, w, bf16Hidden, arena),
                    arena)).as("hidden already BF16").isZero();

            MoeWeights w8 = RandomMoe.weights(mxfp8, SEED, arena);
            KitForward.Call f32Hidden = KitForward.call(mxfp8, 7, SEED, true, false, arena);
            assertThat(KitForward.inputRounding(mxfp8, w8, f32Hidden, KitForward.reference(mxfp8, w8, f32Hidden, arena),
                    arena)).as("MXFP8 activations: the reference emulates their quantization itself").isZero();
        }
    }

    @Test
    void theBatchedLayoutGetsTheSameAllowance() {
        MoeLayerSpec spec = KitSpecs.batchedCatalogue().stream()
                .filter(s -> s.hiddenSize() == 32 && s.activation() instanceof Activation.Gelu).findFirst().orElseThrow();
        spec = KitForward.concrete(spec, QuantScheme.MXFP4_BF16.activations());
        try (Arena arena = Arena.ofConfined()) {
            MoeWeights w = RandomMoe.weights(spec, SEED, arena);
            KitForward.Call in = KitForward.call(spec, 3, SEED, true, false, arena);
            HostTensor expected = KitForward.reference(spec, w, in, arena);
            double allowance = KitForward.inputRounding(spec, w, in, expected, arena);
            assertThat(allowance).isGreaterThan(0).isLessThan(2e-2);
        }
    }

    private static KitForward.Inputs bf16Copy(KitForward.Inputs in, Arena arena) {
        HostTensor h = in.hidden();
        HostTensor b = HostTensor.allocate(arena, DType.BF16, h.shape());
        for (long i = 0; i < h.numel(); i++) {
            b.data().setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i,
                    Bf16.fromFloat(h.data().getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i)));
        }
        return new KitForward.Inputs(b, in.routing(), in.outType());
    }
}
