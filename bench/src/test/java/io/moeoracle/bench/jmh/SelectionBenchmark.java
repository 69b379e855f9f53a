package io.moeoracle.bench.jmh;

import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.core.device.DeviceRegistry;
import io.moeoracle.core.select.Explanation;
import io.moeoracle.core.select.MoeKernelSelector;
import io.moeoracle.core.select.Selection;
import io.moeoracle.core.weights.ModelConfig;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The selector's hot path, a cached {@code select}, and rendering an explanation (the cold path is
 * {@link ColdDiscoveryBenchmark}).
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
