package io.moeoracle.driver.cuda;

import io.moeoracle.driver.cuda.ffi.CuStream;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicBoolean;

/** A CUDA stream ({@code CUstream}): work on it runs in order; work on different streams may overlap. */
public final class CudaStream implements AutoCloseable {
    /** {@code CU_STREAM_NON_BLOCKING}. */
    private static final int NON_BLOCKING = 1;

    private final CudaContext context;
    private final MemorySegment handle;
    private final boolean owned;
    private final AtomicBoolean closed = new AtomicBoolean();

    private CudaStream(CudaContext context, MemorySegment handle, boolean owned) {
        this.context = context;
        this.handle = handle;
        this.owned = owned;
    }

    static CudaStream create(CudaContext context, boolean nonBlocking) {
        int flags = nonBlocking ? NON_BLOCKING : 0;
        MemorySegment h = Out.handle("cuStreamCreate", () -> "flags=" + flags, out -> CuStream.cuStreamCreate(out, flags));
        return new CudaStream(context, h, true);
    }

    /**
     * The legacy default stream (the NULL stream) of a context; closing it does nothing.
     *
     * @param context the context
     * @return the stream
     */
    public static CudaStream legacyDefault(CudaContext context) {
        return new CudaStream(context, MemorySegment.NULL, false);
    }

    /** @return the context the stream belongs to */
    public CudaContext context() {
        return context;
    }

    /** @return the {@code CUstream} handle */
    public MemorySegment handle() {
        return handle;
    }

    /** Waits until the stream's work is done. */
    public void synchronize() {
        Out.check(CuStream.cuStreamSynchronize(handle), "cuStreamSynchronize", () -> "stream=" + Out.hex(handle));
    }

    /** @return true when all work on the stream is done, false while some is pending */
    public boolean isIdle() {
        int rc = CuStream.cuStreamQuery(handle);
        if (rc == CudaException.NOT_READY) {
            return false;
        }
        Out.check(rc, "cuStreamQuery", () -> "stream=" + Out.hex(handle));
        return true;
    }

    /**
     * Makes later work on this stream wait for an event recorded elsewhere.
     *
     * @param event the event
     */
    public void waitFor(CudaEvent event) {
        Out.check(CuStream.cuStreamWaitEvent(handle, event.handle(), 0), "cuStreamWaitEvent",
                () -> "stream=" + Out.hex(handle) + ", event=" + Out.hex(event.handle()));
    }

    /** Destroys the stream (pending work still completes); idempotent. */
    @Override
    public void close() {
        if (owned && closed.compareAndSet(false, true)) {
            Out.check(CuStream.cuStreamDestroy(handle), "cuStreamDestroy_v2", () -> "stream=" + Out.hex(handle));
        }
    }

    @Override
    public String toString() {
        return "CudaStream[" + Out.hex(handle) + "]";
    }
}
