package io.moeoracle.reference;

import io.moeoracle.api.quant.Bf16;
import io.moeoracle.api.quant.Mxfp8;
import io.moeoracle.api.spec.Activation;
import io.moeoracle.api.spec.ActivationType;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.spec.WeightFormat;
import io.moeoracle.api.tensor.DType;
import io.moeoracle.api.tensor.HostTensor;
import io.moeoracle.api.tensor.MoeWeights;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;

/**
 * A second, deliberately naive implementation for the tests: full matrices decoded with its own
 * tables, top-k by sorting, one token at a time.
 */
final class BruteForceMoe {
    private static final double[] E2M1 = {0, 0.5, 1, 1.5, 2, 3, 4, 6, -0.0, -0.5, -1, -1.5, -2, -3, -4, -6};

    private BruteForceMoe() {
    }

    static double[][] matrix(MoeLayerSpec spec, HostTensor w, java.util.Optional<HostTensor> scales, int e, int rows, int cols) {
        double[][] m = new double[rows][cols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                long idx = ((long) e * rows + r) * cols + c;
                if (spec.quant().weights().kind() == WeightFormat.Kind.MXFP4) {
                    int b = w.data().get(ValueLayout.JAVA_BYTE, idx / 2) & 0xFF;
                    int nib = (c % 2 == 0) ? b & 0xF : b >>> 4;
                    int s = scales.get().data().get(ValueLayout.JAVA_BYTE, idx / 32) & 0xFF;
                    m[r][c] = E2M1[nib] * (s == 255 ? Double.NaN : Math.pow(2, s - 127));
                } else {
                    m[r][c] = Bf16.toFloat(w.data().getAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, idx));
                }
            }
        }
        return m;
    }

    static double value(HostTensor t, long i) {
        return switch (t.dtype()) {
            case F32 -> t.data().getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i);
            case BF16 -> Bf16.toFloat(t.data().getAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i));
            default -> throw new AssertionError(t.dtype());
        };
    }

    static double act(Activation a, double gate, double up) {
        return switch (a) {
            case Activation.SwigluOai o -> {
                double g = Math.min(gate, o.limit());
                double u = Math.min(Math.max(up, -o.limit()), o.limit());
                yield g / (1 + Math.exp(-o.alpha() * g)) * (u + 1);
            }
            case Activation.Silu s -> gate / (1 + Math.exp(-gate)) * up;
            case Activation.Gelu g -> 0.5 * gate * (1 + Math.tanh(0.7978845608028654 * (gate + 0.044715 * gate * gate * gate))) * up;
        };
    }

    /** @return out [T][H] for top-k ids/weights [T][k] */
    static double[][] forward(MoeLayerSpec spec, MoeWeights w, HostTensor hidden, int[][] ids, double[][] wt) {
        int t = (int) hidden.dim(0);
        int h = spec.hiddenSize();
        int in = spec.intermediateSize();
        int el = spec.localExperts();
        int first = spec.expertParallelRank() * el;
        double[][][] w13 = new double[el][][];
        double[][][] w2 = new double[el][][];
        for (int e = 0; e < el; e++) {
            w13[e] = matrix(spec, w.w13(), w.w13Scales(), e, 2 * in, h);
            w2[e] = matrix(spec, w.w2(), w.w2Scales(), e, h, in);
        }
        double[][] out = new double[t][h];
        for (int i = 0; i < t; i++) {
            double[] x = new double[h];
            for (int c = 0; c < h; c++) {
                x[c] = value(hidden, (long) i * h + c);
            }
            if (spec.quant().activations() == ActivationType.MXFP8) {
                Mxfp8.quantizeDequantize(x, 0, h);
            }
            for (int j = 0; j < ids[i].length; j++) {
                int e = ids[i][j] - first;
                if (e < 0 || e >= el) {
                    continue;
                }
                double[] a = new double[in];
                for (int c = 0; c < in; c++) {
                    double g = 0;
                    double u = 0;
                    for (int q = 0; q < h; q++) {
                        g += w13[e][2 * c][q] * x[q];
                        u += w13[e][2 * c + 1][q] * x[q];
                    }
                    if (spec.hasBias()) {
                        g += value(w.w13Bias().get(), (long) e * 2 * in + 2 * c);
                        u += value(w.w13Bias().get(), (long) e * 2 * in + 2 * c + 1);
                    }
                    a[c] = act(spec.activation(), g, u);
                }
                if (spec.quant().activations() == ActivationType.MXFP8) {
                    Mxfp8.quantizeDequantize(a, 0, in);
                }
                for (int r = 0; r < h; r++) {
                    double y = 0;
                    for (int c = 0; c < in; c++) {
                        y += w2[e][r][c] * a[c];
                    }
                    if (spec.hasBias()) {
                        y += value(w.w2Bias().get(), (long) e * h + r);
                    }
                    out[i][r] += wt[i][j] * y;
                }
            }
        }
        return out;
    }

    /** Top-k by a stable sort on (-logit, id), softmax over the k. */
    static void route(HostTensor logits, int k, int[][] ids, double[][] wt) {
        int t = (int) logits.dim(0);
        int e = (int) logits.dim(1);
        for (int i = 0; i < t; i++) {
            final int row = i;
            Integer[] order = IntStream.range(0, e).boxed().toArray(Integer[]::new);
            Arrays.sort(order, Comparator.comparingDouble((Integer id) -> -value(logits, (long) row * e + id))
                    .thenComparingInt(id -> id));
            ids[i] = new int[k];
            wt[i] = new double[k];
            double sum = 0;
            for (int j = 0; j < k; j++) {
                ids[i][j] = order[j];
                wt[i][j] = Math.exp(value(logits, (long) i * e + order[j]));
                sum += wt[i][j];
            }
            for (int j = 0; j < k; j++) {
                wt[i][j] /= sum;
            }
        }
    }

    static double[] flat(double[][] m) {
        return Arrays.stream(m).flatMapToDouble(Arrays::stream).toArray();
    }

    static float[] floats(HostTensor t) {
        float[] f = new float[(int) t.numel()];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) value(t, i);
        }
        return f;
    }

    static boolean isF32(HostTensor t) {
        return t.dtype() == DType.F32;
    }
}
