package io.moeoracle.measure;

import io.moeoracle.bench.json.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The times of every measured candidate for one {@link MeasureKey}, and the fastest correct one per
 * token-count bucket. Written to and read from the cache folder as JSON.
 *
 * @param key what it is valid for
 * @param buckets the token counts timed, ascending
 * @param results one per measured candidate
 * @param measuredAt when
 */
public record Measurement(MeasureKey key, List<Integer> buckets, List<Result> results, Instant measuredAt) {

    /** Copies the lists; rejects nulls and results whose times do not match the buckets. */
    public Measurement {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(measuredAt, "measuredAt");
        buckets = List.copyOf(buckets);
        results = List.copyOf(results);
        for (Result r : results) {
            if (r.passed() && r.micros().size() != buckets.size()) {
                throw new IllegalArgumentException(r.id() + " has " + r.micros().size() + " times for "
                        + buckets.size() + " buckets");
            }
        }
    }

    /**
     * One candidate's outcome.
     *
     * @param id the provider
     * @param passed whether it passed the reference check and was timed
     * @param note the check's error when it passed; why it was left out when not
     * @param mode how it was timed: {@code graph} (replayed recording), {@code device} or {@code host}
     * @param micros the median time per bucket, in microseconds (empty when it did not pass)
     */
    public record Result(String id, boolean passed, String note, String mode, List<Double> micros) {
        /** Copies the times; rejects nulls. */
        public Result {
            Objects.requireNonNull(id, "id");
            Objects.requireNonNull(note, "note");
            Objects.requireNonNull(mode, "mode");
            micros = List.copyOf(micros);
        }
    }

    /** @return the result of a provider, if it was measured */
    public Optional<Result> result(String id) {
        return results.stream().filter(r -> r.id().equals(id)).findFirst();
    }

    /** @return each bucket's fastest candidate that passed (ascending buckets); empty when none passed */
    public Map<Integer, String> winners() {
        Map<Integer, String> w = new TreeMap<>();
        for (int i = 0; i < buckets.size(); i++) {
            int b = i;
            results.stream().filter(Result::passed).min(Comparator.comparingDouble((Result r) -> r.micros().get(b))
                    .thenComparing(Result::id)).ifPresent(r -> w.put(buckets.get(b), r.id()));
        }
        return w;
    }

    /**
     * @param tokens a call's token count
     * @return the bucket that serves it: the smallest at least that large, else the largest
     */
    public int bucketFor(int tokens) {
        return buckets.stream().filter(b -> b >= tokens).findFirst().orElse(buckets.getLast());
    }

    /** @return the times of one candidate as text, e.g. {@code "measured T=1 12.0 µs*, T=8 40.1 µs (graph)"} ({@code *}: fastest) */
    public Optional<String> describe(String id) {
        return result(id).map(r -> {
            if (!r.passed()) {
                return "measured: left out, " + r.note();
            }
            Map<Integer, String> w = winners();
            StringBuilder sb = new StringBuilder("measured (" + r.mode() + ", * fastest):");
            for (int i = 0; i < buckets.size(); i++) {
                sb.append(i == 0 ? " " : ", ").append("T=").append(buckets.get(i)).append(' ')
                        .append(String.format(Locale.ROOT, "%.1f", r.micros().get(i))).append(" µs")
                        .append(id.equals(w.get(buckets.get(i))) ? "*" : "");
            }
            return sb.append("; ").append(r.note()).toString();
        });
    }

    /**
     * Writes this measurement into a folder, under {@link MeasureKey#fileName()} (through a temporary
     * file, so a reader never sees half a file).
     *
     * @param folder the cache folder (created when missing)
     * @return the file
     * @throws IOException when it cannot be written
     */
    public Path write(Path folder) throws IOException {
        Files.createDirectories(folder);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("key", key.toMap());
        m.put("buckets", new ArrayList<Object>(buckets));
        List<Object> rs = new ArrayList<>();
        for (Result r : results) {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("id", r.id());
            o.put("passed", r.passed());
            o.put("note", r.note());
            o.put("mode", r.mode());
            o.put("micros", new ArrayList<Object>(r.micros()));
            rs.add(o);
        }
        m.put("results", rs);
        m.put("measuredAt", measuredAt.toString());
        Path file = folder.resolve(key.fileName());
        Path tmp = Files.createTempFile(folder, key.fileName(), ".tmp");
        Files.writeString(tmp, Json.write(m), StandardCharsets.UTF_8);
        return Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /**
     * Reads the measurement of a key from a folder, when one was written for exactly that key.
     *
     * @param folder the cache folder
     * @param key the key
     * @return the measurement; empty when there is none, or the file is unreadable or for another key
     * @throws IOException when the file exists but cannot be read
     */
    @SuppressWarnings("unchecked")
    public static Optional<Measurement> read(Path folder, MeasureKey key) throws IOException {
        Path file = folder.resolve(key.fileName());
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        Map<String, Object> m;
        try {
            m = (Map<String, Object>) Json.read(Files.readString(file, StandardCharsets.UTF_8));
            MeasureKey stored = MeasureKey.fromMap((Map<String, Object>) m.get("key"));
            if (!stored.equals(key)) {
                return Optional.empty();
            }
            List<Integer> buckets = ((List<Object>) m.get("buckets")).stream().map(o -> ((Number) o).intValue()).toList();
            List<Result> results = new ArrayList<>();
            for (Object o : (List<Object>) m.get("results")) {
                Map<String, Object> r = (Map<String, Object>) o;
                results.add(new Result((String) r.get("id"), (Boolean) r.get("passed"), (String) r.get("note"),
                        (String) r.get("mode"), ((List<Object>) r.get("micros")).stream()
                        .map(x -> x == null ? Double.NaN : ((Number) x).doubleValue()).toList()));
            }
            return Optional.of(new Measurement(stored, buckets, results, Instant.parse((String) m.get("measuredAt"))));
        } catch (RuntimeException e) {
            // a damaged or foreign file: measure again and overwrite it
            return Optional.empty();
        }
    }
}
