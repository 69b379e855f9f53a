package io.moeoracle.driver.nccl.ffi;

/** Downcalls declare {@code Throwable}; they only ever throw unchecked ones. */
final class Rethrow {
    private Rethrow() {
    }

    static RuntimeException unchecked(Throwable t) {
        if (t instanceof RuntimeException r) {
            throw r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        throw new IllegalStateException("unexpected checked exception from a downcall", t);
    }
}
