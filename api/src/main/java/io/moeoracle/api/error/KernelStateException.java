package io.moeoracle.api.error;

import java.io.Serial;

/**
 * A call that does not fit the kernel's life cycle: a forward before {@code MoeKernel.prepare},
 * any call but {@code close} after {@code MoeKernel.close}, or a second {@code prepare} on a kernel
 * that documents it takes its weights once. Thrown before any native call.
 */
public final class KernelStateException extends MoeKernelException {
    @Serial
    private static final long serialVersionUID = 1L;

    /** @param message what was called, in which state, and what to do */
    public KernelStateException(String message) {
        super(message, null);
    }

    /**
     * @param providerId the kernel's provider
     * @param call the method that was called, e.g. {@code forward}
     * @return the exception for a call on a closed kernel
     */
    public static KernelStateException closed(String providerId, String call) {
        return new KernelStateException(providerId + " kernel is closed; " + call
                + " needs an open kernel (create a new one with the provider)");
    }

    /**
     * @param providerId the kernel's provider
     * @param call the method that was called, e.g. {@code forward}
     * @return the exception for a call that needs prepared weights
     */
    public static KernelStateException notPrepared(String providerId, String call) {
        return new KernelStateException(providerId + " kernel is not prepared; call prepare(weights) before "
                + call);
    }

    /**
     * @param providerId the kernel's provider
     * @return the exception for a second {@code prepare} on a kernel that takes its weights once
     */
    public static KernelStateException alreadyPrepared(String providerId) {
        return new KernelStateException(providerId + " kernel is already prepared; prepare runs once per kernel"
                + " (create another kernel for other weights)");
    }
}
