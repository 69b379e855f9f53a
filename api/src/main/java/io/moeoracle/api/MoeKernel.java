package io.moeoracle.api;

import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.tensor.DType;
import io.moeoracle.api.tensor.DeviceTensor;
import io.moeoracle.api.tensor.MoeWeights;
import io.moeoracle.api.tensor.Routing;
import io.moeoracle.api.tensor.Tensor;

/**
 * One MoE layer bound to one backend and device. Life cycle: {@link #prepare} once (converts the
 * canonical weights to the backend's layout, on its device), then any number of
 * {@link #forward} calls, then {@link #close}. Implementations document their thread-safety;
 * {@code forward} on one kernel from several threads at once must either work or throw.
 */
public interface MoeKernel extends AutoCloseable {

    /** @return the id of the provider that made this kernel */
    String providerId();

    /** @return the layer this kernel runs */
    MoeLayerSpec spec();

    /** @return the device it runs on */
    DeviceInfo device();

    /**
     * Converts and uploads the weights; the canonical tensors may be released afterwards.
     *
     * @param weights canonical weights of the local experts, validated against {@link #spec()}
     * @throws IllegalArgumentException when they do not match the spec
     */
    void prepare(MoeWeights weights);

    /** @return whether {@link #prepare} has completed */
    boolean isPrepared();

    /**
     * Runs the layer: {@code out[t] = sum_j w[t,j] * expert_{id[t,j]}(hidden[t])}. Every element of
     * {@code out} is written.
     *
     * @param hidden {@code [T, H]} BF16 or F32, host or this kernel's device
     * @param routing router logits or precomputed top-k
     * @param out {@code [T, H]} BF16 or F32, host or this kernel's device
     * @throws IllegalStateException before {@link #prepare}
     * @throws IllegalArgumentException on a shape or dtype mismatch, before any native call
     */
    void forward(Tensor hidden, Routing routing, Tensor out);

    /**
     * Allocates a tensor in this kernel's device memory.
     *
     * @param dtype element type
     * @param shape extents
     * @return the tensor; close it to free the memory
     * @throws UnsupportedOperationException for host-only kernels (pass host tensors instead)
     */
    default DeviceTensor allocate(DType dtype, long... shape) {
        throw new UnsupportedOperationException(providerId() + " runs on host memory; pass HostTensors");
    }

    /**
     * Waits until all work this kernel enqueued has finished. Host-only kernels finish inside
     * {@link #forward}, so for them this does nothing.
     */
    default void synchronize() {
    }

    /**
     * Records one forward over these exact tensors for cheap replay (a CUDA graph on CUDA).
     *
     * @param hidden as for {@link #forward}, on this kernel's device
     * @param routing as for {@link #forward}, on this kernel's device
     * @param out as for {@link #forward}, on this kernel's device
     * @return the recording, or empty when this kernel cannot record
     */
    default java.util.Optional<CapturedForward> capture(Tensor hidden, Routing routing, Tensor out) {
        return java.util.Optional.empty();
    }

    /** Frees everything the kernel holds; later calls throw {@link IllegalStateException}. */
    @Override
    void close();
}
