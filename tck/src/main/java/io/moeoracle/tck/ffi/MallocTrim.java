package io.moeoracle.tck.ffi;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Optional;

/**
 * glibc's {@code malloc_trim}: hands memory that malloc holds free back to the kernel, so that the
 * resident size counts live native allocations only. Absent on other C libraries (musl, macOS).
 */
public final class MallocTrim {
    private static final Optional<MethodHandle> TRIM = lookup();

    private MallocTrim() {
    }

    @SuppressWarnings("restricted") // the forked kit JVM runs with --enable-native-access
    private static Optional<MethodHandle> lookup() {
        Linker linker = Linker.nativeLinker();
        return linker.defaultLookup().find("malloc_trim").map(a -> linker.downcallHandle(a,
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG)));
    }

    /** @return whether this process's C library has {@code malloc_trim} */
    public static boolean available() {
        return TRIM.isPresent();
    }

    /** Calls {@code malloc_trim(0)} where the C library has it; otherwise does nothing. */
    public static void trim() {
        if (TRIM.isEmpty()) {
            return;
        }
        try {
            int _ = (int) TRIM.get().invokeExact(0L);
        } catch (Throwable e) {
            throw new IllegalStateException("malloc_trim(0) failed while measuring host memory", e);
        }
    }
}
