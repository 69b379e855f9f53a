package io.moeoracle.core.discovery;

import io.moeoracle.api.MoeKernelProvider;
import io.moeoracle.core.internal.ServiceScan;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The kernel backends found on this host's class path and module layers, plus those a host bound
 * explicitly. Immutable once built. A provider that fails to load, whose constructor throws or
 * whose {@code id()} throws is listed in {@link #unavailable()} and never stops the others from
 * being found. A provider bound explicitly (a host's configured instance, e.g. through Guice)
 * replaces a discovered one with the same id, with one INFO line saying which replaced which (so a
 * host can configure a provider whose jar is also on the class path); any other two providers with
 * one id are an error ({@link DuplicateProviderException}).
 */
public final class ProviderRegistry {
    private static final Logger LOG = LoggerFactory.getLogger(ProviderRegistry.class);
    /** The source of providers added with {@link Builder#add}. */
    public static final String BOUND = "bound";

    private final List<RegisteredProvider> providers;
    private final List<UnavailableProvider> unavailable;
    private final Map<String, RegisteredProvider> byId;

    private ProviderRegistry(List<RegisteredProvider> providers, List<UnavailableProvider> unavailable) {
        // ids are unique here (build() refuses duplicates), so a sorted map orders them; no comparator lambdas
        // on a cold JVM's discovery path
        TreeMap<String, RegisteredProvider> sorted = new TreeMap<>();
        for (RegisteredProvider p : providers) {
            sorted.put(p.id(), p);
        }
        if (sorted.size() != providers.size()) {
            throw new IllegalArgumentException("two registered providers share an id: " + providers);
        }
        this.providers = List.copyOf(sorted.values());
        this.unavailable = List.copyOf(unavailable);
        Map<String, RegisteredProvider> m = new LinkedHashMap<>();
        for (RegisteredProvider p : this.providers) {
            m.put(p.id(), p);
        }
        this.byId = Collections.unmodifiableMap(m);
    }

    /** @return a builder with no sources */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Finds providers with {@link ServiceLoader} over this class's loader, the thread's context
     * loader and, when core runs on the module path, the boot module layer.
     *
     * @return the registry
     * @throws DuplicateProviderException when two providers share an id
     */
    public static ProviderRegistry discover() {
        return builder().addDefaultSources().build();
    }

    /** @return the providers, sorted by id */
    public List<RegisteredProvider> providers() {
        return providers;
    }

    /** @return the providers that could not be used, with their causes */
    public List<UnavailableProvider> unavailable() {
        return unavailable;
    }

    /**
     * @param id a provider id (exact, or differing only in case)
     * @return the provider with that id
     */
    public Optional<MoeKernelProvider> find(String id) {
        return findRegistered(id).map(RegisteredProvider::provider);
    }

    /**
     * @param id a provider id (exact, or differing only in case)
     * @return the registration with that id
     */
    public Optional<RegisteredProvider> findRegistered(String id) {
        RegisteredProvider exact = byId.get(id);
        if (exact != null) {
            return Optional.of(exact);
        }
        String lower = id.trim().toLowerCase(Locale.ROOT);
        for (RegisteredProvider p : providers) {
            if (p.id().toLowerCase(Locale.ROOT).equals(lower)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    /**
     * @param provider a provider instance
     * @return its registration, when this registry holds that very instance
     */
    public Optional<RegisteredProvider> registration(MoeKernelProvider provider) {
        for (RegisteredProvider p : providers) {
            if (p.provider() == provider) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    /** @return the ids, sorted */
    public Set<String> ids() {
        return Collections.unmodifiableSet(new TreeSet<>(byId.keySet()));
    }

    /** @return whether no provider is available */
    public boolean isEmpty() {
        return providers.isEmpty();
    }

    @Override
    public String toString() {
        return "ProviderRegistry" + ids() + (unavailable.isEmpty() ? "" : " (" + unavailable.size() + " unavailable)");
    }

    /** Collects sources, then loads every provider once in {@link #build()}. */
    public static final class Builder {
        private final Set<ClassLoader> loaders = new LinkedHashSet<>();
        private final Set<ModuleLayer> layers = new LinkedHashSet<>();
        private final Map<MoeKernelProvider, Boolean> bound = new IdentityHashMap<>();
        private final List<MoeKernelProvider> boundOrder = new ArrayList<>();
        private final List<UnavailableProvider> preFailed = new ArrayList<>();

        private Builder() {
        }

        /**
         * @param loader a class loader whose {@code META-INF/services} (and named modules) to search
         * @return this
         */
        public Builder addClassLoader(ClassLoader loader) {
            loaders.add(java.util.Objects.requireNonNull(loader, "loader"));
            return this;
        }

        /**
         * @param layer a module layer whose modules' {@code provides} clauses to use (its parents too)
         * @return this
         */
        public Builder addModuleLayer(ModuleLayer layer) {
            layers.add(java.util.Objects.requireNonNull(layer, "layer"));
            return this;
        }

        /**
         * Adds a provider instance directly; its source is {@code "bound"}.
         *
         * @param provider the provider
         * @return this
         */
        public Builder add(MoeKernelProvider provider) {
            java.util.Objects.requireNonNull(provider, "provider");
            if (bound.put(provider, Boolean.TRUE) == null) {
                boundOrder.add(provider);
            }
            return this;
        }

        /**
         * Records a source of providers that could not be opened (a damaged jar in a plugins folder,
         * a module that does not resolve), so that it is listed in {@link ProviderRegistry#unavailable()}
         * and in every explanation like a provider that failed to load.
         *
         * @param source where it was found, e.g. the jar's path
         * @param name what it is: a class name, or the jar's file name when no class is known
         * @param cause what went wrong
         * @return this
         */
        public Builder addUnavailable(String source, String name, Throwable cause) {
            preFailed.add(new UnavailableProvider(source, name, cause));
            return this;
        }

        /**
         * Adds several provider instances.
         *
         * @param providers the providers
         * @return this
         */
        public Builder addAll(Iterable<? extends MoeKernelProvider> providers) {
            for (MoeKernelProvider p : providers) {
                add(p);
            }
            return this;
        }

        /**
         * Adds the sources {@link ProviderRegistry#discover()} uses: this class's loader, the
         * thread's context loader, and the boot layer when core is a named module.
         *
         * @return this
         */
        public Builder addDefaultSources() {
            ClassLoader own = ProviderRegistry.class.getClassLoader();
            if (own != null) {
                addClassLoader(own);
            }
            ClassLoader context = Thread.currentThread().getContextClassLoader();
            if (context != null) {
                addClassLoader(context);
            }
            if (ProviderRegistry.class.getModule().isNamed()) {
                addModuleLayer(ModuleLayer.boot());
            }
            return this;
        }

        /**
         * Loads every provider.
         *
         * @return the registry
         * @throws DuplicateProviderException when two providers share an id
         */
        public ProviderRegistry build() {
            List<RegisteredProvider> found = new ArrayList<>();
            List<UnavailableProvider> failed = new ArrayList<>();
            Set<String> failedKeys = new HashSet<>();
            Map<String, RegisteredProvider> byId = new HashMap<>();
            Set<Class<?>> seen = new HashSet<>();
            Set<String> replaced = new HashSet<>();

            for (MoeKernelProvider p : boundOrder) {
                register(p, BOUND, describe(p.getClass()) + " (bound explicitly)", found, failed, failedKeys, byId, replaced);
            }
            List<ServiceScan.Scan<MoeKernelProvider>> scans = new ArrayList<>();
            for (ClassLoader loader : loaders) {
                scans.add(ServiceScan.scan(ServiceLoader.load(MoeKernelProvider.class, loader), "class loader " + loader,
                        seen));
            }
            for (ModuleLayer layer : layers) {
                scans.add(ServiceScan.scan(ServiceLoader.load(layer, MoeKernelProvider.class), "module layer " + layer,
                        seen));
            }
            for (ServiceScan.Scan<MoeKernelProvider> scan : scans) {
                for (ServiceScan.Found<MoeKernelProvider> f : scan.found()) {
                    register(f.instance(), f.source(), describe(f.type()), found, failed, failedKeys, byId, replaced);
                }
                for (ServiceScan.Failed f : scan.failed()) {
                    fail(new UnavailableProvider(f.source(), f.name(), f.cause()), failed, failedKeys);
                }
            }
            for (UnavailableProvider u : preFailed) {
                fail(u, failed, failedKeys);
            }
            for (UnavailableProvider u : failed) {
                LOG.warn("kernel backend {} from {} is unavailable: {}", u.name(), u.source(), u.reason());
            }
            return new ProviderRegistry(found, failed);
        }

        private static String describe(Class<?> type) {
            return type.getName() + " from " + ServiceScan.sourceOf(type);
        }

        private static void register(MoeKernelProvider p, String source, String origin, List<RegisteredProvider> found,
                                     List<UnavailableProvider> failed, Set<String> failedKeys,
                                     Map<String, RegisteredProvider> byId, Set<String> replaced) {
            String id;
            try {
                id = p.id();
            } catch (RuntimeException | LinkageError e) {
                fail(new UnavailableProvider(source, p.getClass().getName(), e), failed, failedKeys);
                return;
            }
            if (id == null || id.isBlank()) {
                fail(new UnavailableProvider(source, p.getClass().getName(),
                        new IllegalStateException("id() returned " + (id == null ? "null" : "a blank string")
                                + "; a provider needs a unique, non-blank id")), failed, failedKeys);
                return;
            }
            RegisteredProvider r = new RegisteredProvider(p, id, source);
            RegisteredProvider previous = byId.putIfAbsent(id, r);
            if (previous != null && BOUND.equals(previous.source()) && !BOUND.equals(source)) {
                // bound ones come first: the host's configured instance wins over the jar's default one
                if (replaced.add(id)) {
                    LOG.info("moe-oracle: backend '{}' bound explicitly ({}) replaces the one discovered ({})", id,
                            describe(previous.provider().getClass()), origin);
                }
                return;
            }
            if (previous != null) {
                throw new DuplicateProviderException(id, originOf(previous), origin);
            }
            found.add(r);
        }

        private static String originOf(RegisteredProvider r) {
            String d = describe(r.provider().getClass());
            return BOUND.equals(r.source()) ? d + " (bound explicitly)" : d;
        }

        private static void fail(UnavailableProvider u, List<UnavailableProvider> failed, Set<String> keys) {
            // one entry per broken provider even when two loaders see its services file
            String key = "?".equals(u.name()) ? u.source() + "|" + u.reason() : u.name() + "|" + u.reason();
            if (keys.add(key)) {
                failed.add(u);
            }
        }
    }
}
