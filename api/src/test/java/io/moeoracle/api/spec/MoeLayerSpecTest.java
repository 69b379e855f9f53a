package io.moeoracle.api.spec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Optional;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;

class MoeLayerSpecTest {

    private static MoeLayerSpec.Builder gptOss120b() {
        return MoeLayerSpec.builder().experts(128).topK(4).hiddenSize(2880).intermediateSize(2880);
    }

    private static void rejects(ThrowingCallable build, String field, String message) {
        assertThatThrownBy(build)
                .isInstanceOf(InvalidSpecException.class)
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage(message)
                .satisfies(e -> assertThat(((InvalidSpecException) e).field()).isEqualTo(field));
    }

    @Test
    void gptOssDefaults() {
        MoeLayerSpec s = gptOss120b().build();
        assertThat(s.quant()).isEqualTo(QuantScheme.MXFP4_AUTO);
        assertThat(s.activation()).isEqualTo(Activation.SWIGLU_OAI);
        assertThat(s.hasBias()).isTrue();
        assertThat(s.activationFormat()).isEqualTo(ActivationFormat.STANDARD);
        assertThat(s.lora()).isFalse();
        assertThat(s.expertParallelSize()).isEqualTo(1);
        assertThat(s.localExperts()).isEqualTo(128);
        assertThat(s.requestedBackend()).isEmpty();
        assertThat(s.describe()).isEqualTo("E=128 top4 H=2880 I=2880 mxfp4/auto swiglu-oai(alpha=1.702, limit=7.0) bias");
    }

    @Test
    void toBuilderRoundTripsAndRecordsCompareByValue() {
        MoeLayerSpec s = gptOss120b().quant(QuantScheme.MXFP4_MXFP8).activation(Activation.SILU).hasBias(false)
                .activationFormat(ActivationFormat.BATCHED).lora(true).expertParallel(4, 3).maxTokensPerCall(64)
                .requestedBackend("marlin").build();
        assertThat(s.toBuilder().build()).isEqualTo(s).hasSameHashCodeAs(s);
        assertThat(s.localExperts()).isEqualTo(32);
        assertThat(s.requestedBackend()).contains("marlin");
        assertThat(s.describe()).contains("lora", "batched", "ep=3/4").doesNotContain("bias");
    }

    @Test
    void hiddenSizeMustBeAMultipleOfTheBlock() {
        rejects(() -> gptOss120b().hiddenSize(2881).build(), "hiddenSize",
                "hiddenSize 2881 must be a multiple of 32 for MXFP4");
        rejects(() -> gptOss120b().hiddenSize(2880 + 8).quant(new QuantScheme(WeightFormat.NVFP4, ActivationType.AUTO))
                .build(), "hiddenSize", "hiddenSize 2888 must be a multiple of 16 for NVFP4");
        rejects(() -> gptOss120b().intermediateSize(2944).quant(new QuantScheme(WeightFormat.int4Group(128),
                ActivationType.BF16)).build(), "hiddenSize", "hiddenSize 2880 must be a multiple of 128 for INT4-G128");
        assertThat(gptOss120b().hiddenSize(2881).intermediateSize(2881).quant(QuantScheme.BF16).build().hiddenSize())
                .as("bf16 has no block").isEqualTo(2881);
    }

    @Test
    void intermediateSizeMustBeAMultipleOfTheBlock() {
        rejects(() -> gptOss120b().intermediateSize(2890).build(), "intermediateSize",
                "intermediateSize 2890 must be a multiple of 32 for MXFP4");
    }

    @Test
    void mxfp8ActivationsNeedHiddenSizeAMultipleOf32() {
        rejects(() -> gptOss120b().hiddenSize(2896).quant(new QuantScheme(WeightFormat.NVFP4, ActivationType.MXFP8))
                .build(), "hiddenSize", "hiddenSize 2896 must be a multiple of 32 for MXFP8 activations");
    }

    @Test
    void sizesMustBeInRange() {
        rejects(() -> gptOss120b().experts(0).topK(1).build(), "experts", "experts 0 must be between 1 and 65536");
        rejects(() -> gptOss120b().experts(70000).build(), "experts", "experts 70000 must be between 1 and 65536");
        rejects(() -> gptOss120b().hiddenSize(0).build(), "hiddenSize", "hiddenSize 0 must be between 1 and 131072");
        rejects(() -> gptOss120b().intermediateSize(1 << 18).build(), "intermediateSize",
                "intermediateSize 262144 must be between 1 and 131072");
        rejects(() -> gptOss120b().maxTokensPerCall(0).build(), "maxTokensPerCall",
                "maxTokensPerCall 0 must be between 1 and 16777216");
    }

    @Test
    void topKMustBeBetweenOneAndExperts() {
        rejects(() -> gptOss120b().experts(4).topK(5).build(), "topK", "topK 5 must be between 1 and experts (4)");
        rejects(() -> gptOss120b().topK(0).build(), "topK", "topK 0 must be between 1 and experts (128)");
    }

    @Test
    void expertParallelismMustDivideTheExperts() {
        rejects(() -> gptOss120b().expertParallel(0, 0).build(), "expertParallelSize",
                "expertParallelSize 0 must be between 1 and 128");
        rejects(() -> gptOss120b().expertParallel(3, 0).build(), "expertParallelSize",
                "expertParallelSize 3 must divide experts (128)");
        rejects(() -> gptOss120b().expertParallel(4, 4).build(), "expertParallelRank",
                "expertParallelRank 4 must be between 0 and expertParallelSize-1 (3)");
        rejects(() -> gptOss120b().expertParallel(4, -1).build(), "expertParallelRank",
                "expertParallelRank -1 must be between 0 and expertParallelSize-1 (3)");
    }

    @Test
    void aRequestedBackendMustNotBeBlank() {
        rejects(() -> gptOss120b().requestedBackend("  ").build(), "requestedBackend",
                "requestedBackend must not be blank");
    }

    @Test
    void theBuilderNeedsTheFourSizes() {
        rejects(() -> MoeLayerSpec.builder().topK(1).hiddenSize(32).intermediateSize(32).build(), "experts",
                "experts is required");
        rejects(() -> MoeLayerSpec.builder().experts(1).hiddenSize(32).intermediateSize(32).build(), "topK",
                "topK is required");
        rejects(() -> MoeLayerSpec.builder().experts(1).topK(1).intermediateSize(32).build(), "hiddenSize",
                "hiddenSize is required");
        rejects(() -> MoeLayerSpec.builder().experts(1).topK(1).hiddenSize(32).build(), "intermediateSize",
                "intermediateSize is required");
    }

    @Test
    void nullPartsAreRejected() {
        assertThatThrownBy(() -> new MoeLayerSpec(8, 2, 64, 64, null, Activation.SILU, false,
                ActivationFormat.STANDARD, false, 0, 0, 1, 0, 16, Optional.empty()))
                .isInstanceOf(NullPointerException.class).hasMessage("quant");
        assertThatThrownBy(() -> gptOss120b().activation(null).build())
                .isInstanceOf(NullPointerException.class).hasMessage("activation");
    }

    @Test
    void swigluParametersAreValidated() {
        rejects(() -> new Activation.SwigluOai(0, 7), "alpha", "alpha 0.0 must be a finite positive number");
        rejects(() -> new Activation.SwigluOai(Double.NaN, 7), "alpha", "alpha NaN must be a finite positive number");
        rejects(() -> new Activation.SwigluOai(1.702, -1), "limit", "limit -1.0 must be positive (use Infinity for none)");
        assertThat(new Activation.SwigluOai(1.702, Double.POSITIVE_INFINITY).limit()).isInfinite();
    }
}
