package io.moeoracle.nativeload.ffi;

import io.moeoracle.nativeload.NativeLibraryException;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.Optional;

/**
 * One opened shared library, or the reason it could not be opened. Never throws while loading:
 * a missing library or symbol yields a method handle that throws {@link NativeUnavailableError}
 * when called, so the classes holding {@code static final} handles always initialize and the
 * facade reports the cause (e.g. {@code CudaDriver.unavailabilityCause()}). Shared by the drivers
 * (libcuda, cuBLAS, libamdhip64).
 */
public final class NativeLibrary {
    /**
     * The native linker, made on the first downcall: {@code Linker.nativeLinker()} costs ~8 ms in a
     * fresh JVM, which a probe whose library is absent never needs (BENCHMARKS.md, cold discovery).
     */
    private static final class Linkers {
        static final Linker NATIVE = Linker.nativeLinker();
    }

    private final String description;
    private final Optional<SymbolLookup> lookup;
    private final Optional<Throwable> failure;

    private NativeLibrary(String description, Optional<SymbolLookup> lookup, Optional<Throwable> failure) {
        this.description = description;
        this.lookup = lookup;
        this.failure = failure;
    }

    /**
     * Opens a library through the shared loader; never throws.
     *
     * @param what a short name for messages, e.g. {@code libcuda}
     * @param loader where to look (see {@link NativeLibraryLoader})
     * @return the library, possibly unavailable; its failure is the loader's
     *     {@link NativeLibraryException}, every failed attempt suppressed on it
     */
    public static NativeLibrary open(String what, NativeLibraryLoader loader) {
        try {
            NativeLibraryLoader.Loaded l = loader.load();
            return new NativeLibrary(what + " (" + l.path() + ")", Optional.of(l.lookup()), Optional.empty());
        } catch (NativeLibraryException e) {
            return new NativeLibrary(what, Optional.empty(), Optional.of(e));
        }
    }

    /** @return whether the library was opened */
    public boolean isLoaded() {
        return lookup.isPresent();
    }

    /** @return why it was not opened, if it was not */
    public Optional<Throwable> failure() {
        return failure;
    }

    /** @return the name and path the library was opened by */
    public String description() {
        return description;
    }

    /**
     * @param symbol a symbol name
     * @return whether the library exports it
     */
    public boolean has(String symbol) {
        return lookup.isPresent() && lookup.get().find(symbol).isPresent();
    }

    /**
     * A downcall handle for the first of the symbols the library exports.
     *
     * @param descriptor the C signature
     * @param symbols the symbol name, then older names to fall back to
     * @return the handle; one that throws {@link NativeUnavailableError} when the library or symbol is absent
     */
    public MethodHandle downcall(FunctionDescriptor descriptor, String... symbols) {
        return downcall(descriptor, new Linker.Option[0], symbols);
    }

    /**
     * As {@link #downcall(FunctionDescriptor, String...)} with linker options.
     *
     * @param descriptor the C signature
     * @param options linker options (e.g. {@code Linker.Option.critical(false)} for short calls)
     * @param symbols the symbol name, then older names to fall back to
     * @return the handle
     */
    @SuppressWarnings("restricted")
    public MethodHandle downcall(FunctionDescriptor descriptor, Linker.Option[] options, String... symbols) {
        if (lookup.isPresent()) {
            for (String symbol : symbols) {
                Optional<MemorySegment> address = lookup.get().find(symbol);
                if (address.isPresent()) {
                    return Linkers.NATIVE.downcallHandle(address.get(), descriptor, options);
                }
            }
        }
        String why = lookup.isPresent()
                ? "symbol " + String.join(" / ", symbols) + " not found in " + description
                        + " (driver or library too old for this call?)"
                : description + " is not loaded: " + (failure.isPresent() ? failure.get().getMessage() : "unknown reason");
        return throwing(descriptor.toMethodType(), new NativeUnavailableError(why));
    }

    private static MethodHandle throwing(MethodType type, NativeUnavailableError error) {
        MethodHandle thrower = MethodHandles.throwException(type.returnType(), NativeUnavailableError.class)
                .bindTo(error);
        return MethodHandles.dropArguments(thrower, 0, type.parameterList());
    }
}
