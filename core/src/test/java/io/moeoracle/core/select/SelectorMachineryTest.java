package io.moeoracle.core.select;

import static org.assertj.core.api.Assertions.assertThat;

import io.moeoracle.api.MoeKernel;
import io.moeoracle.api.MoeKernelProvider;
import io.moeoracle.api.SupportVerdict;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.spec.ActivationType;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.core.device.SimulatedDevices;
import io.moeoracle.core.discovery.ProviderRegistry;
import io.moeoracle.core.fixtures.Specs;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The selector asks each provider once per decision, hands the policy values, and keeps a bounded cache. */
class SelectorMachineryTest {
    private static final DeviceInfo SM90 = SimulatedDevices.get("sim:sm_90");
    private static final DeviceInfo CPU = SimulatedDevices.get("sim:cpu-avx2");

    /** Counts every call the selector may make. */
    static final class CountingProvider implements MoeKernelProvider {
        final AtomicInteger priorityCalls = new AtomicInteger();
        final AtomicInteger activationCalls = new AtomicInteger();
        final AtomicInteger hostSideCalls = new AtomicInteger();
        private final String id;
        private final int priority;
        private final boolean supported;
        private final boolean onHost;

        CountingProvider(String id, int priority, boolean supported, boolean onHost) {
            this.id = id;
            this.priority = priority;
            this.supported = supported;
            this.onHost = onHost;
        }

        @Override
        public String id() {
            return id;
        }

        @Override
        public int priority(MoeLayerSpec spec, DeviceInfo device) {
            priorityCalls.incrementAndGet();
            return priority;
        }

        @Override
        public ActivationType activationType(MoeLayerSpec spec, DeviceInfo device) {
            activationCalls.incrementAndGet();
            return ActivationType.BF16;
        }

        @Override
        public boolean runsOnHost() {
            hostSideCalls.incrementAndGet();
            return onHost;
        }

        @Override
        public SupportVerdict isSupported(MoeLayerSpec spec, DeviceInfo device) {
            return supported ? SupportVerdict.supported(id) : SupportVerdict.unsupported("no " + id, "none");
        }

        @Override
        public MoeKernel create(MoeLayerSpec spec, DeviceInfo device) {
            throw new UnsupportedOperationException("selection fixture");
        }
    }

    @Test
    void eachProviderIsAskedForItsPriorityOncePerDecision() {
        CountingProvider best = new CountingProvider("best", 100, false, false);
        CountingProvider winner = new CountingProvider("winner", 50, true, false);
        CountingProvider later = new CountingProvider("later", 10, true, false);
        CountingProvider host = new CountingProvider("host", 1, true, true);
        CountingProvider leftOut = new CountingProvider("left-out", 5, true, false);
        CountingProvider excluded = new CountingProvider("excluded", 500, true, false);
        List<CountingProvider> all = List.of(best, winner, later, host, leftOut, excluded);
        SelectionPolicy dropLeftOut = (cands, spec, dev) -> new DefaultSelectionPolicy().order(cands, spec, dev)
                .stream().filter(c -> !c.id().equals("left-out")).toList();
        MoeKernelSelector s = new MoeKernelSelector(ProviderRegistry.builder().addAll(all).build(), dropLeftOut,
                SelectionSettings.defaults().withExclude("excluded"));

        Explanation e = s.explain(Specs.gptOss120b(), SM90);
        assertThat(e.winnerId()).contains("winner");
        for (CountingProvider p : List.of(best, winner, later, host, leftOut)) {
            assertThat(p.priorityCalls).as(p.id() + " priority()").hasValue(1);
            assertThat(p.activationCalls).as(p.id() + " activationType()").hasValue(1);
            assertThat(p.hostSideCalls).as(p.id() + " runsOnHost()").hasValue(1);
        }
        assertThat(excluded.priorityCalls).as("an excluded provider is not asked").hasValue(0);
        assertThat(e.row("left-out").orElseThrow().priority()).hasValue(5);
        assertThat(e.row("host").orElseThrow().priority()).hasValue(1);

        s.explain(Specs.gptOss120b(), SM90); // cached
        s.explain(Specs.gptOss120b(), CPU); // a second decision
        for (CountingProvider p : List.of(best, winner, later, host, leftOut)) {
            assertThat(p.priorityCalls).as(p.id() + " priority() over two decisions").hasValue(2);
        }
    }

    @Test
    void anExplicitRequestAsksOnlyTheRequestedProviderOnce() {
        CountingProvider asked = new CountingProvider("asked", 1, true, false);
        CountingProvider other = new CountingProvider("other", 100, true, false);
        MoeKernelSelector s = new MoeKernelSelector(ProviderRegistry.builder().add(asked).add(other).build(),
                new DefaultSelectionPolicy(), SelectionSettings.defaults().withBackend("asked"));
        assertThat(s.select(Specs.gptOss120b(), SM90).winnerId()).isEqualTo("asked");
        assertThat(asked.priorityCalls).hasValue(1);
        assertThat(other.priorityCalls).hasValue(0);
    }

    @Test
    void thePolicyGetsPlainCandidateValues() {
        CountingProvider a = new CountingProvider("a", 7, true, false);
        CountingProvider h = new CountingProvider("h", 3, true, true);
        List<Candidate> seen = new ArrayList<>();
        SelectionPolicy capture = (cands, spec, dev) -> {
            seen.addAll(cands);
            return cands;
        };
        new MoeKernelSelector(ProviderRegistry.builder().add(h).add(a).build(), capture, SelectionSettings.defaults())
                .explain(Specs.gptOss120b(), CPU);
        assertThat(seen).containsExactly(
                new Candidate("a", 7, Optional.of(ActivationType.BF16), false, ProviderRegistry.BOUND),
                new Candidate("h", 3, Optional.of(ActivationType.BF16), true, ProviderRegistry.BOUND));
    }

    @Test
    void oneHundredThousandDistinctSpecsStayWithinTheCacheBound() {
        CountingProvider p = new CountingProvider("p", 1, true, false);
        MoeKernelSelector s = new MoeKernelSelector(ProviderRegistry.builder().add(p).build(),
                new DefaultSelectionPolicy(), SelectionSettings.defaults());
        int bound = s.settings().cacheSize();
        MoeLayerSpec base = Specs.gptOss120b();
        for (int i = 0; i < 100_000; i++) {
            MoeLayerSpec spec = base.toBuilder().hiddenSize(32 * (1 + i % 1000)).intermediateSize(32 * (1 + i / 1000))
                    .build();
            assertThat(s.explain(spec, SM90).winnerId()).contains("p");
            if (i % 10_000 == 0) {
                assertThat(s.decisionsKept()).isLessThanOrEqualTo(bound);
            }
        }
        assertThat(s.decisionsComputed()).isEqualTo(100_000);
        assertThat(s.decisionsKept()).isEqualTo(bound);
        assertThat(p.priorityCalls).hasValue(100_000);
        // the most recent decision is still kept; the first was dropped and is computed again
        MoeLayerSpec last = base.toBuilder().hiddenSize(32 * 1000).intermediateSize(32 * 100).build();
        s.explain(last, SM90);
        assertThat(s.decisionsComputed()).isEqualTo(100_000);
        s.explain(base.toBuilder().hiddenSize(32).intermediateSize(32).build(), SM90);
        assertThat(s.decisionsComputed()).isEqualTo(100_001);
    }

    @Test
    void aHostChoosesASmallerBound() {
        CountingProvider p = new CountingProvider("p", 1, true, false);
        MoeKernelSelector s = new MoeKernelSelector(ProviderRegistry.builder().add(p).build(),
                new DefaultSelectionPolicy(), SelectionSettings.defaults().withCacheSize(2));
        for (int i = 1; i <= 5; i++) {
            s.explain(Specs.gptOss120b().toBuilder().hiddenSize(32 * i).build(), SM90);
        }
        assertThat(s.decisionsKept()).isEqualTo(2);
    }
}
