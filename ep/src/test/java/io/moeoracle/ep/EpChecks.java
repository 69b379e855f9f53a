package io.moeoracle.ep;

import io.moeoracle.api.quant.Bf16;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.tensor.DType;
import io.moeoracle.api.tensor.HostTensor;
import io.moeoracle.api.tensor.MoeWeights;
import io.moeoracle.api.tensor.Routing;
import io.moeoracle.reference.ReferenceMoe;
import io.moeoracle.reference.RelativeError;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Checks of an expert-parallel output: the float64 reference ({@link ReferenceMoe} over the whole
 * layer) on a sample of rows (every rank's first and last token and random ones; the reference is
 * slow for these shapes while the GPUs compute every row), the relative L2 between two outputs over
 * every row (the two strategies on the same inputs), and that every element was written.
 */
final class EpChecks {
    private EpChecks() {
    }

    /** One sampled row: a rank and one of its tokens. */
    record Row(int rank, int token) {
    }

    /**
     * @param data the ranks' inputs
     * @param perRank rows per rank (the first, the last, then random ones)
     * @param rnd randomness
     * @return the sample
     */
    static List<Row> sample(List<EpTestLayers.RankData> data, int perRank, SplittableRandom rnd) {
        List<Row> rows = new ArrayList<>();
        for (int r = 0; r < data.size(); r++) {
            int t = data.get(r).tokens();
            if (t == 0) {
                continue;
            }
            Set<Integer> pick = new LinkedHashSet<>(List.of(0, t - 1));
            while (pick.size() < Math.min(perRank, t)) {
                pick.add(rnd.nextInt(t));
            }
            for (int tok : pick) {
                rows.add(new Row(r, tok));
            }
        }
        return rows;
    }

    /**
     * @param spec the whole layer
     * @param weights every expert's weights
     * @param data the ranks' inputs
     * @param rows the sample
     * @param arena owner of the sub-batch
     * @return the float64 reference of the sampled rows, {@code rows.size() * H}
     */
    static double[] reference(MoeLayerSpec spec, MoeWeights weights, List<EpTestLayers.RankData> data, List<Row> rows,
                              Arena arena) {
        int n = rows.size();
        int h = spec.hiddenSize();
        DType dt = data.stream().filter(d -> d.tokens() > 0).findFirst().orElseThrow().hidden().dtype();
        HostTensor hidden = HostTensor.allocate(arena, dt, n, h);
        for (int i = 0; i < n; i++) {
            copyRow(data.get(rows.get(i).rank()).hidden(), rows.get(i).token(), hidden, i);
        }
        Routing first = data.get(rows.getFirst().rank()).routing();
        Routing sub = switch (first) {
            case Routing.Logits l -> {
                HostTensor logits = HostTensor.allocate(arena, l.logits().dtype(), n, spec.experts());
                for (int i = 0; i < n; i++) {
                    copyRow((HostTensor) ((Routing.Logits) data.get(rows.get(i).rank()).routing()).logits(),
                            rows.get(i).token(), logits, i);
                }
                yield Routing.logits(logits);
            }
            case Routing.TopK k -> {
                HostTensor ids = HostTensor.allocate(arena, DType.I32, n, spec.topK());
                HostTensor w = HostTensor.allocate(arena, DType.F32, n, spec.topK());
                for (int i = 0; i < n; i++) {
                    Routing.TopK tk = (Routing.TopK) data.get(rows.get(i).rank()).routing();
                    copyRow((HostTensor) tk.ids(), rows.get(i).token(), ids, i);
                    copyRow((HostTensor) tk.weights(), rows.get(i).token(), w, i);
                }
                yield Routing.topK(ids, w);
            }
        };
        MoeLayerSpec whole = spec.toBuilder().expertParallel(1, 0).maxTokensPerCall(Math.max(n, 1)).build();
        return ReferenceMoe.forward(whole, weights, hidden, sub);
    }

    private static void copyRow(HostTensor from, int row, HostTensor to, int toRow) {
        long bytes = from.data().byteSize() / from.dim(0);
        MemorySegment.copy(from.data(), row * bytes, to.data(), toRow * bytes, bytes);
    }

    /**
     * @param outs the ranks' outputs
     * @param rows the sample
     * @param h H
     * @return the sampled rows' values
     */
    static float[] actual(List<HostTensor> outs, List<Row> rows, int h) {
        float[] a = new float[rows.size() * h];
        for (int i = 0; i < rows.size(); i++) {
            HostTensor o = outs.get(rows.get(i).rank());
            for (int c = 0; c < h; c++) {
                a[i * h + c] = get(o, (long) rows.get(i).token() * h + c);
            }
        }
        return a;
    }

    static float get(HostTensor t, long i) {
        return t.dtype() == DType.BF16 ? Bf16.toFloat(t.data().getAtIndex(ValueLayout.JAVA_SHORT, i))
                : t.data().getAtIndex(ValueLayout.JAVA_FLOAT, i);
    }

    /** @return the relative L2 error of the sampled rows */
    static double l2(float[] actual, double[] expected) {
        return RelativeError.l2(actual, expected);
    }

    /**
     * @param a outputs of one run, per rank
     * @param b outputs of another run on the same inputs
     * @return {@code ||a - b|| / ||b||} over every element of every rank (0 when both are empty)
     */
    static double l2(List<HostTensor> a, List<HostTensor> b) {
        double num = 0;
        double den = 0;
        for (int r = 0; r < a.size(); r++) {
            long n = a.get(r).numel();
            for (long i = 0; i < n; i++) {
                double x = get(a.get(r), i);
                double y = get(b.get(r), i);
                num += (x - y) * (x - y);
                den += y * y;
            }
        }
        return den == 0 ? (num == 0 ? 0 : Double.POSITIVE_INFINITY) : Math.sqrt(num / den);
    }

    /** @return how many elements are NaN (not written, or a NaN result) */
    static long nans(List<HostTensor> outs) {
        long bad = 0;
        for (HostTensor o : outs) {
            long n = o.numel();
            for (long i = 0; i < n; i++) {
                if (Float.isNaN(get(o, i))) {
                    bad++;
                }
            }
        }
        return bad;
    }
}
