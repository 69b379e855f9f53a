package io.moeoracle.api;

/**
 * Hears how far a long step has come: {@link MoeKernel#prepare(io.moeoracle.api.tensor.MoeWeights, ProgressListener)}
 * of a large checkpoint, a benchmark sweep. Called on the thread doing the work, with a fraction
 * that never decreases and reaches 1 when the step is done; it must return quickly and never
 * throw (a listener that throws is the caller's bug, not the kernel's).
 */
@FunctionalInterface
public interface ProgressListener {
    /** Hears nothing. */
    ProgressListener NONE = (fraction, stage) -> { };

    /**
     * @param fractionDone from 0 to 1
     * @param stage what is being done now, a few words ("repacking expert weights")
     */
    void progress(double fractionDone, String stage);
}
