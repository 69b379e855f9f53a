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
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Jars dropped into a plugins folder: a provider compiled outside the reactor is listed with its
 * jar path and chosen when requested; a jar whose provider throws and a damaged jar are listed with
 * their causes while every other backend keeps working.
 */
class PluginFoldersIT {
    private static final Path REPO = Path.of("..").toAbsolutePath().normalize();
    private static final String[] EXPLAIN = {"explain", "--model", "gpt-oss-20b", "--device", "sim:cpu-avx512"};

    @TempDir
    Path tmp;

    private Path plugins;
    private Path alpha;

    @BeforeEach
    void dropJars() throws IOException {
        plugins = Files.createDirectories(tmp.resolve("plugins"));
        alpha = Files.copy(FixtureJars.jar("alpha"), plugins.resolve("alpha-backend.jar"));
        Files.copy(FixtureJars.jar("broken"), plugins.resolve("broken-backend.jar"));
        Files.copy(FixtureJars.jar("gamma"), plugins.resolve("gamma-plain.jar"));
        Files.writeString(plugins.resolve("damaged.jar"), "this is not a zip file");
        Files.writeString(plugins.resolve("notes.txt"), "not a jar: ignored");
    }

    private static void assertPluginsListed(String out, Path alphaJar, Path folder) {
        assertThat(out).containsPattern("it-alpha\\s+1000000\\s+\\S+\\s+chosen");
        assertThat(squash(out)).contains("from: " + alphaJar)
                .contains("libnothing.so not found")
                .contains(folder.resolve("damaged.jar").toString())
                .contains("cannot open " + folder.resolve("damaged.jar") + " as a jar")
                .doesNotContain("notes.txt");
        assertThat(out).containsPattern("cpu\\s+100\\s+bf16\\s+supported").contains("from: built in");
        // the plain jar, beside the modular ones
        assertThat(out).containsPattern("it-gamma\\s+7\\s+bf16\\s+supported");
        assertThat(squash(out)).contains("from: " + folder.resolve("gamma-plain.jar"));
    }

    /** Joins the lines a narrow table wrapped, so that a path reads in one piece. */
    private static String squash(String table) {
        return table.replaceAll("\\n\\s+", " ");
    }

    @Test
    @DisplayName("plugins/ beside the launcher (module path): listed with the jar path, a layer for the modular jar")
    void pluginsFolderOnTheModulePath() throws Exception {
        List<String> jvm = List.of("-Dmoe.plugins.dir=" + plugins, "--module-path",
                String.join(File.pathSeparator, ModulePathDiscoveryIT.modulePath()),
                "-m", "io.moeoracle.cli/io.moeoracle.cli.MoeOracleCli");
        Map<String, String> wide = Map.of("COLUMNS", "200");
        ChildJvm.Result r = run(javaCommand(jvm, EXPLAIN), wide);
        assertThat(r.exitCode()).as(r.stderr()).isZero();
        assertPluginsListed(r.stdout(), alpha, plugins);
        // the fixture is a named module: it came in through the plugins' module layer
        assertThat(r.stdout()).contains("it-broken").doesNotContain("internal error");

        ChildJvm.Result json = run(javaCommand(jvm, concat(EXPLAIN, "--json")), wide);
        assertThat(json.stdout()).containsPattern("\"source\"\\s*:\\s*\"module io.moeoracle.it.alpha \\("
                + java.util.regex.Pattern.quote(alpha.toString().replace("\\", "\\\\")) + "\\)\"");

        ChildJvm.Result cpu = run(javaCommand(jvm, concat(EXPLAIN, "--backend", "cpu")), wide);
        assertThat(cpu.exitCode()).as(cpu.stderr()).isZero();
        assertThat(cpu.stdout()).contains("chosen: cpu");
    }

    @Test
    @DisplayName("a folder of MOE_PLUGINS (class path): listed with the jar path and chosen when requested")
    void moePluginsOnTheClassPath() throws Exception {
        Path other = Files.createDirectories(tmp.resolve("elsewhere"));
        List<String> jvm = List.of("-cp", String.join(File.pathSeparator, ChildJvm.productClassPath()),
                "io.moeoracle.cli.MoeOracleCli");
        String path = other + File.pathSeparator + plugins;
        ChildJvm.Result r = run(javaCommand(jvm, concat(EXPLAIN, "--backend", "it-alpha")),
                Map.of("MOE_PLUGINS", path, "COLUMNS", "200"));
        assertThat(r.exitCode()).as(r.stderr()).isZero();
        assertThat(r.stdout()).contains("request: it-alpha (spec.requestedBackend)").contains("chosen: it-alpha");
        assertThat(squash(r.stdout())).contains("from: " + alpha);

        ChildJvm.Result all = run(javaCommand(jvm, EXPLAIN), Map.of("MOE_PLUGINS", path, "COLUMNS", "200"));
        assertThat(all.exitCode()).as(all.stderr()).isZero();
        assertPluginsListed(all.stdout(), alpha, plugins);

        ChildJvm.Result none = run(javaCommand(jvm, EXPLAIN), Map.of("COLUMNS", "200"));
        assertThat(none.stdout()).doesNotContain("it-alpha").contains("chosen: cpu");
    }

    @Test
    @DisplayName("the shipped ./moe-oracle command loads plugins/ beside it and the folders of MOE_PLUGINS")
    void theLauncherItself() throws Exception {
        Path cliJar = REPO.resolve("cli/target/moe-oracle-cli.jar");
        assertThat(cliJar).as("the cli module is packaged before it").exists();
        // an installation of the command: the launcher, its JDK finder and the built CLI, with a plugins folder
        Path home = Files.createDirectories(tmp.resolve("install"));
        Files.copy(REPO.resolve("moe-oracle"), home.resolve("moe-oracle")).toFile().setExecutable(true);
        Files.createDirectories(home.resolve(".mvn"));
        Files.copy(REPO.resolve(".mvn/find-jdk25.sh"), home.resolve(".mvn/find-jdk25.sh"));
        Files.createDirectories(home.resolve("cli"));
        Files.createSymbolicLink(home.resolve("cli/target"), REPO.resolve("cli/target"));
        Files.move(plugins, home.resolve("plugins"));
        Path dropped = home.resolve("plugins/alpha-backend.jar");
        Map<String, String> env = Map.of("MOE_NO_BUILD", "1", "JAVA_HOME", System.getProperty("java.home"),
                "COLUMNS", "200");

        ChildJvm.Result r = run(concat(new String[] {home.resolve("moe-oracle").toString()}, EXPLAIN), env);
        assertThat(r.exitCode()).as(r.stderr()).isZero();
        assertPluginsListed(r.stdout(), dropped, home.resolve("plugins"));

        // and separately, a folder named by MOE_PLUGINS with the plugins folder empty
        Path elsewhere = Files.createDirectories(tmp.resolve("from-env"));
        Files.move(dropped, elsewhere.resolve("alpha-backend.jar"));
        Map<String, String> withEnv = new java.util.HashMap<>(env);
        withEnv.put("MOE_PLUGINS", elsewhere.toString());
        ChildJvm.Result e = run(concat(new String[] {home.resolve("moe-oracle").toString()}, EXPLAIN), withEnv);
        assertThat(e.exitCode()).as(e.stderr()).isZero();
        assertThat(e.stdout()).containsPattern("it-alpha\\s+1000000\\s+\\S+\\s+chosen");
        assertThat(squash(e.stdout())).contains("from: " + elsewhere.resolve("alpha-backend.jar"));
    }

    private static String[] javaCommand(List<String> jvm, String[] args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("--enable-native-access=ALL-UNNAMED");
        cmd.addAll(jvm);
        cmd.addAll(List.of(args));
        return cmd.toArray(String[]::new);
    }

    private static String[] concat(String[] a, String... b) {
        List<String> all = new ArrayList<>(List.of(a));
        all.addAll(List.of(b));
        return all.toArray(String[]::new);
    }

    private ChildJvm.Result run(String[] command, Map<String, String> env) throws IOException, InterruptedException {
        Path out = tmp.resolve("out-" + System.nanoTime());
        Path err = tmp.resolve("err-" + System.nanoTime());
        ProcessBuilder pb = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile());
        pb.environment().remove("MOE_PLUGINS");
        pb.environment().putAll(env);
        Process p = pb.start();
        p.getOutputStream().close();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException("did not finish: " + String.join(" ", command));
        }
        return new ChildJvm.Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                Files.readString(err, StandardCharsets.UTF_8));
    }
}
