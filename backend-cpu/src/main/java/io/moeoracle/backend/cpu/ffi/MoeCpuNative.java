package io.moeoracle.backend.cpu.ffi;

import io.moeoracle.nativeload.NativeLibraryException;
import io.moeoracle.nativeload.ffi.NativeLibraryLoader;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

// a little over 400 lines: one handle per C function in one place; the LoRA calls live in CpuLoraNative
/**
 * The downcalls into {@code libmoeoracle_cpu}: one {@link MethodHandle} per C function, each
 * return code checked and turned into a {@link CpuNativeException} naming the call, its arguments
 * and the library's error text. Obtain the instance with {@link #get()}; loading happens once,
 * lazily, and its failure is kept ({@link #unavailabilityCause()}).
 */
@SuppressWarnings("restricted")
public final class MoeCpuNative {
    /** The ABI version this Java code was written against; the library reports its own. */
    public static final int ABI_VERSION = 5;

    /** Weight format code: MXFP4. */
    public static final int WFMT_MXFP4 = 0;
    /** Weight format code: BF16. */
    public static final int WFMT_BF16 = 1;
    /** Activation code: SwiGLU-OAI. */
    public static final int ACT_SWIGLU_OAI = 0;
    /** Activation code: SiLU-GLU. */
    public static final int ACT_SILU = 1;
    /** Activation code: GELU(tanh)-GLU. */
    public static final int ACT_GELU = 2;
    /** Element type code: F32. */
    public static final int DT_F32 = 0;
    /** Element type code: BF16. */
    public static final int DT_BF16 = 1;

    private static final Logger LOG = LoggerFactory.getLogger(MoeCpuNative.class);
    private static final Linker LINKER = Linker.nativeLinker();
    private static final ValueLayout.OfInt I = ValueLayout.JAVA_INT;
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private static final ValueLayout.OfLong J = ValueLayout.JAVA_LONG;
    private static final ValueLayout.OfDouble D = ValueLayout.JAVA_DOUBLE;
    private static final java.lang.foreign.AddressLayout A = ValueLayout.ADDRESS;

    private final Path path;
    private final String origin;
    private final MethodHandle hostIsa;
    private final MethodHandle isaName;
    private final MethodHandle lastError;
    private final MethodHandle layerCreate;
    private final MethodHandle layerDestroy;
    private final MethodHandle layerError;
    private final MethodHandle layerThreads;
    private final MethodHandle sharedPools;
    private final MethodHandle layerPrepare;
    private final MethodHandle layerForward;
    private final MethodHandle probeReadBandwidth;
    private final MethodHandle probeDotPeak;
    private final CpuLoraNative lora;

    private MoeCpuNative(NativeLibraryLoader.Loaded lib) {
        SymbolLookup l = lib.lookup();
        this.path = lib.path();
        this.origin = lib.origin();
        hostIsa = handle(l, "moe_cpu_host_isa", FunctionDescriptor.of(I));
        isaName = handle(l, "moe_cpu_isa_name", FunctionDescriptor.of(A, I));
        lastError = handle(l, "moe_cpu_last_error", FunctionDescriptor.of(A));
        layerCreate = handle(l, "moe_cpu_layer_create",
                FunctionDescriptor.of(I, I, I, I, I, I, I, F, F, I, I, I, A));
        layerDestroy = handle(l, "moe_cpu_layer_destroy", FunctionDescriptor.ofVoid(A));
        layerError = handle(l, "moe_cpu_layer_error", FunctionDescriptor.of(A, A));
        layerThreads = handle(l, "moe_cpu_layer_threads", FunctionDescriptor.of(I, A));
        sharedPools = handle(l, "moe_cpu_shared_pools", FunctionDescriptor.of(I));
        layerPrepare = handle(l, "moe_cpu_layer_prepare", FunctionDescriptor.of(I, A, A, A, A, I, A, A, A, I));
        layerForward = handle(l, "moe_cpu_layer_forward", FunctionDescriptor.of(I, A, I, A, I, I, A, I, A, A, A, I, A));
        lora = new CpuLoraNative(l, this::layerError);
        probeReadBandwidth = handle(l, "moe_cpu_probe_read_bandwidth", FunctionDescriptor.of(D, I, I, J, I));
        probeDotPeak = handle(l, "moe_cpu_probe_dot_peak", FunctionDescriptor.of(D, I, I, J, I));
    }

    private static MethodHandle handle(SymbolLookup lookup, String name, FunctionDescriptor fd) {
        MemorySegment symbol = lookup.find(name).orElseThrow(() -> new NativeLibraryException(
                "symbol " + name + " is missing from libmoeoracle_cpu; the library does not match this jar"));
        return LINKER.downcallHandle(symbol, fd);
    }

    private static final class Holder {
        static final MoeCpuNative INSTANCE;
        static final RuntimeException CAUSE;

        static {
            MoeCpuNative instance = null;
            RuntimeException cause = null;
            try {
                instance = load(NativeLibraryLoader.builder("libmoeoracle_cpu")
                        .bundled("libmoeoracle_cpu.so", MoeCpuNative.class.getClassLoader()).build());
                LOG.debug("libmoeoracle_cpu ABI {} loaded from {} ({}), host ISA {}", ABI_VERSION, instance.path,
                        instance.origin, instance.isaName(instance.hostIsa()));
            } catch (IllegalCallerException e) {
                cause = new NativeLibraryException("native access is not enabled for this module; start the JVM with "
                        + "--enable-native-access=io.moeoracle.nativeload," + moduleName()
                        + " (or ALL-UNNAMED on the class path)", e);
            } catch (RuntimeException | LinkageError e) {
                cause = e instanceof RuntimeException re ? re
                        : new NativeLibraryException("could not load libmoeoracle_cpu: " + e, e);
            }
            INSTANCE = instance;
            CAUSE = cause;
            if (cause != null) {
                LOG.debug("libmoeoracle_cpu unavailable: {}", cause.getMessage());
            }
        }

        private static String moduleName() {
            Module m = MoeCpuNative.class.getModule();
            return m.isNamed() ? m.getName() : "ALL-UNNAMED";
        }
    }

    /**
     * Loads with the given loader (used by tests with a custom search), checking the ABI version.
     *
     * @param loader where to look
     * @return the bindings
     * @throws NativeLibraryException when no candidate loads
     */
    public static MoeCpuNative load(NativeLibraryLoader loader) {
        return new MoeCpuNative(loader.load(MoeCpuNative::checkAbi));
    }

    private static void checkAbi(SymbolLookup lookup, Path path) {
        MemorySegment sym = lookup.find("moe_cpu_abi_version").orElseThrow(() -> new NativeLibraryException(
                path + " has no moe_cpu_abi_version: it is not a moe-oracle CPU library"));
        int found;
        try {
            found = (int) LINKER.downcallHandle(sym, FunctionDescriptor.of(I)).invokeExact();
        } catch (Throwable t) {
            throw new NativeLibraryException("moe_cpu_abi_version() in " + path + " failed: " + t, t);
        }
        if (found != ABI_VERSION) {
            throw new NativeLibraryException("libmoeoracle_cpu ABI version mismatch: expected [" + ABI_VERSION
                    + "], found [" + found + "] in " + path + "; remove the stale file or fix java.library.path");
        }
    }

    /**
     * @return the bindings
     * @throws NativeLibraryException (or the original error) when the library could not be loaded
     */
    public static MoeCpuNative get() {
        if (Holder.INSTANCE == null) {
            throw Holder.CAUSE;
        }
        return Holder.INSTANCE;
    }

    /** @return why the library is not available, or empty when it loaded */
    public static Optional<RuntimeException> unavailabilityCause() {
        return Optional.ofNullable(Holder.CAUSE);
    }

    /** @return the library file that was opened */
    public Path path() {
        return path;
    }

    /** @return how it was found: {@code java.library.path} or {@code extracted} */
    public String origin() {
        return origin;
    }

    /** @return the best ISA code this CPU runs (0 scalar, 1 AVX2+FMA, 2 AVX-512 BF16) */
    public int hostIsa() {
        try {
            return (int) hostIsa.invokeExact();
        } catch (Throwable t) {
            throw rethrow("moe_cpu_host_isa()", t);
        }
    }

    /**
     * @param isa an ISA code
     * @return its name, e.g. {@code avx512-bf16}
     */
    public String isaName(int isa) {
        try {
            MemorySegment s = (MemorySegment) isaName.invokeExact(isa);
            return s.reinterpret(64).getString(0);
        } catch (Throwable t) {
            throw rethrow("moe_cpu_isa_name(" + isa + ")", t);
        }
    }

    private String lastError() {
        try {
            MemorySegment s = (MemorySegment) lastError.invokeExact();
            return s.reinterpret(512).getString(0);
        } catch (Throwable t) {
            return "(error text unavailable: " + t + ")";
        }
    }

    private String layerError(MemorySegment layer) {
        try {
            MemorySegment s = (MemorySegment) layerError.invokeExact(layer);
            return s.reinterpret(512).getString(0);
        } catch (Throwable t) {
            return "(error text unavailable: " + t + ")";
        }
    }

    /**
     * Creates a layer object with its worker threads.
     *
     * @param experts E
     * @param topK k
     * @param hidden H
     * @param intermediate I
     * @param weightFormat {@link #WFMT_MXFP4} or {@link #WFMT_BF16}
     * @param activation an {@code ACT_} code
     * @param alpha SwiGLU-OAI alpha
     * @param limit SwiGLU-OAI limit
     * @param hasBias whether biases are given to prepare
     * @param isa the ISA code to run
     * @param threads worker threads (the caller counts as one)
     * @return the native handle
     */
    public MemorySegment layerCreate(int experts, int topK, int hidden, int intermediate, int weightFormat,
                                     int activation, float alpha, float limit, boolean hasBias, int isa, int threads) {
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            MemorySegment out = arena.allocate(A);
            int rc = (int) layerCreate.invokeExact(experts, topK, hidden, intermediate, weightFormat, activation, alpha,
                    limit, hasBias ? 1 : 0, isa, threads, out);
            if (rc != 0) {
                throw new CpuNativeException("moe_cpu_layer_create", "E=" + experts + ", topK=" + topK + ", H=" + hidden
                        + ", I=" + intermediate + ", wfmt=" + weightFormat + ", act=" + activation + ", isa=" + isa
                        + ", threads=" + threads, rc, lastError());
            }
            return out.get(A, 0);
        } catch (CpuNativeException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow("moe_cpu_layer_create", t);
        }
    }

    /** @param layer a handle from {@link #layerCreate}; freed with its threads and weights */
    public void layerDestroy(MemorySegment layer) {
        try {
            layerDestroy.invokeExact(layer);
        } catch (Throwable t) {
            throw rethrow("moe_cpu_layer_destroy", t);
        }
    }

    /**
     * The worker pools alive in this process. Every layer asking for the same thread count (by
     * default all cores) shares one pool, created with the first layer and stopped with the last;
     * forwards of several layers run on it one after the other.
     *
     * @return how many shared pools exist now (0 when no layer is open)
     */
    public int sharedPools() {
        try {
            return (int) sharedPools.invokeExact();
        } catch (Throwable t) {
            throw rethrow("moe_cpu_shared_pools", t);
        }
    }

    /**
     * @param layer a handle
     * @return its worker thread count
     */
    public int layerThreads(MemorySegment layer) {
        try {
            return (int) layerThreads.invokeExact(layer);
        } catch (Throwable t) {
            throw rethrow("moe_cpu_layer_threads", t);
        }
    }

    /**
     * Converts canonical weights into the kernel layout (see moe_cpu.h). Native segments only.
     *
     * @param layer a handle
     * @param w13 blocks or bf16 weights
     * @param w13s scales, or NULL for BF16
     * @param b13 bias or NULL
     * @param b13Dtype {@link #DT_F32} or {@link #DT_BF16}
     * @param w2 blocks or bf16 weights
     * @param w2s scales, or NULL
     * @param b2 bias or NULL
     * @param b2Dtype dtype code
     */
    public void layerPrepare(MemorySegment layer, MemorySegment w13, MemorySegment w13s, MemorySegment b13,
                             int b13Dtype, MemorySegment w2, MemorySegment w2s, MemorySegment b2, int b2Dtype) {
        int rc;
        try {
            rc = (int) layerPrepare.invokeExact(layer, w13, w13s, b13, b13Dtype, w2, w2s, b2, b2Dtype);
        } catch (Throwable t) {
            throw rethrow("moe_cpu_layer_prepare", t);
        }
        if (rc != 0) {
            throw new CpuNativeException("moe_cpu_layer_prepare", "w13=" + w13.byteSize() + " B, w2=" + w2.byteSize()
                    + " B", rc, layerError(layer));
        }
    }

    /**
     * Runs one forward. Native segments only; shapes were checked by the caller.
     *
     * @param layer a handle
     * @param tokens T
     * @param hidden [T, H]
     * @param hiddenDtype dtype code
     * @param routingKind 0 logits, 1 top-k
     * @param logits [T, E] or NULL
     * @param logitsDtype dtype code
     * @param ids [T, k] I32 or NULL
     * @param weights [T, k] F32 or NULL
     * @param out [T, H]
     * @param outDtype dtype code
     * @param adapterIds [T] I32 adapter per token, or NULL without LoRA
     */
    public void layerForward(MemorySegment layer, int tokens, MemorySegment hidden, int hiddenDtype, int routingKind,
                             MemorySegment logits, int logitsDtype, MemorySegment ids, MemorySegment weights,
                             MemorySegment out, int outDtype, MemorySegment adapterIds) {
        int rc;
        try {
            rc = (int) layerForward.invokeExact(layer, tokens, hidden, hiddenDtype, routingKind, logits, logitsDtype,
                    ids, weights, out, outDtype, adapterIds);
        } catch (Throwable t) {
            throw rethrow("moe_cpu_layer_forward", t);
        }
        if (rc != 0) {
            throw new CpuNativeException("moe_cpu_layer_forward", "T=" + tokens + ", hiddenDtype=" + hiddenDtype
                    + ", routing=" + (routingKind == 0 ? "logits" : "top-k") + ", outDtype=" + outDtype, rc,
                    layerError(layer));
        }
    }

    /**
     * @param isa ISA code
     * @param threads threads reading at once
     * @param bytes buffer size (far larger than the caches)
     * @param reps repetitions (the best is returned)
     * @return bytes per second
     */
    public double probeReadBandwidth(int isa, int threads, long bytes, int reps) {
        double r;
        try {
            r = (double) probeReadBandwidth.invokeExact(isa, threads, bytes, reps);
        } catch (Throwable t) {
            throw rethrow("moe_cpu_probe_read_bandwidth", t);
        }
        if (!(r > 0)) {
            throw new CpuNativeException("moe_cpu_probe_read_bandwidth", "isa=" + isa + ", threads=" + threads
                    + ", bytes=" + bytes + ", reps=" + reps, -1, lastError());
        }
        return r;
    }

    /**
     * @param isa ISA code
     * @param threads threads
     * @param iters loop iterations per thread
     * @param reps repetitions (the best is returned)
     * @return flops per second
     */
    public double probeDotPeak(int isa, int threads, long iters, int reps) {
        double r;
        try {
            r = (double) probeDotPeak.invokeExact(isa, threads, iters, reps);
        } catch (Throwable t) {
            throw rethrow("moe_cpu_probe_dot_peak", t);
        }
        if (!(r > 0)) {
            throw new CpuNativeException("moe_cpu_probe_dot_peak", "isa=" + isa + ", threads=" + threads
                    + ", iters=" + iters + ", reps=" + reps, -1, lastError());
        }
        return r;
    }

    /** @return the LoRA downcalls */
    public CpuLoraNative lora() {
        return lora;
    }

    static RuntimeException rethrow(String call, Throwable t) {
        if (t instanceof RuntimeException re) {
            return re;
        }
        if (t instanceof Error err) {
            throw err;
        }
        return new NativeLibraryException(call + " failed: " + t, t);
    }
}
