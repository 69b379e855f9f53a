package io.moeoracle.driver.hip.ffi;

import io.moeoracle.nativeload.ffi.NativeLibrary;
import io.moeoracle.nativeload.ffi.NativeLibraryLoader;

/**
 * The HIP runtime library, {@code libamdhip64}, opened once through the shared
 * {@link NativeLibraryLoader}: {@code moe.hip.runtime} when set (only that), else
 * {@code java.library.path}, else the system loader.
 */
public final class LibHip {
    static final NativeLibrary LIBRARY = NativeLibrary.open("libamdhip64", NativeLibraryLoader.builder("libamdhip64")
            .override(HipSettings.RUNTIME).fileNames("libamdhip64.so.7", "libamdhip64.so.6", "libamdhip64.so")
            .remedy("install the ROCm HIP runtime (e.g. the hip-runtime-amd package)").build());

    private LibHip() {
    }

    /** @return the opened library, or the reason it is not */
    public static NativeLibrary library() {
        return LIBRARY;
    }
}
