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
        return cache.get(new Key(spec, device), k -> compute(spec, device), () -> new MoeOracleException(
                "a backend asked the selector about " + spec.describe() + " on " + device.describe() + " while that"
                        + " very decision was being made, which would wait on itself. A provider must judge a layer"
                        + " without calling back into the selector for the same layer."));
    }

    private Decision compute(MoeLayerSpec spec, DeviceInfo device) {
        decisionsComputed.incrementAndGet();
        Optional<Explanation.Request> request = spec.requestedBackend()
                .map(id -> new Explanation.Request(id, "spec.requestedBackend"))
                .or(() -> settings.backend().map(id -> new Explanation.Request(id,
                        "system property " + SelectionSettings.BACKEND.name())))
                .or(() -> settings.backendFromEnv().map(id -> new Explanation.Request(id,
                        "environment variable " + SelectionSettings.BACKEND.env().orElseThrow())));
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
            VerdictRows.candidate(rp, spec, device, 0, notAsked).ifPresent(c -> {
                byId.put(rp.id(), rp);
                candidates.put(rp.id(), c);
            });
        }
        List<Candidate> policyOrder;
        try {
            Map<String, MoeKernelProvider> providers = new LinkedHashMap<>();
            byId.forEach((id, rp) -> providers.put(id, rp.provider()));
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
            order.stream().filter(o -> o.equalsIgnoreCase(id)).findFirst().ifPresent(prioritized::add);
        }
        order.stream().filter(o -> !prioritized.contains(o)).forEach(prioritized::add);

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
        rows.replaceAll(r -> candidates.containsKey(r.providerId()) ? remarked(r, spec, device) : r);
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
