package io.moeoracle.driver.cuda.ffi;

import static io.moeoracle.driver.cuda.ffi.LibCuda.INT;
import static io.moeoracle.driver.cuda.ffi.LibCuda.PTR;

import java.io.IOException;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * cuBLAS ({@code libcublas.so}), used only to measure the BF16 matmul ceiling. Opened on first use
 * of this class: the system property {@code moe.cublas.path} (the library file) first, then the
 * sonames {@code libcublas.so.13}/{@code .12} through the loader path, then the CUDA toolkit folders.
 * {@code libcublasLt} beside the chosen file is opened first so the loader finds it.
 */
public final class LibCublas {
    /** Property naming the cuBLAS library file to open first. */
    public static final String PROPERTY = "moe.cublas.path";

    static final NativeLibrary LIBRARY = NativeLibrary.open("libcublas", candidates());

    private static final MethodHandle CREATE = LIBRARY.downcall(FunctionDescriptor.of(INT, PTR), "cublasCreate_v2");
    private static final MethodHandle DESTROY = LIBRARY.downcall(FunctionDescriptor.of(INT, PTR), "cublasDestroy_v2");
    private static final MethodHandle SET_STREAM = LIBRARY.downcall(FunctionDescriptor.of(INT, PTR, PTR), "cublasSetStream_v2");
    private static final MethodHandle GET_VERSION = LIBRARY.downcall(FunctionDescriptor.of(INT, PTR, PTR), "cublasGetVersion_v2");
    private static final MethodHandle GET_STATUS_NAME = LIBRARY.downcall(FunctionDescriptor.of(PTR, INT), "cublasGetStatusName");
    private static final MethodHandle GEMM_EX = LIBRARY.downcall(FunctionDescriptor.of(INT,
            PTR, INT, INT, INT, INT, INT, PTR, PTR, INT, INT, PTR, INT, INT, PTR, PTR, INT, INT, INT, INT), "cublasGemmEx");

    /** {@code CUDA_R_32F}. */
    public static final int CUDA_R_32F = 0;
    /** {@code CUDA_R_16BF}. */
    public static final int CUDA_R_16BF = 14;
    /** {@code CUBLAS_COMPUTE_32F}. */
    public static final int CUBLAS_COMPUTE_32F = 68;
    /** {@code CUBLAS_GEMM_DEFAULT}. */
    public static final int CUBLAS_GEMM_DEFAULT = -1;
    /** {@code CUBLAS_OP_N}. */
    public static final int CUBLAS_OP_N = 0;


    private LibCublas() {
    }

    private static List<String> candidates() {
        List<String> names = new ArrayList<>();
        String override = System.getProperty(PROPERTY, "").trim();
        if (!override.isEmpty()) {
            preloadLt(Path.of(override));
            names.add(override);
        }
        names.add("libcublas.so.13");
        names.add("libcublas.so.12");
        names.add("libcublas.so");
        for (String dir : List.of("/usr/local/cuda/lib64", "/usr/local/cuda/targets/x86_64-linux/lib",
                "/usr/lib/x86_64-linux-gnu")) {
            Path d = Path.of(dir);
            if (Files.isDirectory(d)) {
                try (Stream<Path> files = Files.list(d)) {
                    files.filter(p -> p.getFileName().toString().matches("libcublas\\.so\\.\\d+"))
                            .sorted().forEach(p -> names.add(p.toString()));
                } catch (IOException e) {
                    // an unreadable folder is one candidate fewer
                }
            }
        }
        return names;
    }

    private static void preloadLt(Path cublas) {
        Path dir = cublas.toAbsolutePath().getParent();
        if (dir == null || !Files.isDirectory(dir)) {
            return;
        }
        try (Stream<Path> files = Files.list(dir)) {
            files.filter(p -> p.getFileName().toString().matches("libcublasLt\\.so\\.\\d+")).findFirst()
                    .ifPresent(lt -> NativeLibrary.open("libcublasLt", List.of(lt.toString())));
        } catch (IOException e) {
            // the loader may still find it
        }
    }

    /** @return the opened library, or the reason it is not */
    public static NativeLibrary library() {
        return LIBRARY;
    }

    /** @param handle out cublasHandle_t @return cublasStatus_t */
    public static int cublasCreate(MemorySegment handle) {
        try {
            return (int) CREATE.invokeExact(handle);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** @param handle cublasHandle_t @return cublasStatus_t */
    public static int cublasDestroy(MemorySegment handle) {
        try {
            return (int) DESTROY.invokeExact(handle);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** @param handle cublasHandle_t @param stream cudaStream_t (a CUstream) @return cublasStatus_t */
    public static int cublasSetStream(MemorySegment handle, MemorySegment stream) {
        try {
            return (int) SET_STREAM.invokeExact(handle, stream);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** @param handle cublasHandle_t @param version out int @return cublasStatus_t */
    public static int cublasGetVersion(MemorySegment handle, MemorySegment version) {
        try {
            return (int) GET_VERSION.invokeExact(handle, version);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** @param status cublasStatus_t @return const char* name */
    public static MemorySegment cublasGetStatusName(int status) {
        try {
            return (MemorySegment) GET_STATUS_NAME.invokeExact(status);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /**
     * {@code cublasGemmEx}: C = alpha op(A) op(B) + beta C, column-major.
     *
     * @param handle handle @param transa op A @param transb op B @param m rows of C @param n cols of C
     * @param k inner @param alpha host float* @param a A @param atype A type @param lda lead A
     * @param b B @param btype B type @param ldb lead B @param beta host float* @param c C
     * @param ctype C type @param ldc lead C @param computeType compute type @param algo algorithm
     * @return cublasStatus_t
     */
    public static int cublasGemmEx(MemorySegment handle, int transa, int transb, int m, int n, int k,
                                   MemorySegment alpha, MemorySegment a, int atype, int lda,
                                   MemorySegment b, int btype, int ldb, MemorySegment beta,
                                   MemorySegment c, int ctype, int ldc, int computeType, int algo) {
        try {
            return (int) GEMM_EX.invokeExact(handle, transa, transb, m, n, k, alpha, a, atype, lda, b, btype, ldb,
                    beta, c, ctype, ldc, computeType, algo);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }
}
