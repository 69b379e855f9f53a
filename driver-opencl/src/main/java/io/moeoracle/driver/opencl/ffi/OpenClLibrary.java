package io.moeoracle.driver.opencl.ffi;

import io.moeoracle.nativeload.NativeLibraryException;
import io.moeoracle.nativeload.ffi.NativeLibraryLoader;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.Optional;

/**
 * Opens the OpenCL ICD loader once, on first use, through the shared {@link NativeLibraryLoader}:
 * {@code moe.opencl.library} when set (only that file), else {@code libOpenCL.so.1} or
 * {@code libOpenCL.so} in {@code java.library.path}, then through the system loader. Every failed
 * attempt is kept (suppressed) on the final error.
 */
@SuppressWarnings("restricted") // the FFM entry points are restricted by design; callers enable native access
public final class OpenClLibrary {
    private OpenClLibrary() {
    }

    /** Made on the first downcall: a probe that stops before calling OpenCL (PoCL refused) never pays for it. */
    private static final class Linkers {
        static final Linker NATIVE = Linker.nativeLinker();
    }

    private static final class Holder {
        static final SymbolLookup LOOKUP;
        static final UnsatisfiedLinkError FAILURE;

        static {
            SymbolLookup found = null;
            UnsatisfiedLinkError failure = null;
            try {
                found = NativeLibraryLoader.builder("the OpenCL ICD loader").override(OpenClSettings.LIBRARY)
                        .fileNames("libOpenCL.so.1", "libOpenCL.so")
                        .remedy("install ocl-icd-libopencl1").build().load().lookup();
            } catch (NativeLibraryException e) {
                failure = new UnsatisfiedLinkError("cannot open the OpenCL ICD loader: " + e.getMessage());
                failure.initCause(e);
                for (Throwable suppressed : e.getSuppressed()) {
                    failure.addSuppressed(suppressed);
                }
            }
            LOOKUP = found;
            FAILURE = failure;
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
        Optional<MemorySegment> symbol = Holder.LOOKUP.find(name);
        if (symbol.isEmpty()) {
            throw new UnsatisfiedLinkError("the OpenCL library has no symbol " + name
                    + "; an OpenCL 1.2+ ICD loader is required");
        }
        return Linkers.NATIVE.downcallHandle(symbol.get(), descriptor);
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
