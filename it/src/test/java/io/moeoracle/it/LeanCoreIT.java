package io.moeoracle.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.moeoracle.api.MoeKernelProvider;
import io.moeoracle.core.select.MoeKernelSelector;
import java.io.File;
import java.lang.module.Configuration;
import java.lang.module.ModuleDescriptor;
import java.lang.module.ModuleFinder;
import java.lang.module.ResolvedModule;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** A host that only selects kernels needs api, core and slf4j-api: no Guice, no reference, no harness. */
class LeanCoreIT {
    private static final Path API = FixtureJars.locationOf(MoeKernelProvider.class);
    private static final Path CORE = FixtureJars.locationOf(MoeKernelSelector.class);
    private static final Path SLF4J = FixtureJars.locationOf(LoggerFactory.class);

    private static ModuleDescriptor coreDescriptor() {
        Configuration cf = ModuleLayer.boot().configuration()
                .resolve(ModuleFinder.of(API, CORE, SLF4J), ModuleFinder.of(), Set.of("io.moeoracle.core"));
        assertThat(cf.modules()).extracting(ResolvedModule::name)
                .containsExactlyInAnyOrder("io.moeoracle.api", "io.moeoracle.core", "org.slf4j");
        return cf.findModule("io.moeoracle.core").orElseThrow().reference().descriptor();
    }

    @Test
    @DisplayName("core's module resolves from the api, core and slf4j-api jars alone and requires nothing else, not even statically")
    void coreRequiresApiAndSlf4jOnly() {
        assertThat(coreDescriptor().requires()).extracting(ModuleDescriptor.Requires::name)
                .containsExactlyInAnyOrder("java.base", "io.moeoracle.api", "org.slf4j");
    }

    @Test
    @DisplayName("core exports only its API packages, to everyone; JSON and the other internals stay inside")
    void coreExportsOnlyApi() {
        ModuleDescriptor core = coreDescriptor();
        assertThat(core.exports()).allSatisfy(e -> assertThat(e.isQualified()).as(e.source()).isFalse());
        assertThat(core.exports()).extracting(ModuleDescriptor.Exports::source).containsExactlyInAnyOrder(
                "io.moeoracle.core", "io.moeoracle.core.device", "io.moeoracle.core.discovery",
                "io.moeoracle.core.select", "io.moeoracle.core.weights");
        assertThat(core.packages()).contains("io.moeoracle.core.internal", "io.moeoracle.core.internal.json");
        assertThat(core.opens()).isEmpty();
    }

    @Test
    @DisplayName("a host with api, core and slf4j-api on its class path selects a third-party backend; nothing else is found")
    void hostWithThreeJarsSelects() throws Exception {
        Path hostClasses = FixtureJars.locationOf(LeanHost.class);
        String cp = String.join(File.pathSeparator, API.toString(), CORE.toString(), SLF4J.toString(),
                FixtureJars.jar("alpha").toString(), hostClasses.toString());
        ChildJvm.Result r = ChildJvm.run(List.of("-cp", cp), List.of(LeanHost.class.getName(), "sim:sm_90"));
        assertThat(r.exitCode()).as(r.stderr()).isZero();
        assertThat(r.stdout()).contains("\"winner\":\"it-alpha\"").contains("\"backend\":\"it-alpha\"")
                .doesNotContain("\"backend\":\"emulation\"");
        assertThat(r.stderr()).doesNotContain("NoClassDefFoundError").doesNotContain("ClassNotFoundException");
    }
}
