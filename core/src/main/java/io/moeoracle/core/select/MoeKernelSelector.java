package io.moeoracle.core.select;

import io.moeoracle.api.MoeKernelProvider;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.device.Vendor;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.core.MoeOracleException;
import io.moeoracle.core.discovery.ProviderRegistry;
import io.moeoracle.core.discovery.RegisteredProvider;
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
 *   <li>A host-side provider ({@link MoeKernelProvider#runsOnHost()}, e.g. {@code emulation}) is never
 *       chosen for a non-CPU device unless requested by id; on a CPU device it is asked after every
 *       device-side provider and wins only as a {@link Explanation.Status#FALLBACK fallback}, with
 *       one WARN line.</li>
 *   <li>The official backends that are not installed and would run the layer (or rank above the
 *       winner) are named in {@link Explanation#notInstalled()}, with the artifact to add.</li>
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
            Explanation e = new Explanation(spec, device, Optional.of(request), VerdictRows.unavailableRows(registry));
            return new Decision(e, Optional.empty(),
                    Optional.of(new UnknownBackend(request.backendId(), request.source())));
        }
        Explanation.Row judged = VerdictRows.judge(1, found.get(), spec, device, false);
        List<Explanation.Row> rows = new ArrayList<>();
        rows.add(judged);
        rows.addAll(VerdictRows.unavailableRows(registry));
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
        List<RegisteredProvider> hostSide = new ArrayList<>();
        MoeKernelProvider winner = null;
        int rank = 1;
        for (RegisteredProvider rp : prioritized) {
            if (settings.excludes(rp.id())) {
                notAsked.add(VerdictRows.excludedRow(rp));
                continue;
            }
            boolean onHost;
            try {
                onHost = rp.provider().runsOnHost();
            } catch (RuntimeException | LinkageError e) {
                rows.add(VerdictRows.errorRow(rank++, rp, OptionalInt.empty(), Optional.empty(),
                        "runsOnHost() threw " + ServiceScan.describe(e), VerdictRows.host(rp.provider())));
                continue;
            }
            if (onHost) {
                hostSide.add(rp);
                continue;
            }
            Explanation.Row judged = VerdictRows.judge(rank++, rp, spec, device, winner != null);
            rows.add(judged);
            if (judged.status() == Explanation.Status.CHOSEN) {
                winner = rp.provider();
            }
        }
        // host-side providers: never a silent fallback for a GPU; on a CPU only after every device-side one
        for (RegisteredProvider rp : hostSide) {
            if (device.vendor() != Vendor.CPU) {
                notAsked.add(VerdictRows.hostOnlyRow(rp, spec, device));
                continue;
            }
            Explanation.Row judged = VerdictRows.judge(rank++, rp, spec, device, winner != null);
            if (judged.status() == Explanation.Status.CHOSEN) {
                winner = rp.provider();
                judged = judged.withStatus(Explanation.Status.FALLBACK);
            }
            rows.add(judged);
        }
        for (RegisteredProvider rp : registry.providers()) {
            if (placed.contains(rp.provider())) {
                continue;
            }
            if (settings.excludes(rp.id())) {
                notAsked.add(VerdictRows.excludedRow(rp));
            } else {
                notAsked.add(VerdictRows.leftOutRow(rp, spec, device, policy));
            }
        }
        rows.addAll(notAsked);
        rows.addAll(VerdictRows.unavailableRows(registry));
        Explanation e = new Explanation(spec, device, Optional.empty(), rows,
                VerdictRows.notInstalledRows(registry, spec, device, rows));
        return new Decision(e, Optional.ofNullable(winner), Optional.empty());
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
        if (e.rows().stream().anyMatch(r -> r.status() == Explanation.Status.FALLBACK)) {
            LOG.warn("moe-oracle: no backend for {} supports {}; falling back to '{}' on the host CPU (slow: for"
                    + " checking, not serving){}", e.device().describe(), e.spec().describe(), e.winnerId().orElseThrow(),
                    e.notInstalled().isEmpty() ? "" : "; add " + e.notInstalled().stream().map(Explanation.Row::providerId)
                            .collect(java.util.stream.Collectors.joining(" or ")) + " to run it natively");
        } else if (d.winner().isPresent()) {
            LOG.info("moe-oracle: backend '{}' chosen for scheme {} on {}; layer {}{}", e.winnerId().orElseThrow(),
                    e.spec().quant(), e.device().describe(), e.spec().describe(), request);
        } else {
            LOG.debug("moe-oracle: no backend can run {} on {}{}", e.spec().describe(), e.device().describe(), request);
        }
    }
}
