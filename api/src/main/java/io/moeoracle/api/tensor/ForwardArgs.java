package io.moeoracle.api.tensor;

import io.moeoracle.api.error.BadInputException;
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
     * @throws BadInputException naming the argument, its shape and the expected one
     */
    public static int check(MoeLayerSpec spec, Tensor hidden, Routing routing, Tensor out) {
        if (spec.activationFormat() != ActivationFormat.STANDARD) {
            throw wrongFormat("this kernel", spec, "forward");
        }
        if (hidden.rank() != 2 || hidden.dim(1) != spec.hiddenSize()) {
            throw new BadInputException("hidden is " + hidden.shapeString() + " but must be [T, "
                    + spec.hiddenSize() + "]");
        }
        long t = hidden.dim(0);
        if (t > spec.maxTokensPerCall()) {
            throw new BadInputException("hidden has " + t + " tokens, more than maxTokensPerCall "
                    + spec.maxTokensPerCall());
        }
        floatType("hidden", hidden);
        floatType("out", out);
        if (!Arrays.equals(out.shape(), hidden.shape())) {
            throw new BadInputException("out is " + out.shapeString() + " but must match hidden "
                    + hidden.shapeString());
        }
        switch (routing) {
            case Routing.Logits l -> {
                shape("router logits", l.logits(), t, spec.experts());
                if (l.logits().dtype() != DType.F32 && l.logits().dtype() != DType.BF16) {
                    throw new BadInputException("router logits are " + l.logits().dtype()
                            + " but must be F32 or BF16");
                }
            }
            case Routing.TopK k -> {
                shape("top-k ids", k.ids(), t, spec.topK());
                shape("top-k weights", k.weights(), t, spec.topK());
                if (k.ids().dtype() != DType.I32) {
                    throw new BadInputException("top-k ids are " + k.ids().dtype() + " but must be I32");
                }
                if (k.weights().dtype() != DType.F32) {
                    throw new BadInputException("top-k weights are " + k.weights().dtype()
                            + " but must be F32");
                }
            }
        }
        return Math.toIntExact(t);
    }

    /**
     * Checks a batched-format call ({@code MoeKernel.forwardBatched}): {@code hidden [El, Tb, H]} and
     * {@code out} of the same shape (BF16 or F32), {@code counts [El]} I32, with
     * {@code El = spec.localExperts()} and {@code Tb <= spec.maxTokensPerCall()}.
     *
     * @param spec the layer
     * @param hidden per-expert token batches
     * @param counts valid rows per batch
     * @param out the output
     * @return Tb, the rows per batch
     * @throws BadInputException naming the argument, its shape and the expected one
     */
    public static int checkBatched(MoeLayerSpec spec, Tensor hidden, Tensor counts, Tensor out) {
        if (spec.activationFormat() != ActivationFormat.BATCHED) {
            throw wrongFormat("this kernel", spec, "forwardBatched");
        }
        int el = spec.localExperts();
        int h = spec.hiddenSize();
        if (hidden.rank() != 3 || hidden.dim(0) != el || hidden.dim(2) != h) {
            throw new BadInputException("hidden is " + hidden.shapeString() + " but must be [" + el
                    + ", maxTokens, " + h + "] (E_local, tokens per expert, H)");
        }
        long tb = hidden.dim(1);
        if (tb > spec.maxTokensPerCall()) {
            throw new BadInputException("hidden holds " + tb + " tokens per expert, more than maxTokensPerCall "
                    + spec.maxTokensPerCall());
        }
        floatType("hidden", hidden);
        floatType("out", out);
        if (!Arrays.equals(out.shape(), hidden.shape())) {
            throw new BadInputException("out is " + out.shapeString() + " but must match hidden "
                    + hidden.shapeString());
        }
        if (counts.dtype() != DType.I32 || counts.rank() != 1 || counts.dim(0) != el) {
            throw new BadInputException("counts are " + counts.dtype() + " " + counts.shapeString()
                    + " but must be I32 [" + el + "]");
        }
        return Math.toIntExact(tb);
    }

    /**
     * The error for calling the forward of the other activation format.
     *
     * @param who the kernel, e.g. its provider id
     * @param spec the kernel's layer
     * @param call the forward that was called
     * @return the exception (to throw)
     */
    public static BadInputException wrongFormat(String who, MoeLayerSpec spec, String call) {
        String right = spec.activationFormat() == ActivationFormat.BATCHED
                ? "forwardBatched(hidden [E_local, maxTokens, H], counts [E_local], out)"
                : "forward(hidden [T, H], routing, out)";
        return new BadInputException(call + " does not take the " + spec.activationFormat()
                + " activation format of " + who + "'s spec; call " + right);
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
                    throw new BadInputException("top-k id " + id + " at token " + (j / spec.topK())
                            + " is outside [0, " + spec.experts() + ")");
                }
            }
        }
    }

    private static void floatType(String name, Tensor t) {
        if (t.dtype() != DType.F32 && t.dtype() != DType.BF16) {
            throw new BadInputException(name + " is " + t.dtype() + " but must be F32 or BF16");
        }
    }

    private static void shape(String name, Tensor t, long... shape) {
        if (!Arrays.equals(t.shape(), shape)) {
            throw new BadInputException(name + " are " + t.shapeString() + " but must be "
                    + Arrays.toString(shape));
        }
    }
}
