package io.moeoracle.driver.hip;

import io.moeoracle.driver.hip.ffi.HipCalls;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** Device memory from {@code hipMalloc}; {@link #close()} frees it (once). */
public final class HipBuffer implements AutoCloseable {
    private static final int HOST_TO_DEVICE = 1;
    private static final int DEVICE_TO_HOST = 2;

    private final HipDevice device;
    private final long address;
    private final long byteSize;
    private boolean closed;

    private HipBuffer(HipDevice device, long address, long byteSize) {
        this.device = device;
        this.address = address;
        this.byteSize = byteSize;
    }

    static HipBuffer allocate(HipDevice device, long bytes) {
        if (bytes < 1) {
            throw new IllegalArgumentException("a device buffer needs at least 1 byte, asked for " + bytes);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            HipException.check(HipCalls.hipMalloc(out, bytes), "hipMalloc", "bytes=" + bytes + ", device=" + device);
            return new HipBuffer(device, out.get(ValueLayout.ADDRESS, 0).address(), bytes);
        }
    }

    /** @return the device address */
    public long address() {
        checkOpen();
        return address;
    }

    /** @return the size in bytes */
    public long byteSize() {
        return byteSize;
    }

    /** @param src host bytes, at most {@link #byteSize()} */
    public void copyFromHost(MemorySegment src) {
        checkOpen();
        checkSize(src.byteSize());
        device.makeCurrent();
        HipException.check(HipCalls.hipMemcpy(MemorySegment.ofAddress(address), src, src.byteSize(), HOST_TO_DEVICE),
                "hipMemcpy", "dst=0x" + Long.toHexString(address) + ", bytes=" + src.byteSize() + ", HostToDevice");
    }

    /** @param dst host bytes to fill, at most {@link #byteSize()} */
    public void copyToHost(MemorySegment dst) {
        checkOpen();
        checkSize(dst.byteSize());
        device.makeCurrent();
        HipException.check(HipCalls.hipMemcpy(dst, MemorySegment.ofAddress(address), dst.byteSize(), DEVICE_TO_HOST),
                "hipMemcpy", "src=0x" + Long.toHexString(address) + ", bytes=" + dst.byteSize() + ", DeviceToHost");
    }

    /** @param value the byte every byte of the buffer is set to */
    public void fill(byte value) {
        checkOpen();
        device.makeCurrent();
        HipException.check(HipCalls.hipMemset(MemorySegment.ofAddress(address), value & 0xFF, byteSize),
                "hipMemset", "dst=0x" + Long.toHexString(address) + ", value=" + (value & 0xFF) + ", bytes=" + byteSize);
    }

    /**
     * @param value the byte to set
     * @param stream the stream the fill is ordered on
     */
    public void fillAsync(byte value, HipStream stream) {
        checkOpen();
        HipException.check(HipCalls.hipMemsetAsync(MemorySegment.ofAddress(address), value & 0xFF, byteSize,
                stream.handle()), "hipMemsetAsync", "dst=0x" + Long.toHexString(address) + ", bytes=" + byteSize);
    }

    private void checkSize(long bytes) {
        if (bytes > byteSize) {
            throw new IllegalArgumentException("copy of " + bytes + " bytes does not fit the " + byteSize
                    + "-byte device buffer");
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("device buffer 0x" + Long.toHexString(address) + " was freed");
        }
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            device.makeCurrent();
            HipException.check(HipCalls.hipFree(MemorySegment.ofAddress(address)), "hipFree",
                    "ptr=0x" + Long.toHexString(address));
        }
    }
}
