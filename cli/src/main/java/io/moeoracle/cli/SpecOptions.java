package io.moeoracle.cli;

import io.moeoracle.api.spec.Activation;
import io.moeoracle.api.spec.ActivationFormat;
import io.moeoracle.api.spec.ActivationType;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.spec.QuantScheme;
import io.moeoracle.api.spec.WeightFormat;
import io.moeoracle.core.weights.ModelConfig;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The options that describe one MoE layer, shared by explain, run and bench. */
final class SpecOptions {
    @Option(names = "--model", paramLabel = "NAME", description = "a known model: gpt-oss-20b or gpt-oss-120b")
    String model;

    @Option(names = "--config", paramLabel = "DIR",
            description = "a model folder (or its config.json) in Hugging Face style")
    Path config;

    @Option(names = "--experts", paramLabel = "E", description = "number of experts")
    Integer experts;

    @Option(names = "--top-k", paramLabel = "K", description = "experts per token")
    Integer topK;

    @Option(names = "--hidden", paramLabel = "H", description = "hidden size")
    Integer hidden;

    @Option(names = "--intermediate", paramLabel = "I", description = "expert intermediate size")
    Integer intermediate;

    @Option(names = "--quant", paramLabel = "FORMAT",
            description = "weight format: mxfp4, bf16, nvfp4, fp8-block128, int4-g<N>; 'mxfp4/mxfp8' also sets activations")
    String quant;

    @Option(names = "--activation", paramLabel = "TYPE", description = "activation type: auto, bf16, mxfp8, fp8-per-token")
    String activationType;

    @Option(names = "--act-fn", paramLabel = "FN", description = "activation function: swiglu-oai, silu, gelu")
    String activationFunction;

    @Option(names = "--no-bias", description = "the layer has no biases")
    boolean noBias;

    @Option(names = "--lora", description = "LoRA adapters are applied to the experts (rank and slots: --lora-rank,"
            + " --lora-slots; defaults 16 and 4)")
    boolean lora;

    @Option(names = "--lora-rank", paramLabel = "R", description = "largest LoRA rank (implies --lora)")
    Integer loraRank;

    @Option(names = "--lora-slots", paramLabel = "N", description = "resident LoRA adapters (implies --lora)")
    Integer loraSlots;

    @Option(names = "--batched", description = "batched (expert-parallel) activation format")
    boolean batched;

    @Option(names = "--ep-size", paramLabel = "N", description = "expert-parallel ranks (default 1)")
    Integer epSize;

    @Option(names = "--ep-rank", paramLabel = "R", description = "this expert-parallel rank (default 0)")
    Integer epRank;

    @Option(names = "--max-tokens", paramLabel = "T", description = "most tokens per forward call")
    Integer maxTokens;

    /**
     * @param backend a backend id to insist on, or null
     * @return the validated spec
     */
    MoeLayerSpec toSpec(String backend) {
        MoeLayerSpec.Builder b;
        if (model != null && config != null) {
            throw new CliErrors.UsageException("--model and --config both name a model; give one of them");
        }
        if (model != null) {
            b = ModelConfig.preset(model).toBuilder();
        } else if (config != null) {
            b = ModelConfig.fromConfigJson(config).toBuilder();
        } else {
            if (experts == null || topK == null || hidden == null || intermediate == null) {
                throw new CliErrors.UsageException("no layer given: use --model gpt-oss-20b|gpt-oss-120b, "
                        + "--config DIR, or all of --experts, --top-k, --hidden and --intermediate");
            }
            b = MoeLayerSpec.builder();
        }
        if (experts != null) b.experts(experts);
        if (topK != null) b.topK(topK);
        if (hidden != null) b.hiddenSize(hidden);
        if (intermediate != null) b.intermediateSize(intermediate);
        MoeLayerSpec base = b.build();
        QuantScheme scheme = base.quant();
        if (quant != null) {
            scheme = quant.contains("/") ? QuantScheme.parse(quant)
                    : new QuantScheme(WeightFormat.parse(quant), scheme.activations());
        }
        if (activationType != null) {
            scheme = scheme.withActivations(ActivationType.parse(activationType));
        }
        b.quant(scheme);
        if (activationFunction != null) b.activation(Activation.parse(activationFunction));
        if (noBias) b.hasBias(false);
        if (lora || loraRank != null || loraSlots != null) {
            b.lora(loraRank == null ? MoeLayerSpec.DEFAULT_LORA_RANK : loraRank,
                    loraSlots == null ? MoeLayerSpec.DEFAULT_ADAPTER_SLOTS : loraSlots);
        }
        if (batched) b.activationFormat(ActivationFormat.BATCHED);
        if (epSize != null || epRank != null) {
            b.expertParallel(epSize == null ? 1 : epSize, epRank == null ? 0 : epRank);
        }
        if (maxTokens != null) b.maxTokensPerCall(maxTokens);
        b.requestedBackend(backend);
        return b.build();
    }
}
