package io.moeoracle.driver.hip;

import io.moeoracle.driver.hip.ffi.HipCalls;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A HIP graph captured from a stream ({@code hipStreamBeginCapture} .. {@code hipStreamEndCapture})
 * and instantiated; {@link #launch(HipStream)} replays it. {@link #close()} destroys both.
 */
public final class HipGraph implements AutoCloseable {
    /** {@code hipStreamCaptureModeThreadLocal}. */
    private static final int CAPTURE_THREAD_LOCAL = 1;

    private final MemorySegment graph;
    private final MemorySegment exec;
    private boolean closed;

    private HipGraph(MemorySegment graph, MemorySegment exec) {
        this.graph = graph;
        this.exec = exec;
    }

    /**
     * Captures the work {@code body} enqueues on {@code stream}.
     *
     * @param stream a stream of the device (not the null stream)
     * @param body enqueues work on the stream
     * @return the instantiated graph
     */
    public static HipGraph capture(HipStream stream, Runnable body) {
        HipException.check(HipCalls.hipStreamBeginCapture(stream.handle(), CAPTURE_THREAD_LOCAL),
                "hipStreamBeginCapture", "mode=ThreadLocal");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment g = arena.allocate(ValueLayout.ADDRESS);
            try {
                body.run();
            } finally {
                int rc = HipCalls.hipStreamEndCapture(stream.handle(), g);
                HipException.check(rc, "hipStreamEndCapture", "stream=" + stream.handle());
            }
            MemorySegment graph = g.get(ValueLayout.ADDRESS, 0);
            MemorySegment e = arena.allocate(ValueLayout.ADDRESS);
            MemorySegment log = arena.allocate(1024);
            int rc = HipCalls.hipGraphInstantiate(e, graph, MemorySegment.NULL, log, 1024);
            if (rc != 0) {
                HipCalls.hipGraphDestroy(graph);
                throw HipException.of(rc, "hipGraphInstantiate", "log=" + log.getString(0));
            }
            return new HipGraph(graph, e.get(ValueLayout.ADDRESS, 0));
        }
    }

    /** @param stream where the replay is enqueued */
    public void launch(HipStream stream) {
        if (closed) {
            throw new IllegalStateException("graph was destroyed");
        }
        HipException.check(HipCalls.hipGraphLaunch(exec, stream.handle()), "hipGraphLaunch", "graphExec=" + exec);
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            HipException.check(HipCalls.hipGraphExecDestroy(exec), "hipGraphExecDestroy", "graphExec=" + exec);
            HipException.check(HipCalls.hipGraphDestroy(graph), "hipGraphDestroy", "graph=" + graph);
        }
    }
}
