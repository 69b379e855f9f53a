package io.moeoracle.driver.cuda.bench;

import io.moeoracle.driver.cuda.CudaCeilings;
import io.moeoracle.driver.cuda.CudaContext;
import io.moeoracle.driver.cuda.CudaDriver;
import io.moeoracle.driver.cuda.CudaEvent;
import io.moeoracle.driver.cuda.CudaFunction;
import io.moeoracle.driver.cuda.CudaGraph;
import io.moeoracle.driver.cuda.CudaModule;
import io.moeoracle.driver.cuda.CudaStream;
import io.moeoracle.driver.cuda.KernelArgs;
import io.moeoracle.driver.cuda.KernelLauncher;
import io.moeoracle.driver.cuda.LaunchConfig;
import io.moeoracle.driver.cuda.ffi.CuModule;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The driver benchmark: the device's ceilings (copy bandwidth, cuBLAS BF16 matmul) and the launch
 * overhead of an empty kernel through FFM, next to the same loop in C when its binary is given.
 * Prints a table and writes JSON. Not a test: run it with {@code gpu/run-bench} or
 * {@code java -cp ... io.moeoracle.driver.cuda.bench.DriverBench [--out DIR] [--c-binary PATH]
 * [--launches N] [--syncs N] [--no-ceilings]}.
 */
public final class DriverBench {
    private static final int BATCH = 1000;

    private DriverBench() {
    }

    /** One row of the launch table. */
    record Row(String impl, String what, long count, double medianUs, double p10Us, double p90Us, double meanUs) {
    }

    public static void main(String[] argv) throws Exception {
        Map<String, String> opt = parse(argv);
        Path out = Path.of(opt.getOrDefault("out", "bench/results"));
        long launches = Long.parseLong(opt.getOrDefault("launches", "100000"));
        long syncs = Long.parseLong(opt.getOrDefault("syncs", "20000"));

        CudaDriver driver = CudaDriver.load();
        try (CudaContext ctx = driver.device(0).retainPrimaryContext()) {
            ctx.setCurrent();
            String card = ctx.device().name();
            String arch = ctx.device().arch();
            System.out.printf(Locale.ROOT, "device: %s (%s), driver CUDA %s, %s%n", card, arch, driver.versionString(),
                    Runtime.version());

            CudaCeilings.Measurement ceilings = opt.containsKey("no-ceilings") ? null : CudaCeilings.measureDetailed(ctx);

            byte[] fatbin;
            try (InputStream in = DriverBench.class.getResourceAsStream("/kernels/test_kernels.fatbin")) {
                fatbin = in.readAllBytes();
            }
            List<Row> rows = new ArrayList<>();
            try (CudaModule module = ctx.loadModule(fatbin); CudaStream stream = ctx.createStream();
                 Arena arena = Arena.ofConfined()) {
                CudaFunction empty = module.function("empty_kernel");
                KernelLauncher launcher = new KernelLauncher(empty, LaunchConfig.of(1, 32), KernelArgs.builder().build(arena));
                // each variant twice, interleaved, so the spread between repeats shows next to the differences
                for (int round = 1; round <= 2; round++) {
                    rows.add(asyncLaunches("java-ffm (KernelLauncher) #" + round, launcher, stream, launches));
                    rows.add(rawAsyncLaunches("java-ffm (raw downcall) #" + round, empty, stream, arena, launches));
                }
                rows.add(syncRoundTrips("java-ffm (KernelLauncher)", launcher, stream, syncs));
                rows.add(graphReplay(launcher, stream, ctx));
            }
            Path cBinary = opt.containsKey("c-binary") ? Path.of(opt.get("c-binary")) : null;
            if (cBinary != null) {
                for (int round = 1; round <= 2; round++) {
                    rows.addAll(runC("c #" + round, cBinary, fatbin, launches, syncs));
                }
            }
            print(card, arch, ceilings, rows);
            write(out, card, arch, driver.versionString(), ceilings, rows);
        }
    }

    private static Row asyncLaunches(String impl, KernelLauncher launcher, CudaStream stream, long n) {
        for (int i = 0; i < 20_000; i++) { // warm-up: JIT-compiles the path and fills the driver's queues
            launcher.launch(stream);
            if (i % BATCH == BATCH - 1) {
                stream.synchronize();
            }
        }
        stream.synchronize();
        double[] t = new double[(int) n];
        double total = 0;
        for (int b = 0; b < n; b += BATCH) {
            long b0 = System.nanoTime();
            for (int i = b; i < Math.min(n, b + BATCH); i++) {
                long t0 = System.nanoTime();
                launcher.launch(stream);
                t[i] = (System.nanoTime() - t0) / 1e3;
            }
            total += (System.nanoTime() - b0) / 1e3;
            stream.synchronize();
        }
        return row(impl, "async cuLaunchKernel", t, total / n);
    }

    // the bare downcall, without the facade's record accessors: shows what the facade costs
    private static Row rawAsyncLaunches(String impl, CudaFunction f, CudaStream stream, Arena arena, long n) {
        MemorySegment fn = f.handle();
        MemorySegment s = stream.handle();
        MemorySegment params = arena.allocate(8);
        for (int i = 0; i < 20_000; i++) {
            check(CuModule.cuLaunchKernel(fn, 1, 1, 1, 32, 1, 1, 0, s, params, MemorySegment.NULL));
            if (i % BATCH == BATCH - 1) {
                stream.synchronize();
            }
        }
        stream.synchronize();
        double[] t = new double[(int) n];
        double total = 0;
        for (int b = 0; b < n; b += BATCH) {
            long b0 = System.nanoTime();
            for (int i = b; i < Math.min(n, b + BATCH); i++) {
                long t0 = System.nanoTime();
                int rc = CuModule.cuLaunchKernel(fn, 1, 1, 1, 32, 1, 1, 0, s, params, MemorySegment.NULL);
                t[i] = (System.nanoTime() - t0) / 1e3;
                check(rc);
            }
            total += (System.nanoTime() - b0) / 1e3;
            stream.synchronize();
        }
        return row(impl, "async cuLaunchKernel", t, total / n);
    }

    private static void check(int rc) {
        if (rc != 0) {
            throw new IllegalStateException("cuLaunchKernel returned " + rc);
        }
    }

    private static Row syncRoundTrips(String impl, KernelLauncher launcher, CudaStream stream, long n) {
        for (int i = 0; i < 2000; i++) {
            launcher.launch(stream);
            stream.synchronize();
        }
        double[] t = new double[(int) n];
        long all = System.nanoTime();
        for (int i = 0; i < n; i++) {
            long t0 = System.nanoTime();
            launcher.launch(stream);
            stream.synchronize();
            t[i] = (System.nanoTime() - t0) / 1e3;
        }
        return row(impl, "launch + cuStreamSynchronize", t, (System.nanoTime() - all) / 1e3 / n);
    }

    // 1000 empty kernels captured once, replayed: device time per kernel from events
    private static Row graphReplay(KernelLauncher launcher, CudaStream stream, CudaContext ctx) {
        int kernels = 1000;
        int reps = 50;
        double[] t = new double[reps];
        try (CudaGraph graph = CudaGraph.capture(stream, s -> {
            for (int i = 0; i < kernels; i++) {
                launcher.launch(s);
            }
        }); CudaEvent start = ctx.createEvent(); CudaEvent end = ctx.createEvent()) {
            for (int r = -5; r < reps; r++) {
                start.record(stream);
                graph.launch(stream);
                end.record(stream);
                float ms = end.millisSince(start);
                if (r >= 0) {
                    t[r] = ms * 1e3 / kernels;
                }
            }
        }
        return row("java-ffm (CudaGraph)", "per kernel in a 1000-kernel graph replay (events)", t,
                Arrays.stream(t).average().orElse(Double.NaN));
    }

    private static Row row(String impl, String what, double[] t, double mean) {
        double[] s = t.clone();
        Arrays.sort(s);
        return new Row(impl, what, s.length, s[s.length / 2], s[(int) (0.1 * (s.length - 1))],
                s[(int) (0.9 * (s.length - 1))], mean);
    }

    private static List<Row> runC(String impl, Path binary, byte[] fatbin, long launches, long syncs) throws IOException, InterruptedException {
        Path image = Files.createTempFile("test_kernels", ".fatbin");
        Files.write(image, fatbin);
        Process p = new ProcessBuilder(binary.toString(), image.toString(), Long.toString(launches), Long.toString(syncs))
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String json = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        if (!p.waitFor(5, TimeUnit.MINUTES) || p.exitValue() != 0) {
            System.out.println("C loop failed (exit " + p.exitValue() + "): " + json);
            return List.of();
        }
        Files.delete(image);
        return List.of(
                new Row(impl, "async cuLaunchKernel", launches, num(json, "async_median_us"), num(json, "async_p10_us"),
                        num(json, "async_p90_us"), num(json, "async_mean_us")),
                new Row(impl, "launch + cuStreamSynchronize", syncs, num(json, "sync_median_us"), num(json, "sync_p10_us"),
                        num(json, "sync_p90_us"), Double.NaN));
    }

    private static double num(String json, String key) {
        Matcher m = Pattern.compile("\"" + key + "\":([-0-9.eE]+)").matcher(json);
        return m.find() ? Double.parseDouble(m.group(1)) : Double.NaN;
    }

    private static void print(String card, String arch, CudaCeilings.Measurement c, List<Row> rows) {
        System.out.println();
        if (c != null) {
            System.out.printf(Locale.ROOT, "ceilings on %s (%s)%n", card, arch);
            System.out.printf(Locale.ROOT, "  copy bandwidth (DtoD %d MiB, read+write): best %.0f GB/s, median %.0f GB/s%n",
                    c.copyBytes() >> 20, c.bandwidthBest() / 1e9, c.bandwidthMedian() / 1e9);
            System.out.printf(Locale.ROOT, "  BF16 matmul %d^3 (%s): best %.0f TFLOP/s, median %.0f TFLOP/s%n",
                    c.gemmSize(), c.cublas(), c.flopsBest() / 1e12, c.flopsMedian() / 1e12);
        }
        System.out.printf(Locale.ROOT, "%nlaunch overhead, empty kernel <<<1,32>>>, on %s%n", card);
        System.out.printf(Locale.ROOT, "%-30s %-50s %8s %10s %8s %8s %8s%n", "impl", "what", "n", "median µs", "p10",
                "p90", "mean");
        for (Row r : rows) {
            System.out.printf(Locale.ROOT, "%-30s %-50s %8d %10.3f %8.3f %8.3f %8.3f%n", r.impl(), r.what(), r.count(),
                    r.medianUs(), r.p10Us(), r.p90Us(), r.meanUs());
        }
    }

    private static void write(Path dir, String card, String arch, String driver, CudaCeilings.Measurement c,
                              List<Row> rows) throws IOException {
        Files.createDirectories(dir);
        String stamp = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").withZone(ZoneOffset.UTC).format(Instant.now());
        StringBuilder j = new StringBuilder();
        j.append("{\n  \"benchmark\": \"driver-cuda\",\n");
        j.append("  \"timestamp\": \"").append(Instant.now()).append("\",\n");
        j.append("  \"device\": \"").append(card).append("\",\n  \"arch\": \"").append(arch).append("\",\n");
        j.append("  \"driverCuda\": \"").append(driver).append("\",\n  \"java\": \"").append(Runtime.version()).append("\",\n");
        if (c != null) {
            j.append(String.format(Locale.ROOT, "  \"ceilings\": {\"copyBytes\": %d, \"bandwidthBestBytesPerSecond\": %.6e,"
                            + " \"bandwidthMedianBytesPerSecond\": %.6e, \"gemmSize\": %d, \"bf16FlopsBest\": %.6e,"
                            + " \"bf16FlopsMedian\": %.6e, \"cublas\": \"%s\"},%n",
                    c.copyBytes(), c.bandwidthBest(), c.bandwidthMedian(), c.gemmSize(), c.flopsBest(), c.flopsMedian(),
                    c.cublas().replace("\"", "'")));
        }
        j.append("  \"launchOverhead\": [\n");
        for (int i = 0; i < rows.size(); i++) {
            Row r = rows.get(i);
            j.append(String.format(Locale.ROOT, "    {\"impl\": \"%s\", \"what\": \"%s\", \"n\": %d, \"medianUs\": %.4f,"
                            + " \"p10Us\": %.4f, \"p90Us\": %.4f, \"meanUs\": %s, \"rooflineFloor\": null,"
                            + " \"note\": \"%s\"}%s%n",
                    r.impl(), r.what(), r.count(), r.medianUs(), r.p10Us(), r.p90Us(),
                    Double.isNaN(r.meanUs()) ? "null" : String.format(Locale.ROOT, "%.4f", r.meanUs()),
                    r.what().contains("graph") ? "device time per empty kernel from CUDA events; no memory or flop floor applies"
                            : "host wall time per call (System.nanoTime / clock_gettime); no memory or flop floor applies",
                    i + 1 < rows.size() ? "," : ""));
        }
        j.append("  ]\n}\n");
        Path file = dir.resolve("driver-cuda-" + card.replaceAll("[^A-Za-z0-9]+", "_") + "-" + stamp + ".json");
        Files.writeString(file, j);
        System.out.println("\nwrote " + file);
    }

    private static Map<String, String> parse(String[] argv) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < argv.length; i++) {
            String a = argv[i];
            if (!a.startsWith("--")) {
                throw new IllegalArgumentException("unexpected argument " + a);
            }
            String key = a.substring(2);
            if (key.equals("no-ceilings")) {
                m.put(key, "true");
            } else {
                m.put(key, argv[++i]);
            }
        }
        return m;
    }
}
