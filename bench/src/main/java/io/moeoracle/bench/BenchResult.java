package io.moeoracle.bench;

import io.moeoracle.api.RooflineProbe;
import io.moeoracle.bench.json.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * A benchmark run: what was timed, on what, the measured ceilings and one row per token count.
 *
 * @param backend the provider id
 * @param deviceId the device id
 * @param deviceDescription the device, one line
 * @param spec the layer, one line
 * @param activationDtype dtype of hidden and out
 * @param warmupIterations untimed calls per T
 * @param iterations timed calls per T
 * @param seed the seed of weights, inputs and routings
 * @param ceilings the measured roofline, if any
 * @param rows one per token count
 * @param timestamp when the run finished
 * @param fp8Activations whether the kernel multiplies FP8 / MXFP8 activations, so that the rows' compute
 *        floor is the FP8 matmul rate (when measured)
 */
public record BenchResult(String backend, String deviceId, String deviceDescription, String spec,
                          String activationDtype, int warmupIterations, int iterations, long seed,
                          Optional<RooflineProbe.Ceilings> ceilings, List<BenchRow> rows, Instant timestamp, boolean fp8Activations) {

    /** Copies the rows. */
    public BenchResult {
        rows = List.copyOf(rows);
    }

    /** @return a fixed-width text table, with the ceilings above it */
    public String toTable() {
        StringBuilder sb = new StringBuilder();
        sb.append(backend).append(" on ").append(deviceDescription).append('\n');
        sb.append(spec).append(", activations ").append(activationDtype).append(", ").append(iterations)
                .append(" timed calls per T after ").append(warmupIterations).append(" warm-up, seed ").append(seed)
                .append('\n');
        ceilings.ifPresentOrElse(c -> sb.append(String.format(Locale.ROOT,
                "ceilings: %.1f GB/s (%s); %.1f GFLOP/s (%s)%n", c.bytesPerSecond() / 1e9, c.bandwidthMethod(),
                c.flopsPerSecond() / 1e9, c.flopsMethod())), () -> sb.append("ceilings: not measured\n"));
        ceilings.filter(RooflineProbe.Ceilings::hasFp8Rate).ifPresent(c -> sb.append(String.format(Locale.ROOT,
                "FP8 matmul ceiling: %.1f GFLOP/s (%s)%s%n", c.fp8FlopsPerSecond() / 1e9, c.fp8FlopsMethod(),
                fp8Activations ? "; the compute floors below use it" : "")));
        sb.append(String.format(Locale.ROOT, "%6s %7s %12s %12s %12s %8s %10s %9s %10s %11s %8s %7s %7s%n", "T", "mode",
                "median µs", "p10 µs", "p90 µs", "experts", "MB moved", "GB/s", "GFLOP/s", "floor µs", "ratio",
                "%BW", "%peak"));
        for (BenchRow r : rows) {
            sb.append(String.format(Locale.ROOT, "%6d %7s %12.1f %12.1f %12.1f %8.2f %10.2f %9.2f %10.2f %11.1f %8.2f %7.1f %7.1f%n",
                    r.tokens(), r.mode(), r.medianMicros(), r.p10Micros(), r.p90Micros(), r.expertsTouched(), r.bytes() / 1e6,
                    r.gbPerSecond(), r.gflopsPerSecond(), r.floorMicros(), r.ratioToFloor(),
                    100 * r.fractionOfBandwidth(), 100 * r.fractionOfPeak()));
        }
        return sb.toString();
    }

    /** @return the result as a JSON object (NaN ratios become null) */
    public String toJson() {
        StringBuilder sb = new StringBuilder("{\n");
        field(sb, "backend", backend).append(",\n");
        field(sb, "deviceId", deviceId).append(",\n");
        field(sb, "device", deviceDescription).append(",\n");
        field(sb, "spec", spec).append(",\n");
        field(sb, "activationDtype", activationDtype).append(",\n");
        sb.append("  \"warmupIterations\": ").append(warmupIterations).append(",\n");
        sb.append("  \"iterations\": ").append(iterations).append(",\n");
        sb.append("  \"seed\": ").append(seed).append(",\n");
        field(sb, "timestamp", timestamp.toString()).append(",\n");
        sb.append("  \"ceilings\": ");
        if (ceilings.isPresent()) {
            RooflineProbe.Ceilings c = ceilings.get();
            sb.append("{\"bytesPerSecond\": ").append(num(c.bytesPerSecond())).append(", \"flopsPerSecond\": ")
                    .append(num(c.flopsPerSecond())).append(", \"bandwidthMethod\": ").append(str(c.bandwidthMethod()))
                    .append(", \"flopsMethod\": ").append(str(c.flopsMethod()))
                    .append(", \"fp8FlopsPerSecond\": ").append(num(c.fp8FlopsPerSecond()))
                    .append(", \"fp8FlopsMethod\": ").append(str(c.fp8FlopsMethod())).append("}");
        } else {
            sb.append("null");
        }
        sb.append(",\n  \"fp8Activations\": ").append(fp8Activations);
        sb.append(",\n  \"rows\": [\n");
        for (int i = 0; i < rows.size(); i++) {
            BenchRow r = rows.get(i);
            sb.append("    {\"tokens\": ").append(r.tokens())
                    .append(", \"medianMicros\": ").append(num(r.medianMicros()))
                    .append(", \"p10Micros\": ").append(num(r.p10Micros()))
                    .append(", \"p90Micros\": ").append(num(r.p90Micros()))
                    .append(", \"expertsTouched\": ").append(num(r.expertsTouched()))
                    .append(", \"bytes\": ").append(num(r.bytes()))
                    .append(", \"flops\": ").append(num(r.flops()))
                    .append(", \"gbPerSecond\": ").append(num(r.gbPerSecond()))
                    .append(", \"gflopsPerSecond\": ").append(num(r.gflopsPerSecond()))
                    .append(", \"floorMicros\": ").append(num(r.floorMicros()))
                    .append(", \"ratioToFloor\": ").append(num(r.ratioToFloor()))
                    .append(", \"fractionOfBandwidth\": ").append(num(r.fractionOfBandwidth()))
                    .append(", \"fractionOfPeak\": ").append(num(r.fractionOfPeak()))
                    .append(", \"mode\": ").append(str(r.mode()))
                    .append(i + 1 < rows.size() ? "},\n" : "}\n");
        }
        sb.append("  ]\n}\n");
        return sb.toString();
    }

    /**
     * Writes {@link #toJson()} to {@code <folder>/<backend>-<device>-<timestamp>.json}.
     *
     * @param folder e.g. {@code bench/results}; created when missing
     * @return the file written
     * @throws IOException when it cannot be written
     */
    public Path writeJson(Path folder) throws IOException {
        Files.createDirectories(folder);
        String stamp = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC).format(timestamp);
        Path file = folder.resolve(safe(backend) + "-" + safe(deviceId) + "-" + stamp + ".json");
        Files.writeString(file, toJson());
        return file;
    }

    private static String safe(String s) {
        return s.replaceAll("[^A-Za-z0-9._-]", "_");
    }

    private static StringBuilder field(StringBuilder sb, String name, String value) {
        return sb.append("  \"").append(name).append("\": ").append(str(value));
    }

    private static String num(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.6g", v) : "null";
    }

    private static String str(String s) {
        StringBuilder sb = new StringBuilder();
        Json.quote(s, sb);
        return sb.toString();
    }
}
