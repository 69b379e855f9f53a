package io.moeoracle.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.moeoracle.driver.opencl.IcdRegistry;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * A host JVM started without libjsig (no signal chaining) on a machine that registers PoCL, as CI and the
 * GPU machines do, creates a selector, explains a layer and lists devices, and lives: discovery does not
 * load PoCL (whose LLVM would replace the JVM's signal handlers) unless asked for, and says so.
 */
class ProbingWithoutSignalChainingIT {

    private static final List<String> ASKING = List.of("MOE_OPENCL_ALLOW_POCL", "MOE_XPU_ANY_DEVICE",
            "MOE_OPENCL_PLATFORM", "OCL_ICD_VENDORS", "OCL_ICD_FILENAMES");

    /** Skips without a registered PoCL (nothing to protect against), fails instead under -Dmoe.test.strict=true. */
    private static void requirePoclRegistered() {
        if (!IcdRegistry.current().signalReplacing().isEmpty()) {
            return;
        }
        String message = "ProbingWithoutSignalChainingIT needs PoCL registered as an OpenCL driver (apt-get install"
                + " pocl-opencl-icd): registered are " + IcdRegistry.current().drivers();
        if (Boolean.getBoolean("moe.test.strict")) {
            Assertions.fail(message + " (-Dmoe.test.strict=true: a missing component fails the build)");
        }
        System.err.println("[SKIPPED] " + message);
        Assumptions.abort(message);
    }

    private record Child(int exitCode, String output) {
    }

    private static Child cli(boolean jsig, List<String> properties, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED"));
        cmd.addAll(properties);
        cmd.addAll(List.of("-cp", String.join(File.pathSeparator, ChildJvm.productClassPath()),
                "io.moeoracle.cli.MoeOracleCli"));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().remove("LD_PRELOAD"); // the test JVM itself runs with libjsig (see the POM)
        ASKING.forEach(pb.environment()::remove);
        if (jsig) {
            pb.environment().put("LD_PRELOAD", Path.of(System.getProperty("java.home"), "lib", "libjsig.so").toString());
        }
        Path out = Files.createTempFile("child", ".out");
        try {
            Process p = pb.redirectOutput(out.toFile()).start();
            p.getOutputStream().close();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("child JVM did not finish: " + cmd);
            }
            return new Child(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
        }
    }

    @Test
    @DisplayName("without libjsig, selector + explain + devices live and PoCL is left out with the reason")
    void discoveryWithoutLibjsigLives() throws Exception {
        requirePoclRegistered();
        Child explain = cli(false, List.of(), "explain", "--model", "gpt-oss-20b");
        assertThat(explain.exitCode()).as(explain.output()).isZero();
        assertThat(explain.output()).contains("cpu").doesNotContain("SIGSEGV", "hs_err");

        Child devices = cli(false, List.of(), "devices");
        assertThat(devices.exitCode()).as(devices.output()).isZero();
        assertThat(devices.output()).contains("opencl:", "OpenCL not probed", "PoCL", "moe.opencl.allowPocl")
                .doesNotContain("SIGSEGV", "hs_err");
    }

    @Test
    @DisplayName("asked for (and with libjsig), PoCL's CPU device is listed")
    void poclOnRequestWithLibjsig() throws Exception {
        requirePoclRegistered();
        Child devices = cli(true, List.of("-Dmoe.opencl.allowPocl=true"), "devices");
        assertThat(devices.exitCode()).as(devices.output()).isZero();
        assertThat(devices.output()).contains("opencl:0:0").doesNotContain("OpenCL not probed");
    }
}
