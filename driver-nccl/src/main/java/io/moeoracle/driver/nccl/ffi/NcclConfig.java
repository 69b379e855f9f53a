package io.moeoracle.driver.nccl.ffi;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;

/**
 * {@code ncclConfig_t} as NCCL 2.17 laid it out ({@code size, magic, version, blocking,
 * cgaClusterSize, minCTAs, maxCTAs, netName, splitShare}), which every later NCCL accepts: it reads
 * only {@code size} bytes and gives the fields a struct of an older {@code version} lacks their
 * defaults (NCCL's {@code parseCommConfig}). Every field is "undefined" (NCCL's default) except
 * {@code blocking}.
 */
public final class NcclConfig {
    /** {@code NCCL_API_MAGIC}. */
    static final int MAGIC = 0xcafebeef;
    /** {@code NCCL_VERSION(2, 17, 0)}: the layout below. */
    static final int VERSION = 21700;
    /** {@code NCCL_CONFIG_UNDEF_INT}. */
    static final int UNDEF_INT = Integer.MIN_VALUE;

    /** The struct: 48 bytes on 64-bit platforms. */
    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            ValueLayout.JAVA_LONG.withName("size"),
            ValueLayout.JAVA_INT.withName("magic"),
            ValueLayout.JAVA_INT.withName("version"),
            ValueLayout.JAVA_INT.withName("blocking"),
            ValueLayout.JAVA_INT.withName("cgaClusterSize"),
            ValueLayout.JAVA_INT.withName("minCTAs"),
            ValueLayout.JAVA_INT.withName("maxCTAs"),
            ValueLayout.ADDRESS.withName("netName"),
            ValueLayout.JAVA_INT.withName("splitShare"),
            MemoryLayout.paddingLayout(4));

    private NcclConfig() {
    }

    /**
     * @param arena owner of the struct
     * @param blocking false: calls on the communicator return {@code ncclInProgress} instead of
     *     blocking, so that a caller can time out and abort
     * @return the initialized struct ({@code NCCL_CONFIG_INITIALIZER} with {@code blocking} set)
     */
    public static MemorySegment allocate(Arena arena, boolean blocking) {
        MemorySegment c = arena.allocate(LAYOUT);
        c.set(ValueLayout.JAVA_LONG, offset("size"), LAYOUT.byteSize());
        c.set(ValueLayout.JAVA_INT, offset("magic"), MAGIC);
        c.set(ValueLayout.JAVA_INT, offset("version"), VERSION);
        c.set(ValueLayout.JAVA_INT, offset("blocking"), blocking ? 1 : 0);
        c.set(ValueLayout.JAVA_INT, offset("cgaClusterSize"), UNDEF_INT);
        c.set(ValueLayout.JAVA_INT, offset("minCTAs"), UNDEF_INT);
        c.set(ValueLayout.JAVA_INT, offset("maxCTAs"), UNDEF_INT);
        c.set(ValueLayout.ADDRESS, offset("netName"), MemorySegment.NULL);
        c.set(ValueLayout.JAVA_INT, offset("splitShare"), UNDEF_INT);
        return c;
    }

    static long offset(String field) {
        return LAYOUT.byteOffset(MemoryLayout.PathElement.groupElement(field));
    }
}
