package io.moeoracle.core.select;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moeoracle.api.HostAvailability;
import io.moeoracle.api.MoeKernel;
import io.moeoracle.api.MoeKernelProvider;
import io.moeoracle.api.SupportVerdict;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.device.Vendor;
import io.moeoracle.api.spec.ActivationType;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.core.MoeOracleException;
import io.moeoracle.core.device.SimulatedDevices;
import io.moeoracle.core.discovery.ProviderRegistry;
import io.moeoracle.core.fixtures.FakeProvider;
import io.moeoracle.core.fixtures.ServiceProviders;
import io.moeoracle.core.fixtures.Specs;
import io.moeoracle.core.select.Explanation.Row;
import io.moeoracle.core.select.Explanation.Status;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class MoeKernelSelectorTest {
    private static final DeviceInfo SM80 = SimulatedDevices.get("sim:sm_80");
    private static final DeviceInfo SM90 = SimulatedDevices.get("sim:sm_90");
    private static final MoeLayerSpec SPEC = Specs.gptOss120b();

    /** Supports sm_90 and newer only, with a reason and a remedy otherwise. */
    private static FakeProvider hopperOnly(String id, int priority) {
        return FakeProvider.supported(id, priority).judging((s, d) -> d.smVersion().orElse(0) >= 90
                ? SupportVerdict.supported("wgmma path")
                : SupportVerdict.unsupported("needs sm_90+ (wgmma); device is " + d.arch(), "use an H100 or newer"));
    }

    private static MoeKernelSelector selector(SelectionSettings settings, MoeKernelProvider... providers) {
        return new MoeKernelSelector(ProviderRegistry.builder().addAll(List.of(providers)).build(),
                new DefaultSelectionPolicy(), settings);
    }

    private static MoeKernelSelector selector(MoeKernelProvider... providers) {
        return selector(SelectionSettings.defaults(), providers);
    }

    private static List<String> order(Explanation e) {
        return e.rows().stream().map(Row::providerId).toList();
    }

    @Test
    void aProviderCallingBackIntoTheSameDecisionIsAnErrorRowNotADeadlock() throws Exception {
        MoeKernelSelector[] self = new MoeKernelSelector[1];
        FakeProvider reentrant = FakeProvider.supported("reentrant", 100)
                .judging((s, d) -> self[0].explain(s, d).winnerId().isPresent()
                        ? SupportVerdict.supported("asked the selector") : SupportVerdict.unsupported("x", "y"));
        FakeProvider plain = FakeProvider.supported("plain", 10);
        self[0] = selector(reentrant, plain);
        Future<Selection> f;
        try (ExecutorService pool = Executors.newSingleThreadExecutor()) {
            f = pool.submit(() -> self[0].select(SPEC, SM90));
            Selection sel = f.get(10, TimeUnit.SECONDS);
            assertThat(sel.winnerId()).isEqualTo("plain");
            Row row = sel.explanation().row("reentrant").orElseThrow();
            assertThat(row.status()).isEqualTo(Explanation.Status.ERROR);
            assertThat(row.reason()).contains("while that very decision was being made");
        }
    }

    @Test
    void theFirstSupportedProviderWinsAndEveryVerdictIsKept() {
        FakeProvider high = hopperOnly("high", 100);
        FakeProvider mid = FakeProvider.supported("mid", 50);
        FakeProvider low = FakeProvider.supported("low", 10);
        MoeKernelSelector s = selector(low, high, mid);

        Selection sel = s.select(SPEC, SM80);

        assertThat(sel.winner()).isSameAs(mid);
        assertThat(sel.winnerId()).isEqualTo("mid");
        assertThat(sel.spec()).isEqualTo(SPEC);
        assertThat(sel.device()).isEqualTo(SM80);
        Explanation e = sel.explanation();
        assertThat(e.winnerId()).contains("mid");
        assertThat(e.request()).isEmpty();
        assertThat(e.rows()).extracting(Row::rank, Row::providerId, Row::status).containsExactly(
                org.assertj.core.groups.Tuple.tuple(1, "high", Status.UNSUPPORTED),
                org.assertj.core.groups.Tuple.tuple(2, "mid", Status.CHOSEN),
                org.assertj.core.groups.Tuple.tuple(3, "low", Status.SUPPORTED_NOT_CHOSEN));
        Row h = e.row("high").orElseThrow();
        assertThat(h.reason()).isEqualTo("needs sm_90+ (wgmma); device is sm_80");
        assertThat(h.remedy()).isEqualTo("use an H100 or newer");
        assertThat(h.priority()).isEqualTo(OptionalInt.of(100));
        assertThat(h.activationType()).contains(ActivationType.BF16);
        assertThat(h.source()).isEqualTo("bound");
        assertThat(e.row("mid").orElseThrow().reason()).isEqualTo("mid runs it");

        assertThat(s.select(SPEC, SM90).winner()).isSameAs(high);
    }

    @Test
    void aSimulatedDeviceIsJudgedByRulesWhileHostAvailabilityIsReportedBeside() {
        FakeProvider p = hopperOnly("cuda-thing", 10).withHost(HostAvailability.no("libcuda.so.1 not found"));
        Explanation e = selector(p).explain(SPEC, SM90);
        Row r = e.rows().getFirst();
        assertThat(r.status()).isEqualTo(Status.CHOSEN);
        assertThat(r.host()).isEqualTo(HostAvailability.no("libcuda.so.1 not found"));
    }

    @Test
    void moePriorityPutsTheListedIdsFirstInTheListedOrder() {
        FakeProvider high = FakeProvider.supported("high", 100);
        FakeProvider mid = FakeProvider.supported("mid", 50);
        FakeProvider low = FakeProvider.supported("low", 10);
        MoeKernelSelector s = selector(SelectionSettings.defaults().withPriority("low", "unknown-id", "mid"),
                high, mid, low);
        Explanation e = s.explain(SPEC, SM90);
        assertThat(order(e)).containsExactly("low", "mid", "high");
        assertThat(e.winnerId()).contains("low");
    }

    @Test
    void moeExcludeRemovesAProviderButTheExplanationShowsIt() {
        FakeProvider high = FakeProvider.supported("high", 100);
        FakeProvider low = FakeProvider.supported("low", 10);
        MoeKernelSelector s = selector(SelectionSettings.defaults().withExclude("HIGH"), high, low);
        Explanation e = s.explain(SPEC, SM90);
        assertThat(e.winnerId()).contains("low");
        Row x = e.row("high").orElseThrow();
        assertThat(x.status()).isEqualTo(Status.EXCLUDED);
        assertThat(x.reason()).isEqualTo("excluded by moe.exclude");
        assertThat(x.rank()).isZero();
        assertThat(high.supportedCalls()).as("an excluded provider is not asked").isZero();
        assertThat(order(e)).containsExactly("low", "high");
    }

    @Test
    void theSpecsRequestBeatsThePropertyWhichBeatsTheEnvironment() {
        FakeProvider a = FakeProvider.supported("a", 30);
        FakeProvider b = FakeProvider.supported("b", 20);
        FakeProvider c = FakeProvider.supported("c", 10);
        SelectionSettings both = SelectionSettings.defaults().withBackend("b").withBackendFromEnv("c");

        Selection bySpec = selector(both, a, b, c).select(SPEC.toBuilder().requestedBackend("a").build(), SM90);
        assertThat(bySpec.winnerId()).isEqualTo("a");
        assertThat(bySpec.explanation().request()).contains(new Explanation.Request("a", "spec.requestedBackend"));

        Selection byProperty = selector(both, a, b, c).select(SPEC, SM90);
        assertThat(byProperty.winnerId()).isEqualTo("b");
        assertThat(byProperty.explanation().request())
                .contains(new Explanation.Request("b", "system property moe.backend"));
        assertThat(order(byProperty.explanation())).as("only the requested backend is judged").containsExactly("b");

        Selection byEnv = selector(SelectionSettings.defaults().withBackendFromEnv("c"), a, b, c).select(SPEC, SM90);
        assertThat(byEnv.winnerId()).isEqualTo("c");
        assertThat(byEnv.explanation().request())
                .contains(new Explanation.Request("c", "environment variable MOE_BACKEND"));
    }

    @Test
    void anExplicitRequestIgnoresPriorityAndOthers() {
        FakeProvider high = FakeProvider.supported("high", 100);
        FakeProvider low = FakeProvider.supported("low", 1);
        MoeKernelSelector s = selector(SelectionSettings.defaults().withBackend("low"), high, low);
        assertThat(s.select(SPEC, SM90).winner()).isSameAs(low);
        assertThat(high.supportedCalls()).isZero();
    }

    @Test
    void anUnknownRequestedIdListsTheKnownIdsAndTheUnavailableOnes() {
        MoeKernelSelector s = new MoeKernelSelector(ProviderRegistry.builder()
                .add(FakeProvider.supported("marlin", 1)).add(FakeProvider.supported("cpu", 1))
                .add(new ServiceProviders.ThrowsFromId()).build(),
                new DefaultSelectionPolicy(), SelectionSettings.defaults().withBackend("triton"));
        assertThatThrownBy(() -> s.select(SPEC, SM90))
                .isInstanceOf(UnknownBackendException.class)
                .isInstanceOf(MoeOracleException.class)
                .hasMessageStartingWith("unknown kernel backend 'triton' (requested by system property moe.backend)")
                .hasMessageContaining("the known backends are cpu, marlin")
                .hasMessageContaining(ServiceProviders.ThrowsFromId.class.getName())
                .hasMessageContaining("id boom")
                .satisfies(e -> {
                    assertThat(((UnknownBackendException) e).requested()).isEqualTo("triton");
                    assertThat(((UnknownBackendException) e).known()).containsExactlyInAnyOrder("cpu", "marlin");
                });
        assertThatThrownBy(() -> s.explain(SPEC, SM90)).isInstanceOf(UnknownBackendException.class);
        assertThatThrownBy(() -> s.trySelect(SPEC, SM90)).isInstanceOf(UnknownBackendException.class);
    }

    @Test
    void anUnsupportedRequestedBackendGivesItsReasonAndRemedy() {
        FakeProvider hopper = hopperOnly("hopper", 10);
        MoeKernelSelector s = selector(FakeProvider.supported("other", 1), hopper);
        MoeLayerSpec spec = SPEC.toBuilder().requestedBackend("hopper").build();
        assertThatThrownBy(() -> s.select(spec, SM80))
                .isInstanceOf(BackendUnsupportedException.class)
                .hasMessageContaining("backend 'hopper' (requested by spec.requestedBackend) cannot run")
                .hasMessageContaining("needs sm_90+ (wgmma); device is sm_80")
                .hasMessageContaining("To fix: use an H100 or newer")
                .satisfies(t -> {
                    BackendUnsupportedException e = (BackendUnsupportedException) t;
                    assertThat(e.backendId()).isEqualTo("hopper");
                    assertThat(e.reason()).isEqualTo("needs sm_90+ (wgmma); device is sm_80");
                    assertThat(e.remedy()).isEqualTo("use an H100 or newer");
                    assertThat(e.explanation().winnerId()).isEmpty();
                    assertThat(e.explanation().rows()).singleElement()
                            .satisfies(r -> assertThat(r.status()).isEqualTo(Status.UNSUPPORTED));
                });
        assertThatThrownBy(() -> s.explain(spec, SM80)).isInstanceOf(BackendUnsupportedException.class);
    }

    @Test
    void throwingProvidersBecomeErrorRowsAndNeverStopTheOthers() {
        FakeProvider badPriority = FakeProvider.supported("bad-priority", 100)
                .throwingFromPriority(new IllegalStateException("priority boom"));
        FakeProvider badSupport = FakeProvider.supported("bad-support", 90)
                .throwingFromIsSupported(new UnsupportedOperationException("support boom"));
        FakeProvider good = FakeProvider.supported("good", 1);
        Explanation e = selector(badPriority, badSupport, good).explain(SPEC, SM90);

        assertThat(e.winnerId()).contains("good");
        Row s = e.row("bad-support").orElseThrow();
        assertThat(s.status()).isEqualTo(Status.ERROR);
        assertThat(s.reason()).isEqualTo("error: isSupported() threw UnsupportedOperationException: support boom");
        assertThat(s.remedy()).contains("-Dmoe.exclude=bad-support");
        assertThat(s.rank()).isEqualTo(1);
        Row p = e.row("bad-priority").orElseThrow();
        assertThat(p.status()).isEqualTo(Status.ERROR);
        assertThat(p.reason()).isEqualTo("error: priority() threw IllegalStateException: priority boom");
        assertThat(p.rank()).as("not asked: the policy left it out").isZero();
        assertThat(badPriority.supportedCalls()).isZero();
    }

    @Test
    void anExplicitlyRequestedProviderThatThrowsIsReportedAsUnsupported() {
        FakeProvider bad = FakeProvider.supported("bad", 1).throwingFromIsSupported(new IllegalStateException("x"));
        assertThatThrownBy(() -> selector(SelectionSettings.defaults().withBackend("bad"), bad).select(SPEC, SM90))
                .isInstanceOf(BackendUnsupportedException.class)
                .hasMessageContaining("error: isSupported() threw IllegalStateException: x");
    }

    @Test
    void unavailableProvidersAreAppendedToTheExplanation() {
        MoeKernelSelector s = new MoeKernelSelector(ProviderRegistry.builder()
                .add(FakeProvider.supported("good", 1)).add(new ServiceProviders.ThrowsFromId()).build(),
                new DefaultSelectionPolicy(), SelectionSettings.defaults());
        Explanation e = s.explain(SPEC, SM90);
        assertThat(e.rows()).hasSize(2);
        Row u = e.rows().get(1);
        assertThat(u.status()).isEqualTo(Status.UNAVAILABLE);
        assertThat(u.providerId()).isEqualTo(ServiceProviders.ThrowsFromId.class.getName());
        assertThat(u.reason()).contains("id boom");
        assertThat(u.host().available()).isFalse();
    }

    @Test
    void whenNothingSupportsTheLayerSelectThrowsWithTheExplanationAndTrySelectIsEmpty() {
        MoeKernelSelector s = selector(hopperOnly("a", 2), hopperOnly("b", 1));
        assertThatThrownBy(() -> s.select(SPEC, SM80))
                .isInstanceOf(NoKernelAvailableException.class)
                .hasMessageContaining("no kernel backend can run")
                .hasMessageContaining("a unsupported: needs sm_90+")
                .hasMessageContaining("(fix: use an H100 or newer)")
                .satisfies(t -> assertThat(((NoKernelAvailableException) t).explanation().rows()).hasSize(2));
        assertThat(s.trySelect(SPEC, SM80)).isEmpty();
        Explanation e = s.explain(SPEC, SM80);
        assertThat(e.winnerId()).isEmpty();
        assertThat(e.rows()).extracting(Row::status).containsOnly(Status.UNSUPPORTED);
    }

    @Test
    void withNoProvidersAtAllTheErrorSaysHowToAddOne() {
        MoeKernelSelector s = selector();
        assertThatThrownBy(() -> s.select(SPEC, SM90))
                .isInstanceOf(NoKernelAvailableException.class)
                .hasMessageContaining(Explanation.NO_BACKEND_HINT)
                .hasMessageContaining("not installed: ").hasMessageContaining("io.moeoracle:moe-oracle-backend-marlin");
        assertThat(s.explain(SPEC, SM90).noBackends()).isTrue();
    }

    @Test
    void decisionsAreCachedPerSpecAndDevice() {
        FakeProvider p = FakeProvider.supported("p", 1);
        FakeProvider q = FakeProvider.unsupported("q", 2, "never", "");
        MoeKernelSelector s = selector(p, q);
        for (int i = 0; i < 5; i++) {
            s.select(SPEC, SM90);
            s.trySelect(SPEC, SM90);
            s.explain(SPEC, SM90);
        }
        // an equal spec built separately hits the same entry
        s.select(Specs.gptOss120b(), SimulatedDevices.get("sim:sm_90"));
        assertThat(s.decisionsComputed()).as("computed, and so logged, once").isEqualTo(1);
        assertThat(p.supportedCalls()).isEqualTo(1);
        assertThat(q.supportedCalls()).isEqualTo(1);
        assertThat(s.select(SPEC, SM90)).isEqualTo(s.select(SPEC, SM90));

        s.select(SPEC, SM80);
        s.select(Specs.gptOss20b(ActivationType.AUTO), SM90);
        assertThat(s.decisionsComputed()).isEqualTo(3);
        assertThat(p.supportedCalls()).isEqualTo(3);
    }

    @Test
    void failedExplicitRequestsAreCachedToo() {
        FakeProvider hopper = hopperOnly("hopper", 1);
        MoeKernelSelector s = selector(SelectionSettings.defaults().withBackend("hopper"), hopper);
        for (int i = 0; i < 3; i++) {
            assertThatThrownBy(() -> s.select(SPEC, SM80)).isInstanceOf(BackendUnsupportedException.class);
        }
        assertThat(s.decisionsComputed()).isEqualTo(1);
        assertThat(hopper.supportedCalls()).isEqualTo(1);
    }

    @Test
    void eightThreadsAtOnceGetOneConsistentAnswerComputedOnce() throws Exception {
        AtomicInteger inside = new AtomicInteger();
        AtomicInteger maxInside = new AtomicInteger();
        FakeProvider slow = FakeProvider.supported("slow", 10).judging((sp, d) -> {
            maxInside.accumulateAndGet(inside.incrementAndGet(), Math::max);
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            inside.decrementAndGet();
            return SupportVerdict.supported("slowly");
        });
        FakeProvider other = FakeProvider.supported("other", 5);
        MoeKernelSelector s = selector(slow, other);
        int threads = 8;
        CountDownLatch start = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<List<Selection>>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                Callable<List<Selection>> task = () -> {
                    start.await();
                    List<Selection> got = new ArrayList<>();
                    for (int i = 0; i < 50; i++) {
                        got.add(s.select(SPEC, SM90));
                    }
                    return got;
                };
                futures.add(pool.submit(task));
            }
            start.countDown();
            Set<Explanation> explanations = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
            for (Future<List<Selection>> f : futures) {
                for (Selection sel : f.get(30, TimeUnit.SECONDS)) {
                    assertThat(sel.winner()).isSameAs(slow);
                    explanations.add(sel.explanation());
                }
            }
            assertThat(explanations).as("one decision object shared by all threads").hasSize(1);
            assertThat(s.decisionsComputed()).isEqualTo(1);
            assertThat(slow.supportedCalls()).isEqualTo(1);
            assertThat(maxInside.get()).isEqualTo(1);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aHostPolicyCanLeaveProvidersOutAndTheExplanationSaysSo() {
        FakeProvider a = FakeProvider.supported("a", 1);
        FakeProvider b = FakeProvider.supported("b", 100);
        SelectionPolicy onlyA = (cands, spec, dev) -> cands.stream().filter(p -> p.id().equals("a")).toList();
        MoeKernelSelector s = new MoeKernelSelector(ProviderRegistry.builder().add(a).add(b).build(), onlyA,
                SelectionSettings.defaults());
        Explanation e = s.explain(SPEC, SM90);
        assertThat(e.winnerId()).contains("a");
        Row rb = e.row("b").orElseThrow();
        assertThat(rb.status()).isEqualTo(Status.EXCLUDED);
        assertThat(rb.reason()).startsWith("left out by the selection policy");
        assertThat(rb.priority()).hasValue(100);
        assertThat(b.supportedCalls()).isZero();
    }

    @Test
    void aPolicyReturningStrangersOrRepeatsIsSanitized() {
        FakeProvider a = FakeProvider.supported("a", 1);
        FakeProvider stranger = FakeProvider.supported("stranger", 1);
        SelectionPolicy odd = (cands, spec, dev) -> {
            List<Candidate> l = new ArrayList<>();
            l.add(new Candidate(stranger.id(), 1, java.util.Optional.empty(), false, "nowhere"));
            l.add(null);
            l.add(cands.getFirst());
            l.add(cands.getFirst());
            return l;
        };
        Explanation e = new MoeKernelSelector(ProviderRegistry.builder().add(a).build(), odd,
                SelectionSettings.defaults()).explain(SPEC, SM90);
        assertThat(order(e)).containsExactly("a");
        assertThat(stranger.supportedCalls()).isZero();
    }

    @Test
    void aThrowingPolicyIsReportedAndNotCached() {
        AtomicInteger calls = new AtomicInteger();
        SelectionPolicy broken = (cands, spec, dev) -> {
            if (calls.incrementAndGet() == 1) {
                throw new IllegalStateException("policy boom");
            }
            return cands;
        };
        MoeKernelSelector s = new MoeKernelSelector(ProviderRegistry.builder().add(FakeProvider.supported("a", 1))
                .build(), broken, SelectionSettings.defaults());
        assertThatThrownBy(() -> s.select(SPEC, SM90)).isInstanceOf(MoeOracleException.class)
                .hasMessageContaining("policy boom");
        assertThat(s.select(SPEC, SM90).winnerId()).isEqualTo("a");
    }

    @Test
    void createKernelRefusesSimulatedDevicesAndCreatesOnRealOnes() {
        FakeProvider p = FakeProvider.supported("p", 1);
        MoeKernelSelector s = selector(p);
        assertThatThrownBy(() -> s.select(SPEC, SM90).createKernel())
                .isInstanceOf(MoeOracleException.class)
                .hasMessageContaining("simulated device sim:sm_90");
        DeviceInfo real = new DeviceInfo("cpu", Vendor.CPU, "x86-64-avx2", "cpu", 4, 1L << 30, Set.of(), false);
        try (MoeKernel k = s.select(SPEC, real).createKernel()) {
            assertThat(k.providerId()).isEqualTo("p");
            assertThat(k.device()).isEqualTo(real);
        }
        assertThat(p.createCalls()).isEqualTo(1);
    }

    @Test
    void theActivationTypeEachProviderRunsWithIsRecorded() {
        FakeProvider fp8 = FakeProvider.supported("fp8", 5).runningActivationsAs(ActivationType.MXFP8);
        FakeProvider bf16 = FakeProvider.supported("bf16", 5);
        Explanation e = selector(fp8, bf16).explain(Specs.gptOss20b(ActivationType.AUTO), SM90);
        assertThat(e.winnerId()).contains("bf16");
        assertThat(e.row("fp8").orElseThrow().activationType()).isEqualTo(Optional.of(ActivationType.MXFP8));
        assertThat(e.row("bf16").orElseThrow().activationType()).isEqualTo(Optional.of(ActivationType.BF16));
    }

    @Test
    void createUsesDiscoveryAndTheSystemSettings() {
        MoeKernelSelector s = MoeKernelSelector.create();
        assertThat(s.policy()).isInstanceOf(DefaultSelectionPolicy.class);
        assertThat(s.registry().ids()).isEqualTo(ProviderRegistry.discover().ids());
        assertThat(s.registry().unavailable()).isEmpty();
        assertThat(s.explain(SPEC, SM90).rows()).hasSize(s.registry().providers().size());
    }
}
