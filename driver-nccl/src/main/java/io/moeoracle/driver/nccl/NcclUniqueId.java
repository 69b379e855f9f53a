package io.moeoracle.driver.nccl;

import io.moeoracle.driver.nccl.ffi.LibNccl;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Base64;

/**
 * An {@code ncclUniqueId}: 128 opaque bytes made by one rank ({@link Nccl#uniqueId()}) and handed to
 * every rank of a communicator by whatever channel the host has (a file, a key-value store, the
 * launcher's environment); {@link #toBase64()} and {@link #fromBase64(String)} make that a string.
 * It holds rank 0's bootstrap address, so it is valid only while that process lives.
 */
public final class NcclUniqueId {
    /** {@code NCCL_UNIQUE_ID_BYTES}. */
    public static final int BYTES = 128;

    private final byte[] bytes;

    private NcclUniqueId(byte[] bytes) {
        this.bytes = bytes;
    }

    /**
     * @param bytes exactly {@value #BYTES} bytes, as another rank's {@link #toBytes()} gave them
     * @return the id
     * @throws IllegalArgumentException when the length is wrong
     */
    public static NcclUniqueId of(byte[] bytes) {
        if (bytes.length != BYTES) {
            throw new IllegalArgumentException("an ncclUniqueId has " + BYTES + " bytes, got " + bytes.length
                    + "; pass the bytes of another rank's NcclUniqueId.toBytes() unchanged");
        }
        return new NcclUniqueId(bytes.clone());
    }

    /**
     * @param text what another rank's {@link #toBase64()} returned
     * @return the id
     * @throws IllegalArgumentException when the text is not Base64 of {@value #BYTES} bytes
     */
    public static NcclUniqueId fromBase64(String text) {
        byte[] b;
        try {
            b = Base64.getDecoder().decode(text.strip());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("not a Base64 ncclUniqueId (" + e.getMessage() + "): pass what"
                    + " NcclUniqueId.toBase64() returned on the rank that made it", e);
        }
        return of(b);
    }

    /** @return a copy of the bytes */
    public byte[] toBytes() {
        return bytes.clone();
    }

    /** @return the bytes as Base64 (172 characters) */
    public String toBase64() {
        return Base64.getEncoder().encodeToString(bytes);
    }

    /**
     * @param arena owner of the copy
     * @return the struct, to pass by value
     */
    MemorySegment toStruct(Arena arena) {
        MemorySegment s = arena.allocate(LibNccl.UNIQUE_ID);
        MemorySegment.copy(bytes, 0, s, ValueLayout.JAVA_BYTE, 0, BYTES);
        return s;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof NcclUniqueId other && Arrays.equals(bytes, other.bytes);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(bytes);
    }

    @Override
    public String toString() {
        return "NcclUniqueId[" + Integer.toHexString(hashCode()) + "]"; // the bytes hold an address: not logged
    }
}
