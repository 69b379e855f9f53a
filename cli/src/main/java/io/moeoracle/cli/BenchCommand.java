package io.moeoracle.cli;

import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.tensor.DType;
import io.moeoracle.bench.BenchConfig;
import io.moeoracle.bench.BenchResult;
import io.moeoracle.bench.MoeBenchmark;
import io.moeoracle.core.select.Selection;
import io.moeoracle.ep.EpStrategy;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
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

    @Mixin
    ExpertParallelOptions expertParallel;

    @Option(names = "--tokens", paramLabel = "T,...", split = ",", defaultValue = "1,8,64,512",
            description = "token counts, one row each; default ${DEFAULT-VALUE}")
    List<Integer> tokens;

    @Option(names = "--device", paramLabel = "DEV", defaultValue = "auto",
            description = "auto or a probed device (cpu, cuda:0, ...); default ${DEFAULT-VALUE}")
    String device;

    @Option(names = "--backend", paramLabel = "ID[,ID...]", split = ",",
            description = "insist on this backend; several (comma-separated) are timed one after the other on the same "
                    + "data; 'all-supported' times every backend that supports the layer on the device")
    List<String> backends = List.of();

    @Option(names = "--plot", paramLabel = "FILE",
            description = "draw the runs (time per forward and ratio to the roofline against T, log-log) into FILE.png or "
                    + "FILE.svg, with a markdown table in FILE.md beside it")
    Path plot;

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
        if (plot != null) {
            BenchPlot.format(plot); // a bad extension fails before anything is timed
        }
        if (layer.model == null && layer.config == null && layer.experts == null) {
            layer.model = "gpt-oss-20b";
        }
        int maxT = Collections.max(tokens);
        EpStrategy epStrategy = expertParallel.strategy();
        if (expertParallel.enabled()) {
            expertParallel.checkAgainst(layer, device);
            if (plot != null || !backends.isEmpty()) {
                throw new CliErrors.UsageException("--devices benchmarks the sharded layer with each rank's selected"
                        + " kernels; --plot and --backend are for one device");
            }
            MoeLayerSpec s = layer.toSpec(null);
            long runSeed = seed != null ? seed : System.nanoTime();
            return new ExpertParallelRun(root, out, expertParallel.devices, epStrategy).bench(s, tokens, warmup,
                    iterations, runSeed, Optional.ofNullable(json));
        }
        List<Selection> selections = KernelChoice.forBenchmark(root, backendSpecs(maxT), allSupported(), device);
        long runSeed = seed != null ? seed : System.nanoTime();
        List<BenchResult> results = new ArrayList<>();
        for (Selection selection : selections) {
            MoeLayerSpec s = selection.spec();
            DeviceInfo d = selection.device();
            out.println("layer:   " + s.describe());
            out.println("device:  " + d.describe());
            out.println("backend: " + selection.winner().id());
            out.flush();
            BenchConfig config = BenchConfig.builder(selection.winner(), d, s)
                    .tokenCounts(tokens).iterations(iterations).warmupIterations(warmup)
                    .seed(runSeed).activationDtype(DType.BF16).build();
            BenchResult result;
            try (Progress progress = new Progress(out, "benchmarking " + selection.winner().id())) {
                result = MoeBenchmark.run(config, progress);
            }
            results.add(result);
            out.println();
            out.print(result.toTable());
            if (!noSave) {
                out.println("wrote " + save(result, selections.size() > 1));
            }
            out.println();
            out.flush();
        }
        if (plot != null) {
            Path md = BenchPlot.write(results, plot);
            out.print(BenchPlot.markdown(results));
            out.println("wrote " + plot + " and " + md);
        }
        out.flush();
        return 0;
    }

    /** @return one spec per --backend value (a spec with no backend when none or 'all-supported' was given) */
    private List<MoeLayerSpec> backendSpecs(int maxT) {
        List<String> ids = backends.isEmpty() || backends.equals(List.of(KernelChoice.ALL_SUPPORTED))
                ? java.util.Collections.singletonList(null) : backends;
        if (backends.size() > 1 && backends.contains(KernelChoice.ALL_SUPPORTED)) {
            throw new CliErrors.UsageException("--backend all-supported stands alone; it cannot be listed with ids");
        }
        List<MoeLayerSpec> specs = new ArrayList<>();
        for (String id : ids) {
            MoeLayerSpec s = layer.toSpec(id);
            specs.add(s.maxTokensPerCall() < maxT ? s.toBuilder().maxTokensPerCall(maxT).build() : s);
        }
        return specs;
    }

    private Path save(BenchResult result, boolean several) throws IOException {
        if (json == null) {
            return result.writeJson(resultsDir);
        }
        Path file = several ? BenchFiles.sibling(json, "-" + result.backend() + ".json") : json;
        if (file.toAbsolutePath().getParent() != null) {
            Files.createDirectories(file.toAbsolutePath().getParent());
        }
        Files.writeString(file, result.toJson());
        return file;
    }

    boolean allSupported() {
        return backends.equals(List.of(KernelChoice.ALL_SUPPORTED));
    }
}
