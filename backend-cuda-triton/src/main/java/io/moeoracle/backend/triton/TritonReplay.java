package io.moeoracle.backend.triton;

import io.moeoracle.api.CapturedForward;
import io.moeoracle.api.error.KernelStateException;
import io.moeoracle.driver.cuda.CudaGraph;

/** A captured forward: one CUDA graph replayed on its kernel's stream. */
final class TritonReplay implements CapturedForward {
    private final TritonKernel kernel;
    private final CudaGraph graph;
    private boolean released;

    TritonReplay(TritonKernel kernel, CudaGraph graph) {
        this.kernel = kernel;
        this.graph = graph;
    }

    @Override
    public void replay() {
        synchronized (kernel) {
            if (released) {
                throw new KernelStateException("this captured forward of " + kernel.providerId()
                        + " was closed; capture another");
            }
            kernel.replay(graph);
        }
    }

    @Override
    public void close() {
        synchronized (kernel) {
            if (!released) {
                released = true;
                graph.close();
            }
        }
    }
}
