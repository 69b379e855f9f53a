package io.moeoracle.driver.nccl;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The FFM bindings against a stand-in {@code libnccl.so.2} built from {@code src/test/c/fake_nccl.c} with
 * NCCL's C signatures: the 128-byte unique id passed by value, the config struct's layout, size_t counts,
 * device pointers and streams reach the library as C sees them, and results and texts come back. Runs in a
 * child JVM started with {@code -Dmoe.nccl.library} naming the stand-in (the library is opened once per JVM).
 */
class FakeNcclAbiTest {

    @Test
    @DisplayName("every binding passes its arguments as nccl.h declares them (checked by a C stand-in)")
    void bindings(@TempDir Path dir) throws Exception {
        Path src = Path.of("src/test/c/fake_nccl.c").toAbsolutePath();
        Path lib = dir.resolve("libnccl.so.2");
        Process cc;
        try {
            cc = new ProcessBuilder("cc", "-shared", "-fPIC", "-O1", "-o", lib.toString(), src.toString())
                    .redirectErrorStream(true).start();
        } catch (java.io.IOException e) {
            Assumptions.assumeTrue(false, "no C compiler (cc) to build the stand-in: " + e.getMessage());
            return;
        }
        String ccOut = new String(cc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(cc.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(cc.exitValue()).as(ccOut).isZero();

        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-Dmoe.nccl.library=" + lib, "-cp", cp,
                FakeNcclAbiMain.class.getName(), lib.toString()));
        Path out = dir.resolve("child.out");
        Process child = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        child.getOutputStream().close();
        if (!child.waitFor(120, TimeUnit.SECONDS)) {
            child.destroyForcibly();
        }
        String text = Files.readString(out);
        assertThat(child.exitValue()).as(text).isZero();
        assertThat(text).contains("ABI OK");
    }

}
