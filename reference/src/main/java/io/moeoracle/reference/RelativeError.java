package io.moeoracle.reference;

import io.moeoracle.api.tensor.HostTensor;
import java.util.Arrays;

/**
 * Relative L2 error {@code ||actual - expected|| / ||expected||}, the project's measure for
 * comparing a kernel with the float64 reference. NaN-aware: any NaN in either side makes the
 * result NaN, so a NaN never hides inside a sum. When {@code expected} is all zeros the result is
 * 0 if {@code actual} is too, else infinity.
 */
public final class RelativeError {
    private RelativeError() {
    }

    /**
     * @param actual F32, BF16, F16 or F64
     * @param expected F32, BF16, F16 or F64, the same number of elements
     * @return the relative L2 error, or NaN when any element is NaN
     * @throws IllegalArgumentException when element counts differ or a dtype holds no floats
     */
    public static double l2(HostTensor actual, HostTensor expected) {
        if (actual.numel() != expected.numel()) {
            throw new IllegalArgumentException("actual " + actual.shapeString() + " and expected "
                    + expected.shapeString() + " differ in element count");
        }
        for (HostTensor t : new HostTensor[] {actual, expected}) {
            if (!Elements.isFloat(t.dtype())) {
                throw new IllegalArgumentException("relative error needs float tensors, got " + t);
            }
        }
        double num = 0;
        double den = 0;
        long n = actual.numel();
        for (long i = 0; i < n; i++) {
            double a = Elements.get(actual, i);
            double e = Elements.get(expected, i);
            double d = a - e;
            num += d * d;
            den += e * e;
        }
        return ratio(num, den, false); // a NaN element makes num NaN
    }

    /**
     * @param actual values under test
     * @param expected reference values, the same length
     * @return the relative L2 error, or NaN when any element is NaN
     */
    public static double l2(float[] actual, double[] expected) {
        if (actual.length != expected.length) {
            throw new IllegalArgumentException("actual has " + actual.length + " values, expected " + expected.length);
        }
        double num = 0;
        double den = 0;
        boolean nan = false;
        for (int i = 0; i < actual.length; i++) {
            double d = actual[i] - expected[i];
            nan |= Float.isNaN(actual[i]) || Double.isNaN(expected[i]);
            num += d * d;
            den += expected[i] * expected[i];
        }
        return ratio(num, den, nan);
    }

    /**
     * Whether two tensors have NaN in exactly the same elements: the check for the NaN-scale
     * behaviour, which {@link #l2} cannot judge.
     *
     * @param actual float tensor
     * @param expected float tensor, the same number of elements
     * @return true when the NaN masks are equal
     */
    public static boolean sameNaNs(HostTensor actual, HostTensor expected) {
        if (actual.numel() != expected.numel()) {
            return false;
        }
        for (long i = 0; i < actual.numel(); i++) {
            if (Double.isNaN(Elements.get(actual, i)) != Double.isNaN(Elements.get(expected, i))) {
                return false;
            }
        }
        return true;
    }

    /**
     * Relative L2 error over the elements where neither side is NaN (use with {@link #sameNaNs}).
     *
     * @param actual float tensor
     * @param expected float tensor, the same number of elements
     * @return the error over the non-NaN elements
     */
    public static double l2IgnoringNaNs(HostTensor actual, HostTensor expected) {
        if (actual.numel() != expected.numel()) {
            throw new IllegalArgumentException("actual " + Arrays.toString(actual.shape()) + " and expected "
                    + Arrays.toString(expected.shape()) + " differ in element count");
        }
        double num = 0;
        double den = 0;
        for (long i = 0; i < actual.numel(); i++) {
            double a = Elements.get(actual, i);
            double e = Elements.get(expected, i);
            if (!Double.isNaN(a) && !Double.isNaN(e)) {
                num += (a - e) * (a - e);
                den += e * e;
            }
        }
        return ratio(num, den, false);
    }

    private static double ratio(double num, double den, boolean nan) {
        if (nan || Double.isNaN(num) || Double.isNaN(den)) {
            return Double.NaN;
        }
        if (den == 0) {
            return num == 0 ? 0 : Double.POSITIVE_INFINITY;
        }
        return Math.sqrt(num / den);
    }
}
