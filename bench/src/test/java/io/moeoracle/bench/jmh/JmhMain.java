package io.moeoracle.bench.jmh;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import org.openjdk.jmh.results.format.ResultFormatType;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * Runs the JMH benchmarks of this folder and writes the JSON result into {@code bench/results}
 * ({@code jmh-<UTC time>.json}) unless {@code -rff} names another file. Arguments are JMH's own
 * (e.g. {@code -wi 3 -i 5 -f 1 SelectionBenchmark}); nothing of this runs in {@code verify}.
 *
 * <pre>{@code
 * ./mvnw -o -q -pl bench -am test-compile
 * ./mvnw -o -q -pl bench dependency:build-classpath -Dmdep.outputFile=target/cp.txt -Dmdep.includeScope=test
 * java -cp bench/target/test-classes:bench/target/classes:$(cat bench/target/cp.txt) \
 *     io.moeoracle.bench.jmh.JmhMain -wi 3 -i 5 -f 1
 * }</pre>
 */
public final class JmhMain {
    private JmhMain() {
    }

    /**
     * @param args JMH command-line options
     * @throws Exception when JMH fails
     */
    public static void main(String[] args) throws Exception {
        CommandLineOptions cli = new CommandLineOptions(args);
        ChainedOptionsBuilder options = new OptionsBuilder().parent(cli);
        if (cli.getIncludes().isEmpty()) {
            options.include(JmhMain.class.getPackageName() + "\\..*Benchmark");
        }
        if (cli.getResult().hasValue()) {
            new Runner(options.build()).run();
            return;
        }
        Path folder = Path.of("").toAbsolutePath().resolve(Path.of("bench", "results"));
        if (!Files.isDirectory(folder)) {
            folder = Path.of("").toAbsolutePath().resolve("results");
        }
        Files.createDirectories(folder);
        String stamp = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").format(ZonedDateTime.now(ZoneOffset.UTC));
        Path file = folder.resolve("jmh-" + stamp + ".json");
        options.resultFormat(ResultFormatType.JSON).result(file.toString());
        new Runner(options.build()).run();
        System.out.println("wrote " + file);
    }
}
