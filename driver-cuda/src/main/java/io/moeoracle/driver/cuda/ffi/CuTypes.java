package io.moeoracle.driver.cuda.ffi;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.ValueLayout;

/**
 * The C types of the driver API's signatures. Apart from {@link LibCuda}, so that opening the
 * library (or failing to, on a host without it) does not set up the FFM layouts (~1 ms in a fresh JVM).
 */
final class CuTypes {
    static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT;
    static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG;
    static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT;
    static final MemoryLayout PTR = ValueLayout.ADDRESS;

    private CuTypes() {
    }

    /** A CUresult-returning function of the given parameters. */
    static FunctionDescriptor result(MemoryLayout... params) {
        return FunctionDescriptor.of(INT, params);
    }
}
