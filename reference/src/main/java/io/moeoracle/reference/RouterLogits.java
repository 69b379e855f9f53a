package io.moeoracle.reference;

import io.moeoracle.api.tensor.DType;
import io.moeoracle.api.tensor.HostTensor;
import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.Optional;
import java.util.stream.IntStream;

/** The router of a checkpoint's MoE layer: {@code logits = hidden · Wᵀ + b}, accumulated in float64. */
public final class RouterLogits {
    private RouterLogits() {
    }

    /**
     * @param hidden {@code [T, H]} float tensor
     * @param weight {@code [E, H]} float tensor (BF16 in gpt-oss checkpoints)
     * @param bias {@code [E]}, if the router has one
     * @param arena owner of the result
     * @return {@code [T, E]} F32 logits
     * @throws IllegalArgumentException when the shapes do not chain
     */
    public static HostTensor compute(HostTensor hidden, HostTensor weight, Optional<HostTensor> bias, Arena arena) {
        if (hidden.rank() != 2 || weight.rank() != 2 || hidden.dim(1) != weight.dim(1)) {
            throw new IllegalArgumentException("router weight " + weight.shapeString()
                    + " does not match hidden " + hidden.shapeString() + ": expected [E, H]");
        }
        int t = Math.toIntExact(hidden.dim(0));
        int e = Math.toIntExact(weight.dim(0));
        int h = Math.toIntExact(weight.dim(1));
        bias.ifPresent(b -> {
            if (!Arrays.equals(b.shape(), new long[] {e})) {
                throw new IllegalArgumentException("router bias " + b.shapeString() + " must be [" + e + "]");
            }
        });
        HostTensor out = HostTensor.allocate(arena, DType.F32, t, e);
        double[] w = new double[Math.multiplyExact(e, h)];
        Elements.read(weight, 0, w, 0, w.length);
        double[] b = new double[e];
        bias.ifPresent(bt -> Elements.read(bt, 0, b, 0, e));
        IntStream.range(0, t).parallel().forEach(token -> {
            double[] x = new double[h];
            Elements.read(hidden, (long) token * h, x, 0, h);
            for (int j = 0; j < e; j++) {
                double acc = b[j];
                for (int k = 0; k < h; k++) {
                    acc += x[k] * w[j * h + k];
                }
                Elements.set(out, (long) token * e + j, acc);
            }
        });
        return out;
    }
}
