package io.moeoracle.ep;

import io.moeoracle.api.tensor.Routing;
import io.moeoracle.api.tensor.Tensor;
import java.util.Objects;

/**
 * One rank's part of an expert-parallel forward: its own tokens, their routing and where their
 * output goes. Host tensors, or device tensors ({@code CudaTensor}) of that rank's GPU.
 *
 * @param hidden {@code [T, H]} BF16 or F32; T may differ between ranks (and be 0)
 * @param routing router logits {@code [T, E]} (F32 or BF16) or top-k ids {@code [T, k]} (I32, global
 *     expert ids) with weights {@code [T, k]} (F32)
 * @param out {@code [T, H]} BF16 or F32; every element is written
 */
public record EpRankInput(Tensor hidden, Routing routing, Tensor out) {
    /** Rejects nulls. */
    public EpRankInput {
        Objects.requireNonNull(hidden, "hidden");
        Objects.requireNonNull(routing, "routing");
        Objects.requireNonNull(out, "out");
    }
}
