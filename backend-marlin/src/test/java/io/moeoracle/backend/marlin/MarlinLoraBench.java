package io.moeoracle.backend.marlin;

import io.moeoracle.api.CapturedForward;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.spec.QuantScheme;
import io.moeoracle.api.tensor.DType;
import io.moeoracle.api.tensor.DeviceTensor;
import io.moeoracle.api.tensor.HostTensor;
import io.moeoracle.api.tensor.Routing;
import io.moeoracle.driver.cuda.CudaDriver;
import io.moeoracle.driver.cuda.CudaEvent;
import io.moeoracle.reference.RandomMoe;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * LoRA against the base forward on the marlin kernels, side by side in one run: the gpt-oss-120b
 * layer (E=128, top-4, H=I=2880, MXFP4 x BF16) with {@code --slots} adapters (default 4) of rank
 * {@code --rank} (default 16) loaded, every token using one (spread over the slots), against the
 * same kernel's forward without adapter ids. Median microseconds from CUDA events, as CUDA graph
 * replays and as stream launches, alternating base and LoRA so both see the same clocks. The
 * acceptance bar is LoRA at most 1.25x the base (graph) at T=1 and T=256. Prints a table and writes
 * JSON to {@code --out} (default bench/results).
 *
 * <p>{@code java ... io.moeoracle.backend.marlin.MarlinLoraBench [--out DIR] [--tokens 1,256] [--rank 16] [--slots 4]}
 */
public final class MarlinLoraBench {
    /** The acceptance bar: LoRA forward over base forward. */
    static final double BAR = 1.25;

    private MarlinLoraBench() {
    }

    record Row(int tokens, double baseGraphUs, double loraGraphUs, double baseStreamUs, double loraStreamUs) {
        double ratio() {
            return loraGraphUs / baseGraphUs;
        }
    }

    public static void main(String[] args) throws IOException {
        Path outDir = Path.of("bench/results");
        int[] tokens = {1, 256};
        int rank = 16;
        int slots = 4;
        for (int a = 0; a < args.length; a++) {
            switch (args[a]) {
                case "--out" -> outDir = Path.of(args[++a]);
                case "--tokens" -> tokens = Arrays.stream(args[++a].split(",")).mapToInt(Integer::parseInt).toArray();
                case "--rank" -> rank = Integer.parseInt(args[++a]);
                case "--slots" -> slots = Integer.parseInt(args[++a]);
                default -> throw new IllegalArgumentException("unknown argument " + args[a]
                        + "; use --out DIR, --tokens 1,256, --rank R, --slots N");
            }
        }
        PrintStream out = System.out;
        DeviceInfo device = CudaDriver.load().device(0).toDeviceInfo();
        int maxT = Arrays.stream(tokens).max().orElse(1);
        MoeLayerSpec spec = MoeLayerSpec.builder().experts(128).topK(4).hiddenSize(2880).intermediateSize(2880)
                .quant(QuantScheme.MXFP4_BF16).maxTokensPerCall(maxT).lora(rank, slots).build();
        long seed = System.nanoTime();
        out.printf(Locale.ROOT, "marlin LoRA bench on %s, %s, seed %d%n", device.describe(), spec.describe(), seed);
        List<Row> rows = new ArrayList<>();
        try (Arena arena = Arena.ofShared();
             MarlinKernel k = (MarlinKernel) new MarlinProvider().create(spec, device);
             CudaEvent e0 = k.context().createEvent(); CudaEvent e1 = k.context().createEvent()) {
            k.prepare(RandomMoe.weights(spec, seed, arena));
            for (int s = 0; s < slots; s++) {
                try (Arena a = Arena.ofConfined()) {
                    k.loadAdapter(s, RandomMoe.lora(spec, rank, seed + 1 + s, a));
                }
            }
            for (int t : tokens) {
                HostTensor idsHost = HostTensor.allocate(arena, DType.I32, t);
                for (int j = 0; j < t; j++) {
                    idsHost.data().setAtIndex(ValueLayout.JAVA_INT, j, j % slots);
                }
                try (DeviceTensor hid = upload(k, RandomMoe.hidden(t, 2880, DType.BF16, seed + t, arena));
                     DeviceTensor logits = upload(k, RandomMoe.routerLogits(t, 128, seed + 2L * t, arena));
                     DeviceTensor ids = upload(k, idsHost);
                     DeviceTensor o = k.allocate(DType.BF16, t, 2880);
                     CapturedForward base = k.capture(hid, Routing.logits(logits), o).orElseThrow();
                     CapturedForward lora = k.capture(hid, Routing.logits(logits), ids, o).orElseThrow()) {
                    int n = 50;
                    double[][] g = new double[2][n];
                    double[][] st = new double[2][n];
                    for (int r = -10; r < n; r++) {
                        for (int which = 0; which < 2; which++) {
                            e0.record(k.stream());
                            (which == 0 ? base : lora).replay();
                            e1.record(k.stream());
                            e1.synchronize();
                            if (r >= 0) {
                                g[which][r] = CudaEvent.elapsedMillis(e0, e1) * 1000;
                            }
                            e0.record(k.stream());
                            if (which == 0) {
                                k.forward(hid, Routing.logits(logits), o);
                            } else {
                                k.forward(hid, Routing.logits(logits), ids, o);
                            }
                            e1.record(k.stream());
                            e1.synchronize();
                            if (r >= 0) {
                                st[which][r] = CudaEvent.elapsedMillis(e0, e1) * 1000;
                            }
                        }
                    }
                    Row row = new Row(t, median(g[0]), median(g[1]), median(st[0]), median(st[1]));
                    rows.add(row);
                    out.printf(Locale.ROOT, "T=%-5d graph base %8.1f us  lora %8.1f us  (%.2fx)   stream base %8.1f us"
                                    + "  lora %8.1f us%n", t, row.baseGraphUs(), row.loraGraphUs(), row.ratio(),
                            row.baseStreamUs(), row.loraStreamUs());
                }
            }
        }
        out.printf(Locale.ROOT, "%n%s: gpt-oss-120b MoE layer, marlin, LoRA rank %d x %d adapters (every token adapted)%n",
                device.name(), rank, slots);
        out.println("|     T | base graph us | LoRA graph us | ratio | bar 1.25 | base stream us | LoRA stream us |");
        out.println("|------:|--------------:|--------------:|------:|:--------:|---------------:|---------------:|");
        for (Row r : rows) {
            out.printf(Locale.ROOT, "| %5d | %13.1f | %13.1f | %5.2f | %8s | %14.1f | %14.1f |%n", r.tokens(),
                    r.baseGraphUs(), r.loraGraphUs(), r.ratio(), r.ratio() <= BAR ? "met" : "MISSED", r.baseStreamUs(),
                    r.loraStreamUs());
        }
        Files.createDirectories(outDir);
        StringBuilder j = new StringBuilder("{\n  \"benchmark\": \"marlin gpt-oss-120b layer, LoRA vs base\",\n");
        j.append("  \"date\": \"").append(Instant.now()).append("\",\n");
        j.append("  \"device\": \"").append(device.name()).append(" (").append(device.arch()).append(")\",\n");
        j.append("  \"spec\": \"").append(spec.describe()).append("\",\n  \"rank\": ").append(rank)
                .append(",\n  \"slots\": ").append(slots).append(",\n  \"rows\": [\n");
        for (int n = 0; n < rows.size(); n++) {
            Row r = rows.get(n);
            j.append(String.format(Locale.ROOT, "    {\"T\": %d, \"base_graph_us\": %.2f, \"lora_graph_us\": %.2f, "
                            + "\"ratio\": %.3f, \"base_stream_us\": %.2f, \"lora_stream_us\": %.2f}%s%n", r.tokens(),
                    r.baseGraphUs(), r.loraGraphUs(), r.ratio(), r.baseStreamUs(), r.loraStreamUs(),
                    n + 1 < rows.size() ? "," : ""));
        }
        j.append("  ]\n}\n");
        String name = "marlin-lora-" + device.arch() + "-" + device.name().replaceAll("[^A-Za-z0-9]+", "_") + ".json";
        Files.writeString(outDir.resolve(name), j.toString(), StandardCharsets.UTF_8);
    }

    private static DeviceTensor upload(MarlinKernel k, HostTensor t) {
        DeviceTensor d = k.allocate(t.dtype(), t.shape());
        d.copyFrom(t);
        return d;
    }

    private static double median(double[] v) {
        double[] c = v.clone();
        Arrays.sort(c);
        return c[c.length / 2];
    }
}
