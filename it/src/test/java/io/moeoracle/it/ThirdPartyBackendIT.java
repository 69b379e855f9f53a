package io.moeoracle.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * examples/third-party-backend, built the way its author would build it: its own Maven run against
 * the installed moe-oracle-api and moe-oracle-tck (a private repository under target/, filled by
 * this module's pom, with ~/.m2 as a read-only tail for plugins and JUnit), its own C kernel, and
 * the conformance kit as its tests. Its jar then goes into a plugins folder of the CLI, which must
 * list it with its verdict and run a forward with it.
 */
class ThirdPartyBackendIT {
    private static final Path REPO = Path.of("..").toAbsolutePath().normalize();
    private static final String ID = "example-bf16-silu";
    private static final String[] LAYER = {"--experts", "8", "--top-k", "2", "--hidden", "64", "--intermediate", "64",
        "--quant", "bf16", "--act-fn", "silu", "--no-bias", "--device", "cpu"};

    @TempDir
    Path tmp;

    @Test
    @DisplayName("the example builds outside the reactor, passes the kit, and the CLI lists and runs it from plugins/")
    void buildPassKitAndRunFromPlugins() throws Exception {
        Path project = copyExample(tmp.resolve("third-party-backend"));
        // offline: every plugin and library it needs is one the reactor's own build has already resolved
        List<String> mvn = List.of(REPO.resolve("mvnw").toString(), "-B", "-q", "-o", "-f",
                project.resolve("pom.xml").toString(), "-Dmaven.repo.local=" + property("moe.example.repo"),
                "-Dmaven.repo.local.tail=" + property("moe.example.m2"), "verify");
        Result build = run(mvn, Map.of(), 600);
        assertThat(build.exitCode()).as("the example's build:\n" + build.stdout() + build.stderr()).isZero();

        // the kit ran: every test of it passed or was skipped by an assumption that says why
        Path report = project.resolve("target/surefire-reports/TEST-com.example.moe.ExampleBackendCompatibilityTest.xml");
        String xml = Files.readString(report);
        assertThat(count(xml, "<testcase ")).as("kit tests in " + report).isGreaterThanOrEqualTo(30);
        assertThat(xml).doesNotContain("<failure").doesNotContain("<error");
        assertThat(count(xml, "<skipped")).as("kit tests skipped").isLessThanOrEqualTo(1);

        Path jar = project.resolve("target/moe-example-backend-1.0.0.jar");
        Path plugins = Files.createDirectories(tmp.resolve("plugins"));
        Path dropped = Files.copy(jar, plugins.resolve(jar.getFileName()));
        List<String> cli = List.of("-Dmoe.plugins.dir=" + plugins, "--module-path",
                String.join(File.pathSeparator, ModulePathDiscoveryIT.modulePath()),
                "-m", "io.moeoracle.cli/io.moeoracle.cli.MoeOracleCli");
        Map<String, String> wide = Map.of("COLUMNS", "200");

        Result explain = java(cli, concat("explain", LAYER), wide);
        assertThat(explain.exitCode()).as(explain.stderr()).isZero();
        assertThat(explain.stdout()).containsPattern(Pattern.quote(ID) + "\\s+50\\s+\\S+\\s+supported")
                .contains("chosen: cpu"); // portable band: it does not take the default from the tuned cpu backend
        assertThat(explain.stdout().replaceAll("\\n\\s+", " ")).contains("from: " + dropped);

        Result chosen = java(cli, concat("explain", concat(LAYER, "--backend", ID)), wide);
        assertThat(chosen.exitCode()).as(chosen.stderr()).isZero();
        assertThat(chosen.stdout()).contains("chosen: " + ID);

        Result forward = java(cli, concat("run", concat(LAYER, "--backend", ID, "--tokens", "4", "--iterations", "2")),
                wide);
        assertThat(forward.exitCode()).as(forward.stdout() + forward.stderr()).isZero();
        assertThat(forward.stdout()).contains(ID);
        Matcher err = Pattern.compile("relative L2 error vs float64 reference: (\\S+)").matcher(forward.stdout());
        assertThat(err.find()).as(forward.stdout()).isTrue();
        assertThat(Double.parseDouble(err.group(1))).isLessThan(1e-2);
    }

    private static String property(String key) {
        String v = System.getProperty(key);
        assertThat(v).as("system property " + key + " (set by it/pom.xml)").isNotBlank();
        return v;
    }

    /** The example's sources and pom, without any build output of an earlier run in the source tree. */
    private static Path copyExample(Path to) throws IOException {
        Path from = REPO.resolve("examples/third-party-backend");
        try (Stream<Path> files = Files.walk(from)) {
            for (Path p : files.filter(f -> !from.relativize(f).startsWith("target")).toList()) {
                Path dest = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(dest);
                } else {
                    Files.copy(p, dest);
                }
            }
        }
        return to;
    }

    private static int count(String text, String what) {
        int n = 0;
        for (int i = text.indexOf(what); i >= 0; i = text.indexOf(what, i + 1)) {
            n++;
        }
        return n;
    }

    private static String[] concat(String first, String... rest) {
        List<String> all = new ArrayList<>(List.of(first));
        all.addAll(List.of(rest));
        return all.toArray(String[]::new);
    }

    private static String[] concat(String[] a, String... b) {
        List<String> all = new ArrayList<>(List.of(a));
        all.addAll(List.of(b));
        return all.toArray(String[]::new);
    }

    private Result java(List<String> jvm, String[] args, Map<String, String> env) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("--enable-native-access=ALL-UNNAMED");
        cmd.addAll(jvm);
        cmd.addAll(List.of(args));
        return run(cmd, env, 120);
    }

    private record Result(int exitCode, String stdout, String stderr) {
    }

    private Result run(List<String> command, Map<String, String> env, int seconds) throws Exception {
        Path out = Files.createTempFile(tmp, "out", ".txt");
        Path err = Files.createTempFile(tmp, "err", ".txt");
        ProcessBuilder pb = new ProcessBuilder(command).directory(REPO.toFile()).redirectOutput(out.toFile())
                .redirectError(err.toFile());
        pb.environment().remove("MOE_PLUGINS");
        pb.environment().putAll(env);
        Process p = pb.start();
        p.getOutputStream().close();
        if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor();
            throw new IllegalStateException("did not finish in " + seconds + " s: " + String.join(" ", command)
                    + "\n" + Files.readString(out) + Files.readString(err));
        }
        return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                Files.readString(err, StandardCharsets.UTF_8));
    }
}
