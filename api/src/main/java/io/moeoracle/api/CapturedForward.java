package io.moeoracle.api;

/**
 * A forward call recorded once (e.g. as a CUDA graph) over fixed tensors and replayed many times:
 * decode-sized calls then pay one launch instead of one per stage. The tensors given at capture
 * time are read and written on every replay; update their contents, not their identity.
 */
public interface CapturedForward extends AutoCloseable {

    /** Runs the recorded forward again; returns when it has been enqueued (see {@link MoeKernel#synchronize()}). */
    void replay();

    /** Frees the recording. */
    @Override
    void close();
}
