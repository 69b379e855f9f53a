package io.moeoracle.tck;

/**
 * The capability groups of {@link MoeKernelCompatibilityKit}. A backend opts out of one group at a
 * time, with a reason ({@link MoeKernelCompatibilityKit#optOuts()}); the reason is printed with
 * every test of that group that did not run.
 */
public enum Capability {
    /** Stable id, deterministic priority inside a documented band, a meaningful {@code toString}. */
    IDENTITY,
    /** Every spec called supported runs; every unsupported verdict has a reason and a remedy. */
    HONESTY,
    /** Agreement with the float64 reference on fresh random inputs and edge cases. */
    NUMERICS,
    /** Wrong shapes, dtypes, sizes and life-cycle misuse end in a typed exception, never a crash. */
    BAD_INPUT,
    /** Closing releases memory; many cycles and forwards leave host memory flat. */
    RESOURCES,
    /** The documented thread-safety holds under 8 threads. */
    CONCURRENCY
}
