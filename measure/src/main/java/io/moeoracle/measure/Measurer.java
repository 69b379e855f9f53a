package io.moeoracle.measure;

import io.moeoracle.api.MoeKernel;
import io.moeoracle.api.MoeKernelProvider;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.spec.ActivationType;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.tensor.DType;
import io.moeoracle.api.tensor.HostTensor;
import io.moeoracle.api.tensor.MoeWeights;
import io.moeoracle.api.tensor.Routing;
import io.moeoracle.bench.BenchConfig;
import io.moeoracle.bench.BenchResult;
import io.moeoracle.bench.BenchRow;
import io.moeoracle.bench.MoeBenchmark;
import io.moeoracle.reference.RandomMoe;
import io.moeoracle.reference.ReferenceMoe;
import io.moeoracle.reference.RelativeError;
import java.lang.foreign.Arena;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Measures candidates: first the reference check on a small input (a few tokens of a seeded random
 * layer against the float64 {@link ReferenceMoe}), then, for those that pass, the benchmark
 * harness's timing over the buckets ({@link MoeBenchmark}: device-resident inputs, a recorded graph
 * replayed where the kernel records one). A candidate that throws is left out with what it threw.
 */
final class Measurer {
    private static final Logger LOG = LoggerFactory.getLogger(Measurer.class);
    private static final long SEED = 0x6d6561737572L;
    private static final int CHECK_TOKENS = 4;

    private final MeasureSettings settings;

    Measurer(MeasureSettings settings) {
        this.settings = settings;
    }

    Measurement measure(MeasureKey key, MoeLayerSpec spec, DeviceInfo device, Map<String, MoeKernelProvider> providers) {
        List<Integer> buckets = settings.bucketsFor(spec.maxTokensPerCall());
        List<Measurement.Result> results = new ArrayList<>();
        int n = 0;
        for (Map.Entry<String, MoeKernelProvider> e : providers.entrySet()) {
            n++;
            LOG.info("measuring {} ({} of {}) for {} on {}, T = {}", e.getKey(), n, providers.size(), spec.describe(),
                    device.id(), buckets);
            results.add(measureOne(e.getKey(), e.getValue(), spec, device, buckets));
        }
        return new Measurement(key, buckets, results, Instant.now());
    }

    private Measurement.Result measureOne(String id, MoeKernelProvider p, MoeLayerSpec spec, DeviceInfo device,
                                          List<Integer> buckets) {
        double error;
        try {
            error = referenceError(p, spec, device);
        } catch (RuntimeException | LinkageError e) {
            return failed(id, "the reference check threw " + e);
        }
        if (!(error <= settings.tolerance())) {
            return failed(id, String.format(Locale.ROOT, "failed the reference check: relative L2 error %.3g > %.3g"
                    + " on %d tokens (moe.measure.tolerance)", error, settings.tolerance(), Math.min(CHECK_TOKENS,
                    spec.maxTokensPerCall())));
        }
        try {
            BenchResult r = MoeBenchmark.run(BenchConfig.builder(p, device, spec).tokenCounts(buckets)
                    .warmupIterations(settings.warmup()).iterations(settings.iterations()).measureCeilings(false)
                    .seed(SEED).build());
            List<Double> micros = r.rows().stream().map(BenchRow::medianMicros).toList();
            String mode = r.rows().isEmpty() ? "host" : r.rows().getFirst().mode();
            return new Measurement.Result(id, true, String.format(Locale.ROOT, "reference error %.2g", error), mode,
                    micros);
        } catch (RuntimeException | LinkageError e) {
            return failed(id, "timing threw " + e);
        }
    }

    private static Measurement.Result failed(String id, String why) {
        LOG.warn("measured policy: {} left out: {}", id, why);
        return new Measurement.Result(id, false, why, "none", List.of());
    }

    /** The relative L2 error of one small forward against the float64 reference. */
    private static double referenceError(MoeKernelProvider p, MoeLayerSpec spec, DeviceInfo device) {
        int tokens = Math.min(CHECK_TOKENS, spec.maxTokensPerCall());
        try (Arena arena = Arena.ofShared(); MoeKernel kernel = p.create(spec, device)) {
            MoeWeights w = RandomMoe.weights(spec, SEED, arena);
            kernel.prepare(w);
            HostTensor hidden = RandomMoe.hidden(tokens, spec.hiddenSize(), DType.BF16, SEED + 1, arena);
            Routing routing = RandomMoe.topK(spec, tokens, SEED + 2, arena);
            HostTensor out = HostTensor.allocate(arena, DType.F32, tokens, spec.hiddenSize());
            kernel.forward(hidden, routing, out);
            kernel.synchronize();
            HostTensor expected = HostTensor.allocate(arena, DType.F32, tokens, spec.hiddenSize());
            ReferenceMoe.forward(concrete(spec, p.activationType(spec, device)), w, hidden, routing, expected);
            return RelativeError.l2(out, expected);
        }
    }

    /** The spec with the activation type the provider runs, when the spec leaves it to the provider. */
    private static MoeLayerSpec concrete(MoeLayerSpec spec, ActivationType runs) {
        if (spec.quant().activations() != ActivationType.AUTO) {
            return spec;
        }
        ActivationType t = runs == ActivationType.AUTO ? ActivationType.BF16 : runs;
        return spec.toBuilder().quant(spec.quant().withActivations(t)).build();
    }
}
