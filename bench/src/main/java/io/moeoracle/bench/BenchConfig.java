package io.moeoracle.bench;

import io.moeoracle.api.MoeKernelProvider;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.tensor.DType;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What one benchmark run measures.
 *
 * @param provider the backend to time
 * @param device a real device it runs on
 * @param spec the layer
 * @param tokenCounts the T values, one table row each
 * @param warmupIterations untimed calls per T
 * @param iterations timed calls per T (each with a fresh uniform random routing)
 * @param seed seed of the random weights, inputs and routings
 * @param activationDtype dtype of hidden and out (BF16 or F32)
 * @param measureCeilings whether to measure the roofline when the provider can
 * @param resultsFolder where to write the JSON, if anywhere
 */
public record BenchConfig(MoeKernelProvider provider, DeviceInfo device, MoeLayerSpec spec, List<Integer> tokenCounts,
                          int warmupIterations, int iterations, long seed, DType activationDtype,
                          boolean measureCeilings, Optional<Path> resultsFolder) {

    /** Validates the counts. */
    public BenchConfig {
        Objects.requireNonNull(provider, "provider");
        Objects.requireNonNull(device, "device");
        Objects.requireNonNull(spec, "spec");
        Objects.requireNonNull(activationDtype, "activationDtype");
        Objects.requireNonNull(resultsFolder, "resultsFolder");
        tokenCounts = List.copyOf(tokenCounts);
        if (tokenCounts.isEmpty()) {
            throw new IllegalArgumentException("tokenCounts is empty; give at least one T, e.g. 1,8,64,512");
        }
        for (int t : tokenCounts) {
            if (t < 1 || t > spec.maxTokensPerCall()) {
                throw new IllegalArgumentException("token count " + t + " must be in [1, " + spec.maxTokensPerCall() + "]");
            }
        }
        if (warmupIterations < 0 || iterations < 1) {
            throw new IllegalArgumentException("warm-up " + warmupIterations + " must be >= 0 and iterations "
                    + iterations + " >= 1");
        }
        if (activationDtype != DType.BF16 && activationDtype != DType.F32) {
            throw new IllegalArgumentException("activation dtype " + activationDtype + " must be BF16 or F32");
        }
    }

    /**
     * @param provider the backend
     * @param device the device
     * @param spec the layer
     * @return a builder with defaults: T = 1, 8, 64, 512; 3 warm-up and 20 timed calls; BF16 activations;
     *     ceilings measured; no JSON
     */
    public static Builder builder(MoeKernelProvider provider, DeviceInfo device, MoeLayerSpec spec) {
        return new Builder(provider, device, spec);
    }

    /** Builds a {@link BenchConfig}. */
    public static final class Builder {
        private final MoeKernelProvider provider;
        private final DeviceInfo device;
        private final MoeLayerSpec spec;
        private List<Integer> tokenCounts = List.of(1, 8, 64, 512);
        private int warmup = 3;
        private int iterations = 20;
        private long seed = System.nanoTime();
        private DType dtype = DType.BF16;
        private boolean ceilings = true;
        private Path folder;

        private Builder(MoeKernelProvider provider, DeviceInfo device, MoeLayerSpec spec) {
            this.provider = provider;
            this.device = device;
            this.spec = spec;
        }

        /** @param v token counts @return this */
        public Builder tokenCounts(List<Integer> v) { tokenCounts = v; return this; }
        /** @param v untimed calls per T @return this */
        public Builder warmupIterations(int v) { warmup = v; return this; }
        /** @param v timed calls per T @return this */
        public Builder iterations(int v) { iterations = v; return this; }
        /** @param v the seed @return this */
        public Builder seed(long v) { seed = v; return this; }
        /** @param v BF16 or F32 @return this */
        public Builder activationDtype(DType v) { dtype = v; return this; }
        /** @param v whether to measure ceilings @return this */
        public Builder measureCeilings(boolean v) { ceilings = v; return this; }
        /** @param v folder for the JSON (e.g. bench/results), or null for none @return this */
        public Builder resultsFolder(Path v) { folder = v; return this; }

        /** @return the config */
        public BenchConfig build() {
            return new BenchConfig(provider, device, spec, tokenCounts, warmup, iterations, seed, dtype, ceilings,
                    Optional.ofNullable(folder));
        }
    }
}
