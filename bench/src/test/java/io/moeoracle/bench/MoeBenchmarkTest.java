package io.moeoracle.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.moeoracle.api.MoeKernel;
import io.moeoracle.api.MoeKernelProvider;
import io.moeoracle.api.RooflineProbe;
import io.moeoracle.api.SupportVerdict;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.device.Vendor;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.tensor.MoeWeights;
import io.moeoracle.api.tensor.Routing;
import io.moeoracle.api.tensor.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MoeBenchmarkTest {
    private static final DeviceInfo DEVICE = new DeviceInfo("fake:0", Vendor.OTHER, "fake", "a fake device", 1, 1L << 30,
            Set.of(), false);

    /** Sleeps 200 µs per call and reports fixed ceilings. */
    static final class SleepyProvider implements MoeKernelProvider, RooflineProbe {
        final AtomicInteger forwards = new AtomicInteger();
        double fp8Rate = Double.NaN;

        @Override
        public String id() {
            return "sleepy";
        }

        @Override
        public int priority(MoeLayerSpec spec, DeviceInfo device) {
            return 0;
        }

        @Override
        public SupportVerdict isSupported(MoeLayerSpec spec, DeviceInfo device) {
            return SupportVerdict.supported("sleeps");
        }

        @Override
        public MoeKernel create(MoeLayerSpec spec, DeviceInfo device) {
            return new MoeKernel() {
                boolean prepared;

                @Override public String providerId() { return "sleepy"; }
                @Override public MoeLayerSpec spec() { return spec; }
                @Override public DeviceInfo device() { return device; }
                @Override public void prepare(MoeWeights weights) { weights.validate(spec); prepared = true; }
                @Override public boolean isPrepared() { return prepared; }
                @Override public void forward(Tensor hidden, Routing routing, Tensor out) {
                    forwards.incrementAndGet();
                    LockSupport.parkNanos(200_000);
                }
                @Override public void close() { }
            };
        }

        @Override
        public Ceilings measureCeilings(DeviceInfo device) {
            return new Ceilings(50e9, 500e9, "fixed", "fixed", fp8Rate, Double.isNaN(fp8Rate) ? "not measured" : "fixed fp8");
        }
    }

    @Test
    void gptOssDecodeMustRead52_9MegabytesForFourExperts() {
        MoeLayerSpec spec = MoeLayerSpec.builder().experts(32).topK(4).hiddenSize(2880).intermediateSize(2880)
                .hasBias(false).build();
        assertThat(4 * MoeBenchmark.expertBytes(spec) / 1e6).isCloseTo(52.88, within(0.01));
        assertThat(MoeBenchmark.flops(spec, 512)).isEqualTo(2.0 * 512 * 4 * 3 * 2880 * 2880);
    }

    @Test
    void rowsCarryTheirFloorAndTheJsonIsWritten(@TempDir Path dir) throws Exception {
        MoeLayerSpec spec = MoeLayerSpec.builder().experts(8).topK(2).hiddenSize(64).intermediateSize(64).build();
        SleepyProvider p = new SleepyProvider();
        BenchResult r = MoeBenchmark.run(BenchConfig.builder(p, DEVICE, spec).tokenCounts(List.of(1, 16))
                .warmupIterations(2).iterations(5).seed(42).resultsFolder(dir).build());
        assertThat(p.forwards.get()).isEqualTo(2 * 7);
        assertThat(r.rows()).hasSize(2);
        BenchRow one = r.rows().get(0);
        assertThat(one.medianMicros()).isGreaterThan(150);
        assertThat(one.expertsTouched()).isEqualTo(2.0);
        double floor = Math.max(one.bytes() / 50e9, one.flops() / 500e9) * 1e6;
        assertThat(one.floorMicros()).isCloseTo(floor, within(1e-9));
        assertThat(one.ratioToFloor()).isCloseTo(one.medianMicros() / floor, within(1e-6));
        assertThat(r.rows().get(1).expertsTouched()).isBetween(2.0, 8.0);
        assertThat(r.toTable()).contains("sleepy").contains("%BW").contains("50.0 GB/s").contains("best of before and after");
        try (var files = Files.list(dir)) {
            List<Path> json = files.toList();
            assertThat(json).hasSize(1);
            assertThat(json.get(0).getFileName().toString()).startsWith("sleepy-fake_0-").endsWith(".json");
            assertThat(Files.readString(json.get(0))).contains("\"tokens\": 16").contains("\"bytesPerSecond\": 5.00000e+10");
        }
    }

    @Test
    void mxfp8RowsAreHeldToTheFp8RateAndBf16RowsToTheBf16Rate(@TempDir Path dir) throws Exception {
        MoeLayerSpec bf16 = MoeLayerSpec.builder().experts(8).topK(2).hiddenSize(64).intermediateSize(64).build();
        MoeLayerSpec fp8 = MoeLayerSpec.builder().experts(8).topK(2).hiddenSize(64).intermediateSize(64)
                .quant(io.moeoracle.api.spec.QuantScheme.MXFP4_MXFP8).build();
        SleepyProvider p = new SleepyProvider();
        p.fp8Rate = 2000e9;
        BenchResult q = MoeBenchmark.run(BenchConfig.builder(p, DEVICE, fp8).tokenCounts(List.of(4096))
                .warmupIterations(1).iterations(2).seed(3).resultsFolder(dir).build());
        BenchRow row = q.rows().get(0);
        assertThat(q.fp8Activations()).isTrue();
        assertThat(row.floorMicros()).isCloseTo(Math.max(row.bytes() / 50e9, row.flops() / 2000e9) * 1e6, within(1e-9));
        assertThat(row.fractionOfPeak()).isCloseTo(row.flops() / (row.medianMicros() / 1e6) / 2000e9, within(1e-9));
        assertThat(q.toTable()).contains("FP8 matmul ceiling: 2000.0 GFLOP/s").contains("the compute floors below use it");
        assertThat(q.toJson()).contains("\"fp8FlopsPerSecond\": 2.00000e+12").contains("\"fp8Activations\": true");

        BenchResult b = MoeBenchmark.run(BenchConfig.builder(p, DEVICE, bf16).tokenCounts(List.of(4096))
                .warmupIterations(1).iterations(2).seed(3).build());
        BenchRow brow = b.rows().get(0);
        assertThat(b.fp8Activations()).isFalse();
        assertThat(brow.floorMicros()).isCloseTo(Math.max(brow.bytes() / 50e9, brow.flops() / 500e9) * 1e6, within(1e-9));
        assertThat(b.toTable()).doesNotContain("the compute floors below use it");
    }

    @Test
    void progressClimbsFromZeroToOneThroughEveryTokenCount() {
        MoeLayerSpec spec = MoeLayerSpec.builder().experts(8).topK(2).hiddenSize(64).intermediateSize(64).build();
        List<Double> fractions = new java.util.ArrayList<>();
        List<String> stages = new java.util.ArrayList<>();
        MoeBenchmark.run(BenchConfig.builder(new SleepyProvider(), DEVICE, spec).tokenCounts(List.of(1, 4, 16))
                .warmupIterations(1).iterations(2).seed(1).build(), (f, stage) -> {
                    fractions.add(f);
                    stages.add(stage);
                });
        assertThat(fractions.getFirst()).isZero();
        assertThat(fractions.getLast()).isEqualTo(1.0);
        assertThat(fractions).isSorted();
        // the default prepare reports its end, scaled into the prepare step (2 of 6 steps done)
        assertThat(stages).containsSubsequence("generating random weights", "prepared", "timing T=1", "timing T=4",
                "timing T=16", "done");
        assertThat(fractions.get(stages.indexOf("prepared"))).isCloseTo(2.0 / 6, within(1e-12));
    }
}
