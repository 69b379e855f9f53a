package io.moeoracle.driver.opencl.ffi;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.ValueLayout;

/** The C types of the OpenCL API on LP64 hosts. */
final class ClTypes {
    /** cl_int / cl_uint / cl_bool. */
    static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT;
    /** cl_ulong, cl_bitfield and size_t (64-bit hosts only). */
    static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG;
    /** Any handle or pointer. */
    static final MemoryLayout PTR = ValueLayout.ADDRESS;

    private ClTypes() {
    }
}
