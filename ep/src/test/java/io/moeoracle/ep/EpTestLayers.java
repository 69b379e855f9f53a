package io.moeoracle.ep;

import io.moeoracle.api.error.BadInputException;
import io.moeoracle.api.spec.Activation;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.spec.QuantScheme;
import io.moeoracle.api.tensor.DType;
import io.moeoracle.api.tensor.HostTensor;
import io.moeoracle.api.tensor.MoeWeights;
import io.moeoracle.api.tensor.Routing;
import io.moeoracle.core.weights.ModelConfig;
import io.moeoracle.reference.RandomMoe;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The layers the expert-parallel tests and the benchmark run (gpt-oss-120b, and a DeepSeek-V3-class
 * shape), their full random weights (made once per JVM, in shared memory so ranks prepare in
 * parallel), and per-rank inputs for the routing scenarios of the acceptance list.
 */
final class EpTestLayers {
    private static final Map<String, MoeWeights> WEIGHTS = new HashMap<>();
    /** Never closed: the weights live as long as the test JVM. */
    private static final Arena WEIGHT_ARENA = Arena.ofShared();

    private EpTestLayers() {
    }

    /** @return E=256, top-8, H=7168, I=2048, MXFP4 weights, SiLU, no bias */
    static MoeLayerSpec deepSeekV3() {
        return MoeLayerSpec.builder().experts(256).topK(8).hiddenSize(7168).intermediateSize(2048)
                .quant(QuantScheme.MXFP4_AUTO).activation(Activation.SILU).hasBias(false).build();
    }

    /**
     * @param name {@code deepseek-v3}, or a preset of {@link ModelConfig} ({@code gpt-oss-120b}, {@code gpt-oss-20b})
     * @return the whole layer's spec
     */
    static MoeLayerSpec spec(String name) {
        return name.equals("deepseek-v3") ? deepSeekV3() : ModelConfig.preset(name);
    }

    /**
     * @param name the layer
     * @return its weights, every expert, generated once per JVM (seed printed)
     */
    static synchronized MoeWeights weights(String name) {
        return WEIGHTS.computeIfAbsent(name, n -> {
            long seed = n.hashCode() * 31L + 17;
            long t0 = System.nanoTime();
            MoeWeights w = RandomMoe.weights(spec(n), seed, WEIGHT_ARENA);
            System.out.printf("random weights of %s (seed %d): %.1f s%n", n, seed, (System.nanoTime() - t0) / 1e9);
            return w;
        });
    }

    /** Which experts the tokens choose. */
    enum Scenario {
        /** random router logits */
        RANDOM,
        /** given top-k: every token's first choice is one hot expert (rank 0's slot 1) */
        HOT_EXPERT,
        /** given top-k avoiding the last rank's experts, and rank 0 with no tokens of its own */
        IDLE_RANK
    }

    /**
     * One rank's host tensors.
     *
     * @param hidden {@code [T, H]}
     * @param routing logits or top-k
     * @param out {@code [T, H]}, NaN-filled
     */
    record RankData(HostTensor hidden, Routing routing, HostTensor out) {
        int tokens() {
            return (int) hidden.dim(0);
        }
    }

    /**
     * @param spec the layer
     * @param placement the placement (for IDLE_RANK)
     * @param tokens tokens per rank
     * @param scenario the routing scenario
     * @param dtype hidden and output type
     * @param seed the seed
     * @param arena owner (shared)
     * @return one entry per rank
     */
    static List<RankData> inputs(MoeLayerSpec spec, ExpertPlacement placement, int tokens, Scenario scenario,
                                 DType dtype, long seed, Arena arena) {
        int ranks = placement.ranks();
        List<RankData> out = new ArrayList<>();
        SplittableRandom rnd = new SplittableRandom(seed);
        for (int r = 0; r < ranks; r++) {
            int t = scenario == Scenario.IDLE_RANK && r == 0 && ranks > 1 ? 0 : tokens;
            HostTensor hidden = RandomMoe.hidden(t, spec.hiddenSize(), dtype, rnd.nextLong(), arena);
            HostTensor o = HostTensor.allocate(arena, dtype, t, spec.hiddenSize());
            o.data().fill((byte) 0xFF); // NaN in F32 and BF16: every element must be written
            Routing routing = switch (scenario) {
                case RANDOM -> Routing.logits(RandomMoe.routerLogits(t, spec.experts(), rnd.nextLong(), arena));
                case HOT_EXPERT -> topK(spec, t, placement.expertsOf(0)[1], allExperts(spec.experts()), rnd, arena);
                case IDLE_RANK -> topK(spec, t, -1, expertsNotOn(placement, ranks - 1), rnd, arena);
            };
            out.add(new RankData(hidden, routing, o));
        }
        return out;
    }

    private static int[] allExperts(int e) {
        int[] all = new int[e];
        for (int i = 0; i < e; i++) {
            all[i] = i;
        }
        return all;
    }

    private static int[] expertsNotOn(ExpertPlacement p, int rank) {
        List<Integer> keep = new ArrayList<>();
        for (int g = 0; g < p.experts(); g++) {
            if (p.owner(g) != rank || p.ranks() == 1) {
                keep.add(g);
            }
        }
        return keep.stream().mapToInt(Integer::intValue).toArray();
    }

    /** Top-k over {@code pool} (distinct per token), the hot expert first when given; softmax weights. */
    private static Routing topK(MoeLayerSpec spec, int t, int hot, int[] pool, SplittableRandom rnd, Arena arena) {
        int k = spec.topK();
        if (pool.length < k) {
            throw new BadInputException("a pool of " + pool.length + " experts cannot give top-" + k);
        }
        HostTensor ids = HostTensor.allocate(arena, DType.I32, t, k);
        HostTensor w = HostTensor.allocate(arena, DType.F32, t, k);
        int[] chosen = new int[k];
        double[] x = new double[k];
        for (int tok = 0; tok < t; tok++) {
            for (int j = 0; j < k; j++) {
                int id;
                boolean dup;
                do {
                    id = j == 0 && hot >= 0 ? hot : pool[rnd.nextInt(pool.length)];
                    dup = false;
                    for (int q = 0; q < j; q++) {
                        dup |= chosen[q] == id;
                    }
                } while (dup);
                chosen[j] = id;
                x[j] = rnd.nextGaussian() + (j == 0 && hot >= 0 ? 1.0 : 0.0);
            }
            double max = Double.NEGATIVE_INFINITY;
            for (double v : x) {
                max = Math.max(max, v);
            }
            double sum = 0;
            for (int j = 0; j < k; j++) {
                x[j] = Math.exp(x[j] - max);
                sum += x[j];
            }
            for (int j = 0; j < k; j++) {
                ids.data().setAtIndex(ValueLayout.JAVA_INT, (long) tok * k + j, chosen[j]);
                w.data().setAtIndex(ValueLayout.JAVA_FLOAT, (long) tok * k + j, (float) (x[j] / sum));
            }
        }
        return Routing.topK(ids, w);
    }
}
