package io.moeoracle.ep;

import io.moeoracle.api.MoeKernel;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.tensor.DType;
import io.moeoracle.api.tensor.HostTensor;
import io.moeoracle.api.tensor.MoeWeights;
import io.moeoracle.api.tensor.Routing;
import io.moeoracle.core.select.MoeKernelSelector;
import io.moeoracle.core.select.Selection;
import io.moeoracle.driver.cuda.CudaContext;
import io.moeoracle.driver.cuda.CudaDriver;
import io.moeoracle.driver.cuda.CudaEvent;
import io.moeoracle.driver.cuda.CudaStream;
import io.moeoracle.driver.cuda.CudaTensor;
import io.moeoracle.driver.cuda.DeviceBuffer;
import io.moeoracle.driver.nccl.Nccl;
import io.moeoracle.driver.nccl.NcclCommunicator;
import io.moeoracle.driver.nccl.NcclDataType;
import io.moeoracle.driver.nccl.NcclRedOp;
import io.moeoracle.reference.RandomMoe;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The expert-parallel benchmark (not a test): the DeepSeek-V3-class layer (or another, {@code --model})
 * at T = 256, 1024, 4096, 16384 tokens per rank on 1, 2 and 4 GPUs of one host, both strategies. Per
 * row: wall time per layer (forward + synchronize, median), the CUDA-event split of the slowest rank
 * (dispatch / experts / combine), the bytes each rank handed to NCCL against the traffic model, tokens
 * per second per GPU and the scaling efficiency (against the selector's kernel on one GPU without
 * expert parallelism, at the same tokens per GPU). The machine's NCCL all-reduce bus bandwidth is
 * measured in the same run, as the ceiling of the communication share. Prints a table, writes JSON.
 *
 * <pre>
 * NCCL_NVLS_ENABLE=0 bash dist/run-bench io.moeoracle.ep.EpBench --out $OUT [--gpus 1,2,4]
 *     [--tokens 256,1024,4096,16384] [--model deepseek-v3] [--iterations 10] [--warmup 3]
 * </pre>
 */
public final class EpBench {
    private EpBench() {
    }

    /** One timed configuration. */
    record Run(int gpus, int tokens, String strategy, String kernels, double wallMs, double layerMs, double dispatchMs,
               double expertsMs, double combineMs, long bytesSentPerRank, double bytesPerToken, double modelBytesPerToken,
               double tokensPerSecondPerGpu, double efficiency, String error) {
        static Run failed(int gpus, int tokens, String strategy, Throwable e) {
            return new Run(gpus, tokens, strategy, "-", Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, 0,
                    Double.NaN, Double.NaN, Double.NaN, Double.NaN, String.valueOf(e).replace('"', '\''));
        }
    }

    public static void main(String[] argv) throws IOException {
        Map<String, String> opt = parse(argv);
        Path out = Path.of(opt.getOrDefault("out", "bench/results"));
        String model = opt.getOrDefault("model", "deepseek-v3");
        int[] tokens = ints(opt.getOrDefault("tokens", "256,1024,4096,16384"));
        int iterations = Integer.parseInt(opt.getOrDefault("iterations", "10"));
        int warmup = Integer.parseInt(opt.getOrDefault("warmup", "3"));
        int available = EpGpuSupport.gpus();
        int[] gpus = Arrays.stream(ints(opt.getOrDefault("gpus", "1,2,4"))).filter(g -> g <= available).toArray();
        if (gpus.length == 0) {
            throw new IllegalStateException("no GPU count of --gpus fits this machine's " + available + " GPUs");
        }
        ExpertParallelMoe.environmentWarnings().forEach(w -> System.out.println("WARNING: " + w));
        MoeLayerSpec spec = EpTestLayers.spec(model);
        MoeWeights weights = EpTestLayers.weights(model);
        int maxT = Arrays.stream(tokens).max().orElseThrow();
        DeviceInfo gpu0 = CudaDriver.load().device(0).toDeviceInfo();
        System.out.printf("layer %s (%s) on %s, NCCL %s%n", model, spec.describe(), gpu0.name(),
                Nccl.isAvailable() ? Nccl.load().versionString() : "missing");

        Map<Integer, Double> baseline = new LinkedHashMap<>();
        try {
            baseline = baseline(spec, weights, tokens, gpu0, warmup, iterations);
        } catch (RuntimeException e) { // the efficiency column is then empty; the rest still runs
            e.printStackTrace(System.out);
        }
        Map<Integer, Double> busBandwidth = new LinkedHashMap<>();
        for (int g : gpus) {
            if (g > 1) {
                busBandwidth.put(g, allReduceBusBandwidthGBs(g));
                System.out.printf("NCCL all-reduce bus bandwidth on %d GPUs (256 MiB F32): %.1f GB/s%n", g, busBandwidth.get(g));
            }
        }
        List<Run> runs = new ArrayList<>();
        for (int g : gpus) {
            try {
                runs.addAll(expertParallel(spec, weights, g, tokens, maxT, baseline, warmup, iterations));
            } catch (RuntimeException e) { // one GPU count failing must not lose the others' rows
                e.printStackTrace(System.out);
                runs.add(Run.failed(g, 0, "build", e));
            }
        }
        String table = table(model, gpu0, baseline, busBandwidth, runs);
        System.out.print(table);
        Files.createDirectories(out);
        String gpuName = gpu0.name().replaceAll("^NVIDIA ", "").replaceAll("[^A-Za-z0-9]+", "-");
        Path file = out.resolve("ep-" + model + "-" + Arrays.stream(gpus).mapToObj(Integer::toString)
                .reduce((a, b) -> a + "-" + b).orElse("") + "gpu-" + gpuName + ".json");
        Files.writeString(file, json(model, spec, gpu0, baseline, busBandwidth, runs, iterations));
        Files.writeString(out.resolve(file.getFileName().toString().replace(".json", ".txt")), table);
        System.out.println("wrote " + file);
    }

    /**
     * The selector's standard-format kernel on GPU 0 with every expert, for a layer sized to each T
     * (maxTokensPerCall = T, as the expert-parallel layers below): median ms per forward by T.
     */
    private static Map<Integer, Double> baseline(MoeLayerSpec spec, MoeWeights w, int[] tokens, DeviceInfo gpu0,
                                                 int warmup, int iterations) {
        Map<Integer, Double> ms = new LinkedHashMap<>();
        for (int t : tokens) {
            MoeLayerSpec whole = spec.toBuilder().expertParallel(1, 0).maxTokensPerCall(t).build();
            Selection sel = MoeKernelSelector.create().select(whole, gpu0);
            try (MoeKernel k = sel.createKernel(); Arena arena = Arena.ofShared()) {
                k.prepare(w);
                HostTensor h = RandomMoe.hidden(t, spec.hiddenSize(), DType.BF16, t, arena);
                HostTensor logits = RandomMoe.routerLogits(t, spec.experts(), t + 1, arena);
                try (var dh = k.allocate(DType.BF16, t, spec.hiddenSize());
                     var dl = k.allocate(DType.F32, t, spec.experts());
                     var dout = k.allocate(DType.BF16, t, spec.hiddenSize())) {
                    dh.copyFrom(h);
                    dl.copyFrom(logits);
                    double[] times = new double[iterations];
                    for (int i = 0; i < warmup + iterations; i++) {
                        long t0 = System.nanoTime();
                        k.forward(dh, Routing.logits(dl), dout);
                        k.synchronize();
                        if (i >= warmup) {
                            times[i - warmup] = (System.nanoTime() - t0) / 1e6;
                        }
                    }
                    ms.put(t, median(times));
                    System.out.printf("1 GPU, no expert parallelism (%s): T=%d %.3f ms%n", sel.winnerId(), t, ms.get(t));
                }
            }
        }
        return ms;
    }

    /** Busbw of a 256 MiB F32 all-reduce over the first {@code g} GPUs (nccl-tests' definition). */
    private static double allReduceBusBandwidthGBs(int g) {
        long count = 64L << 20;
        List<CudaContext> ctx = new ArrayList<>();
        List<CudaStream> streams = new ArrayList<>();
        List<DeviceBuffer> bufs = new ArrayList<>();
        List<CudaEvent[]> events = new ArrayList<>();
        for (int i = 0; i < g; i++) {
            CudaContext c = CudaDriver.load().device(i).retainPrimaryContext();
            c.setCurrent();
            ctx.add(c);
            streams.add(c.createStream());
            DeviceBuffer b = c.allocate(4 * count);
            b.fill((byte) 0);
            bufs.add(b);
            events.add(new CudaEvent[] {c.createEvent(), c.createEvent()});
        }
        List<NcclCommunicator> comms = NcclCommunicator.initAll(ctx, Duration.ofSeconds(120));
        Nccl nccl = Nccl.load();
        int iters = 20;
        try {
            for (int round = 0; round < 2; round++) { // warm-up, then timed
                for (int i = 0; i < g; i++) {
                    ctx.get(i).setCurrent();
                    events.get(i)[0].record(streams.get(i));
                }
                for (int it = 0; it < (round == 0 ? 5 : iters); it++) {
                    boolean pending = nccl.group(() -> {
                        for (int i = 0; i < g; i++) {
                            comms.get(i).allReduce(bufs.get(i).address(), bufs.get(i).address(), count,
                                    NcclDataType.FLOAT32, NcclRedOp.SUM, streams.get(i));
                        }
                    });
                    if (pending) {
                        NcclCommunicator.awaitAll(comms, Duration.ofSeconds(120), "ncclGroupEnd", "all-reduce", "");
                    }
                }
                for (int i = 0; i < g; i++) {
                    ctx.get(i).setCurrent();
                    events.get(i)[1].record(streams.get(i));
                }
            }
            double ms = 0;
            for (int i = 0; i < g; i++) {
                ctx.get(i).setCurrent();
                ms = Math.max(ms, events.get(i)[1].millisSince(events.get(i)[0]));
            }
            double seconds = ms / 1e3 / iters;
            double algbw = 4.0 * count / seconds / 1e9;
            return algbw * 2.0 * (g - 1) / g;
        } finally {
            NcclCommunicator.closeAll(comms);
            for (int i = 0; i < g; i++) {
                ctx.get(i).setCurrent();
                streams.get(i).synchronize();
                bufs.get(i).close();
                events.get(i)[0].close();
                events.get(i)[1].close();
                streams.get(i).close();
                ctx.get(i).close();
            }
        }
    }

    private static List<Run> expertParallel(MoeLayerSpec spec, MoeWeights w, int g, int[] tokens, int maxT,
                                            Map<Integer, Double> baseline, int warmup, int iterations) {
        List<Run> runs = new ArrayList<>();
        // one layer per T, built for exactly T tokens per rank (maxTokensPerRank = T): the selector then judges
        // the kernels for the call sizes they serve, as a host sizing its layer for its batches would
        for (int t : tokens) {
            long t0 = System.nanoTime();
            try (ExpertParallelMoe ep = ExpertParallelMoe.builder(spec).devices(EpGpuSupport.devices(g))
                    .maxTokensPerRank(t).strategy(EpStrategy.AUTO).build()) {
                ep.prepare(ExpertShards.ofFullLayer(w));
                System.out.printf("%d GPU(s), T=%d: built and prepared in %.1f s%n", g, t, (System.nanoTime() - t0) / 1e9);
                try (EpGpuSupport.OnDevice dev = new EpGpuSupport.OnDevice(); Arena arena = Arena.ofShared()) {
                    List<EpRankInput> in = new ArrayList<>();
                    for (int r = 0; r < g; r++) {
                        CudaTensor h = dev.upload(r, RandomMoe.hidden(t, spec.hiddenSize(), DType.BF16, 100L * t + r, arena));
                        CudaTensor l = dev.upload(r, RandomMoe.routerLogits(t, spec.experts(), 100L * t + r + 50, arena));
                        CudaTensor o = dev.upload(r, HostTensor.allocate(arena, DType.BF16, t, spec.hiddenSize()));
                        in.add(new EpRankInput(h, Routing.logits(l), o));
                    }
                    for (EpStrategy s : new EpStrategy[] {EpStrategy.ALL_GATHER, EpStrategy.ALL_TO_ALL}) {
                        if (ep.isFailed()) {
                            runs.add(Run.failed(g, t, s.name(), new IllegalStateException("the layer failed earlier")));
                            continue;
                        }
                        try {
                            Run r = time(ep, in, spec, g, t, s, baseline.getOrDefault(t, Double.NaN), warmup, iterations);
                            runs.add(r);
                            System.out.printf(Locale.ROOT, "%d GPU(s) T=%d %s: %.3f ms (events %.3f: %.3f / %.3f / %.3f),"
                                            + " %.0f B/token (model %.0f), efficiency %.0f%%%n", g, t, s, r.wallMs(),
                                    r.layerMs(), r.dispatchMs(), r.expertsMs(), r.combineMs(), r.bytesPerToken(),
                                    r.modelBytesPerToken(), 100 * r.efficiency());
                        } catch (RuntimeException e) {
                            e.printStackTrace(System.out);
                            runs.add(Run.failed(g, t, s.name(), e));
                        }
                    }
                }
            }
        }
        return runs;
    }

    private static Run time(ExpertParallelMoe ep, List<EpRankInput> in, MoeLayerSpec spec, int g, int t, EpStrategy s,
                            double baselineMs, int warmup, int iterations) {
        double[] wall = new double[iterations];
        List<EpReport> reports = new ArrayList<>();
        for (int i = 0; i < warmup + iterations; i++) {
            long s0 = System.nanoTime();
            ep.forward(in, s);
            EpReport rep = ep.synchronize();
            if (i >= warmup) {
                wall[i - warmup] = (System.nanoTime() - s0) / 1e6;
                reports.add(rep);
            }
        }
        return summarize(spec, g, t, s, wall, reports, baselineMs);
    }

    private static Run summarize(MoeLayerSpec spec, int g, int t, EpStrategy s, double[] wall, List<EpReport> reports,
                                 double baselineMs) {
        double wallMs = median(wall);
        EpReport mid = reports.stream().sorted((a, b) -> Double.compare(a.layerMs(), b.layerMs())).toList()
                .get(reports.size() / 2);
        EpReport.Rank slow = mid.ranks().stream().max((a, b) -> Double.compare(a.totalMs(), b.totalMs())).orElseThrow();
        long sentPerRank = mid.totalBytesSent() / Math.max(1, mid.ranks().size());
        double perToken = mid.totalTokens() == 0 ? 0 : (double) mid.totalBytesSent() / mid.totalTokens();
        double model = g == 1 ? 0 : EpTrafficModel.bytesPerToken(s, spec.experts(), spec.topK(), spec.hiddenSize(), g)
                + (double) EpTrafficModel.fixedBytesPerForward(s, spec.experts(), g) / t;
        double tpsPerGpu = t / (wallMs / 1e3);
        double efficiency = baselineMs / wallMs; // same tokens per GPU: per-GPU throughput relative to one GPU
        return new Run(g, t, s.name(), slow.kernel(), wallMs, mid.layerMs(), slow.dispatchMs(), slow.expertsMs(),
                slow.combineMs(), sentPerRank, perToken, model, tpsPerGpu, efficiency, "");
    }

    private static String table(String model, DeviceInfo gpu, Map<Integer, Double> baseline, Map<Integer, Double> busbw,
                                List<Run> runs) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%nexpert parallelism, %s on %s%n", model, gpu.name()));
        busbw.forEach((g, b) -> sb.append(String.format(Locale.ROOT, "NCCL all-reduce bus bandwidth, %d GPUs: %.1f GB/s%n", g, b)));
        sb.append(String.format(Locale.ROOT, "%4s %6s %-11s %-16s %9s %9s %9s %9s %9s %10s %10s %7s %11s %6s%n", "GPUs", "T/GPU",
                "strategy", "kernel", "wall ms", "1-GPU ms", "dispatch", "experts", "combine", "B/token", "model", "ratio",
                "tok/s/GPU", "eff"));
        for (Run r : runs) {
            if (!r.error().isEmpty()) {
                sb.append(String.format(Locale.ROOT, "%4d %6d %-11s FAILED: %s%n", r.gpus(), r.tokens(), r.strategy(), r.error()));
                continue;
            }
            sb.append(String.format(Locale.ROOT, "%4d %6d %-11s %-16s %9.3f %9.3f %9.3f %9.3f %9.3f %10.0f %10.0f %7s %11.0f %5.0f%%%n",
                    r.gpus(), r.tokens(), r.strategy(), r.kernels(), r.wallMs(), baseline.getOrDefault(r.tokens(), Double.NaN), r.dispatchMs(),
                    r.expertsMs(), r.combineMs(), r.bytesPerToken(), r.modelBytesPerToken(),
                    r.modelBytesPerToken() == 0 ? "-" : String.format(Locale.ROOT, "%.3f", r.bytesPerToken() / r.modelBytesPerToken()),
                    r.tokensPerSecondPerGpu(), 100 * r.efficiency()));
        }
        return sb.toString();
    }

    private static String json(String model, MoeLayerSpec spec, DeviceInfo gpu, Map<Integer, Double> baseline,
                               Map<Integer, Double> busbw, List<Run> runs, int iterations) {
        StringBuilder sb = new StringBuilder("{\n");
        sb.append("  \"benchmark\": \"expert-parallel\",\n");
        sb.append("  \"time\": \"").append(Instant.now()).append("\",\n");
        sb.append("  \"model\": \"").append(model).append("\",\n");
        sb.append("  \"layer\": \"").append(spec.describe()).append("\",\n");
        sb.append("  \"gpu\": \"").append(gpu.name()).append("\",\n");
        sb.append("  \"nccl\": \"").append(Nccl.isAvailable() ? Nccl.load().versionString() : "").append("\",\n");
        sb.append("  \"iterations\": ").append(iterations).append(",\n");
        sb.append("  \"allReduceBusBandwidthGBs\": {");
        sb.append(String.join(", ", busbw.entrySet().stream().map(e -> "\"" + e.getKey() + "\": "
                + String.format(Locale.ROOT, "%.2f", e.getValue())).toList()));
        sb.append("},\n  \"oneGpuMs\": {");
        sb.append(String.join(", ", baseline.entrySet().stream().map(e -> "\"" + e.getKey() + "\": "
                + String.format(Locale.ROOT, "%.4f", num(e.getValue()))).toList()));
        sb.append("},\n  \"runs\": [\n");
        for (int i = 0; i < runs.size(); i++) {
            Run r = runs.get(i);
            sb.append(String.format(Locale.ROOT, "    {\"gpus\": %d, \"tokensPerGpu\": %d, \"strategy\": \"%s\", \"kernel\": \"%s\","
                            + " \"wallMs\": %.4f, \"layerMs\": %.4f, \"dispatchMs\": %.4f, \"expertsMs\": %.4f, \"combineMs\": %.4f,"
                            + " \"ncclBytesSentPerRank\": %d, \"ncclBytesPerToken\": %.1f, \"modelBytesPerToken\": %.1f,"
                            + " \"tokensPerSecondPerGpu\": %.1f, \"scalingEfficiency\": %.4f, \"error\": \"%s\"}%s%n",
                    r.gpus(), r.tokens(), r.strategy(), r.kernels(), num(r.wallMs()), num(r.layerMs()), num(r.dispatchMs()),
                    num(r.expertsMs()), num(r.combineMs()), r.bytesSentPerRank(), num(r.bytesPerToken()),
                    num(r.modelBytesPerToken()), num(r.tokensPerSecondPerGpu()), num(r.efficiency()), r.error(),
                    i + 1 < runs.size() ? "," : ""));
        }
        return sb.append("  ]\n}\n").toString();
    }

    /** JSON has no NaN: a failed row's numbers are -1. */
    private static double num(double v) {
        return Double.isFinite(v) ? v : -1;
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length == 0 ? 0 : s[s.length / 2];
    }

    private static int[] ints(String csv) {
        return Arrays.stream(csv.split(",")).map(String::strip).filter(x -> !x.isEmpty()).mapToInt(Integer::parseInt)
                .toArray();
    }

    private static Map<String, String> parse(String[] argv) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < argv.length; i++) {
            if (!argv[i].startsWith("--")) {
                throw new IllegalArgumentException("unexpected argument " + argv[i]
                        + "; use --out DIR --gpus 1,2,4 --tokens 256,1024 --model deepseek-v3 --iterations N --warmup N");
            }
            String key = argv[i].substring(2);
            if (i + 1 >= argv.length) {
                throw new IllegalArgumentException("--" + key + " needs a value");
            }
            m.put(key, argv[++i]);
        }
        return m;
    }
}
