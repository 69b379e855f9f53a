package io.moeoracle.driver.hip;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * What this facade reads from the {@code hipDeviceProp_t} that {@code hipGetDeviceProperties}
 * fills. The struct's layout changed between ROCm releases (R0000, R0600), so nothing is read
 * blindly: {@code gcnArchName} is found by its content (the first {@code gfx...} name after the
 * 256-byte {@code name}), and {@code multiProcessorCount} is read at its R0600 offset only when the
 * neighbouring fields there check out ({@code totalGlobalMem} equals what {@code hipDeviceTotalMem}
 * said, {@code warpSize} is 32 or 64).
 */
final class HipDeviceProps {
    /** Bytes handed to the runtime: more than any known hipDeviceProp_t (R0600 is about 1.5 KiB). */
    static final int BUFFER_BYTES = 8192;
    // R0600 (cudaDeviceProp-like): name[256], uuid 16, luid 8, luidDeviceNodeMask 4 (+4), totalGlobalMem
    static final long TOTAL_GLOBAL_MEM = 288;
    static final long WARP_SIZE = 308;
    static final long MULTI_PROCESSOR_COUNT = 388;
    private static final long NAME_BYTES = 256;
    private static final long UUID_BYTES = 16;

    private HipDeviceProps() {
    }

    /**
     * @param props the filled struct (at least {@link #BUFFER_BYTES})
     * @return the architecture name with its target features, e.g. {@code gfx942:sramecc+:xnack-}
     */
    static Optional<String> gcnArchName(MemorySegment props) {
        byte[] bytes = props.asSlice(NAME_BYTES, Math.min(props.byteSize(), BUFFER_BYTES) - NAME_BYTES)
                .toArray(ValueLayout.JAVA_BYTE);
        char[] text = new char[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            int b = bytes[i] & 0xFF;
            text[i] = b >= 0x20 && b < 0x7F ? (char) b : '\n';
        }
        return HipArch.find(new String(text));
    }

    /**
     * @param props the filled struct
     * @param totalMem what {@code hipDeviceTotalMem} reported
     * @return the compute-unit count when the R0600 layout checks out, else empty
     */
    static OptionalInt computeUnits(MemorySegment props, long totalMem) {
        long mem = props.get(ValueLayout.JAVA_LONG_UNALIGNED, TOTAL_GLOBAL_MEM);
        int warp = props.get(ValueLayout.JAVA_INT_UNALIGNED, WARP_SIZE);
        int cus = props.get(ValueLayout.JAVA_INT_UNALIGNED, MULTI_PROCESSOR_COUNT);
        if (mem == totalMem && (warp == 32 || warp == 64) && cus > 0 && cus < 100_000) {
            return OptionalInt.of(cus);
        }
        return OptionalInt.empty();
    }

    /**
     * @param props the filled struct
     * @param totalMem what {@code hipDeviceTotalMem} reported
     * @return the R0600 {@code uuid} (16 bytes after {@code name}) as lower-case hex, when that layout
     *     checks out (see {@link #computeUnits}) and the bytes are not all zero; else empty
     */
    static Optional<String> uuid(MemorySegment props, long totalMem) {
        if (computeUnits(props, totalMem).isEmpty()) {
            return Optional.empty();
        }
        byte[] bytes = props.asSlice(NAME_BYTES, UUID_BYTES).toArray(ValueLayout.JAVA_BYTE);
        for (byte b : bytes) {
            if (b != 0) {
                return Optional.of(HexFormat.of().formatHex(bytes));
            }
        }
        return Optional.empty();
    }

    /**
     * @param props the filled struct
     * @return the marketing name at offset 0
     */
    static String name(MemorySegment props) {
        byte[] bytes = props.asSlice(0, NAME_BYTES).toArray(ValueLayout.JAVA_BYTE);
        int n = 0;
        while (n < bytes.length && bytes[n] != 0) {
            n++;
        }
        return new String(bytes, 0, n, StandardCharsets.UTF_8).trim();
    }
}
