package io.moeoracle.driver.cuda.testing;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moeoracle.api.MoeKernel;
import io.moeoracle.api.error.BadInputException;
import io.moeoracle.api.error.KernelStateException;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.spec.QuantScheme;
import io.moeoracle.api.tensor.DType;
import io.moeoracle.api.tensor.DeviceTensor;
import io.moeoracle.api.tensor.HostTensor;
import io.moeoracle.api.tensor.MoeWeights;
import io.moeoracle.api.tensor.Routing;
import io.moeoracle.reference.ForwardChecks;
import io.moeoracle.reference.RandomMoe;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * The bad inputs a standard-format GPU kernel refuses with a typed exception before anything is
 * launched, on the small layer {@link #spec()}: a forward before {@code prepare}, weights without
 * scales or of another shape, hidden states of the wrong width, too many tokens, a device tensor of
 * the wrong size, an expert id out of range, an integer output, a capture of host tensors. Then the
 * kernel still computes a full output, and after {@code close} refuses to run. The triton and marlin
 * gpu tests share these; each adds the checks that are its own.
 */
public final class StandardBadInputs {
    private StandardBadInputs() {
    }

    /** What a test's own checks get: the prepared kernel and a valid 4-token call. */
    public record Call(MoeKernel kernel, HostTensor hidden, HostTensor logits, HostTensor out, Arena arena) {
    }

    /** @return the layer of the checks: E 8, top-2, H 128, I 64, MXFP4 weights, BF16 activations, 16 tokens at most */
    public static MoeLayerSpec spec() {
        return MoeLayerSpec.builder().experts(8).topK(2).hiddenSize(128).intermediateSize(64)
                .quant(QuantScheme.MXFP4_BF16).maxTokensPerCall(16).build();
    }

    /**
     * @param kernel a new, unprepared kernel of {@link #spec()}; closed on return
     * @param notPrepared what the exception of a forward before {@code prepare} says
     * @param rnd the source of the inputs
     * @param own the test's own checks of the prepared kernel, run after the shared ones
     */
    public static void check(MoeKernel kernel, String notPrepared, SplittableRandom rnd, Consumer<Call> own) {
        MoeLayerSpec spec = kernel.spec();
        try (Arena arena = Arena.ofShared()) {
            HostTensor hidden = RandomMoe.hidden(4, 128, DType.BF16, rnd.nextLong(), arena);
            HostTensor logits = RandomMoe.routerLogits(4, 8, rnd.nextLong(), arena);
            HostTensor out = HostTensor.allocate(arena, DType.F32, 4, 128);
            assertThatThrownBy(() -> kernel.forward(hidden, Routing.logits(logits), out))
                    .isInstanceOf(KernelStateException.class).hasMessageContaining(notPrepared);
            MoeWeights w = RandomMoe.weights(spec, rnd.nextLong(), arena);
            MoeWeights noScales = new MoeWeights(w.w13(), Optional.empty(), w.w13Bias(), w.w2(), w.w2Scales(),
                    w.w2Bias());
            assertThatThrownBy(() -> kernel.prepare(noScales)).isInstanceOf(BadInputException.class)
                    .hasMessageContaining("w13Scales");
            MoeLayerSpec other = spec.toBuilder().hiddenSize(256).build();
            MoeWeights otherWeights = RandomMoe.weights(other, rnd.nextLong(), arena);
            assertThatThrownBy(() -> kernel.prepare(otherWeights)).isInstanceOf(BadInputException.class);
            kernel.prepare(w);
            HostTensor wrongH = RandomMoe.hidden(4, 96, DType.BF16, rnd.nextLong(), arena);
            assertThatThrownBy(() -> kernel.forward(wrongH, Routing.logits(logits), out))
                    .isInstanceOf(BadInputException.class).hasMessageContaining("hidden");
            HostTensor tooMany = RandomMoe.hidden(17, 128, DType.BF16, rnd.nextLong(), arena);
            assertThatThrownBy(() -> kernel.forward(tooMany, Routing.logits(RandomMoe.routerLogits(17, 8, 1, arena)),
                    HostTensor.allocate(arena, DType.F32, 17, 128)))
                    .isInstanceOf(BadInputException.class).hasMessageContaining("maxTokensPerCall");
            try (DeviceTensor wrongSize = kernel.allocate(DType.BF16, 4, 160)) {
                assertThatThrownBy(() -> kernel.forward(wrongSize, Routing.logits(logits), out))
                        .isInstanceOf(BadInputException.class);
            }
            HostTensor ids = HostTensor.allocate(arena, DType.I32, 4, 2);
            ids.data().setAtIndex(ValueLayout.JAVA_INT, 3, 8);
            HostTensor wts = HostTensor.allocate(arena, DType.F32, 4, 2);
            assertThatThrownBy(() -> kernel.forward(hidden, Routing.topK(ids, wts), out))
                    .isInstanceOf(BadInputException.class).hasMessageContaining("outside");
            HostTensor intOut = HostTensor.allocate(arena, DType.I32, 4, 128);
            assertThatThrownBy(() -> kernel.forward(hidden, Routing.logits(logits), intOut))
                    .isInstanceOf(BadInputException.class);
            assertThatThrownBy(() -> kernel.capture(hidden, Routing.logits(logits), out))
                    .isInstanceOf(BadInputException.class).hasMessageContaining("device tensors");
            own.accept(new Call(kernel, hidden, logits, out, arena));
            // the kernel still works after all that
            ForwardChecks.poison(out);
            kernel.forward(hidden, Routing.logits(logits), out);
            ForwardChecks.assertFullyWritten(out);
            kernel.close();
            assertThatThrownBy(() -> kernel.forward(hidden, Routing.logits(logits), out))
                    .isInstanceOf(KernelStateException.class).hasMessageContaining("closed");
        } finally {
            kernel.close();
        }
    }
}
