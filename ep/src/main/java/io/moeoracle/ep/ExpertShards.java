package io.moeoracle.ep;

import io.moeoracle.api.error.BadInputException;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.tensor.HostTensor;
import io.moeoracle.api.tensor.MoeWeights;
import io.moeoracle.core.weights.GptOssLayerLoader;
import io.moeoracle.core.weights.TensorSource;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Optional;

/**
 * Where each rank's expert weights come from: the canonical weights ({@link MoeWeights}) of the
 * experts a rank holds, in its slot order. Sliced from the whole layer: a contiguous run of experts
 * is a view of the same memory (of the mapped checkpoint file, so a rank reads only its experts'
 * bytes when its kernel uploads them), any other placement copies just those experts.
 */
@FunctionalInterface
public interface ExpertShards {

    /**
     * @param rank the rank
     * @param experts the global ids it holds, in slot order
     * @param rankSpec the rank's spec (its {@code localExperts} is {@code experts.length})
     * @param arena owns any copy made
     * @return the rank's weights, tensors {@code [El, ...]}
     */
    MoeWeights forRank(int rank, int[] experts, MoeLayerSpec rankSpec, Arena arena);

    /**
     * @param full the weights of all E experts (tensors {@code [E, ...]}), e.g. mapped from a checkpoint
     * @return shards sliced from it
     */
    static ExpertShards ofFullLayer(MoeWeights full) {
        return (rank, experts, rankSpec, arena) -> slice(full, experts, arena);
    }

    /**
     * A gpt-oss-layout checkpoint (safetensors, mapped, see {@link GptOssLayerLoader}): every rank
     * maps the layer and slices its experts out of the mapping.
     *
     * @param checkpoint the opened checkpoint (its mappings must outlive {@code prepare})
     * @param fullSpec the whole layer's spec (no expert parallelism)
     * @param layer the layer index
     * @return the shards
     */
    static ExpertShards ofCheckpoint(TensorSource checkpoint, MoeLayerSpec fullSpec, int layer) {
        MoeLayerSpec whole = fullSpec.toBuilder().expertParallel(1, 0).build();
        return (rank, experts, rankSpec, arena) ->
                slice(GptOssLayerLoader.load(checkpoint, whole, layer, arena).weights(), experts, arena);
    }

    /**
     * @param full tensors {@code [E, ...]}
     * @param experts the experts to keep, in order
     * @param arena owns copies (made only when the experts are not one ascending run)
     * @return tensors {@code [experts.length, ...]}
     */
    static MoeWeights slice(MoeWeights full, int[] experts, Arena arena) {
        return new MoeWeights(slice(full.w13(), experts, arena), full.w13Scales().map(t -> slice(t, experts, arena)),
                full.w13Bias().map(t -> slice(t, experts, arena)), slice(full.w2(), experts, arena),
                full.w2Scales().map(t -> slice(t, experts, arena)), full.w2Bias().map(t -> slice(t, experts, arena)));
    }

    private static HostTensor slice(HostTensor t, int[] experts, Arena arena) {
        long e = t.dim(0);
        long per = t.data().byteSize() / Math.max(1, e);
        long[] shape = t.shape();
        shape[0] = experts.length;
        for (int g : experts) {
            if (g < 0 || g >= e) {
                throw new BadInputException("expert " + g + " is outside the " + e + " experts of " + t);
            }
        }
        boolean run = true;
        for (int i = 1; i < experts.length; i++) {
            run &= experts[i] == experts[0] + i;
        }
        MemorySegment data;
        if (run && experts.length > 0) {
            data = t.data().asSlice(experts[0] * per, experts.length * per);
        } else {
            data = arena.allocate(Math.max(1, experts.length * per), 64).asSlice(0, experts.length * per);
            t.checkBacking();
            for (int i = 0; i < experts.length; i++) {
                MemorySegment.copy(t.data(), experts[i] * per, data, i * per, per);
            }
            return HostTensor.of(data, t.dtype(), shape);
        }
        Optional<HostTensor.Backing> backing = t.backing();
        return backing.isPresent() ? HostTensor.mapped(data, t.dtype(), backing.get(), shape)
                : HostTensor.of(data, t.dtype(), shape);
    }
}
