package io.moeoracle.ep;

import io.moeoracle.api.CapturedForward;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.error.BadInputException;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.tensor.DType;
import io.moeoracle.api.tensor.DeviceTensor;
import io.moeoracle.api.tensor.Routing;
import io.moeoracle.api.tensor.Tensor;
import io.moeoracle.core.device.DeviceRegistry;
import io.moeoracle.core.select.MoeKernelSelector;
import io.moeoracle.driver.nccl.Nccl;
import io.moeoracle.driver.nccl.NcclUniqueId;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * One Mixture-of-Experts layer sharded over several GPUs by expert parallelism, its tokens moved over
 * NCCL. Each rank (one GPU) holds {@code E / R} experts ({@link ExpertPlacement}); its kernel is
 * chosen by the one selector for its shard (a standard-format kernel for {@link EpStrategy#ALL_GATHER},
 * a batched-format one for {@link EpStrategy#ALL_TO_ALL}); {@link #prepare} uploads to each rank only
 * its experts' weights.
 *
 * <pre>{@code
 * // one JVM driving four GPUs
 * try (ExpertParallelMoe ep = ExpertParallelMoe.builder(spec).devices("cuda:0", "cuda:1", "cuda:2", "cuda:3").build()) {
 *     ep.prepare(ExpertShards.ofFullLayer(weights));
 *     ep.forward(List.of(in0, in1, in2, in3));   // each rank its own tokens, routing and output
 *     EpReport report = ep.synchronize();         // waits (with a deadline), checks, measures
 * }
 * // one rank per process: rank 0 makes the id (Nccl.load().uniqueId()) and the host hands it to the others
 * ExpertParallelMoe ep = ExpertParallelMoe.builder(spec).rank(rank, 4, "cuda:" + local, id).build();
 * }</pre>
 *
 * <p><b>Failures end, they do not hang.</b> Every input is checked before anything is queued (all ranks
 * when this process drives them all). With one rank per process, a rank that refuses its input still
 * takes part with no tokens and flags it, so every rank throws when the forward completes. Every host
 * wait has a deadline ({@code moe.ep.timeout}): a rank whose peer died or never called aborts its NCCL
 * communicator ({@code ncclCommAbort}) and throws; the layer is then unusable and must be rebuilt.
 *
 * <p>Not thread-safe beyond its own lock: calls are serialized. Start every process with
 * {@code NCCL_NVLS_ENABLE=0} on shared GPU machines ({@link #environmentWarnings()}).
 */
public final class ExpertParallelMoe implements AutoCloseable {
    private final EpEngine engine;

    private ExpertParallelMoe(EpEngine engine) {
        this.engine = engine;
    }

    /**
     * @param spec the whole layer (E experts, standard format, no expert parallelism in the spec)
     * @return a builder
     */
    public static Builder builder(MoeLayerSpec spec) {
        return new Builder(spec);
    }

    /** @return warnings about this process's environment (NVLS not disabled), for a host to show */
    public static List<String> environmentWarnings() {
        return Nccl.nvlsWarning().stream().toList();
    }

    /**
     * Uploads each rank's experts.
     *
     * @param shards where each rank's weights come from (e.g. {@link ExpertShards#ofFullLayer})
     */
    public void prepare(ExpertShards shards) {
        engine.prepare(shards);
    }

    /**
     * Queues one forward of every rank this process drives (with host tensors: returns when the outputs
     * are written). Device tensors: returns once queued, {@link #synchronize} waits.
     *
     * @param inputs one per rank this process drives, rank order
     */
    public void forward(List<EpRankInput> inputs) {
        engine.forward(inputs, null);
    }

    /**
     * As {@link #forward(List)} with a strategy for this call (the layer must have kernels for it).
     *
     * @param inputs one per rank this process drives
     * @param strategy the strategy, or AUTO for the layer's rule
     */
    public void forward(List<EpRankInput> inputs, EpStrategy strategy) {
        engine.forward(inputs, Objects.requireNonNull(strategy, "strategy"));
    }

    /**
     * One rank per process: this rank's tokens.
     *
     * @param hidden {@code [T, H]}
     * @param routing logits {@code [T, E]} or top-k {@code [T, k]}
     * @param out {@code [T, H]}
     */
    public void forward(Tensor hidden, Routing routing, Tensor out) {
        engine.forward(List.of(new EpRankInput(hidden, routing, out)), null);
    }

    /**
     * Waits for the last forward (at most {@code moe.ep.timeout}), checks every rank's error flags and
     * measures the time split.
     *
     * @return the report of the last forward
     */
    public EpReport synchronize() {
        return engine.synchronize();
    }

    /**
     * Records one all-gather forward over fixed device tensors as a CUDA graph per rank; replay it after
     * changing the tensors' contents, then {@link #synchronize}.
     *
     * @param inputs device tensors, one input per rank this process drives
     * @return the recording
     */
    public CapturedForward capture(List<EpRankInput> inputs) {
        return engine.capture(inputs);
    }

    /**
     * @param tokensPerRank the most tokens one rank carries
     * @return the strategy a forward of that size runs (AUTO resolved)
     */
    public EpStrategy strategyFor(int tokensPerRank) {
        return engine.resolve(null, tokensPerRank);
    }

    /**
     * Allocates a tensor on a rank's GPU (to pass device tensors to {@link #forward}); close it when done.
     *
     * @param rank a rank this process drives
     * @param dtype element type
     * @param shape extents
     * @return the tensor
     */
    public DeviceTensor allocate(int rank, DType dtype, long... shape) {
        return engine.allocate(rank, dtype, shape);
    }

    /** @return per rank: its GPU and the kernels the selector chose for its shard */
    public List<EpRankInfo> ranks() {
        return engine.rankInfo();
    }

    /** @return E, k, H, I, R, E/R and the tokens per rank one forward may carry */
    public EpShape shape() {
        return engine.shape();
    }

    /**
     * Aborts this process's ranks now ({@code ncclCommAbort}), e.g. when the host learns that a peer
     * process died: NCCL work still waiting for it quits; the layer is then unusable.
     *
     * @param why what the host knows, for later messages
     */
    public void abort(String why) {
        engine.abort(why);
    }

    /** @return whether a failure aborted the communicator (the layer is then unusable) */
    public boolean isFailed() {
        return engine.isFailed();
    }

    /** Waits for queued work (with the deadline), destroys the communicator, frees every rank. */
    @Override
    public void close() {
        engine.close();
    }

    @Override
    public String toString() {
        return "ExpertParallelMoe[" + engine + "]";
    }

    /** Builds an {@link ExpertParallelMoe}. */
    public static final class Builder {
        private final MoeLayerSpec spec;
        private List<DeviceInfo> devices = List.of();
        private Optional<EpConfig.Binding> binding = Optional.empty();
        private Optional<ExpertPlacement> placement = Optional.empty();
        private EpStrategy strategy = EpStrategy.AUTO;
        private Optional<Integer> maxTokensPerRank = Optional.empty();
        private Optional<Duration> timeout = Optional.empty();
        private Optional<Long> batchBudget = Optional.empty();
        private Optional<MoeKernelSelector> selector = Optional.empty();
        private Optional<String> standardBackend = Optional.empty();
        private Optional<String> batchedBackend = Optional.empty();

        private Builder(MoeLayerSpec spec) {
            this.spec = Objects.requireNonNull(spec, "spec");
        }

        /**
         * One JVM driving every rank: rank i on {@code ids[i]}.
         *
         * @param ids CUDA devices, e.g. {@code cuda:0}
         * @return this
         */
        public Builder devices(String... ids) {
            DeviceRegistry registry = DeviceRegistry.discover();
            List<DeviceInfo> d = new ArrayList<>();
            for (String id : ids) {
                d.add(registry.resolve(id));
            }
            return devices(d);
        }

        /**
         * @param devices one CUDA device per rank, rank order
         * @return this
         */
        public Builder devices(List<DeviceInfo> devices) {
            this.devices = List.copyOf(devices);
            this.binding = Optional.empty();
            return this;
        }

        /**
         * One rank per process (or per thread): this rank of {@code size}, on {@code device}, joining the
         * communicator of {@code id}.
         *
         * @param rank this rank
         * @param size the number of ranks
         * @param device this rank's CUDA device, e.g. {@code cuda:0}
         * @param id made by one rank ({@code Nccl.load().uniqueId()}) and handed to all
         * @return this
         */
        public Builder rank(int rank, int size, String device, NcclUniqueId id) {
            return rank(rank, size, DeviceRegistry.discover().resolve(device), id);
        }

        /**
         * @param rank this rank
         * @param size the number of ranks
         * @param device this rank's CUDA device
         * @param id the communicator's id
         * @return this
         */
        public Builder rank(int rank, int size, DeviceInfo device, NcclUniqueId id) {
            this.devices = List.of(device);
            this.binding = Optional.of(new EpConfig.Binding(rank, size, id));
            return this;
        }

        /** @param p which rank holds which experts (default: contiguous blocks) @return this */
        public Builder placement(ExpertPlacement p) {
            this.placement = Optional.of(p);
            return this;
        }

        /** @param s the strategy (default AUTO: kernels for both, chosen per forward) @return this */
        public Builder strategy(EpStrategy s) {
            this.strategy = Objects.requireNonNull(s, "strategy");
            return this;
        }

        /**
         * @param tokens the most tokens one rank carries in one forward (default: the spec's
         *     {@code maxTokensPerCall}); with one rank per process the all-gather strategy always moves this
         *     many rows per rank (static shape), so every rank must use the same value
         * @return this
         */
        public Builder maxTokensPerRank(int tokens) {
            this.maxTokensPerRank = Optional.of(tokens);
            return this;
        }

        /** @param t how long a rank waits for its peers (default {@code moe.ep.timeout}) @return this */
        public Builder timeout(Duration t) {
            this.timeout = Optional.of(t);
            return this;
        }

        /** @param bytes device memory for the all-to-all path's batches (default {@code moe.ep.batchBudgetMiB}) @return this */
        public Builder batchBudgetBytes(long bytes) {
            this.batchBudget = Optional.of(bytes);
            return this;
        }

        /** @param s the selector that chooses each rank's kernels (default: {@code MoeKernelSelector.create()}) @return this */
        public Builder selector(MoeKernelSelector s) {
            this.selector = Optional.of(s);
            return this;
        }

        /**
         * @param standard backend id for the all-gather strategy's kernel, or null for the selector's choice
         * @param batched backend id for the all-to-all strategy's kernel, or null
         * @return this
         */
        public Builder backends(String standard, String batched) {
            this.standardBackend = Optional.ofNullable(standard);
            this.batchedBackend = Optional.ofNullable(batched);
            return this;
        }

        /**
         * Selects and creates each rank's kernels and makes the communicator (waiting at most the timeout
         * for the other ranks).
         *
         * @return the layer, not yet prepared
         */
        public ExpertParallelMoe build() {
            int ranks = binding.map(EpConfig.Binding::size).orElse(devices.size());
            if (ranks < 1) {
                throw new BadInputException("no devices: call devices(\"cuda:0\", \"cuda:1\", ...) or rank(...)");
            }
            EpConfig c = new EpConfig(spec, placement.orElseGet(() -> ExpertPlacement.contiguous(spec.experts(), ranks)),
                    devices, binding, strategy, maxTokensPerRank.orElse(spec.maxTokensPerCall()),
                    timeout.orElseGet(EpSettings::timeout), batchBudget.orElseGet(EpSettings::batchBudgetBytes),
                    EpSettings.allToAllMinTokens(), selector.orElseGet(MoeKernelSelector::create), standardBackend,
                    batchedBackend);
            return new ExpertParallelMoe(EpEngine.create(c));
        }
    }
}
