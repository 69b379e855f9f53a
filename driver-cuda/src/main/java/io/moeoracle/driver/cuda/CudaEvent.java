package io.moeoracle.driver.cuda;

import io.moeoracle.driver.cuda.ffi.CuEvent;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicBoolean;

/** A CUDA event ({@code CUevent}): a marker in a stream, for ordering and timing. */
public final class CudaEvent implements AutoCloseable {
    private static final int DISABLE_TIMING = 2;

    private final CudaContext context;
    private final MemorySegment handle;
    private final AtomicBoolean closed = new AtomicBoolean();

    private CudaEvent(CudaContext context, MemorySegment handle) {
        this.context = context;
        this.handle = handle;
    }

    static CudaEvent create(CudaContext context, boolean timing) {
        int flags = timing ? 0 : DISABLE_TIMING;
        MemorySegment h = Out.handle("cuEventCreate", () -> "flags=" + flags, out -> CuEvent.cuEventCreate(out, flags));
        return new CudaEvent(context, h);
    }

    /** @return the context */
    public CudaContext context() {
        return context;
    }

    /** @return the {@code CUevent} handle */
    public MemorySegment handle() {
        return handle;
    }

    /**
     * Records the event at the current end of a stream's work.
     *
     * @param stream the stream
     */
    public void record(CudaStream stream) {
        int rc = CuEvent.cuEventRecord(handle, stream.handle());
        if (rc != 0) {
            throw CudaException.of(rc, "cuEventRecord", "event=" + Out.hex(handle) + ", stream=" + Out.hex(stream.handle()));
        }
    }

    /** Waits until the work before the recorded point is done. */
    public void synchronize() {
        Out.check(CuEvent.cuEventSynchronize(handle), "cuEventSynchronize", () -> "event=" + Out.hex(handle));
    }

    /** @return whether the work before the recorded point is done */
    public boolean isComplete() {
        int rc = CuEvent.cuEventQuery(handle);
        if (rc == CudaException.NOT_READY) {
            return false;
        }
        Out.check(rc, "cuEventQuery", () -> "event=" + Out.hex(handle));
        return true;
    }

    /**
     * Milliseconds between two recorded, completed events (resolution about 0.5 µs).
     *
     * @param start recorded first
     * @param end recorded later
     * @return the elapsed time in milliseconds
     */
    public static float elapsedMillis(CudaEvent start, CudaEvent end) {
        return Out.floatValue("cuEventElapsedTime_v2",
                () -> "start=" + Out.hex(start.handle) + ", end=" + Out.hex(end.handle),
                out -> CuEvent.cuEventElapsedTime(out, start.handle, end.handle));
    }

    /**
     * Milliseconds from {@code start} to this event; synchronizes on this event first.
     *
     * @param start an event recorded earlier
     * @return the elapsed time in milliseconds
     */
    public float millisSince(CudaEvent start) {
        synchronize();
        return elapsedMillis(start, this);
    }

    /** Destroys the event; idempotent. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            Out.check(CuEvent.cuEventDestroy(handle), "cuEventDestroy_v2", () -> "event=" + Out.hex(handle));
        }
    }
}
