package com.example.moe.ffi;

import io.moeoracle.api.error.NativeFailureException;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;

/**
 * The bindings of {@code libexample_moe.so}: extracted from the jar to a temporary file, opened
 * once, one method handle per function. Loading happens on first use, never in a constructor.
 */
public final class ExampleNative {
    /** The ABI this Java code was written against. */
    public static final int ABI = 1;
    private static final String RESOURCE = "/native/linux-x86_64/libexample_moe.so";
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT;
    private static final ValueLayout ADDR = ValueLayout.ADDRESS;

    private final MethodHandle forward;
    private final Path path;

    private ExampleNative(Path path, SymbolLookup lib) {
        this.path = path;
        Linker linker = Linker.nativeLinker();
        MethodHandle abi = linker.downcallHandle(find(lib, "example_moe_abi"), FunctionDescriptor.of(INT));
        int found;
        try {
            found = (int) abi.invokeExact();
        } catch (Throwable e) {
            throw new IllegalStateException("example_moe_abi() failed", e);
        }
        if (found != ABI) {
            throw new IllegalStateException("libexample_moe ABI mismatch: expected [" + ABI + "], found [" + found
                    + "] in " + path + "; rebuild the example with mvn package");
        }
        this.forward = linker.downcallHandle(find(lib, "example_moe_forward"), FunctionDescriptor.of(INT,
                INT, INT, INT, INT, INT, ADDR, ADDR, ADDR, ADDR, ADDR, ADDR));
    }

    private static MemorySegment find(SymbolLookup lib, String name) {
        return lib.find(name).orElseThrow(() -> new IllegalStateException("symbol " + name
                + " missing from libexample_moe.so; rebuild the example"));
    }

    /** Loads once; the cause is kept when it fails. */
    private static final class Holder {
        static final ExampleNative INSTANCE;
        static final RuntimeException CAUSE;

        static {
            ExampleNative n = null;
            RuntimeException cause = null;
            try {
                n = load();
            } catch (RuntimeException | IOException e) {
                cause = e instanceof RuntimeException r ? r : new IllegalStateException(e.getMessage(), e);
            }
            INSTANCE = n;
            CAUSE = cause;
        }
    }

    private static ExampleNative load() throws IOException {
        try (InputStream in = ExampleNative.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("native library not built: " + RESOURCE
                        + " is missing from the jar (build the example on Linux x86-64 with a C compiler)");
            }
            Path file = Files.createTempFile("libexample_moe", ".so");
            file.toFile().deleteOnExit();
            Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
            return new ExampleNative(file, SymbolLookup.libraryLookup(file, Arena.global()));
        }
    }

    /** @return why the library cannot be used, if it cannot */
    public static Optional<RuntimeException> unavailabilityCause() {
        return Optional.ofNullable(Holder.CAUSE);
    }

    /** @return the bindings; throws the load failure when the library is unavailable */
    public static ExampleNative get() {
        if (Holder.CAUSE != null) {
            throw new NativeFailureException("dlopen", RESOURCE, Holder.CAUSE.getMessage());
        }
        return Holder.INSTANCE;
    }

    /** @return where the library was extracted */
    public Path path() {
        return path;
    }

    /**
     * Runs the layer on native buffers (see example_moe.c for the layouts).
     *
     * @param tokens T
     * @param hidden H
     * @param inter I
     * @param experts E
     * @param topk k
     * @param x [T, H] f32
     * @param ids [T, k] i32
     * @param weights [T, k] f32
     * @param w13 [E, 2I, H] bf16
     * @param w2 [E, H, I] bf16
     * @param out [T, H] f32
     */
    public void forward(int tokens, int hidden, int inter, int experts, int topk, MemorySegment x, MemorySegment ids,
                        MemorySegment weights, MemorySegment w13, MemorySegment w2, MemorySegment out) {
        int rc;
        try {
            rc = (int) forward.invokeExact(tokens, hidden, inter, experts, topk, x, ids, weights, w13, w2, out);
        } catch (Throwable e) {
            throw new NativeFailureException("example_moe_forward", "tokens=" + tokens, String.valueOf(e), e.toString(), e);
        }
        if (rc != 0) {
            throw new NativeFailureException("example_moe_forward", "tokens=" + tokens + ", hidden=" + hidden
                    + ", experts=" + experts, rc == -1 ? "expert id out of range" : "out of memory (code " + rc + ")");
        }
    }
}
