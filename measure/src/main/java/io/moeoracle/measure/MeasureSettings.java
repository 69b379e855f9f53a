package io.moeoracle.measure;

import io.moeoracle.api.Setting;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.UnaryOperator;

/**
 * The measured policy's settings ({@code moe.measure.*}).
 *
 * @param cacheDir where measurements are kept as JSON, one file per key
 * @param buckets the token counts to time; empty: powers of two up to the spec's
 *     {@code maxTokensPerCall}, and that count itself
 * @param warmup untimed calls per bucket
 * @param iterations timed calls per bucket (the median counts)
 * @param tolerance the largest relative L2 error against the float64 reference a candidate may show
 * @param maxKernels the most distinct kernels a {@link BucketKernel} prepares (each holds its own copy
 *     of the weights); buckets whose winner does not fit go to a kept winner
 */
public record MeasureSettings(Path cacheDir, List<Integer> buckets, int warmup, int iterations, double tolerance,
                              int maxKernels) {

    /** The folder of measurement files. */
    public static final Setting CACHE_DIR = Setting.property("moe.measure.cacheDir", "",
            "where moe.policy=measured keeps its timings as JSON (default ~/.cache/moe-oracle/measured)");
    /** Token counts to time. */
    public static final Setting BUCKETS = Setting.property("moe.measure.buckets", "",
            "token counts moe.policy=measured times (comma-separated; default powers of two up to the layer's"
                    + " maxTokensPerCall)");
    /** Untimed calls per bucket. */
    public static final Setting WARMUP = Setting.property("moe.measure.warmup", "2",
            "untimed calls per bucket before moe.policy=measured times a candidate");
    /** Timed calls per bucket. */
    public static final Setting ITERATIONS = Setting.property("moe.measure.iterations", "5",
            "timed calls per bucket for moe.policy=measured (the median counts)");
    /** Reference tolerance. */
    public static final Setting TOLERANCE = Setting.property("moe.measure.tolerance", "0.05",
            "the largest relative L2 error against the reference that moe.policy=measured accepts");
    /** Distinct prepared kernels. */
    public static final Setting MAX_KERNELS = Setting.property("moe.measure.maxKernels", "2",
            "the most distinct kernels a measured forward prepares (each holds a copy of the weights)");

    /** Checks the values. */
    public MeasureSettings {
        Objects.requireNonNull(cacheDir, "cacheDir");
        buckets = List.copyOf(buckets);
        for (int b : buckets) {
            if (b < 1) {
                throw BUCKETS.invalid(String.valueOf(b), "token counts of at least 1");
            }
        }
        if (warmup < 0 || iterations < 1 || maxKernels < 1 || !(tolerance > 0)) {
            throw new IllegalArgumentException("measure settings out of range: warmup " + warmup + " (>= 0), iterations "
                    + iterations + " (>= 1), maxKernels " + maxKernels + " (>= 1), tolerance " + tolerance + " (> 0)");
        }
    }

    /** @return every setting this module reads */
    public static List<Setting> all() {
        return List.of(CACHE_DIR, BUCKETS, WARMUP, ITERATIONS, TOLERANCE, MAX_KERNELS);
    }

    /** @return the settings of this JVM */
    public static MeasureSettings fromSystem() {
        return from(System::getProperty, System::getenv);
    }

    /**
     * @param properties looks up a property, null when unset
     * @param env looks up an environment variable, null when unset
     * @return the settings those sources give
     */
    public static MeasureSettings from(UnaryOperator<String> properties, UnaryOperator<String> env) {
        Path dir = CACHE_DIR.value(properties, env).map(Path::of)
                .orElseGet(() -> Path.of(System.getProperty("user.home"), ".cache", "moe-oracle", "measured"));
        List<Integer> buckets = new ArrayList<>();
        for (String s : BUCKETS.value(properties, env).orElse("").split(",")) {
            if (!s.isBlank()) {
                buckets.add((int) BUCKETS.parseLong(s.trim(), 1, Integer.MAX_VALUE));
            }
        }
        String tol = TOLERANCE.value(properties, env).orElse(TOLERANCE.defaultValue());
        double tolerance;
        try {
            tolerance = Double.parseDouble(tol);
        } catch (NumberFormatException e) {
            throw TOLERANCE.invalid(tol, "a positive number such as 0.05");
        }
        return new MeasureSettings(dir, buckets,
                (int) WARMUP.parseLong(WARMUP.value(properties, env).orElse(WARMUP.defaultValue()), 0, 1000),
                (int) ITERATIONS.parseLong(ITERATIONS.value(properties, env).orElse(ITERATIONS.defaultValue()), 1, 100000),
                tolerance,
                (int) MAX_KERNELS.parseLong(MAX_KERNELS.value(properties, env).orElse(MAX_KERNELS.defaultValue()), 1, 64));
    }

    /**
     * @param cacheDir another folder
     * @return these settings with that folder
     */
    public MeasureSettings withCacheDir(Path cacheDir) {
        return new MeasureSettings(cacheDir, buckets, warmup, iterations, tolerance, maxKernels);
    }

    /**
     * @param maxTokensPerCall the spec's largest call
     * @return the buckets to time for it, ascending, none above {@code maxTokensPerCall}
     */
    public List<Integer> bucketsFor(int maxTokensPerCall) {
        List<Integer> out = new ArrayList<>();
        if (buckets.isEmpty()) {
            for (long t = 1; t < maxTokensPerCall; t *= 2) {
                out.add((int) t);
            }
            out.add(maxTokensPerCall);
        } else {
            buckets.stream().filter(b -> b <= maxTokensPerCall).sorted().distinct().forEach(out::add);
            if (out.isEmpty()) {
                out.add(maxTokensPerCall);
            }
        }
        return List.copyOf(out);
    }
}
