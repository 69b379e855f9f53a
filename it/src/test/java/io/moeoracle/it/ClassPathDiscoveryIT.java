package io.moeoracle.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.core.device.SimulatedDevices;
import io.moeoracle.core.discovery.ProviderRegistry;
import io.moeoracle.core.discovery.UnavailableProvider;
import io.moeoracle.core.select.DefaultSelectionPolicy;
import io.moeoracle.core.select.Explanation;
import io.moeoracle.core.select.MoeKernelSelector;
import io.moeoracle.core.select.SelectionSettings;
import io.moeoracle.core.weights.ModelConfig;
import java.io.File;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** A backend is added by putting its jar on the class path, with no edit anywhere else. */
class ClassPathDiscoveryIT {
    private static final MoeLayerSpec SPEC = ModelConfig.preset("gpt-oss-20b");
    private static final DeviceInfo DEVICE = SimulatedDevices.get("sim:cpu-avx512");

    private static Explanation explainWith(ClassLoader loader) {
        ProviderRegistry registry = ProviderRegistry.builder().addClassLoader(loader).build();
        return new MoeKernelSelector(registry, new DefaultSelectionPolicy(),
                SelectionSettings.defaults()).explain(SPEC, DEVICE);
    }

    @Test
    @DisplayName("a backend jar is found only when it is on the class path, and then changes the winner")
    void jarOnClassPathChangesTheWinner() throws Exception {
        Explanation without = explainWith(getClass().getClassLoader());
        assertThat(without.rows()).extracting(Explanation.Row::providerId).doesNotContain("it-alpha");

        try (URLClassLoader withJar = new URLClassLoader(new URL[] {FixtureJars.jar("alpha").toUri().toURL()},
                getClass().getClassLoader())) {
            Explanation with = explainWith(withJar);
            assertThat(with.winnerId()).contains("it-alpha");
            assertThat(with.winnerId()).isNotEqualTo(without.winnerId());
        }
    }

    @Test
    @DisplayName("a jar whose provider throws on construction is listed with its cause; the others still work")
    void brokenProviderIsListedWithItsCause() throws Exception {
        URL[] jars = {FixtureJars.jar("broken").toUri().toURL(), FixtureJars.jar("alpha").toUri().toURL()};
        try (URLClassLoader loader = new URLClassLoader(jars, getClass().getClassLoader())) {
            ProviderRegistry registry = ProviderRegistry.builder().addClassLoader(loader).build();
            assertThat(registry.unavailable()).extracting(UnavailableProvider::reason)
                    .anySatisfy(r -> assertThat(r).contains("libnothing.so not found"));
            assertThat(registry.ids()).contains("it-alpha").doesNotContain("it-broken");
            Explanation e = explainWith(loader);
            assertThat(e.winnerId()).contains("it-alpha");
            assertThat(e.rows()).filteredOn(r -> r.status() == Explanation.Status.UNAVAILABLE)
                    .anySatisfy(r -> assertThat(r.reason()).contains("libnothing.so not found"));
        }
    }

    @Test
    @DisplayName("the CLI in a fresh JVM picks the jar's backend only when the jar is on its class path")
    void cliInChildJvmOnClassPath() throws Exception {
        List<String> cp = new ArrayList<>(ChildJvm.productClassPath());
        String[] args = {"io.moeoracle.cli.MoeOracleCli", "explain", "--model", "gpt-oss-20b",
            "--device", "sim:cpu-avx512", "--json"};
        ChildJvm.Result without = ChildJvm.run(List.of("-cp", String.join(File.pathSeparator, cp)), List.of(args));
        assertThat(without.exitCode()).as(without.stderr()).isZero();
        assertThat(without.stdout()).doesNotContain("\"it-alpha\"");

        cp.add(FixtureJars.jar("alpha").toString());
        ChildJvm.Result with = ChildJvm.run(List.of("-cp", String.join(File.pathSeparator, cp)), List.of(args));
        assertThat(with.exitCode()).as(with.stderr()).isZero();
        assertThat(with.stdout()).containsPattern("\"winner\"\\s*:\\s*\"it-alpha\"");
    }

    static Path alphaJar() {
        return FixtureJars.jar("alpha");
    }
}
