package io.moeoracle.core.weights;

import io.moeoracle.api.error.BadInputException;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.spec.WeightFormat;
import io.moeoracle.api.tensor.DType;
import io.moeoracle.api.tensor.HostTensor;
import io.moeoracle.api.tensor.MoeWeights;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads one gpt-oss MoE layer from a checkpoint into canonical {@link MoeWeights}, under either
 * naming:
 * <ul>
 *   <li>Hugging Face: {@code model.layers.N.mlp.experts.{gate_up_proj,down_proj}_{blocks,scales,bias}},
 *       {@code model.layers.N.mlp.router.{weight,bias}} (and, for BF16 checkpoints,
 *       {@code ...experts.gate_up_proj [E, H, 2I]} / {@code down_proj [E, I, H]}, transposed on load);</li>
 *   <li>the original release: {@code block.N.mlp.{mlp1,mlp2}_weight.{blocks,scales}},
 *       {@code block.N.mlp.{mlp1,mlp2}_bias}, {@code block.N.mlp.gate.{weight,bias}}.</li>
 * </ul>
 * MXFP4 blocks may be 4-D ({@code [E, rows, cols/32, 16]}) or 3-D. MXFP4 tensors are views of the
 * mapping (no copy); with expert parallelism only this rank's experts are sliced out. Every
 * mismatch with the spec is a {@link SafetensorsException} naming the tensor.
 */
public final class GptOssLayerLoader {

    /** The two checkpoint namings. */
    public enum Naming {
        /** {@code model.layers.N.mlp.experts.*}. */
        HUGGING_FACE,
        /** {@code block.N.mlp.*}. */
        ORIGINAL
    }

    /**
     * One loaded layer. A checkpoint may hold the experts without the router (a host that routes
     * with its own router, or supplies top-k ids and weights, needs none); {@link #router()} then
     * fails naming the tensor that is missing.
     *
     * @param weights canonical weights of this rank's experts
     * @param routerWeight {@code [E, H]} router weight (all experts, every rank routes), when present
     * @param routerBias {@code [E]} router bias, when present
     * @param naming the naming found
     * @param routerName the router weight's tensor name under this naming (present or not)
     * @param source the checkpoint's file or folder holding (or that would hold) the router
     */
    public record Layer(MoeWeights weights, Optional<HostTensor> routerWeight, Optional<HostTensor> routerBias,
                        Naming naming, String routerName, Path source) {

        /** @return whether the checkpoint holds this layer's router */
        public boolean hasRouter() {
            return routerWeight.isPresent();
        }

        /**
         * The router weight, for computing routing logits from this checkpoint.
         *
         * @return the {@code [E, H]} router weight
         * @throws SafetensorsException naming the missing tensor, when the checkpoint has no router
         */
        public HostTensor router() {
            return routerWeight.orElseThrow(() -> new SafetensorsException(source, routerName,
                    "missing from the checkpoint, so routing cannot be computed from it; supply routing instead "
                            + "(Routing.topK with expert ids and weights, or Routing.logits from your own router)"));
        }
    }

    private GptOssLayerLoader() {
    }

    /**
     * Which naming the source uses for a layer, if any.
     *
     * @param src the checkpoint
     * @param layer the layer index
     * @return the naming, or empty when neither has this layer
     */
    public static Optional<Naming> naming(TensorSource src, int layer) {
        if (src.contains(hf(layer, "experts.gate_up_proj_blocks")) || src.contains(hf(layer, "experts.gate_up_proj"))) {
            return Optional.of(Naming.HUGGING_FACE);
        }
        if (src.contains(orig(layer, "mlp1_weight.blocks")) || src.contains(orig(layer, "mlp1_weight"))) {
            return Optional.of(Naming.ORIGINAL);
        }
        return Optional.empty();
    }

    /**
     * @param src a checkpoint
     * @return the layer indices holding MoE experts under either naming, ascending
     */
    public static List<Integer> layers(TensorSource src) {
        Pattern p = Pattern.compile("^(?:model\\.layers\\.(\\d+)\\.mlp\\.experts\\.gate_up_proj(?:_blocks)?"
                + "|block\\.(\\d+)\\.mlp\\.mlp1_weight(?:\\.blocks)?)$");
        TreeSet<Integer> out = new TreeSet<>();
        for (String n : src.names()) {
            Matcher m = p.matcher(n);
            if (m.matches()) {
                out.add(Integer.parseInt(m.group(1) != null ? m.group(1) : m.group(2)));
            }
        }
        return List.copyOf(out);
    }

    /**
     * Opens a checkpoint (a folder, an index file or a {@code .safetensors} file, mapped into
     * {@code arena}) and loads one layer from it.
     *
     * @param checkpoint the checkpoint path (see {@link SafetensorsCheckpoint#open(Path, Arena)})
     * @param layer the layer index
     * @param spec the layer spec
     * @param arena owns the mappings and any converted copies
     * @return weights and router
     * @throws SafetensorsException naming the file and tensor on any problem
     */
    public static Layer load(Path checkpoint, int layer, MoeLayerSpec spec, Arena arena) {
        return load(SafetensorsCheckpoint.open(checkpoint, arena), spec, layer, arena);
    }

    /**
     * Loads layer {@code layer} for {@code spec}.
     *
     * @param src the checkpoint
     * @param spec the layer spec (sizes, MXFP4 or BF16, bias, expert parallelism)
     * @param layer the layer index
     * @param arena receives copies when a layout must be converted (BF16 transposes); MXFP4 needs none
     * @return weights and router
     * @throws SafetensorsException naming the tensor on any mismatch, or the layer when it is absent
     */
    public static Layer load(TensorSource src, MoeLayerSpec spec, int layer, Arena arena) {
        Naming naming = naming(src, layer).orElseThrow(() -> new SafetensorsException(src.fileOf(""), null,
                "no gpt-oss MoE layer " + layer + ": neither '" + hf(layer, "experts.gate_up_proj_blocks") + "' nor '"
                        + orig(layer, "mlp1_weight.blocks") + "' exists; layers present: " + layers(src)));
        long e = spec.experts();
        long h = spec.hiddenSize();
        long i = spec.intermediateSize();
        Names n = naming == Naming.HUGGING_FACE ? Names.hf(layer) : Names.orig(layer);
        WeightFormat.Kind kind = spec.quant().weights().kind();
        HostTensor w13;
        HostTensor w2;
        Optional<HostTensor> s13 = Optional.empty();
        Optional<HostTensor> s2 = Optional.empty();
        switch (kind) {
            case MXFP4 -> {
                w13 = blocks(src, n.w13Blocks, e, 2 * i, h);
                w2 = blocks(src, n.w2Blocks, e, h, i);
                s13 = Optional.of(scales(src, n.w13Scales, e, 2 * i, h / 32));
                s2 = Optional.of(scales(src, n.w2Scales, e, h, i / 32));
            }
            case BF16 -> {
                if (src.contains(n.w13Blocks)) {
                    throw new SafetensorsException(src.fileOf(n.w13Blocks), n.w13Blocks, "the checkpoint is MXFP4 "
                            + "but the spec asks for BF16 weights; use --quant mxfp4 (or a BF16 checkpoint)");
                }
                if (naming != Naming.HUGGING_FACE) {
                    throw new SafetensorsException(src.fileOf(n.w13Blocks), n.w13Blocks,
                            "BF16 weights are read from Hugging Face naming only");
                }
                w13 = transposed(src, hf(layer, "experts.gate_up_proj"), e, h, 2 * i, arena);
                w2 = transposed(src, hf(layer, "experts.down_proj"), e, i, h, arena);
            }
            default -> throw new SafetensorsException(src.fileOf(n.w13Blocks), n.w13Blocks,
                    "gpt-oss checkpoints hold MXFP4 or BF16 experts; the spec asks for " + spec.quant().weights());
        }
        Optional<HostTensor> b13 = Optional.empty();
        Optional<HostTensor> b2 = Optional.empty();
        if (spec.hasBias()) {
            b13 = Optional.of(bias(src, n.w13Bias, e, 2 * i));
            b2 = Optional.of(bias(src, n.w2Bias, e, h));
        }
        Optional<HostTensor> router = src.contains(n.routerWeight) ? Optional.of(float2d(src, n.routerWeight, e, h))
                : Optional.empty();
        Optional<HostTensor> routerBias = src.contains(n.routerBias) ? Optional.of(bias(src, n.routerBias, e))
                : Optional.empty();
        if (router.isEmpty() && routerBias.isPresent()) {
            throw new SafetensorsException(src.fileOf(n.routerBias), n.routerBias, "is present but the router weight '"
                    + n.routerWeight + "' is missing; a checkpoint holds both or neither");
        }
        int ep = spec.expertParallelSize();
        if (ep > 1) {
            int rank = spec.expertParallelRank();
            w13 = slice(w13, ep, rank);
            w2 = slice(w2, ep, rank);
            s13 = s13.map(t -> slice(t, ep, rank));
            s2 = s2.map(t -> slice(t, ep, rank));
            b13 = b13.map(t -> slice(t, ep, rank));
            b2 = b2.map(t -> slice(t, ep, rank));
        }
        MoeWeights w = new MoeWeights(w13, s13, b13, w2, s2, b2);
        try {
            w.validate(spec);
        } catch (BadInputException ex) {
            throw new SafetensorsException(src.fileOf(n.w13Blocks), n.w13Blocks, "layer " + layer
                    + " does not match the spec: " + ex.getMessage(), ex);
        }
        return new Layer(w, router, routerBias, naming, n.routerWeight, src.fileOf(n.routerWeight));
    }

    private record Names(String w13Blocks, String w13Scales, String w13Bias, String w2Blocks, String w2Scales,
                         String w2Bias, String routerWeight, String routerBias) {
        static Names hf(int l) {
            return new Names(GptOssLayerLoader.hf(l, "experts.gate_up_proj_blocks"),
                    GptOssLayerLoader.hf(l, "experts.gate_up_proj_scales"), GptOssLayerLoader.hf(l, "experts.gate_up_proj_bias"),
                    GptOssLayerLoader.hf(l, "experts.down_proj_blocks"), GptOssLayerLoader.hf(l, "experts.down_proj_scales"),
                    GptOssLayerLoader.hf(l, "experts.down_proj_bias"), GptOssLayerLoader.hf(l, "router.weight"),
                    GptOssLayerLoader.hf(l, "router.bias"));
        }

        static Names orig(int l) {
            return new Names(GptOssLayerLoader.orig(l, "mlp1_weight.blocks"), GptOssLayerLoader.orig(l, "mlp1_weight.scales"),
                    GptOssLayerLoader.orig(l, "mlp1_bias"), GptOssLayerLoader.orig(l, "mlp2_weight.blocks"),
                    GptOssLayerLoader.orig(l, "mlp2_weight.scales"), GptOssLayerLoader.orig(l, "mlp2_bias"),
                    GptOssLayerLoader.orig(l, "gate.weight"), GptOssLayerLoader.orig(l, "gate.bias"));
        }
    }

    private static String hf(int layer, String suffix) {
        return "model.layers." + layer + ".mlp." + suffix;
    }

    private static String orig(int layer, String suffix) {
        return "block." + layer + ".mlp." + suffix;
    }

    private static HostTensor get(TensorSource src, String name) {
        if (!src.contains(name)) {
            throw new SafetensorsException(src.fileOf(name), name, "missing from the checkpoint");
        }
        return src.tensor(name);
    }

    private static SafetensorsException mismatch(TensorSource src, String name, HostTensor t, String expected) {
        return new SafetensorsException(src.fileOf(name), name, "is " + t.dtype() + " " + t.shapeString()
                + " but the spec needs " + expected);
    }

    /** MXFP4 blocks, 3-D {@code [E, rows, cols/2]} or 4-D {@code [E, rows, cols/32, 16]}, as 3-D. */
    private static HostTensor blocks(TensorSource src, String name, long e, long rows, long cols) {
        HostTensor t = get(src, name);
        long[] s3 = {e, rows, cols / 2};
        long[] s4 = {e, rows, cols / 32, 16};
        if (t.dtype() != DType.U8 || !(Arrays.equals(t.shape(), s3) || Arrays.equals(t.shape(), s4))) {
            throw mismatch(src, name, t, "U8 " + Arrays.toString(s4) + " or " + Arrays.toString(s3));
        }
        return t.reshape(s3);
    }

    private static HostTensor expect(TensorSource src, String name, DType dtype, long... shape) {
        HostTensor t = get(src, name);
        if (t.dtype() != dtype || !Arrays.equals(t.shape(), shape)) {
            throw mismatch(src, name, t, dtype + " " + Arrays.toString(shape));
        }
        return t;
    }

    /** The scales a spec's scale format allows: E8M0 exponents, stored as {@code U8} or {@code F8_E8M0}. */
    private static final Set<String> SCALE_DTYPES = Set.of("U8", "F8_E8M0");

    /**
     * E8M0 scales. A file dtype other than U8 or F8_E8M0 (e.g. F8_E4M3, also read as bytes) is
     * refused: its bytes are not exponents, and reading them as such gives silently wrong results.
     */
    private static HostTensor scales(TensorSource src, String name, long... shape) {
        HostTensor t = get(src, name);
        String stored = src.fileDtype(name);
        if (!SCALE_DTYPES.contains(stored)) {
            throw new SafetensorsException(src.fileOf(name), name, "scales are " + stored + " but MXFP4 scales must be "
                    + "U8 or F8_E8M0 (power-of-two exponents); this checkpoint uses another scale format");
        }
        if (!Arrays.equals(t.shape(), shape)) {
            throw mismatch(src, name, t, stored + " " + Arrays.toString(shape));
        }
        return t;
    }

    private static HostTensor bias(TensorSource src, String name, long... shape) {
        HostTensor t = get(src, name);
        if ((t.dtype() != DType.BF16 && t.dtype() != DType.F32) || !Arrays.equals(t.shape(), shape)) {
            throw mismatch(src, name, t, "BF16 or F32 " + Arrays.toString(shape));
        }
        return t;
    }

    private static HostTensor float2d(TensorSource src, String name, long rows, long cols) {
        return bias(src, name, rows, cols);
    }

    /** Reads {@code [E, a, b]} BF16 and returns a copy laid out {@code [E, b, a]}. */
    private static HostTensor transposed(TensorSource src, String name, long e, long a, long b, Arena arena) {
        HostTensor t = expect(src, name, DType.BF16, e, a, b);
        HostTensor out = HostTensor.allocate(arena, DType.BF16, e, b, a);
        MemorySegment in = t.data();
        MemorySegment o = out.data();
        for (long x = 0; x < e; x++) {
            long base = x * a * b;
            for (long r = 0; r < a; r++) {
                for (long c = 0; c < b; c++) {
                    o.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, base + c * a + r,
                            in.getAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, base + r * b + c));
                }
            }
        }
        return out;
    }

    private static HostTensor slice(HostTensor t, int parts, int rank) {
        long[] s = t.shape();
        long bytes = t.byteSize() / parts;
        s[0] /= parts;
        MemorySegment part = t.data().asSlice(rank * bytes, bytes);
        return t.backing().map(b -> HostTensor.mapped(part, t.dtype(), b, s)).orElseGet(() -> HostTensor.of(part, t.dtype(), s));
    }
}
