package io.moeoracle.core.weights;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moeoracle.api.spec.Activation;
import io.moeoracle.api.spec.ActivationType;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.spec.QuantScheme;
import io.moeoracle.api.spec.WeightFormat;
import io.moeoracle.core.internal.json.Json;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelConfigTest {
    @TempDir
    Path dir;

    private static Path gptOss20b() throws URISyntaxException {
        return Path.of(ModelConfigTest.class.getResource("/gpt-oss-20b/config.json").toURI()).getParent();
    }

    @Test
    void readsTheGptOss20bConfig() throws Exception {
        MoeLayerSpec s = ModelConfig.fromConfigJson(gptOss20b());
        assertThat(s.experts()).isEqualTo(32);
        assertThat(s.topK()).isEqualTo(4);
        assertThat(s.hiddenSize()).isEqualTo(2880);
        assertThat(s.intermediateSize()).isEqualTo(2880);
        assertThat(s.quant()).isEqualTo(QuantScheme.MXFP4_AUTO);
        assertThat(s.activation()).isEqualTo(new Activation.SwigluOai(1.702, 7.0));
        assertThat(s.hasBias()).isTrue();
        assertThat(s).isEqualTo(ModelConfig.preset("gpt-oss-20b"));
        assertThat(ModelConfig.fromConfigJson(gptOss20b().resolve("config.json"))).isEqualTo(s);
    }

    @Test
    void presets() {
        assertThat(ModelConfig.preset("gpt-oss-120b").experts()).isEqualTo(128);
        assertThat(ModelConfig.preset("openai/GPT-OSS-20B").experts()).isEqualTo(32);
        assertThatThrownBy(() -> ModelConfig.preset("llama-70b")).hasMessageContaining("llama-70b")
                .hasMessageContaining("gpt-oss-20b, gpt-oss-120b");
    }

    private Map<String, Object> base() throws Exception {
        return new LinkedHashMap<>(Json.parseObject(Files.readString(gptOss20b().resolve("config.json"))));
    }

    private MoeLayerSpec with(Map<String, Object> config) throws IOException {
        Path f = dir.resolve("config.json");
        Files.writeString(f, Json.write(config));
        return ModelConfig.fromConfigJson(dir);
    }

    private MoeLayerSpec withQuant(String quantJson) throws Exception {
        return withQuant(quantJson, 2880);
    }

    private MoeLayerSpec withQuant(String quantJson, long size) throws Exception {
        Map<String, Object> c = base();
        c.put("hidden_size", size);
        c.put("intermediate_size", size);
        if (quantJson == null) {
            c.remove("quantization_config");
        } else {
            c.put("quantization_config", Json.parse(quantJson));
        }
        return with(c);
    }

    @Test
    void mapsQuantizationConfigs() throws Exception {
        assertThat(withQuant(null).quant()).isEqualTo(QuantScheme.BF16);
        assertThat(withQuant("{\"quant_method\":\"mxfp4\",\"activation_scheme\":\"mxfp8\"}").quant())
                .isEqualTo(QuantScheme.MXFP4_MXFP8);
        assertThat(withQuant("{\"quant_method\":\"fp8\",\"fmt\":\"e4m3\",\"activation_scheme\":\"dynamic\","
                + "\"weight_block_size\":[128,128]}", 3072).quant())
                .isEqualTo(new QuantScheme(WeightFormat.FP8_BLOCK128, ActivationType.FP8_PER_TOKEN));
        assertThat(withQuant("{\"quant_method\":\"modelopt\",\"quant_algo\":\"NVFP4\"}").quant().weights())
                .isEqualTo(WeightFormat.NVFP4);
        assertThat(withQuant("{\"quant_method\":\"modelopt\",\"quantization\":{\"quant_algo\":\"NVFP4\"}}").quant()
                .weights()).isEqualTo(WeightFormat.NVFP4);
        assertThatThrownBy(() -> withQuant("{\"quant_method\":\"fp8\",\"weight_block_size\":[128,128]}"))
                .isInstanceOf(ModelConfigException.class).hasMessageContaining("hiddenSize 2880 must be a multiple of 128");
        assertThat(withQuant("{\"quant_method\":\"gptq\",\"bits\":4,\"group_size\":128}", 3072).quant().weights())
                .isEqualTo(WeightFormat.int4Group(128));
        assertThat(withQuant("{\"quant_method\":\"awq\",\"bits\":4,\"group_size\":64}").quant().weights())
                .isEqualTo(WeightFormat.int4Group(64));
        assertThat(withQuant("{\"quant_method\":\"compressed-tensors\",\"config_groups\":{\"group_0\":{"
                + "\"weights\":{\"num_bits\":4,\"type\":\"float\",\"group_size\":32},"
                + "\"input_activations\":{\"num_bits\":8,\"type\":\"float\",\"strategy\":\"group\",\"group_size\":32}}}}")
                .quant()).isEqualTo(QuantScheme.MXFP4_MXFP8);
        assertThat(withQuant("{\"quant_method\":\"compressed-tensors\",\"config_groups\":{\"g\":{"
                + "\"weights\":{\"num_bits\":8,\"type\":\"float\",\"block_structure\":[128,128]},"
                + "\"input_activations\":{\"num_bits\":8,\"type\":\"float\",\"strategy\":\"token\"}}}}", 3072)
                .quant()).isEqualTo(new QuantScheme(WeightFormat.FP8_BLOCK128, ActivationType.FP8_PER_TOKEN));
    }

    @Test
    void unknownQuantMethodQuotesTheField() {
        assertThatThrownBy(() -> withQuant("{\"quant_method\":\"bitsandbytes\"}"))
                .isInstanceOf(ModelConfigException.class)
                .hasMessageContaining("\"quantization_config.quant_method\": \"bitsandbytes\"")
                .hasMessageContaining("known: mxfp4")
                .satisfies(e -> assertThat(((ModelConfigException) e).field()).isEqualTo("quantization_config.quant_method"));
    }

    @Test
    void contradictoryFieldsQuoteTheField() throws Exception {
        Map<String, Object> c = base();
        c.put("experts_per_token", 8L);
        assertThatThrownBy(() -> with(c)).isInstanceOf(ModelConfigException.class)
                .hasMessageContaining("\"experts_per_token\": 8 contradicts \"num_experts_per_tok\": 4");
        assertThatThrownBy(() -> withQuant("{\"quant_method\":\"mxfp4\",\"bits\":8}"))
                .hasMessageContaining("\"quantization_config.bits\": 8 contradicts quant_method \"mxfp4\"");
        assertThatThrownBy(() -> withQuant("{\"quant_method\":\"gptq\",\"bits\":8,\"group_size\":128}"))
                .hasMessageContaining("\"quantization_config.bits\": 8");
        assertThatThrownBy(() -> withQuant("{\"quant_method\":\"fp8\",\"weight_block_size\":[64,64]}"))
                .hasMessageContaining("\"quantization_config.weight_block_size\": [64,64]");
        assertThatThrownBy(() -> withQuant("{\"quant_method\":\"mxfp4\",\"activation_scheme\":\"int8\"}"))
                .hasMessageContaining("\"quantization_config.activation_scheme\": \"int8\"");
        assertThatThrownBy(() -> withQuant("{\"quant_method\":\"gptq\",\"bits\":4,\"group_size\":-1}"))
                .hasMessageContaining("\"quantization_config.group_size\": -1");
        Map<String, Object> c2 = base();
        c2.put("num_experts_per_tok", 64L);
        c2.remove("experts_per_token");
        assertThatThrownBy(() -> with(c2)).isInstanceOf(ModelConfigException.class).hasMessageContaining("topK 64");
        Map<String, Object> c3 = base();
        c3.remove("hidden_size");
        assertThatThrownBy(() -> with(c3)).hasMessageContaining("\"hidden_size\" is missing");
        Files.writeString(dir.resolve("config.json"), "{\"hidden_size\": }");
        assertThatThrownBy(() -> ModelConfig.fromConfigJson(dir)).hasMessageContaining("line 1, column 17");
    }

    @Test
    void nonGptOssConfigsUseHiddenAct() throws Exception {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("model_type", "qwen3_moe");
        c.put("num_experts", 128L);
        c.put("num_experts_per_tok", 8L);
        c.put("hidden_size", 2048L);
        c.put("intermediate_size", 6144L);
        c.put("moe_intermediate_size", 768L);
        c.put("hidden_act", "silu");
        MoeLayerSpec s = with(c);
        assertThat(s.activation()).isEqualTo(Activation.SILU);
        assertThat(s.intermediateSize()).isEqualTo(768);
        assertThat(s.hasBias()).isFalse();
        assertThat(s.quant()).isEqualTo(QuantScheme.BF16);
        c.put("hidden_act", "relu2");
        assertThatThrownBy(() -> with(c)).hasMessageContaining("\"hidden_act\": \"relu2\"");
    }
}
