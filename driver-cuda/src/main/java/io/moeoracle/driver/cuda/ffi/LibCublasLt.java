package io.moeoracle.driver.cuda.ffi;

import static io.moeoracle.driver.cuda.ffi.CuTypes.INT;
import static io.moeoracle.driver.cuda.ffi.CuTypes.PTR;

import io.moeoracle.nativeload.ffi.NativeLibrary;
import io.moeoracle.nativeload.ffi.NativeLibraryLoader;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * cuBLASLt ({@code libcublasLt.so}), used only to measure the FP8 (E4M3) matmul ceiling. Opened on
 * first use: the folder of {@code moe.cublas.path} when that is set (cuBLASLt always ships beside
 * cuBLAS), else the sonames {@code libcublasLt.so.13}/{@code .12} in {@code java.library.path}, through
 * the system loader and in the CUDA toolkit folders.
 */
public final class LibCublasLt {
    private static final String SONAMES = "libcublasLt\\.so\\.\\d+";
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG;
    private static final ValueLayout.OfLong SIZE_T = ValueLayout.JAVA_LONG;

    static final NativeLibrary LIBRARY = open();

    private static final MethodHandle CREATE = LIBRARY.downcall(FunctionDescriptor.of(INT, PTR), "cublasLtCreate");
    private static final MethodHandle DESTROY = LIBRARY.downcall(FunctionDescriptor.of(INT, PTR), "cublasLtDestroy");
    private static final MethodHandle GET_VERSION = LIBRARY.downcall(FunctionDescriptor.of(SIZE_T), "cublasLtGetVersion");
    private static final MethodHandle DESC_CREATE = LIBRARY.downcall(FunctionDescriptor.of(INT, PTR, INT, INT),
            "cublasLtMatmulDescCreate");
    private static final MethodHandle DESC_DESTROY = LIBRARY.downcall(FunctionDescriptor.of(INT, PTR),
            "cublasLtMatmulDescDestroy");
    private static final MethodHandle DESC_SET = LIBRARY.downcall(FunctionDescriptor.of(INT, PTR, INT, PTR, SIZE_T),
            "cublasLtMatmulDescSetAttribute");
    private static final MethodHandle LAYOUT_CREATE = LIBRARY.downcall(FunctionDescriptor.of(INT, PTR, INT, U64, U64,
            ValueLayout.JAVA_LONG), "cublasLtMatrixLayoutCreate");
    private static final MethodHandle LAYOUT_DESTROY = LIBRARY.downcall(FunctionDescriptor.of(INT, PTR),
            "cublasLtMatrixLayoutDestroy");
    private static final MethodHandle PREF_CREATE = LIBRARY.downcall(FunctionDescriptor.of(INT, PTR),
            "cublasLtMatmulPreferenceCreate");
    private static final MethodHandle PREF_DESTROY = LIBRARY.downcall(FunctionDescriptor.of(INT, PTR),
            "cublasLtMatmulPreferenceDestroy");
    private static final MethodHandle PREF_SET = LIBRARY.downcall(FunctionDescriptor.of(INT, PTR, INT, PTR, SIZE_T),
            "cublasLtMatmulPreferenceSetAttribute");
    private static final MethodHandle HEURISTIC = LIBRARY.downcall(FunctionDescriptor.of(INT,
            PTR, PTR, PTR, PTR, PTR, PTR, PTR, INT, PTR, PTR), "cublasLtMatmulAlgoGetHeuristic");
    private static final MethodHandle MATMUL = LIBRARY.downcall(FunctionDescriptor.of(INT,
            PTR, PTR, PTR, PTR, PTR, PTR, PTR, PTR, PTR, PTR, PTR, PTR, PTR, PTR, SIZE_T, PTR), "cublasLtMatmul");

    /** {@code CUDA_R_32F}. */
    public static final int CUDA_R_32F = 0;
    /** {@code CUDA_R_16BF}. */
    public static final int CUDA_R_16BF = 14;
    /** {@code CUDA_R_8F_E4M3}. */
    public static final int CUDA_R_8F_E4M3 = 28;
    /** {@code CUBLAS_COMPUTE_32F}. */
    public static final int CUBLAS_COMPUTE_32F = 68;
    /** {@code CUBLAS_OP_N}. */
    public static final int CUBLAS_OP_N = 0;
    /** {@code CUBLAS_OP_T}. */
    public static final int CUBLAS_OP_T = 1;
    /** {@code CUBLASLT_MATMUL_DESC_TRANSA} (int32). */
    public static final int DESC_TRANSA = 3;
    /** {@code CUBLASLT_MATMUL_DESC_TRANSB} (int32). */
    public static final int DESC_TRANSB = 4;
    /** {@code CUBLASLT_MATMUL_DESC_FAST_ACCUM} (int8). */
    public static final int DESC_FAST_ACCUM = 25;
    /** {@code CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES} (uint64). */
    public static final int PREF_MAX_WORKSPACE_BYTES = 1;
    /** {@code sizeof(cublasLtMatmulHeuristicResult_t)}: algo (64 bytes), workspaceSize, state, wavesCount, int[4]. */
    public static final long HEURISTIC_RESULT_BYTES = 96;
    /** Offset of {@code state} (cublasStatus_t) in a heuristic result. */
    public static final long HEURISTIC_STATE_OFFSET = 72;
    /** Offset of {@code workspaceSize} (size_t) in a heuristic result. */
    public static final long HEURISTIC_WORKSPACE_OFFSET = 64;

    private LibCublasLt() {
    }

    private static NativeLibrary open() {
        List<Path> folders = new ArrayList<>();
        CudaSettings.CUBLAS.value().map(Path::of).map(p -> p.toAbsolutePath().getParent())
                .filter(Files::isDirectory).ifPresent(folders::add);
        folders.addAll(List.of(Path.of("/usr/local/cuda/lib64"), Path.of("/usr/local/cuda/targets/x86_64-linux/lib"),
                Path.of("/usr/lib/x86_64-linux-gnu")));
        return NativeLibrary.open("libcublasLt", NativeLibraryLoader.builder("libcublasLt")
                .fileNames("libcublasLt.so.13", "libcublasLt.so.12", "libcublasLt.so")
                .folders(folders, SONAMES)
                .remedy("install the CUDA toolkit's cuBLAS (or a Python wheel's nvidia-cublas), or name libcublas with -D"
                        + CudaSettings.CUBLAS.name() + " (cuBLASLt is looked up beside it)").build());
    }

    /** @return the opened library, or the reason it is not */
    public static NativeLibrary library() {
        return LIBRARY;
    }

    /** @param handle out cublasLtHandle_t @return cublasStatus_t */
    public static int cublasLtCreate(MemorySegment handle) {
        try {
            return (int) CREATE.invokeExact(handle);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** @param handle cublasLtHandle_t @return cublasStatus_t */
    public static int cublasLtDestroy(MemorySegment handle) {
        try {
            return (int) DESTROY.invokeExact(handle);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** @return the library version, e.g. 130002 */
    public static long cublasLtGetVersion() {
        try {
            return (long) GET_VERSION.invokeExact();
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** @param desc out cublasLtMatmulDesc_t @param computeType cublasComputeType_t @param scaleType cudaDataType_t @return status */
    public static int cublasLtMatmulDescCreate(MemorySegment desc, int computeType, int scaleType) {
        try {
            return (int) DESC_CREATE.invokeExact(desc, computeType, scaleType);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** @param desc the descriptor @return status */
    public static int cublasLtMatmulDescDestroy(MemorySegment desc) {
        try {
            return (int) DESC_DESTROY.invokeExact(desc);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** @param desc descriptor @param attr attribute @param buf value @param size its bytes @return status */
    public static int cublasLtMatmulDescSetAttribute(MemorySegment desc, int attr, MemorySegment buf, long size) {
        try {
            return (int) DESC_SET.invokeExact(desc, attr, buf, size);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /**
     * @param layout out cublasLtMatrixLayout_t @param type cudaDataType_t @param rows rows
     * @param cols columns @param ld leading dimension (column-major) @return status
     */
    public static int cublasLtMatrixLayoutCreate(MemorySegment layout, int type, long rows, long cols, long ld) {
        try {
            return (int) LAYOUT_CREATE.invokeExact(layout, type, rows, cols, ld);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** @param layout the layout @return status */
    public static int cublasLtMatrixLayoutDestroy(MemorySegment layout) {
        try {
            return (int) LAYOUT_DESTROY.invokeExact(layout);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** @param pref out cublasLtMatmulPreference_t @return status */
    public static int cublasLtMatmulPreferenceCreate(MemorySegment pref) {
        try {
            return (int) PREF_CREATE.invokeExact(pref);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** @param pref the preference @return status */
    public static int cublasLtMatmulPreferenceDestroy(MemorySegment pref) {
        try {
            return (int) PREF_DESTROY.invokeExact(pref);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** @param pref preference @param attr attribute @param buf value @param size its bytes @return status */
    public static int cublasLtMatmulPreferenceSetAttribute(MemorySegment pref, int attr, MemorySegment buf, long size) {
        try {
            return (int) PREF_SET.invokeExact(pref, attr, buf, size);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /**
     * {@code cublasLtMatmulAlgoGetHeuristic}.
     *
     * @param handle handle @param desc operation @param a A layout @param b B layout @param c C layout
     * @param d D layout @param pref preference @param requested results wanted @param results out array of
     * {@link #HEURISTIC_RESULT_BYTES}-byte results @param returned out int @return status
     */
    public static int cublasLtMatmulAlgoGetHeuristic(MemorySegment handle, MemorySegment desc, MemorySegment a,
                                                     MemorySegment b, MemorySegment c, MemorySegment d,
                                                     MemorySegment pref, int requested, MemorySegment results,
                                                     MemorySegment returned) {
        try {
            return (int) HEURISTIC.invokeExact(handle, desc, a, b, c, d, pref, requested, results, returned);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /**
     * {@code cublasLtMatmul}: D = alpha op(A) op(B) + beta C.
     *
     * @param handle handle @param desc operation @param alpha host float* @param a A @param aDesc layout
     * @param b B @param bDesc layout @param beta host float* @param c C @param cDesc layout @param d D
     * @param dDesc layout @param algo cublasLtMatmulAlgo_t* (from a heuristic result) @param workspace device
     * workspace @param workspaceBytes its size @param stream cudaStream_t @return status
     */
    public static int cublasLtMatmul(MemorySegment handle, MemorySegment desc, MemorySegment alpha, MemorySegment a,
                                     MemorySegment aDesc, MemorySegment b, MemorySegment bDesc, MemorySegment beta,
                                     MemorySegment c, MemorySegment cDesc, MemorySegment d, MemorySegment dDesc,
                                     MemorySegment algo, MemorySegment workspace, long workspaceBytes,
                                     MemorySegment stream) {
        try {
            return (int) MATMUL.invokeExact(handle, desc, alpha, a, aDesc, b, bDesc, beta, c, cDesc, d, dDesc, algo,
                    workspace, workspaceBytes, stream);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }
}
