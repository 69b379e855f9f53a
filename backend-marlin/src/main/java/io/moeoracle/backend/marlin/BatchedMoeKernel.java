package io.moeoracle.backend.marlin;

import io.moeoracle.api.CapturedForward;
import io.moeoracle.api.MoeKernel;
import io.moeoracle.api.tensor.Tensor;

/**
 * A kernel for the batched (expert-parallel) activation format: tokens arrive already dispatched,
 * grouped per local expert. {@link MoeKernel#forward} is not used for this format; call
 * {@link #forwardBatched} instead.
 *
 * <p>Contract, with {@code El = spec.localExperts()} and {@code Tb <= spec.maxTokensPerCall()}:
 * <ul>
 *   <li>{@code hidden [El, Tb, H]} BF16 or F32: row {@code i} of batch {@code e} is a token routed
 *       to local expert {@code e};</li>
 *   <li>{@code counts [El]} I32: how many rows of batch {@code e} are valid (clamped to
 *       {@code [0, Tb]});</li>
 *   <li>{@code out [El, Tb, H]} BF16 or F32: {@code out[e, i] = expert_e(hidden[e, i])} for
 *       {@code i < counts[e]} (bias included, no routing weight: the combine step after expert
 *       parallelism applies it) and zero for the rows past the count. Every element is written.</li>
 * </ul>
 */
public interface BatchedMoeKernel extends MoeKernel {

    /**
     * Runs every local expert on its batch.
     *
     * @param hidden {@code [El, Tb, H]}, host or this kernel's device
     * @param counts {@code [El]} I32, host or this kernel's device
     * @param out {@code [El, Tb, H]}, host or this kernel's device
     * @throws IllegalStateException before {@code prepare}
     * @throws IllegalArgumentException on a shape or dtype mismatch, before any launch
     */
    void forwardBatched(Tensor hidden, Tensor counts, Tensor out);

    /**
     * Records {@link #forwardBatched} over these device tensors as a CUDA graph.
     *
     * @param hidden as for {@link #forwardBatched}, on this kernel's device
     * @param counts as for {@link #forwardBatched}, on this kernel's device
     * @param out as for {@link #forwardBatched}, on this kernel's device
     * @return the recording
     */
    CapturedForward captureBatched(Tensor hidden, Tensor counts, Tensor out);
}
