package io.moeoracle.driver.hip.ffi;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.ValueLayout;

/**
 * The C types of the runtime's signatures. Apart from {@link LibHip}, so that opening the library
 * (or failing to, on a host without it) does not set up the FFM layouts (~1 ms in a fresh JVM).
 */
final class HipTypes {
    static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT;
    static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG;
    static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT;
    static final ValueLayout.OfByte BYTE = ValueLayout.JAVA_BYTE;
    static final MemoryLayout PTR = ValueLayout.ADDRESS;

    private HipTypes() {
    }

    /** A hipError_t-returning function of the given parameters. */
    static FunctionDescriptor result(MemoryLayout... params) {
        return FunctionDescriptor.of(INT, params);
    }
}
