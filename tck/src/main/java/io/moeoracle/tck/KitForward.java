package io.moeoracle.tck;

import io.moeoracle.api.MoeKernel;
import io.moeoracle.api.quant.Bf16;
import io.moeoracle.api.spec.ActivationType;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.tensor.DType;
import io.moeoracle.api.tensor.HostTensor;
import io.moeoracle.api.tensor.MoeWeights;
import io.moeoracle.api.tensor.Routing;
import io.moeoracle.reference.RandomMoe;
import io.moeoracle.reference.ReferenceMoe;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;

/**
 * One forward through a kernel and through the float64 reference, on host tensors: the output is
 * first filled with NaN, so an element the kernel forgets to write shows up as an error.
 */
public final class KitForward {
    private KitForward() {
    }

    /**
     * The inputs of one forward.
     *
     * @param hidden {@code [T, H]}
     * @param routing logits or top-k
     * @param outType the output dtype
     */
    public record Inputs(HostTensor hidden, Routing routing, DType outType) {
    }

    /**
     * Random inputs.
     *
     * @param spec the layer
     * @param tokens T
     * @param seed the seed
     * @param logits router logits (else precomputed top-k)
     * @param bf16 BF16 hidden and output (else F32)
     * @param arena owner of the memory
     * @return the inputs
     */
    public static Inputs random(MoeLayerSpec spec, int tokens, long seed, boolean logits, boolean bf16, Arena arena) {
        DType t = bf16 ? DType.BF16 : DType.F32;
        HostTensor hidden = RandomMoe.hidden(tokens, spec.hiddenSize(), t, seed, arena);
        Routing r = logits ? Routing.logits(RandomMoe.routerLogits(tokens, spec.experts(), seed, arena))
                : RandomMoe.topK(spec, tokens, seed, arena);
        return new Inputs(hidden, r, t);
    }

    /**
     * Runs the kernel into a NaN-filled output.
     *
     * @param kernel a prepared kernel
     * @param in the inputs
     * @param arena owner of the output
     * @return the output
     */
    public static HostTensor run(MoeKernel kernel, Inputs in, Arena arena) {
        HostTensor out = nanFilled(arena, in.outType(), in.hidden().dim(0), in.hidden().dim(1));
        kernel.forward(in.hidden(), in.routing(), out);
        kernel.synchronize();
        return out;
    }

    /**
     * The float64 reference for the same inputs, rounded to F32.
     *
     * @param spec the layer, with the activation type the kernel runs (not {@code auto})
     * @param w the canonical weights
     * @param in the inputs
     * @param arena owner of the output
     * @return {@code [T, H]} F32
     */
    public static HostTensor reference(MoeLayerSpec spec, MoeWeights w, Inputs in, Arena arena) {
        HostTensor expected = HostTensor.allocate(arena, DType.F32, in.hidden().dim(0), spec.hiddenSize());
        ReferenceMoe.forward(spec, w, in.hidden(), in.routing(), expected);
        return expected;
    }

    /**
     * The spec the reference must compute: the activation type left to {@code auto} becomes the one
     * the provider runs.
     *
     * @param spec the layer
     * @param runs the activation type the provider reports for it
     * @return the spec with a concrete activation type
     */
    public static MoeLayerSpec concrete(MoeLayerSpec spec, ActivationType runs) {
        if (spec.quant().activations() != ActivationType.AUTO) {
            return spec;
        }
        ActivationType t = runs == ActivationType.AUTO ? ActivationType.BF16 : runs;
        return spec.toBuilder().quant(spec.quant().withActivations(t)).build();
    }

    /**
     * @param arena owner
     * @param dtype F32 or BF16
     * @param rows T
     * @param cols H
     * @return a tensor whose every element is NaN
     */
    public static HostTensor nanFilled(Arena arena, DType dtype, long rows, long cols) {
        HostTensor t = HostTensor.allocate(arena, dtype, rows, cols);
        long n = t.numel();
        for (long i = 0; i < n; i++) {
            if (dtype == DType.F32) {
                t.data().setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, Float.NaN);
            } else {
                t.data().setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, Bf16.fromFloat(Float.NaN));
            }
        }
        return t;
    }
}
