package io.moeoracle.bench.jmh;

import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.core.device.DeviceRegistry;
import io.moeoracle.core.select.Explanation;
import io.moeoracle.core.select.MoeKernelSelector;
import io.moeoracle.core.select.Selection;
import io.moeoracle.core.weights.ModelConfig;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The selector's hot and cold paths: discovery with every probe on the class path (the CPU probe,
 * and the CUDA, HIP and OpenCL drivers' probes, which try to open their libraries), a cached
 * {@code select}, and rendering an explanation.
 *
 * <p>Rendering: the CLI's {@code ExplanationTable} lives in {@code cli}, which depends on
 * {@code bench}, so a benchmark here cannot reach it without a cycle. What is measured is core's
 * rendering of the same data, {@code Explanation.toJson()} and {@code summary()}: the table is a
 * fixed-width formatting of those rows.
 */
@State(Scope.Benchmark)
public class SelectionBenchmark {
    private MoeKernelSelector selector;
    private MoeLayerSpec spec;
    private DeviceInfo cpu;
    private Explanation explanation;

    @Setup
    public void setUp() {
        selector = MoeKernelSelector.create();
        spec = ModelConfig.preset("gpt-oss-20b");
        cpu = DeviceRegistry.discover().resolve("cpu");
        selector.select(spec, cpu); // fills the decision cache
        explanation = selector.explain(spec, cpu);
    }

    /** A {@code select} the selector has answered before (target: at most 1 µs). */
    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    public Selection cachedSelect() {
        return selector.select(spec, cpu);
    }

    /**
     * Discovery from nothing: find and run every device probe, find every provider, and select for
     * the CPU. Single shot: each call builds new registries and a new selector (target: 50 ms).
     */
    @Benchmark
    @BenchmarkMode(Mode.SingleShotTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    public Selection coldDiscovery() {
        DeviceRegistry devices = DeviceRegistry.discover();
        List<DeviceInfo> all = devices.devices();
        MoeKernelSelector fresh = MoeKernelSelector.create();
        DeviceInfo d = all.stream().filter(x -> x.id().equals("cpu")).findFirst().orElseThrow();
        return fresh.select(spec, d);
    }

    /** The explanation as JSON, as {@code explain --json} prints it. */
    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public String explainJson() {
        return explanation.toJson();
    }

    /** The explanation's one-paragraph summary, as the table's footer prints it. */
    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public String explainSummary() {
        return explanation.summary();
    }
}
