package io.moeoracle.cuda.moe.kernel;

import io.moeoracle.api.CapturedForward;
import io.moeoracle.api.error.KernelStateException;
import java.util.Objects;

/**
 * A captured forward: a recording replayed on its kernel's stream under the kernel's lock, so that a
 * replay never overlaps a forward, a prepare or a close of the same kernel.
 */
public final class GraphReplay implements CapturedForward {
    private final Object lock;
    private final KernelState state;
    private final Runnable launch;
    private final Runnable release;
    private boolean released;

    /**
     * @param lock the kernel (the monitor its calls hold)
     * @param state the kernel's state: a closed kernel replays nothing
     * @param launch queues the recording on the kernel's stream (with the kernel's context current)
     * @param release frees the recording
     */
    public GraphReplay(Object lock, KernelState state, Runnable launch, Runnable release) {
        this.lock = Objects.requireNonNull(lock, "lock");
        this.state = Objects.requireNonNull(state, "state");
        this.launch = Objects.requireNonNull(launch, "launch");
        this.release = Objects.requireNonNull(release, "release");
    }

    @Override
    public void replay() {
        synchronized (lock) {
            state.checkOpen();
            if (released) {
                throw new KernelStateException("this captured forward of " + state.providerId()
                        + " was closed; capture another");
            }
            launch.run();
        }
    }

    @Override
    public void close() {
        synchronized (lock) {
            if (!released) {
                released = true;
                release.run();
            }
        }
    }
}
