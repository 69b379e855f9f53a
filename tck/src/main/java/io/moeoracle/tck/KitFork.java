package io.moeoracle.tck;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Starts {@link KitChild} in a fresh JVM with this JVM's class path, the {@code moe.*} system
 * properties and native access, and collects what it reported. A child that dies (a native crash)
 * is a result, not an error of the kit.
 */
final class KitFork {
    private static final long TIMEOUT_SECONDS = 300;

    private KitFork() {
    }

    /**
     * What the child did.
     *
     * @param exitCode its exit status (134 or 139 for a native crash)
     * @param reports its report lines, without the tag
     * @param stderr the last part of its standard error
     */
    record Result(int exitCode, List<String> reports, String stderr) {
        String describeDeath() {
            return "the forked JVM exited with status " + exitCode
                    + (exitCode >= 128 ? " (killed by signal " + (exitCode - 128) + ": a native crash)" : "")
                    + "; its standard error ends with: " + stderr;
        }

        /** @return the rest of the first report that starts with {@code prefix}, if there is one */
        java.util.Optional<String> report(String prefix) {
            return reports.stream().filter(s -> s.startsWith(prefix)).findFirst().map(s -> s.substring(prefix.length()));
        }
    }

    static Result run(List<String> args) {
        return run(List.of(), args);
    }

    static Result run(List<String> jvmArgs, List<String> args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("--enable-native-access=ALL-UNNAMED");
        cmd.add("-Xss2m");
        cmd.add("-XX:-CreateCoredumpOnCrash");
        cmd.addAll(jvmArgs);
        cmd.addAll(TckSettings.forwardedProperties());
        cmd.add("-cp");
        cmd.add(TckSettings.childClassPath());
        cmd.add(KitChild.class.getName());
        cmd.addAll(args);
        try {
            // the child runs in this JVM's working folder (relative class-path entries stay valid); a crash
            // report goes to a temporary folder instead of there
            Path dir = Files.createTempDirectory("moe-kit-fork");
            Path out = dir.resolve("out");
            Path err = dir.resolve("err");
            cmd.add(1, "-XX:ErrorFile=" + dir.resolve("hs_err_pid%p.log"));
            Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            p.getOutputStream().close();
            if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor();
            }
            List<String> reports = new ArrayList<>();
            for (String line : Files.readAllLines(out, StandardCharsets.UTF_8)) {
                if (line.startsWith(KitChild.TAG)) {
                    reports.add(line.substring(KitChild.TAG.length()));
                }
            }
            String e = Files.readString(err, StandardCharsets.UTF_8);
            String tail = e.length() > 4000 ? e.substring(e.length() - 4000) : e;
            deleteTree(dir);
            for (String report : reports) {
                if (report.startsWith(KitChild.ABORTED)) {
                    org.junit.jupiter.api.Assumptions.abort(report.substring(KitChild.ABORTED.length()));
                }
            }
            return new Result(p.exitValue(), reports, tail.strip());
        } catch (IOException e) {
            throw new IllegalStateException("cannot start the kit's forked JVM: " + cmd, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the kit's forked JVM", e);
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        try (var files = Files.walk(dir)) {
            for (Path f : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(f);
            }
        }
    }
}
