package io.moeoracle.ep;

import io.moeoracle.api.CapturedForward;
import io.moeoracle.driver.cuda.CudaGraph;
import java.util.List;

/**
 * One all-gather forward recorded as a CUDA graph per rank (routing, collectives, the kernel, the
 * output conversion): a replay launches each rank's graph on its stream; {@code synchronize} on the
 * layer waits for it (with the deadline) and checks the error flags. The tensors given at capture time
 * are read and written by every replay.
 */
final class EpCapture implements CapturedForward {
    private final EpEngine engine;
    private final List<EpIo> ios;
    private final List<CudaGraph> graphs;
    private final long[] bytes;
    private boolean closed;

    EpCapture(EpEngine engine, List<EpIo> ios, List<CudaGraph> graphs, long[] bytes) {
        this.engine = engine;
        this.ios = List.copyOf(ios);
        this.graphs = List.copyOf(graphs);
        this.bytes = bytes.clone();
    }

    @Override
    public synchronized void replay() {
        if (closed) {
            throw new IllegalStateException("this captured expert-parallel forward was closed; capture another");
        }
        engine.replay(ios, graphs, bytes);
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            for (int i = 0; i < graphs.size(); i++) {
                ios.get(i).rank.context.setCurrent();
                graphs.get(i).close();
            }
        }
    }
}
