package io.moeoracle.bench;

import io.moeoracle.api.CapturedForward;
import io.moeoracle.api.MoeKernel;
import io.moeoracle.api.ProgressListener;
import io.moeoracle.api.RooflineProbe;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.spec.WeightFormat;
import io.moeoracle.api.tensor.DType;
import io.moeoracle.api.tensor.DeviceTensor;
import io.moeoracle.api.tensor.HostTensor;
import io.moeoracle.api.tensor.Routing;
import io.moeoracle.reference.RandomMoe;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Times one provider's forward on fresh random weights, with a fresh uniform random top-k routing
 * for every call (so decode-sized calls read weights from memory, not from a warm cache), and sets
 * each token count against the roofline measured in the same run through {@link RooflineProbe}
 * (before and after the timed calls; the better of the two counts).
 *
 * <p>Bytes a call must move: the weights, scales and biases of the experts its routing touches,
 * plus the activations in and out. Flops: {@code 2 T topK (2 I H + I H)}.
 */
public final class MoeBenchmark {
    private static final Logger LOG = LoggerFactory.getLogger(MoeBenchmark.class);

    private MoeBenchmark() {
    }

    /**
     * Runs the benchmark and, when the config names a folder, writes the JSON there.
     *
     * @param config what to run
     * @return the result
     */
    public static BenchResult run(BenchConfig config) {
        return run(config, ProgressListener.NONE);
    }

    /**
     * Runs the benchmark, telling {@code progress} how far the sweep has come. The steps, counted
     * equally: the ceilings before, weights and {@code prepare} (with the kernel's own progress inside
     * it), one per token count, the ceilings after.
     *
     * @param config what to run
     * @param progress hears the fraction of steps done
     * @return the result
     */
    public static BenchResult run(BenchConfig config, ProgressListener progress) {
        MoeLayerSpec spec = config.spec();
        int steps = config.tokenCounts().size() + 3;
        progress.progress(0, "measuring the device's ceilings");
        Optional<RooflineProbe.Ceilings> before = measure(config, "before");
        List<Timing> timings = new ArrayList<>();
        try (Arena arena = Arena.ofShared(); MoeKernel kernel = config.provider().create(spec, config.device())) {
            progress.progress(1.0 / steps, "generating random weights");
            LOG.info("generating random weights for {}", spec.describe());
            var weights = RandomMoe.weights(spec, config.seed(), arena);
            long t0 = System.nanoTime();
            kernel.prepare(weights, (f, stage) -> progress.progress((1 + Math.clamp(f, 0, 1)) / steps, stage));
            LOG.info("prepare took {} ms", (System.nanoTime() - t0) / 1_000_000);
            int done = 2;
            for (int tokens : config.tokenCounts()) {
                progress.progress((double) done / steps, "timing T=" + tokens);
                timings.add(time(config, kernel, tokens));
                done++;
            }
        }
        // measured before and after the timed calls; the better of each is the ceiling, so a
        // probe disturbed by another process cannot make the kernel look closer to its floor
        progress.progress((steps - 1.0) / steps, "measuring the device's ceilings again");
        Optional<RooflineProbe.Ceilings> after = measure(config, "after");
        progress.progress(1.0, "done");
        Optional<RooflineProbe.Ceilings> ceilings = before.map(b -> after.map(a -> best(b, a)).orElse(b));
        // FP8 / MXFP8 activations (asked for, or what the provider does under 'auto'): the FP8 rate is the compute ceiling
        boolean fp8 = spec.quant().activations().isQuantized()
                || config.provider().activationType(spec, config.device()).isQuantized();
        List<BenchRow> rows = timings.stream().map(t -> row(t, ceilings, fp8)).toList();
        BenchResult result = new BenchResult(config.provider().id(), config.device().id(), config.device().describe(),
                spec.describe(), config.activationDtype().toString(), config.warmupIterations(), config.iterations(),
                config.seed(), ceilings, rows, Instant.now(), fp8);
        config.resultsFolder().ifPresent(folder -> {
            try {
                LOG.info("wrote {}", result.writeJson(folder));
            } catch (IOException e) {
                throw new UncheckedIOException("could not write the benchmark JSON into " + folder, e);
            }
        });
        return result;
    }

    private static Optional<RooflineProbe.Ceilings> measure(BenchConfig config, String when) {
        if (!config.measureCeilings() || !(config.provider() instanceof RooflineProbe probe)) {
            return Optional.empty();
        }
        RooflineProbe.Ceilings c = probe.measureCeilings(config.device());
        LOG.info("ceilings {} timing: {} GB/s ({}), {} GFLOP/s ({})", when, String.format("%.1f", c.bytesPerSecond() / 1e9),
                c.bandwidthMethod(), String.format("%.1f", c.flopsPerSecond() / 1e9), c.flopsMethod());
        if (c.hasFp8Rate()) {
            LOG.info("FP8 ceiling {} timing: {} GFLOP/s ({})", when, String.format("%.1f", c.fp8FlopsPerSecond() / 1e9),
                    c.fp8FlopsMethod());
        }
        return Optional.of(c);
    }

    private static RooflineProbe.Ceilings best(RooflineProbe.Ceilings a, RooflineProbe.Ceilings b) {
        return new RooflineProbe.Ceilings(Math.max(a.bytesPerSecond(), b.bytesPerSecond()),
                Math.max(a.flopsPerSecond(), b.flopsPerSecond()),
                a.bandwidthMethod() + "; best of before and after the timed calls",
                a.flopsMethod() + "; best of before and after the timed calls",
                a.hasFp8Rate() && b.hasFp8Rate() ? Math.max(a.fp8FlopsPerSecond(), b.fp8FlopsPerSecond())
                        : a.hasFp8Rate() ? a.fp8FlopsPerSecond() : b.fp8FlopsPerSecond(),
                (a.hasFp8Rate() ? a : b).fp8FlopsMethod() + (a.hasFp8Rate() || b.hasFp8Rate()
                        ? "; best of before and after the timed calls" : ""));
    }

    /** Raw timings of one token count, sorted. */
    private record Timing(int tokens, double[] micros, double touched, double bytes, double flops, String mode) {
    }

    private static Timing time(BenchConfig config, MoeKernel kernel, int tokens) {
        MoeLayerSpec spec = config.spec();
        int calls = config.warmupIterations() + config.iterations();
        double[] micros = new double[config.iterations()];
        double touchedSum = 0;
        String mode;
        try (Arena arena = Arena.ofShared()) {
            HostTensor hidden = RandomMoe.hidden(tokens, spec.hiddenSize(), config.activationDtype(),
                    config.seed() + tokens, arena);
            HostTensor out = HostTensor.allocate(arena, config.activationDtype(), tokens, spec.hiddenSize());
            List<Routing.TopK> routings = new ArrayList<>(calls);
            for (int c = 0; c < calls; c++) {
                routings.add(RandomMoe.topK(spec, tokens, config.seed() * 31 + 1009L * tokens + c, arena));
            }
            try (DeviceSide dev = DeviceSide.open(kernel, hidden, out, spec.topK())) {
                for (int c = 0; c < calls; c++) {
                    Routing.TopK r = routings.get(c);
                    long start;
                    if (dev != null) {
                        dev.load(r); // new routing contents before each call, outside the timed region
                        start = System.nanoTime();
                        dev.run();
                    } else {
                        start = System.nanoTime();
                        kernel.forward(hidden, r, out);
                    }
                    kernel.synchronize();
                    long end = System.nanoTime();
                    if (c >= config.warmupIterations()) {
                        micros[c - config.warmupIterations()] = (end - start) / 1e3;
                        touchedSum += touchedExperts(r, spec.experts());
                    }
                }
                mode = dev == null ? "host" : dev.mode();
            }
        }
        double touched = touchedSum / config.iterations();
        double bytes = touched * expertBytes(spec) + 2.0 * tokens * spec.hiddenSize() * config.activationDtype().byteSize()
                + 2.0 * tokens * spec.topK() * 4;
        Arrays.sort(micros);
        LOG.info("T={}: median {} µs", tokens, String.format("%.1f", percentile(micros, 0.5)));
        return new Timing(tokens, micros, touched, bytes, flops(spec, tokens), mode);
    }

    private static BenchRow row(Timing t, Optional<RooflineProbe.Ceilings> ceilings, boolean fp8) {
        double median = percentile(t.micros(), 0.5);
        double seconds = median / 1e6;
        double floor = Double.NaN;
        double fBw = Double.NaN;
        double fPeak = Double.NaN;
        if (ceilings.isPresent()) {
            RooflineProbe.Ceilings c = ceilings.get();
            double rate = c.computeRate(fp8);
            floor = Math.max(t.bytes() / c.bytesPerSecond(), t.flops() / rate) * 1e6;
            fBw = t.bytes() / seconds / c.bytesPerSecond();
            fPeak = t.flops() / seconds / rate;
        }
        return new BenchRow(t.tokens(), median, percentile(t.micros(), 0.1), percentile(t.micros(), 0.9), t.touched(),
                t.bytes(), t.flops(), t.bytes() / seconds / 1e9, t.flops() / seconds / 1e9, floor, median / floor, fBw,
                fPeak, t.mode());
    }

    /**
     * Inputs and outputs held in the kernel's device memory, so a GPU backend is timed on its
     * forward and not on host transfers; with a recorded forward (CUDA graph) when the kernel offers one.
     */
    private static final class DeviceSide implements AutoCloseable {
        private final MoeKernel kernel;
        private final List<AutoCloseable> owned = new ArrayList<>();
        private DeviceTensor ids;
        private DeviceTensor weights;
        private DeviceTensor hidden;
        private DeviceTensor out;
        private Routing routing;
        private CapturedForward captured;

        private DeviceSide(MoeKernel kernel) {
            this.kernel = kernel;
        }

        /** @return null when the kernel works on host memory only */
        static DeviceSide open(MoeKernel kernel, HostTensor hostHidden, HostTensor hostOut, int topK) {
            DeviceSide d = new DeviceSide(kernel);
            long tokens = hostHidden.dim(0);
            try {
                d.hidden = d.own(kernel.allocate(hostHidden.dtype(), hostHidden.shape()));
            } catch (UnsupportedOperationException hostOnly) {
                return null;
            }
            d.out = d.own(kernel.allocate(hostOut.dtype(), hostOut.shape()));
            d.ids = d.own(kernel.allocate(DType.I32, tokens, topK));
            d.weights = d.own(kernel.allocate(DType.F32, tokens, topK));
            d.hidden.copyFrom(hostHidden);
            d.routing = Routing.topK(d.ids, d.weights);
            try {
                d.captured = kernel.capture(d.hidden, d.routing, d.out).orElse(null);
                if (d.captured != null) {
                    d.owned.add(d.captured);
                }
            } catch (RuntimeException e) {
                LOG.warn("{} could not record a forward ({}); timing plain launches", kernel.providerId(), e.toString());
            }
            return d;
        }

        private DeviceTensor own(DeviceTensor t) {
            owned.add(t);
            return t;
        }

        void load(Routing.TopK r) {
            ids.copyFrom((HostTensor) r.ids());
            weights.copyFrom((HostTensor) r.weights());
            kernel.synchronize();
        }

        void run() {
            if (captured != null) {
                captured.replay();
            } else {
                kernel.forward(hidden, routing, out);
            }
        }

        String mode() {
            return captured != null ? "graph" : "device";
        }

        @Override
        public void close() {
            for (int i = owned.size() - 1; i >= 0; i--) {
                try {
                    owned.get(i).close();
                } catch (Exception e) {
                    LOG.warn("could not free a benchmark buffer: {}", e.toString());
                }
            }
        }
    }

    /**
     * Bytes of one expert's weights, scales and biases in the canonical layout.
     *
     * @param spec the layer
     * @return bytes per expert
     */
    public static double expertBytes(MoeLayerSpec spec) {
        double h = spec.hiddenSize();
        double i = spec.intermediateSize();
        double w;
        if (spec.quant().weights().kind() == WeightFormat.Kind.MXFP4) {
            w = 2 * i * h / 2 + 2 * i * h / 32 + h * i / 2 + h * i / 32;
        } else {
            w = (2 * i * h + h * i) * spec.quant().weights().bitsPerValue() / 8.0;
        }
        double bias = spec.hasBias() ? (2 * i + h) * DType.BF16.byteSize() : 0;
        return w + bias;
    }

    /**
     * @param spec the layer
     * @param tokens T
     * @return {@code 2 T topK (2 I H + I H)}
     */
    public static double flops(MoeLayerSpec spec, int tokens) {
        double h = spec.hiddenSize();
        double i = spec.intermediateSize();
        return 2.0 * tokens * spec.topK() * (2 * i * h + i * h);
    }

    private static int touchedExperts(Routing.TopK r, int experts) {
        HostTensor ids = (HostTensor) r.ids();
        BitSet seen = new BitSet(experts);
        for (long j = 0; j < ids.numel(); j++) {
            seen.set(ids.data().getAtIndex(ValueLayout.JAVA_INT_UNALIGNED, j));
        }
        return seen.cardinality();
    }

    private static double percentile(double[] sorted, double p) {
        if (sorted.length == 1) {
            return sorted[0];
        }
        double pos = p * (sorted.length - 1);
        int lo = (int) Math.floor(pos);
        int hi = Math.min(sorted.length - 1, lo + 1);
        return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
    }
}
