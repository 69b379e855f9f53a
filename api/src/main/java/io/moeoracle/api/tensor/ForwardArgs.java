package io.moeoracle.api.tensor;

import io.moeoracle.api.spec.ActivationFormat;
import io.moeoracle.api.spec.MoeLayerSpec;
import java.util.Arrays;

/**
 * Shape and dtype checks for one forward call, shared by every backend so that bad input is
 * rejected in Java before any native code sees it.
 */
public final class ForwardArgs {
    private ForwardArgs() {
    }

    /**
     * Checks a standard-format call: {@code hidden [T, H]} and {@code out [T, H]} (BF16 or F32),
     * routing logits {@code [T, E]} (F32 or BF16) or top-k {@code [T, k]} ids (I32) and weights (F32).
     *
     * @param spec the layer
     * @param hidden input activations
     * @param routing the routing
     * @param out the output
     * @return T, the number of tokens
     * @throws IllegalArgumentException naming the argument, its shape and the expected one
     */
    public static int check(MoeLayerSpec spec, Tensor hidden, Routing routing, Tensor out) {
        if (spec.activationFormat() != ActivationFormat.STANDARD) {
            throw new IllegalArgumentException("this call takes the standard format, the spec says "
                    + spec.activationFormat());
        }
        if (hidden.rank() != 2 || hidden.dim(1) != spec.hiddenSize()) {
            throw new IllegalArgumentException("hidden is " + hidden.shapeString() + " but must be [T, "
                    + spec.hiddenSize() + "]");
        }
        long t = hidden.dim(0);
        if (t > spec.maxTokensPerCall()) {
            throw new IllegalArgumentException("hidden has " + t + " tokens, more than maxTokensPerCall "
                    + spec.maxTokensPerCall());
        }
        floatType("hidden", hidden);
        floatType("out", out);
        if (!Arrays.equals(out.shape(), hidden.shape())) {
            throw new IllegalArgumentException("out is " + out.shapeString() + " but must match hidden "
                    + hidden.shapeString());
        }
        switch (routing) {
            case Routing.Logits l -> {
                shape("router logits", l.logits(), t, spec.experts());
                if (l.logits().dtype() != DType.F32 && l.logits().dtype() != DType.BF16) {
                    throw new IllegalArgumentException("router logits are " + l.logits().dtype()
                            + " but must be F32 or BF16");
                }
            }
            case Routing.TopK k -> {
                shape("top-k ids", k.ids(), t, spec.topK());
                shape("top-k weights", k.weights(), t, spec.topK());
                if (k.ids().dtype() != DType.I32) {
                    throw new IllegalArgumentException("top-k ids are " + k.ids().dtype() + " but must be I32");
                }
                if (k.weights().dtype() != DType.F32) {
                    throw new IllegalArgumentException("top-k weights are " + k.weights().dtype()
                            + " but must be F32");
                }
            }
        }
        return Math.toIntExact(t);
    }

    /**
     * Checks host top-k ids lie in {@code [0, E)}; device tensors are checked by their kernels.
     *
     * @param spec the layer
     * @param routing the routing
     */
    public static void checkIds(MoeLayerSpec spec, Routing routing) {
        if (routing instanceof Routing.TopK(HostTensor ids, Tensor w)) {
            long n = ids.numel();
            for (long j = 0; j < n; j++) {
                int id = ids.data().getAtIndex(java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED, j);
                if (id < 0 || id >= spec.experts()) {
                    throw new IllegalArgumentException("top-k id " + id + " at token " + (j / spec.topK())
                            + " is outside [0, " + spec.experts() + ")");
                }
            }
        }
    }

    private static void floatType(String name, Tensor t) {
        if (t.dtype() != DType.F32 && t.dtype() != DType.BF16) {
            throw new IllegalArgumentException(name + " is " + t.dtype() + " but must be F32 or BF16");
        }
    }

    private static void shape(String name, Tensor t, long... shape) {
        if (!Arrays.equals(t.shape(), shape)) {
            throw new IllegalArgumentException(name + " are " + t.shapeString() + " but must be "
                    + Arrays.toString(shape));
        }
    }
}
