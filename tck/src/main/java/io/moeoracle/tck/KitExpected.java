package io.moeoracle.tck;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moeoracle.api.tensor.HostTensor;
import io.moeoracle.reference.RelativeError;

/**
 * What one forward is judged against: the float64 reference's output, the backend's tolerance and the
 * reference's own change when F32 hidden states are rounded to BF16 as a BF16-activation scheme does
 * ({@link KitForward#inputRounding}; 0 otherwise). A forward passes when its relative L2 error is at
 * most {@link #allowed()}, the two added.
 *
 * @param output the reference output
 * @param tolerance the backend's tolerance for the scheme it runs
 * @param inputRounding the allowance for the input rounding
 */
record KitExpected(HostTensor output, double tolerance, double inputRounding) {
    /** @return {@code tolerance + inputRounding} */
    double allowed() {
        return tolerance + inputRounding;
    }

    /**
     * @param actual the kernel's output
     * @param what the case, for the message
     */
    void assertWithin(HostTensor actual, String what) {
        double error = RelativeError.l2(actual, output);
        assertTrue(error <= tolerance + inputRounding, () -> what + ": relative L2 error " + error + " exceeds "
                + (inputRounding > 0 ? tolerance + " + " + inputRounding + " (the reference's own change when the F32"
                        + " hidden is rounded to BF16)" : tolerance)
                + (Double.isNaN(error) ? " (NaN: an element was not written, or the kernel produced NaN)" : ""));
    }
}
