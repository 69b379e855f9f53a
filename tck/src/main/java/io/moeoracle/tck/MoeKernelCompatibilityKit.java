package io.moeoracle.tck;

// Longer than the house's ~400 lines: JUnit wants every capability group as an inner class of this
// one kit class; the machinery lives beside it: KitSpecs, KitForward, KitExpected, BadInputCase,
// KitBadInputRuns, KitThreads, KitFork and KitChild.

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.moeoracle.api.MoeKernel;
import io.moeoracle.api.MoeKernelProvider;
import io.moeoracle.api.Priority;
import io.moeoracle.api.SupportVerdict;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.error.BadInputException;
import io.moeoracle.api.error.UnsupportedSpecException;
import io.moeoracle.api.spec.ActivationFormat;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.spec.QuantScheme;
import io.moeoracle.api.spec.WeightFormat;
import io.moeoracle.api.tensor.DType;
import io.moeoracle.api.tensor.HostTensor;
import io.moeoracle.api.tensor.MoeWeights;
import io.moeoracle.api.tensor.Routing;
import io.moeoracle.reference.RandomMoe;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * The conformance kit for a {@link MoeKernelProvider}. Extend it in a test of your backend, supply
 * the provider, a real device and the tolerance per scheme, and run it with JUnit 5:
 *
 * <pre>{@code
 * class MyBackendCompatibilityTest extends MoeKernelCompatibilityKit {
 *     protected MoeKernelProvider provider() { return new MyProvider(); }
 *     protected DeviceInfo device() { return MyDevices.first(); }
 *     protected double tolerance(QuantScheme scheme) { return 2e-2; }
 * }
 * }</pre>
 *
 * <p>One nested group per capability ({@link Capability}); a backend that cannot take part in one
 * opts out of that group with a reason ({@link #optOuts()}), never of the kit. Numerics are judged
 * as the relative L2 error against the float64 {@link io.moeoracle.reference.ReferenceMoe} on
 * fresh random inputs each run, within {@link #tolerance} plus, for F32 hidden states under BF16
 * activations, the reference's own change when those inputs are rounded to BF16
 * ({@link KitForward#inputRounding}); every failure message names the seed that replays it
 * ({@code -Dmoe.tck.seed=<seed>}). The
 * bad-input group and the simulated-device verdicts run in a forked JVM (this class path, the
 * {@code moe.*} system properties), so a crash fails a test instead of killing the run. Host
 * memory is measured on Linux ({@code /proc/self/status}).
 *
 * <p>The kit instantiates your test class again in the forked JVM (its no-argument constructor);
 * keep the constructor cheap.
 *
 * <p>{@link DeclaredCompatibilityKit} takes the provider, the device and one tolerance in its
 * constructor instead; a backend on CUDA extends {@code io.moeoracle.driver.cuda.testing.CudaCompatibilityKit}
 * from driver-cuda's test jar, which also answers the device and {@link #deviceMemoryInUse()} for CUDA
 * device 0.
 */
public abstract class MoeKernelCompatibilityKit {
    /** Ids the kit accepts: lower case letters, digits, dots and dashes. */
    public static final Pattern ID = Pattern.compile("[a-z0-9][a-z0-9.-]*");
    /** Random specs drawn by the honesty group. */
    public static final int HONESTY_DRAWS = 60;
    /** Threads of the concurrency group. */
    public static final int THREADS = 8;

    /** For subclasses: a backend's test class. */
    protected MoeKernelCompatibilityKit() {
    }

    /** @return the provider under test (a new instance is fine: the kit asks often) */
    protected abstract MoeKernelProvider provider();

    /** @return a real device the provider runs on (not simulated) */
    protected abstract DeviceInfo device();

    /**
     * The relative L2 error allowed against the float64 reference for a scheme, output rounding
     * included (a BF16 output alone costs about 3e-3). It covers the kernel's own arithmetic: with BF16
     * activations, the rounding of the intermediate (the second GEMM's input) and of the output. The
     * rounding of F32 hidden states to BF16 is not part of it: the kit measures that one's effect on the
     * reference for each call and allows it on top ({@link KitForward#inputRounding}), because it
     * grows with the layer's sensitivity to its input rather than with the unit roundoff alone.
     * On the cpu backend (tolerance 1e-2, about 5 BF16 unit roundoffs of 2^-9) the kernel's own part
     * stayed below 5.7e-3 over 288,000 calls; the numbers before and after: {@link KitForward#inputRounding}.
     *
     * @param scheme the scheme, with the activation type the provider runs (never {@code auto})
     * @return the tolerance, e.g. {@code 2e-2}
     */
    protected abstract double tolerance(QuantScheme scheme);

    /**
     * Capability groups this backend does not take part in, each with the reason printed where the
     * group's tests are skipped. None by default.
     *
     * @return opted-out groups and why
     */
    protected Map<Capability, String> optOuts() {
        return Map.of();
    }

    /**
     * The layers the numerics, bad-input, resource and concurrency groups run: by default the
     * supported ones of {@link KitSpecs#catalogue()} in the standard and the batched layout (the
     * groups that run one layer take the first). Override for a backend with narrower shape rules.
     *
     * @return specs the provider supports on {@link #device()}
     */
    protected List<MoeLayerSpec> runnableSpecs() {
        MoeKernelProvider p = provider();
        DeviceInfo d = device();
        return KitSpecs.bothCatalogues().stream().filter(s -> p.isSupported(s, d).isSupported()).toList();
    }

    /** @return create/prepare/close cycles of the resource group (1,000) */
    protected int lifeCycles() {
        return 1_000;
    }

    /** @return forwards of the resource group (10,000) */
    protected int forwards() {
        return 10_000;
    }

    /**
     * How much host memory (heap in use, or resident outside the heap) may grow over the resource
     * group's cycles or forwards: 24 MiB by default, about 2.4 KiB a forward over 10,000.
     *
     * @return bytes
     */
    protected long hostMemoryBound() {
        return 24L << 20;
    }

    /**
     * Device memory in use, for backends with memory of their own (a GPU): the resource group then
     * also holds device memory flat within {@link #deviceMemoryBound()}. Empty (the default) for
     * host-memory backends.
     *
     * @return bytes in use on {@link #device()} (e.g. total minus free), or empty
     */
    protected java.util.OptionalLong deviceMemoryInUse() {
        return java.util.OptionalLong.empty();
    }

    /** @return how much device memory may grow over the resource group's cycles or forwards: 32 MiB */
    protected long deviceMemoryBound() {
        return 32L << 20;
    }

    // ---- shared helpers (package-private: the forked JVM uses them too) ----

    MoeLayerSpec firstRunnableSpec(MoeKernelProvider p, DeviceInfo d) {
        List<MoeLayerSpec> specs = runnableSpecs();
        if (specs.isEmpty()) {
            fail(p.id() + " supports none of the kit's catalogue on " + d.describe()
                    + "; override runnableSpecs() with layers it runs (MXFP4 or BF16 weights, no LoRA)");
        }
        return specs.getFirst();
    }

    double toleranceFor(MoeKernelProvider p, MoeLayerSpec spec, DeviceInfo d) {
        return tolerance(KitForward.concrete(spec, p.activationType(spec, d)).quant());
    }

    List<MoeLayerSpec> runnable(MoeKernelProvider p, DeviceInfo d) {
        firstRunnableSpec(p, d);
        return runnableSpecs();
    }

    /** The runnable specs in the standard layout; the routing-shaped checks need them (batched layers get full and empty batches in every call instead). */
    List<MoeLayerSpec> standard(MoeKernelProvider p, DeviceInfo d) {
        List<MoeLayerSpec> s = runnable(p, d).stream().filter(x -> x.activationFormat() == ActivationFormat.STANDARD).toList();
        Assumptions.assumeFalse(s.isEmpty(), () -> p.id() + " runs the batched layout only: hot and empty experts come"
                + " with every batched call (one expert full, one empty) in the other numerics tests");
        return s;
    }

    private void requireGroup(Capability c) {
        String why = optOuts().get(c);
        Assumptions.assumeTrue(why == null, () -> provider().id() + " opted out of " + c + ": " + why);
    }

    private static long freshSeed() {
        return TckSettings.seed().orElseGet(() -> System.nanoTime() ^ Thread.currentThread().threadId() * 0x9E3779B97F4A7C15L);
    }

    /** What runs on a prepared kernel (see {@link #withPrepared}). */
    @FunctionalInterface
    private interface OnPrepared<X extends Exception> {
        void run(MoeKernel kernel, MoeWeights weights, Arena arena) throws X;
    }

    /**
     * Creates a kernel of {@code spec}, prepares it with the random weights of {@code seed} (changed by
     * {@code edit} first), runs {@code body}, then closes the kernel and the shared arena that owns the weights.
     */
    private static <X extends Exception> void withPrepared(MoeKernelProvider p, DeviceInfo d, MoeLayerSpec spec,
            long seed, Consumer<MoeWeights> edit, OnPrepared<X> body) throws X {
        try (Arena arena = Arena.ofShared(); MoeKernel k = p.create(spec, d)) {
            MoeWeights w = RandomMoe.weights(spec, seed, arena);
            edit.accept(w);
            k.prepare(w);
            body.run(k, w, arena);
        }
    }

    private static <X extends Exception> void withPrepared(MoeKernelProvider p, DeviceInfo d, MoeLayerSpec spec,
            long seed, OnPrepared<X> body) throws X {
        withPrepared(p, d, spec, seed, w -> { }, body);
    }

    /** The reference output of one call, and what error the kit allows against it ({@link KitExpected}). */
    private KitExpected expectation(MoeKernelProvider p, DeviceInfo d, MoeLayerSpec spec, MoeWeights w,
                                    KitForward.Call in, Arena arena) {
        MoeLayerSpec ref = KitForward.concrete(spec, p.activationType(spec, d));
        HostTensor expected = KitForward.reference(ref, w, in, arena);
        return new KitExpected(expected, tolerance(ref.quant()), KitForward.inputRounding(ref, w, in, expected, arena));
    }

    /** Runs one call on the kernel and asserts it is within what the kit allows; the message names the case. */
    private void check(MoeKernelProvider p, DeviceInfo d, MoeLayerSpec spec, MoeWeights w, MoeKernel kernel,
                       KitForward.Call in, Arena arena, String what) {
        HostTensor actual = KitForward.run(kernel, in, arena);
        expectation(p, d, spec, w, in, arena).assertWithin(actual, what + " on " + spec.describe() + ", " + in.describe());
    }

    // ---- the groups ----

    /** Who the provider says it is. */
    @Nested
    @DisplayName("identity: a stable id, a deterministic priority, a meaningful toString")
    class Identity {
        @BeforeEach
        void group() {
            requireGroup(Capability.IDENTITY);
        }

        @Test
        @DisplayName("the id is short, lower case and the same from every instance and call")
        void idIsStable() {
            MoeKernelProvider a = provider();
            MoeKernelProvider b = provider();
            assertNotNull(a.id(), "id()");
            assertTrue(ID.matcher(a.id()).matches(), () -> "id '" + a.id() + "' must match " + ID.pattern());
            assertEquals(a.id(), a.id(), "id() twice");
            assertEquals(a.id(), b.id(), "id() of two instances");
            assertFalse(a.description().isBlank(), "description() must say what the backend is");
        }

        @Test
        @DisplayName("the priority for a spec and device is the same every time it is asked")
        void priorityIsDeterministic() {
            DeviceInfo d = device();
            List<MoeLayerSpec> specs = KitSpecs.withDraws(runnableSpecs(), new SplittableRandom(7), 20);
            MoeKernelProvider a = provider();
            MoeKernelProvider b = provider();
            for (MoeLayerSpec s : specs) {
                int first = a.priority(s, d);
                assertEquals(first, a.priority(s, d), () -> "priority twice for " + s.describe());
                assertEquals(first, b.priority(s, d), () -> "priority of two instances for " + s.describe());
            }
        }

        @Test
        @DisplayName("every priority lies in a documented band (Priority), a host-side provider's in the reference band")
        void priorityInABand() {
            MoeKernelProvider p = provider();
            DeviceInfo d = device();
            List<MoeLayerSpec> specs = KitSpecs.withDraws(runnableSpecs(), new SplittableRandom(8), 20);
            for (MoeLayerSpec s : specs) {
                for (DeviceInfo dev : KitSpecs.simulatedAndReal(d)) {
                    if (!p.isSupported(s, dev).isSupported()) {
                        continue;
                    }
                    int prio = p.priority(s, dev);
                    Optional<Priority.Band> band = Priority.bandOf(prio);
                    assertTrue(band.isPresent(), () -> p.id() + " declares priority " + prio + " for " + s.describe()
                            + " on " + dev.id() + ", outside every band of io.moeoracle.api.Priority (-1000..999)");
                    if (p.runsOnHost()) {
                        assertEquals(Priority.Band.REFERENCE, band.get(), () -> p.id() + " runs on the host but declares "
                                + prio + " on " + dev.id() + "; a host-side provider stays in the reference band");
                    }
                }
            }
        }

        @Test
        @DisplayName("toString of the provider and of its kernels names the backend")
        void toStringIsMeaningful() {
            MoeKernelProvider p = provider();
            assertMeaningful("provider", p.toString(), p.id());
            List<MoeLayerSpec> specs = runnableSpecs();
            Assumptions.assumeFalse(specs.isEmpty(), "no runnable spec: the kernel's toString is not checked");
            try (MoeKernel k = p.create(specs.getFirst(), device())) {
                assertMeaningful("kernel", k.toString(), p.id());
                assertEquals(p.id(), k.providerId(), "kernel.providerId()");
            }
        }

        private static void assertMeaningful(String what, String text, String id) {
            assertNotNull(text, what + ".toString()");
            assertFalse(text.matches("[\\w.$]+@[0-9a-f]+"), () -> what + ".toString() is Object's default '" + text
                    + "'; override it to name the backend");
            assertTrue(text.contains(id), () -> what + ".toString() '" + text + "' does not name the backend '" + id + "'");
        }
    }

    /** Verdicts match what the provider really runs. */
    @Nested
    @DisplayName("honesty: what it calls supported runs, what it rejects says why and what to do")
    class Honesty {
        @BeforeEach
        void group() {
            requireGroup(Capability.HONESTY);
        }

        @Test
        @DisplayName("every random spec it calls supported runs and matches the reference")
        void supportedSpecsRun() {
            long seed = freshSeed();
            SplittableRandom rnd = new SplittableRandom(seed);
            MoeKernelProvider p = provider();
            DeviceInfo d = device();
            List<MoeLayerSpec> specs = KitSpecs.withDraws(KitSpecs.bothCatalogues(), rnd, HONESTY_DRAWS);
            for (int i = 0; i < specs.size(); i++) {
                MoeLayerSpec spec = specs.get(i);
                SupportVerdict v = verdict(p, spec, d, seed);
                if (!v.isSupported()) {
                    continue;
                }
                String where = p.id() + " said supported for " + spec.describe() + " on " + d.id() + " (seed " + seed + ")";
                MoeKernel k;
                try {
                    k = p.create(spec, d);
                } catch (RuntimeException e) {
                    throw new AssertionError(where + " but create threw " + e, e);
                }
                try (k; Arena arena = Arena.ofShared()) {
                    if (!KitSpecs.hasCanonicalWeights(spec)) {
                        continue; // the api has no canonical weights for it: creating the kernel is all the kit can ask
                    }
                    MoeWeights w = RandomMoe.weights(spec, seed + i, arena);
                    int t = 1 + rnd.nextInt(spec.maxTokensPerCall());
                    KitForward.Call in = KitForward.call(spec, t, seed + i, true, false, arena);
                    try {
                        k.prepare(w);
                        check(p, d, spec, w, k, in, arena, where);
                    } catch (RuntimeException e) {
                        throw new AssertionError(where + " but it failed: " + e, e);
                    }
                }
            }
        }

        @Test
        @DisplayName("every unsupported verdict has a reason and a remedy, on real and simulated devices")
        void rejectionsExplain() {
            long seed = freshSeed();
            SplittableRandom rnd = new SplittableRandom(seed);
            MoeKernelProvider p = provider();
            List<DeviceInfo> devices = KitSpecs.simulatedAndReal(device());
            int rejected = 0;
            for (int i = 0; i < HONESTY_DRAWS; i++) {
                MoeLayerSpec spec = KitSpecs.draw(rnd);
                for (DeviceInfo d : devices) {
                    if (verdict(p, spec, d, seed) instanceof SupportVerdict.Unsupported(String reason, String remedy)) {
                        rejected++;
                        assertFalse(reason.isBlank(), () -> "reason for " + spec.describe() + " on " + d.id());
                        assertFalse(remedy.isBlank(), () -> p.id() + " rejects " + spec.describe() + " on " + d.id()
                                + " (" + reason + ") without a remedy; say what the user can do (seed " + seed + ")");
                    }
                }
            }
            assertTrue(rejected > 0, () -> p.id() + " supports every random spec on every vendor's device (seed " + seed
                    + "): no backend runs NVFP4, LoRA and batched layers on every device; check isSupported");
        }

        @Test
        @DisplayName("create refuses a rejected layer (UnsupportedSpecException) and a simulated device (BadInputException)")
        void createAgreesWithTheVerdict() {
            long seed = freshSeed();
            SplittableRandom rnd = new SplittableRandom(seed);
            MoeKernelProvider p = provider();
            DeviceInfo d = device();
            int refused = 0;
            for (int i = 0; i < HONESTY_DRAWS && refused < 5; i++) {
                MoeLayerSpec spec = KitSpecs.draw(rnd);
                if (verdict(p, spec, d, seed).isSupported()) {
                    continue;
                }
                refused++;
                RuntimeException e = assertThrows(RuntimeException.class, () -> p.create(spec, d).close(),
                        () -> p.id() + " rejects " + spec.describe() + " but create made a kernel (seed " + seed + ")");
                assertInstanceOf(UnsupportedSpecException.class, e, () -> p.id() + ".create for the rejected "
                        + spec.describe() + " threw " + e + "; throw UnsupportedSpecException with the verdict's reason");
            }
            List<MoeLayerSpec> specs = runnableSpecs();
            Assumptions.assumeFalse(specs.isEmpty(), "no runnable spec: create on a simulated device is not checked");
            DeviceInfo twin = KitSpecs.simulated(d).getFirst();
            RuntimeException e = assertThrows(RuntimeException.class, () -> p.create(specs.getFirst(), twin).close(),
                    () -> p.id() + " made a kernel on the simulated device " + twin.id());
            assertTrue(e instanceof BadInputException || e instanceof UnsupportedSpecException, () -> p.id()
                    + ".create on the simulated " + twin.id() + " threw " + e + "; throw BadInputException");
        }

        @Test
        @DisplayName("verdicts on simulated devices never load a native library (checked in a fresh JVM)")
        void simulatedVerdictsStayInJava() {
            DeviceInfo real = device();
            long seed = freshSeed();
            KitFork.Result r = KitFork.run(List.of("simulated", provider().getClass().getName(), Long.toString(seed),
                    Integer.toString(HONESTY_DRAWS), real.vendor().name(), real.arch(), String.join(",", real.features())));
            String loaded = r.report("loaded ")
                    .orElseThrow(() -> new AssertionError("simulated verdicts: " + r.describeDeath() + " " + r.reports()));
            r.report("fail ").ifPresent(s -> fail(s));
            assertEquals("", loaded, () -> provider().id() + " loaded native libraries while judging simulated devices "
                    + "(seed " + seed + "): " + loaded + "; decide from the DeviceInfo alone and load code in create()");
        }

        private static SupportVerdict verdict(MoeKernelProvider p, MoeLayerSpec spec, DeviceInfo d, long seed) {
            SupportVerdict v;
            try {
                v = p.isSupported(spec, d);
            } catch (RuntimeException e) {
                throw new AssertionError(p.id() + ".isSupported threw for the valid spec " + spec.describe() + " on "
                        + d.id() + " (seed " + seed + "): " + e + "; return unsupported(reason, remedy) instead", e);
            }
            assertNotNull(v, () -> "isSupported returned null for " + spec.describe() + " on " + d.id());
            return v;
        }
    }

    /** Agreement with the float64 reference. */
    @Nested
    @DisplayName("numerics: within the scheme's tolerance of the float64 reference")
    class Numerics {
        @BeforeEach
        void group() {
            requireGroup(Capability.NUMERICS);
        }

        @Test
        @DisplayName("fresh random inputs: F32 and BF16, router logits and precomputed top-k (or batches), 1 to 33 tokens")
        void freshRandomInputs() {
            MoeKernelProvider p = provider();
            DeviceInfo d = device();
            long seed = freshSeed();
            for (MoeLayerSpec spec : runnable(p, d)) {
                withPrepared(p, d, spec, seed, (k, w, arena) -> {
                    int[] tokens = {1, 7, Math.min(33, spec.maxTokensPerCall())};
                    int c = 0;
                    for (int t : tokens) {
                        for (int combo = 0; combo < 2; combo++) {
                            boolean logits = combo == 0 ^ (t % 2 == 0);
                            boolean bf16 = combo == 1;
                            KitForward.Call in = KitForward.call(spec, t, seed + c++, logits, bf16, arena);
                            check(p, d, spec, w, k, in, arena, "random inputs (seed " + seed + ")");
                        }
                    }
                });
            }
        }

        @Test
        @DisplayName("a hot expert: every token routed to expert 0")
        void hotExpert() {
            MoeKernelProvider p = provider();
            DeviceInfo d = device();
            long seed = freshSeed();
            for (MoeLayerSpec spec : standard(p, d)) {
                int t = Math.min(64, spec.maxTokensPerCall());
                int[][] ids = new int[t][spec.topK()];
                for (int[] row : ids) {
                    for (int j = 0; j < row.length; j++) {
                        row[j] = j; // expert 0 first for every token, then 1..k-1
                    }
                }
                runWithIds(p, d, spec, ids, seed, "every token on expert 0 (seed " + seed + ")");
            }
        }

        @Test
        @DisplayName("empty experts: tokens only on the upper experts, and a call with no token at all")
        void emptyExperts() {
            MoeKernelProvider p = provider();
            DeviceInfo d = device();
            long seed = freshSeed();
            for (MoeLayerSpec spec : standard(p, d)) {
                int e = spec.experts();
                int k = spec.topK();
                int from = Math.max(0, e - k);
                int t = Math.min(3, spec.maxTokensPerCall());
                int[][] ids = new int[t][k];
                for (int i = 0; i < t; i++) {
                    for (int j = 0; j < k; j++) {
                        ids[i][j] = from + (i + j) % k;
                    }
                }
                runWithIds(p, d, spec, ids, seed, "experts 0.." + (from - 1) + " empty (seed " + seed + ")");
                withPrepared(p, d, spec, seed, (kernel, w, arena) -> {
                    KitForward.Call none = KitForward.random(spec, 0, seed, true, false, arena);
                    HostTensor out = KitForward.run(kernel, none, arena);
                    assertEquals(0, out.numel(), "a call with zero tokens");
                });
            }
        }

        /**
         * E8M0 scales at both ends, applied exactly: every w13 scale 2^-127 (code 0) with the hidden
         * state scaled by 2^115, and every w2 scale 2^127 (code 254) with the hidden state scaled by
         * 2^-55 and zero biases (so the intermediate is tiny and every product stays finite in
         * fp32). A 2^127 scale on w13 is not used: it saturates the activation, where BF16 rounding
         * of the input decides the clamp and the comparison says nothing about the scale.
         */
        @Test
        @DisplayName("E8M0 extremes: every w13 scale 2^-127 (code 0), every w2 scale 2^127 (code 254), inputs scaled to match")
        void e8m0Extremes() {
            MoeKernelProvider p = provider();
            DeviceInfo d = device();
            long seed = freshSeed();
            List<MoeLayerSpec> mx = standard(p, d).stream()
                    .filter(s -> s.quant().weights().kind() == WeightFormat.Kind.MXFP4).toList();
            Assumptions.assumeFalse(mx.isEmpty(), () -> p.id() + " runs no MXFP4 layer of the kit: E8M0 scales do not apply");
            for (MoeLayerSpec spec : mx) {
                for (boolean w13Low : new boolean[] {true, false}) {
                    withPrepared(p, d, spec, seed, w -> {
                        if (w13Low) {
                            w.w13Scales().orElseThrow().data().fill((byte) 0);
                        } else {
                            w.w2Scales().orElseThrow().data().fill((byte) 254);
                            w.w13Bias().ifPresent(b -> b.data().fill((byte) 0));
                            w.w2Bias().ifPresent(b -> b.data().fill((byte) 0));
                        }
                    }, (k, w, arena) -> {
                        int t = Math.min(9, spec.maxTokensPerCall());
                        HostTensor hidden = RandomMoe.hidden(t, spec.hiddenSize(), DType.F32, seed, arena);
                        // activations ~2^-55 (linear) or ~2^-110 (quadratic): normal in fp32
                        KitForward.scale(hidden, w13Low ? 0x1p115f : 0x1p-55f);
                        KitForward.Inputs in = new KitForward.Inputs(hidden,
                                Routing.logits(RandomMoe.routerLogits(t, spec.experts(), seed, arena)), DType.F32);
                        check(p, d, spec, w, k, in, arena, (w13Low ? "w13 scales all E8M0 code 0" : "w2 scales all E8M0"
                                + " code 254") + " (seed " + seed + ")");
                    });
                }
            }
        }

        @Test
        @DisplayName("NaN-poisoned outputs: every element of the output is written, F32 and BF16, up to maxTokensPerCall")
        void everyOutputElementIsWritten() {
            MoeKernelProvider p = provider();
            DeviceInfo d = device();
            long seed = freshSeed();
            for (MoeLayerSpec spec : runnable(p, d)) {
                withPrepared(p, d, spec, seed, (k, w, arena) -> {
                    for (boolean bf16 : new boolean[] {false, true}) {
                        int t = Math.min(spec.maxTokensPerCall(), 128);
                        HostTensor out = KitForward.run(k, KitForward.call(spec, t, seed, !bf16, bf16, arena), arena);
                        long at = KitForward.firstNaN(out);
                        assertFalse(at >= 0, () -> "output element " + at + " of " + out + " is still the NaN the "
                                + "kit put there: not written (" + spec.describe() + ", seed " + seed + ")");
                    }
                });
            }
        }

        private void runWithIds(MoeKernelProvider p, DeviceInfo d, MoeLayerSpec spec, int[][] ids, long seed, String what) {
            withPrepared(p, d, spec, seed, (k, w, arena) -> {
                KitForward.Inputs in = new KitForward.Inputs(
                        RandomMoe.hidden(ids.length, spec.hiddenSize(), DType.BF16, seed, arena),
                        KitForward.topK(ids, spec.topK(), arena), DType.F32);
                check(p, d, spec, w, k, in, arena, what);
            });
        }
    }

    /** Wrong arguments and calls out of order. */
    @Nested
    @DisplayName("bad input: BadInputException or KernelStateException before any native call, never a crash (forked JVM)")
    class BadInput {
        @BeforeEach
        void group() {
            requireGroup(Capability.BAD_INPUT);
        }

        private void expectRejected(BadInputCase c) {
            Optional<String> failure = KitBadInputRuns.results(MoeKernelCompatibilityKit.this.getClass()).get(c.name());
            assertNotNull(failure, () -> "the forked JVM reported nothing for " + c.description());
            failure.ifPresent(f -> fail(provider().id() + ", " + c.description() + ": " + f));
        }

        @Test @DisplayName("hidden of the wrong width is rejected")
        void hiddenOfTheWrongWidth() { expectRejected(BadInputCase.HIDDEN_OF_THE_WRONG_WIDTH); }

        @Test @DisplayName("hidden of rank 3 is rejected")
        void hiddenOfRankThree() { expectRejected(BadInputCase.HIDDEN_OF_RANK_THREE); }

        @Test @DisplayName("an output of another shape is rejected")
        void outOfAnotherShape() { expectRejected(BadInputCase.OUT_OF_ANOTHER_SHAPE); }

        @Test @DisplayName("integer hidden states are rejected")
        void hiddenAsIntegers() { expectRejected(BadInputCase.HIDDEN_AS_INTEGERS); }

        @Test @DisplayName("router logits for too many experts are rejected")
        void logitsForTooManyExperts() { expectRejected(BadInputCase.LOGITS_FOR_TOO_MANY_EXPERTS); }

        @Test @DisplayName("an expert id past the last expert is rejected")
        void expertIdOutOfRange() { expectRejected(BadInputCase.EXPERT_ID_OUT_OF_RANGE); }

        @Test @DisplayName("a negative expert id is rejected")
        void negativeExpertId() { expectRejected(BadInputCase.NEGATIVE_EXPERT_ID); }

        @Test @DisplayName("float expert ids are rejected")
        void expertIdsAsFloats() { expectRejected(BadInputCase.EXPERT_IDS_AS_FLOATS); }

        @Test @DisplayName("more tokens than maxTokensPerCall are rejected")
        void moreTokensThanTheSpecAllows() { expectRejected(BadInputCase.MORE_TOKENS_THAN_THE_SPEC_ALLOWS); }

        @Test @DisplayName("the weights of another layer are rejected by prepare")
        void weightsOfAnotherLayer() { expectRejected(BadInputCase.WEIGHTS_OF_ANOTHER_LAYER); }

        @Test @DisplayName("forward before prepare is a KernelStateException")
        void forwardBeforePrepare() { expectRejected(BadInputCase.FORWARD_BEFORE_PREPARE); }

        @Test @DisplayName("forward on a closed kernel is a KernelStateException")
        void forwardAfterClose() { expectRejected(BadInputCase.FORWARD_AFTER_CLOSE); }

        @Test @DisplayName("prepare on a closed kernel is a KernelStateException")
        void prepareAfterClose() { expectRejected(BadInputCase.PREPARE_AFTER_CLOSE); }

        @Test @DisplayName("the forward of the other token layout is rejected")
        void forwardOfTheOtherLayout() { expectRejected(BadInputCase.FORWARD_OF_THE_OTHER_LAYOUT); }
    }

    /** Memory is given back. */
    @Nested
    @DisplayName("resources: close releases memory; cycles and forwards leave host memory flat")
    class Resources {
        @BeforeEach
        void group() {
            requireGroup(Capability.RESOURCES);
            Assumptions.assumeTrue(HostMemory.measurable(), "host memory is measured through /proc (Linux)");
        }

        @Test
        @DisplayName("1,000 create/prepare/close cycles leave host memory flat (in a forked JVM)")
        void lifeCyclesLeaveMemoryFlat() {
            assertFlat("cycles", lifeCycles() + " create/prepare/close cycles");
        }

        @Test
        @DisplayName("10,000 forwards leave host memory flat (in a forked JVM)")
        void forwardsLeaveMemoryFlat() {
            assertFlat("forwards", forwards() + " forwards");
        }

        /**
         * In a fresh JVM with a pre-touched heap, so that resident memory outside it is what the backend
         * holds. C1 only ({@code -XX:TieredStopAtLevel=1}): a C2 compilation landing inside the measured
         * loop held 12-56 MiB of compiler memory for seconds (H100, 2026-11-26: 30,000 forwards, sampled
         * every 3,000, stepped once by 28 MiB marlin / 39 MiB triton and then stayed flat within 0.1 MiB;
         * C1 only: 0.4 MiB; see {@link HostMemory}). A backend's leak does not depend on the JIT tier.
         */
        private void assertFlat(String task, String what) {
            KitFork.Result r = KitFork.run(List.of("-Xms256m", "-Xmx256m", "-XX:+AlwaysPreTouch",
                            "-XX:TieredStopAtLevel=1"),
                    List.of("resources", MoeKernelCompatibilityKit.this.getClass().getName(), task));
            String[] line = r.report("growth ").orElseThrow(() -> new AssertionError(what + ": " + r.describeDeath()))
                    .split(" ");
            long growth = Long.parseLong(line[0]);
            String detail = line[2].replace('_', ' ') + "; " + line[3].replace('_', ' ');
            assertTrue(growth <= hostMemoryBound(), () -> what + " grew host memory by " + (growth >> 10)
                    + " KiB, more than " + (hostMemoryBound() >> 10) + " KiB (" + detail + ")");
            r.report("device ").ifPresent(d -> {
                long deviceGrowth = Long.parseLong(d);
                assertTrue(deviceGrowth <= deviceMemoryBound(), () -> what + " grew device memory by "
                        + (deviceGrowth >> 10) + " KiB, more than " + (deviceMemoryBound() >> 10) + " KiB");
            });
        }
    }

    /** The documented thread-safety holds. */
    @Nested
    @DisplayName("concurrency: the documented thread-safety holds under 8 threads")
    class Concurrency {
        @BeforeEach
        void group() {
            requireGroup(Capability.CONCURRENCY);
        }

        @Test
        @DisplayName("one kernel, 8 threads forwarding at once: every result is the one it gives alone")
        void oneKernelManyThreads() throws Exception {
            MoeKernelProvider p = provider();
            DeviceInfo d = device();
            MoeLayerSpec spec = firstRunnableSpec(p, d);
            long seed = freshSeed();
            withPrepared(p, d, spec, seed, (k, w, arena) -> {
                List<KitForward.Call> inputs = new ArrayList<>();
                List<KitExpected> expected = new ArrayList<>();
                for (int i = 0; i < THREADS; i++) {
                    KitForward.Call in = KitForward.call(spec, Math.min(1 + 3 * i, spec.maxTokensPerCall()), seed + i,
                            i % 2 == 0, false, arena);
                    inputs.add(in);
                    expected.add(expectation(p, d, spec, w, in, arena));
                }
                KitThreads.sameResultsOnThreads(THREADS, k, inputs, expected, spec.describe() + " (seed " + seed + ")");
            });
        }

        @Test
        @DisplayName("one provider, 8 threads judging, creating, preparing, running and closing kernels at once")
        void oneProviderManyThreads() throws Exception {
            MoeKernelProvider p = provider();
            DeviceInfo d = device();
            MoeLayerSpec spec = firstRunnableSpec(p, d);
            long seed = freshSeed();
            KitThreads.onThreads(THREADS, i -> {
                for (int rep = 0; rep < 3; rep++) {
                    assertTrue(p.isSupported(spec, d).isSupported(), "verdict under concurrency");
                    long inputSeed = seed + i * 31 + rep;
                    withPrepared(p, d, spec, seed + i, (k, w, arena) -> {
                        KitForward.Call in = KitForward.call(spec, 1 + i, inputSeed, true, false, arena);
                        check(p, d, spec, w, k, in, arena, "thread " + i + " (seed " + seed + ")");
                    });
                }
            });
        }

        @Test
        @DisplayName("8 threads judging every simulated device get the serial answers; create gives each its own kernel")
        void verdictsAgreeAcrossThreads() throws Exception {
            MoeKernelProvider p = provider();
            List<DeviceInfo> devices = new ArrayList<>(io.moeoracle.api.device.SimulatedDeviceCatalogue.builtIn().devices());
            devices.add(device());
            MoeLayerSpec base = firstRunnableSpec(p, device());
            List<MoeLayerSpec> specs = List.of(base, base.toBuilder().quant(QuantScheme.MXFP4_MXFP8).build(),
                    base.toBuilder().quant(QuantScheme.BF16).build());
            java.util.function.Supplier<List<String>> answers = () -> {
                List<String> out = new ArrayList<>();
                for (MoeLayerSpec s : specs) {
                    for (DeviceInfo d : devices) {
                        out.add(d.id() + " " + p.priority(s, d) + " " + p.isSupported(s, d));
                    }
                }
                return out;
            };
            List<String> serial = answers.get();
            List<MoeKernel> kernels = java.util.Collections.synchronizedList(new ArrayList<>());
            try {
                KitThreads.onThreads(THREADS, i -> {
                    List<String> mine = answers.get();
                    assertEquals(serial, mine, "thread " + i + ": verdicts or priorities differ from the serial ones");
                    kernels.add(p.create(base, device()));
                });
                assertEquals(THREADS, kernels.stream().map(System::identityHashCode).distinct().count(),
                        "create() must return a new kernel per call");
            } finally {
                kernels.forEach(MoeKernel::close);
            }
        }

        @Test
        @DisplayName("close while 8 threads forward: each forward finishes or ends in KernelStateException, then close is idempotent")
        void closeWhileForwarding() throws Exception {
            MoeKernelProvider p = provider();
            DeviceInfo d = device();
            MoeLayerSpec spec = firstRunnableSpec(p, d);
            long seed = freshSeed();
            try (Arena arena = Arena.ofShared()) {
                MoeKernel k = p.create(spec, d);
                k.prepare(RandomMoe.weights(spec, seed, arena));
                KitForward.Call in = KitForward.call(spec, Math.min(5, spec.maxTokensPerCall()), seed + 1, true, false, arena);
                KitForward.run(k, in, arena); // warm: the first forward may compile or upload
                KitThreads.closeWhileForwarding(THREADS, k, in);
            }
        }
    }
}
