package io.moeoracle.cli;

import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.tensor.DType;
import io.moeoracle.bench.BenchConfig;
import io.moeoracle.bench.BenchResult;
import io.moeoracle.bench.MoeBenchmark;
import io.moeoracle.core.select.Selection;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code moe-oracle bench}: times the chosen backend at several token counts on fresh random data
 * and sets every row against the device's ceilings measured in the same run.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Times a backend per token count, with each row's roofline floor measured in the same run.")
final class BenchCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @ParentCommand
    MoeOracleCli root;

    @Mixin
    SpecOptions layer;

    @Option(names = "--tokens", paramLabel = "T,...", split = ",", defaultValue = "1,8,64,512",
            description = "token counts, one row each; default ${DEFAULT-VALUE}")
    List<Integer> tokens;

    @Option(names = "--device", paramLabel = "DEV", defaultValue = "auto",
            description = "auto or a probed device (cpu, cuda:0, ...); default ${DEFAULT-VALUE}")
    String device;

    @Option(names = "--backend", paramLabel = "ID", description = "insist on this backend")
    String backend;

    @Option(names = "--iterations", paramLabel = "N", defaultValue = "30", description = "timed calls per T; default ${DEFAULT-VALUE}")
    int iterations;

    @Option(names = "--warmup", paramLabel = "N", defaultValue = "10", description = "untimed calls per T; default ${DEFAULT-VALUE}")
    int warmup;

    @Option(names = "--seed", paramLabel = "S", description = "random seed (default: fresh each run)")
    Long seed;

    @Option(names = "--json", paramLabel = "FILE", description = "write the JSON result to this file")
    Path json;

    @Option(names = "--results-dir", paramLabel = "DIR", defaultValue = "bench/results",
            description = "where the JSON result goes when --json is not given; default ${DEFAULT-VALUE}")
    Path resultsDir;

    @Option(names = "--no-save", description = "print the table only")
    boolean noSave;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        if (layer.model == null && layer.config == null && layer.experts == null) {
            layer.model = "gpt-oss-20b";
        }
        MoeLayerSpec s = layer.toSpec(backend);
        int maxT = Collections.max(tokens);
        if (s.maxTokensPerCall() < maxT) {
            s = s.toBuilder().maxTokensPerCall(maxT).build();
        }
        Selection selection = KernelChoice.onRealDevice(root, s, device, "benchmark");
        DeviceInfo d = selection.device();
        out.println("layer:   " + s.describe());
        out.println("device:  " + d.describe());
        out.println("backend: " + selection.winner().id());
        out.flush();
        BenchConfig config = BenchConfig.builder(selection.winner(), d, s)
                .tokenCounts(tokens).iterations(iterations).warmupIterations(warmup)
                .seed(seed != null ? seed : System.nanoTime()).activationDtype(DType.BF16).build();
        BenchResult result = MoeBenchmark.run(config);
        out.println();
        out.print(result.toTable());
        if (!noSave) {
            Path file;
            if (json != null) {
                if (json.getParent() != null) {
                    Files.createDirectories(json.getParent());
                }
                Files.writeString(json, result.toJson());
                file = json;
            } else {
                file = result.writeJson(resultsDir);
            }
            out.println("wrote " + file);
        }
        out.flush();
        return 0;
    }
}
