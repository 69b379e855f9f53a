package io.moeoracle.core.discovery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moeoracle.api.MoeKernelProvider;
import io.moeoracle.core.MoeOracleException;
import io.moeoracle.core.fixtures.FakeProvider;
import io.moeoracle.core.fixtures.ServiceProviders;
import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class ProviderRegistryTest {

    /** A loader that sees only the services file under {@code services/<name>/}; classes come from the parent. */
    private static URLClassLoader servicesLoader(String name) {
        URL url = ProviderRegistryTest.class.getClassLoader().getResource("services/" + name + "/");
        assertThat(url).as("test resource services/%s/", name).isNotNull();
        return new URLClassLoader("services-" + name, new URL[] {url}, ProviderRegistryTest.class.getClassLoader());
    }

    private static String testClasses() throws Exception {
        return Path.of(ServiceProviders.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
    }

    @Test
    void boundProvidersAreSortedByIdAndFoundById() {
        ProviderRegistry r = ProviderRegistry.builder()
                .add(FakeProvider.supported("zeta", 1))
                .add(FakeProvider.supported("alpha", 2))
                .add(FakeProvider.supported("mid", 3))
                .build();
        assertThat(r.providers()).extracting(RegisteredProvider::id).containsExactly("alpha", "mid", "zeta");
        assertThat(r.providers()).extracting(RegisteredProvider::source).containsOnly("bound");
        assertThat(r.ids()).containsExactly("alpha", "mid", "zeta");
        assertThat(r.find("mid")).map(MoeKernelProvider::id).contains("mid");
        assertThat(r.find("MID")).as("ids match case-insensitively").map(MoeKernelProvider::id).contains("mid");
        assertThat(r.find("nope")).isEmpty();
        assertThat(r.unavailable()).isEmpty();
        assertThat(r.isEmpty()).isFalse();
    }

    @Test
    void theSameInstanceBoundTwiceIsRegisteredOnce() {
        FakeProvider p = FakeProvider.supported("once", 1);
        ProviderRegistry r = ProviderRegistry.builder().add(p).add(p).build();
        assertThat(r.providers()).hasSize(1);
    }

    @Test
    void brokenProvidersAreRecordedAndTheOthersStillFound() throws IOException {
        try (URLClassLoader cl = servicesLoader("broken")) {
            ProviderRegistry r = ProviderRegistry.builder().addClassLoader(cl).build();

            // "emulation" is core's own built-in provider, seen through the parent loader
            assertThat(r.ids()).containsExactly("emulation", "good", "other");
            assertThat(r.providers()).filteredOn(p -> !p.id().equals("emulation"))
                    .allSatisfy(p -> assertThat(p.source()).endsWith("test-classes"));

            assertThat(r.unavailable()).extracting(UnavailableProvider::name).containsExactlyInAnyOrder(
                    ServiceProviders.ThrowsOnConstruction.class.getName(),
                    "io.moeoracle.core.fixtures.DoesNotExist",
                    ServiceProviders.NotAProvider.class.getName(),
                    ServiceProviders.ThrowsFromId.class.getName());
            UnavailableProvider ctor = byName(r, ServiceProviders.ThrowsOnConstruction.class.getName());
            assertThat(ctor.reason()).contains("ServiceConfigurationError")
                    .contains("root cause: UnsatisfiedLinkError: libfake.so: cannot open");
            assertThat(ctor.source()).endsWith("test-classes");
            assertThat(byName(r, "io.moeoracle.core.fixtures.DoesNotExist").reason()).contains("not found");
            assertThat(byName(r, ServiceProviders.NotAProvider.class.getName()).reason()).contains("not a subtype");
            assertThat(byName(r, ServiceProviders.ThrowsFromId.class.getName()).reason())
                    .isEqualTo("IllegalStateException: id boom");
        }
    }

    private static UnavailableProvider byName(ProviderRegistry r, String name) {
        return r.unavailable().stream().filter(u -> u.name().equals(name)).findFirst().orElseThrow();
    }

    @Test
    void theSameProviderClassSeenThroughTwoLoadersIsRegisteredOnce() throws IOException {
        try (URLClassLoader a = servicesLoader("good"); URLClassLoader b = servicesLoader("good")) {
            ProviderRegistry r = ProviderRegistry.builder().addClassLoader(a).addClassLoader(b).build();
            assertThat(r.ids()).containsExactly("emulation", "good");
        }
    }

    @Test
    void duplicateIdsBetweenTwoJarsNameTheIdAndBothSources() throws Exception {
        String location = testClasses();
        try (URLClassLoader a = servicesLoader("good"); URLClassLoader b = servicesLoader("duplicate")) {
            assertThatThrownBy(() -> ProviderRegistry.builder().addClassLoader(a).addClassLoader(b).build())
                    .isInstanceOf(DuplicateProviderException.class)
                    .isInstanceOf(MoeOracleException.class)
                    .hasMessageContaining("'good'")
                    .hasMessageContaining(ServiceProviders.Good.class.getName() + " from " + location)
                    .hasMessageContaining(ServiceProviders.AlsoGood.class.getName() + " from " + location)
                    .satisfies(e -> assertThat(((DuplicateProviderException) e).id()).isEqualTo("good"));
        }
    }

    @Test
    void duplicateIdsBetweenABoundAndADiscoveredProviderNameBoth() throws Exception {
        try (URLClassLoader a = servicesLoader("good")) {
            assertThatThrownBy(() -> ProviderRegistry.builder().add(FakeProvider.supported("good", 1))
                    .addClassLoader(a).build())
                    .isInstanceOf(DuplicateProviderException.class)
                    .hasMessageContaining(FakeProvider.class.getName())
                    .hasMessageContaining("bound explicitly")
                    .hasMessageContaining(ServiceProviders.Good.class.getName() + " from " + testClasses());
        }
    }

    @Test
    void aProviderWithABlankIdIsUnavailable() {
        ProviderRegistry r = ProviderRegistry.builder().add(FakeProvider.supported(" ", 1))
                .add(FakeProvider.supported("fine", 1)).build();
        assertThat(r.ids()).containsExactly("fine");
        assertThat(r.unavailable()).singleElement().satisfies(u -> {
            assertThat(u.source()).isEqualTo("bound");
            assertThat(u.reason()).contains("blank");
        });
    }

    @Test
    void aBoundProviderWhoseIdThrowsIsUnavailable() {
        ProviderRegistry r = ProviderRegistry.builder().add(new ServiceProviders.ThrowsFromId()).build();
        assertThat(r.providers()).isEmpty();
        assertThat(r.unavailable()).singleElement()
                .satisfies(u -> assertThat(u.reason()).isEqualTo("IllegalStateException: id boom"));
    }

    @Test
    void discoverSearchesTheClassPathWithoutFailing() {
        // the test class path declares only core's built-in emulation provider: nothing else, nothing broken
        ProviderRegistry r = ProviderRegistry.discover();
        assertThat(r.ids()).containsExactly("emulation");
        assertThat(r.unavailable()).isEmpty();
    }

    @Test
    void discoverUsesTheContextClassLoader() throws IOException {
        Thread t = Thread.currentThread();
        ClassLoader saved = t.getContextClassLoader();
        try (URLClassLoader cl = servicesLoader("good")) {
            t.setContextClassLoader(cl);
            assertThat(ProviderRegistry.discover().ids()).containsExactly("emulation", "good");
        } finally {
            t.setContextClassLoader(saved);
        }
    }

    @Test
    void unavailableReasonNamesCauseAndRootCause() {
        UnavailableProvider u = new UnavailableProvider("x.jar", "com.example.X",
                new IllegalStateException("outer", new java.io.IOException("disk\nfull")));
        assertThat(u.reason()).isEqualTo("IllegalStateException: outer; root cause: IOException: disk full");
        assertThat(new UnavailableProvider("x.jar", "X", new RuntimeException()).reason()).isEqualTo("RuntimeException");
    }

    @Test
    void moduleLayersAreSearched() {
        // on the class path the boot layer holds no provider; the call must work and find nothing
        ProviderRegistry r = ProviderRegistry.builder().addModuleLayer(ModuleLayer.boot()).build();
        assertThat(r.providers()).isEmpty();
        assertThat(List.copyOf(r.ids())).isEmpty();
    }
}
