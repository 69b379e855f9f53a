package io.moeoracle.driver.hip;

import io.moeoracle.driver.hip.ffi.HipCalls;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** A HIP stream ({@code hipStreamCreate}); {@link #close()} destroys it. */
public final class HipStream implements AutoCloseable {
    private final HipDevice device;
    private final MemorySegment handle;
    private boolean closed;

    private HipStream(HipDevice device, MemorySegment handle) {
        this.device = device;
        this.handle = handle;
    }

    static HipStream create(HipDevice device) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            HipException.check(HipCalls.hipStreamCreate(out), "hipStreamCreate", "device=" + device);
            return new HipStream(device, out.get(ValueLayout.ADDRESS, 0));
        }
    }

    /** @return the native handle */
    public MemorySegment handle() {
        if (closed) {
            throw new IllegalStateException("stream was destroyed");
        }
        return handle;
    }

    /** @return the device */
    public HipDevice device() {
        return device;
    }

    /** Waits for the stream's work. */
    public void synchronize() {
        HipException.check(HipCalls.hipStreamSynchronize(handle()), "hipStreamSynchronize", "stream=" + handle);
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            HipException.check(HipCalls.hipStreamDestroy(handle), "hipStreamDestroy", "stream=" + handle);
        }
    }
}
