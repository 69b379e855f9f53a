package io.moeoracle.bench.jmh;

import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.core.device.DeviceRegistry;
import io.moeoracle.core.select.MoeKernelSelector;
import io.moeoracle.core.select.Selection;
import io.moeoracle.core.weights.ModelConfig;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;

/**
 * Discovery from nothing, as a host's first {@code select} pays it: find and run every device probe
 * on the class path (the CPU probe, and the CUDA, HIP and OpenCL drivers' probes, which try to open
 * their libraries), find every provider, and select for the CPU (target: 50 ms). Nothing is set up
 * beforehand, so with {@code -wi 0 -i 1 -f N} each fork measures a JVM that has loaded none of it
 * (class loading included); with warm-up iterations it measures fresh registries in a warm JVM.
 *
 * <p>The cpu backend is not on this class path (its tests use {@code bench}, so {@code bench} cannot
 * use it back); the providers found are the reference's {@code emulation} alone.
 */
public class ColdDiscoveryBenchmark {
    @Benchmark
    @BenchmarkMode(Mode.SingleShotTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    public Selection coldDiscovery() {
        MoeLayerSpec spec = ModelConfig.preset("gpt-oss-20b");
        DeviceRegistry devices = DeviceRegistry.discover();
        DeviceInfo cpu = devices.devices().stream().filter(d -> d.id().equals("cpu")).findFirst().orElseThrow();
        return MoeKernelSelector.create().select(spec, cpu);
    }
}
