package io.moeoracle.cli;

import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.tensor.DType;
import io.moeoracle.api.tensor.DeviceTensor;
import io.moeoracle.api.tensor.HostTensor;
import io.moeoracle.api.tensor.MoeWeights;
import io.moeoracle.api.tensor.Routing;
import io.moeoracle.core.weights.GptOssLayerLoader;
import io.moeoracle.core.weights.SafetensorsCheckpoint;
import io.moeoracle.ep.EpRankInfo;
import io.moeoracle.ep.EpRankInput;
import io.moeoracle.ep.EpReport;
import io.moeoracle.ep.EpStrategy;
import io.moeoracle.ep.EpTrafficModel;
import io.moeoracle.ep.ExpertParallelMoe;
import io.moeoracle.ep.ExpertShards;
import io.moeoracle.reference.RandomMoe;
import io.moeoracle.reference.ReferenceMoe;
import io.moeoracle.reference.RelativeError;
import io.moeoracle.reference.RouterLogits;
import java.io.IOException;
import java.io.PrintWriter;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * {@code run} and {@code bench} with {@code --devices}: the layer sharded over several GPUs by expert
 * parallelism. Prints each rank's kernels, the bytes each rank handed to NCCL (against the traffic
 * model) and the time split (dispatch / experts / combine) of the slowest rank.
 */
final class ExpertParallelRun {
    private final MoeOracleCli root;
    private final PrintWriter out;
    private final List<String> devices;
    private final EpStrategy strategy;

    ExpertParallelRun(MoeOracleCli root, PrintWriter out, List<String> devices, EpStrategy strategy) {
        this.root = root;
        this.out = out;
        this.devices = List.copyOf(devices);
        this.strategy = strategy;
    }

    private ExpertParallelMoe build(MoeLayerSpec spec, int tokensPerRank, EpStrategy s) {
        ExpertParallelMoe.environmentWarnings().forEach(w -> out.println("warning: " + w));
        ExpertParallelMoe ep = ExpertParallelMoe.builder(spec).devices(devices.toArray(String[]::new))
                .maxTokensPerRank(Math.max(1, tokensPerRank)).strategy(s).selector(root.selector()).build();
        out.println("expert parallelism: " + spec.describe() + " over " + devices.size() + " GPUs, strategy " + s);
        out.printf(Locale.ROOT, "%-5s %-8s %-26s %-20s %s%n", "rank", "device", "experts", "all-gather kernel",
                "all-to-all kernel");
        for (EpRankInfo r : ep.ranks()) {
            int el = spec.experts() / devices.size();
            out.printf(Locale.ROOT, "%-5d %-8s %-26s %-20s %s%n", r.rank(), r.device().id(),
                    "[" + r.rank() * el + ", " + (r.rank() + 1) * el + ")", r.standard().map(x -> x.winnerId()).orElse("-"),
                    r.batched().map(x -> x.winnerId()).orElse("-"));
        }
        out.flush();
        return ep;
    }

    /** {@code run --devices}: one layer, random tokens per GPU, timed, checked against the reference. */
    int run(MoeLayerSpec spec, Optional<Path> weights, int layerIndex, boolean checkpointRouter, int tokens,
            int iterations, long seed, boolean check) {
        int ranks = devices.size();
        try (Arena arena = Arena.ofShared()) {
            MoeWeights full;
            ExpertShards shards;
            Optional<GptOssLayerLoader.Layer> loaded = Optional.empty();
            try (Progress _ = new Progress(out, weights.map(w -> "mapping " + w).orElse("generating random weights"))) {
                if (weights.isPresent()) {
                    SafetensorsCheckpoint ckpt = SafetensorsCheckpoint.open(weights.get(), arena);
                    loaded = Optional.of(GptOssLayerLoader.load(ckpt, spec, layerIndex, arena));
                    full = loaded.get().weights();
                    shards = ExpertShards.ofCheckpoint(ckpt, spec, layerIndex); // each rank maps only its experts
                } else {
                    full = RandomMoe.weights(spec, seed, arena);
                    shards = ExpertShards.ofFullLayer(full);
                }
            }
            try (ExpertParallelMoe ep = build(spec, tokens, strategy)) {
                try (Progress _ = new Progress(out, "preparing every rank's experts")) {
                    ep.prepare(shards);
                }
                List<HostTensor> hidden = new ArrayList<>();
                List<EpRankInput> in = new ArrayList<>();
                for (int r = 0; r < ranks; r++) {
                    HostTensor h = RandomMoe.hidden(tokens, spec.hiddenSize(), DType.F32, seed + 1 + r, arena);
                    HostTensor logits = checkpointRouter
                            ? RouterLogits.compute(h, loaded.orElseThrow().router(), loaded.get().routerBias(), arena)
                            : RandomMoe.routerLogits(tokens, spec.experts(), seed + 100 + r, arena);
                    hidden.add(h);
                    in.add(new EpRankInput(h, Routing.logits(logits), HostTensor.allocate(arena, DType.F32, tokens,
                            spec.hiddenSize())));
                }
                ep.forward(in); // warm-up
                double[] ms = new double[iterations];
                for (int i = 0; i < iterations; i++) {
                    long t0 = System.nanoTime();
                    ep.forward(in);
                    ms[i] = (System.nanoTime() - t0) / 1e6;
                }
                EpReport report = ep.synchronize();
                Arrays.sort(ms);
                out.printf(Locale.ROOT, "tokens %d per GPU x %d GPUs, %d forwards: median %.3f ms, min %.3f ms (host tensors"
                        + " in and out, seed %d)%n", tokens, ranks, iterations, ms[iterations / 2], ms[0], seed);
                out.print(report.toTable());
                printTraffic(spec, report, tokens);
                if (check && tokens > 0) {
                    double err = check(spec, full, in, arena, seed);
                    out.printf(Locale.ROOT, "relative L2 error vs float64 reference (%d sampled rows per GPU): %.3e%n",
                            Math.min(4, tokens), err);
                    out.flush();
                    return err <= 1e-2 ? 0 : 1;
                }
            }
        }
        out.flush();
        return 0;
    }

    private void printTraffic(MoeLayerSpec spec, EpReport report, int tokens) {
        if (devices.size() < 2 || report.totalTokens() == 0) {
            return;
        }
        double perToken = (double) report.totalBytesSent() / report.totalTokens();
        double model = EpTrafficModel.bytesPerToken(report.strategy(), spec.experts(), spec.topK(), spec.hiddenSize(),
                devices.size()) + (double) EpTrafficModel.fixedBytesPerForward(report.strategy(), spec.experts(),
                devices.size()) / Math.max(1, tokens);
        out.printf(Locale.ROOT, "NCCL bytes per token and rank: %.0f (traffic model %.0f, ratio %.3f)%n", perToken, model,
                perToken / model);
    }

    /** A few rows of every rank against the float64 reference of the whole layer. */
    private static double check(MoeLayerSpec spec, MoeWeights full, List<EpRankInput> in, Arena arena, long seed) {
        int h = spec.hiddenSize();
        int perRank = (int) Math.min(4, in.getFirst().hidden().dim(0));
        int n = perRank * in.size();
        HostTensor hid = HostTensor.allocate(arena, DType.F32, n, h);
        HostTensor logits = HostTensor.allocate(arena, DType.F32, n, spec.experts());
        float[] actual = new float[n * h];
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(seed);
        int row = 0;
        for (EpRankInput r : in) {
            HostTensor x = (HostTensor) r.hidden();
            HostTensor l = (HostTensor) ((Routing.Logits) r.routing()).logits();
            HostTensor o = (HostTensor) r.out();
            long t = x.dim(0);
            for (int i = 0; i < perRank; i++) {
                long tok = i == 0 ? 0 : i == 1 ? t - 1 : rnd.nextLong(t);
                MemorySegment.copy(x.data(), tok * h * 4, hid.data(), (long) row * h * 4, (long) h * 4);
                MemorySegment.copy(l.data(), tok * spec.experts() * 4, logits.data(), (long) row * spec.experts() * 4,
                        4L * spec.experts());
                MemorySegment.copy(o.data(), java.lang.foreign.ValueLayout.JAVA_FLOAT, tok * h * 4, actual, row * h, h);
                row++;
            }
        }
        MoeLayerSpec whole = spec.toBuilder().maxTokensPerCall(Math.max(n, 1)).build();
        return RelativeError.l2(actual, ReferenceMoe.forward(whole, full, hid, Routing.logits(logits)));
    }

    /** {@code bench --devices}: per T (per GPU) and strategy, device tensors, median of the timed forwards. */
    int bench(MoeLayerSpec spec, List<Integer> tokens, int warmup, int iterations, long seed, Optional<Path> json)
            throws IOException {
        int ranks = devices.size();
        int maxT = tokens.stream().mapToInt(Integer::intValue).max().orElse(1);
        List<EpStrategy> strategies = strategy == EpStrategy.AUTO
                ? List.of(EpStrategy.ALL_GATHER, EpStrategy.ALL_TO_ALL) : List.of(strategy);
        StringBuilder rows = new StringBuilder();
        List<String> jsonRows = new ArrayList<>();
        try (Arena arena = Arena.ofShared()) {
            MoeWeights full;
            try (Progress _ = new Progress(out, "generating random weights")) {
                full = RandomMoe.weights(spec, seed, arena);
            }
            try (ExpertParallelMoe ep = build(spec, maxT, strategies.size() > 1 ? EpStrategy.AUTO : strategy)) {
                try (Progress _ = new Progress(out, "preparing every rank's experts")) {
                    ep.prepare(ExpertShards.ofFullLayer(full));
                }
                rows.append(String.format(Locale.ROOT, "%6s %-11s %10s %12s %10s %10s %10s %14s %10s %10s%n", "T/GPU",
                        "strategy", "median ms", "tok/s/GPU", "dispatch", "experts", "combine", "NCCL sent/rank", "B/token",
                        "model"));
                for (int t : tokens) {
                    List<DeviceTensor> owned = new ArrayList<>();
                    try {
                        List<EpRankInput> in = new ArrayList<>();
                        for (int r = 0; r < ranks; r++) {
                            DeviceTensor x = track(owned, ep.allocate(r, DType.BF16, t, spec.hiddenSize()));
                            DeviceTensor l = track(owned, ep.allocate(r, DType.F32, t, spec.experts()));
                            DeviceTensor o = track(owned, ep.allocate(r, DType.BF16, t, spec.hiddenSize()));
                            if (t > 0) {
                                x.copyFrom(RandomMoe.hidden(t, spec.hiddenSize(), DType.BF16, seed + 10L * t + r, arena));
                                l.copyFrom(RandomMoe.routerLogits(t, spec.experts(), seed + 10L * t + r + 5, arena));
                            }
                            in.add(new EpRankInput(x, Routing.logits(l), o));
                        }
                        for (EpStrategy s : strategies) {
                            double[] ms = new double[iterations];
                            EpReport last = null;
                            for (int i = 0; i < warmup + iterations; i++) {
                                long t0 = System.nanoTime();
                                ep.forward(in, s);
                                last = ep.synchronize();
                                if (i >= warmup) {
                                    ms[i - warmup] = (System.nanoTime() - t0) / 1e6;
                                }
                            }
                            Arrays.sort(ms);
                            double med = ms[iterations / 2];
                            EpReport.Rank slow = last.ranks().stream()
                                    .max((a, b) -> Double.compare(a.totalMs(), b.totalMs())).orElseThrow();
                            double perToken = last.totalTokens() == 0 ? 0 : (double) last.totalBytesSent() / last.totalTokens();
                            double model = ranks < 2 ? 0 : EpTrafficModel.bytesPerToken(s, spec.experts(), spec.topK(),
                                    spec.hiddenSize(), ranks);
                            String line = String.format(Locale.ROOT, "%6d %-11s %10.3f %12.0f %10.3f %10.3f %10.3f %14s %10.0f %10.0f%n",
                                    t, s, med, t / (med / 1e3), slow.dispatchMs(), slow.expertsMs(), slow.combineMs(),
                                    mib(last.totalBytesSent() / ranks), perToken, model);
                            out.print(line);
                            out.flush();
                            rows.append(line);
                            jsonRows.add(String.format(Locale.ROOT, "{\"tokensPerGpu\": %d, \"strategy\": \"%s\", \"medianMs\": %.4f,"
                                    + " \"dispatchMs\": %.4f, \"expertsMs\": %.4f, \"combineMs\": %.4f, \"ncclBytesSentPerRank\": %d,"
                                    + " \"ncclBytesPerToken\": %.1f, \"modelBytesPerToken\": %.1f}", t, s, med, slow.dispatchMs(),
                                    slow.expertsMs(), slow.combineMs(), last.totalBytesSent() / ranks, perToken, model));
                        }
                    } finally {
                        owned.forEach(DeviceTensor::close);
                    }
                }
            }
        }
        out.println();
        out.print(rows);
        if (json.isPresent()) {
            Path file = json.get();
            if (file.toAbsolutePath().getParent() != null) {
                Files.createDirectories(file.toAbsolutePath().getParent());
            }
            Files.writeString(file, "{\n  \"benchmark\": \"expert-parallel\",\n  \"time\": \"" + Instant.now()
                    + "\",\n  \"layer\": \"" + spec.describe() + "\",\n  \"devices\": \"" + String.join(",", devices)
                    + "\",\n  \"runs\": [\n    " + String.join(",\n    ", jsonRows) + "\n  ]\n}\n");
            out.println("wrote " + file);
        }
        out.flush();
        return 0;
    }

    private static DeviceTensor track(List<DeviceTensor> owned, DeviceTensor t) {
        owned.add(t);
        return t;
    }

    private static String mib(long bytes) {
        return String.format(Locale.ROOT, "%.2f MiB", bytes / (double) (1 << 20));
    }
}
