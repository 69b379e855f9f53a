package io.moeoracle.api.error;

import java.io.Serial;

/**
 * What a backend throws at the SPI boundary ({@code MoeKernelProvider.create}, and every method of
 * {@code MoeKernel}): one of four kinds, so that a host can tell its own mistakes from the
 * backend's limits and from native failures without knowing the backend.
 *
 * <ul>
 *   <li>{@link UnsupportedSpecException}: the provider cannot run this layer on this device (its
 *       verdict said so, or would have); carries the reason and the remedy.</li>
 *   <li>{@link BadInputException}: the caller passed something wrong (a shape, a dtype, a size,
 *       weights that do not match the spec, a tensor of another device); thrown before any native
 *       call.</li>
 *   <li>{@link KernelStateException}: the call does not fit the kernel's life cycle (a forward
 *       before {@code prepare}, any call after {@code close}, a second {@code prepare}).</li>
 *   <li>{@link NativeFailureException}: a native call failed; names the call, its arguments and
 *       the driver's or library's own text. Drivers' exceptions (CUDA, OpenCL) extend it.</li>
 * </ul>
 *
 * Every message names what failed, with which input, and what to do.
 */
public abstract sealed class MoeKernelException extends RuntimeException
        permits UnsupportedSpecException, BadInputException, KernelStateException, NativeFailureException {
    @Serial
    private static final long serialVersionUID = 1L;

    /**
     * @param message what failed, with which input, and what to do
     * @param cause the underlying failure, or null
     */
    protected MoeKernelException(String message, Throwable cause) {
        super(message, cause);
    }
}
