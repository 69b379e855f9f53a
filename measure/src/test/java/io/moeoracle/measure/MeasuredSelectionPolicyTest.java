package io.moeoracle.measure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moeoracle.api.device.DeviceAddress;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.device.HostCpuFeatures;
import io.moeoracle.api.spec.ActivationType;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.tensor.DType;
import io.moeoracle.api.tensor.HostTensor;
import io.moeoracle.api.tensor.MoeWeights;
import io.moeoracle.api.tensor.Routing;
import io.moeoracle.core.discovery.ProviderRegistry;
import io.moeoracle.core.select.Explanation;
import io.moeoracle.core.select.MoeKernelSelector;
import io.moeoracle.core.select.Selection;
import io.moeoracle.core.select.SelectionPolicy;
import io.moeoracle.core.select.SelectionSettings;
import io.moeoracle.reference.RandomMoe;
import io.moeoracle.reference.ReferenceMoe;
import io.moeoracle.reference.RelativeError;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The acceptance test of the measured policy: two test backends of different speeds (one fast on
 * small calls, one on large ones) and one that computes wrong answers, on the host CPU device.
 */
class MeasuredSelectionPolicyTest {
    private static final MoeLayerSpec SPEC = MoeLayerSpec.builder().experts(4).topK(2).hiddenSize(64)
            .intermediateSize(32).maxTokensPerCall(8).build();
    private static final DeviceInfo CPU = HostCpuFeatures.host();

    @TempDir
    Path cache;

    /**
     * {@code small}: 500 µs a token; {@code large}: 2 ms a call (twice apart at T = 2 and T = 8, so a
     * loaded build machine does not swap them); {@code wrong}: instant but zeros.
     */
    private final SpeedProvider small = new SpeedProvider("small", t -> 500_000L * t, false);
    private final SpeedProvider large = new SpeedProvider("large", t -> 2_000_000L, false);
    private final SpeedProvider wrong = new SpeedProvider("wrong", t -> 0L, true);
    private final SpeedProvider none = new SpeedProvider("none", t -> 0L, false, false);

    private MeasureSettings settings() {
        return new MeasureSettings(cache, List.of(1, 2, 8), 1, 9, 0.05, 2);
    }

    private MoeKernelSelector selector(MeasuredSelectionPolicy policy) {
        ProviderRegistry registry = ProviderRegistry.builder().add(small).add(large).add(wrong).add(none)
                .build();
        return new MoeKernelSelector(registry, policy, SelectionSettings.defaults());
    }

    @Test
    void choosesTheFasterPerBucketReusesTheCacheAndMeasuresAgainWhenAKeyChanges() throws Exception {
        MeasuredSelectionPolicy first = new MeasuredSelectionPolicy(settings());
        Explanation e = selector(first).explain(SPEC, CPU);

        Measurement m = first.measurement(SPEC, CPU).orElseThrow();
        assertThat(m.winners()).isEqualTo(Map.of(1, "small", 2, "small", 8, "large"));
        assertThat(first.measurementsTaken()).isEqualTo(1);
        // small wins two buckets of three, so it heads the order and wins the selection
        assertThat(e.winnerId()).contains("small");
        assertThat(e.row("small").orElseThrow().reason()).contains("measured", "T=1", "T=8", "µs*");
        assertThat(e.row("large").orElseThrow().status()).isEqualTo(Explanation.Status.SUPPORTED_NOT_CHOSEN);
        Explanation.Row bad = e.row("wrong").orElseThrow();
        assertThat(bad.status()).isEqualTo(Explanation.Status.EXCLUDED);
        assertThat(bad.reason()).contains("failed the reference check", "relative L2 error");
        // an unsupported backend is not measured, but still asked, so its reason shows
        assertThat(e.row("none").orElseThrow().status()).isEqualTo(Explanation.Status.UNSUPPORTED);
        assertThat(none.created.get()).isZero();
        try (Stream<Path> files = Files.list(cache)) {
            assertThat(files.filter(p -> p.toString().endsWith(".json")).count()).isEqualTo(1);
        }

        // a second selector with a new policy (as on the next start) reads the file: nothing is run
        int createdBefore = small.created.get() + large.created.get() + wrong.created.get();
        MeasuredSelectionPolicy second = new MeasuredSelectionPolicy(settings());
        Explanation again = selector(second).explain(SPEC, CPU);
        assertThat(second.measurementsTaken()).isZero();
        assertThat(small.created.get() + large.created.get() + wrong.created.get()).isEqualTo(createdBefore);
        assertThat(second.measurement(SPEC, CPU).orElseThrow()).isEqualTo(m);
        assertThat(again.winnerId()).contains("small");

        // a key changes (another device name: another GPU in the same slot): measured again, a second file
        DeviceInfo renamed = new DeviceInfo(CPU.id(), CPU.vendor(), CPU.arch(), CPU.name() + " (replaced)",
                CPU.computeUnits(), CPU.memoryBytes(), CPU.features(), false, CPU.address(), CPU.aliases());
        selector(second).explain(SPEC, renamed);
        assertThat(second.measurementsTaken()).isEqualTo(1);
        assertThat(small.created.get()).isGreaterThan(createdBefore / 3);
        // and another layer is another key too
        selector(second).explain(SPEC.toBuilder().maxTokensPerCall(4).build(), CPU);
        assertThat(second.measurementsTaken()).isEqualTo(2);
        try (Stream<Path> files = Files.list(cache)) {
            assertThat(files.filter(p -> p.toString().endsWith(".json")).count()).isEqualTo(3);
        }
    }

    @Test
    void aChangeOfEachPartOfTheKeyMeasuresAgainAndNoChangeReusesTheFile() {
        Map<Class<?>, String> versions = new java.util.HashMap<>();
        java.util.function.Function<Class<?>, String> jarVersions = c -> versions.getOrDefault(c, "1.0");
        DeviceInfo cpu = CPU.withDriverVersion("Linux 6.8.0");
        MeasuredSelectionPolicy first = new MeasuredSelectionPolicy(settings(), jarVersions);
        selector(first).explain(SPEC, cpu);
        assertThat(first.measurementsTaken()).isEqualTo(1);
        MeasureKey measured = first.measurement(SPEC, cpu).orElseThrow().key();
        assertThat(measured.driver()).isEqualTo("Linux 6.8.0");
        assertThat(measured.jars()).containsEntry("small", "1.0").containsEntry(MeasureKey.HARNESS, "1.0");

        // the next start, nothing changed: the file is read, nothing runs
        MeasuredSelectionPolicy same = new MeasuredSelectionPolicy(settings(), jarVersions);
        selector(same).explain(SPEC, cpu);
        assertThat(same.measurementsTaken()).isZero();

        Map<String, Runnable> changes = new java.util.LinkedHashMap<>();
        Map<String, DeviceInfo> devices = new java.util.LinkedHashMap<>();
        devices.put("device name", new DeviceInfo(cpu.id(), cpu.vendor(), cpu.arch(), cpu.name() + " (replaced)",
                cpu.computeUnits(), cpu.memoryBytes(), cpu.features(), false, cpu.address(), cpu.aliases(),
                cpu.driverVersion()));
        devices.put("device UUID", cpu.withAliases(List.of(new DeviceAddress.OpenCl(0, 0, java.util.Optional.of("ab12")))));
        devices.put("driver version", cpu.withDriverVersion("Linux 6.9.1"));
        for (Map.Entry<String, DeviceInfo> d : devices.entrySet()) {
            MeasuredSelectionPolicy next = new MeasuredSelectionPolicy(settings(), jarVersions);
            selector(next).explain(SPEC, d.getValue());
            assertThat(next.measurementsTaken()).as(d.getKey()).isEqualTo(1);
            assertThat(next.measurement(SPEC, d.getValue()).orElseThrow().key()).as(d.getKey()).isNotEqualTo(measured);
        }
        changes.put("a measured backend's jar", () -> versions.put(SpeedProvider.class, "1.1"));
        changes.put("the harness's jar", () -> {
            versions.remove(SpeedProvider.class);
            versions.put(MeasureKey.class, "1.1");
        });
        for (Map.Entry<String, Runnable> c : changes.entrySet()) {
            c.getValue().run();
            MeasuredSelectionPolicy next = new MeasuredSelectionPolicy(settings(), jarVersions);
            selector(next).explain(SPEC, cpu);
            assertThat(next.measurementsTaken()).as(c.getKey()).isEqualTo(1);
        }
        versions.clear();
        MoeLayerSpec otherLayer = SPEC.toBuilder().hasBias(false).build();
        MeasuredSelectionPolicy next = new MeasuredSelectionPolicy(settings(), jarVersions);
        selector(next).explain(otherLayer, cpu);
        assertThat(next.measurementsTaken()).as("the layer").isEqualTo(1);
        // and back to the first key: its file is still there
        MeasuredSelectionPolicy back = new MeasuredSelectionPolicy(settings(), jarVersions);
        selector(back).explain(SPEC, cpu);
        assertThat(back.measurementsTaken()).isZero();
    }

    @Test
    void theMeasuredKernelRunsEachCallOnItsBucketsWinner() {
        MeasuredSelectionPolicy policy = new MeasuredSelectionPolicy(settings());
        Selection s = selector(policy).select(SPEC, CPU);
        try (Arena arena = Arena.ofShared(); var kernel = (BucketKernel) policy.createKernel(s)) {
            assertThat(kernel.assignment()).isEqualTo(Map.of(1, "small", 2, "small", 8, "large"));
            assertThat(kernel.kernelFor(1)).isEqualTo("small");
            assertThat(kernel.kernelFor(5)).isEqualTo("large");
            assertThat(kernel.preparedBytes()).isPositive();
            MoeWeights w = RandomMoe.weights(SPEC, 7, arena);
            kernel.prepare(w);
            assertThat(kernel.isPrepared()).isTrue();
            int largeBefore = large.forwards.get();
            HostTensor hidden = RandomMoe.hidden(8, SPEC.hiddenSize(), DType.BF16, 8, arena);
            Routing routing = RandomMoe.topK(SPEC, 8, 9, arena);
            HostTensor out = HostTensor.allocate(arena, DType.F32, 8, SPEC.hiddenSize());
            kernel.forward(hidden, routing, out);
            assertThat(large.forwards.get()).isEqualTo(largeBefore + 1);
            HostTensor expected = HostTensor.allocate(arena, DType.F32, 8, SPEC.hiddenSize());
            ReferenceMoe.forward(SPEC.toBuilder().quant(SPEC.quant().withActivations(ActivationType.BF16)).build(), w,
                    hidden, routing, expected);
            assertThat(RelativeError.l2(out, expected)).isLessThan(1e-6);
        }
    }

    @Test
    void oneKernelWhenTheSettingAllowsOne() {
        MeasuredSelectionPolicy policy = new MeasuredSelectionPolicy(new MeasureSettings(cache, List.of(1, 2, 8), 1, 9,
                0.05, 1));
        Selection s = selector(policy).select(SPEC, CPU);
        try (var kernel = (BucketKernel) policy.createKernel(s)) {
            assertThat(kernel.assignment()).isEqualTo(Map.of(1, "small", 2, "small", 8, "small"));
            assertThat(kernel.providerId()).isEqualTo("measured[small]");
        }
    }

    @Test
    void refusesASimulatedDevice() {
        DeviceInfo sim = new DeviceInfo("sim:h100", CPU.vendor(), CPU.arch(), "simulated", 1, 1L << 30, CPU.features(),
                true, new DeviceAddress.Simulated("h100"), List.of());
        assertThatThrownBy(() -> selector(new MeasuredSelectionPolicy(settings())).explain(SPEC, sim))
                .hasMessageContaining("simulated device").hasMessageContaining("--policy default");
    }

    @Test
    void foundByNameThroughServiceLoader() {
        assertThat(SelectionPolicy.measured()).isInstanceOf(MeasuredSelectionPolicy.class);
        assertThat(SelectionPolicy.named("default").getClass().getSimpleName()).isEqualTo("DefaultSelectionPolicy");
        assertThatThrownBy(() -> SelectionPolicy.named("fastest-guess")).hasMessageContaining("no selection policy named");
    }

    @Test
    void bucketsDefaultToPowersOfTwoUpToTheLargestCall() {
        MeasureSettings s = MeasureSettings.from(k -> null, k -> null);
        assertThat(s.bucketsFor(8)).containsExactly(1, 2, 4, 8);
        assertThat(s.bucketsFor(100)).containsExactly(1, 2, 4, 8, 16, 32, 64, 100);
        assertThat(new MeasureSettings(cache, List.of(4, 64, 1024), 1, 1, 0.05, 2).bucketsFor(100)).containsExactly(4, 64);
    }
}
