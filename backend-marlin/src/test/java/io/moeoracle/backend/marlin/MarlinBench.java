package io.moeoracle.backend.marlin;

import io.moeoracle.api.CapturedForward;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.spec.QuantScheme;
import io.moeoracle.api.tensor.DType;
import io.moeoracle.api.tensor.DeviceTensor;
import io.moeoracle.api.tensor.HostTensor;
import io.moeoracle.api.tensor.Routing;
import io.moeoracle.driver.cuda.CudaCeilings;
import io.moeoracle.driver.cuda.CudaDriver;
import io.moeoracle.driver.cuda.CudaEvent;
import io.moeoracle.reference.RandomMoe;
import io.moeoracle.reference.TopKRouting;

import java.io.IOException;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The gpt-oss-120b MoE layer (E=128, top-4, H=I=2880, MXFP4 x BF16) on the marlin kernels:
 * median microseconds per forward from CUDA events after warm-up, per token count, as plain stream
 * launches and as CUDA graph replays, each with its roofline floor (touched experts' weight bytes
 * plus activations over the copy bandwidth, flops over the cuBLAS BF16 rate, both measured in the
 * same run). Uniform random routing (N(0,1) logits); four input sets rotate so that no timing
 * reads the same routing twice in a row. Prints a table and writes JSON.
 *
 * <p>{@code java ... io.moeoracle.backend.marlin.MarlinBench [--out DIR] [--tokens 1,8,32] [--all-m]}
 */
public final class MarlinBench {
    private static final int SETS = 4;

    private MarlinBench() {
    }

    record Row(int tokens, String m, int experts, double streamUs, double graphUs, double backToBackUs, double bytes,
               double flops, double bytesUs, double flopsUs) {
        double floorUs() {
            return Math.max(bytesUs, flopsUs);
        }

        double bestUs() {
            return Math.min(streamUs, graphUs);
        }
    }

    public static void main(String[] args) throws IOException {
        Path outDir = Path.of("bench/results");
        int[] tokens = {1, 8, 32, 256, 1024, 4096};
        boolean allM = false;
        for (int a = 0; a < args.length; a++) {
            switch (args[a]) {
                case "--out" -> outDir = Path.of(args[++a]);
                case "--tokens" -> tokens = Arrays.stream(args[++a].split(",")).mapToInt(Integer::parseInt).toArray();
                case "--all-m" -> allM = true;
                default -> throw new IllegalArgumentException("unknown argument " + args[a]
                        + "; use --out DIR, --tokens 1,8,32, --all-m");
            }
        }
        PrintStream out = System.out;
        DeviceInfo device = CudaDriver.load().device(0).toDeviceInfo();
        int maxT = Arrays.stream(tokens).max().orElse(1);
        MoeLayerSpec spec = MoeLayerSpec.builder().experts(128).topK(4).hiddenSize(2880).intermediateSize(2880)
                .quant(QuantScheme.MXFP4_BF16).maxTokensPerCall(maxT).build();
        long seed = System.nanoTime();
        out.printf(Locale.ROOT, "marlin bench on %s, %s, seed %d%n", device.describe(), spec.describe(), seed);
        List<Row> rows = new ArrayList<>();
        CudaCeilings.Measurement ceil;
        try (Arena arena = Arena.ofShared();
             MarlinKernel k = (MarlinKernel) new MarlinProvider().create(spec, device)) {
            k.prepare(RandomMoe.weights(spec, seed, arena));
            ceil = CudaCeilings.measureDetailed(k.context());
            k.context().ensureCurrent();
            out.printf(Locale.ROOT, "copy bandwidth %.0f GB/s (best; median %.0f), BF16 matmul %.0f TFLOP/s (best; "
                            + "median %.0f, %s)%n", ceil.bandwidthBest() / 1e9, ceil.bandwidthMedian() / 1e9,
                    ceil.flopsBest() / 1e12, ceil.flopsMedian() / 1e12, ceil.cublas());
            long h = spec.hiddenSize();
            long i = spec.intermediateSize();
            double expertBytes = 2 * i * h / 2 + 2 * i * h / 32 + h * i / 2 + h * i / 32 + (2 * i + h) * 2;
            try (CudaEvent e0 = k.context().createEvent(); CudaEvent e1 = k.context().createEvent()) {
                for (int t : tokens) {
                    DeviceTensor[] hid = new DeviceTensor[SETS];
                    DeviceTensor[] logits = new DeviceTensor[SETS];
                    Set<Integer> touched = new HashSet<>();
                    for (int s = 0; s < SETS; s++) {
                        HostTensor hh = RandomMoe.hidden(t, 2880, DType.BF16, seed + 31L * t + s, arena);
                        HostTensor lh = RandomMoe.routerLogits(t, 128, seed + 37L * t + s, arena);
                        hid[s] = k.allocate(DType.BF16, t, 2880);
                        hid[s].copyFrom(hh);
                        logits[s] = k.allocate(DType.F32, t, 128);
                        logits[s].copyFrom(lh);
                        if (s == 0) {
                            HostTensor ids = (HostTensor) TopKRouting.fromLogits(lh, 4, arena).ids();
                            for (long j = 0; j < ids.numel(); j++) {
                                touched.add(ids.data().getAtIndex(java.lang.foreign.ValueLayout.JAVA_INT, j));
                            }
                        }
                    }
                    DeviceTensor o = k.allocate(DType.BF16, t, 2880);
                    double bytes = touched.size() * expertBytes + 2.0 * t * h * 2 + 4.0 * t * 128;
                    double flops = 2.0 * t * 4 * (2 * i * h + h * i);
                    // decode sizes: the M=16 MMA kernels (the path before the GEMV kernels) next to the auto choice
                    int[] ms = allM && t >= 256 ? MarlinPlan.M_TILES
                            : MarlinPlan.chooseM(4L * t, 128) == 8 ? new int[] {16, 0} : new int[] {0};
                    for (int m : ms) {
                        k.forceM(m);
                        String mName = m == 0 ? MarlinPlan.chooseM(4L * t, 128) + " (auto)" : String.valueOf(m);
                        double[] streamUs = new double[30];
                        for (int r = 0; r < 35; r++) {
                            e0.record(k.stream());
                            k.forward(hid[r % SETS], Routing.logits(logits[r % SETS]), o);
                            e1.record(k.stream());
                            e1.synchronize();
                            if (r >= 5) {
                                streamUs[r - 5] = CudaEvent.elapsedMillis(e0, e1) * 1000;
                            }
                        }
                        CapturedForward[] graphs = new CapturedForward[SETS];
                        for (int s = 0; s < SETS; s++) {
                            graphs[s] = k.capture(hid[s], Routing.logits(logits[s]), o).orElseThrow();
                        }
                        double[] graphUs = new double[60];
                        for (int r = 0; r < 70; r++) {
                            e0.record(k.stream());
                            graphs[r % SETS].replay();
                            e1.record(k.stream());
                            e1.synchronize();
                            if (r >= 10) {
                                graphUs[r - 10] = CudaEvent.elapsedMillis(e0, e1) * 1000;
                            }
                        }
                        // back to back: 20 replays between two events, as consecutive layers would run
                        double[] b2bUs = new double[7];
                        for (int r = 0; r < 8; r++) {
                            e0.record(k.stream());
                            for (int q = 0; q < 20; q++) {
                                graphs[q % SETS].replay();
                            }
                            e1.record(k.stream());
                            e1.synchronize();
                            if (r >= 1) {
                                b2bUs[r - 1] = CudaEvent.elapsedMillis(e0, e1) * 1000 / 20;
                            }
                        }
                        for (CapturedForward g : graphs) {
                            g.close();
                        }
                        Row row = new Row(t, mName, touched.size(), median(streamUs), median(graphUs), median(b2bUs),
                                bytes, flops,
                                bytes / ceil.bandwidthBest() * 1e6, flops / ceil.flopsBest() * 1e6);
                        rows.add(row);
                        out.printf(Locale.ROOT, "T=%-5d M=%-9s experts=%-3d stream %9.1f us  graph %9.1f us  "
                                        + "back-to-back %9.1f us  floor %8.1f us  ratio %5.2f%n", t, mName, row.experts(),
                                row.streamUs(), row.graphUs(), row.backToBackUs(), row.floorUs(),
                                row.bestUs() / row.floorUs());
                    }
                    k.forceM(0);
                    o.close();
                    for (int s = 0; s < SETS; s++) {
                        hid[s].close();
                        logits[s].close();
                    }
                }
            }
        }
        printTable(out, device, ceil, rows);
        writeJson(outDir, device, ceil, spec, seed, rows);
    }

    private static double median(double[] v) {
        double[] c = v.clone();
        Arrays.sort(c);
        return c[c.length / 2];
    }

    private static void printTable(PrintStream out, DeviceInfo device, CudaCeilings.Measurement ceil, List<Row> rows) {
        out.printf(Locale.ROOT, "%n%s: gpt-oss-120b MoE layer, MXFP4 x BF16, marlin; copy %.0f GB/s, BF16 %.0f TFLOP/s"
                + "%n", device.name(), ceil.bandwidthBest() / 1e9, ceil.flopsBest() / 1e12);
        out.println("|     T | M         | experts | stream us | graph us | b2b graph us | bytes floor us | flops floor us "
                + "| ratio | b2b ratio | TFLOP/s | % of BF16 |");
        out.println("|------:|-----------|--------:|----------:|---------:|-------------:|---------------:|---------------:"
                + "|------:|----------:|--------:|----------:|");
        for (Row r : rows) {
            double tflops = r.flops() / (r.bestUs() * 1e-6) / 1e12;
            out.printf(Locale.ROOT, "| %5d | %-9s | %7d | %9.1f | %8.1f | %12.1f | %14.1f | %14.1f | %5.2f | %9.2f "
                            + "| %7.1f | %8.1f%% |%n", r.tokens(), r.m(), r.experts(), r.streamUs(), r.graphUs(),
                    r.backToBackUs(), r.bytesUs(), r.flopsUs(), r.bestUs() / r.floorUs(),
                    r.backToBackUs() / r.floorUs(), tflops, 100 * tflops * 1e12 / ceil.flopsBest());
        }
    }

    private static void writeJson(Path dir, DeviceInfo device, CudaCeilings.Measurement ceil, MoeLayerSpec spec,
                                  long seed, List<Row> rows) throws IOException {
        Files.createDirectories(dir);
        StringBuilder j = new StringBuilder();
        j.append("{\n  \"benchmark\": \"marlin gpt-oss-120b layer\",\n");
        j.append("  \"date\": \"").append(Instant.now()).append("\",\n");
        j.append("  \"device\": \"").append(device.name()).append(" (").append(device.arch()).append(")\",\n");
        j.append("  \"spec\": \"").append(spec.describe()).append("\",\n  \"seed\": ").append(seed).append(",\n");
        j.append(String.format(Locale.ROOT, "  \"copy_bandwidth_Bps\": %.6e,%n  \"bf16_flops\": %.6e,%n",
                ceil.bandwidthBest(), ceil.flopsBest()));
        j.append("  \"cublas\": \"").append(ceil.cublas()).append("\",\n  \"rows\": [\n");
        for (int n = 0; n < rows.size(); n++) {
            Row r = rows.get(n);
            j.append(String.format(Locale.ROOT, "    {\"T\": %d, \"M\": \"%s\", \"experts_touched\": %d, "
                            + "\"median_us_stream\": %.2f, \"median_us_graph\": %.2f, \"median_us_graph_back_to_back\": %.2f, "
                            + "\"bytes\": %.0f, \"flops\": %.0f, "
                            + "\"bytes_floor_us\": %.2f, \"flops_floor_us\": %.2f, \"ratio\": %.3f}%s%n", r.tokens(), r.m(),
                    r.experts(), r.streamUs(), r.graphUs(), r.backToBackUs(), r.bytes(), r.flops(), r.bytesUs(), r.flopsUs(),
                    r.bestUs() / r.floorUs(), n + 1 < rows.size() ? "," : ""));
        }
        j.append("  ]\n}\n");
        String name = "marlin-" + device.arch() + "-" + device.name().replaceAll("[^A-Za-z0-9]+", "_") + ".json";
        Files.writeString(dir.resolve(name), j.toString(), StandardCharsets.UTF_8);
    }
}
