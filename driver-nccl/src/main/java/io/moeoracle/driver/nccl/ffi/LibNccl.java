package io.moeoracle.driver.nccl.ffi;

import io.moeoracle.nativeload.ffi.NativeLibrary;
import io.moeoracle.nativeload.ffi.NativeLibraryLoader;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The NCCL library, {@code libnccl.so.2}, opened once through the shared {@link NativeLibraryLoader}:
 * {@code moe.nccl.library} when set (only that), else {@code java.library.path}, the system loader,
 * then the install folders of {@link NcclLibraryLocations} (which include the Python package
 * {@code nvidia-nccl-cu13} that the GPU machines carry).
 */
public final class LibNccl {
    static final NativeLibrary LIBRARY = open(NcclSettings.LIBRARY.value(), NcclLibraryLocations.defaultFolders());

    static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT;
    /** {@code size_t}, and device pointers ({@code const void*} into GPU memory): 64-bit, passed like pointers. */
    static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG;
    static final MemoryLayout PTR = ValueLayout.ADDRESS;
    /** {@code ncclUniqueId}: {@code struct { char internal[128]; }}, passed by value. */
    public static final StructLayout UNIQUE_ID = MemoryLayout.structLayout(
            MemoryLayout.sequenceLayout(128, ValueLayout.JAVA_BYTE).withName("internal"));

    private LibNccl() {
    }

    /**
     * Opens NCCL from explicit places (tests use it to see the verdict for a missing library).
     *
     * @param override a path or name that, when present, is the only library tried
     * @param folders install folders searched last
     * @return the library, possibly unavailable with the reason
     */
    public static NativeLibrary open(Optional<String> override, List<Path> folders) {
        return NativeLibrary.open("libnccl", NativeLibraryLoader.builder("libnccl")
                .override(NcclSettings.LIBRARY, override).fileNames("libnccl.so.2", "libnccl.so")
                .folders(folders, NcclLibraryLocations.FILES)
                .remedy("install NCCL (the Python package nvidia-nccl-cu13 or -cu12, or the distribution's libnccl2)")
                .build());
    }

    /** @return the opened library, or the reason it is not */
    public static NativeLibrary library() {
        return LIBRARY;
    }

    /** An {@code ncclResult_t}-returning function of the given parameters. */
    static FunctionDescriptor result(MemoryLayout... params) {
        return FunctionDescriptor.of(INT, params);
    }
}
