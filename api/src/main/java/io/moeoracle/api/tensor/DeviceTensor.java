package io.moeoracle.api.tensor;

/**
 * A buffer in a device's memory, created by a kernel (see {@code MoeKernel.allocate}) and opaque
 * to everything else. Closing it frees the device memory.
 */
public non-sealed interface DeviceTensor extends Tensor, AutoCloseable {

    /** @return the id of the device holding the memory, e.g. {@code cuda:0} */
    String deviceId();

    /**
     * Copies host bytes in; the host tensor must have the same dtype and element count.
     *
     * @param src source
     */
    void copyFrom(HostTensor src);

    /**
     * Copies the bytes out; the host tensor must have the same dtype and element count.
     *
     * @param dst destination
     */
    void copyTo(HostTensor dst);

    @Override
    void close();
}
