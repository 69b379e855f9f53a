package io.moeoracle.cli;

import io.moeoracle.bench.BenchResult;
import io.moeoracle.bench.BenchResultReader;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code moe-oracle plot}: draws results that {@code bench} wrote as JSON, on a machine that can draw
 * (a GPU machine's runtime may have no {@code java.desktop}): the same two panels and markdown
 * table as {@code bench --plot}, one line per file, in the order given.
 */
@Command(name = "plot", mixinStandardHelpOptions = true,
        description = "Draws bench results saved as JSON (time per forward and ratio to the roofline against T, log-log).")
final class PlotCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--from-json", paramLabel = "FILE[,FILE...]", split = ",", required = true,
            description = "bench results (bench/results/*.json), one backend each; several are drawn together")
    List<Path> inputs;

    @Option(names = "--out", paramLabel = "FILE", required = true,
            description = "FILE.png or FILE.svg; the markdown table goes into FILE.md beside it")
    Path out;

    @Override
    public Integer call() throws IOException {
        BenchPlot.format(out); // a bad extension fails before anything is read
        List<BenchResult> results = new ArrayList<>();
        for (Path in : inputs) {
            if (!Files.isRegularFile(in)) {
                throw new CliErrors.UsageException("--from-json " + in + ": no such file; give bench result files"
                        + " (bench/results/*.json), separated by commas");
            }
            try {
                results.add(BenchResultReader.read(in));
            } catch (IllegalArgumentException e) {
                throw new CliErrors.UsageException("--from-json " + e.getMessage());
            }
        }
        PrintWriter w = spec.commandLine().getOut();
        Path md = BenchPlot.write(results, out);
        w.print(BenchPlot.markdown(results));
        w.println("wrote " + out + " and " + md);
        w.flush();
        return 0;
    }
}
