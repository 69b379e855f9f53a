package io.moeoracle.driver.cuda.ffi;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * The CUDA driver library, {@code libcuda.so.1}, opened once. The system property
 * {@code moe.cuda.driver} (a path or a name) is tried first.
 */
public final class LibCuda {
    /** Property naming the driver library to open first. */
    public static final String PROPERTY = "moe.cuda.driver";

    static final NativeLibrary LIBRARY = NativeLibrary.open("libcuda", candidates());

    static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT;
    static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG;
    static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT;
    static final MemoryLayout PTR = ValueLayout.ADDRESS;

    private LibCuda() {
    }

    private static List<String> candidates() {
        List<String> names = new ArrayList<>();
        String override = System.getProperty(PROPERTY, "").trim();
        if (!override.isEmpty()) {
            names.add(override);
        }
        names.add("libcuda.so.1");
        names.add("libcuda.so");
        return names;
    }

    /** @return the opened library, or the reason it is not */
    public static NativeLibrary library() {
        return LIBRARY;
    }

    /** A CUresult-returning function of the given parameters. */
    static FunctionDescriptor result(MemoryLayout... params) {
        return FunctionDescriptor.of(INT, params);
    }
}
