package io.moeoracle.driver.cuda;

import io.moeoracle.driver.cuda.ffi.CuContext;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A retained primary context of one device. Driver calls act on the context current on the
 * calling thread: call {@link #setCurrent()} once on each thread that uses this context (the
 * factories here, {@link #allocate}, {@link #createStream}, {@link #loadModule}..., do it
 * themselves). {@link #close()} releases the retain; the context lives on while others hold it.
 */
public final class CudaContext implements AutoCloseable {
    private final CudaDevice device;
    private final MemorySegment handle;
    private final AtomicBoolean released = new AtomicBoolean();

    private CudaContext(CudaDevice device, MemorySegment handle) {
        this.device = device;
        this.handle = handle;
    }

    static CudaContext retainPrimary(CudaDevice device) {
        MemorySegment ctx = Out.handle("cuDevicePrimaryCtxRetain", () -> "dev=" + device.ordinal(),
                out -> CuContext.cuDevicePrimaryCtxRetain(out, device.handle()));
        return new CudaContext(device, ctx);
    }

    /** @return the device */
    public CudaDevice device() {
        return device;
    }

    /** @return the {@code CUcontext} handle */
    public MemorySegment handle() {
        return handle;
    }

    /** Makes this context current on the calling thread ({@code cuCtxSetCurrent}). */
    public void setCurrent() {
        checkOpen();
        Out.check(CuContext.cuCtxSetCurrent(handle), "cuCtxSetCurrent", () -> "ctx=" + Out.hex(handle));
    }

    /** @return whether this context is current on the calling thread */
    public boolean isCurrent() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            Out.check(CuContext.cuCtxGetCurrent(out), "cuCtxGetCurrent", () -> "");
            return out.get(ValueLayout.ADDRESS, 0).address() == handle.address();
        }
    }

    /** Makes this context current on the calling thread unless it already is. */
    public void ensureCurrent() {
        if (!isCurrent()) {
            setCurrent();
        }
    }

    /** Waits until all work of the context is done ({@code cuCtxSynchronize}). */
    public void synchronize() {
        ensureCurrent();
        Out.check(CuContext.cuCtxSynchronize(), "cuCtxSynchronize", () -> "ctx=" + Out.hex(handle));
    }

    /**
     * Free and total device memory.
     *
     * @param freeBytes free
     * @param totalBytes total
     */
    public record MemoryInfo(long freeBytes, long totalBytes) {
    }

    /** @return free and total device memory ({@code cuMemGetInfo_v2}) */
    public MemoryInfo memoryInfo() {
        ensureCurrent();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment free = arena.allocate(ValueLayout.JAVA_LONG);
            MemorySegment total = arena.allocate(ValueLayout.JAVA_LONG);
            Out.check(CuContext.cuMemGetInfo(free, total), "cuMemGetInfo_v2", () -> "");
            return new MemoryInfo(free.get(ValueLayout.JAVA_LONG, 0), total.get(ValueLayout.JAVA_LONG, 0));
        }
    }

    /**
     * @param bytes size, at least 1
     * @return a new device buffer (contents undefined)
     */
    public DeviceBuffer allocate(long bytes) {
        ensureCurrent();
        return DeviceBuffer.allocate(this, bytes);
    }

    /** @return a new non-blocking stream */
    public CudaStream createStream() {
        ensureCurrent();
        return CudaStream.create(this, true);
    }

    /** @return a new event that records timing */
    public CudaEvent createEvent() {
        ensureCurrent();
        return CudaEvent.create(this, true);
    }

    /**
     * Loads a module from a fatbin, cubin or PTX image.
     *
     * @param image the bytes
     * @return the module
     * @see CudaModule#load(CudaContext, byte[])
     */
    public CudaModule loadModule(byte[] image) {
        ensureCurrent();
        return CudaModule.load(this, image);
    }

    void checkOpen() {
        if (released.get()) {
            throw new IllegalStateException("the context of " + device.id() + " was already released (closed)");
        }
    }

    /** Releases the primary context retain ({@code cuDevicePrimaryCtxRelease_v2}); idempotent. */
    @Override
    public void close() {
        if (released.compareAndSet(false, true)) {
            Out.check(CuContext.cuDevicePrimaryCtxRelease(device.handle()), "cuDevicePrimaryCtxRelease_v2",
                    () -> "dev=" + device.ordinal());
        }
    }

    @Override
    public String toString() {
        return "CudaContext[" + device.id() + ", " + Out.hex(handle) + (released.get() ? ", released" : "") + "]";
    }
}
