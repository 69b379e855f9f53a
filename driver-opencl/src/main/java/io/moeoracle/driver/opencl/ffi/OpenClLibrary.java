package io.moeoracle.driver.opencl.ffi;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Opens the OpenCL ICD loader once, on first use: {@code moe.opencl.library} when set (only that
 * file), else {@code libOpenCL.so.1}, else {@code libOpenCL.so}. Every failed attempt is kept (suppressed) on
 * the final error.
 */
@SuppressWarnings("restricted") // the FFM entry points are restricted by design; callers enable native access
public final class OpenClLibrary {
    /** System property naming the library file to open instead of the ICD loader. */
    public static final String LIBRARY_PROPERTY = "moe.opencl.library";

    private static final Linker LINKER = Linker.nativeLinker();

    private OpenClLibrary() {
    }

    private static final class Holder {
        static final SymbolLookup LOOKUP;
        static final UnsatisfiedLinkError FAILURE;

        static {
            List<String> names = new ArrayList<>();
            String override = System.getProperty(LIBRARY_PROPERTY);
            if (override != null && !override.isBlank()) {
                names.add(override); // asked for explicitly: nothing else is tried
            } else {
                names.add("libOpenCL.so.1");
                names.add("libOpenCL.so");
            }
            SymbolLookup found = null;
            UnsatisfiedLinkError failure = new UnsatisfiedLinkError("cannot open the OpenCL ICD loader; tried "
                    + names + "; install ocl-icd-libopencl1 (or set -D" + LIBRARY_PROPERTY + "=/path/libOpenCL.so.1)");
            for (String name : names) {
                try {
                    found = SymbolLookup.libraryLookup(name, Arena.global());
                    break;
                } catch (IllegalArgumentException | IllegalCallerException e) {
                    failure.addSuppressed(e);
                }
            }
            LOOKUP = found;
            FAILURE = found == null ? failure : null;
        }
    }

    /** @return why the library could not be opened, empty when it was */
    public static Optional<UnsatisfiedLinkError> loadFailure() {
        return Optional.ofNullable(Holder.FAILURE);
    }

    /**
     * @param name the C function's name
     * @param descriptor its signature
     * @return a downcall handle
     * @throws UnsatisfiedLinkError when the library is missing or lacks the symbol
     */
    static MethodHandle downcall(String name, FunctionDescriptor descriptor) {
        if (Holder.LOOKUP == null) {
            throw Holder.FAILURE;
        }
        return Holder.LOOKUP.find(name)
                .map(symbol -> LINKER.downcallHandle(symbol, descriptor))
                .orElseThrow(() -> new UnsatisfiedLinkError("the OpenCL library has no symbol " + name
                        + "; an OpenCL 1.2+ ICD loader is required"));
    }

    /**
     * Turns a Throwable from {@code invokeExact} into an unchecked one (downcalls throw nothing else).
     *
     * @param t what invokeExact threw
     * @return never returns normally
     */
    static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            throw r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        throw new IllegalStateException("unexpected checked exception from a downcall", t);
    }
}
