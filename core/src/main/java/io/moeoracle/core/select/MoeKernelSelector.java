package io.moeoracle.core.select;

import io.moeoracle.api.HostAvailability;
import io.moeoracle.api.MoeKernelProvider;
import io.moeoracle.api.SupportVerdict;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.spec.ActivationType;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.core.MoeOracleException;
import io.moeoracle.core.discovery.ProviderRegistry;
import io.moeoracle.core.discovery.RegisteredProvider;
import io.moeoracle.core.discovery.UnavailableProvider;
import io.moeoracle.core.internal.ServiceScan;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one selector: which provider runs this layer on this device, and why not the others.
 *
 * <ol>
 *   <li>An explicit request ({@code spec.requestedBackend()}, else the system property
 *       {@code moe.backend}, else the environment variable {@code MOE_BACKEND}) judges only that
 *       backend: it runs, or {@link BackendUnsupportedException} says why not; an unknown id gives
 *       {@link UnknownBackendException} listing the known ones.</li>
 *   <li>Otherwise the {@link SelectionPolicy} orders the providers, {@code moe.priority} moves the
 *       listed ids to the front and {@code moe.exclude} removes ids; each provider is asked in
 *       turn, the first supported wins, and every verdict is kept in the {@link Explanation}.</li>
 * </ol>
 * A provider that throws becomes an error row and never stops the others. Decisions are cached
 * per (spec, device), so each is computed and logged (one INFO line for the winner, one DEBUG
 * line per rejected provider) once; the selector is thread-safe.
 */
public final class MoeKernelSelector {
    private static final Logger LOG = LoggerFactory.getLogger(MoeKernelSelector.class);

    private final ProviderRegistry registry;
    private final SelectionPolicy policy;
    private final SelectionSettings settings;
    private final ConcurrentMap<Key, CompletableFuture<Decision>> cache = new ConcurrentHashMap<>();
    /** Decisions this thread is computing now: a provider asking about the same one would wait on itself. */
    private final ThreadLocal<java.util.Set<Key>> computing = ThreadLocal.withInitial(java.util.HashSet::new);
    private final AtomicInteger decisionsComputed = new AtomicInteger();

    private record Key(MoeLayerSpec spec, DeviceInfo device) {
    }

    /** The outcome of one decision; at most one of winner and failure is present. */
    private record Decision(Explanation explanation, Optional<MoeKernelProvider> winner, Optional<Failure> failure) {
    }

    private sealed interface Failure permits UnknownBackend, Unsupported {
    }

    private record UnknownBackend(String requested, String source) implements Failure {
    }

    private record Unsupported(String id, String source, String reason, String remedy) implements Failure {
    }

    /**
     * @param registry the providers
     * @param policy the order to try them in
     * @param settings the user's overrides
     */
    public MoeKernelSelector(ProviderRegistry registry, SelectionPolicy policy, SelectionSettings settings) {
        this.registry = Objects.requireNonNull(registry, "registry");
        this.policy = Objects.requireNonNull(policy, "policy");
        this.settings = Objects.requireNonNull(settings, "settings");
    }

    /**
     * @return a selector over the discovered providers ({@link ProviderRegistry#discover()}), the
     *     default policy and the overrides of this JVM ({@link SelectionSettings#fromSystem()})
     */
    public static MoeKernelSelector create() {
        return new MoeKernelSelector(ProviderRegistry.discover(), new DefaultSelectionPolicy(),
                SelectionSettings.fromSystem());
    }

    /** @return the providers this selector chooses from */
    public ProviderRegistry registry() {
        return registry;
    }

    /** @return the policy */
    public SelectionPolicy policy() {
        return policy;
    }

    /** @return the overrides */
    public SelectionSettings settings() {
        return settings;
    }

    /**
     * Chooses the provider for a layer on a device.
     *
     * @param spec the layer
     * @param device the device, real or simulated
     * @return the winner and the explanation
     * @throws NoKernelAvailableException when no provider supports it
     * @throws UnknownBackendException when an explicitly requested id is unknown
     * @throws BackendUnsupportedException when an explicitly requested backend cannot run it
     */
    public Selection select(MoeLayerSpec spec, DeviceInfo device) {
        return trySelect(spec, device).orElseThrow(() -> new NoKernelAvailableException(decide(spec, device).explanation()));
    }

    /**
     * Like {@link #select} but returns empty when no provider supports the layer.
     *
     * @param spec the layer
     * @param device the device
     * @return the selection, or empty
     * @throws UnknownBackendException when an explicitly requested id is unknown
     * @throws BackendUnsupportedException when an explicitly requested backend cannot run it
     */
    public Optional<Selection> trySelect(MoeLayerSpec spec, DeviceInfo device) {
        Decision d = decide(spec, device);
        throwIfFailed(d);
        return d.winner().map(w -> new Selection(w, spec, device, d.explanation()));
    }

    /**
     * Every verdict for a layer on a device; does not throw when nothing supports it.
     *
     * @param spec the layer
     * @param device the device
     * @return the explanation
     * @throws UnknownBackendException when an explicitly requested id is unknown
     * @throws BackendUnsupportedException when an explicitly requested backend cannot run it
     */
    public Explanation explain(MoeLayerSpec spec, DeviceInfo device) {
        Decision d = decide(spec, device);
        throwIfFailed(d);
        return d.explanation();
    }

    /** @return how many distinct decisions were computed (for tests of the cache) */
    int decisionsComputed() {
        return decisionsComputed.get();
    }

    private void throwIfFailed(Decision d) {
        if (d.failure().isEmpty()) {
            return;
        }
        switch (d.failure().get()) {
            case UnknownBackend u -> throw new UnknownBackendException(u.requested(), u.source(), registry.ids(),
                    registry.unavailable());
            case Unsupported u -> throw new BackendUnsupportedException(u.id(), u.source(), u.reason(), u.remedy(),
                    d.explanation());
        }
    }

    private Decision decide(MoeLayerSpec spec, DeviceInfo device) {
        Objects.requireNonNull(spec, "spec");
        Objects.requireNonNull(device, "device");
        Key key = new Key(spec, device);
        if (computing.get().contains(key)) {
            throw new MoeOracleException("a backend asked the selector about " + spec.describe() + " on "
                    + device.describe() + " while that very decision was being made, which would wait on itself."
                    + " A provider must judge a layer without calling back into the selector for the same layer.");
        }
        CompletableFuture<Decision> f = cache.get(key);
        if (f == null) {
            CompletableFuture<Decision> mine = new CompletableFuture<>();
            f = cache.putIfAbsent(key, mine);
            if (f == null) {
                f = mine;
                computing.get().add(key);
                try {
                    mine.complete(compute(spec, device));
                } catch (RuntimeException | Error e) {
                    // not cached: the next call tries again
                    cache.remove(key, mine);
                    mine.completeExceptionally(e);
                    throw e;
                } finally {
                    computing.get().remove(key);
                }
            }
        }
        try {
            return f.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            throw e;
        }
    }

    private Decision compute(MoeLayerSpec spec, DeviceInfo device) {
        decisionsComputed.incrementAndGet();
        Optional<Explanation.Request> request = spec.requestedBackend()
                .map(id -> new Explanation.Request(id, "spec.requestedBackend"))
                .or(() -> settings.backend().map(id -> new Explanation.Request(id,
                        "system property " + SelectionSettings.BACKEND_PROPERTY)))
                .or(() -> settings.backendFromEnv().map(id -> new Explanation.Request(id,
                        "environment variable " + SelectionSettings.BACKEND_ENV)));
        Decision d = request.isPresent() ? explicit(spec, device, request.get()) : ordered(spec, device);
        log(d);
        return d;
    }

    private Decision explicit(MoeLayerSpec spec, DeviceInfo device, Explanation.Request request) {
        Optional<RegisteredProvider> found = registry.findRegistered(request.backendId());
        if (found.isEmpty()) {
            Explanation e = new Explanation(spec, device, Optional.of(request), unavailableRows());
            return new Decision(e, Optional.empty(),
                    Optional.of(new UnknownBackend(request.backendId(), request.source())));
        }
        Explanation.Row judged = judge(1, found.get(), spec, device, false);
        List<Explanation.Row> rows = new ArrayList<>();
        rows.add(judged);
        rows.addAll(unavailableRows());
        Explanation e = new Explanation(spec, device, Optional.of(request), rows);
        if (judged.status() == Explanation.Status.CHOSEN) {
            return new Decision(e, Optional.of(found.get().provider()), Optional.empty());
        }
        return new Decision(e, Optional.empty(), Optional.of(new Unsupported(found.get().id(), request.source(),
                judged.reason(), judged.remedy())));
    }

    private Decision ordered(MoeLayerSpec spec, DeviceInfo device) {
        Map<MoeKernelProvider, RegisteredProvider> byInstance = new IdentityHashMap<>();
        List<MoeKernelProvider> candidates = new ArrayList<>();
        for (RegisteredProvider rp : registry.providers()) {
            byInstance.put(rp.provider(), rp);
            candidates.add(rp.provider());
        }
        List<MoeKernelProvider> policyOrder;
        try {
            policyOrder = policy.order(Collections.unmodifiableList(candidates), spec, device);
        } catch (RuntimeException e) {
            throw new MoeOracleException("the selection policy " + policy.getClass().getName() + " failed to order the"
                    + " backends for " + spec.describe() + " on " + device.describe() + ": " + ServiceScan.describe(e)
                    + ". Fix or unbind that policy (the default is DefaultSelectionPolicy).", e);
        }
        // keep only registered providers, each once, in the policy's order
        List<RegisteredProvider> order = new ArrayList<>();
        Set<MoeKernelProvider> placed = Collections.newSetFromMap(new IdentityHashMap<>());
        for (MoeKernelProvider p : policyOrder == null ? List.<MoeKernelProvider>of() : policyOrder) {
            RegisteredProvider rp = p == null ? null : byInstance.get(p);
            if (rp != null && placed.add(p)) {
                order.add(rp);
            }
        }
        // moe.priority: the listed ids first, in the listed order; the rest keep the policy's order
        List<RegisteredProvider> prioritized = new ArrayList<>();
        for (String id : settings.priority()) {
            order.stream().filter(rp -> rp.id().equalsIgnoreCase(id)).findFirst().ifPresent(prioritized::add);
        }
        for (RegisteredProvider rp : order) {
            if (!prioritized.contains(rp)) {
                prioritized.add(rp);
            }
        }

        List<Explanation.Row> rows = new ArrayList<>();
        List<Explanation.Row> notAsked = new ArrayList<>();
        MoeKernelProvider winner = null;
        int rank = 1;
        for (RegisteredProvider rp : prioritized) {
            if (settings.excludes(rp.id())) {
                notAsked.add(excludedRow(rp));
                continue;
            }
            Explanation.Row judged = judge(rank++, rp, spec, device, winner != null);
            rows.add(judged);
            if (judged.status() == Explanation.Status.CHOSEN) {
                winner = rp.provider();
            }
        }
        for (RegisteredProvider rp : registry.providers()) {
            if (placed.contains(rp.provider())) {
                continue;
            }
            if (settings.excludes(rp.id())) {
                notAsked.add(excludedRow(rp));
            } else {
                notAsked.add(leftOutRow(rp, spec, device));
            }
        }
        rows.addAll(notAsked);
        rows.addAll(unavailableRows());
        Explanation e = new Explanation(spec, device, Optional.empty(), rows);
        return new Decision(e, Optional.ofNullable(winner), Optional.empty());
    }

    private static Explanation.Row judge(int rank, RegisteredProvider rp, MoeLayerSpec spec, DeviceInfo device,
                             boolean alreadyChosen) {
        MoeKernelProvider p = rp.provider();
        HostAvailability host = host(p);
        OptionalInt priority = OptionalInt.empty();
        Optional<ActivationType> act = Optional.empty();
        try {
            priority = OptionalInt.of(p.priority(spec, device));
            act = Optional.ofNullable(p.activationType(spec, device));
        } catch (RuntimeException | LinkageError e) {
            String which = priority.isPresent() ? "activationType()" : "priority()";
            return errorRow(rank, rp, priority, act, which + " threw " + ServiceScan.describe(e), host);
        }
        SupportVerdict verdict;
        try {
            verdict = p.isSupported(spec, device);
        } catch (RuntimeException | LinkageError e) {
            return errorRow(rank, rp, priority, act, "isSupported() threw " + ServiceScan.describe(e), host);
        }
        if (verdict == null) {
            return errorRow(rank, rp, priority, act, "isSupported() returned null", host);
        }
        return switch (verdict) {
            case SupportVerdict.Supported s -> new Explanation.Row(rank, rp.id(), priority, act,
                    alreadyChosen ? Explanation.Status.SUPPORTED_NOT_CHOSEN : Explanation.Status.CHOSEN,
                    s.note(), "", host, rp.source());
            case SupportVerdict.Unsupported u -> new Explanation.Row(rank, rp.id(), priority, act,
                    Explanation.Status.UNSUPPORTED, u.reason(), u.remedy(), host, rp.source());
        };
    }

    private static Explanation.Row errorRow(int rank, RegisteredProvider rp, OptionalInt priority,
                                            Optional<ActivationType> act, String what, HostAvailability host) {
        return new Explanation.Row(rank, rp.id(), priority, act, Explanation.Status.ERROR, "error: " + what,
                "report this to the backend's authors; meanwhile skip it with -D" + SelectionSettings.EXCLUDE_PROPERTY
                        + "=" + rp.id(), host, rp.source());
    }

    private static HostAvailability host(MoeKernelProvider p) {
        try {
            HostAvailability h = p.hostAvailability();
            return h == null ? HostAvailability.no("hostAvailability() returned null") : h;
        } catch (RuntimeException | LinkageError e) {
            return HostAvailability.no("hostAvailability() threw " + ServiceScan.describe(e));
        }
    }

    private static Explanation.Row excludedRow(RegisteredProvider rp) {
        return new Explanation.Row(0, rp.id(), OptionalInt.empty(), Optional.empty(), Explanation.Status.EXCLUDED,
                "excluded by " + SelectionSettings.EXCLUDE_PROPERTY, "remove '" + rp.id() + "' from "
                + SelectionSettings.EXCLUDE_PROPERTY + " (or " + SelectionSettings.EXCLUDE_ENV + ") to consider it",
                new HostAvailability(false, Optional.of("not checked")), rp.source());
    }

    private Explanation.Row leftOutRow(RegisteredProvider rp, MoeLayerSpec spec, DeviceInfo device) {
        MoeKernelProvider p = rp.provider();
        OptionalInt priority = OptionalInt.empty();
        Optional<ActivationType> act = Optional.empty();
        try {
            priority = OptionalInt.of(p.priority(spec, device));
            act = Optional.ofNullable(p.activationType(spec, device));
        } catch (RuntimeException | LinkageError e) {
            String which = priority.isPresent() ? "activationType()" : "priority()";
            return errorRow(0, rp, priority, act, which + " threw " + ServiceScan.describe(e), host(p));
        }
        return new Explanation.Row(0, rp.id(), priority, act, Explanation.Status.EXCLUDED,
                "left out by the selection policy " + policy, "bind another SelectionPolicy to consider it",
                host(p), rp.source());
    }

    private List<Explanation.Row> unavailableRows() {
        List<Explanation.Row> rows = new ArrayList<>();
        for (UnavailableProvider u : registry.unavailable()) {
            rows.add(new Explanation.Row(0, u.name(), OptionalInt.empty(), Optional.empty(),
                    Explanation.Status.UNAVAILABLE, "failed to load: " + u.reason(),
                    "fix or remove the backend jar (" + u.source() + ")", HostAvailability.no("failed to load"),
                    u.source()));
        }
        return rows;
    }

    private static void log(Decision d) {
        Explanation e = d.explanation();
        String request = e.request().map(r -> ", requested by " + r.source()).orElse("");
        for (Explanation.Row r : e.rows()) {
            if (r.status() == Explanation.Status.UNSUPPORTED || r.status() == Explanation.Status.ERROR
                    || r.status() == Explanation.Status.EXCLUDED) {
                LOG.debug("moe-oracle: backend '{}' rejected for {} on {}: {}{}", r.providerId(),
                        e.spec().describe(), e.device().id(), r.reason(),
                        r.remedy().isBlank() ? "" : " (fix: " + r.remedy() + ")");
            }
        }
        if (d.winner().isPresent()) {
            LOG.info("moe-oracle: backend '{}' chosen for scheme {} on {}; layer {}{}", e.winnerId().orElseThrow(),
                    e.spec().quant(), e.device().describe(), e.spec().describe(), request);
        } else {
            LOG.debug("moe-oracle: no backend can run {} on {}{}", e.spec().describe(), e.device().describe(), request);
        }
    }
}
