package io.moeoracle.driver.cuda;

import io.moeoracle.driver.cuda.ffi.CudaSettings;
import io.moeoracle.driver.cuda.ffi.LibCublasLt;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Optional;

/**
 * One cuBLASLt FP8 matmul plan bound to a stream, for one job: {@code D = Aᵀ·B} with E4M3 inputs
 * (the "TN" layout FP8 requires), BF16 output, FP32 accumulation and scale type, the FP8 ceiling the
 * MXFP8-activation kernels are measured against. The algorithm is cuBLASLt's first heuristic choice
 * for a 32 MiB workspace. Uses the primary context current on the calling thread.
 */
final class CublasLtFp8Gemm implements AutoCloseable {
    private static final long WORKSPACE = 32L << 20;

    private final Arena arena = Arena.ofConfined();
    private final CudaStream stream;
    private final DeviceBuffer workspace;
    private final int m;
    private final int n;
    private final int k;
    private final MemorySegment handle;
    private final MemorySegment desc;
    private final MemorySegment aDesc;
    private final MemorySegment bDesc;
    private final MemorySegment dDesc;
    private final MemorySegment algo;
    private final MemorySegment alpha;
    private final MemorySegment beta;

    /** @return why cuBLASLt cannot be used, or empty when it can */
    static Optional<String> unavailability() {
        return LibCublasLt.library().isLoaded() ? Optional.empty()
                : Optional.of(LibCublasLt.library().failure().map(Throwable::getMessage).orElse("libcublasLt not loaded")
                        + " (name libcublas with -D" + CudaSettings.CUBLAS.name() + "=/path/to/libcublas.so.N; cuBLASLt is"
                        + " looked up beside it)");
    }

    /**
     * Plans {@code D[m×n] = Aᵀ·B}, A stored k×m and B k×n column-major (K contiguous for both).
     *
     * @param context the context (made current)
     * @param stream the stream the matmuls go to
     * @param m rows of D @param n columns of D @param k inner size
     * @param fastAccum cuBLASLt's FP8 fast accumulation (no periodic promotion of partial sums)
     */
    CublasLtFp8Gemm(CudaContext context, CudaStream stream, int m, int n, int k, boolean fastAccum) {
        if (m <= 0 || n <= 0 || k <= 0 || m % 16 != 0 || n % 16 != 0 || k % 16 != 0) {
            throw new IllegalArgumentException("FP8 matmul sizes must be positive multiples of 16: m=" + m + ", n=" + n
                    + ", k=" + k);
        }
        context.ensureCurrent();
        this.stream = stream;
        this.m = m;
        this.n = n;
        this.k = k;
        boolean ok = false;
        MemorySegment h = null;
        MemorySegment ds = null;
        MemorySegment la = null;
        MemorySegment lb = null;
        MemorySegment ld = null;
        DeviceBuffer ws = null;
        String args = "m=" + m + ", n=" + n + ", k=" + k + ", e4m3 TN, bf16 out, COMPUTE_32F, fastAccum=" + fastAccum;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ValueLayout.ADDRESS);
            check(LibCublasLt.cublasLtCreate(out), "cublasLtCreate", "");
            h = out.get(ValueLayout.ADDRESS, 0);
            check(LibCublasLt.cublasLtMatmulDescCreate(out, LibCublasLt.CUBLAS_COMPUTE_32F, LibCublasLt.CUDA_R_32F),
                    "cublasLtMatmulDescCreate", args);
            ds = out.get(ValueLayout.ADDRESS, 0);
            MemorySegment i32 = a.allocateFrom(ValueLayout.JAVA_INT, LibCublasLt.CUBLAS_OP_T);
            check(LibCublasLt.cublasLtMatmulDescSetAttribute(ds, LibCublasLt.DESC_TRANSA, i32, 4),
                    "cublasLtMatmulDescSetAttribute(TRANSA=T)", args);
            i32.set(ValueLayout.JAVA_INT, 0, LibCublasLt.CUBLAS_OP_N);
            check(LibCublasLt.cublasLtMatmulDescSetAttribute(ds, LibCublasLt.DESC_TRANSB, i32, 4),
                    "cublasLtMatmulDescSetAttribute(TRANSB=N)", args);
            MemorySegment i8 = a.allocateFrom(ValueLayout.JAVA_BYTE, (byte) (fastAccum ? 1 : 0));
            check(LibCublasLt.cublasLtMatmulDescSetAttribute(ds, LibCublasLt.DESC_FAST_ACCUM, i8, 1),
                    "cublasLtMatmulDescSetAttribute(FAST_ACCUM)", args);
            check(LibCublasLt.cublasLtMatrixLayoutCreate(out, LibCublasLt.CUDA_R_8F_E4M3, k, m, k),
                    "cublasLtMatrixLayoutCreate(A)", args);
            la = out.get(ValueLayout.ADDRESS, 0);
            check(LibCublasLt.cublasLtMatrixLayoutCreate(out, LibCublasLt.CUDA_R_8F_E4M3, k, n, k),
                    "cublasLtMatrixLayoutCreate(B)", args);
            lb = out.get(ValueLayout.ADDRESS, 0);
            check(LibCublasLt.cublasLtMatrixLayoutCreate(out, LibCublasLt.CUDA_R_16BF, m, n, m),
                    "cublasLtMatrixLayoutCreate(D)", args);
            ld = out.get(ValueLayout.ADDRESS, 0);
            check(LibCublasLt.cublasLtMatmulPreferenceCreate(out), "cublasLtMatmulPreferenceCreate", "");
            MemorySegment pref = out.get(ValueLayout.ADDRESS, 0);
            try {
                MemorySegment wsBytes = a.allocateFrom(ValueLayout.JAVA_LONG, WORKSPACE);
                check(LibCublasLt.cublasLtMatmulPreferenceSetAttribute(pref, LibCublasLt.PREF_MAX_WORKSPACE_BYTES,
                        wsBytes, 8), "cublasLtMatmulPreferenceSetAttribute(MAX_WORKSPACE_BYTES)", "32 MiB");
                MemorySegment results = arena.allocate(LibCublasLt.HEURISTIC_RESULT_BYTES, 16);
                MemorySegment count = a.allocate(ValueLayout.JAVA_INT);
                check(LibCublasLt.cublasLtMatmulAlgoGetHeuristic(h, ds, la, lb, ld, ld, pref, 1, results, count),
                        "cublasLtMatmulAlgoGetHeuristic", args);
                int got = count.get(ValueLayout.JAVA_INT, 0);
                int state = results.get(ValueLayout.JAVA_INT, LibCublasLt.HEURISTIC_STATE_OFFSET);
                if (got < 1 || state != 0) {
                    check(state == 0 ? 15 : state, "cublasLtMatmulAlgoGetHeuristic", args + ": " + got
                            + " algorithms returned");
                }
                this.algo = results;
            } finally {
                LibCublasLt.cublasLtMatmulPreferenceDestroy(pref);
            }
            ws = context.allocate(WORKSPACE);
            ok = true;
        } finally {
            if (!ok) {
                destroy(h, ds, la, lb, ld);
                if (ws != null) {
                    ws.close();
                }
                arena.close();
            }
        }
        this.handle = h;
        this.desc = ds;
        this.aDesc = la;
        this.bDesc = lb;
        this.dDesc = ld;
        this.workspace = ws;
        this.alpha = arena.allocateFrom(ValueLayout.JAVA_FLOAT, 1f);
        this.beta = arena.allocateFrom(ValueLayout.JAVA_FLOAT, 0f);
    }

    /** @return e.g. {@code cuBLASLt 13.0.2} */
    static String version() {
        long v = LibCublasLt.cublasLtGetVersion();
        return "cuBLASLt " + v / 10000 + "." + (v / 100) % 100 + "." + v % 100;
    }

    /** @return the library file it came from */
    static String library() {
        return LibCublasLt.library().description();
    }

    /**
     * Queues one matmul.
     *
     * @param a E4M3 k×m (at least m·k bytes) @param b E4M3 k×n @param d BF16 m×n
     */
    void gemm(DeviceBuffer a, DeviceBuffer b, DeviceBuffer d) {
        if (a.byteSize() < (long) m * k || b.byteSize() < (long) n * k || d.byteSize() < 2L * m * n) {
            throw new IllegalArgumentException("FP8 matmul buffers too small for m=" + m + ", n=" + n + ", k=" + k);
        }
        MemorySegment dp = MemorySegment.ofAddress(d.address());
        check(LibCublasLt.cublasLtMatmul(handle, desc, alpha, MemorySegment.ofAddress(a.address()), aDesc,
                MemorySegment.ofAddress(b.address()), bDesc, beta, dp, dDesc, dp, dDesc, algo,
                MemorySegment.ofAddress(workspace.address()), WORKSPACE, stream.handle()),
                "cublasLtMatmul", "m=" + m + ", n=" + n + ", k=" + k + ", e4m3 TN, bf16 out");
    }

    private static void destroy(MemorySegment h, MemorySegment ds, MemorySegment la, MemorySegment lb, MemorySegment ld) {
        if (la != null) {
            LibCublasLt.cublasLtMatrixLayoutDestroy(la);
        }
        if (lb != null) {
            LibCublasLt.cublasLtMatrixLayoutDestroy(lb);
        }
        if (ld != null) {
            LibCublasLt.cublasLtMatrixLayoutDestroy(ld);
        }
        if (ds != null) {
            LibCublasLt.cublasLtMatmulDescDestroy(ds);
        }
        if (h != null) {
            LibCublasLt.cublasLtDestroy(h);
        }
    }

    private static void check(int status, String call, String args) {
        CublasBf16Gemm.check(status, call, args);
    }

    @Override
    public void close() {
        try {
            destroy(handle, desc, aDesc, bDesc, dDesc);
        } finally {
            workspace.close();
            arena.close();
        }
    }
}
