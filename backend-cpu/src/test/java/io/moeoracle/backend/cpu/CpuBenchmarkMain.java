package io.moeoracle.backend.cpu;

import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.spec.QuantScheme;
import io.moeoracle.bench.BenchConfig;
import io.moeoracle.bench.BenchResult;
import io.moeoracle.bench.MoeBenchmark;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * Runs the generic benchmark on the cpu backend with the gpt-oss-20b layer shape (E=32, top-4,
 * H=I=2880, MXFP4) and prints the table; the JSON goes to {@code bench/results/}. Arguments:
 * {@code [tokens,comma,separated] [iterations] [results-folder]}. Not a test: run it on a quiet
 * machine, see the module's README section in the report.
 */
public final class CpuBenchmarkMain {
    private CpuBenchmarkMain() {
    }

    /**
     * @param args optional token counts, iterations and results folder
     */
    public static void main(String[] args) {
        List<Integer> tokens = args.length > 0 ? Arrays.stream(args[0].split(",")).map(String::trim)
                .map(Integer::parseInt).toList() : List.of(1, 8, 64, 512);
        int iterations = args.length > 1 ? Integer.parseInt(args[1]) : 30;
        Path folder = Path.of(args.length > 2 ? args[2] : "bench/results");
        MoeLayerSpec spec = MoeLayerSpec.builder().experts(32).topK(4).hiddenSize(2880).intermediateSize(2880)
                .quant(QuantScheme.MXFP4_BF16).build();
        BenchResult r = MoeBenchmark.run(BenchConfig.builder(new CpuMoeProvider(), HostCpu.device(), spec)
                .tokenCounts(tokens).warmupIterations(10).iterations(iterations).resultsFolder(folder).build());
        System.out.print(r.toTable());
    }
}
