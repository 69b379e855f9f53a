package io.moeoracle.driver.cuda.ffi;

import io.moeoracle.nativeload.ffi.NativeLibrary;
import io.moeoracle.nativeload.ffi.NativeLibraryLoader;

/**
 * The CUDA driver library, {@code libcuda.so.1}, opened once through the shared
 * {@link NativeLibraryLoader}: {@code moe.cuda.driver} when set (only that), else
 * {@code java.library.path}, else the system loader.
 */
public final class LibCuda {
    static final NativeLibrary LIBRARY = NativeLibrary.open("libcuda", NativeLibraryLoader.builder("libcuda")
            .override(CudaSettings.DRIVER).fileNames("libcuda.so.1", "libcuda.so")
            .remedy("install the NVIDIA driver").build());

    private LibCuda() {
    }

    /** @return the opened library, or the reason it is not */
    public static NativeLibrary library() {
        return LIBRARY;
    }
}
