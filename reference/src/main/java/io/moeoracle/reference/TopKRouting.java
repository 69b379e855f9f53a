package io.moeoracle.reference;

import io.moeoracle.api.tensor.DType;
import io.moeoracle.api.tensor.HostTensor;
import io.moeoracle.api.tensor.Routing;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;

/**
 * The routing rule every backend must match: per token, the k largest logits (ties go to the
 * lower expert id; NaN ranks below every number), then a softmax over those k, so the k weights
 * sum to one.
 */
public final class TopKRouting {
    private TopKRouting() {
    }

    /**
     * Chosen experts and weights for T tokens, row-major {@code [T, k]}, ids in descending logit order.
     *
     * @param tokens T
     * @param k experts per token
     * @param ids global expert ids
     * @param weights softmax weights over the k
     */
    public record Selection(int tokens, int k, int[] ids, double[] weights) {
        /** @return expert id of token t, slot j */
        public int id(int t, int j) {
            return ids[t * k + j];
        }

        /** @return weight of token t, slot j */
        public double weight(int t, int j) {
            return weights[t * k + j];
        }
    }

    /**
     * @param logits {@code [T, E]} F32 or BF16 (or F64)
     * @param k experts per token, {@code 1..E}
     * @return the selection
     */
    public static Selection select(HostTensor logits, int k) {
        if (logits.rank() != 2) {
            throw new IllegalArgumentException("router logits must be [T, E], got " + logits.shapeString());
        }
        int t = Math.toIntExact(logits.dim(0));
        int e = Math.toIntExact(logits.dim(1));
        if (k < 1 || k > e) {
            throw new IllegalArgumentException("top-k " + k + " must be between 1 and the expert count " + e);
        }
        int[] ids = new int[t * k];
        double[] w = new double[t * k];
        double[] row = new double[e];
        for (int i = 0; i < t; i++) {
            Elements.read(logits, (long) i * e, row, 0, e);
            selectRow(row, k, ids, w, i * k);
        }
        return new Selection(t, k, ids, w);
    }

    /**
     * Top-k and softmax of one token's logits.
     *
     * @param logits the E logits of one token
     * @param k experts to choose
     * @param idsOut receives k ids, largest logit first
     * @param weightsOut receives the k softmax weights
     * @param outOffset index of the first id and weight written
     */
    public static void selectRow(double[] logits, int k, int[] idsOut, double[] weightsOut, int outOffset) {
        int e = logits.length;
        // insertion into a sorted list of k: O(E k), fine for the reference (k <= 8 in practice)
        int filled = 0;
        for (int id = 0; id < e; id++) {
            double v = logits[id];
            if (filled == k && !greater(v, logits[idsOut[outOffset + k - 1]])) {
                continue;
            }
            int pos = filled == k ? k - 1 : filled++;
            // strictly greater moves up: an equal logit stays behind the lower id seen earlier
            while (pos > 0 && greater(v, logits[idsOut[outOffset + pos - 1]])) {
                idsOut[outOffset + pos] = idsOut[outOffset + pos - 1];
                pos--;
            }
            idsOut[outOffset + pos] = id;
        }
        double max = logits[idsOut[outOffset]];
        double sum = 0;
        for (int j = 0; j < k; j++) {
            double x = Math.exp(logits[idsOut[outOffset + j]] - max);
            weightsOut[outOffset + j] = x;
            sum += x;
        }
        for (int j = 0; j < k; j++) {
            weightsOut[outOffset + j] /= sum;
        }
    }

    /** Strict order with NaN below everything. */
    private static boolean greater(double a, double b) {
        if (Double.isNaN(a)) {
            return false;
        }
        return Double.isNaN(b) || a > b;
    }

    /**
     * Top-k routing tensors ({@code ids [T, k]} I32, {@code weights [T, k]} F32) from logits, for
     * feeding a kernel the same routing the reference takes from those logits.
     *
     * @param logits {@code [T, E]} F32 or BF16
     * @param k experts per token
     * @param arena owner of the new tensors
     * @return the routing
     */
    public static Routing.TopK fromLogits(HostTensor logits, int k, Arena arena) {
        Selection s = select(logits, k);
        HostTensor ids = HostTensor.allocate(arena, DType.I32, s.tokens(), k);
        HostTensor w = HostTensor.allocate(arena, DType.F32, s.tokens(), k);
        for (int i = 0; i < s.ids().length; i++) {
            ids.data().setAtIndex(ValueLayout.JAVA_INT_UNALIGNED, i, s.ids()[i]);
            w.data().setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, (float) s.weights()[i]);
        }
        return new Routing.TopK(ids, w);
    }
}
