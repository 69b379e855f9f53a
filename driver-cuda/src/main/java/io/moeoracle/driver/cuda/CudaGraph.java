package io.moeoracle.driver.cuda;

import io.moeoracle.driver.cuda.ffi.CuGraph;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * An executable graph ({@code CUgraphExec}) captured from the work queued on a stream: launch it to
 * replay all of that work with one call. The captured kernels keep the argument values and
 * buffers they were captured with; those buffers must outlive the graph.
 */
public final class CudaGraph implements AutoCloseable {
    private final MemorySegment exec;
    private final AtomicBoolean destroyed = new AtomicBoolean();

    private CudaGraph(MemorySegment exec) {
        this.exec = exec;
    }

    /** Work queued on a stream during capture. */
    @FunctionalInterface
    public interface Work {
        /**
         * Queues work on the stream (launches, async copies, memsets); nothing runs yet.
         *
         * @param stream the capturing stream
         */
        void enqueue(CudaStream stream);
    }

    /**
     * Captures the work in {@link CaptureMode#THREAD_LOCAL} mode and instantiates it.
     *
     * @param stream a stream created by {@link CudaContext#createStream()} (not the legacy default stream)
     * @param work what to capture
     * @return the executable graph
     */
    public static CudaGraph capture(CudaStream stream, Work work) {
        return capture(stream, CaptureMode.THREAD_LOCAL, work);
    }

    /**
     * Captures the work queued on a stream ({@code cuStreamBeginCapture_v2} .. {@code cuStreamEndCapture})
     * and instantiates it ({@code cuGraphInstantiateWithFlags}).
     *
     * @param stream a stream created by {@link CudaContext#createStream()}
     * @param mode the capture mode
     * @param work what to capture
     * @return the executable graph
     */
    public static CudaGraph capture(CudaStream stream, CaptureMode mode, Work work) {
        Out.check(CuGraph.cuStreamBeginCapture(stream.handle(), mode.code()), "cuStreamBeginCapture_v2",
                () -> "stream=" + stream + ", mode=" + mode);
        MemorySegment graph;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            try {
                work.enqueue(stream);
            } catch (RuntimeException | Error e) {
                // end the capture so the stream is usable again; the partial graph is dropped
                if (CuGraph.cuStreamEndCapture(stream.handle(), out) == 0) {
                    MemorySegment partial = out.get(ValueLayout.ADDRESS, 0);
                    if (!partial.equals(MemorySegment.NULL)) {
                        CuGraph.cuGraphDestroy(partial);
                    }
                }
                throw e;
            }
            Out.check(CuGraph.cuStreamEndCapture(stream.handle(), out), "cuStreamEndCapture", () -> "stream=" + stream);
            graph = out.get(ValueLayout.ADDRESS, 0);
        }
        try {
            MemorySegment exec = Out.handle("cuGraphInstantiateWithFlags", () -> "graph=" + Out.hex(graph) + ", flags=0",
                    out -> CuGraph.cuGraphInstantiateWithFlags(out, graph, 0L));
            return new CudaGraph(exec);
        } finally {
            Out.check(CuGraph.cuGraphDestroy(graph), "cuGraphDestroy", () -> "graph=" + Out.hex(graph));
        }
    }

    /**
     * Starts capturing a stream by hand, for work spread over several streams (one per GPU, say):
     * begin each stream's capture, queue the work, then {@link Capture#end()} each. Work that other
     * streams queue after waiting for an event recorded on a capturing stream joins its graph; they
     * must join back (the capturing stream waits for their last event) before {@code end}.
     *
     * @param stream a stream created by {@link CudaContext#createStream()}
     * @param mode the capture mode ({@link CaptureMode#RELAXED} lets libraries such as NCCL allocate while capturing)
     * @return the capture in progress
     */
    public static Capture beginCapture(CudaStream stream, CaptureMode mode) {
        Out.check(CuGraph.cuStreamBeginCapture(stream.handle(), mode.code()), "cuStreamBeginCapture_v2",
                () -> "stream=" + stream + ", mode=" + mode);
        return new Capture(stream);
    }

    /** A stream capture begun with {@link #beginCapture}: end it exactly once ({@link #end} or {@link #abandon}). */
    public static final class Capture {
        private final CudaStream stream;
        private final AtomicBoolean ended = new AtomicBoolean();

        private Capture(CudaStream stream) {
            this.stream = stream;
        }

        /** @return the capturing stream */
        public CudaStream stream() {
            return stream;
        }

        /**
         * Ends the capture and instantiates the graph.
         *
         * @return the executable graph
         * @throws CudaException when the capture was invalidated (an unsupported call while capturing)
         */
        public CudaGraph end() {
            if (!ended.compareAndSet(false, true)) {
                throw new IllegalStateException("the capture of " + stream + " was already ended");
            }
            MemorySegment graph;
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
                Out.check(CuGraph.cuStreamEndCapture(stream.handle(), out), "cuStreamEndCapture", () -> "stream=" + stream);
                graph = out.get(ValueLayout.ADDRESS, 0);
            }
            try {
                MemorySegment exec = Out.handle("cuGraphInstantiateWithFlags", () -> "graph=" + Out.hex(graph)
                        + ", flags=0", out -> CuGraph.cuGraphInstantiateWithFlags(out, graph, 0L));
                return new CudaGraph(exec);
            } finally {
                Out.check(CuGraph.cuGraphDestroy(graph), "cuGraphDestroy", () -> "graph=" + Out.hex(graph));
            }
        }

        /** Ends the capture and drops what was captured (after a failure); does nothing when already ended. */
        public void abandon() {
            if (!ended.compareAndSet(false, true)) {
                return;
            }
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
                if (CuGraph.cuStreamEndCapture(stream.handle(), out) == 0) {
                    MemorySegment partial = out.get(ValueLayout.ADDRESS, 0);
                    if (!partial.equals(MemorySegment.NULL)) {
                        CuGraph.cuGraphDestroy(partial);
                    }
                }
            }
        }
    }

    /** @return the {@code CUgraphExec} handle */
    public MemorySegment handle() {
        return exec;
    }

    /**
     * Queues one replay of the whole graph.
     *
     * @param stream the stream
     */
    public void launch(CudaStream stream) {
        if (destroyed.get()) {
            throw new IllegalStateException("the CUDA graph was destroyed (closed)");
        }
        int rc = CuGraph.cuGraphLaunch(exec, stream.handle());
        if (rc != 0) {
            throw CudaException.of(rc, "cuGraphLaunch", "exec=" + Out.hex(exec) + ", stream=" + stream);
        }
    }

    /** Destroys the executable graph; idempotent. */
    @Override
    public void close() {
        if (destroyed.compareAndSet(false, true)) {
            Out.check(CuGraph.cuGraphExecDestroy(exec), "cuGraphExecDestroy", () -> "exec=" + Out.hex(exec));
        }
    }
}
