package io.moeoracle.backend.cpu;

import io.moeoracle.api.MoeKernel;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.spec.QuantScheme;
import io.moeoracle.api.tensor.DType;
import io.moeoracle.api.tensor.HostTensor;
import io.moeoracle.api.tensor.MoeWeights;
import io.moeoracle.api.tensor.Routing;
import io.moeoracle.reference.RandomMoe;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The cost of LoRA on the cpu backend: for ranks 8, 16 and 64 with 4 resident adapters (every token
 * uses one, spread over the four), the median forward time next to the base forward of the same
 * kernel, at the gpt-oss-20b layer shape (E=32, top-4, H=I=2880, MXFP4). Prints a table and writes
 * JSON to {@code bench/results/}. Not a test. Arguments:
 * {@code [tokens,comma,separated] [iterations] [results-folder] [ranks,comma,separated]}.
 */
public final class CpuLoraBenchMain {
    private CpuLoraBenchMain() {
    }

    /** @param args optional token counts, iterations, results folder and ranks */
    public static void main(String[] args) throws IOException {
        List<Integer> tokens = ints(args.length > 0 ? args[0] : "1,32,256");
        int iterations = args.length > 1 ? Integer.parseInt(args[1]) : 20;
        Path folder = Path.of(args.length > 2 ? args[2] : "bench/results");
        List<Integer> ranks = ints(args.length > 3 ? args[3] : "8,16,64");
        int slots = 4;
        List<String> rows = new ArrayList<>();
        StringBuilder table = new StringBuilder(String.format(Locale.ROOT, "%-6s %6s %12s %12s %9s%n", "rank", "T",
                "base ms", "lora ms", "overhead"));
        for (int rank : ranks) {
            MoeLayerSpec spec = MoeLayerSpec.builder().experts(32).topK(4).hiddenSize(2880).intermediateSize(2880)
                    .quant(QuantScheme.MXFP4_BF16).lora(rank, slots).build();
            try (Arena arena = Arena.ofShared(); MoeKernel k = new CpuMoeProvider().create(spec, HostCpu.device())) {
                MoeWeights w = RandomMoe.weights(spec, 1, arena);
                k.prepare(w);
                for (int s = 0; s < slots; s++) {
                    try (Arena a = Arena.ofConfined()) {
                        k.loadAdapter(s, RandomMoe.lora(spec, rank, 10 + s, a));
                    }
                }
                for (int t : tokens) {
                    HostTensor hidden = RandomMoe.hidden(t, 2880, DType.BF16, 2, arena);
                    Routing routing = Routing.logits(RandomMoe.routerLogits(t, 32, 3, arena));
                    HostTensor ids = HostTensor.allocate(arena, DType.I32, t);
                    for (int j = 0; j < t; j++) {
                        ids.data().setAtIndex(ValueLayout.JAVA_INT, j, j % slots);
                    }
                    HostTensor out = HostTensor.allocate(arena, DType.BF16, t, 2880);
                    // interleaved so both see the same machine noise
                    double[] base = new double[iterations];
                    double[] lora = new double[iterations];
                    for (int i = -3; i < iterations; i++) {
                        long t0 = System.nanoTime();
                        k.forward(hidden, routing, out);
                        long t1 = System.nanoTime();
                        k.forward(hidden, routing, ids, out);
                        long t2 = System.nanoTime();
                        if (i >= 0) {
                            base[i] = (t1 - t0) / 1e6;
                            lora[i] = (t2 - t1) / 1e6;
                        }
                    }
                    double b = median(base);
                    double l = median(lora);
                    table.append(String.format(Locale.ROOT, "%-6d %6d %12.3f %12.3f %8.2fx%n", rank, t, b, l, l / b));
                    rows.add(String.format(Locale.ROOT, "{\"rank\": %d, \"tokens\": %d, \"baseMs\": %.4f, \"loraMs\": %.4f,"
                            + " \"overhead\": %.4f}", rank, t, b, l, l / b));
                }
            }
        }
        System.out.print(table);
        String stamp = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC).format(Instant.now());
        Files.createDirectories(folder);
        Path file = folder.resolve("cpu-lora-" + stamp + ".json");
        Files.writeString(file, "{\n  \"backend\": \"cpu\",\n  \"device\": \"" + HostCpu.device().describe().replace("\"", "'")
                + "\",\n  \"threads\": " + Runtime.getRuntime().availableProcessors()
                + ",\n  \"shape\": \"E=32 top4 H=2880 I=2880 mxfp4, 4 adapters, every token adapted\",\n  \"iterations\": "
                + iterations + ",\n  \"rows\": [\n    " + String.join(",\n    ", rows) + "\n  ]\n}\n");
        System.out.println("wrote " + file);
    }

    private static List<Integer> ints(String s) {
        return Arrays.stream(s.split(",")).map(String::trim).map(Integer::parseInt).toList();
    }

    private static double median(double[] v) {
        double[] c = v.clone();
        Arrays.sort(c);
        return c[c.length / 2];
    }
}
