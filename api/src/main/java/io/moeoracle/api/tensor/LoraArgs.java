package io.moeoracle.api.tensor;

import io.moeoracle.api.error.BadInputException;
import io.moeoracle.api.spec.MoeLayerSpec;
import java.lang.foreign.ValueLayout;
import java.util.function.IntPredicate;

/**
 * Checks of the LoRA arguments of {@code MoeKernel.loadAdapter} and of the forward that takes
 * per-token adapter indices, shared by every backend so bad input fails in Java before native code.
 */
public final class LoraArgs {
    /** The adapter index of a token that uses no adapter. */
    public static final int NONE = -1;

    private LoraArgs() {
    }

    /**
     * The error for a LoRA call on a kernel whose spec has no LoRA.
     *
     * @param who the provider id
     * @param spec the kernel's layer
     * @param call the call
     * @return the exception (to throw)
     */
    public static BadInputException noLora(String who, MoeLayerSpec spec, String call) {
        return new BadInputException(call + " needs a LoRA layer, but " + who + "'s spec has lora=false ("
                + spec.describe() + "); create the kernel from a spec built with lora(maxRank, slots)");
    }

    /**
     * Checks an adapter slot.
     *
     * @param who the provider id
     * @param spec the kernel's layer
     * @param slot the slot
     * @throws BadInputException when the spec has no LoRA or the slot is outside {@code [0, adapterSlots)}
     */
    public static void checkSlot(String who, MoeLayerSpec spec, int slot) {
        if (!spec.lora()) {
            throw noLora(who, spec, "an adapter slot");
        }
        if (slot < 0 || slot >= spec.adapterSlots()) {
            throw new BadInputException("adapter slot " + slot + " is outside [0, " + spec.adapterSlots()
                    + "); the spec has " + spec.adapterSlots() + " slots");
        }
    }

    /**
     * Checks per-token adapter indices: I32 {@code [T]} for a call of T tokens; for host tensors,
     * also that every index is {@link #NONE} or a slot for which {@code loaded} holds.
     *
     * @param who the provider id
     * @param spec the kernel's layer
     * @param adapterIds the indices
     * @param tokens T
     * @param loaded whether a slot holds an adapter
     * @throws BadInputException naming the token and index, or the tensor's shape
     */
    public static void checkIds(String who, MoeLayerSpec spec, Tensor adapterIds, int tokens, IntPredicate loaded) {
        if (!spec.lora()) {
            throw noLora(who, spec, "a forward with adapter indices");
        }
        if (adapterIds.dtype() != DType.I32 || adapterIds.rank() != 1 || adapterIds.dim(0) != tokens) {
            throw new BadInputException("adapter ids are " + adapterIds.dtype() + " " + adapterIds.shapeString()
                    + " but must be I32 [" + tokens + "] (one per token, -1 for none)");
        }
        if (adapterIds instanceof HostTensor h) {
            for (int t = 0; t < tokens; t++) {
                int a = h.data().getAtIndex(ValueLayout.JAVA_INT_UNALIGNED, t);
                if (a == NONE) {
                    continue;
                }
                if (a < NONE || a >= spec.adapterSlots()) {
                    throw new BadInputException("adapter id " + a + " of token " + t + " is outside [-1, "
                            + spec.adapterSlots() + ")");
                }
                if (!loaded.test(a)) {
                    throw new BadInputException("adapter id " + a + " of token " + t + " names an empty slot;"
                            + " load an adapter there with loadAdapter first");
                }
            }
        }
    }

    /**
     * Reads host adapter indices.
     *
     * @param ids I32 {@code [T]}
     * @return the indices
     */
    public static int[] read(HostTensor ids) {
        int[] v = new int[Math.toIntExact(ids.numel())];
        for (int t = 0; t < v.length; t++) {
            v[t] = ids.data().getAtIndex(ValueLayout.JAVA_INT_UNALIGNED, t);
        }
        return v;
    }
}
