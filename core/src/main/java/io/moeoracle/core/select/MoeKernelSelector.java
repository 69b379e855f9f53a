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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
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
 * A provider that throws becomes an error row and never stops the others. Each provider's priority,
 * activation type and host-sidedness are asked once per decision and handed to the policy as plain
 * {@link Candidate} values. Decisions are cached per (spec, device), at most
 * {@code moe.selector.cacheSize} of them (least recently used dropped first), so each is computed
 * and logged (one INFO line for the winner, one DEBUG line per rejected provider) once while kept;
 * the selector is thread-safe.
 */
public final class MoeKernelSelector {
    private static final Logger LOG = LoggerFactory.getLogger(MoeKernelSelector.class);

    private final ProviderRegistry registry;
    private final SelectionPolicy policy;
    private final SelectionSettings settings;
    private final DecisionCache<Key, Decision> cache;
    private final Decide decide = new Decide();
    private final AtomicInteger decisionsComputed = new AtomicInteger();

    /**
     * A decision's key. Its equals and hashCode, and those of the spec and the device, are written
     * out: generated ones bootstrap through ObjectMethods on first use, ~10 ms of a fresh JVM's first
     * select (BENCHMARKS.md, cold discovery).
     */
    private record Key(MoeLayerSpec spec, DeviceInfo device) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && spec.equals(k.spec) && device.equals(k.device);
        }

        @Override
        public int hashCode() {
            return 31 * spec.hashCode() + device.hashCode();
        }
    }

    /** Computes a missing decision; one object for every call, so a cached select allocates no lambda. */
    private final class Decide implements DecisionCache.Computation<Key, Decision> {
        @Override
        public Decision compute(Key key) {
            return MoeKernelSelector.this.compute(key.spec(), key.device());
        }

        @Override
        public RuntimeException reentered(Key key) {
            return new MoeOracleException("a backend asked the selector about " + key.spec().describe() + " on "
                    + key.device().describe() + " while that very decision was being made, which would wait on"
                    + " itself. A provider must judge a layer without calling back into the selector for the same"
                    + " layer.");
        }
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
        this.cache = new DecisionCache<>(settings.cacheSize());
    }

    /**
     * @return a selector over the discovered providers ({@link ProviderRegistry#discover()}), the
     *     policy {@code moe.policy} names ({@link SelectionPolicy#fromSystem()}, the default one when unset) and the overrides of this JVM ({@link SelectionSettings#fromSystem()})
     */
    public static MoeKernelSelector create() {
        return new MoeKernelSelector(ProviderRegistry.discover(), SelectionPolicy.fromSystem(),
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
        Decision d = decide(spec, device);
        throwIfFailed(d);
        if (d.winner().isEmpty()) {
            throw new NoKernelAvailableException(d.explanation());
        }
        return new Selection(d.winner().get(), spec, device, d.explanation());
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
        return d.winner().isEmpty() ? Optional.empty()
                : Optional.of(new Selection(d.winner().get(), spec, device, d.explanation()));
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

    /** @return how many decisions are kept now (at most {@link SelectionSettings#cacheSize()}) */
    int decisionsKept() {
        return cache.size();
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
        return cache.get(new Key(spec, device), decide);
    }

    private Decision compute(MoeLayerSpec spec, DeviceInfo device) {
        decisionsComputed.incrementAndGet();
        // plain ifs and loops in what follows, not lambdas: this is a cold JVM's first select
        Optional<Explanation.Request> request = Optional.empty();
        if (spec.requestedBackend().isPresent()) {
            request = Optional.of(new Explanation.Request(spec.requestedBackend().get(), "spec.requestedBackend"));
        } else if (settings.backend().isPresent()) {
            request = Optional.of(new Explanation.Request(settings.backend().get(),
                    "system property " + SelectionSettings.BACKEND.name()));
        } else if (settings.backendFromEnv().isPresent()) {
            request = Optional.of(new Explanation.Request(settings.backendFromEnv().get(),
                    "environment variable " + SelectionSettings.BACKEND.env().orElseThrow()));
        }
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
        List<Explanation.Row> rows = new ArrayList<>();
        Optional<Candidate> c = VerdictRows.candidate(found.get(), spec, device, 1, rows);
        Explanation.Row judged = c.isPresent() ? VerdictRows.judge(1, found.get(), c.get(), spec, device, false)
                : rows.removeFirst();
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
        List<Explanation.Row> rows = new ArrayList<>();
        List<Explanation.Row> notAsked = new ArrayList<>();
        Map<String, RegisteredProvider> byId = new LinkedHashMap<>();
        Map<String, Candidate> candidates = new LinkedHashMap<>();
        for (RegisteredProvider rp : registry.providers()) {
            if (settings.excludes(rp.id())) {
                notAsked.add(VerdictRows.excludedRow(rp));
                continue;
            }
            Optional<Candidate> c = VerdictRows.candidate(rp, spec, device, 0, notAsked);
            if (c.isPresent()) {
                byId.put(rp.id(), rp);
                candidates.put(rp.id(), c.get());
            }
        }
        List<Candidate> policyOrder;
        try {
            Map<String, MoeKernelProvider> providers = new LinkedHashMap<>();
            for (Map.Entry<String, RegisteredProvider> e : byId.entrySet()) {
                providers.put(e.getKey(), e.getValue().provider());
            }
            policyOrder = policy.order(List.copyOf(candidates.values()), Map.copyOf(providers), spec, device);
        } catch (RuntimeException e) {
            throw new MoeOracleException("the selection policy " + policy.getClass().getName() + " failed to order the"
                    + " backends for " + spec.describe() + " on " + device.describe() + ": " + ServiceScan.describe(e)
                    + ". Fix or unbind that policy (the default is DefaultSelectionPolicy).", e);
        }
        // the policy's order, each known id once; then moe.priority's ids first, in the listed order
        List<String> order = new ArrayList<>();
        for (Candidate c : policyOrder == null ? List.<Candidate>of() : policyOrder) {
            if (c != null && byId.containsKey(c.id()) && !order.contains(c.id())) {
                order.add(c.id());
            }
        }
        List<String> prioritized = new ArrayList<>();
        for (String id : settings.priority()) {
            for (String o : order) {
                if (o.equalsIgnoreCase(id)) {
                    prioritized.add(o);
                    break;
                }
            }
        }
        for (String o : order) {
            if (!prioritized.contains(o)) {
                prioritized.add(o);
            }
        }

        List<String> hostSide = new ArrayList<>();
        MoeKernelProvider winner = null;
        int rank = 1;
        for (String id : prioritized) {
            if (candidates.get(id).runsOnHost()) {
                hostSide.add(id);
                continue;
            }
            Explanation.Row judged = VerdictRows.judge(rank++, byId.get(id), candidates.get(id), spec, device,
                    winner != null);
            rows.add(judged);
            if (judged.status() == Explanation.Status.CHOSEN) {
                winner = byId.get(id).provider();
            }
        }
        // host-side providers: never a silent fallback for a GPU; on a CPU only after every device-side one
        for (String id : hostSide) {
            if (device.vendor() != Vendor.CPU) {
                notAsked.add(VerdictRows.hostOnlyRow(byId.get(id), candidates.get(id), device));
                continue;
            }
            Explanation.Row judged = VerdictRows.judge(rank++, byId.get(id), candidates.get(id), spec, device,
                    winner != null);
            if (judged.status() == Explanation.Status.CHOSEN) {
                winner = byId.get(id).provider();
                judged = judged.withStatus(Explanation.Status.FALLBACK);
            }
            rows.add(judged);
        }
        for (String id : candidates.keySet()) {
            if (!order.contains(id)) {
                notAsked.add(VerdictRows.leftOutRow(byId.get(id), candidates.get(id), policy));
            }
        }
        rows.addAll(notAsked);
        for (int i = 0; i < rows.size(); i++) {
            Explanation.Row r = rows.get(i);
            if (candidates.containsKey(r.providerId())) {
                rows.set(i, remarked(r, spec, device));
            }
        }
        rows.addAll(VerdictRows.unavailableRows(registry));
        Explanation e = new Explanation(spec, device, Optional.empty(), rows,
                VerdictRows.notInstalledRows(registry, spec, device, rows));
        return new Decision(e, Optional.ofNullable(winner), Optional.empty());
    }

    /** The row with the policy's remark (e.g. measured times) after its reason. */
    private Explanation.Row remarked(Explanation.Row r, MoeLayerSpec spec, DeviceInfo device) {
        Optional<String> remark;
        try {
            remark = policy.remark(r.providerId(), spec, device);
        } catch (RuntimeException e) {
            remark = Optional.of("(the policy's remark failed: " + ServiceScan.describe(e) + ")");
        }
        if (remark == null || remark.isEmpty() || remark.get().isBlank()) {
            return r;
        }
        String reason = r.reason().isBlank() ? remark.get() : r.reason() + "; " + remark.get();
        return new Explanation.Row(r.rank(), r.providerId(), r.priority(), r.activationType(), r.status(), reason,
                r.remedy(), r.host(), r.source());
    }

    private static void log(Decision d) {
        Explanation e = d.explanation();
        String request = e.request().isPresent() ? ", requested by " + e.request().get().source() : "";
        boolean debug = LOG.isDebugEnabled();
        boolean fallback = false;
        for (Explanation.Row r : e.rows()) {
            fallback |= r.status() == Explanation.Status.FALLBACK;
            if (debug && (r.status() == Explanation.Status.UNSUPPORTED || r.status() == Explanation.Status.ERROR
                    || r.status() == Explanation.Status.EXCLUDED)) {
                LOG.debug("moe-oracle: backend '{}' rejected for {} on {}: {}{}", r.providerId(),
                        e.spec().describe(), e.device().id(), r.reason(),
                        r.remedy().isBlank() ? "" : " (fix: " + r.remedy() + ")");
            }
        }
        if (fallback) {
            if (LOG.isWarnEnabled()) {
                List<String> missing = new ArrayList<>();
                for (Explanation.Row r : e.notInstalled()) {
                    missing.add(r.providerId());
                }
                LOG.warn("moe-oracle: no backend for {} supports {}; falling back to '{}' on the host CPU (slow: for"
                        + " checking, not serving){}", e.device().describe(), e.spec().describe(),
                        e.winnerId().orElseThrow(), missing.isEmpty() ? ""
                                : "; add " + String.join(" or ", missing) + " to run it natively");
            }
        } else if (d.winner().isPresent()) {
            if (LOG.isInfoEnabled()) {
                LOG.info("moe-oracle: backend '{}' chosen for scheme {} on {}; layer {}{}", e.winnerId().orElseThrow(),
                        e.spec().quant(), e.device().describe(), e.spec().describe(), request);
            }
        } else if (debug) {
            LOG.debug("moe-oracle: no backend can run {} on {}{}", e.spec().describe(), e.device().describe(), request);
        }
    }
}
