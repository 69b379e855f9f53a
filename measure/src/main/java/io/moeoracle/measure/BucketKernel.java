package io.moeoracle.measure;

import io.moeoracle.api.MoeKernel;
import io.moeoracle.api.MoeKernelProvider;
import io.moeoracle.api.ProgressListener;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.tensor.LoraAdapter;
import io.moeoracle.api.tensor.MoeWeights;
import io.moeoracle.api.tensor.Routing;
import io.moeoracle.api.tensor.Tensor;
import io.moeoracle.bench.MoeBenchmark;
import io.moeoracle.core.MoeOracleException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A kernel that runs each forward on the winner of its token-count bucket (the smallest measured
 * bucket at least as large as the call, else the largest). Each distinct winner is its own kernel
 * with its own prepared copy of the weights (they share nothing); at most
 * {@code moe.measure.maxKernels} of them, the ones winning the most buckets; a bucket whose winner
 * was not kept goes to the kept kernel measured fastest there. {@link #preparedBytes()} reports the
 * weights held. Tensors are passed through as given: use host tensors, or tensors every kept
 * kernel accepts.
 */
public final class BucketKernel implements MoeKernel {
    private static final Logger LOG = LoggerFactory.getLogger(BucketKernel.class);

    private final MoeLayerSpec spec;
    private final DeviceInfo device;
    private final Measurement measurement;
    private final Map<Integer, String> assignment;
    private final Map<String, MoeKernel> kernels;

    private BucketKernel(MoeLayerSpec spec, DeviceInfo device, Measurement measurement, Map<Integer, String> assignment,
                         Map<String, MoeKernel> kernels) {
        this.spec = spec;
        this.device = device;
        this.measurement = measurement;
        this.assignment = assignment;
        this.kernels = kernels;
    }

    /**
     * Creates the kernels of a measurement's winners (not yet prepared).
     *
     * @param spec the layer
     * @param device the device
     * @param m the measurement, with at least one candidate that passed
     * @param providers the measured providers, by id
     * @param maxKernels the most distinct kernels to hold
     * @return the kernel
     */
    static BucketKernel create(MoeLayerSpec spec, DeviceInfo device, Measurement m,
                               Map<String, MoeKernelProvider> providers, int maxKernels) {
        Map<Integer, String> winners = m.winners();
        List<String> kept = winners.values().stream().distinct()
                .sorted(Comparator.comparingLong((String id) -> -winners.values().stream().filter(id::equals).count())
                        .thenComparing(id -> id))
                .limit(maxKernels).toList();
        Map<Integer, String> assignment = new TreeMap<>();
        for (int i = 0; i < m.buckets().size(); i++) {
            int b = i;
            String w = winners.get(m.buckets().get(i));
            assignment.put(m.buckets().get(i), kept.contains(w) ? w : kept.stream()
                    .min(Comparator.comparingDouble(id -> m.result(id).orElseThrow().micros().get(b))).orElseThrow());
        }
        Map<String, MoeKernel> kernels = new LinkedHashMap<>();
        try {
            for (String id : kept) {
                MoeKernel k = providers.get(id).create(spec, device);
                if (k == null) {
                    throw new MoeOracleException("backend '" + id + "' returned no kernel from create() for "
                            + spec.describe() + " on " + device.describe() + "; exclude it with -Dmoe.exclude=" + id);
                }
                kernels.put(id, k);
            }
        } catch (RuntimeException e) {
            kernels.values().forEach(BucketKernel::closeQuietly);
            throw e;
        }
        LOG.info("measured kernel for {} on {}: buckets {} ({} kernel(s), at most {} by moe.measure.maxKernels)",
                spec.describe(), device.id(), assignment, kernels.size(), maxKernels);
        return new BucketKernel(spec, device, m, assignment, kernels);
    }

    /** @return each bucket's kernel, by provider id (ascending buckets) */
    public Map<Integer, String> assignment() {
        return assignment;
    }

    /** @return the weights held by the kernels once prepared, estimated from the canonical layout (bytes) */
    public long preparedBytes() {
        return (long) (kernels.size() * spec.localExperts() * MoeBenchmark.expertBytes(spec));
    }

    /**
     * @param tokens a call's token count
     * @return the id of the kernel that runs it
     */
    public String kernelFor(int tokens) {
        return assignment.get(measurement.bucketFor(tokens));
    }

    @Override
    public String providerId() {
        return "measured[" + String.join(",", kernels.keySet()) + "]";
    }

    @Override
    public MoeLayerSpec spec() {
        return spec;
    }

    @Override
    public DeviceInfo device() {
        return device;
    }

    @Override
    public void prepare(MoeWeights weights) {
        Objects.requireNonNull(weights, "weights");
        for (MoeKernel k : kernels.values()) {
            k.prepare(weights);
        }
        LOG.info("measured kernel prepared {} kernel(s) holding about {} MiB of weights", kernels.size(),
                preparedBytes() >> 20);
    }

    /** Prepares each kept kernel in turn; each one's progress is reported as its share of the whole. */
    @Override
    public void prepare(MoeWeights weights, ProgressListener progress) {
        Objects.requireNonNull(weights, "weights");
        Objects.requireNonNull(progress, "progress");
        int i = 0;
        int n = kernels.size();
        for (Map.Entry<String, MoeKernel> e : kernels.entrySet()) {
            int done = i++;
            e.getValue().prepare(weights, (f, stage) -> progress.progress((done + f) / n, e.getKey() + ": " + stage));
        }
        LOG.info("measured kernel prepared {} kernel(s) holding about {} MiB of weights", n, preparedBytes() >> 20);
    }

    @Override
    public boolean isPrepared() {
        return kernels.values().stream().allMatch(MoeKernel::isPrepared);
    }

    @Override
    public void forward(Tensor hidden, Routing routing, Tensor out) {
        kernels.get(kernelFor((int) Math.min(Integer.MAX_VALUE, hidden.dim(0)))).forward(hidden, routing, out);
    }

    @Override
    public void forward(Tensor hidden, Routing routing, Tensor adapterIds, Tensor out) {
        kernels.get(kernelFor((int) Math.min(Integer.MAX_VALUE, hidden.dim(0)))).forward(hidden, routing, adapterIds, out);
    }

    /** Loads the adapter into every kept kernel (each holds its own copy). */
    @Override
    public void loadAdapter(int slot, LoraAdapter adapter) {
        kernels.values().forEach(k -> k.loadAdapter(slot, adapter));
    }

    /** Unloads the adapter from every kept kernel. */
    @Override
    public void unloadAdapter(int slot) {
        kernels.values().forEach(k -> k.unloadAdapter(slot));
    }

    @Override
    public void forwardBatched(Tensor hidden, Tensor counts, Tensor out) {
        kernels.get(assignment.get(measurement.buckets().getLast())).forwardBatched(hidden, counts, out);
    }

    @Override
    public void synchronize() {
        kernels.values().forEach(MoeKernel::synchronize);
    }

    @Override
    public void close() {
        List<RuntimeException> failures = new ArrayList<>();
        for (MoeKernel k : kernels.values()) {
            try {
                k.close();
            } catch (RuntimeException e) {
                failures.add(e);
            }
        }
        if (!failures.isEmpty()) {
            RuntimeException first = failures.getFirst();
            failures.stream().skip(1).forEach(first::addSuppressed);
            throw first;
        }
    }

    private static void closeQuietly(MoeKernel k) {
        try {
            k.close();
        } catch (RuntimeException e) {
            LOG.warn("could not close a {} kernel: {}", k.providerId(), e.toString());
        }
    }

    @Override
    public String toString() {
        return providerId() + " " + assignment;
    }
}
