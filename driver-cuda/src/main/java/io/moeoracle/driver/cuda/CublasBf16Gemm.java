package io.moeoracle.driver.cuda;

import io.moeoracle.driver.cuda.ffi.CudaSettings;
import io.moeoracle.driver.cuda.ffi.LibCublas;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Optional;

/**
 * A cuBLAS handle bound to a stream, for one job: {@code C = A·B} with BF16 inputs and output and
 * FP32 accumulation ({@code cublasGemmEx}, {@code CUBLAS_COMPUTE_32F}), the ceiling the kernels
 * are measured against. Uses the primary context current on the calling thread.
 */
final class CublasBf16Gemm implements AutoCloseable {
    private final Arena arena = Arena.ofConfined();
    private final MemorySegment handle;
    private final MemorySegment alpha;
    private final MemorySegment beta;
    private final int version;

    private CublasBf16Gemm(MemorySegment handle, int version) {
        this.handle = handle;
        this.version = version;
        this.alpha = arena.allocateFrom(ValueLayout.JAVA_FLOAT, 1f);
        this.beta = arena.allocateFrom(ValueLayout.JAVA_FLOAT, 0f);
    }

    /** @return why cuBLAS cannot be used, or empty when it can */
    static Optional<String> unavailability() {
        return LibCublas.library().isLoaded() ? Optional.empty()
                : Optional.of(LibCublas.library().failure().map(Throwable::getMessage).orElse("libcublas not loaded")
                        + " (name the library with -D" + CudaSettings.CUBLAS.name() + "=/path/to/libcublas.so.N)");
    }

    static CublasBf16Gemm create(CudaStream stream) {
        MemorySegment h;
        int version;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ValueLayout.ADDRESS);
            check(LibCublas.cublasCreate(out), "cublasCreate_v2", "");
            h = out.get(ValueLayout.ADDRESS, 0);
            MemorySegment v = a.allocate(ValueLayout.JAVA_INT);
            check(LibCublas.cublasGetVersion(h, v), "cublasGetVersion_v2", "");
            version = v.get(ValueLayout.JAVA_INT, 0);
        }
        check(LibCublas.cublasSetStream(h, stream.handle()), "cublasSetStream_v2", "stream=" + stream);
        return new CublasBf16Gemm(h, version);
    }

    /** @return e.g. {@code cuBLAS 13.0.2} from {@code cublasGetVersion} */
    String version() {
        return "cuBLAS " + version / 10000 + "." + (version / 100) % 100 + "." + version % 100;
    }

    /** @return the library file it came from */
    String library() {
        return LibCublas.library().description();
    }

    /** Queues {@code C[m×n] = A[m×k]·B[k×n]}, column-major, all BF16. */
    void gemm(DeviceBuffer a, DeviceBuffer b, DeviceBuffer c, int m, int n, int k) {
        int rc = LibCublas.cublasGemmEx(handle, LibCublas.CUBLAS_OP_N, LibCublas.CUBLAS_OP_N, m, n, k, alpha,
                MemorySegment.ofAddress(a.address()), LibCublas.CUDA_R_16BF, m,
                MemorySegment.ofAddress(b.address()), LibCublas.CUDA_R_16BF, k, beta,
                MemorySegment.ofAddress(c.address()), LibCublas.CUDA_R_16BF, m,
                LibCublas.CUBLAS_COMPUTE_32F, LibCublas.CUBLAS_GEMM_DEFAULT);
        if (rc != 0) {
            check(rc, "cublasGemmEx", "m=" + m + ", n=" + n + ", k=" + k + ", bf16 in/out, COMPUTE_32F");
        }
    }

    /** Turns a cublasStatus_t (cuBLAS or cuBLASLt) into a CublasException naming the call, its arguments and the status name. */
    static void check(int status, String call, String args) {
        if (status != 0) {
            String name;
            try {
                MemorySegment s = LibCublas.cublasGetStatusName(status);
                name = s.equals(MemorySegment.NULL) ? "cublasStatus " + status : cString(s);
            } catch (LinkageError e) {
                name = "cublasStatus " + status;
            }
            throw new CublasException(call, args, status, name);
        }
    }

    @SuppressWarnings("restricted")
    private static String cString(MemorySegment s) {
        return s.reinterpret(256).getString(0);
    }

    @Override
    public void close() {
        try {
            check(LibCublas.cublasDestroy(handle), "cublasDestroy_v2", "");
        } finally {
            arena.close();
        }
    }

    /** A cuBLAS call failed. */
    static final class CublasException extends CudaException {
        @java.io.Serial
        private static final long serialVersionUID = 1L;

        CublasException(String call, String args, int status, String name) {
            super(call, args, status, name, "cuBLAS status", "");
        }
    }
}
