package io.moeoracle.driver.cuda;

/**
 * Something whose device work is queued, in order, on one CUDA stream it owns (a CUDA backend's
 * kernel, say). Other work can then be ordered around it with events
 * ({@link CudaEvent#record}, {@link CudaStream#waitFor}) instead of a host wait: expert parallelism
 * runs its collectives and a kernel's forward back to back this way, and captures both in one graph.
 */
public interface CudaStreamBound {
    /** @return the stream every launch of this object goes to (valid until it is closed) */
    CudaStream stream();
}
