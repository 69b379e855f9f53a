package io.moeoracle.bench.jmh;

import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.core.device.DeviceRegistry;
import io.moeoracle.core.select.MoeKernelSelector;
import io.moeoracle.core.select.Selection;
import io.moeoracle.core.weights.ModelConfig;
import java.util.ServiceLoader;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.slf4j.LoggerFactory;

/**
 * Discovery from nothing, as a host's first {@code select} pays it (target: 50 ms on the build
 * machine). What is timed, from its first line: build the spec ({@code ModelConfig.preset}), find
 * and run every device probe on the class path (the CPU probe, and the CUDA, HIP and OpenCL
 * drivers' probes, which try to open their libraries), find every provider, and select for the CPU.
 * Not timed: the JVM's own start-up and JMH's harness (both before the first line).
 *
 * <p>With {@code -wi 0 -i 1 -f N} each fork measures a JVM that has loaded none of moe-oracle (its
 * class loading, FFM set-up and {@code dlopen} attempts included); with warm-up iterations it
 * measures fresh registries in a warm JVM. {@code hostWarmed} says what the host did before the
 * timed call: {@code logging} initialized SLF4J (the binding on the class path, here slf4j-simple),
 * as any host that logs has by the time it asks for a kernel, which also scanned the class path's
 * jars for SLF4J's provider; {@code classpath} made one {@link ServiceLoader} lookup (so the jars are
 * open) but left logging to moe-oracle's first logger; {@code nothing} leaves both to the timed call,
 * so the first scan of every jar on the class path and SLF4J's start-up are timed too.
 *
 * <p>The cpu backend is not on this class path (its tests use {@code bench}, so {@code bench} cannot
 * use it back); the providers found are the reference's {@code emulation} alone.
 */
@State(Scope.Benchmark)
public class ColdDiscoveryBenchmark {
    /** What the host did before the timed call: {@code logging}, {@code classpath} or {@code nothing}. */
    @Param({"logging", "classpath", "nothing"})
    public String hostWarmed;

    /** Does what the host did. */
    @Setup(Level.Trial)
    public void host() {
        switch (hostWarmed) {
            case "logging" -> LoggerFactory.getILoggerFactory();
            case "classpath" -> ServiceLoader.load(HostService.class).iterator().hasNext();
            case "nothing" -> { }
            default -> throw new IllegalArgumentException("hostWarmed is logging, classpath or nothing, not " + hostWarmed);
        }
    }

    /** A service no jar provides: looking it up reads every jar's {@code META-INF/services}, as any first lookup does. */
    public interface HostService {
    }

    @Benchmark
    @BenchmarkMode(Mode.SingleShotTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    public Selection coldDiscovery() {
        MoeLayerSpec spec = ModelConfig.preset("gpt-oss-20b");
        DeviceRegistry devices = DeviceRegistry.discover();
        DeviceInfo cpu = null;
        for (DeviceInfo d : devices.devices()) { // a loop, so the harness spins up no lambda inside the timing
            if (d.id().equals("cpu")) {
                cpu = d;
            }
        }
        if (cpu == null) {
            throw new IllegalStateException("the cpu probe found no CPU: " + devices.probeAll());
        }
        return MoeKernelSelector.create().select(spec, cpu);
    }
}
