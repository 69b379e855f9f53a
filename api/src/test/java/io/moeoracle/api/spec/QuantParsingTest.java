package io.moeoracle.api.spec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

class QuantParsingTest {

    @ParameterizedTest
    @CsvSource({
        "bf16, BF16, 1",
        "MXFP4, MXFP4, 32",
        " nvfp4 , NVFP4, 16",
        "fp8-block128, FP8_BLOCK128, 128",
        "fp8_block128, FP8_BLOCK128, 128",
        "fp8, FP8_BLOCK128, 128",
        "int4-g128, INT4_GROUP, 128",
        "INT4_G64, INT4_GROUP, 64"})
    void weightFormatsParse(String text, WeightFormat.Kind kind, int block) {
        WeightFormat f = WeightFormat.parse(text);
        assertThat(f.kind()).isEqualTo(kind);
        assertThat(f.blockSize()).isEqualTo(block);
        assertThat(WeightFormat.parse(f.toString())).as("toString parses back").isEqualTo(f);
    }

    @Test
    void weightFormatProperties() {
        assertThat(WeightFormat.BF16.isQuantized()).isFalse();
        assertThat(WeightFormat.MXFP4.isQuantized()).isTrue();
        assertThat(WeightFormat.MXFP4.bitsPerValue()).isEqualTo(4);
        assertThat(WeightFormat.FP8_BLOCK128.bitsPerValue()).isEqualTo(8);
        assertThat(WeightFormat.BF16.bitsPerValue()).isEqualTo(16);
    }

    @ParameterizedTest
    @ValueSource(strings = {"mxfp6", "int4-gx", "int4-g", ""})
    void unknownWeightFormatsNameTheAcceptedOnes(String text) {
        assertThatThrownBy(() -> WeightFormat.parse(text))
                .isInstanceOf(InvalidSpecException.class)
                .hasMessage("weight format '" + text + "' is unknown; use one of bf16, mxfp4, nvfp4, fp8-block128,"
                        + " int4-g<groupSize>");
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 8, 48, 2048, -128})
    void int4GroupSizeMustBeAPowerOfTwoIn16To1024(int g) {
        assertThatThrownBy(() -> WeightFormat.int4Group(g))
                .isInstanceOf(InvalidSpecException.class)
                .hasMessage("groupSize " + g + " must be a power of two between 16 and 1024 for INT4_GROUP")
                .satisfies(e -> assertThat(((InvalidSpecException) e).field()).isEqualTo("groupSize"));
        assertThatThrownBy(() -> WeightFormat.parse("int4-g" + g)).isInstanceOf(InvalidSpecException.class);
    }

    @ParameterizedTest
    @CsvSource({"auto, AUTO", "BF16, BF16", "mxfp8, MXFP8", "fp8-per-token, FP8_PER_TOKEN", "fp8_per_token, FP8_PER_TOKEN",
        "fp8, FP8_PER_TOKEN"})
    void activationTypesParse(String text, ActivationType expected) {
        assertThat(ActivationType.parse(text)).isEqualTo(expected);
    }

    @ParameterizedTest
    @EnumSource(ActivationType.class)
    void activationTypesRoundTripAndKnowWhetherTheyQuantize(ActivationType t) {
        assertThat(ActivationType.parse(t.toString())).isEqualTo(t);
        assertThat(t.isQuantized()).isEqualTo(t == ActivationType.MXFP8 || t == ActivationType.FP8_PER_TOKEN);
    }

    @Test
    void unknownActivationTypesNameTheAcceptedOnes() {
        assertThatThrownBy(() -> ActivationType.parse("int8"))
                .isInstanceOf(InvalidSpecException.class)
                .hasMessage("activation type 'int8' is unknown; use one of auto, bf16, mxfp8, fp8-per-token");
    }

    @Test
    void quantSchemesParseWeightsThenActivations() {
        assertThat(QuantScheme.parse("mxfp4")).isEqualTo(QuantScheme.MXFP4_AUTO);
        assertThat(QuantScheme.parse("mxfp4/mxfp8")).isEqualTo(QuantScheme.MXFP4_MXFP8);
        assertThat(QuantScheme.parse("MXFP4/bf16")).isEqualTo(QuantScheme.MXFP4_BF16);
        assertThat(QuantScheme.parse("bf16/bf16")).isEqualTo(QuantScheme.BF16);
        assertThat(QuantScheme.parse(QuantScheme.MXFP4_MXFP8.toString())).isEqualTo(QuantScheme.MXFP4_MXFP8);
        assertThat(QuantScheme.MXFP4_AUTO.withActivations(ActivationType.MXFP8)).isEqualTo(QuantScheme.MXFP4_MXFP8);
        assertThatThrownBy(() -> QuantScheme.parse("mxfp4/int8")).isInstanceOf(InvalidSpecException.class)
                .hasMessageContaining("'int8'");
    }

    @Test
    void quantizedActivationsNeedQuantizedWeights() {
        assertThatThrownBy(() -> QuantScheme.parse("bf16/mxfp8"))
                .isInstanceOf(InvalidSpecException.class)
                .hasMessage("activation type mxfp8 with bf16 weights is not a scheme: quantized activations need"
                        + " quantized weights")
                .satisfies(e -> assertThat(((InvalidSpecException) e).field()).isEqualTo("activationType"));
        assertThat(QuantScheme.parse("bf16").activations()).isEqualTo(ActivationType.AUTO);
    }

    @Test
    void activationsParse() {
        assertThat(Activation.parse("SiLU")).isEqualTo(Activation.SILU);
        assertThat(Activation.parse("swiglu_oai")).isEqualTo(Activation.SWIGLU_OAI);
        assertThat(Activation.parse("gelu")).isEqualTo(Activation.GELU);
        assertThat(Activation.SWIGLU_OAI).isEqualTo(new Activation.SwigluOai(1.702, 7.0));
        assertThatThrownBy(() -> Activation.parse("relu")).isInstanceOf(InvalidSpecException.class)
                .hasMessage("activation 'relu' is unknown; use one of silu, gelu, swiglu-oai");
    }
}
