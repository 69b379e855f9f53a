package io.moeoracle.core.select;

import java.util.Map;
import java.util.LinkedHashMap;
import io.moeoracle.core.internal.json.Json;
import io.moeoracle.api.HostAvailability;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.spec.ActivationType;
import io.moeoracle.api.spec.MoeLayerSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.TreeSet;

/**
 * Why the selector chose what it chose: one row per provider, in the order they were asked, then
 * the providers it did not ask (excluded, left out by the policy, failed to load), then the official
 * backends that are not installed but would run the layer (or run it better). This is the data;
 * hosts read the rows or {@link #toJson()}, and the command line renders it as a table.
 *
 * @param spec the layer
 * @param device the device
 * @param request the explicit backend request that was honoured, if any
 * @param rows the verdicts, asked providers first (ranks 1..n), then the others (rank 0)
 * @param notInstalled the official backends that are not installed and would run the layer, or
 *     run it better than the winner (status {@link Status#NOT_INSTALLED}, rank 0)
 */
public record Explanation(MoeLayerSpec spec, DeviceInfo device, Optional<Request> request, List<Row> rows,
                          List<Row> notInstalled) {

    /** The hint printed when no backend is installed at all. */
    public static final String NO_BACKEND_HINT =
            "add a backend jar to the class path or the plugins folder (see README 'Adding a backend')";

    /** Copies the rows and rejects nulls. */
    public Explanation {
        Objects.requireNonNull(spec, "spec");
        Objects.requireNonNull(device, "device");
        Objects.requireNonNull(request, "request");
        rows = List.copyOf(rows);
        notInstalled = List.copyOf(notInstalled);
    }

    /**
     * An explanation that names no missing backend.
     *
     * @param spec the layer
     * @param device the device
     * @param request the explicit backend request that was honoured, if any
     * @param rows the verdicts
     */
    public Explanation(MoeLayerSpec spec, DeviceInfo device, Optional<Request> request, List<Row> rows) {
        this(spec, device, request, rows, List.of());
    }

    /**
     * A backend named explicitly; only that backend is judged.
     *
     * @param backendId the id asked for
     * @param source who asked: {@code spec.requestedBackend}, {@code system property moe.backend}
     *     or {@code environment variable MOE_BACKEND}
     */
    public record Request(String backendId, String source) {
        /** Rejects nulls. */
        public Request {
            Objects.requireNonNull(backendId, "backendId");
            Objects.requireNonNull(source, "source");
        }

        @Override
        public String toString() {
            return backendId + " (" + source + ")";
        }
    }

    /** What happened to one provider. */
    public enum Status {
        /** Supported and first in order: the winner. */
        CHOSEN("chosen"),
        /**
         * A host-side provider ({@code MoeKernelProvider.runsOnHost()}) chosen for a CPU device
         * because no device-side provider supports the layer.
         */
        FALLBACK("fallback"),
        /** Supported, but a provider earlier in the order won. */
        SUPPORTED_NOT_CHOSEN("supported"),
        /** Said it cannot run the layer on the device. */
        UNSUPPORTED("unsupported"),
        /**
         * Not asked: removed by {@code moe.exclude}, left out by the policy, or a host-side provider
         * on a non-CPU device that was not requested by id.
         */
        EXCLUDED("excluded"),
        /** Threw from {@code priority}, {@code activationType} or {@code isSupported}. */
        ERROR("error"),
        /** Failed to load (class missing, constructor or {@code id()} threw). */
        UNAVAILABLE("unavailable"),
        /** An official backend that is not installed and would run the layer, or run it better. */
        NOT_INSTALLED("not installed");

        private final String label;

        Status(String label) {
            this.label = label;
        }

        /** @return the short word used in tables and JSON */
        public String label() {
            return label;
        }

        /** @return whether a row with this status is the winner ({@link #CHOSEN} or {@link #FALLBACK}) */
        public boolean isWinner() {
            return this == CHOSEN || this == FALLBACK;
        }
    }

    /**
     * One provider's verdict.
     *
     * @param rank the position in which it was asked, from 1; 0 for a provider that was not asked
     * @param providerId its id (the class name for a provider that failed to load)
     * @param priority its priority for this spec and device, when it answered
     * @param activationType the activation type it would run with, when it answered
     * @param status the outcome
     * @param reason the verdict's note or reason, the exclusion, or the error
     * @param remedy what the user can do about it; empty when nothing
     * @param host whether its driver and kernel image are present on this host
     * @param source where the provider came from (jar, module, {@code bound})
     */
    public record Row(int rank, String providerId, OptionalInt priority, Optional<ActivationType> activationType,
                      Status status, String reason, String remedy, HostAvailability host, String source) {
        /** Rejects nulls. */
        public Row {
            Objects.requireNonNull(providerId, "providerId");
            Objects.requireNonNull(priority, "priority");
            Objects.requireNonNull(activationType, "activationType");
            Objects.requireNonNull(status, "status");
            Objects.requireNonNull(reason, "reason");
            Objects.requireNonNull(remedy, "remedy");
            Objects.requireNonNull(host, "host");
            Objects.requireNonNull(source, "source");
        }

        /**
         * @param newStatus the status
         * @return this row with another status
         */
        public Row withStatus(Status newStatus) {
            return new Row(rank, providerId, priority, activationType, newStatus, reason, remedy, host, source);
        }
    }

    /** @return the chosen provider's id, if one was chosen */
    public Optional<String> winnerId() {
        // loops, not streams, in what the selector calls while deciding: a cold JVM's first select
        for (Row r : rows) {
            if (r.status().isWinner()) {
                return Optional.of(r.providerId());
            }
        }
        return Optional.empty();
    }

    private boolean any(Status status) {
        for (Row r : rows) {
            if (r.status() == status) {
                return true;
            }
        }
        return false;
    }

    /**
     * @param providerId a provider id
     * @return its row
     */
    public Optional<Row> row(String providerId) {
        for (List<Row> list : List.of(rows, notInstalled)) {
            for (Row r : list) {
                if (r.providerId().equals(providerId)) {
                    return Optional.of(r);
                }
            }
        }
        return Optional.empty();
    }

    /** @return whether no backend was available at all (none installed, or all failed to load) */
    public boolean noBackends() {
        for (Row r : rows) {
            if (r.status() != Status.UNAVAILABLE) {
                return false;
            }
        }
        return true;
    }

    /** @return the hint to print after the table, if any */
    public Optional<String> hint() {
        boolean fallback = any(Status.FALLBACK);
        if (winnerId().isPresent() && !fallback) {
            return notInstalled.isEmpty() ? Optional.empty() : Optional.of("the backends marked 'not installed' would"
                    + " rank above " + winnerId().get() + " on this device; add one to use it (see README 'Adding a"
                    + " backend')");
        }
        String missing = notInstalled.isEmpty() ? "" : "; the rows marked 'not installed' name the official"
                + " backends that would run it on this device";
        if (fallback) {
            return Optional.of("the chosen backend runs on the host, slowly, as a fallback: no installed backend for"
                    + " this device supports the layer" + missing);
        }
        if (noBackends()) {
            return Optional.of(NO_BACKEND_HINT + missing);
        }
        return Optional.of("apply one of the remedies above, pick another device or scheme, or add a backend jar"
                + " that supports it (see README 'Adding a backend')" + missing);
    }

    /** @return a short one-line summary, e.g. {@code "chosen: marlin"} */
    public String summary() {
        Optional<String> winner = winnerId();
        return winner.isEmpty() ? "no backend can run this layer"
                : "chosen: " + winner.get() + (any(Status.FALLBACK) ? " (fallback on the host)" : "");
    }

    /** @return the explanation as one JSON object: spec, device, request, rows, notInstalled, winner (or null), hint */
    public String toJson() {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("experts", spec.experts());
        s.put("topK", spec.topK());
        s.put("hiddenSize", spec.hiddenSize());
        s.put("intermediateSize", spec.intermediateSize());
        s.put("weightFormat", spec.quant().weights().toString());
        s.put("activationType", spec.quant().activations().toString());
        s.put("activation", spec.activation().toString());
        s.put("hasBias", spec.hasBias());
        s.put("activationFormat", spec.activationFormat().name().toLowerCase(Locale.ROOT));
        s.put("lora", spec.lora());
        s.put("maxLoraRank", spec.maxLoraRank());
        s.put("adapterSlots", spec.adapterSlots());
        s.put("expertParallelSize", spec.expertParallelSize());
        s.put("expertParallelRank", spec.expertParallelRank());
        s.put("maxTokensPerCall", spec.maxTokensPerCall());
        s.put("requestedBackend", spec.requestedBackend().orElse(null));
        s.put("description", spec.describe());
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("id", device.id());
        d.put("vendor", device.vendor().name().toLowerCase(Locale.ROOT));
        d.put("arch", device.arch());
        d.put("name", device.name());
        d.put("computeUnits", device.computeUnits());
        d.put("memoryBytes", device.memoryBytes());
        d.put("features", List.copyOf(new TreeSet<>(device.features())));
        d.put("simulated", device.simulated());
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("spec", s);
        root.put("device", d);
        root.put("request", request.map(q -> {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("backend", q.backendId());
            m.put("source", q.source());
            return (Object) m;
        }).orElse(null));
        root.put("rows", jsonRows(rows));
        root.put("notInstalled", jsonRows(notInstalled));
        root.put("winner", winnerId().orElse(null));
        root.put("hint", hint().orElse(null));
        return Json.write(root);
    }

    private static List<Object> jsonRows(List<Row> rows) {
        List<Object> rowList = new ArrayList<>();
        for (Row r : rows) {
            Map<String, Object> host = new LinkedHashMap<>();
            host.put("available", r.host().available());
            host.put("detail", r.host().detail().orElse(null));
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("rank", r.rank());
            row.put("backend", r.providerId());
            row.put("priority", r.priority().isPresent() ? r.priority().getAsInt() : null);
            row.put("activationType", r.activationType().map(ActivationType::toString).orElse(null));
            row.put("status", r.status().label());
            row.put("reason", r.reason());
            row.put("remedy", r.remedy().isBlank() ? null : r.remedy());
            row.put("host", host);
            row.put("source", r.source());
            rowList.add(row);
        }
        return rowList;
    }
}
