package io.moeoracle.driver.hip;

import io.moeoracle.driver.hip.ffi.HipCalls;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** A HIP event ({@code hipEventCreate}) for ordering and timing; {@link #close()} destroys it. */
public final class HipEvent implements AutoCloseable {
    private final MemorySegment handle;
    private boolean closed;

    private HipEvent(MemorySegment handle) {
        this.handle = handle;
    }

    static HipEvent create(HipDevice device) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            HipException.check(HipCalls.hipEventCreate(out), "hipEventCreate", "device=" + device);
            return new HipEvent(out.get(ValueLayout.ADDRESS, 0));
        }
    }

    /** @param stream where the event is recorded */
    public void record(HipStream stream) {
        HipException.check(HipCalls.hipEventRecord(handle(), stream.handle()), "hipEventRecord", "event=" + handle);
    }

    /** Waits for the event. */
    public void synchronize() {
        HipException.check(HipCalls.hipEventSynchronize(handle()), "hipEventSynchronize", "event=" + handle);
    }

    /**
     * @param end a later event, recorded and complete
     * @return milliseconds from this event to {@code end}
     */
    public float elapsedMillisTo(HipEvent end) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ms = arena.allocate(ValueLayout.JAVA_FLOAT);
            HipException.check(HipCalls.hipEventElapsedTime(ms, handle(), end.handle()), "hipEventElapsedTime",
                    "start=" + handle + ", stop=" + end.handle);
            return ms.get(ValueLayout.JAVA_FLOAT, 0);
        }
    }

    MemorySegment handle() {
        if (closed) {
            throw new IllegalStateException("event was destroyed");
        }
        return handle;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            HipException.check(HipCalls.hipEventDestroy(handle), "hipEventDestroy", "event=" + handle);
        }
    }
}
