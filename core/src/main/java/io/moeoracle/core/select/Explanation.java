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
 * the providers it did not ask (excluded, left out by the policy, failed to load). Renders as an
 * aligned text table ({@link #toTable()}) and as JSON ({@link #toJson()}).
 *
 * @param spec the layer
 * @param device the device
 * @param request the explicit backend request that was honoured, if any
 * @param rows the verdicts, asked providers first (ranks 1..n), then the others (rank 0)
 */
public record Explanation(MoeLayerSpec spec, DeviceInfo device, Optional<Request> request, List<Row> rows) {

    /** The hint printed when no backend is installed at all. */
    public static final String NO_BACKEND_HINT =
            "add a backend jar to the class path (see README 'Adding a backend')";

    /** Copies the rows and rejects nulls. */
    public Explanation {
        Objects.requireNonNull(spec, "spec");
        Objects.requireNonNull(device, "device");
        Objects.requireNonNull(request, "request");
        rows = List.copyOf(rows);
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
        /** Supported, but a provider earlier in the order won. */
        SUPPORTED_NOT_CHOSEN("supported"),
        /** Said it cannot run the layer on the device. */
        UNSUPPORTED("unsupported"),
        /** Not asked: removed by {@code moe.exclude} or left out by the policy. */
        EXCLUDED("excluded"),
        /** Threw from {@code priority}, {@code activationType} or {@code isSupported}. */
        ERROR("error"),
        /** Failed to load (class missing, constructor or {@code id()} threw). */
        UNAVAILABLE("unavailable");

        private final String label;

        Status(String label) {
            this.label = label;
        }

        /** @return the short word used in tables and JSON */
        public String label() {
            return label;
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
    }

    /** @return the chosen provider's id, if one was chosen */
    public Optional<String> winnerId() {
        return rows.stream().filter(r -> r.status() == Status.CHOSEN).map(Row::providerId).findFirst();
    }

    /**
     * @param providerId a provider id
     * @return its row
     */
    public Optional<Row> row(String providerId) {
        return rows.stream().filter(r -> r.providerId().equals(providerId)).findFirst();
    }

    /** @return whether no backend was available at all (none installed, or all failed to load) */
    public boolean noBackends() {
        return rows.stream().allMatch(r -> r.status() == Status.UNAVAILABLE);
    }

    /** @return the hint to print after the table, if any */
    public Optional<String> hint() {
        if (winnerId().isPresent()) {
            return Optional.empty();
        }
        if (noBackends()) {
            return Optional.of(NO_BACKEND_HINT);
        }
        return Optional.of("apply one of the remedies above, pick another device or scheme, or add a backend jar"
                + " that supports it (see README 'Adding a backend')");
    }

    /** @return a short one-line summary, e.g. {@code "chosen: marlin"} */
    public String summary() {
        return winnerId().map(id -> "chosen: " + id).orElse("no backend can run this layer");
    }

    /** @return the verdicts as an aligned text table, with the layer and device above and the outcome below */
    public String toTable() {
        String[] header = {"#", "backend", "priority", "act", "verdict", "reason / remedy", "host"};
        List<String[]> cells = new ArrayList<>();
        cells.add(header);
        for (Row r : rows) {
            cells.add(new String[] {
                r.rank() > 0 ? Integer.toString(r.rank()) : "-",
                r.providerId(),
                r.priority().isPresent() ? Integer.toString(r.priority().getAsInt()) : "-",
                r.activationType().map(ActivationType::toString).orElse("-"),
                r.status().label(),
                oneLine(r.reason() + (r.remedy().isBlank() ? "" : "; fix: " + r.remedy())),
                oneLine(r.host().toString())});
        }
        int[] width = new int[header.length];
        for (String[] row : cells) {
            for (int c = 0; c < row.length; c++) {
                width[c] = Math.max(width[c], row[c].length());
            }
        }
        StringBuilder sb = new StringBuilder();
        sb.append("layer:   ").append(spec.describe()).append('\n');
        sb.append("device:  ").append(device.describe()).append('\n');
        request.ifPresent(r -> sb.append("request: ").append(r).append('\n'));
        sb.append('\n');
        if (rows.isEmpty()) {
            sb.append("(no kernel backends found)\n");
        } else {
            for (String[] row : cells) {
                StringBuilder line = new StringBuilder();
                for (int c = 0; c < row.length; c++) {
                    if (c > 0) {
                        line.append("  ");
                    }
                    line.append(row[c]);
                    if (c < row.length - 1) {
                        line.append(" ".repeat(width[c] - row[c].length()));
                    }
                }
                sb.append(line.toString().stripTrailing()).append('\n');
            }
        }
        sb.append('\n').append(summary()).append('\n');
        hint().ifPresent(h -> sb.append("hint: ").append(h).append('\n'));
        return sb.toString();
    }

    private static String oneLine(String s) {
        return s.strip().replaceAll("\\s*\\R\\s*", " ");
    }

    /** @return the explanation as one JSON object: spec, device, request, rows, winner (or null) */
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
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("spec", s);
        root.put("device", d);
        root.put("request", request.map(q -> {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("backend", q.backendId());
            m.put("source", q.source());
            return (Object) m;
        }).orElse(null));
        root.put("rows", rowList);
        root.put("winner", winnerId().orElse(null));
        root.put("hint", hint().orElse(null));
        return Json.write(root);
    }
}
