package io.moeoracle.driver.cuda;

import io.moeoracle.driver.cuda.ffi.CuMemory;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Page-locked host memory ({@code cuMemHostAlloc}): what asynchronous copies need to overlap with
 * other work. The context must be current on the calling thread.
 */
public final class PinnedMemory implements AutoCloseable {
    private final MemorySegment segment;
    private final AtomicBoolean freed = new AtomicBoolean();

    private PinnedMemory(MemorySegment segment) {
        this.segment = segment;
    }

    /**
     * @param context the context (made current on this thread)
     * @param bytes size, at least 1
     * @return the memory
     */
    @SuppressWarnings("restricted")
    public static PinnedMemory allocate(CudaContext context, long bytes) {
        if (bytes <= 0) {
            throw new IllegalArgumentException("pinned memory needs at least 1 byte, asked for " + bytes);
        }
        context.ensureCurrent();
        MemorySegment p = Out.handle("cuMemHostAlloc", () -> "bytesize=" + bytes + ", flags=0",
                out -> CuMemory.cuMemHostAlloc(out, bytes, 0));
        return new PinnedMemory(p.reinterpret(bytes));
    }

    /** @return the memory; do not use it after {@link #close()} */
    public MemorySegment segment() {
        if (freed.get()) {
            throw new IllegalStateException("pinned memory at " + Out.hex(segment) + " was freed");
        }
        return segment;
    }

    /** Frees the memory; idempotent. */
    @Override
    public void close() {
        if (freed.compareAndSet(false, true)) {
            Out.check(CuMemory.cuMemFreeHost(segment), "cuMemFreeHost", () -> "p=" + Out.hex(segment));
        }
    }
}
