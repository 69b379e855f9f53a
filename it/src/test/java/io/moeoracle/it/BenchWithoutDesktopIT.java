package io.moeoracle.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The GPU machines run a jlinked JRE without {@code java.desktop}: {@code bench} without {@code --plot}
 * (several backends, JSON written per backend) must work there. The child JVM here is limited to the
 * same modules as gpu/assemble's JRE.
 */
class BenchWithoutDesktopIT {
    /** The modules of gpu/assemble's JRE. */
    private static final String GPU_JRE_MODULES = "java.base,java.logging,java.management,java.naming,java.xml,jdk.unsupported";

    @TempDir
    Path dir;

    @Test
    @DisplayName("bench --json with two backends runs in a JRE without java.desktop (as on the GPU machines)")
    void benchWithoutAwt() throws Exception {
        Path json = dir.resolve("b.json");
        ChildJvm.Result r = ChildJvm.run(List.of("--limit-modules", GPU_JRE_MODULES, "-cp",
                String.join(File.pathSeparator, ChildJvm.productClassPath())), List.of("io.moeoracle.cli.MoeOracleCli",
                "bench", "--experts", "8", "--top-k", "2", "--hidden", "128", "--intermediate", "96", "--tokens", "1,4",
                "--iterations", "2", "--warmup", "1", "--device", "cpu", "--backend", "cpu,emulation", "--json",
                json.toString()));
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.toString()).doesNotContain("java/awt", "NoClassDefFoundError");
        assertThat(dir.resolve("b-cpu.json")).exists();
        assertThat(Files.readString(dir.resolve("b-emulation.json"))).contains("\"backend\": \"emulation\"");
    }
}
