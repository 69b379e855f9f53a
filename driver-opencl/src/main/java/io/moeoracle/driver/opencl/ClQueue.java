package io.moeoracle.driver.opencl;

import io.moeoracle.driver.opencl.ffi.ContextCalls;
import io.moeoracle.driver.opencl.ffi.ExecutionCalls;
import io.moeoracle.driver.opencl.ffi.MemoryCalls;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * An in-order command queue with profiling enabled. Not thread-safe: one thread enqueues at a time.
 * Host memory passed to reads and writes may be heap or native; heap memory is staged through a
 * native copy.
 */
public final class ClQueue implements AutoCloseable {
    private static final int CL_TRUE = 1;

    private final ClContext context;
    private final MemorySegment handle;
    // NDRange sizes are read by clEnqueueNDRangeKernel before it returns: reusable slots
    private final Arena launchArena = Arena.ofShared();
    private final MemorySegment globalSlot = launchArena.allocate(ValueLayout.JAVA_LONG, 3);
    private final MemorySegment localSlot = launchArena.allocate(ValueLayout.JAVA_LONG, 3);
    private boolean closed;

    ClQueue(ClContext context, MemorySegment handle) {
        this.context = context;
        this.handle = handle;
    }

    /** @return the context */
    public ClContext context() {
        return context;
    }

    private MemorySegment handle() {
        if (closed) {
            throw new IllegalStateException("the OpenCL queue on " + context.device().id() + " is closed");
        }
        return handle;
    }

    private static void checkRange(ClBuffer buffer, long offset, long bytes, String what) {
        if (offset < 0 || bytes < 0 || offset + bytes > buffer.byteSize()) {
            throw new IndexOutOfBoundsException(what + " of " + bytes + " bytes at offset " + offset
                    + " does not fit " + buffer);
        }
    }

    /**
     * Copies host bytes into a buffer and waits.
     *
     * @param dst the buffer
     * @param offset byte offset in the buffer
     * @param src host bytes (all of them are copied)
     */
    public void write(ClBuffer dst, long offset, MemorySegment src) {
        long n = src.byteSize();
        checkRange(dst, offset, n, "write");
        if (n == 0) {
            return;
        }
        String call = "clEnqueueWriteBuffer(" + dst + ", offset=" + offset + ", size=" + n + ", blocking)";
        if (src.isNative()) {
            OpenClException.check(MemoryCalls.write(handle(), dst.handle(), CL_TRUE, offset, n, src,
                    MemorySegment.NULL), call);
        } else {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment staged = arena.allocate(n, 64);
                staged.copyFrom(src);
                OpenClException.check(MemoryCalls.write(handle(), dst.handle(), CL_TRUE, offset, n, staged,
                        MemorySegment.NULL), call);
            }
        }
    }

    /**
     * Copies buffer bytes to the host and waits.
     *
     * @param src the buffer
     * @param offset byte offset in the buffer
     * @param dst host destination (filled completely)
     */
    public void read(ClBuffer src, long offset, MemorySegment dst) {
        long n = dst.byteSize();
        checkRange(src, offset, n, "read");
        if (n == 0) {
            return;
        }
        String call = "clEnqueueReadBuffer(" + src + ", offset=" + offset + ", size=" + n + ", blocking)";
        if (dst.isNative()) {
            OpenClException.check(MemoryCalls.read(handle(), src.handle(), CL_TRUE, offset, n, dst,
                    MemorySegment.NULL), call);
        } else {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment staged = arena.allocate(n, 64);
                OpenClException.check(MemoryCalls.read(handle(), src.handle(), CL_TRUE, offset, n, staged,
                        MemorySegment.NULL), call);
                dst.copyFrom(staged);
            }
        }
    }

    /**
     * Fills a byte range with a 32-bit pattern (enqueued, not awaited).
     *
     * @param dst the buffer
     * @param pattern the 4-byte pattern
     * @param offset byte offset, a multiple of 4
     * @param bytes length, a multiple of 4
     */
    public void fill(ClBuffer dst, int pattern, long offset, long bytes) {
        checkRange(dst, offset, bytes, "fill");
        if ((offset | bytes) % 4 != 0) {
            throw new IllegalArgumentException("fill offset " + offset + " and size " + bytes + " must be multiples of 4");
        }
        if (bytes == 0) {
            return;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment p = arena.allocate(ValueLayout.JAVA_INT);
            p.set(ValueLayout.JAVA_INT, 0, pattern);
            OpenClException.check(MemoryCalls.fill(handle(), dst.handle(), p, 4, offset, bytes, MemorySegment.NULL),
                    "clEnqueueFillBuffer(" + dst + ", pattern=0x" + Integer.toHexString(pattern) + ", offset=" + offset
                            + ", size=" + bytes + ")");
        }
    }

    /**
     * Copies between buffers (enqueued, not awaited).
     *
     * @param src source
     * @param srcOffset byte offset in src
     * @param dst destination
     * @param dstOffset byte offset in dst
     * @param bytes length
     */
    public void copy(ClBuffer src, long srcOffset, ClBuffer dst, long dstOffset, long bytes) {
        checkRange(src, srcOffset, bytes, "copy source");
        checkRange(dst, dstOffset, bytes, "copy destination");
        if (bytes == 0) {
            return;
        }
        OpenClException.check(MemoryCalls.copy(handle(), src.handle(), dst.handle(), srcOffset, dstOffset, bytes,
                MemorySegment.NULL), "clEnqueueCopyBuffer(" + src + " -> " + dst + ", size=" + bytes + ")");
    }

    /**
     * Enqueues a kernel over an NDRange.
     *
     * @param kernel the kernel, arguments set
     * @param global global sizes (1 to 3 dimensions), each a multiple of the local size
     * @param local local sizes, or null to let the driver choose
     */
    public void launch(ClKernel kernel, long[] global, long[] local) {
        launch(kernel, global, local, false).ifPresent(ClEvent::close);
    }

    /**
     * Enqueues a kernel and returns its event (for profiling times).
     *
     * @param kernel the kernel
     * @param global global sizes
     * @param local local sizes, or null
     * @return the launch's event; close it
     */
    public ClEvent launchTimed(ClKernel kernel, long[] global, long[] local) {
        return launch(kernel, global, local, true).orElseThrow();
    }

    private java.util.Optional<ClEvent> launch(ClKernel kernel, long[] global, long[] local, boolean wantEvent) {
        if (global.length < 1 || global.length > 3 || (local != null && local.length != global.length)) {
            throw new IllegalArgumentException("an NDRange has 1 to 3 dimensions, and local must match global: global="
                    + Arrays.toString(global) + " local=" + Arrays.toString(local));
        }
        for (int d = 0; d < global.length; d++) {
            if (global[d] <= 0 || (local != null && (local[d] <= 0 || global[d] % local[d] != 0))) {
                throw new IllegalArgumentException("kernel " + kernel.name() + ": global " + Arrays.toString(global)
                        + " must be positive multiples of local " + Arrays.toString(local));
            }
        }
        for (int d = 0; d < global.length; d++) {
            globalSlot.setAtIndex(ValueLayout.JAVA_LONG, d, global[d]);
            if (local != null) {
                localSlot.setAtIndex(ValueLayout.JAVA_LONG, d, local[d]);
            }
        }
        MemorySegment l = local == null ? MemorySegment.NULL : localSlot;
        if (!wantEvent) {
            check(ExecutionCalls.enqueueNdRange(handle(), kernel.handle(), global.length, globalSlot, l,
                    MemorySegment.NULL), kernel, global, local);
            return java.util.Optional.empty();
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ev = arena.allocate(ValueLayout.ADDRESS);
            check(ExecutionCalls.enqueueNdRange(handle(), kernel.handle(), global.length, globalSlot, l, ev),
                    kernel, global, local);
            return java.util.Optional.of(new ClEvent(ev.get(ValueLayout.ADDRESS, 0), kernel.name()));
        }
    }

    private static void check(int rc, ClKernel kernel, long[] global, long[] local) {
        if (rc != 0) {
            throw new OpenClException("clEnqueueNDRangeKernel(kernel=" + kernel.name() + ", global="
                    + Arrays.toString(global) + ", local=" + Arrays.toString(local) + ")", rc, "");
        }
    }

    /** Submits queued commands without waiting. */
    public void flush() {
        OpenClException.check(ContextCalls.flush(handle()), "clFlush(device=" + context.device().id() + ")");
    }

    /** Waits until every queued command has finished. */
    public void finish() {
        OpenClException.check(ContextCalls.finish(handle()), "clFinish(device=" + context.device().id() + ")");
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            launchArena.close();
            OpenClException.check(ContextCalls.releaseCommandQueue(handle),
                    "clReleaseCommandQueue(device=" + context.device().id() + ")");
        }
    }
}
