package io.moeoracle.driver.cuda;

import io.moeoracle.driver.cuda.ffi.CuMemory;
import io.moeoracle.driver.cuda.ffi.CuStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Device memory ({@code cuMemAlloc_v2}), or a view of part of it ({@link #slice}). Every copy checks
 * its sizes and offsets in Java before the driver is called. Synchronous copies accept any host
 * segment (heap segments go through a temporary native buffer); the {@code ...Async} ones need
 * native memory that stays alive until the stream reaches the copy (page-locked memory from
 * {@link PinnedMemory} for real overlap). The context must be current on the calling thread.
 */
public final class DeviceBuffer implements AutoCloseable {
    private final CudaContext context;
    private final long address;
    private final long byteSize;
    private final boolean owner;
    private final AtomicBoolean freed = new AtomicBoolean();

    private DeviceBuffer(CudaContext context, long address, long byteSize, boolean owner) {
        this.context = context;
        this.address = address;
        this.byteSize = byteSize;
        this.owner = owner;
    }

    static DeviceBuffer allocate(CudaContext context, long bytes) {
        if (bytes <= 0) {
            throw new IllegalArgumentException("a device buffer needs at least 1 byte, asked for " + bytes);
        }
        long ptr = Out.longValue("cuMemAlloc_v2", () -> "bytesize=" + bytes + " (" + human(bytes) + ")",
                out -> CuMemory.cuMemAlloc(out, bytes));
        return new DeviceBuffer(context, ptr, bytes, true);
    }

    /** @return the context that owns the memory */
    public CudaContext context() {
        return context;
    }

    /** @return the device address ({@code CUdeviceptr}) */
    public long address() {
        return address;
    }

    /** @return the size in bytes */
    public long byteSize() {
        return byteSize;
    }

    /**
     * A view of {@code [offset, offset+bytes)}: same memory, not freed by its own close.
     *
     * @param offset start, in bytes
     * @param bytes length, in bytes
     * @return the view
     */
    public DeviceBuffer slice(long offset, long bytes) {
        checkRange("slice", offset, bytes);
        return new DeviceBuffer(context, address + offset, bytes, false);
    }

    /** @param src host bytes, all copied to the start of this buffer */
    public void copyFromHost(MemorySegment src) {
        copyFromHost(src, 0);
    }

    /**
     * Copies all of {@code src} to this buffer at {@code dstOffset}; returns when done.
     *
     * @param src host bytes
     * @param dstOffset where in this buffer
     */
    public void copyFromHost(MemorySegment src, long dstOffset) {
        long n = src.byteSize();
        checkRange("copyFromHost", dstOffset, n);
        if (n == 0) {
            return;
        }
        if (src.isNative()) {
            Out.check(CuMemory.cuMemcpyHtoD(address + dstOffset, src, n), "cuMemcpyHtoD_v2",
                    () -> "dst=" + Out.hex(address + dstOffset) + ", src=" + Out.hex(src) + ", bytes=" + n);
            // from pageable memory cuMemcpyHtoD returns once the bytes are in the driver's staging area, before
            // the DMA into device memory has landed, and it runs on the legacy stream, which kernels queued next
            // on a non-blocking stream do not wait for: wait for the legacy stream, so "returns when done" holds
            Out.check(CuStream.cuStreamSynchronize(MemorySegment.NULL), "cuStreamSynchronize",
                    () -> "stream=legacy (after cuMemcpyHtoD_v2 of " + n + " bytes)");
            return;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment tmp = arena.allocate(n, 64);
            tmp.copyFrom(src);
            copyFromHost(tmp, dstOffset);
        }
    }

    /** @param dst host bytes, filled from the start of this buffer */
    public void copyToHost(MemorySegment dst) {
        copyToHost(dst, 0);
    }

    /**
     * Fills all of {@code dst} from this buffer starting at {@code srcOffset}; returns when done.
     *
     * @param dst host bytes
     * @param srcOffset where in this buffer
     */
    public void copyToHost(MemorySegment dst, long srcOffset) {
        long n = dst.byteSize();
        checkRange("copyToHost", srcOffset, n);
        if (n == 0) {
            return;
        }
        if (dst.isNative()) {
            Out.check(CuMemory.cuMemcpyDtoH(dst, address + srcOffset, n), "cuMemcpyDtoH_v2",
                    () -> "dst=" + Out.hex(dst) + ", src=" + Out.hex(address + srcOffset) + ", bytes=" + n);
            return;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment tmp = arena.allocate(n, 64);
            copyToHost(tmp, srcOffset);
            dst.copyFrom(tmp);
        }
    }

    /**
     * Stream-ordered host-to-device copy of all of {@code src} to the start of this buffer.
     *
     * @param src native host memory, alive until the stream has done the copy
     * @param stream the stream
     */
    public void copyFromHostAsync(MemorySegment src, CudaStream stream) {
        long n = src.byteSize();
        checkRange("copyFromHostAsync", 0, n);
        requireNative(src, "copyFromHostAsync");
        if (n == 0) {
            return;
        }
        Out.check(CuMemory.cuMemcpyHtoDAsync(address, src, n, stream.handle()), "cuMemcpyHtoDAsync_v2",
                () -> "dst=" + Out.hex(address) + ", src=" + Out.hex(src) + ", bytes=" + n + ", stream=" + stream);
    }

    /**
     * Stream-ordered device-to-host copy filling all of {@code dst} from the start of this buffer.
     *
     * @param dst native host memory, alive until the stream has done the copy
     * @param stream the stream
     */
    public void copyToHostAsync(MemorySegment dst, CudaStream stream) {
        long n = dst.byteSize();
        checkRange("copyToHostAsync", 0, n);
        requireNative(dst, "copyToHostAsync");
        if (n == 0) {
            return;
        }
        Out.check(CuMemory.cuMemcpyDtoHAsync(dst, address, n, stream.handle()), "cuMemcpyDtoHAsync_v2",
                () -> "dst=" + Out.hex(dst) + ", src=" + Out.hex(address) + ", bytes=" + n + ", stream=" + stream);
    }

    /**
     * Copies all of {@code src} (device memory) to the start of this buffer; returns when done.
     *
     * @param src device bytes, at most this buffer's size
     */
    public void copyFrom(DeviceBuffer src) {
        long n = src.byteSize;
        checkRange("copyFrom", 0, n);
        Out.check(CuMemory.cuMemcpyDtoD(address, src.address, n), "cuMemcpyDtoD_v2",
                () -> "dst=" + Out.hex(address) + ", src=" + Out.hex(src.address) + ", bytes=" + n);
    }

    /**
     * Stream-ordered copy of all of {@code src} (device memory) to the start of this buffer.
     *
     * @param src device bytes, at most this buffer's size
     * @param stream the stream
     */
    public void copyFromAsync(DeviceBuffer src, CudaStream stream) {
        long n = src.byteSize;
        checkRange("copyFromAsync", 0, n);
        int rc = CuMemory.cuMemcpyDtoDAsync(address, src.address, n, stream.handle());
        if (rc != 0) {
            throw CudaException.of(rc, "cuMemcpyDtoDAsync_v2", "dst=" + Out.hex(address) + ", src="
                    + Out.hex(src.address) + ", bytes=" + n + ", stream=" + stream);
        }
    }

    /** @param value every byte of the buffer is set to it; returns when done */
    public void fill(byte value) {
        Out.check(CuMemory.cuMemsetD8(address, value, byteSize), "cuMemsetD8_v2",
                () -> "dst=" + Out.hex(address) + ", uc=" + value + ", N=" + byteSize);
        // cuMemsetD8 on device memory may return before it ran, on the legacy stream: wait, as for copyFromHost
        Out.check(CuStream.cuStreamSynchronize(MemorySegment.NULL), "cuStreamSynchronize",
                () -> "stream=legacy (after cuMemsetD8_v2 of " + byteSize + " bytes)");
    }

    /**
     * @param value every byte of the buffer is set to it, in stream order
     * @param stream the stream
     */
    public void fillAsync(byte value, CudaStream stream) {
        Out.check(CuMemory.cuMemsetD8Async(address, value, byteSize, stream.handle()), "cuMemsetD8Async",
                () -> "dst=" + Out.hex(address) + ", uc=" + value + ", N=" + byteSize + ", stream=" + stream);
    }

    /**
     * Sets every 32-bit word (e.g. a float's bits: {@code Float.floatToRawIntBits(Float.NaN)});
     * the buffer's address and size must be multiples of 4.
     *
     * @param value the word
     * @param stream the stream
     */
    public void fillIntAsync(int value, CudaStream stream) {
        if (address % 4 != 0 || byteSize % 4 != 0) {
            throw new IllegalArgumentException("fillIntAsync needs a 4-byte aligned address and size, buffer is at "
                    + Out.hex(address) + " with " + byteSize + " bytes");
        }
        long words = byteSize / 4;
        Out.check(CuMemory.cuMemsetD32Async(address, value, words, stream.handle()), "cuMemsetD32Async",
                () -> "dst=" + Out.hex(address) + ", ui=" + value + ", N=" + words + ", stream=" + stream);
    }

    /** @param value the word, see {@link #fillIntAsync}; returns when done */
    public void fillInt(int value) {
        if (address % 4 != 0 || byteSize % 4 != 0) {
            throw new IllegalArgumentException("fillInt needs a 4-byte aligned address and size, buffer is at "
                    + Out.hex(address) + " with " + byteSize + " bytes");
        }
        long words = byteSize / 4;
        Out.check(CuMemory.cuMemsetD32(address, value, words), "cuMemsetD32_v2",
                () -> "dst=" + Out.hex(address) + ", ui=" + value + ", N=" + words);
    }

    /** @return a copy of the whole buffer in a new heap array (for tests and debugging) */
    public byte[] toByteArray() {
        if (byteSize > Integer.MAX_VALUE - 16) {
            throw new IllegalStateException("buffer of " + byteSize + " bytes does not fit a Java array");
        }
        byte[] out = new byte[(int) byteSize];
        copyToHost(MemorySegment.ofArray(out));
        return out;
    }

    /** @return a copy of the whole buffer as floats (size must be a multiple of 4) */
    public float[] toFloatArray() {
        float[] out = new float[(int) (byteSize / 4)];
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment tmp = arena.allocate(byteSize, 64);
            copyToHost(tmp);
            MemorySegment.copy(tmp, ValueLayout.JAVA_FLOAT, 0, out, 0, out.length);
        }
        return out;
    }

    private void checkRange(String what, long offset, long bytes) {
        if (offset < 0 || bytes < 0 || offset > byteSize - bytes) {
            throw new IndexOutOfBoundsException(what + ": range [" + offset + ", " + offset + "+" + bytes
                    + ") is outside the device buffer of " + byteSize + " bytes");
        }
        if (freed.get()) {
            throw new IllegalStateException(what + ": the device buffer at " + Out.hex(address) + " was freed");
        }
    }

    private static void requireNative(MemorySegment segment, String what) {
        if (!segment.isNative()) {
            throw new IllegalArgumentException(what + " needs native (off-heap) host memory, got a heap segment:"
                    + " allocate it from an Arena, or use PinnedMemory for real overlap");
        }
    }

    static String human(long bytes) {
        if (bytes >= 1L << 30) {
            return String.format(java.util.Locale.ROOT, "%.1f GiB", bytes / (double) (1L << 30));
        }
        if (bytes >= 1L << 20) {
            return String.format(java.util.Locale.ROOT, "%.1f MiB", bytes / (double) (1L << 20));
        }
        return bytes + " B";
    }

    /** Frees the memory (a view frees nothing); idempotent. */
    @Override
    public void close() {
        if (owner && freed.compareAndSet(false, true)) {
            Out.check(CuMemory.cuMemFree(address), "cuMemFree_v2", () -> "dptr=" + Out.hex(address));
        }
    }

    @Override
    public String toString() {
        return "DeviceBuffer[" + Out.hex(address) + ", " + byteSize + " bytes" + (owner ? "" : ", view") + "]";
    }
}
