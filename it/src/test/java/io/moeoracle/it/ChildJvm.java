package io.moeoracle.it;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs the CLI in a fresh JVM with a chosen class path or module path. */
final class ChildJvm {
    private ChildJvm() {
    }

    /** What a child JVM printed and returned. */
    record Result(int exitCode, String stdout, String stderr) {
    }

    /** @return the test's own class path entries (surefire passes them in a property) */
    static List<String> testClassPath() {
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        return Arrays.stream(cp.split(File.pathSeparator)).filter(s -> !s.isBlank()).toList();
    }

    /** @return class path entries belonging to the product (api, core, cli, backends, drivers) and their libraries */
    static List<String> productClassPath() {
        return testClassPath().stream()
                .filter(e -> !e.contains("test-classes") && !e.contains("junit") && !e.contains("archunit")
                        && !e.contains("assertj") && !e.contains("opentest4j") && !e.contains("apiguardian")
                        && !e.contains("surefire") && !e.contains("moe-oracle-it") && !e.contains("moe-oracle-tck"))
                .toList();
    }

    static Result run(List<String> jvmArgs, List<String> programArgs) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("--enable-native-access=ALL-UNNAMED");
        cmd.addAll(jvmArgs);
        cmd.addAll(programArgs);
        Path out = java.nio.file.Files.createTempFile("child", ".out");
        Path err = java.nio.file.Files.createTempFile("child", ".err");
        try {
            Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            p.getOutputStream().close();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("child JVM did not finish: " + cmd);
            }
            return new Result(p.exitValue(), java.nio.file.Files.readString(out, StandardCharsets.UTF_8),
                    java.nio.file.Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            java.nio.file.Files.deleteIfExists(out);
            java.nio.file.Files.deleteIfExists(err);
        }
    }
}
