package io.moeoracle.guice;

import com.google.inject.AbstractModule;
import com.google.inject.Binder;
import com.google.inject.Key;
import com.google.inject.Provider;
import com.google.inject.Singleton;
import com.google.inject.TypeLiteral;
import com.google.inject.multibindings.Multibinder;
import com.google.inject.multibindings.OptionalBinder;
import io.moeoracle.api.MoeKernelProvider;
import io.moeoracle.core.device.DeviceRegistry;
import io.moeoracle.core.discovery.ProviderRegistry;
import io.moeoracle.core.select.MoeKernelSelector;
import io.moeoracle.core.select.SelectionPolicy;
import io.moeoracle.core.select.SelectionSettings;
import java.util.Set;

/**
 * Binds a singleton {@link MoeKernelSelector} over the providers found with
 * {@link java.util.ServiceLoader} plus those a host adds:
 * <pre>{@code
 * MoeOracleModule.providers(binder()).addBinding().to(MyProvider.class);
 * MoeOracleModule.providers(binder()).addBinding().toInstance(new CpuMoeProvider(cpuOptions)); // configured
 * MoeOracleModule.policy(binder()).setBinding().to(MyPolicy.class);   // optional
 * MoeOracleModule.settings(binder()).setBinding().toInstance(...);     // optional
 * }</pre>
 * A bound provider whose id a ServiceLoader provider also has (its jar is on the class path too)
 * replaces that one: the host's configured instance wins, and the system properties stay the
 * defaults of the discovered providers only. Also binds {@link ProviderRegistry}, {@link SelectionPolicy} (default: the one
 * {@code moe.policy} names, {@code DefaultSelectionPolicy} when unset), {@link SelectionSettings} (default: from system properties and
 * environment) and {@link DeviceRegistry}, all singletons.
 */
@SuppressWarnings("exports") // Guice types in the signatures: hosts using this module require Guice themselves
public final class MoeOracleModule extends AbstractModule {
    private static final Key<Set<MoeKernelProvider>> PROVIDERS = Key.get(new TypeLiteral<Set<MoeKernelProvider>>() { });

    /** Creates the module. */
    public MoeOracleModule() {
    }

    /**
     * @param binder the binder of any module
     * @return the set binder hosts add providers to, beside the ServiceLoader ones
     */
    public static Multibinder<MoeKernelProvider> providers(Binder binder) {
        return Multibinder.newSetBinder(binder, MoeKernelProvider.class);
    }

    /**
     * @param binder the binder of any module
     * @return the optional binder whose {@code setBinding()} replaces the default policy
     */
    public static OptionalBinder<SelectionPolicy> policy(Binder binder) {
        return OptionalBinder.newOptionalBinder(binder, SelectionPolicy.class);
    }

    /**
     * @param binder the binder of any module
     * @return the optional binder whose {@code setBinding()} replaces the settings read from the system
     */
    public static OptionalBinder<SelectionSettings> settings(Binder binder) {
        return OptionalBinder.newOptionalBinder(binder, SelectionSettings.class);
    }

    @Override
    protected void configure() {
        providers(binder());
        policy(binder()).setDefault().toInstance(SelectionPolicy.fromSystem());
        settings(binder()).setDefault().toProvider(SelectionSettings::fromSystem).in(Singleton.class);

        Provider<Set<MoeKernelProvider>> bound = getProvider(PROVIDERS);
        Provider<ProviderRegistry> registry = getProvider(ProviderRegistry.class);
        Provider<SelectionPolicy> policy = getProvider(SelectionPolicy.class);
        Provider<SelectionSettings> settings = getProvider(SelectionSettings.class);
        bind(ProviderRegistry.class)
                .toProvider(() -> ProviderRegistry.builder().addDefaultSources().addAll(bound.get()).build())
                .in(Singleton.class);
        bind(MoeKernelSelector.class)
                .toProvider(() -> new MoeKernelSelector(registry.get(), policy.get(), settings.get()))
                .in(Singleton.class);
        bind(DeviceRegistry.class).toProvider(DeviceRegistry::discover).in(Singleton.class);
    }
}
