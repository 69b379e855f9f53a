package io.moeoracle.api.tensor;

import java.util.Objects;

/**
 * How tokens pick experts for one forward call: raw router logits (the kernel takes the top-k and
 * a softmax over the k), or ids and weights already chosen.
 */
public sealed interface Routing permits Routing.Logits, Routing.TopK {

    /** @return the number of tokens this routing covers */
    long tokens();

    /**
     * Router logits {@code [T, E]}, F32 or BF16.
     *
     * @param logits the logits
     */
    record Logits(Tensor logits) implements Routing {
        /** Rejects null. */
        public Logits {
            Objects.requireNonNull(logits, "logits");
        }

        @Override
        public long tokens() {
            return logits.rank() == 2 ? logits.dim(0) : -1;
        }
    }

    /**
     * Precomputed routing: expert ids {@code [T, k]} I32 and weights {@code [T, k]} F32.
     *
     * @param ids the expert ids (global ids, {@code [0, E)})
     * @param weights the routing weights
     */
    record TopK(Tensor ids, Tensor weights) implements Routing {
        /** Rejects null. */
        public TopK {
            Objects.requireNonNull(ids, "ids");
            Objects.requireNonNull(weights, "weights");
        }

        @Override
        public long tokens() {
            return ids.rank() == 2 ? ids.dim(0) : -1;
        }
    }

    /**
     * @param logits {@code [T, E]}
     * @return logit routing
     */
    static Routing logits(Tensor logits) {
        return new Logits(logits);
    }

    /**
     * @param ids {@code [T, k]} I32
     * @param weights {@code [T, k]} F32
     * @return precomputed routing
     */
    static Routing topK(Tensor ids, Tensor weights) {
        return new TopK(ids, weights);
    }
}
