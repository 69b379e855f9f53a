package io.moeoracle.driver.cuda;

/** {@code CUstreamCaptureMode}: which other calls a stream capture forbids. */
public enum CaptureMode {
    /** Unsafe calls are forbidden in every thread while any global capture runs. */
    GLOBAL(0),
    /** Unsafe calls are forbidden in the capturing thread only (the default here). */
    THREAD_LOCAL(1),
    /** Nothing is forbidden. */
    RELAXED(2);

    private final int code;

    CaptureMode(int code) {
        this.code = code;
    }

    /** @return the driver's enum value */
    public int code() {
        return code;
    }
}
