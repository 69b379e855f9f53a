package io.moeoracle.api.tensor;

import io.moeoracle.api.error.BadInputException;
import io.moeoracle.api.quant.Bf16;
import io.moeoracle.api.spec.MoeLayerSpec;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Objects;

/**
 * One LoRA adapter for the experts of one layer, as data: per local expert, the low-rank factors
 * of the gate, up and down projections, all BF16, with {@code El = spec.localExperts()} and rank
 * {@code r}:
 * <ul>
 *   <li>{@code gateA [El, r, H]}, {@code gateB [El, I, r]}: the gate rows (even rows of {@code w13})
 *       get {@code scaling * gateB[e] (gateA[e] x)};</li>
 *   <li>{@code upA [El, r, H]}, {@code upB [El, I, r]}: the up rows (odd rows of {@code w13}) alike;</li>
 *   <li>{@code downA [El, r, I]}, {@code downB [El, H, r]}: the expert output gets
 *       {@code scaling * downB[e] (downA[e] a)} (before the routing weight), with {@code a} the
 *       activation between the GEMMs.</li>
 * </ul>
 * So, per token and chosen expert, the gate/up pre-activation is {@code W13 x + b13 + delta13} and
 * the expert output {@code W2 a + b2 + delta2}. This is the PEFT convention ({@code lora_A} is
 * {@code [r, in]}, {@code lora_B} is {@code [out, r]}, {@code scaling = lora_alpha / r}) with the
 * gate and up projections adapted separately, as multi-LoRA servers store them.
 *
 * <p>A kernel copies what it needs in {@code MoeKernel.loadAdapter}; the tensors may be released
 * afterwards unless the kernel's Javadoc says otherwise.
 *
 * @param name a label for messages and logs (e.g. the adapter's folder)
 * @param rank r, at least 1
 * @param scaling the factor on every low-rank product, finite
 * @param gateA {@code [El, r, H]} BF16
 * @param gateB {@code [El, I, r]} BF16
 * @param upA {@code [El, r, H]} BF16
 * @param upB {@code [El, I, r]} BF16
 * @param downA {@code [El, r, I]} BF16
 * @param downB {@code [El, H, r]} BF16
 */
public record LoraAdapter(String name, int rank, double scaling, HostTensor gateA, HostTensor gateB,
                          HostTensor upA, HostTensor upB, HostTensor downA, HostTensor downB) {

    /** Rejects nulls, a rank below 1 and a scaling that is not finite. */
    public LoraAdapter {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(gateA, "gateA");
        Objects.requireNonNull(gateB, "gateB");
        Objects.requireNonNull(upA, "upA");
        Objects.requireNonNull(upB, "upB");
        Objects.requireNonNull(downA, "downA");
        Objects.requireNonNull(downB, "downB");
        if (rank < 1) {
            throw new BadInputException("adapter " + name + " has rank " + rank + "; the rank must be at least 1");
        }
        if (!Double.isFinite(scaling)) {
            throw new BadInputException("adapter " + name + " has scaling " + scaling + "; it must be finite");
        }
    }

    /**
     * Checks the shapes and dtypes against a layer and its LoRA capacity.
     *
     * @param spec the layer (with {@code lora} on)
     * @throws BadInputException naming the tensor, its shape and the expected one, or the rank
     *     over {@code spec.maxLoraRank()}
     */
    public void validate(MoeLayerSpec spec) {
        if (!spec.lora()) {
            throw new BadInputException("adapter " + name + " given for a layer without LoRA (" + spec.describe()
                    + "); build the spec with lora(maxRank, slots)");
        }
        if (rank > spec.maxLoraRank()) {
            throw new BadInputException("adapter " + name + " has rank " + rank + ", above the layer's maxLoraRank "
                    + spec.maxLoraRank() + "; create the kernel with a larger maxLoraRank");
        }
        long e = spec.localExperts();
        long h = spec.hiddenSize();
        long i = spec.intermediateSize();
        expect("gateA", gateA, e, rank, h);
        expect("gateB", gateB, e, i, rank);
        expect("upA", upA, e, rank, h);
        expect("upB", upB, e, i, rank);
        expect("downA", downA, e, rank, i);
        expect("downB", downB, e, h, rank);
        gateA.checkBacking();
        gateB.checkBacking();
        upA.checkBacking();
        upB.checkBacking();
        downA.checkBacking();
        downB.checkBacking();
    }

    private void expect(String what, HostTensor t, long... shape) {
        if (t.dtype() != DType.BF16 || !Arrays.equals(t.shape(), shape)) {
            throw new BadInputException("adapter " + name + ": " + what + " is " + t.dtype() + " " + t.shapeString()
                    + " but must be BF16 " + Arrays.toString(shape));
        }
    }

    /**
     * Reads one BF16 element as a float.
     *
     * @param t one of this adapter's tensors
     * @param index the flat element index
     * @return its value
     */
    public static float at(HostTensor t, long index) {
        return Bf16.toFloat(t.data().getAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, index));
    }
}
