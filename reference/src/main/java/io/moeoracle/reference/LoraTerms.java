package io.moeoracle.reference;

import io.moeoracle.api.tensor.HostTensor;
import io.moeoracle.api.tensor.LoraAdapter;

/**
 * One adapter's factors for one expert, decoded to float64 on the heap, and the two low-rank terms
 * the reference adds: {@code delta13} to the gate/up pre-activation and {@code delta2} to the
 * expert output (both scaled, before the routing weight).
 */
final class LoraTerms {
    private final int rank;
    private final int h;
    private final int inter;
    private final double scaling;
    private final double[] gateA;
    private final double[] gateB;
    private final double[] upA;
    private final double[] upB;
    private final double[] downA;
    private final double[] downB;

    /**
     * Decodes expert {@code e} (local index) of an adapter; call it on the thread that may read the
     * adapter's tensors.
     */
    LoraTerms(LoraAdapter a, int e, int h, int inter) {
        this.rank = a.rank();
        this.h = h;
        this.inter = inter;
        this.scaling = a.scaling();
        this.gateA = slice(a.gateA(), e, (long) rank * h);
        this.gateB = slice(a.gateB(), e, (long) inter * rank);
        this.upA = slice(a.upA(), e, (long) rank * h);
        this.upB = slice(a.upB(), e, (long) inter * rank);
        this.downA = slice(a.downA(), e, (long) rank * inter);
        this.downB = slice(a.downB(), e, (long) h * rank);
    }

    private static double[] slice(HostTensor t, int e, long per) {
        double[] v = new double[Math.toIntExact(per)];
        Elements.read(t, e * per, v, 0, v.length);
        return v;
    }

    /** Adds the gate and up terms to one row of the interleaved pre-activation {@code g [2I]}. */
    void addW13(double[] x, double[] g) {
        double[] ug = shrink(gateA, x, h);
        double[] uu = shrink(upA, x, h);
        for (int c = 0; c < inter; c++) {
            double sg = 0;
            double su = 0;
            for (int r = 0; r < rank; r++) {
                sg += gateB[c * rank + r] * ug[r];
                su += upB[c * rank + r] * uu[r];
            }
            g[2 * c] += scaling * sg;
            g[2 * c + 1] += scaling * su;
        }
    }

    /** Adds the down term to one expert output row {@code y [H]} from its activation {@code a [I]}. */
    void addW2(double[] a, double[] y) {
        double[] v = shrink(downA, a, inter);
        for (int c = 0; c < h; c++) {
            double s = 0;
            for (int r = 0; r < rank; r++) {
                s += downB[c * rank + r] * v[r];
            }
            y[c] += scaling * s;
        }
    }

    private double[] shrink(double[] a, double[] x, int cols) {
        double[] u = new double[rank];
        for (int r = 0; r < rank; r++) {
            double s = 0;
            for (int c = 0; c < cols; c++) {
                s += a[r * cols + c] * x[c];
            }
            u[r] = s;
        }
        return u;
    }
}
