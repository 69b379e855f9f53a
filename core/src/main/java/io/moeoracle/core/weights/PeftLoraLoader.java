package io.moeoracle.core.weights;

import io.moeoracle.api.quant.Bf16;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.tensor.DType;
import io.moeoracle.api.tensor.HostTensor;
import io.moeoracle.api.tensor.LoraAdapter;
import io.moeoracle.core.internal.json.Json;
import io.moeoracle.core.internal.json.JsonException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Reads one layer's expert adapter from a PEFT-style {@code adapter_model.safetensors}. Per global
 * expert {@code g} of this rank ({@code g = rank * El + e}) the file holds, for {@code P} in
 * {@code gate_proj, up_proj, down_proj}:
 * <pre>
 *   base_model.model.model.layers.{L}.mlp.experts.{g}.{P}.lora_A.weight   [r, in]
 *   base_model.model.model.layers.{L}.mlp.experts.{g}.{P}.lora_B.weight   [out, r]
 * </pre>
 * (Mixtral's names {@code block_sparse_moe.experts.{g}.w1 / w3 / w2} for gate / up / down are read
 * too.) BF16 or F32 in the file; the adapter is BF16. The scaling is {@code lora_alpha / r}, or
 * {@code lora_alpha / sqrt(r)} with {@code use_rslora}, from {@code adapter_config.json} beside the
 * file, or given by the caller.
 */
public final class PeftLoraLoader {
    /** The prefix of PEFT's names for a causal LM. */
    public static final String PREFIX = "base_model.model.model.layers.";
    private static final String[][] FAMILIES = {
        {"mlp.experts.", "gate_proj", "up_proj", "down_proj"},
        {"block_sparse_moe.experts.", "w1", "w3", "w2"},
    };

    private PeftLoraLoader() {
    }

    /**
     * Reads the adapter with the scaling from {@code adapter_config.json} in the file's folder.
     *
     * @param file the adapter's safetensors file
     * @param spec the layer (its sizes and expert-parallel rank pick the tensors)
     * @param layer the decoder layer index L
     * @param arena owner of the adapter's memory
     * @return the adapter, named after the folder and layer
     * @throws SafetensorsException naming the file and the missing or misshapen tensor, or the config
     */
    public static LoraAdapter read(Path file, MoeLayerSpec spec, int layer, Arena arena) {
        Path config = file.toAbsolutePath().resolveSibling("adapter_config.json");
        Map<String, Object> cfg;
        try {
            cfg = Json.parseObject(Files.readString(config));
        } catch (IOException | JsonException e) {
            throw new SafetensorsException(config, null, "cannot read the adapter config (" + e.getMessage()
                    + "); pass the scaling to PeftLoraLoader.read(file, spec, layer, scaling, arena)", e);
        }
        if (!(cfg.get("lora_alpha") instanceof Number alpha)) {
            throw new SafetensorsException(config, null, "lora_alpha is missing or not a number");
        }
        try (Arena mapping = Arena.ofConfined()) {
            SafetensorsFile f = SafetensorsFile.open(file, mapping);
            int r = rankOf(f, spec, layer);
            double div = Boolean.TRUE.equals(cfg.get("use_rslora")) ? Math.sqrt(r) : r;
            return read(f, spec, layer, alpha.doubleValue() / div, arena);
        }
    }

    /**
     * Reads the adapter with a given scaling.
     *
     * @param file the adapter's safetensors file
     * @param spec the layer
     * @param layer the decoder layer index L
     * @param scaling the factor on every low-rank product
     * @param arena owner of the adapter's memory
     * @return the adapter
     * @throws SafetensorsException naming the file and the missing or misshapen tensor
     */
    public static LoraAdapter read(Path file, MoeLayerSpec spec, int layer, double scaling, Arena arena) {
        try (Arena mapping = Arena.ofConfined()) {
            SafetensorsFile f = SafetensorsFile.open(file, mapping);
            return read(f, spec, layer, scaling, arena);
        }
    }

    /**
     * The name of one factor in the first naming family.
     *
     * @param layer L
     * @param expert global expert index
     * @param proj {@code gate_proj}, {@code up_proj} or {@code down_proj}
     * @param factor {@code A} or {@code B}
     * @return the tensor name
     */
    public static String name(int layer, int expert, String proj, String factor) {
        return PREFIX + layer + "." + FAMILIES[0][0] + expert + "." + proj + ".lora_" + factor + ".weight";
    }

    private static String[] family(SafetensorsFile f, MoeLayerSpec spec, int layer) {
        int g0 = spec.expertParallelRank() * spec.localExperts();
        for (String[] fam : FAMILIES) {
            if (f.info(PREFIX + layer + "." + fam[0] + g0 + "." + fam[1] + ".lora_A.weight").isPresent()) {
                return fam;
            }
        }
        throw new SafetensorsException(f.path(), name(layer, g0, "gate_proj", "A"),
                "no LoRA factors of layer " + layer + " expert " + g0 + " (looked for PEFT names ...mlp.experts."
                        + g0 + ".gate_proj.lora_A.weight and ...block_sparse_moe.experts." + g0 + ".w1.lora_A.weight)");
    }

    private static int rankOf(SafetensorsFile f, MoeLayerSpec spec, int layer) {
        String[] fam = family(f, spec, layer);
        int g0 = spec.expertParallelRank() * spec.localExperts();
        String n = PREFIX + layer + "." + fam[0] + g0 + "." + fam[1] + ".lora_A.weight";
        long[] shape = f.info(n).orElseThrow().shape();
        if (shape.length != 2) {
            throw new SafetensorsException(f.path(), n, "lora_A must be 2-D [r, in] but is " + java.util.Arrays.toString(shape));
        }
        return Math.toIntExact(shape[0]);
    }

    private static LoraAdapter read(SafetensorsFile f, MoeLayerSpec spec, int layer, double scaling, Arena arena) {
        String[] fam = family(f, spec, layer);
        int r = rankOf(f, spec, layer);
        int el = spec.localExperts();
        int g0 = spec.expertParallelRank() * el;
        long h = spec.hiddenSize();
        long i = spec.intermediateSize();
        List<HostTensor> out = new java.util.ArrayList<>();
        long[][] shapes = {{r, h}, {i, r}, {r, h}, {i, r}, {r, i}, {h, r}};
        for (int k = 0; k < 6; k++) {
            String proj = fam[1 + k / 2];
            String factor = k % 2 == 0 ? "A" : "B";
            long per = shapes[k][0] * shapes[k][1];
            HostTensor dst = HostTensor.allocate(arena, DType.BF16, el, shapes[k][0], shapes[k][1]);
            for (int e = 0; e < el; e++) {
                String n = PREFIX + layer + "." + fam[0] + (g0 + e) + "." + proj + ".lora_" + factor + ".weight";
                HostTensor src = f.info(n).isPresent() ? f.tensor(n) : null;
                if (src == null) {
                    throw new SafetensorsException(f.path(), n, "missing: a LoRA adapter of this layer needs the "
                            + "gate, up and down factors of every expert");
                }
                if (!java.util.Arrays.equals(src.shape(), shapes[k])) {
                    throw new SafetensorsException(f.path(), n, "shape " + src.shapeString() + " but the layer ("
                            + spec.describe() + ") needs " + java.util.Arrays.toString(shapes[k]));
                }
                copy(f, n, src, dst, e * per, per);
            }
            out.add(dst);
        }
        String label = f.path().toAbsolutePath().getParent().getFileName() + "#layer" + layer;
        return new LoraAdapter(label, r, scaling, out.get(0), out.get(1), out.get(2), out.get(3), out.get(4), out.get(5));
    }

    private static void copy(SafetensorsFile f, String name, HostTensor src, HostTensor dst, long at, long n) {
        switch (src.dtype()) {
            case BF16 -> java.lang.foreign.MemorySegment.copy(src.data(), 0, dst.data(), at * 2, n * 2);
            case F32 -> {
                for (long j = 0; j < n; j++) {
                    dst.data().setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, at + j,
                            Bf16.fromFloat(src.data().getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, j)));
                }
            }
            default -> throw new SafetensorsException(f.path(), name, "dtype " + src.dtype()
                    + "; LoRA factors must be BF16 or F32");
        }
    }
}
