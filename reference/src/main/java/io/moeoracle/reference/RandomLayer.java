package io.moeoracle.reference;

import io.moeoracle.api.spec.Activation;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.spec.QuantScheme;
import java.util.SplittableRandom;

/**
 * A random small layer and a call size, as the GPU backends' tests draw them: 4 to 64 experts, top-1
 * to top-4, H and I multiples of 32 up to 384, any activation (SwiGLU-OAI with random alpha and limit
 * too), biases three times in four, expert parallelism over 2 ranks one time in three (from 8
 * experts), {@code maxTokensPerCall} 300 and T one of 1, 7, 64, 300.
 *
 * @param spec the layer (standard format)
 * @param tokens tokens of the call
 */
public record RandomLayer(MoeLayerSpec spec, int tokens) {
    /** The most tokens a drawn call has, and the spec's {@code maxTokensPerCall}. */
    public static final int MAX_TOKENS = 300;

    /**
     * @param rnd the source (the draws follow one fixed order, so a seed replays a layer)
     * @param quant the weight and activation scheme
     * @return a random layer and call size
     */
    public static RandomLayer draw(SplittableRandom rnd, QuantScheme quant) {
        int[] es = {4, 8, 16, 32, 64};
        int e = es[rnd.nextInt(es.length)];
        int k = 1 + rnd.nextInt(Math.min(4, e));
        int h = 32 * (1 + rnd.nextInt(12));
        int i = 32 * (1 + rnd.nextInt(12));
        Activation act = switch (rnd.nextInt(4)) {
            case 0 -> Activation.SILU;
            case 1 -> Activation.GELU;
            case 2 -> new Activation.SwigluOai(1.0 + rnd.nextDouble(), 3.0 + 5 * rnd.nextDouble());
            default -> Activation.SWIGLU_OAI;
        };
        int ep = e >= 8 && rnd.nextInt(3) == 0 ? 2 : 1;
        int[] ts = {1, 7, 64, MAX_TOKENS};
        int t = ts[rnd.nextInt(ts.length)];
        boolean bias = rnd.nextInt(4) != 0;
        int rank = ep == 2 ? rnd.nextInt(2) : 0;
        MoeLayerSpec spec = MoeLayerSpec.builder().experts(e).topK(k).hiddenSize(h).intermediateSize(i).quant(quant)
                .activation(act).hasBias(bias).expertParallel(ep, rank).maxTokensPerCall(MAX_TOKENS).build();
        return new RandomLayer(spec, t);
    }
}
