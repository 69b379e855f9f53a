package io.moeoracle.driver.cuda.ffi;

import io.moeoracle.nativeload.ffi.NativeLibrary;
import static io.moeoracle.driver.cuda.ffi.CuTypes.INT;
import static io.moeoracle.driver.cuda.ffi.CuTypes.PTR;

import io.moeoracle.nativeload.ffi.NativeLibraryLoader;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * cuBLAS ({@code libcublas.so}), used only to measure the BF16 matmul ceiling. Opened on first use
 * of this class through the shared {@link NativeLibraryLoader}: {@code moe.cublas.path} when set
 * (only that file; {@code libcublasLt} beside it is opened first so the loader finds it), else the
 * sonames {@code libcublas.so.13}/{@code .12} in {@code java.library.path} and through the system
 * loader, then the CUDA toolkit folders.
 */
public final class LibCublas {
    private static final String SONAMES = "libcublas\\.so\\.\\d+";

    static final NativeLibrary LIBRARY = open();

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

    private static NativeLibrary open() {
        CudaSettings.CUBLAS.value().map(Path::of).map(p -> p.toAbsolutePath().getParent())
                .filter(Files::isDirectory).ifPresent(dir -> NativeLibrary.open("libcublasLt",
                        NativeLibraryLoader.builder("libcublasLt").fileNames().libraryPath(List.of())
                                .systemSearch(false).folders(List.of(dir), "libcublasLt\\.so\\.\\d+").build()));
        return NativeLibrary.open("libcublas", NativeLibraryLoader.builder("libcublas")
                .override(CudaSettings.CUBLAS).fileNames("libcublas.so.13", "libcublas.so.12", "libcublas.so")
                .folders(List.of(Path.of("/usr/local/cuda/lib64"), Path.of("/usr/local/cuda/targets/x86_64-linux/lib"),
                        Path.of("/usr/lib/x86_64-linux-gnu")), SONAMES)
                .remedy("install the CUDA toolkit's cuBLAS (or a Python wheel's nvidia-cublas)").build());
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
