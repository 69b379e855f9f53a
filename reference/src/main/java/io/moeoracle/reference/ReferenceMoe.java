package io.moeoracle.reference;

import io.moeoracle.api.error.BadInputException;
import io.moeoracle.api.quant.Mxfp8;
import io.moeoracle.api.spec.Activation;
import io.moeoracle.api.spec.ActivationType;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.tensor.ForwardArgs;
import io.moeoracle.api.tensor.HostTensor;
import io.moeoracle.api.tensor.MoeWeights;
import io.moeoracle.api.tensor.Routing;
import io.moeoracle.api.tensor.Tensor;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Optional;
import java.util.concurrent.ForkJoinPool;
import java.util.stream.IntStream;

// over 400 lines: the layer's per-call work stays in one place with the math the class comment states
/**
 * The pure-Java float64 reference of one MoE layer in the canonical layout: the ground truth
 * every backend is compared with. Slow by design (scalar float64), but parallel over experts.
 *
 * <p>Per token t and chosen expert e with weight w (from the routing):
 * {@code h = W13[e] x_t + b13[e]} (rows interleaved: even gate, odd up),
 * {@code a_c = act(h[2c], h[2c+1])}, {@code y = W2[e] a + b2[e]}, {@code out_t += w * y}.
 * Everything is computed in double from the exactly decoded weights; the output is rounded once
 * to its dtype.
 *
 * <ul>
 *   <li>Routing: logits go through {@link TopKRouting} (top-k, ties to the lower id, softmax over
 *       the k); precomputed top-k ids and weights are used as given.</li>
 *   <li>Expert parallelism: this rank holds experts {@code [rank*El, (rank+1)*El)}; a token's
 *       choice of any other expert contributes nothing here (another rank adds it), so a token
 *       routed only to remote experts gets an output of zero.</li>
 *   <li>Quantized activations are emulated: with {@link ActivationType#MXFP8} the input of each
 *       GEMM (the hidden state, then the intermediate) is quantized to MXFP8 per 32 values along
 *       the reduction dimension and dequantized before the product; with
 *       {@link ActivationType#FP8_PER_TOKEN}, to E4M3 with one float scale {@code amax/448} per
 *       token row.</li>
 *   <li>LoRA ({@link LoraInput}): for a token with adapter index {@code a >= 0}, each chosen
 *       expert's gate/up pre-activation gets {@code scaling * B (A x)} of adapter {@code a}'s gate and
 *       up factors (added after the bias, before the activation), and its output
 *       {@code scaling * downB (downA act)} (before the routing weight); {@code x} and {@code act}
 *       are the GEMM inputs as the base GEMMs see them (quantized when the activations are).</li>
 *   <li>A NaN scale (E8M0 0xFF) decodes to NaN weights, which propagate: exactly the output rows
 *       of tokens routed to the affected expert become NaN (all of the row for a w13 scale, one
 *       column for a w2 scale).</li>
 * </ul>
 */
public final class ReferenceMoe {
    /** Doubles of per-assignment results held at once; larger calls are processed in token chunks. */
    private static final long CHUNK_BUDGET = 16L << 20;
    /** Bytes of expert weights staged on the heap at once. */
    private static final long STAGE_BUDGET_BYTES = 512L << 20;
    /** Output rows per inner strip of the GEMM (2 KiB of doubles). */
    private static final int ROW_STRIP = 256;

    private ReferenceMoe() {
    }

    /**
     * Runs the layer.
     *
     * @param spec the layer (standard activation format; MXFP4 or BF16 weights)
     * @param w canonical weights of this rank's experts
     * @param hidden {@code [T, H]} F32 or BF16
     * @param routing logits {@code [T, E]} or top-k {@code [T, k]}, host tensors
     * @param out {@code [T, H]} F32 or BF16; every element is written
     * @throws BadInputException on any shape, dtype or id mismatch, before computing
     */
    public static void forward(MoeLayerSpec spec, MoeWeights w, HostTensor hidden, Routing routing, HostTensor out) {
        forward(spec, w, hidden, routing, out, Mxfp8.ScaleRule.OCP_FLOOR);
    }

    /**
     * As {@link #forward(MoeLayerSpec, MoeWeights, HostTensor, Routing, HostTensor)}, choosing how
     * emulated MXFP8 activations pick their block scale: the OCP rule (the default, which may
     * saturate a block's maximum) or rounded up (no saturation, as some kernels do). Matters only
     * for {@link ActivationType#MXFP8}.
     *
     * @param spec the layer
     * @param w canonical weights of this rank's experts
     * @param hidden {@code [T, H]} F32 or BF16
     * @param routing logits or top-k, host tensors
     * @param out {@code [T, H]} F32 or BF16; every element is written
     * @param mxfp8Scales the MXFP8 scale rule
     */
    public static void forward(MoeLayerSpec spec, MoeWeights w, HostTensor hidden, Routing routing, HostTensor out,
                               Mxfp8.ScaleRule mxfp8Scales) {
        ForwardArgs.check(spec, hidden, routing, out);
        run(spec, w, hidden, routing, (i, v) -> Elements.set(out, i, v), mxfp8Scales, Optional.empty());
    }

    /**
     * Runs the layer with LoRA adapters (see the class comment).
     *
     * @param spec the layer, with {@code lora} on
     * @param w canonical weights of this rank's experts
     * @param hidden {@code [T, H]} F32 or BF16
     * @param routing logits or top-k, host tensors
     * @param lora the resident adapters and the per-token indices
     * @param out {@code [T, H]} F32 or BF16; every element is written
     * @throws BadInputException on any mismatch, an adapter that does not fit the spec, or an index
     *     naming no given adapter; before computing
     */
    public static void forward(MoeLayerSpec spec, MoeWeights w, HostTensor hidden, Routing routing, LoraInput lora,
                               HostTensor out) {
        ForwardArgs.check(spec, hidden, routing, out);
        run(spec, w, hidden, routing, (i, v) -> Elements.set(out, i, v), Mxfp8.ScaleRule.OCP_FLOOR, Optional.of(lora));
    }

    /**
     * As {@link #forward(MoeLayerSpec, MoeWeights, HostTensor, Routing, LoraInput, HostTensor)},
     * returning the float64 output {@code [T * H]} unrounded.
     *
     * @param spec the layer, with {@code lora} on
     * @param w canonical weights of this rank's experts
     * @param hidden {@code [T, H]} F32 or BF16
     * @param routing logits or top-k, host tensors
     * @param lora the resident adapters and the per-token indices
     * @return the output, {@code T * H} doubles
     */
    public static double[] forward(MoeLayerSpec spec, MoeWeights w, HostTensor hidden, Routing routing,
                                   LoraInput lora) {
        int tokens = ForwardArgs.check(spec, hidden, routing, hidden);
        double[] out = new double[Math.multiplyExact(tokens, spec.hiddenSize())];
        run(spec, w, hidden, routing, (i, v) -> out[(int) i] = v, Mxfp8.ScaleRule.OCP_FLOOR, Optional.of(lora));
        return out;
    }

    /**
     * Runs the layer and returns the output unrounded, as float64 {@code [T * H]} row-major: for
     * comparisons where even F32 would round or overflow (e.g. E8M0 scale 254).
     *
     * @param spec the layer (standard activation format; MXFP4 or BF16 weights)
     * @param w canonical weights of this rank's experts
     * @param hidden {@code [T, H]} F32 or BF16
     * @param routing logits {@code [T, E]} or top-k {@code [T, k]}, host tensors
     * @return the output, {@code T * H} doubles
     * @throws BadInputException on any shape, dtype or id mismatch, before computing
     */
    public static double[] forward(MoeLayerSpec spec, MoeWeights w, HostTensor hidden, Routing routing) {
        int tokens = ForwardArgs.check(spec, hidden, routing, hidden);
        double[] out = new double[Math.multiplyExact(tokens, spec.hiddenSize())];
        run(spec, w, hidden, routing, (i, v) -> out[(int) i] = v, Mxfp8.ScaleRule.OCP_FLOOR, Optional.empty());
        return out;
    }

    /** Where outputs go. */
    private interface Sink {
        void set(long index, double value);
    }

    private static void run(MoeLayerSpec spec, MoeWeights w, HostTensor hidden, Routing routing, Sink out,
                            Mxfp8.ScaleRule mxfp8Scales, Optional<LoraInput> lora) {
        int tokens = Math.toIntExact(hidden.dim(0));
        w.validate(spec);
        int[] tokenAdapter = lora.isPresent() ? lora.get().validate(spec, tokens) : null;
        TopKRouting.Selection sel = switch (routing) {
            case Routing.Logits l -> TopKRouting.select(host(l.logits(), "router logits"), spec.topK());
            case Routing.TopK k -> {
                ForwardArgs.checkIds(spec, new Routing.TopK(host(k.ids(), "top-k ids"), k.weights()));
                yield readTopK(tokens, spec.topK(), host(k.ids(), "top-k ids"), host(k.weights(), "top-k weights"));
            }
        };
        Layer layer = new Layer(spec, w, mxfp8Scales, lora.map(LoraInput::adapters).orElse(java.util.Map.of()),
                tokenAdapter);
        int h = spec.hiddenSize();
        int chunk = (int) Math.max(1, Math.min(tokens, CHUNK_BUDGET / ((long) h * (spec.topK() + 1))));
        for (int t0 = 0; t0 < tokens; t0 += chunk) {
            layer.run(sel, hidden, out, t0, Math.min(tokens, t0 + chunk));
        }
    }

    private static HostTensor host(Tensor t, String what) {
        if (t instanceof HostTensor ht) {
            return ht;
        }
        throw new BadInputException(what + " are on device " + t + "; the reference reads host tensors only");
    }

    private static TopKRouting.Selection readTopK(int tokens, int k, HostTensor ids, HostTensor weights) {
        int[] i = new int[tokens * k];
        double[] wt = new double[tokens * k];
        for (int j = 0; j < i.length; j++) {
            i[j] = ids.data().getAtIndex(ValueLayout.JAVA_INT_UNALIGNED, j);
            wt[j] = weights.data().getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, j);
        }
        return new TopKRouting.Selection(tokens, k, i, wt);
    }

    /** One layer's decoded view and the per-call work. */
    private static final class Layer {
        private final MoeLayerSpec spec;
        private final int h;
        private final int inter;
        private final int localExperts;
        private final int firstExpert;
        private final ExpertRows w13;
        private final ExpertRows w2;
        private final Optional<HostTensor> b13;
        private final Optional<HostTensor> b2;
        private final ActivationType actType;
        private final Mxfp8.ScaleRule mxfp8Scales;
        private final java.util.Map<Integer, io.moeoracle.api.tensor.LoraAdapter> adapters;
        private final int[] tokenAdapter; // null: no LoRA in this call

        Layer(MoeLayerSpec spec, MoeWeights w, Mxfp8.ScaleRule mxfp8Scales,
              java.util.Map<Integer, io.moeoracle.api.tensor.LoraAdapter> adapters, int[] tokenAdapter) {
            this.spec = spec;
            this.adapters = adapters;
            this.tokenAdapter = tokenAdapter;
            this.mxfp8Scales = java.util.Objects.requireNonNull(mxfp8Scales, "mxfp8Scales");
            this.h = spec.hiddenSize();
            this.inter = spec.intermediateSize();
            this.localExperts = spec.localExperts();
            this.firstExpert = spec.expertParallelRank() * localExperts;
            this.w13 = new ExpertRows(spec.quant().weights(), w.w13(), w.w13Scales(), 2 * inter, h);
            this.w2 = new ExpertRows(spec.quant().weights(), w.w2(), w.w2Scales(), h, inter);
            this.b13 = w.w13Bias();
            this.b2 = w.w2Bias();
            this.actType = spec.quant().activations();
        }

        void run(TopKRouting.Selection sel, HostTensor hidden, Sink out, int t0, int t1) {
            int k = sel.k();
            int n = t1 - t0;
            // assignments of this chunk grouped by local expert: counting sort keeps token order
            int[] count = new int[localExperts + 1];
            for (int t = t0; t < t1; t++) {
                for (int j = 0; j < k; j++) {
                    int local = sel.id(t, j) - firstExpert;
                    if (local >= 0 && local < localExperts) {
                        count[local + 1]++;
                    }
                }
            }
            for (int e = 0; e < localExperts; e++) {
                count[e + 1] += count[e];
            }
            int total = count[localExperts];
            int[] slotOf = new int[total]; // (t - t0) * k + j
            int[] fill = count.clone();
            for (int t = t0; t < t1; t++) {
                for (int j = 0; j < k; j++) {
                    int local = sel.id(t, j) - firstExpert;
                    if (local >= 0 && local < localExperts) {
                        slotOf[fill[local]++] = (t - t0) * k + j;
                    }
                }
            }
            double[] x = new double[n * h];
            for (int t = t0; t < t1; t++) {
                Elements.read(hidden, (long) t * h, x, (t - t0) * h, h);
                quantizeActivations(x, (t - t0) * h, h);
            }
            double[][] y = new double[n * k][];
            int[] touched = IntStream.range(0, localExperts).filter(e -> count[e + 1] > count[e]).toArray();
            // experts are staged to the heap by this thread (the weights may be confined to it),
            // a batch at a time so memory stays bounded, then computed in parallel
            long perExpert = w13.stagedBytes() + w2.stagedBytes();
            int batch = (int) Math.max(1, Math.min(Math.max(2, ForkJoinPool.getCommonPoolParallelism()),
                    STAGE_BUDGET_BYTES / perExpert));
            for (int b0 = 0; b0 < touched.length; b0 += batch) {
                int b1 = Math.min(touched.length, b0 + batch);
                Staged[] staged = new Staged[b1 - b0];
                for (int q = b0; q < b1; q++) {
                    int e = touched[q];
                    staged[q - b0] = new Staged(e, w13.stage(e), w2.stage(e), bias(b13, e, 2 * inter), bias(b2, e, h),
                            loraTerms(e, slotOf, count[e], count[e + 1], k, t0));
                }
                Arrays.stream(staged).parallel()
                        .forEach(st -> expert(st, slotOf, count[st.expert], count[st.expert + 1], k, x, y, t0));
            }
            double[] acc = new double[h];
            for (int i = 0; i < n; i++) {
                Arrays.fill(acc, 0.0);
                for (int j = 0; j < k; j++) {
                    double[] yy = y[i * k + j];
                    if (yy != null) {
                        double wt = sel.weight(t0 + i, j);
                        for (int c = 0; c < h; c++) {
                            acc[c] += wt * yy[c];
                        }
                    }
                }
                long base = (long) (t0 + i) * h;
                for (int c = 0; c < h; c++) {
                    out.set(base + c, acc[c]);
                }
            }
        }

        /** Emulates the activation quantization of the GEMM input, in place. */
        private void quantizeActivations(double[] v, int off, int len) {
            switch (actType) {
                case MXFP8 -> Mxfp8.quantizeDequantize(v, off, len, mxfp8Scales);
                case FP8_PER_TOKEN -> {
                    double amax = 0;
                    for (int c = 0; c < len; c++) {
                        amax = Math.max(amax, Math.abs(v[off + c]));
                    }
                    if (Double.isNaN(amax) || amax == 0) {
                        return;
                    }
                    double scale = (float) (amax / Mxfp8.MAX);
                    for (int c = 0; c < len; c++) {
                        v[off + c] = Mxfp8.decode(Mxfp8.encodeElement(v[off + c] / scale)) * scale;
                    }
                }
                default -> {
                }
            }
        }

        /** The adapters this expert's tokens use, by slot (null where unused), decoded on this thread. */
        private LoraTerms[] loraTerms(int e, int[] slotOf, int from, int to, int k, int t0) {
            if (tokenAdapter == null) {
                return null;
            }
            LoraTerms[] terms = new LoraTerms[spec.adapterSlots()];
            for (int a = from; a < to; a++) {
                int ad = tokenAdapter[t0 + slotOf[a] / k];
                if (ad >= 0 && terms[ad] == null) {
                    terms[ad] = new LoraTerms(adapters.get(ad), e, h, inter);
                }
            }
            return terms;
        }

        private LoraTerms terms(Staged st, int row, int t0) {
            if (st.lora == null) {
                return null;
            }
            int ad = tokenAdapter[t0 + row];
            return ad >= 0 ? st.lora[ad] : null;
        }

        private void expert(Staged st, int[] slotOf, int from, int to, int k, double[] x, double[][] y, int t0) {
            int n = to - from;
            int[] rowsOfX = new int[n];
            for (int a = 0; a < n; a++) {
                rowsOfX[a] = slotOf[from + a] / k;
            }
            // GEMM 1: g[n, 2I] = x[n, H] W13^T + b13
            double[][] xs = new double[n][];
            for (int a = 0; a < n; a++) {
                xs[a] = Arrays.copyOfRange(x, rowsOfX[a] * h, rowsOfX[a] * h + h);
            }
            double[][] g = new double[n][2 * inter];
            gemm(st.w13, 2 * inter, h, xs, g);
            addBias(g, st.bias13);
            for (int a = 0; a < n; a++) {
                LoraTerms lt = terms(st, rowsOfX[a], t0);
                if (lt != null) {
                    lt.addW13(xs[a], g[a]);
                }
            }
            // activation, then GEMM 2: out[n, H] = act[n, I] W2^T + b2
            double[][] act = new double[n][inter];
            for (int a = 0; a < n; a++) {
                for (int c = 0; c < inter; c++) {
                    act[a][c] = activate(g[a][2 * c], g[a][2 * c + 1]);
                }
                quantizeActivations(act[a], 0, inter);
            }
            double[][] out = new double[n][h];
            gemm(st.w2, h, inter, act, out);
            addBias(out, st.bias2);
            for (int a = 0; a < n; a++) {
                LoraTerms lt = terms(st, rowsOfX[a], t0);
                if (lt != null) {
                    lt.addW2(act[a], out[a]);
                }
            }
            for (int a = 0; a < n; a++) {
                y[slotOf[from + a]] = out[a]; // distinct slots per expert: no two threads write one
            }
        }

        private double activate(double gate, double up) {
            return switch (spec.activation()) {
                case Activation.SwigluOai(double alpha, double limit) -> {
                    double gg = Math.min(gate, limit);
                    double uu = Math.max(-limit, Math.min(up, limit));
                    yield gg * sigmoid(alpha * gg) * (uu + 1);
                }
                case Activation.Silu s -> gate * sigmoid(gate) * up;
                case Activation.Gelu gl -> gelu(gate) * up;
            };
        }

        /** One expert's weights and biases copied to the heap. */
        private record Staged(int expert, ExpertRows.Staged w13, ExpertRows.Staged w2, double[] bias13, double[] bias2,
                              LoraTerms[] lora) {
        }

        private static double[] bias(Optional<HostTensor> b, int e, int len) {
            if (b.isEmpty()) {
                return null;
            }
            double[] v = new double[len];
            Elements.read(b.get(), (long) e * len, v, 0, len);
            return v;
        }
    }

    static double sigmoid(double x) {
        return 1.0 / (1.0 + Math.exp(-x));
    }

    /** GELU, tanh approximation: {@code 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))}. */
    static double gelu(double x) {
        return 0.5 * x * (1.0 + Math.tanh(Math.sqrt(2.0 / Math.PI) * (x + 0.044715 * x * x * x)));
    }

    /**
     * {@code out[a][r] = sum_c in[a][c] W[r, c]} for a weight matrix {@code [rows, cols]}: the
     * weights are decoded 32 columns at a time, transposed, so the inner loop is an axpy over a
     * strip of rows that the JIT vectorizes (same index into two arrays: no aliasing doubt).
     */
    private static void gemm(ExpertRows.Staged w, int rows, int cols, double[][] in, double[][] out) {
        int t = ExpertRows.TILE;
        double[][] tile = new double[t][rows];
        // the last tile may be partial: BF16 weights allow any width (MXFP4 widths are multiples of 32)
        for (int cb = 0; cb * t < cols; cb++) {
            int width = Math.min(t, cols - cb * t);
            w.decodeTile(cb, tile);
            // a strip of output rows stays in L1 while the 32 columns of the tile stream past it
            for (int r0 = 0; r0 < rows; r0 += ROW_STRIP) {
                int r1 = Math.min(rows, r0 + ROW_STRIP);
                for (int a = 0; a < in.length; a++) {
                    double[] o = out[a];
                    double[] x = in[a];
                    for (int c = 0; c < width; c++) {
                        axpy(x[cb * t + c], tile[c], o, r0, r1);
                    }
                }
            }
        }
    }

    /** {@code y[i] += s * x[i]} for i in {@code [from, to)}. */
    private static void axpy(double s, double[] x, double[] y, int from, int to) {
        for (int i = from; i < to; i++) {
            y[i] += s * x[i];
        }
    }

    private static void addBias(double[][] v, double[] bias) {
        if (bias == null) {
            return;
        }
        for (double[] row : v) {
            for (int i = 0; i < bias.length; i++) {
                row[i] += bias[i];
            }
        }
    }
}
