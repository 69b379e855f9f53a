package io.moeoracle.measure;

import io.moeoracle.api.MoeKernel;
import io.moeoracle.api.MoeKernelProvider;
import io.moeoracle.api.SupportVerdict;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.core.MoeOracleException;
import io.moeoracle.core.select.Candidate;
import io.moeoracle.core.select.DefaultSelectionPolicy;
import io.moeoracle.core.select.Selection;
import io.moeoracle.core.select.SelectionPolicy;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Orders candidates by their measured speed on this device ({@code moe.policy=measured},
 * {@code SelectionPolicy.measured()}). For a layer on a real device it asks every device-side
 * candidate whether it supports the layer, checks each supported one against the float64 reference
 * on a small input (those that fail are left out, with the error in the explanation), times the rest
 * over token-count buckets up to the layer's {@code maxTokensPerCall} and keeps the fastest per
 * bucket. The result is kept as JSON in {@code moe.measure.cacheDir}, one file per
 * {@link MeasureKey} (device name and UUID, driver, jar versions, layer): a later start with the same
 * key reads it back; any change of the key measures again.
 *
 * <p>Order: the candidates that passed, those winning the most buckets first (ties: faster at the
 * largest bucket, then id); then those not measured, in the default order (the unsupported ones, so
 * the explanation still shows why, and host-side providers, never measured: they are the fallback).
 * Candidates that failed the check are left out. Each verdict in the explanation carries the candidate's times ({@link #remark}).
 * {@link #createKernel(Selection)} gives a kernel that runs each forward on its bucket's winner.
 *
 * <p>Measuring runs kernels, so it refuses simulated devices. It is thread-safe; one layer and device
 * is measured at a time.
 */
public final class MeasuredSelectionPolicy implements SelectionPolicy {
    private static final Logger LOG = LoggerFactory.getLogger(MeasuredSelectionPolicy.class);

    private final MeasureSettings settings;
    private final Function<Class<?>, String> jarVersions;
    private final Measurer measurer;
    private final Map<Key, Entry> known = new ConcurrentHashMap<>();
    private final AtomicInteger measurementsTaken = new AtomicInteger();
    private final DefaultSelectionPolicy fallback = new DefaultSelectionPolicy();

    private record Key(MoeLayerSpec spec, DeviceInfo device) {
    }

    private record Entry(Measurement measurement, Map<String, MoeKernelProvider> providers) {
    }

    /** @param settings where to cache, what to time */
    public MeasuredSelectionPolicy(MeasureSettings settings) {
        this(settings, MeasureKey::jarVersion);
    }

    /**
     * @param settings where to cache, what to time
     * @param jarVersions how the key reads a provider's jar version (tests stand in another)
     */
    MeasuredSelectionPolicy(MeasureSettings settings, Function<Class<?>, String> jarVersions) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.jarVersions = Objects.requireNonNull(jarVersions, "jarVersions");
        this.measurer = new Measurer(settings);
    }

    /** @return a policy with the settings of this JVM ({@code moe.measure.*}) */
    public static MeasuredSelectionPolicy fromSystem() {
        return new MeasuredSelectionPolicy(MeasureSettings.fromSystem());
    }

    /** @return the settings */
    public MeasureSettings settings() {
        return settings;
    }

    /**
     * Without the providers nothing can be measured: the default order. (The selector always calls
     * {@link #order(List, Map, MoeLayerSpec, DeviceInfo)}.)
     */
    @Override
    public List<Candidate> order(List<Candidate> candidates, MoeLayerSpec spec, DeviceInfo device) {
        return fallback.order(candidates, spec, device);
    }

    @Override
    public List<Candidate> order(List<Candidate> candidates, Map<String, MoeKernelProvider> providers,
                                 MoeLayerSpec spec, DeviceInfo device) {
        Measurement m = measure(candidates, providers, spec, device);
        Map<Integer, String> winners = m.winners();
        int last = m.buckets().size() - 1;
        List<Candidate> out = new ArrayList<>(candidates.stream()
                .filter(c -> m.result(c.id()).map(Measurement.Result::passed).orElse(false))
                .sorted(Comparator.comparingLong((Candidate c) -> -winners.values().stream().filter(c.id()::equals).count())
                        .thenComparingDouble(c -> m.result(c.id()).orElseThrow().micros().get(last))
                        .thenComparing(Candidate::id))
                .toList());
        // not measured (unsupported here, or host-side): still asked, so their verdicts are explained
        out.addAll(fallback.order(candidates.stream().filter(c -> m.result(c.id()).isEmpty()).toList(), spec, device));
        return out;
    }

    @Override
    public Optional<String> remark(String providerId, MoeLayerSpec spec, DeviceInfo device) {
        Entry e = known.get(new Key(spec, device));
        return e == null ? Optional.empty() : e.measurement().describe(providerId);
    }

    /**
     * The measurement of a layer on a device, if this policy has taken or read it.
     *
     * @param spec the layer
     * @param device the device
     * @return the measurement
     */
    public Optional<Measurement> measurement(MoeLayerSpec spec, DeviceInfo device) {
        return Optional.ofNullable(known.get(new Key(spec, device))).map(Entry::measurement);
    }

    /** @return how many measurements this policy took itself (not read from the cache) */
    public int measurementsTaken() {
        return measurementsTaken.get();
    }

    /**
     * A kernel that runs each forward on its token-count bucket's winner (see {@link BucketKernel}),
     * for a selection this policy ordered; the selection's own kernel when it measured nothing for it
     * (e.g. the winner is a host-side fallback) or a backend was requested by id.
     *
     * @param selection the selector's answer for a layer and device
     * @return the kernel, not yet prepared; close it when done
     */
    public MoeKernel createKernel(Selection selection) {
        Entry e = known.get(new Key(selection.spec(), selection.device()));
        if (e == null || selection.explanation().request().isPresent() || e.measurement().winners().isEmpty()
                || e.measurement().result(selection.winnerId()).isEmpty()) {
            return selection.createKernel();
        }
        return BucketKernel.create(selection.spec(), selection.device(), e.measurement(), e.providers(),
                settings.maxKernels());
    }

    private synchronized Measurement measure(List<Candidate> candidates, Map<String, MoeKernelProvider> providers,
                                             MoeLayerSpec spec, DeviceInfo device) {
        if (device.simulated()) {
            throw new MoeOracleException("the measured selection policy times kernels, and " + device.id()
                    + " is a simulated device with nothing to run them on. Use the default policy for planning"
                    + " (--policy default, or unset moe.policy), or measure on a real device (moe-oracle devices)");
        }
        Key k = new Key(spec, device);
        Map<String, MoeKernelProvider> supported = new LinkedHashMap<>();
        for (Candidate c : candidates) {
            MoeKernelProvider p = providers.get(c.id());
            if (p != null && !c.runsOnHost() && supports(p, spec, device)) {
                supported.put(c.id(), p);
            }
        }
        MeasureKey key = MeasureKey.of(spec, device, supported, jarVersions);
        Entry known0 = known.get(k);
        if (known0 != null && known0.measurement().key().equals(key)) {
            return known0.measurement();
        }
        Optional<Measurement> cached;
        try {
            cached = Measurement.read(settings.cacheDir(), key);
        } catch (IOException e) {
            LOG.warn("measured policy: could not read {} ({}); measuring again", settings.cacheDir().resolve(key.fileName()),
                    e.toString());
            cached = Optional.empty();
        }
        Measurement m;
        if (cached.isPresent()) {
            m = cached.get();
            LOG.info("measured policy: reusing {} for {} on {}", settings.cacheDir().resolve(key.fileName()),
                    spec.describe(), device.id());
        } else {
            m = measurer.measure(key, spec, device, supported);
            measurementsTaken.incrementAndGet();
            try {
                LOG.info("measured policy: wrote {}", m.write(settings.cacheDir()));
            } catch (IOException e) {
                LOG.warn("measured policy: could not write the measurement into {} ({}); it is kept in memory only."
                        + " Set moe.measure.cacheDir to a writable folder.", settings.cacheDir(), e.toString());
            }
        }
        known.put(k, new Entry(m, Map.copyOf(supported)));
        return m;
    }

    private static boolean supports(MoeKernelProvider p, MoeLayerSpec spec, DeviceInfo device) {
        try {
            return p.isSupported(spec, device) instanceof SupportVerdict.Supported;
        } catch (RuntimeException | LinkageError e) {
            return false; // the selector reports the error in its own row
        }
    }

    @Override
    public String toString() {
        return "MeasuredSelectionPolicy";
    }
}
