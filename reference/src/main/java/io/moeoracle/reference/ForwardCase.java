package io.moeoracle.reference;

import static io.moeoracle.reference.ForwardChecks.add;
import static io.moeoracle.reference.ForwardChecks.assertFullyWritten;
import static io.moeoracle.reference.ForwardChecks.pickRows;
import static io.moeoracle.reference.ForwardChecks.poisoned;
import static io.moeoracle.reference.ForwardChecks.rowsOf;
import static io.moeoracle.reference.ForwardChecks.upload;

import io.moeoracle.api.CapturedForward;
import io.moeoracle.api.MoeKernel;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.tensor.DType;
import io.moeoracle.api.tensor.DeviceTensor;
import io.moeoracle.api.tensor.HostTensor;
import io.moeoracle.api.tensor.MoeWeights;
import io.moeoracle.api.tensor.Routing;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * One forward call on fresh random inputs, checked against the float64 reference the way the GPU
 * backends' tests check every call: random hidden states and router logits (optionally a quarter of
 * the local experts starved of tokens and one hot expert taking most of them; logits routing half
 * the time in BF16, else top-k ids and weights), the output NaN-filled before the call and checked
 * to be fully overwritten after it, and the relative L2 error of {@link #checkRows} rows (a sample,
 * first and last included, on large calls) against {@link ReferenceMoe}. The test asserts the
 * error against its tolerance; this class asserts only that every output element was written.
 *
 * @param tokens T, the rows of the call
 * @param logitsRouting router logits (F32 or, half the time, BF16); else top-k ids and weights
 * @param coldExperts the last quarter of the local experts get no token (with 4 or more local experts)
 * @param hotExpert one random local expert (not a cold one) gets about 80% of the tokens
 * @param deviceTensors for a kernel's own forward ({@link #errors(MoeKernel, MoeWeights, SplittableRandom,
 *     MoeLayerSpec...)}): the call takes tensors uploaded to the kernel's device, else host tensors
 * @param hiddenType F32 or BF16 hidden states
 * @param outType F32 or BF16 output
 * @param checkRows the most rows compared with the reference
 */
public record ForwardCase(int tokens, boolean logitsRouting, boolean coldExperts, boolean hotExpert,
                          boolean deviceTensors, DType hiddenType, DType outType, int checkRows) {

    /** How one call reaches the code under test: fill {@code out} from {@code hidden} and {@code routing}. */
    @FunctionalInterface
    public interface Forward {
        /**
         * @param hidden {@code [T, H]} host hidden states
         * @param routing host routing
         * @param out {@code [T, H]} host output, NaN-filled
         */
        void run(HostTensor hidden, Routing routing, HostTensor out);
    }

    /**
     * A case with cold experts (the usual one).
     *
     * @param tokens T
     * @param logitsRouting logits, else top-k
     * @param hotExpert one expert takes most tokens
     * @param deviceTensors device tensors, else host tensors
     * @param hiddenType F32 or BF16
     * @param outType F32 or BF16
     * @param checkRows the most rows compared
     * @return the case
     */
    public static ForwardCase of(int tokens, boolean logitsRouting, boolean hotExpert, boolean deviceTensors,
                                 DType hiddenType, DType outType, int checkRows) {
        return new ForwardCase(tokens, logitsRouting, true, hotExpert, deviceTensors, hiddenType, outType, checkRows);
    }

    /**
     * The calls the gpt-oss layer tests make, BF16 in and out: T = 1 (host tensors), 7, 64 (top-k
     * routing), 300 (a hot expert) and 4096; every row checked up to 64 tokens, 32 sampled rows above.
     *
     * @return the five cases, smallest first
     */
    public static List<ForwardCase> gptOssSweep() {
        List<ForwardCase> cases = new ArrayList<>();
        for (int t : new int[] {1, 7, 64, 300, 4096}) {
            cases.add(of(t, t != 64, t == 300, t != 7, DType.BF16, DType.BF16, t <= 64 ? t : 32));
        }
        return List.copyOf(cases);
    }

    /**
     * @param model 20 or 120 (billion parameters)
     * @return a builder with that gpt-oss layer's sizes (E 32 or 128, top-4, H = I = 2880); quantization,
     *     activation and the rest are left to the caller
     */
    public static MoeLayerSpec.Builder gptOssLayer(int model) {
        if (model != 20 && model != 120) {
            throw new IllegalArgumentException("gpt-oss comes as 20b and 120b, not " + model + "b");
        }
        return MoeLayerSpec.builder().experts(model == 20 ? 32 : 128).topK(4).hiddenSize(2880).intermediateSize(2880);
    }

    /** @return a short description for logs and assertion messages */
    public String describe() {
        return "T=" + tokens + (logitsRouting ? " logits" : " top-k") + (hotExpert ? " hot expert" : "")
                + (deviceTensors ? " device" : " host") + " hidden " + hiddenType + " out " + outType
                + " rows checked " + Math.min(tokens, checkRows);
    }

    /**
     * Runs the case through the kernel's own {@code forward} (host or device tensors).
     *
     * @param kernel a prepared kernel
     * @param w the weights it was prepared with
     * @param rnd the source of the inputs and the checked rows
     * @return the relative L2 error against the reference of the kernel's spec
     */
    public double error(MoeKernel kernel, MoeWeights w, SplittableRandom rnd) {
        return errors(kernel, w, rnd)[0];
    }

    /**
     * Runs the case through the kernel's own {@code forward} (host or device tensors).
     *
     * @param kernel a prepared kernel
     * @param w the weights it was prepared with
     * @param rnd the source of the inputs and the checked rows
     * @param alsoAgainst other specs to measure the same output against (e.g. the unquantized
     *     activations of an MXFP8 kernel, for the log)
     * @return the error against the kernel's spec, then one per {@code alsoAgainst}
     */
    public double[] errors(MoeKernel kernel, MoeWeights w, SplittableRandom rnd, MoeLayerSpec... alsoAgainst) {
        return errors(kernel.spec(), w, rnd, on(kernel), alsoAgainst);
    }

    /**
     * Runs the case through any code that fills an output ({@link #deviceTensors} is then the
     * caller's business).
     *
     * @param spec the layer; the reference runs it
     * @param w the weights
     * @param rnd the source of the inputs and the checked rows
     * @param forward the code under test
     * @param alsoAgainst other specs to measure the same output against
     * @return the error against {@code spec}, then one per {@code alsoAgainst}
     */
    public double[] errors(MoeLayerSpec spec, MoeWeights w, SplittableRandom rnd, Forward forward,
                           MoeLayerSpec... alsoAgainst) {
        int h = spec.hiddenSize();
        try (Arena arena = Arena.ofShared()) {
            HostTensor hidden = RandomMoe.hidden(tokens, h, hiddenType, rnd.nextLong(), arena);
            Routing routing = routing(spec, rnd, arena);
            HostTensor out = poisoned(arena, outType, tokens, h);
            forward.run(hidden, routing, out);
            assertFullyWritten(out);
            int[] rows = pickRows(rnd, tokens, checkRows);
            HostTensor actual = rowsOf(out, rows, arena);
            HostTensor hs = rowsOf(hidden, rows, arena);
            Routing rs = rowsOf(routing, rows, arena);
            HostTensor ref = HostTensor.allocate(arena, DType.F32, rows.length, h);
            double[] errors = new double[1 + alsoAgainst.length];
            for (int i = 0; i < errors.length; i++) {
                ReferenceMoe.forward(i == 0 ? spec : alsoAgainst[i - 1], w, hs, rs, ref);
                errors[i] = RelativeError.l2(actual, ref);
            }
            return errors;
        }
    }

    private Routing routing(MoeLayerSpec spec, SplittableRandom rnd, Arena arena) {
        int e = spec.experts();
        HostTensor logits = RandomMoe.routerLogits(tokens, e, rnd.nextLong(), arena);
        int el = spec.localExperts();
        int e0 = spec.expertParallelRank() * el;
        boolean cold = coldExperts && el >= 4;
        int warm = cold ? el * 3 / 4 : el;
        int hot = e0 + rnd.nextInt(warm); // never a cold one
        for (int tok = 0; tok < tokens; tok++) {
            for (int x = e0 + warm; cold && x < e0 + el; x++) {
                add(logits, tok * (long) e + x, -100f);
            }
            if (hotExpert && rnd.nextInt(10) < 8) {
                add(logits, tok * (long) e + hot, 50f);
            }
        }
        if (logitsRouting && rnd.nextBoolean()) {
            logits = ForwardChecks.toBf16(logits, arena); // kernels read BF16 logits too
        }
        return logitsRouting ? Routing.logits(logits) : TopKRouting.fromLogits(logits, spec.topK(), arena);
    }

    /** The kernel's forward, on host tensors or on uploaded copies ({@link #deviceTensors}). */
    private Forward on(MoeKernel kernel) {
        if (!deviceTensors) {
            return kernel::forward;
        }
        return (hidden, routing, out) -> {
            List<DeviceTensor> held = new ArrayList<>();
            try {
                DeviceTensor dh = hold(held, upload(kernel, hidden));
                DeviceTensor dout = hold(held, upload(kernel, out));
                Routing dr = switch (routing) {
                    case Routing.Logits l -> Routing.logits(hold(held, upload(kernel, (HostTensor) l.logits())));
                    case Routing.TopK tk -> Routing.topK(hold(held, upload(kernel, (HostTensor) tk.ids())),
                            hold(held, upload(kernel, (HostTensor) tk.weights())));
                };
                kernel.forward(dh, dr, dout);
                kernel.synchronize();
                dout.copyTo(out);
            } finally {
                held.forEach(DeviceTensor::close);
            }
        };
    }

    private static DeviceTensor hold(List<DeviceTensor> held, DeviceTensor t) {
        held.add(t);
        return t;
    }

    /**
     * Records one forward over device tensors ({@code [T, H]} hidden of {@code hiddenType}, F32
     * logits, F32 output) and replays it on new contents: each round uploads fresh random inputs
     * and a NaN-filled output, replays, synchronizes, checks every element was written and measures
     * all rows against the reference.
     *
     * @param kernel a prepared kernel that can record ({@code capture} not empty)
     * @param w the weights it was prepared with
     * @param tokens T
     * @param hiddenType F32 or BF16
     * @param rounds replays
     * @param rnd the source of the inputs
     * @return the relative L2 error of each round
     * @throws AssertionError when the kernel records nothing
     */
    public static double[] replayCaptured(MoeKernel kernel, MoeWeights w, int tokens, DType hiddenType, int rounds,
                                          SplittableRandom rnd) {
        MoeLayerSpec spec = kernel.spec();
        int h = spec.hiddenSize();
        int e = spec.experts();
        double[] errors = new double[rounds];
        try (Arena arena = Arena.ofShared();
             DeviceTensor dh = kernel.allocate(hiddenType, tokens, h);
             DeviceTensor dl = kernel.allocate(DType.F32, tokens, e);
             DeviceTensor dout = kernel.allocate(DType.F32, tokens, h);
             CapturedForward graph = kernel.capture(dh, Routing.logits(dl), dout).orElseThrow(() -> new AssertionError(
                     kernel.providerId() + " recorded no forward over device tensors (capture was empty)"))) {
            for (int round = 0; round < rounds; round++) {
                HostTensor hidden = RandomMoe.hidden(tokens, h, hiddenType, rnd.nextLong(), arena);
                HostTensor logits = RandomMoe.routerLogits(tokens, e, rnd.nextLong(), arena);
                HostTensor out = poisoned(arena, DType.F32, tokens, h);
                dh.copyFrom(hidden);
                dl.copyFrom(logits);
                dout.copyFrom(out);
                graph.replay();
                kernel.synchronize();
                dout.copyTo(out);
                assertFullyWritten(out);
                HostTensor ref = HostTensor.allocate(arena, DType.F32, tokens, h);
                ReferenceMoe.forward(spec, w, hidden, Routing.logits(logits), ref);
                errors[round] = RelativeError.l2(out, ref);
            }
        }
        return errors;
    }
}
