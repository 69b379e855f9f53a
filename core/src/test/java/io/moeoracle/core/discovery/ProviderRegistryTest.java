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

            assertThat(fixtureIds(r)).containsExactly("good", "other");
            assertThat(r.providers()).filteredOn(p -> !BUILT_IN.contains(p.id()))
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

    /** Providers the module itself registers (e.g. emulation), found through every child loader too. */
    private static final java.util.Set<String> BUILT_IN =
            ProviderRegistry.builder().addClassLoader(ProviderRegistryTest.class.getClassLoader()).build().ids();

    private static java.util.List<String> fixtureIds(ProviderRegistry r) {
        return r.ids().stream().filter(id -> !BUILT_IN.contains(id)).toList();
    }

    private static UnavailableProvider byName(ProviderRegistry r, String name) {
        return r.unavailable().stream().filter(u -> u.name().equals(name)).findFirst().orElseThrow();
    }

    @Test
    void theSameProviderClassSeenThroughTwoLoadersIsRegisteredOnce() throws IOException {
        try (URLClassLoader a = servicesLoader("good"); URLClassLoader b = servicesLoader("good")) {
            ProviderRegistry r = ProviderRegistry.builder().addClassLoader(a).addClassLoader(b).build();
            assertThat(fixtureIds(r)).containsExactly("good");
        }
    }

    @Test
    void aBrokenProviderSeenThroughTwoLoadersIsListedOnce() throws IOException {
        try (URLClassLoader a = servicesLoader("broken"); URLClassLoader b = servicesLoader("broken")) {
            ProviderRegistry r = ProviderRegistry.builder().addClassLoader(a).addClassLoader(b).build();
            assertThat(fixtureIds(r)).containsExactly("good", "other");
            assertThat(r.unavailable()).hasSize(4);
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
    void aBoundProviderReplacesTheDiscoveredOneWithItsIdOnce() throws Exception {
        FakeProvider configured = FakeProvider.supported("good", 1);
        try (URLClassLoader a = servicesLoader("good"); URLClassLoader b = servicesLoader("good")) {
            ProviderRegistry r = ProviderRegistry.builder().addClassLoader(a).add(configured).addClassLoader(b).build();
            assertThat(r.providers()).filteredOn(p -> p.id().equals("good")).singleElement()
                    .satisfies(p -> assertThat(p.provider()).isSameAs(configured))
                    .satisfies(p -> assertThat(p.source()).isEqualTo(ProviderRegistry.BOUND));
            assertThat(r.unavailable()).isEmpty();
        }
    }

    @Test
    void twoBoundProvidersWithOneIdAreStillAnError() {
        assertThatThrownBy(() -> ProviderRegistry.builder().add(FakeProvider.supported("same", 1))
                .add(FakeProvider.supported("same", 2)).build())
                .isInstanceOf(DuplicateProviderException.class)
                .hasMessageContaining("'same'")
                .hasMessageContaining("bound explicitly");
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
        // whatever the class path declares (core may ship providers) is found, and nothing is broken
        ProviderRegistry r = ProviderRegistry.discover();
        List<String> declared = java.util.ServiceLoader.load(MoeKernelProvider.class).stream()
                .map(p -> p.get().id()).sorted().toList();
        assertThat(List.copyOf(r.ids())).isEqualTo(declared);
        assertThat(r.ids()).doesNotContain("good", "other");
        assertThat(r.unavailable()).isEmpty();
    }

    @Test
    void discoverUsesTheContextClassLoader() throws IOException {
        Thread t = Thread.currentThread();
        ClassLoader saved = t.getContextClassLoader();
        try (URLClassLoader cl = servicesLoader("good")) {
            t.setContextClassLoader(cl);
            assertThat(ProviderRegistry.discover().ids()).contains("good");
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
        assertThat(r.unavailable()).isEmpty();
    }
}
