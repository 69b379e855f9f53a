package io.moeoracle.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The same plug-in story on the module path: a named module with {@code provides} is bound by service binding. */
class ModulePathDiscoveryIT {

    static List<String> modulePath() {
        // every product module and library is a named or automatic module; guice is not needed by the CLI
        return ChildJvm.productClassPath().stream()
                .filter(e -> !e.contains("guice") && !e.contains("guava") && !e.contains("aopalliance")
                        && !e.contains("jakarta.inject") && !e.contains("failureaccess")
                        && !e.contains("listenablefuture") && !e.contains("jsr305") && !e.contains("error_prone")
                        && !e.contains("checker-qual") && !e.contains("j2objc"))
                .toList();
    }

    @Test
    @DisplayName("on the module path the CLI runs as named modules and finds a provider module only when it is there")
    void cliOnModulePath() throws Exception {
        String[] args = {"explain", "--model", "gpt-oss-120b", "--device", "sim:sm_90", "--json"};
        List<String> mp = new ArrayList<>(modulePath());
        ChildJvm.Result without = ChildJvm.run(List.of("--module-path", String.join(File.pathSeparator, mp),
                "-m", "io.moeoracle.cli/io.moeoracle.cli.MoeOracleCli"), List.of(args));
        assertThat(without.exitCode()).as(without.stderr()).isZero();
        assertThat(without.stdout()).doesNotContain("\"it-alpha\"");

        mp.add(FixtureJars.jar("alpha").toString());
        ChildJvm.Result with = ChildJvm.run(List.of("--module-path", String.join(File.pathSeparator, mp),
                "-m", "io.moeoracle.cli/io.moeoracle.cli.MoeOracleCli"), List.of(args));
        assertThat(with.exitCode()).as(with.stderr()).isZero();
        assertThat(with.stdout()).containsPattern("\"winner\"\\s*:\\s*\"it-alpha\"");
    }
}
