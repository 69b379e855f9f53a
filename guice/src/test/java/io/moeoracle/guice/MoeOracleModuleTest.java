package io.moeoracle.guice;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.inject.AbstractModule;
import com.google.inject.Guice;
import com.google.inject.Injector;
import io.moeoracle.api.MoeKernelProvider;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.core.device.DeviceRegistry;
import io.moeoracle.core.device.SimulatedDevices;
import io.moeoracle.core.discovery.ProviderRegistry;
import io.moeoracle.core.fixtures.FakeProvider;
import io.moeoracle.core.fixtures.ServiceProviders;
import io.moeoracle.core.fixtures.Specs;
import io.moeoracle.core.select.Candidate;
import io.moeoracle.core.select.DefaultSelectionPolicy;
import io.moeoracle.core.select.MoeKernelSelector;
import io.moeoracle.core.select.SelectionPolicy;
import io.moeoracle.core.select.SelectionSettings;
import java.util.Comparator;
import java.util.List;
import org.junit.jupiter.api.Test;

class MoeOracleModuleTest {
    private static final DeviceInfo SM90 = SimulatedDevices.get("sim:sm_90");

    /** A host's provider, bound by class. */
    public static final class HostProvider extends FakeProviderAdapter {
        /** Guice needs a constructor it can call. */
        public HostProvider() {
            super(FakeProvider.supported("host", 1_000_000));
        }
    }

    /** Delegates to a {@link FakeProvider}. */
    abstract static class FakeProviderAdapter implements MoeKernelProvider {
        private final FakeProvider delegate;

        FakeProviderAdapter(FakeProvider delegate) {
            this.delegate = delegate;
        }

        @Override
        public String id() {
            return delegate.id();
        }

        @Override
        public int priority(io.moeoracle.api.spec.MoeLayerSpec spec, DeviceInfo device) {
            return delegate.priority(spec, device);
        }

        @Override
        public io.moeoracle.api.SupportVerdict isSupported(io.moeoracle.api.spec.MoeLayerSpec spec, DeviceInfo device) {
            return delegate.isSupported(spec, device);
        }

        @Override
        public io.moeoracle.api.MoeKernel create(io.moeoracle.api.spec.MoeLayerSpec spec, DeviceInfo device) {
            return delegate.create(spec, device);
        }
    }

    @Test
    void bindsASingletonSelectorOverServiceLoaderAndMultibinderProviders() {
        FakeProvider byInstance = FakeProvider.supported("by-instance", 10);
        Injector injector = Guice.createInjector(new MoeOracleModule(), new AbstractModule() {
            @Override
            protected void configure() {
                MoeOracleModule.providers(binder()).addBinding().to(HostProvider.class);
                MoeOracleModule.providers(binder()).addBinding().toInstance(byInstance);
                MoeOracleModule.settings(binder()).setBinding().toInstance(SelectionSettings.defaults());
            }
        });
        MoeKernelSelector selector = injector.getInstance(MoeKernelSelector.class);
        assertThat(injector.getInstance(MoeKernelSelector.class)).isSameAs(selector);
        assertThat(selector.registry()).isSameAs(injector.getInstance(ProviderRegistry.class));
        // exactly these: core ships no provider of its own (emulation lives in moe-oracle-reference)
        assertThat(selector.registry().ids()).containsExactlyInAnyOrder("by-instance", "host");
        assertThat(selector.registry().findRegistered("host").orElseThrow().source()).isEqualTo("bound");
        assertThat(selector.policy()).isInstanceOf(DefaultSelectionPolicy.class);
        assertThat(selector.select(Specs.gptOss120b(), SM90).winnerId()).isEqualTo("host");
        assertThat(injector.getInstance(DeviceRegistry.class)).isSameAs(injector.getInstance(DeviceRegistry.class));
        assertThat(injector.getInstance(DeviceRegistry.class).resolve("sim:sm_90")).isEqualTo(SM90);
    }

    @Test
    void theServiceLoaderProvidersAreFoundBesideTheBoundOnes() throws Exception {
        Thread t = Thread.currentThread();
        ClassLoader saved = t.getContextClassLoader();
        java.net.URL url = getClass().getClassLoader().getResource("services/good/");
        try (java.net.URLClassLoader cl = new java.net.URLClassLoader(new java.net.URL[] {url}, saved)) {
            t.setContextClassLoader(cl);
            Injector injector = Guice.createInjector(new MoeOracleModule(), new AbstractModule() {
                @Override
                protected void configure() {
                    MoeOracleModule.providers(binder()).addBinding().to(HostProvider.class);
                }
            });
            ProviderRegistry registry = injector.getInstance(ProviderRegistry.class);
            assertThat(registry.ids()).contains("good", "host");
            assertThat(registry.findRegistered("good").orElseThrow().provider())
                    .isInstanceOf(ServiceProviders.Good.class);
        } finally {
            t.setContextClassLoader(saved);
        }
    }

    @Test
    void aBoundInstanceReplacesTheDiscoveredProviderOfTheSameId() throws Exception {
        Thread t = Thread.currentThread();
        ClassLoader saved = t.getContextClassLoader();
        java.net.URL url = getClass().getClassLoader().getResource("services/good/");
        // a host's configured instance of the provider whose jar (here: services file) is also on the class path
        FakeProvider configured = FakeProvider.supported("good", 7);
        try (java.net.URLClassLoader cl = new java.net.URLClassLoader(new java.net.URL[] {url}, saved)) {
            t.setContextClassLoader(cl);
            Injector injector = Guice.createInjector(new MoeOracleModule(), new AbstractModule() {
                @Override
                protected void configure() {
                    MoeOracleModule.providers(binder()).addBinding().toInstance(configured);
                    MoeOracleModule.settings(binder()).setBinding().toInstance(SelectionSettings.defaults());
                }
            });
            ProviderRegistry registry = injector.getInstance(ProviderRegistry.class);
            assertThat(registry.providers()).filteredOn(r -> r.id().equals("good")).hasSize(1);
            assertThat(registry.find("good")).containsSame(configured);
            assertThat(registry.findRegistered("good").orElseThrow().source()).isEqualTo(ProviderRegistry.BOUND);
            MoeKernelSelector selector = injector.getInstance(MoeKernelSelector.class);
            assertThat(selector.select(Specs.gptOss120b(), SM90).winner()).isSameAs(configured);
        } finally {
            t.setContextClassLoader(saved);
        }
    }

    @Test
    void aHostReplacesThePolicyThroughTheOptionalBinder() {
        // ids in reverse order, priority ignored: "low" before "high"
        SelectionPolicy lowestFirst = (candidates, spec, device) -> candidates.stream()
                .sorted(Comparator.comparing(Candidate::id).reversed()).toList();
        Injector injector = Guice.createInjector(new MoeOracleModule(), new AbstractModule() {
            @Override
            protected void configure() {
                MoeOracleModule.providers(binder()).addBinding().toInstance(FakeProvider.supported("high", 1_000_000));
                MoeOracleModule.providers(binder()).addBinding().toInstance(FakeProvider.supported("low", 1));
                MoeOracleModule.policy(binder()).setBinding().toInstance(lowestFirst);
                MoeOracleModule.settings(binder()).setBinding().toInstance(SelectionSettings.defaults());
            }
        });
        MoeKernelSelector selector = injector.getInstance(MoeKernelSelector.class);
        assertThat(selector.policy()).isSameAs(lowestFirst);
        assertThat(selector.select(Specs.gptOss120b(), SM90).winnerId()).isEqualTo("low");
    }

    @Test
    void settingsDefaultToTheSystemAndCanBeReplaced() {
        Injector plain = Guice.createInjector(new MoeOracleModule());
        assertThat(plain.getInstance(SelectionSettings.class)).isEqualTo(SelectionSettings.fromSystem());
        Injector custom = Guice.createInjector(new MoeOracleModule(), new AbstractModule() {
            @Override
            protected void configure() {
                MoeOracleModule.providers(binder()).addBinding().toInstance(FakeProvider.supported("a", 1_000_000));
                MoeOracleModule.providers(binder()).addBinding().toInstance(FakeProvider.supported("b", 2_000_000));
                MoeOracleModule.settings(binder()).setBinding()
                        .toInstance(SelectionSettings.defaults().withExclude("b"));
            }
        });
        assertThat(custom.getInstance(MoeKernelSelector.class).select(Specs.gptOss120b(), SM90).winnerId())
                .isEqualTo("a");
        assertThat(List.copyOf(custom.getInstance(MoeKernelSelector.class).settings().exclude())).containsExactly("b");
    }
}
