package io.moeoracle.api;

import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.error.BadInputException;
import io.moeoracle.api.error.KernelStateException;
import io.moeoracle.api.error.MoeKernelException;
import io.moeoracle.api.error.NativeFailureException;
import io.moeoracle.api.error.UnsupportedSpecException;
import io.moeoracle.api.spec.ActivationFormat;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.tensor.DType;
import io.moeoracle.api.tensor.DeviceTensor;
import io.moeoracle.api.tensor.ForwardArgs;
import io.moeoracle.api.tensor.LoraAdapter;
import io.moeoracle.api.tensor.LoraArgs;
import io.moeoracle.api.tensor.MoeWeights;
import io.moeoracle.api.tensor.Routing;
import io.moeoracle.api.tensor.Tensor;

/**
 * One MoE layer bound to one backend and device. Life cycle: {@link #prepare} once (converts the
 * canonical weights to the backend's layout, on its device), then any number of forwards, then
 * {@link #close}.
 *
 * <p><b>Two forwards, one per {@link ActivationFormat}.</b> A kernel runs the format of its
 * {@link #spec()}: {@link #forward} for {@link ActivationFormat#STANDARD} ({@code [T, H]} tokens
 * with routing), {@link #forwardBatched} for {@link ActivationFormat#BATCHED} (tokens already
 * dispatched per local expert, {@code [E_local, maxTokens, H]} with per-expert counts, as expert
 * parallelism delivers them). Calling the other format's forward throws {@link BadInputException}.
 * A host never needs a backend's own kernel type.
 *
 * <p><b>LoRA.</b> When the spec has {@code lora} on, the kernel holds {@code spec().adapterSlots()}
 * adapter slots. {@link #loadAdapter} fills or replaces a slot at any time after creation (before
 * or after {@code prepare}, without re-preparing the base weights), {@link #unloadAdapter} empties
 * it, and {@link #forward(Tensor, Routing, Tensor, Tensor)} takes one adapter index per token
 * ({@code -1}: none), so one forward serves requests for different adapters. The plain
 * {@link #forward(Tensor, Routing, Tensor)} runs every token without an adapter. Like
 * {@code prepare}, loading never overlaps a forward on the same kernel.
 *
 * <p><b>Thread safety</b> (every implementation, checked by the conformance kit):
 * <ul>
 *   <li>{@code forward}, {@code forwardBatched}, {@code synchronize} and the accessors may be called
 *       from several threads at once on one kernel; each call gives the result it would give alone
 *       (an implementation may run them one at a time).</li>
 *   <li>{@code prepare} comes before any forward (a forward before it throws
 *       {@link KernelStateException}); calling it again replaces the weights. It never overlaps a
 *       forward on the same kernel: a concurrent forward sees the old weights or the new ones, never
 *       a mix. (A kernel that cannot take new weights says so in its Javadoc and throws
 *       {@link KernelStateException#alreadyPrepared}.)</li>
 *   <li>{@code close} may be called from any thread, any number of times; it waits for forwards
 *       running on other threads (never frees memory under a native call); afterwards every call but
 *       {@code close} throws {@link KernelStateException}.</li>
 *   <li>Distinct kernels share nothing a caller can observe: they may be used from different threads
 *       freely.</li>
 * </ul>
 *
 * <p><b>Errors.</b> Every failure is a {@link MoeKernelException}: {@link BadInputException} and
 * {@link KernelStateException} before any native call (the kernel stays usable),
 * {@link NativeFailureException} when a native call fails. Nothing a caller passes may crash the
 * JVM. (The one exception to the rule is {@link #allocate} on a host-only kernel, an optional
 * operation that throws {@link UnsupportedOperationException}, as the JDK's optional operations do.)
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
     * @throws BadInputException when they do not match the spec
     * @throws KernelStateException when closed
     * @throws NativeFailureException when the upload or conversion fails natively
     */
    void prepare(MoeWeights weights);

    /**
     * {@link #prepare(MoeWeights)} that tells {@code progress} how far it has come, for hosts that
     * show a progress bar while a large checkpoint is converted. Same contract otherwise. The default
     * reports only the end (fraction 1, after {@code prepare} returned); a backend whose preparation
     * takes long overrides it and reports its stages.
     *
     * @param weights canonical weights of the local experts, validated against {@link #spec()}
     * @param progress hears the fraction done; {@link ProgressListener#NONE} for nobody
     * @throws BadInputException when they do not match the spec
     * @throws KernelStateException when closed
     * @throws NativeFailureException when the upload or conversion fails natively
     */
    default void prepare(MoeWeights weights, ProgressListener progress) {
        prepare(weights);
        progress.progress(1.0, "prepared");
    }

    /** @return whether {@link #prepare} has completed */
    boolean isPrepared();

    /**
     * Runs the layer: {@code out[t] = sum_j w[t,j] * expert_{id[t,j]}(hidden[t])}. Every element of
     * {@code out} is written.
     *
     * @param hidden {@code [T, H]} BF16 or F32, host or this kernel's device
     * @param routing router logits or precomputed top-k
     * @param out {@code [T, H]} BF16 or F32, host or this kernel's device
     * @throws KernelStateException before {@link #prepare}, or after {@link #close}
     * @throws BadInputException on a shape or dtype mismatch (see {@link ForwardArgs#check}), or when
     *     the spec's format is {@link ActivationFormat#BATCHED}; before any native call
     * @throws NativeFailureException when a native call fails
     */
    void forward(Tensor hidden, Routing routing, Tensor out);

    /**
     * Runs the layer with LoRA adapters: as {@link #forward(Tensor, Routing, Tensor)}, with the
     * adapter of slot {@code adapterIds[t]} added to each chosen expert's projections for token t
     * (see {@link LoraAdapter}); tokens with index {@code -1} get the base layer alone.
     *
     * @param hidden {@code [T, H]} BF16 or F32, host or this kernel's device
     * @param routing router logits or precomputed top-k
     * @param adapterIds {@code [T]} I32, host or this kernel's device; on the device an index that is
     *     out of range or names an empty slot counts as {@code -1}
     * @param out {@code [T, H]} BF16 or F32, host or this kernel's device
     * @throws KernelStateException before {@link #prepare}, or after {@link #close}
     * @throws BadInputException as for the plain forward; when the spec has no LoRA; when a host index
     *     is outside {@code [-1, adapterSlots)} or names an empty slot
     * @throws NativeFailureException when a native call fails
     */
    default void forward(Tensor hidden, Routing routing, Tensor adapterIds, Tensor out) {
        throw LoraArgs.noLora(providerId(), spec(), "forward with adapter ids");
    }

    /**
     * Loads an adapter into a slot, replacing what the slot held. The base weights stay as prepared.
     *
     * @param slot in {@code [0, spec().adapterSlots())}
     * @param adapter the adapter, validated against {@link #spec()} ({@link LoraAdapter#validate})
     * @throws BadInputException when the spec has no LoRA, the slot is out of range, or the adapter
     *     does not fit the spec (shapes, rank above {@code maxLoraRank})
     * @throws KernelStateException after {@link #close}
     * @throws NativeFailureException when the upload fails natively
     */
    default void loadAdapter(int slot, LoraAdapter adapter) {
        throw LoraArgs.noLora(providerId(), spec(), "loadAdapter");
    }

    /**
     * Empties a slot (idempotent); tokens that name it afterwards are rejected (host indices) or run
     * without an adapter (device indices).
     *
     * @param slot in {@code [0, spec().adapterSlots())}
     * @throws BadInputException when the spec has no LoRA or the slot is out of range
     * @throws KernelStateException after {@link #close}
     */
    default void unloadAdapter(int slot) {
        throw LoraArgs.noLora(providerId(), spec(), "unloadAdapter");
    }

    /**
     * Records one LoRA forward over these exact tensors for cheap replay; the replay reads the
     * adapter ids' current contents and the adapters loaded at replay time.
     *
     * @param hidden as for {@link #forward(Tensor, Routing, Tensor, Tensor)}, on this kernel's device
     * @param routing likewise
     * @param adapterIds likewise
     * @param out likewise
     * @return the recording, or empty when this kernel cannot record
     */
    default java.util.Optional<CapturedForward> capture(Tensor hidden, Routing routing, Tensor adapterIds,
                                                        Tensor out) {
        return java.util.Optional.empty();
    }

    /**
     * Runs every local expert on its own batch of tokens (the {@link ActivationFormat#BATCHED}
     * format of expert parallelism). With {@code El = spec().localExperts()} and
     * {@code Tb <= spec().maxTokensPerCall()}:
     * <ul>
     *   <li>{@code hidden [El, Tb, H]} BF16 or F32: row {@code i} of batch {@code e} is a token routed
     *       to local expert {@code e};</li>
     *   <li>{@code counts [El]} I32: how many rows of batch {@code e} are valid (clamped to
     *       {@code [0, Tb]});</li>
     *   <li>{@code out [El, Tb, H]} BF16 or F32: {@code out[e, i] = expert_e(hidden[e, i])} for
     *       {@code i < counts[e]} (bias included, no routing weight: the combine step after expert
     *       parallelism applies it) and zero past the count. Every element is written.</li>
     * </ul>
     * The default throws {@link BadInputException}: a kernel of the standard format does not take it.
     *
     * @param hidden {@code [El, Tb, H]}, host or this kernel's device
     * @param counts {@code [El]} I32, host or this kernel's device
     * @param out {@code [El, Tb, H]}, host or this kernel's device
     * @throws KernelStateException before {@link #prepare}, or after {@link #close}
     * @throws BadInputException on a shape or dtype mismatch (see {@link ForwardArgs#checkBatched}), or
     *     when the spec's format is {@link ActivationFormat#STANDARD}; before any native call
     * @throws NativeFailureException when a native call fails
     */
    default void forwardBatched(Tensor hidden, Tensor counts, Tensor out) {
        throw ForwardArgs.wrongFormat(providerId(), spec(), "forwardBatched");
    }

    /**
     * Allocates a tensor in this kernel's device memory.
     *
     * @param dtype element type
     * @param shape extents
     * @return the tensor; close it to free the memory
     * @throws UnsupportedOperationException for host-only kernels (the optional-operation convention:
     *     hosts catch it to learn that the kernel takes host tensors only)
     */
    default DeviceTensor allocate(DType dtype, long... shape) {
        throw new UnsupportedOperationException(providerId() + " runs on host memory and allocates no device"
                + " tensors; pass HostTensors");
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

    /**
     * Records one {@link #forwardBatched} over these exact tensors for cheap replay.
     *
     * @param hidden as for {@link #forwardBatched}, on this kernel's device
     * @param counts as for {@link #forwardBatched}, on this kernel's device
     * @param out as for {@link #forwardBatched}, on this kernel's device
     * @return the recording, or empty when this kernel cannot record
     */
    default java.util.Optional<CapturedForward> captureBatched(Tensor hidden, Tensor counts, Tensor out) {
        return java.util.Optional.empty();
    }

    /**
     * Frees everything the kernel holds; idempotent. Later calls but {@code close} throw
     * {@link KernelStateException}.
     */
    @Override
    void close();
}
