package io.moeoracle.cuda.moe.kernel;

import io.moeoracle.api.CapturedForward;
import io.moeoracle.api.MoeKernel;
import io.moeoracle.driver.cuda.CudaContext;
import io.moeoracle.driver.cuda.CudaGraph;
import io.moeoracle.driver.cuda.CudaStream;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The steps of a CUDA kernel's life that every CUDA backend takes the same way: creation on a retained
 * primary context (released again when creation fails), replay of a recorded graph, release on close.
 */
public final class CudaKernels {
    private CudaKernels() {
    }

    /**
     * Builds a kernel on a retained primary context. When building or loading fails, the half-built kernel
     * is closed (it owns the context then), or the context is released when there is no kernel yet.
     *
     * @param context a primary context retained for the kernel; the kernel owns it from here
     * @param build constructs the kernel (loads its image, creates its stream)
     * @param load what follows construction (looks up functions, reads configurations)
     * @param <K> the kernel
     * @return the kernel
     */
    public static <K extends MoeKernel> K create(CudaContext context, Function<CudaContext, K> build,
                                                 Consumer<K> load) {
        K k = null;
        try {
            k = build.apply(context);
            load.accept(k);
            return k;
        } catch (RuntimeException e) {
            if (k != null) {
                k.close();
            } else {
                context.close();
            }
            throw e;
        }
    }

    /**
     * Releases a kernel's device resources once its queued work is done: {@code free} (weights, scratch),
     * then the stream, then {@code unload} (modules); the context is released even when one of these fails.
     * The caller holds the kernel's lock and has {@linkplain KernelState#beginClose begun the close}.
     *
     * @param context the kernel's context
     * @param stream the kernel's stream
     * @param free frees device memory
     * @param unload unloads the kernel's modules
     */
    public static void release(CudaContext context, CudaStream stream, Runnable free, Runnable unload) {
        try {
            context.ensureCurrent();
            stream.synchronize();
            free.run();
            stream.close();
            unload.run();
        } finally {
            context.close();
        }
    }

    /**
     * @param kernel the kernel (its monitor serializes replays with its other calls)
     * @param state the kernel's state
     * @param context the kernel's context
     * @param stream the stream the graph is launched on
     * @param graph the recorded forward
     * @return the captured forward
     */
    public static CapturedForward replay(Object kernel, KernelState state, CudaContext context, CudaStream stream,
                                         CudaGraph graph) {
        return new GraphReplay(kernel, state, () -> {
            context.ensureCurrent();
            graph.launch(stream);
        }, graph::close);
    }
}
