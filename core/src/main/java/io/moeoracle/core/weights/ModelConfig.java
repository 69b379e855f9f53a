package io.moeoracle.core.weights;

import io.moeoracle.api.spec.Activation;
import io.moeoracle.api.spec.ActivationType;
import io.moeoracle.api.spec.InvalidSpecException;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.spec.QuantScheme;
import io.moeoracle.api.spec.WeightFormat;
import io.moeoracle.core.internal.json.Json;
import io.moeoracle.core.internal.json.JsonException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * Layer specs from a Hugging Face {@code config.json} ("pass the quantization config, get the
 * right backend") and from named presets.
 *
 * <p>Read: {@code num_local_experts} (or {@code num_experts}, {@code n_routed_experts}),
 * {@code num_experts_per_tok} (or {@code experts_per_token}), {@code hidden_size},
 * {@code moe_intermediate_size} or else {@code intermediate_size}, {@code swiglu_limit} (gpt-oss:
 * SwiGLU-OAI with alpha 1.702 and biases) or else {@code hidden_act}, and
 * {@code quantization_config}:
 * <ul>
 *   <li>absent: BF16 weights and activations;</li>
 *   <li>{@code "mxfp4"}: MXFP4 weights, activations AUTO (or {@code activation_scheme}
 *       {@code "mxfp8"} / {@code "bf16"});</li>
 *   <li>{@code "fp8"} with {@code weight_block_size [128, 128]}: FP8_BLOCK128 weights,
 *       {@code activation_scheme "dynamic"} gives FP8 per-token activations;</li>
 *   <li>{@code "modelopt"} with {@code quant_algo "NVFP4"}: NVFP4 weights;</li>
 *   <li>{@code "gptq"}, {@code "awq"} with {@code bits 4}: INT4 with {@code group_size};</li>
 *   <li>{@code "compressed-tensors"}: from {@code config_groups.*.weights} and
 *       {@code input_activations} (4-bit int groups, FP4 groups of 16 / 32, FP8 128x128 blocks;
 *       activations FP8 per token or MXFP8 groups of 32).</li>
 * </ul>
 * Fields that disagree (two expert counts, a bit width the method does not have) and unknown
 * methods are {@link ModelConfigException}s quoting the field and its value.
 */
public final class ModelConfig {
    /** gpt-oss's SwiGLU alpha (not in its config). */
    public static final double GPT_OSS_ALPHA = 1.702;

    private static final Map<String, MoeLayerSpec> PRESETS = new LinkedHashMap<>();

    static {
        MoeLayerSpec base = MoeLayerSpec.builder().experts(32).topK(4).hiddenSize(2880).intermediateSize(2880)
                .quant(QuantScheme.MXFP4_AUTO).activation(Activation.SWIGLU_OAI).hasBias(true).build();
        PRESETS.put("gpt-oss-20b", base);
        PRESETS.put("gpt-oss-120b", base.toBuilder().experts(128).build());
    }

    private ModelConfig() {
    }

    /** @return the preset names, in a stable order */
    public static List<String> presetNames() {
        return List.copyOf(PRESETS.keySet());
    }

    /**
     * @param name {@code gpt-oss-20b} or {@code gpt-oss-120b} (case-insensitive; an {@code openai/} prefix is ignored)
     * @return the layer spec of one MoE layer of that model
     * @throws IllegalArgumentException listing the known names when the name is unknown
     */
    public static MoeLayerSpec preset(String name) {
        String key = name.trim().toLowerCase(Locale.ROOT);
        if (key.startsWith("openai/")) {
            key = key.substring("openai/".length());
        }
        MoeLayerSpec s = PRESETS.get(key);
        if (s == null) {
            throw new IllegalArgumentException("model '" + name + "' is unknown; known presets: "
                    + String.join(", ", PRESETS.keySet()) + " (or pass a model folder with a config.json)");
        }
        return s;
    }

    /**
     * @param dirOrFile a model folder holding {@code config.json}, or the file itself
     * @return the spec of one MoE layer
     * @throws ModelConfigException quoting the offending field and value
     */
    public static MoeLayerSpec fromConfigJson(Path dirOrFile) {
        Path file = Files.isDirectory(dirOrFile) ? dirOrFile.resolve("config.json") : dirOrFile;
        String text;
        try {
            text = Files.readString(file);
        } catch (IOException e) {
            throw new ModelConfigException("config.json", "cannot read " + file + ": " + e, e);
        }
        try {
            return fromJson(Json.parseObject(text), file.toString());
        } catch (JsonException e) {
            throw new ModelConfigException("config.json", file + " is not valid JSON: " + e.getMessage(), e);
        }
    }

    /**
     * @param config a parsed {@code config.json}
     * @param source where it came from, for messages
     * @return the spec of one MoE layer
     */
    public static MoeLayerSpec fromJson(Map<String, Object> config, String source) {
        Reader r = new Reader(config, source);
        int experts = r.agreeingInt("num_local_experts", "num_experts", "n_routed_experts");
        int topK = r.agreeingInt("num_experts_per_tok", "experts_per_token");
        int hidden = r.requiredInt("hidden_size");
        int inter = r.has("moe_intermediate_size") ? r.requiredInt("moe_intermediate_size") : r.requiredInt("intermediate_size");
        Activation act;
        boolean bias;
        boolean gptOss = "gpt_oss".equals(config.get("model_type"));
        if (r.has("swiglu_limit") || gptOss) {
            double limit = r.has("swiglu_limit") ? r.number("swiglu_limit") : 7.0;
            try {
                act = new Activation.SwigluOai(GPT_OSS_ALPHA, limit);
            } catch (InvalidSpecException e) {
                throw r.bad("swiglu_limit", config.get("swiglu_limit"), e.getMessage());
            }
            bias = true;
        } else {
            act = activation(r);
            bias = Boolean.TRUE.equals(config.get("mlp_bias"));
        }
        QuantScheme quant = quant(r);
        try {
            return MoeLayerSpec.builder().experts(experts).topK(topK).hiddenSize(hidden).intermediateSize(inter)
                    .quant(quant).activation(act).hasBias(bias).build();
        } catch (InvalidSpecException e) {
            throw new ModelConfigException(e.field(), source + ": the config does not make a valid layer: "
                    + e.getMessage(), e);
        }
    }

    private static Activation activation(Reader r) {
        if (!r.has("hidden_act")) {
            return Activation.SILU;
        }
        String a = r.string("hidden_act");
        return switch (a.toLowerCase(Locale.ROOT)) {
            case "silu", "swish", "swiglu" -> Activation.SILU;
            case "gelu", "gelu_new", "gelu_pytorch_tanh", "gelu_fast" -> Activation.GELU;
            default -> throw r.bad("hidden_act", a, "is not a gated activation moe-oracle knows (silu, gelu)");
        };
    }

    private static QuantScheme quant(Reader top) {
        Object qc = top.config.get("quantization_config");
        if (qc == null) {
            return QuantScheme.BF16;
        }
        if (!(qc instanceof Map<?, ?>)) {
            throw top.bad("quantization_config", qc, "must be an object");
        }
        @SuppressWarnings("unchecked")
        Reader q = new Reader((Map<String, Object>) qc, top.source, "quantization_config.");
        String method = q.string("quant_method").toLowerCase(Locale.ROOT);
        return switch (method) {
            case "mxfp4" -> {
                if (q.has("bits") && q.requiredInt("bits") != 4) {
                    throw q.bad("bits", q.config.get("bits"), "contradicts quant_method \"mxfp4\" (4 bits)");
                }
                if (q.has("weight_block_size")) {
                    throw q.bad("weight_block_size", q.config.get("weight_block_size"),
                            "contradicts quant_method \"mxfp4\" (blocks of 32 along the reduction dimension)");
                }
                ActivationType a = ActivationType.AUTO;
                if (q.has("activation_scheme")) {
                    String s = q.string("activation_scheme").toLowerCase(Locale.ROOT);
                    a = switch (s) {
                        case "mxfp8" -> ActivationType.MXFP8;
                        case "bf16", "none" -> ActivationType.BF16;
                        default -> throw q.bad("activation_scheme", s, "is not an activation scheme for mxfp4 weights "
                                + "(mxfp8 or bf16)");
                    };
                }
                yield new QuantScheme(WeightFormat.MXFP4, a);
            }
            case "fp8" -> {
                Object bs = q.config.get("weight_block_size");
                if (!(bs instanceof List<?> l) || l.size() != 2 || !Long.valueOf(128).equals(l.get(0))
                        || !Long.valueOf(128).equals(l.get(1))) {
                    throw q.bad("weight_block_size", bs, "must be [128, 128]: moe-oracle runs FP8 weights with 128x128 "
                            + "block scales only (per-tensor FP8 has no weight format here)");
                }
                ActivationType a = ActivationType.FP8_PER_TOKEN;
                if (q.has("activation_scheme")) {
                    String s = q.string("activation_scheme").toLowerCase(Locale.ROOT);
                    if (!s.equals("dynamic")) {
                        throw q.bad("activation_scheme", s, "must be \"dynamic\" (per-token FP8); static per-tensor "
                                + "activation scales are not supported");
                    }
                }
                yield new QuantScheme(WeightFormat.FP8_BLOCK128, a);
            }
            case "modelopt" -> {
                Reader algo = q;
                if (q.config.get("quantization") instanceof Map<?, ?> inner) {
                    @SuppressWarnings("unchecked")
                    Map<String, Object> m = (Map<String, Object>) inner;
                    algo = new Reader(m, top.source, "quantization_config.quantization.");
                }
                String a = algo.string("quant_algo");
                if (!a.equalsIgnoreCase("NVFP4")) {
                    throw algo.bad("quant_algo", a, "is not supported for MoE experts; known: NVFP4");
                }
                yield new QuantScheme(WeightFormat.NVFP4, ActivationType.AUTO);
            }
            case "gptq", "awq" -> {
                int bits = q.requiredInt("bits");
                if (bits != 4) {
                    throw q.bad("bits", bits, "must be 4 for " + method + " (INT4 groups)");
                }
                int group = q.requiredInt("group_size");
                try {
                    yield new QuantScheme(WeightFormat.int4Group(group), ActivationType.BF16);
                } catch (InvalidSpecException e) {
                    throw q.bad("group_size", group, e.getMessage());
                }
            }
            case "compressed-tensors", "compressed_tensors" -> compressedTensors(q);
            default -> throw q.bad("quant_method", method, "is unknown; known: mxfp4, fp8, modelopt (NVFP4), gptq, awq, "
                    + "compressed-tensors");
        };
    }

    @SuppressWarnings("unchecked")
    private static QuantScheme compressedTensors(Reader q) {
        if (!(q.config.get("config_groups") instanceof Map<?, ?> groups) || groups.isEmpty()) {
            throw q.bad("config_groups", q.config.get("config_groups"), "must be a non-empty object");
        }
        QuantScheme found = null;
        for (Map.Entry<?, ?> g : groups.entrySet()) {
            String prefix = "quantization_config.config_groups." + g.getKey() + ".";
            if (!(g.getValue() instanceof Map<?, ?> gm)) {
                throw q.bad("config_groups." + g.getKey(), g.getValue(), "must be an object");
            }
            Reader group = new Reader((Map<String, Object>) gm, q.source, prefix);
            if (!(group.config.get("weights") instanceof Map<?, ?> wm)) {
                throw group.bad("weights", group.config.get("weights"), "must be an object");
            }
            Reader w = new Reader((Map<String, Object>) wm, q.source, prefix + "weights.");
            int bits = w.requiredInt("num_bits");
            String type = w.string("type").toLowerCase(Locale.ROOT);
            WeightFormat wf;
            if (bits == 4 && type.equals("int")) {
                int gs = w.requiredInt("group_size");
                try {
                    wf = WeightFormat.int4Group(gs);
                } catch (InvalidSpecException e) {
                    throw w.bad("group_size", gs, e.getMessage());
                }
            } else if (bits == 4 && type.equals("float")) {
                int gs = w.requiredInt("group_size");
                wf = switch (gs) {
                    case 16 -> WeightFormat.NVFP4;
                    case 32 -> WeightFormat.MXFP4;
                    default -> throw w.bad("group_size", gs, "must be 16 (NVFP4) or 32 (MXFP4) for 4-bit floats");
                };
            } else if (bits == 8 && type.equals("float")) {
                Object bs = w.config.get("block_structure");
                if (!(bs instanceof List<?> l) || !List.of(128L, 128L).equals(l)) {
                    throw w.bad("block_structure", bs, "must be [128, 128] for FP8 weights");
                }
                wf = WeightFormat.FP8_BLOCK128;
            } else {
                throw w.bad("num_bits", bits, "with type \"" + type + "\" is not a weight format moe-oracle knows");
            }
            ActivationType act = ActivationType.BF16;
            Object ia = group.config.get("input_activations");
            if (ia instanceof Map<?, ?> im) {
                Reader a = new Reader((Map<String, Object>) im, q.source, prefix + "input_activations.");
                int ab = a.requiredInt("num_bits");
                String at = a.string("type").toLowerCase(Locale.ROOT);
                String strategy = a.has("strategy") ? a.string("strategy").toLowerCase(Locale.ROOT) : "";
                if (ab != 8 || !at.equals("float")) {
                    throw a.bad("num_bits", ab, "with type \"" + at + "\": only 8-bit float activations are known");
                }
                if (strategy.equals("token")) {
                    act = ActivationType.FP8_PER_TOKEN;
                } else if (strategy.equals("group") && a.has("group_size") && a.requiredInt("group_size") == 32) {
                    act = ActivationType.MXFP8;
                } else {
                    throw a.bad("strategy", strategy, "must be \"token\" (FP8 per token) or \"group\" with group_size 32 (MXFP8)");
                }
            } else if (ia != null) {
                throw group.bad("input_activations", ia, "must be an object or null");
            }
            QuantScheme s;
            try {
                s = new QuantScheme(wf, act);
            } catch (InvalidSpecException e) {
                throw group.bad("input_activations", ia, e.getMessage());
            }
            if (found != null && !found.equals(s)) {
                throw q.bad("config_groups", "{...}", "groups disagree: " + found + " and " + s
                        + "; one layer runs one scheme");
            }
            found = s;
        }
        return found;
    }

    /** Typed access to one JSON object, with errors that quote the field. */
    private static final class Reader {
        final Map<String, Object> config;
        final String source;
        final String prefix;

        Reader(Map<String, Object> config, String source) {
            this(config, source, "");
        }

        Reader(Map<String, Object> config, String source, String prefix) {
            this.config = config;
            this.source = source;
            this.prefix = prefix;
        }

        boolean has(String key) {
            return config.get(key) != null;
        }

        ModelConfigException bad(String key, Object value, String rule) {
            String v = value instanceof String s ? "\"" + s + "\"" : String.valueOf(value instanceof Map || value instanceof List
                    ? Json.write(value) : value);
            return new ModelConfigException(prefix + key, source + ": \"" + prefix + key + "\": " + v + " " + rule);
        }

        ModelConfigException missing(String... keys) {
            String names = keys.length == 1 ? "\"" + prefix + keys[0] + "\"" : "one of " + String.join(", ", keys);
            return new ModelConfigException(prefix + keys[0], source + ": " + names + " is missing");
        }

        String string(String key) {
            Object v = config.get(key);
            if (v == null) {
                throw missing(key);
            }
            if (!(v instanceof String s)) {
                throw bad(key, v, "must be a string");
            }
            return s;
        }

        double number(String key) {
            Object v = config.get(key);
            if (!(v instanceof Number n)) {
                throw bad(key, v, "must be a number");
            }
            return n.doubleValue();
        }

        int requiredInt(String key) {
            Object v = config.get(key);
            if (v == null) {
                throw missing(key);
            }
            if (!(v instanceof Long l) || l < Integer.MIN_VALUE || l > Integer.MAX_VALUE) {
                throw bad(key, v, "must be an integer");
            }
            return (int) (long) l;
        }

        /** The first present key; every other present alias must agree with it. */
        int agreeingInt(String... keys) {
            String first = null;
            Integer value = null;
            for (String k : keys) {
                if (has(k)) {
                    int v = requiredInt(k);
                    if (value == null) {
                        first = k;
                        value = v;
                    } else if (!Objects.equals(value, v)) {
                        throw bad(k, v, "contradicts \"" + prefix + first + "\": " + value);
                    }
                }
            }
            if (value == null) {
                throw missing(keys);
            }
            return value;
        }
    }
}
