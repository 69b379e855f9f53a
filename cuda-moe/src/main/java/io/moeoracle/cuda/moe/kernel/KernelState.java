package io.moeoracle.cuda.moe.kernel;

import io.moeoracle.api.error.KernelStateException;
import java.util.Objects;

/**
 * Where a kernel is in its life: created, prepared, closed. The flags are volatile so that the checks a
 * call makes before it takes the kernel's lock see a concurrent {@code close}; the kernel checks again
 * under its lock ({@link #checkOpen}) because a close may come between the two.
 */
public final class KernelState {
    private final String providerId;
    private volatile boolean prepared;
    private volatile boolean closed;

    /** @param providerId the provider of the kernel, for messages */
    public KernelState(String providerId) {
        this.providerId = Objects.requireNonNull(providerId, "providerId");
    }

    /** @return the provider of the kernel */
    public String providerId() {
        return providerId;
    }

    /** @throws KernelStateException when the kernel is closed */
    public void checkOpen() {
        if (closed) {
            throw KernelStateException.closed(providerId, "this call");
        }
    }

    /** @throws KernelStateException when no weights were prepared (or a prepare failed half-way) */
    public void requirePrepared() {
        if (!prepared) {
            throw KernelStateException.notPrepared(providerId, "forward");
        }
    }

    /** @return whether weights are prepared and the kernel is open */
    public boolean isPrepared() {
        return prepared;
    }

    /** @param prepared whether the weights on the device are complete (false while a prepare replaces them) */
    public void prepared(boolean prepared) {
        this.prepared = prepared;
    }

    /** @return whether the kernel is closed */
    public boolean isClosed() {
        return closed;
    }

    /**
     * Marks the kernel closed (and no longer prepared); the caller holds the kernel's lock.
     *
     * @return true the first time, when the caller must release the kernel's resources; false after
     */
    public boolean beginClose() {
        if (closed) {
            return false;
        }
        closed = true;
        prepared = false;
        return true;
    }
}
