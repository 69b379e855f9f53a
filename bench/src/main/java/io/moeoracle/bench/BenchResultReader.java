package io.moeoracle.bench;

import io.moeoracle.api.RooflineProbe;
import io.moeoracle.bench.json.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Reads back what {@link BenchResult#toJson()} wrote, so that a run made on a machine that cannot
 * draw (the GPU machine's JRE has no {@code java.desktop}) is plotted elsewhere. Files written
 * before the FP8 ceiling existed read with no FP8 rate and {@code fp8Activations} false; a row may
 * carry {@code fp8TflopsCeiling} (TFLOP/s), which then stands for the FP8 rate of its whole run.
 * {@code null} numbers (NaN when written) read as NaN; whole numbers read exactly (a seed is a long).
 */
public final class BenchResultReader {
    private BenchResultReader() {
    }

    /**
     * @param file a JSON file written by {@code moe-oracle bench} (or {@link BenchResult#writeJson})
     * @return the result
     * @throws IOException when the file cannot be read
     * @throws IllegalArgumentException naming the file and the field when it is not a bench result
     */
    public static BenchResult read(Path file) throws IOException {
        try {
            return parse(Files.readString(file, StandardCharsets.UTF_8));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + " is not a bench result: " + e.getMessage()
                    + "; give a JSON file written by moe-oracle bench (bench/results/*.json)", e);
        }
    }

    /**
     * @param json the text of one result
     * @return the result
     * @throws IllegalArgumentException naming the field that is missing or of the wrong type
     */
    public static BenchResult parse(String json) {
        Map<String, Object> m = object(Json.read(json), "the top level");
        List<BenchRow> rows = new ArrayList<>();
        double rowFp8 = Double.NaN;
        for (Object o : list(m, "rows")) {
            Map<String, Object> r = object(o, "a row");
            rows.add(new BenchRow((int) whole(r, "tokens"), number(r, "medianMicros"), number(r, "p10Micros"),
                    number(r, "p90Micros"), number(r, "expertsTouched"), number(r, "bytes"), number(r, "flops"),
                    number(r, "gbPerSecond"), number(r, "gflopsPerSecond"), number(r, "floorMicros"),
                    number(r, "ratioToFloor"), number(r, "fractionOfBandwidth"), number(r, "fractionOfPeak"),
                    text(r, "mode", "host")));
            if (r.get("fp8TflopsCeiling") instanceof Number n && n.doubleValue() > 0) {
                rowFp8 = Math.max(Double.isNaN(rowFp8) ? 0 : rowFp8, n.doubleValue() * 1e12);
            }
        }
        Optional<RooflineProbe.Ceilings> ceilings = Optional.empty();
        if (m.get("ceilings") != null) {
            Map<String, Object> c = object(m.get("ceilings"), "ceilings");
            double fp8 = c.containsKey("fp8FlopsPerSecond") ? number(c, "fp8FlopsPerSecond") : Double.NaN;
            String fp8Method = text(c, "fp8FlopsMethod", "not measured");
            if (!Double.isNaN(rowFp8)) {
                fp8 = rowFp8;
                fp8Method = "fp8TflopsCeiling of the rows";
            }
            ceilings = Optional.of(new RooflineProbe.Ceilings(number(c, "bytesPerSecond"), number(c, "flopsPerSecond"),
                    text(c, "bandwidthMethod", ""), text(c, "flopsMethod", ""), fp8, fp8Method));
        }
        Instant when;
        try {
            when = Instant.parse(text(m, "timestamp", "1970-01-01T00:00:00Z"));
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException("timestamp '" + m.get("timestamp") + "' is not an ISO-8601 instant", e);
        }
        boolean fp8Activations = m.get("fp8Activations") instanceof Boolean b ? b : !Double.isNaN(rowFp8);
        return new BenchResult(text(m, "backend", null), text(m, "deviceId", ""), text(m, "device", ""),
                text(m, "spec", ""), text(m, "activationDtype", "BF16"), (int) whole(m, "warmupIterations"),
                (int) whole(m, "iterations"), whole(m, "seed"), ceilings, rows, when, fp8Activations);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> object(Object o, String what) {
        if (o instanceof Map<?, ?> map) {
            return (Map<String, Object>) map;
        }
        throw new IllegalArgumentException(what + " is not a JSON object");
    }

    @SuppressWarnings("unchecked")
    private static List<Object> list(Map<String, Object> m, String key) {
        if (m.get(key) instanceof List<?> l) {
            return (List<Object>) l;
        }
        throw new IllegalArgumentException("\"" + key + "\" is missing or not an array");
    }

    private static double number(Map<String, Object> m, String key) {
        if (!m.containsKey(key)) {
            throw new IllegalArgumentException("\"" + key + "\" is missing");
        }
        Object v = m.get(key);
        if (v == null) {
            return Double.NaN;
        }
        if (v instanceof Number n) {
            return n.doubleValue();
        }
        throw new IllegalArgumentException("\"" + key + "\" is not a number: " + v);
    }

    private static long whole(Map<String, Object> m, String key) {
        Object v = m.get(key);
        if (v == null) {
            return 0;
        }
        if (v instanceof Long l) {
            return l;
        }
        if (v instanceof Double d && d == Math.rint(d)) {
            return d.longValue();
        }
        throw new IllegalArgumentException("\"" + key + "\" is not a whole number: " + v);
    }

    private static String text(Map<String, Object> m, String key, String otherwise) {
        Object v = m.get(key);
        if (v instanceof String s) {
            return s;
        }
        if (v == null && otherwise != null) {
            return otherwise;
        }
        throw new IllegalArgumentException("\"" + key + "\" is " + (v == null ? "missing" : "not a string: " + v));
    }
}
