package io.moeoracle.ep;

import io.moeoracle.api.error.BadInputException;
import io.moeoracle.api.error.KernelStateException;
import io.moeoracle.api.error.UnsupportedSpecException;
import io.moeoracle.api.spec.ActivationFormat;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.tensor.DType;
import io.moeoracle.api.tensor.MoeWeights;
import io.moeoracle.driver.cuda.CaptureMode;
import io.moeoracle.driver.cuda.CudaEvent;
import io.moeoracle.driver.cuda.CudaGraph;
import io.moeoracle.driver.cuda.CudaTensor;
import io.moeoracle.driver.nccl.Nccl;
import io.moeoracle.driver.nccl.NcclCommunicator;
import io.moeoracle.driver.nccl.NcclDataType;
import io.moeoracle.driver.nccl.NcclException;
import io.moeoracle.driver.nccl.NcclRedOp;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The expert-parallel layer behind {@code ExpertParallelMoe}: the ranks this process drives
 * ({@link EpRank}), their communicator, and one forward at a time, queued by {@link AllGatherPath} or
 * {@link AllToAllPath}. Every host wait goes through {@link EpWatchdog}; after an abort the engine
 * refuses further work. Construction is in {@link EpBuild}.
 */
final class EpEngine implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EpEngine.class);

    private final EpConfig config;
    private final EpShape shape;
    private final Nccl nccl;
    private final List<EpRank> ranks;
    private final MoeLayerSpec checkSpec;
    private boolean prepared;
    private boolean closed;
    private RuntimeException failure;
    private Pending pending;
    private EpReport lastReport;

    EpEngine(EpConfig config, EpShape shape, Nccl nccl, List<EpRank> ranks) {
        this.config = config;
        this.shape = shape;
        this.nccl = nccl;
        this.ranks = List.copyOf(ranks);
        this.checkSpec = config.spec().toBuilder().expertParallel(1, 0).activationFormat(ActivationFormat.STANDARD)
                .maxTokensPerCall(shape.cap()).build();
    }

    /** A forward queued and not yet synchronized. */
    private record Pending(EpStrategy strategy, List<EpIo> ios, long[] sent, long[] received, boolean timed) {
    }

    /**
     * @param config what to build
     * @return the engine: kernels selected and created per rank, communicator ready
     */
    public static EpEngine create(EpConfig config) {
        return EpBuild.create(config);
    }

    /** @return the shape every rank agrees on */
    public EpShape shape() {
        return shape;
    }

    /** @return the configuration */
    public EpConfig config() {
        return config;
    }

    long batchBudget() {
        return config.batchBudget();
    }

    /** @return what each rank runs, rank order */
    public List<EpRankInfo> rankInfo() {
        return ranks.stream().map(r -> new EpRankInfo(r.rank, r.device, r.standardSelection, r.batchedSelection)).toList();
    }

    /**
     * Uploads every rank's experts (ranks in parallel when their weights can be read from any thread).
     *
     * @param shards where each rank's weights come from
     */
    public synchronized void prepare(ExpertShards shards) {
        checkUsable("prepare");
        try (Arena arena = Arena.ofShared()) {
            List<MoeWeights> ws = new ArrayList<>();
            for (EpRank r : ranks) {
                ws.add(shards.forRank(r.rank, config.placement().expertsOf(r.rank), EpBuild.rankSpec(config, r.rank,
                        ActivationFormat.STANDARD), arena));
            }
            Thread probe = new Thread(() -> { });
            boolean parallel = ranks.size() > 1 && ws.stream().allMatch(w -> w.w13().data().isAccessibleBy(probe));
            if (!parallel) {
                for (int i = 0; i < ranks.size(); i++) {
                    prepareRank(ranks.get(i), ws.get(i));
                }
            } else {
                try (ExecutorService pool = Executors.newFixedThreadPool(ranks.size())) {
                    List<Future<?>> done = new ArrayList<>();
                    for (int i = 0; i < ranks.size(); i++) {
                        EpRank r = ranks.get(i);
                        MoeWeights w = ws.get(i);
                        done.add(pool.submit(() -> prepareRank(r, w)));
                    }
                    for (Future<?> f : done) {
                        f.get();
                    }
                } catch (ExecutionException e) {
                    throw e.getCause() instanceof RuntimeException re ? re : new IllegalStateException(e.getCause());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new KernelStateException("interrupted while preparing the experts of " + ranks);
                }
            }
        }
        prepared = true;
    }

    private static void prepareRank(EpRank r, MoeWeights w) {
        r.context.setCurrent();
        if (r.standard != null) {
            r.standard.prepare(w);
        }
        if (r.batched != null) {
            r.batched.prepare(w);
        }
        r.context.setCurrent();
    }

    /**
     * @param override a strategy for this call, or null / AUTO for the configured one
     * @param tokens the most tokens one rank carries this call
     * @return the strategy that runs
     */
    public EpStrategy resolve(EpStrategy override, int tokens) {
        EpStrategy s = override != null && override != EpStrategy.AUTO ? override : config.strategy();
        if (s == EpStrategy.AUTO) {
            int t = config.binding().isPresent() ? shape.cap() : tokens;
            boolean fewerBytes = EpTrafficModel.bytesPerToken(EpStrategy.ALL_TO_ALL, shape.experts(), shape.topK(),
                    shape.hidden(), shape.ranks()) < EpTrafficModel.bytesPerToken(EpStrategy.ALL_GATHER, shape.experts(),
                    shape.topK(), shape.hidden(), shape.ranks());
            s = t >= config.allToAllMinTokens() && fewerBytes ? EpStrategy.ALL_TO_ALL : EpStrategy.ALL_GATHER;
        }
        boolean built = s == EpStrategy.ALL_GATHER ? ranks.getFirst().standard != null : ranks.getFirst().batched != null;
        if (!built) {
            throw new BadInputException("this layer was built for " + config.strategy() + " and has no kernels for " + s
                    + "; build it with strategy AUTO (kernels for both) or " + s);
        }
        return s;
    }

    /**
     * Queues one forward of every rank this process drives.
     *
     * @param inputs one per rank this process drives, rank order
     * @param override a strategy for this call, or null for the configured one
     */
    public synchronized void forward(List<EpRankInput> inputs, EpStrategy override) {
        checkUsable("forward");
        requirePrepared();
        if (inputs.size() != ranks.size()) {
            throw new BadInputException("expected one input per rank this process drives (" + ranks.size() + ": "
                    + ranks + "), got " + inputs.size());
        }
        List<EpIo> ios = new ArrayList<>();
        BadInputException refused = null;
        for (int i = 0; i < ranks.size(); i++) {
            try {
                ios.add(EpIo.check(checkSpec, ranks.get(i), inputs.get(i)));
            } catch (BadInputException e) {
                if (config.binding().isEmpty()) {
                    throw e; // this process drives every rank: nothing was queued anywhere yet
                }
                // one rank per process: the peers are about to call their collectives, so this rank takes part
                // with no tokens and a flag that makes every rank throw when the forward completes
                refused = e;
                ios.add(EpIo.empty(ranks.get(i), inputs.get(i)));
            }
        }
        int maxTokens = ios.stream().mapToInt(io -> io.tokens).max().orElse(0);
        EpStrategy strategy = resolve(override, maxTokens);
        boolean host = refused == null && ios.stream().anyMatch(EpIo::usesHost);
        if (host && pending != null) {
            await(ios, r -> r.done, "finishing the previous forward before host inputs are staged");
        }
        try {
            if (refused != null) {
                EpRank r = ios.getFirst().rank;
                r.context.setCurrent();
                r.buf.flags.slice(0, 4).fillIntAsync(EpFlags.PEER_INPUT, r.stream);
            }
            long[] sent;
            long[] received;
            if (strategy == EpStrategy.ALL_GATHER) {
                int tPad = config.binding().isPresent() ? shape.cap() : maxTokens;
                sent = tPad == 0 ? new long[ios.size()] : AllGatherPath.enqueue(this, ios, tPad, true);
                received = sent;
            } else {
                AllToAllPath.Moved m = AllToAllPath.enqueue(this, ios, true);
                sent = m.sent();
                received = m.received();
            }
            for (EpIo io : ios) {
                io.rank.context.setCurrent();
                io.rank.done.record(io.rank.stream);
            }
            pending = new Pending(strategy, ios, sent, received, strategy == EpStrategy.ALL_TO_ALL || maxTokens > 0
                    || config.binding().isPresent());
        } catch (NcclException e) {
            fail(e);
            throw e;
        } catch (RuntimeException e) {
            // a failure after some collectives were queued: the peers would wait for the rest
            fail(e);
            EpWatchdog.abort(ranks);
            throw e;
        }
        if (refused != null) {
            // the peers completed with this rank's empty part; the flag has been shared, so clear it here and
            // leave the communicator ready for the next forward
            Pending p = pending;
            pending = null;
            await(p.ios(), r -> r.done, "the forward this rank took part in without its refused input");
            EpFlags.clear(p.ios());
            throw refused;
        }
        if (host) {
            synchronize();
        }
    }

    /**
     * Waits for the last forward (with the deadline), copies host outputs back, checks the error flags
     * every rank raised, and measures the time split.
     *
     * @return the report of the last forward
     */
    public synchronized EpReport synchronize() {
        checkUsable("synchronize");
        if (pending == null) {
            return lastReport != null ? lastReport : new EpReport(config.strategy() == EpStrategy.ALL_TO_ALL
                    ? EpStrategy.ALL_TO_ALL : EpStrategy.ALL_GATHER, List.of(), 0, false);
        }
        Pending p = pending;
        pending = null;
        await(p.ios(), r -> r.done, "an expert-parallel " + p.strategy() + " forward");
        for (EpIo io : p.ios()) {
            io.rank.context.setCurrent();
            io.copyBack();
        }
        EpFlags.check(p.ios(), shape);
        List<EpReport.Rank> rows = new ArrayList<>();
        int syncs = 0;
        for (int i = 0; i < p.ios().size(); i++) {
            EpIo io = p.ios().get(i);
            EpRank r = io.rank;
            r.context.setCurrent();
            double d = 0;
            double x = 0;
            double c = 0;
            if (p.timed()) {
                d = CudaEvent.elapsedMillis(r.marks[0], r.marks[1]);
                x = CudaEvent.elapsedMillis(r.marks[1], r.marks[2]);
                c = CudaEvent.elapsedMillis(r.marks[2], r.marks[3]);
            }
            String kernel = p.strategy() == EpStrategy.ALL_GATHER ? r.standard.providerId() : r.batched.providerId();
            rows.add(new EpReport.Rank(r.rank, r.device.id(), kernel, io.tokens, p.sent()[i], p.received()[i], d, x, c));
            syncs += r.hostSyncs;
            r.hostSyncs = 0;
        }
        lastReport = new EpReport(p.strategy(), rows, syncs, p.timed());
        return lastReport;
    }

    /**
     * Records one all-gather forward over fixed device tensors as one CUDA graph per rank.
     *
     * @param inputs one per rank this process drives: device tensors whose contents change between replays
     * @return the recording
     */
    public synchronized EpCapture capture(List<EpRankInput> inputs) {
        checkUsable("capture");
        requirePrepared();
        if (inputs.size() != ranks.size()) {
            throw new BadInputException("expected one input per rank this process drives (" + ranks.size() + "), got "
                    + inputs.size());
        }
        if (ranks.getFirst().standard == null) {
            throw new BadInputException("capture records the ALL_GATHER strategy (fixed sizes); this layer was built for "
                    + config.strategy() + " only");
        }
        List<EpIo> ios = new ArrayList<>();
        for (int i = 0; i < ranks.size(); i++) {
            EpIo io = EpIo.check(checkSpec, ranks.get(i), inputs.get(i));
            if (io.usesHost()) {
                throw new BadInputException("rank " + io.rank.rank + ": capture needs device tensors (CudaTensor of the"
                        + " rank's GPU), not host tensors");
            }
            ios.add(io);
        }
        int tPad = config.binding().isPresent() ? shape.cap() : ios.stream().mapToInt(io -> io.tokens).max().orElse(0);
        if (tPad == 0) {
            throw new BadInputException("cannot capture a forward of 0 tokens on every rank");
        }
        if (pending != null) {
            await(ios, r -> r.done, "finishing the previous forward before capturing");
            pending = null;
        }
        List<CudaGraph.Capture> captures = new ArrayList<>();
        List<CudaGraph> graphs = new ArrayList<>();
        try {
            for (EpIo io : ios) {
                io.rank.context.setCurrent();
                captures.add(CudaGraph.beginCapture(io.rank.stream, CaptureMode.RELAXED));
            }
            long[] bytes = AllGatherPath.enqueue(this, ios, tPad, false);
            for (int i = 0; i < ios.size(); i++) {
                ios.get(i).rank.context.setCurrent();
                graphs.add(captures.get(i).end());
            }
            return new EpCapture(this, ios, graphs, bytes);
        } catch (RuntimeException e) {
            for (int i = 0; i < captures.size(); i++) {
                ios.get(i).rank.context.setCurrent();
                captures.get(i).abandon();
            }
            graphs.forEach(CudaGraph::close);
            throw e;
        }
    }

    /** Queues the replay of a capture (under the engine's lock). */
    synchronized void replay(List<EpIo> ios, List<CudaGraph> graphs, long[] bytes) {
        checkUsable("replay");
        for (int i = 0; i < ios.size(); i++) {
            EpRank r = ios.get(i).rank;
            r.context.setCurrent();
            graphs.get(i).launch(r.stream);
            r.done.record(r.stream);
        }
        pending = new Pending(EpStrategy.ALL_GATHER, ios, bytes, bytes, false);
    }

    /** NCCL calls of every rank as one group; waits (with the deadline) when NCCL is still launching them. */
    void group(List<EpIo> ios, String what, Consumer<EpRank> body) {
        boolean inProgress;
        try {
            inProgress = nccl.group(() -> {
                for (EpIo io : ios) {
                    body.accept(io.rank);
                }
            });
        } catch (NcclException e) {
            fail(e);
            throw e;
        }
        if (inProgress) {
            try {
                NcclCommunicator.awaitAll(ios.stream().map(io -> io.rank.comm).toList(), config.timeout(), "ncclGroupEnd",
                        what, "another rank failed or never called its part; moe.ep.timeout is the deadline");
            } catch (NcclException e) {
                fail(e);
                throw e;
            }
        }
    }

    /** All-reduces (max) the ranks' error bits, so that every rank learns about any rank's failure. */
    void reduceFlags(List<EpIo> ios) {
        group(ios, "all-reduce of the error flags", r -> r.comm.allReduce(r.buf.flags.address(),
                r.buf.flags.address() + 4, 1, NcclDataType.INT32, NcclRedOp.MAX, r.stream));
    }

    /** A host wait with the deadline; an abort marks the engine failed. */
    void await(List<EpIo> ios, Function<EpRank, CudaEvent> event, String what) {
        try {
            EpWatchdog.await(ios.stream().map(io -> io.rank).toList(), event, config.timeout(), what);
        } catch (NcclException e) {
            fail(e);
            EpWatchdog.abort(ranks);
            throw e;
        }
    }

    private void fail(RuntimeException e) {
        if (failure == null) {
            failure = e;
            LOG.warn("expert-parallel layer on {} failed and is unusable: {}", ranks, e.getMessage());
        }
    }

    private void checkUsable(String call) {
        if (closed) {
            throw new KernelStateException(call + ": this expert-parallel layer was closed");
        }
        if (failure != null) {
            throw new KernelStateException(call + ": this expert-parallel layer failed earlier and its NCCL communicator"
                    + " was aborted (" + failure.getMessage() + "); close it and build a new one");
        }
    }

    private void requirePrepared() {
        if (!prepared) {
            throw new KernelStateException("forward before prepare: call prepare(ExpertShards) first");
        }
    }

    /**
     * Aborts the communicator now (a host that knows a peer died): queued NCCL work quits, the engine
     * refuses further work.
     *
     * @param why what the host knows, for later messages
     */
    public synchronized void abort(String why) {
        fail(new KernelStateException("aborted by the host: " + why));
        EpWatchdog.abort(ranks);
    }

    /**
     * @param rank a rank this process drives
     * @param dtype element type
     * @param shape extents
     * @return a tensor in that rank's GPU memory
     */
    public synchronized CudaTensor allocate(int rank, DType dtype, long... shape) {
        checkUsable("allocate");
        for (EpRank r : ranks) {
            if (r.rank == rank) {
                return CudaTensor.allocate(r.context, dtype, shape);
            }
        }
        throw new BadInputException("rank " + rank + " is not driven by this process (its ranks: " + ranks + ")");
    }

    /** @return whether a failure aborted the communicator */
    public boolean isFailed() {
        return failure != null;
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (failure == null && pending != null) {
            try {
                EpWatchdog.await(pending.ios().stream().map(io -> io.rank).toList(), r -> r.done, config.timeout(),
                        "the last forward, while closing");
            } catch (RuntimeException e) {
                failure = e;
            }
        }
        pending = null;
        List<NcclCommunicator> comms = ranks.stream().map(r -> r.comm).filter(c -> c != null).toList();
        if (failure == null) {
            NcclCommunicator.closeAll(comms);
        } else {
            NcclCommunicator.abortAll(comms);
        }
        for (EpRank r : ranks) {
            try {
                r.close();
            } catch (RuntimeException e) {
                LOG.warn("closing {} failed: {}", r, e.getMessage());
            }
        }
    }

    @Override
    public String toString() {
        return "EpEngine[" + shape.ranks() + " ranks, " + ranks + ", " + config.strategy() + "]";
    }

    /** @return whether any forward is queued and not synchronized */
    boolean hasPending() {
        return pending != null;
    }

    static UnsupportedSpecException unsupported(MoeLayerSpec spec, String reason, String remedy) {
        return new UnsupportedSpecException("ep", spec.describe(), reason, remedy);
    }
}
