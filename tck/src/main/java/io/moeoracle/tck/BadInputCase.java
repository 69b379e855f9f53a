package io.moeoracle.tck;

import io.moeoracle.api.MoeKernel;
import io.moeoracle.api.MoeKernelProvider;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.error.BadInputException;
import io.moeoracle.api.error.KernelStateException;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.tensor.DType;
import io.moeoracle.api.tensor.HostTensor;
import io.moeoracle.api.tensor.MoeWeights;
import io.moeoracle.api.tensor.Routing;
import io.moeoracle.reference.RandomMoe;
import io.moeoracle.reference.RelativeError;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;

/**
 * The bad calls of the kit's bad-input group. Each must end in the api's typed exception, thrown
 * before any native code runs: {@link BadInputException} for a wrong argument (after which the
 * kernel still runs a correct forward), {@link KernelStateException} for a call out of life-cycle
 * order. They run in a forked JVM, so a backend that crashes on one fails that test instead of
 * killing the test run. For a kernel of the batched layout each case takes its batched form (hidden
 * {@code [E_local, Tb, H]}, counts instead of routing).
 */
public enum BadInputCase {
    /** hidden {@code [T, H + 32]}. */
    HIDDEN_OF_THE_WRONG_WIDTH("hidden of the wrong width", false),
    /** hidden of rank 3. */
    HIDDEN_OF_RANK_THREE("hidden of rank 3", false),
    /** out with one token more than hidden. */
    OUT_OF_ANOTHER_SHAPE("out with a different token count than hidden", false),
    /** hidden as I32. */
    HIDDEN_AS_INTEGERS("hidden of dtype I32", false),
    /** router logits {@code [T, E + 1]}. */
    LOGITS_FOR_TOO_MANY_EXPERTS("router logits [T, E + 1]", false),
    /** top-k ids past the last expert. */
    EXPERT_ID_OUT_OF_RANGE("a top-k id equal to E", false),
    /** negative top-k ids. */
    NEGATIVE_EXPERT_ID("a negative top-k id", false),
    /** top-k ids as F32. */
    EXPERT_IDS_AS_FLOATS("top-k ids of dtype F32", false),
    /** more tokens than maxTokensPerCall. */
    MORE_TOKENS_THAN_THE_SPEC_ALLOWS("more tokens than maxTokensPerCall", false),
    /** weights of a layer twice as wide. */
    WEIGHTS_OF_ANOTHER_LAYER("prepare with the weights of a wider layer", false),
    /** forward before prepare. */
    FORWARD_BEFORE_PREPARE("forward before prepare", true),
    /** forward after close. */
    FORWARD_AFTER_CLOSE("forward after close", true),
    /** prepare after close. */
    PREPARE_AFTER_CLOSE("prepare after close", true),
    /** the forward of the other token layout. */
    FORWARD_OF_THE_OTHER_LAYOUT("the forward of the other token layout", false);

    private final String description;
    private final boolean lifeCycle;

    BadInputCase(String description, boolean lifeCycle) {
        this.description = description;
        this.lifeCycle = lifeCycle;
    }

    /** @return what the case does, in words */
    public String description() {
        return description;
    }

    /**
     * Runs the case on a fresh kernel.
     *
     * @param provider the provider
     * @param device the real device
     * @param spec a spec the provider supports (standard layout, canonical weights)
     * @param tolerance the relative error allowed for that spec
     * @throws AssertionError when the kernel did not behave
     */
    void run(MoeKernelProvider provider, DeviceInfo device, MoeLayerSpec spec, double tolerance) {
        try (Arena arena = Arena.ofShared()) {
            MoeWeights w = RandomMoe.weights(spec, 11, arena);
            int t = Math.min(4, spec.maxTokensPerCall());
            KitForward.Call good = KitForward.call(spec, t, 12, true, false, arena);
            MoeKernel kernel = provider.create(spec, device);
            try {
                if (this != FORWARD_BEFORE_PREPARE && this != WEIGHTS_OF_ANOTHER_LAYER) {
                    kernel.prepare(w);
                }
                if (this == FORWARD_AFTER_CLOSE || this == PREPARE_AFTER_CLOSE) {
                    kernel.close();
                }
                Class<? extends RuntimeException> expected = lifeCycle ? KernelStateException.class
                        : BadInputException.class;
                RuntimeException thrown = null;
                try {
                    badCall(kernel, spec, w, good, arena);
                } catch (RuntimeException e) {
                    thrown = e;
                }
                if (thrown == null) {
                    throw new AssertionError(description + ": no exception; expected " + expected.getSimpleName());
                }
                if (!expected.isInstance(thrown)) {
                    throw new AssertionError(description + ": threw " + thrown + "; expected " + expected.getSimpleName(),
                            thrown);
                }
                if (thrown.getMessage() == null || thrown.getMessage().isBlank()) {
                    throw new AssertionError(description + ": " + thrown.getClass().getName()
                            + " has no message; say what was wrong and what to do");
                }
                if (!lifeCycle) {
                    if (this == WEIGHTS_OF_ANOTHER_LAYER) {
                        kernel.prepare(w);
                    }
                    MoeLayerSpec ref = KitForward.concrete(spec, provider.activationType(spec, device));
                    HostTensor actual = KitForward.run(kernel, good, arena);
                    double err = RelativeError.l2(actual, KitForward.reference(ref, w, good, arena));
                    if (!(err <= tolerance)) {
                        throw new AssertionError(description + ": after the rejected call a good forward is off by "
                                + err + " (tolerance " + tolerance + ")");
                    }
                }
            } finally {
                kernel.close();
            }
        }
    }

    private void badCall(MoeKernel kernel, MoeLayerSpec spec, MoeWeights w, KitForward.Call call, Arena arena) {
        if (call instanceof KitForward.Batched b) {
            badBatchedCall(kernel, spec, w, b, arena);
            return;
        }
        KitForward.Inputs good = (KitForward.Inputs) call;
        int t = Math.toIntExact(good.hidden().dim(0));
        int h = spec.hiddenSize();
        HostTensor out = HostTensor.allocate(arena, DType.F32, t, h);
        switch (this) {
            case HIDDEN_OF_THE_WRONG_WIDTH -> kernel.forward(HostTensor.allocate(arena, DType.F32, t, h + 32),
                    good.routing(), HostTensor.allocate(arena, DType.F32, t, h + 32));
            case HIDDEN_OF_RANK_THREE -> kernel.forward(good.hidden().reshape(1, t, h), good.routing(), out);
            case OUT_OF_ANOTHER_SHAPE -> kernel.forward(good.hidden(), good.routing(),
                    HostTensor.allocate(arena, DType.F32, t + 1, h));
            case HIDDEN_AS_INTEGERS -> kernel.forward(HostTensor.allocate(arena, DType.I32, t, h), good.routing(), out);
            case LOGITS_FOR_TOO_MANY_EXPERTS -> kernel.forward(good.hidden(),
                    Routing.logits(RandomMoe.routerLogits(t, spec.experts() + 1, 3, arena)), out);
            case EXPERT_ID_OUT_OF_RANGE -> kernel.forward(good.hidden(), topKWithId(spec, t, spec.experts(), arena), out);
            case NEGATIVE_EXPERT_ID -> kernel.forward(good.hidden(), topKWithId(spec, t, -1, arena), out);
            case EXPERT_IDS_AS_FLOATS -> kernel.forward(good.hidden(), Routing.topK(
                    HostTensor.allocate(arena, DType.F32, t, spec.topK()),
                    HostTensor.allocate(arena, DType.F32, t, spec.topK())), out);
            case MORE_TOKENS_THAN_THE_SPEC_ALLOWS -> {
                int many = spec.maxTokensPerCall() + 1;
                kernel.forward(RandomMoe.hidden(many, h, DType.F32, 4, arena),
                        Routing.logits(RandomMoe.routerLogits(many, spec.experts(), 4, arena)),
                        HostTensor.allocate(arena, DType.F32, many, h));
            }
            case WEIGHTS_OF_ANOTHER_LAYER -> kernel.prepare(RandomMoe.weights(
                    spec.toBuilder().hiddenSize(2 * h).build(), 5, arena));
            case FORWARD_BEFORE_PREPARE, FORWARD_AFTER_CLOSE -> kernel.forward(good.hidden(), good.routing(), out);
            case PREPARE_AFTER_CLOSE -> kernel.prepare(w);
            case FORWARD_OF_THE_OTHER_LAYOUT -> kernel.forwardBatched(good.hidden().reshape(1, t, h),
                    HostTensor.allocate(arena, DType.I32, 1), out.reshape(1, t, h));
        }
    }

    private void badBatchedCall(MoeKernel kernel, MoeLayerSpec spec, MoeWeights w, KitForward.Batched good, Arena arena) {
        int el = spec.localExperts();
        int tb = Math.toIntExact(good.hidden().dim(1));
        int h = spec.hiddenSize();
        HostTensor out = HostTensor.allocate(arena, DType.F32, el, tb, h);
        switch (this) {
            case HIDDEN_OF_THE_WRONG_WIDTH -> kernel.forwardBatched(HostTensor.allocate(arena, DType.F32, el, tb, h + 32),
                    good.counts(), HostTensor.allocate(arena, DType.F32, el, tb, h + 32));
            case HIDDEN_OF_RANK_THREE -> kernel.forwardBatched(good.hidden().reshape((long) el * tb, h), good.counts(),
                    out.reshape((long) el * tb, h));
            case OUT_OF_ANOTHER_SHAPE -> kernel.forwardBatched(good.hidden(), good.counts(),
                    HostTensor.allocate(arena, DType.F32, el, tb + 1, h));
            case HIDDEN_AS_INTEGERS -> kernel.forwardBatched(HostTensor.allocate(arena, DType.I32, el, tb, h),
                    good.counts(), out);
            case LOGITS_FOR_TOO_MANY_EXPERTS, EXPERT_ID_OUT_OF_RANGE -> kernel.forwardBatched(good.hidden(),
                    HostTensor.allocate(arena, DType.I32, el + 1), out);
            case NEGATIVE_EXPERT_ID, EXPERT_IDS_AS_FLOATS -> kernel.forwardBatched(good.hidden(),
                    HostTensor.allocate(arena, DType.F32, el), out);
            case MORE_TOKENS_THAN_THE_SPEC_ALLOWS -> {
                int many = spec.maxTokensPerCall() + 1;
                kernel.forwardBatched(HostTensor.allocate(arena, DType.F32, el, many, h), good.counts(),
                        HostTensor.allocate(arena, DType.F32, el, many, h));
            }
            case WEIGHTS_OF_ANOTHER_LAYER -> kernel.prepare(RandomMoe.weights(
                    spec.toBuilder().hiddenSize(2 * h).build(), 5, arena));
            case FORWARD_BEFORE_PREPARE, FORWARD_AFTER_CLOSE -> kernel.forwardBatched(good.hidden(), good.counts(), out);
            case PREPARE_AFTER_CLOSE -> kernel.prepare(w);
            case FORWARD_OF_THE_OTHER_LAYOUT -> kernel.forward(HostTensor.allocate(arena, DType.F32, 1, h),
                    Routing.logits(RandomMoe.routerLogits(1, spec.experts(), 3, arena)),
                    HostTensor.allocate(arena, DType.F32, 1, h));
        }
    }

    private static Routing topKWithId(MoeLayerSpec spec, int tokens, int badId, Arena arena) {
        Routing.TopK k = RandomMoe.topK(spec, tokens, 6, arena);
        ((HostTensor) k.ids()).data().setAtIndex(ValueLayout.JAVA_INT_UNALIGNED, 0, badId);
        return k;
    }
}
