package io.moeoracle.ep;

import io.moeoracle.api.MoeKernel;
import io.moeoracle.api.device.DeviceAddress;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.error.BadInputException;
import io.moeoracle.api.spec.ActivationFormat;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.core.select.Selection;
import io.moeoracle.driver.cuda.CudaContext;
import io.moeoracle.driver.cuda.CudaDriver;
import io.moeoracle.driver.nccl.Nccl;
import io.moeoracle.driver.nccl.NcclCommunicator;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Builds an {@link EpEngine}: checks, per-rank resources and kernels, then the communicator. */
final class EpBuild {
    private static final Logger LOG = LoggerFactory.getLogger(EpBuild.class);
    /** The dispatch kernels keep a rank bit mask in 64 bits. */
    static final int MAX_RANKS = 64;

    private EpBuild() {
    }

    static EpEngine create(EpConfig c) {
        MoeLayerSpec spec = c.spec();
        int ranks = c.ranks();
        check(c, spec, ranks);
        if (!Nccl.isAvailable()) {
            String why = Nccl.unavailabilityCause().map(Throwable::getMessage).orElse("NCCL is unavailable");
            throw EpEngine.unsupported(spec, why, "install NCCL (pip's nvidia-nccl-cu13) or name it with -Dmoe.nccl.library");
        }
        if (!CudaDriver.isAvailable()) {
            String why = CudaDriver.unavailabilityCause().map(Throwable::getMessage).orElse("CUDA is unavailable");
            throw EpEngine.unsupported(spec, why, "run on a machine with NVIDIA GPUs and their driver");
        }
        Nccl nccl = Nccl.load();
        Nccl.nvlsWarning().ifPresent(w -> LOG.warn("{}", w));
        byte[] image = EpImage.bytes().orElseThrow(() -> EpEngine.unsupported(spec, "kernel image not built: "
                + EpImage.RESOURCE + " is missing from the moe-oracle-ep jar (the build found no nvcc)",
                "rebuild moe-oracle-ep where the CUDA toolkit's nvcc exists"));
        CudaDriver cuda = CudaDriver.load();
        boolean allGather = c.strategy() != EpStrategy.ALL_TO_ALL;
        boolean allToAll = c.strategy() != EpStrategy.ALL_GATHER;
        EpShape shape = EpShape.of(spec, ranks, c.cap());
        List<EpRank> made = new ArrayList<>();
        try {
            for (int i = 0; i < c.devices().size(); i++) {
                int rank = c.binding().map(EpConfig.Binding::rank).orElse(i);
                DeviceInfo d = c.devices().get(i);
                int ordinal = d.address(DeviceAddress.Cuda.class).orElseThrow().ordinal();
                CudaContext ctx = cuda.device(ordinal).retainPrimaryContext();
                EpRank r;
                try {
                    r = new EpRank(rank, d, ctx, image, ranks, c.cap(), spec.experts(), spec.hiddenSize(), spec.topK(),
                            allGather, allToAll);
                } catch (RuntimeException e) {
                    ctx.close();
                    throw e;
                }
                made.add(r);
                r.buf.perm.copyFromHost(MemorySegment.ofArray(c.placement().virtualIds())); // returns when landed
                r.buf.flags.fill((byte) 0);
            }
            for (EpRank r : made) {
                if (allGather) {
                    r.standardSelection = Optional.of(select(c, r, ActivationFormat.STANDARD));
                    r.standard = create(r.standardSelection.get());
                }
                if (allToAll) {
                    r.batchedSelection = Optional.of(select(c, r, ActivationFormat.BATCHED));
                    r.batched = create(r.batchedSelection.get());
                }
                LOG.info("expert parallelism: rank {} of {} on {} runs {} for experts {}", r.rank, ranks, r.device.id(),
                        r.kernelIds(), describe(c.placement().expertsOf(r.rank)));
            }
            if (c.binding().isPresent()) {
                EpConfig.Binding b = c.binding().get();
                EpRank r = made.getFirst();
                r.comm = NcclCommunicator.initRank(r.context, b.id(), b.rank(), b.size(), c.timeout());
            } else {
                List<NcclCommunicator> comms = NcclCommunicator.initAll(made.stream().map(r -> r.context).toList(),
                        c.timeout());
                for (int i = 0; i < made.size(); i++) {
                    made.get(i).comm = comms.get(i);
                }
            }
            LOG.info("expert parallelism: NCCL {} communicator of {} ranks ready ({})", nccl.versionString(), ranks,
                    c.strategy());
            return new EpEngine(c, shape, nccl, made);
        } catch (RuntimeException e) {
            NcclCommunicator.abortAll(made.stream().map(r -> r.comm).filter(x -> x != null).toList());
            for (EpRank r : made) {
                try {
                    r.close();
                } catch (RuntimeException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw e;
        }
    }

    private static void check(EpConfig c, MoeLayerSpec spec, int ranks) {
        if (ranks < 1 || ranks > MAX_RANKS) {
            throw new BadInputException(ranks + " ranks: expert parallelism here takes 1 to " + MAX_RANKS + " ranks");
        }
        if (spec.activationFormat() != ActivationFormat.STANDARD) {
            throw new BadInputException("the layer's spec must have the STANDARD activation format (tokens [T, H] with"
                    + " routing); the all-to-all strategy makes the batched format itself");
        }
        if (spec.expertParallelSize() != 1 && spec.expertParallelSize() != ranks) {
            throw new BadInputException("the spec says expertParallelSize " + spec.expertParallelSize() + " but "
                    + ranks + " ranks were given; describe the whole layer (expertParallelSize 1)");
        }
        if (spec.experts() % ranks != 0) {
            throw new BadInputException(ranks + " ranks cannot share " + spec.experts() + " experts evenly");
        }
        if (spec.lora()) {
            throw EpEngine.unsupported(spec, "expert parallelism does not carry LoRA adapter ids between ranks",
                    "run the layer without LoRA, or on one GPU");
        }
        if (c.placement().ranks() != ranks || c.placement().experts() != spec.experts()) {
            throw new BadInputException("the placement is for " + c.placement().experts() + " experts on "
                    + c.placement().ranks() + " ranks, the layer has " + spec.experts() + " experts on " + ranks + " ranks");
        }
        if (c.cap() < 1 || (long) c.cap() * ranks > (1 << 24)) {
            throw new BadInputException("maxTokensPerRank " + c.cap() + " must be at least 1 and at most " + ((1 << 24) / ranks)
                    + " for " + ranks + " ranks");
        }
        if (c.binding().isPresent()) {
            EpConfig.Binding b = c.binding().get();
            if (c.devices().size() != 1 || b.rank() < 0 || b.rank() >= b.size()) {
                throw new BadInputException("one rank per process: give this rank's one device and a rank in [0, "
                        + b.size() + "), got " + c.devices().size() + " devices and rank " + b.rank());
            }
        } else if (c.devices().isEmpty()) {
            throw new BadInputException("no devices: give one CUDA device per rank, e.g. cuda:0,cuda:1");
        }
        Set<Integer> ordinals = new HashSet<>();
        for (DeviceInfo d : c.devices()) {
            Optional<DeviceAddress.Cuda> a = d.address(DeviceAddress.Cuda.class);
            if (a.isEmpty() || d.simulated()) {
                throw new BadInputException("device " + d.id() + " is not a real CUDA GPU; expert parallelism runs over"
                        + " NCCL on CUDA devices (cuda:0, cuda:1, ...)");
            }
            if (!ordinals.add(a.get().ordinal())) {
                throw new BadInputException("device " + d.id() + " is listed twice; each rank needs a GPU of its own");
            }
        }
    }

    /**
     * @param c the configuration
     * @param rank a rank
     * @param format the kernel's activation format
     * @return that rank's spec for one of its kernels
     */
    static MoeLayerSpec rankSpec(EpConfig c, int rank, ActivationFormat format) {
        int ranks = c.ranks();
        Optional<String> backend = format == ActivationFormat.STANDARD
                ? c.standardBackend().or(() -> c.spec().requestedBackend()) : c.batchedBackend();
        MoeLayerSpec s = c.spec().toBuilder().expertParallel(ranks, rank).activationFormat(format)
                .maxTokensPerCall(Math.min(1 << 24, ranks * c.cap())).requestedBackend(backend.orElse(null)).build();
        if (format == ActivationFormat.BATCHED) {
            // a batched call holds E_local x maxTokensPerCall rows: keep that within 32-bit element offsets of the
            // widest row (marlin-style kernels index with int); the all-to-all path chunks larger loads
            s = s.toBuilder().maxTokensPerCall(batchedRows(s.localExperts(), s.hiddenSize(), s.intermediateSize(),
                    s.maxTokensPerCall())).build();
        }
        return s;
    }

    /**
     * @param localExperts E_local
     * @param hidden H
     * @param intermediate I
     * @param wanted the rows per expert the strategy would like in one batched call
     * @return at most {@code wanted}, and few enough that {@code E_local * rows * max(H, I)} (widths padded to 64)
     *     stays below 2^31, in multiples of {@link EpBatchPlan#GRANULE} (at least one granule)
     */
    static int batchedRows(int localExperts, int hidden, int intermediate, int wanted) {
        long width = (Math.max(hidden, intermediate) + 63L) / 64 * 64;
        long byOffsets = ((1L << 31) - 1) / ((long) localExperts * width);
        long granular = Math.max(EpBatchPlan.GRANULE, byOffsets / EpBatchPlan.GRANULE * EpBatchPlan.GRANULE);
        return (int) Math.max(1, Math.min(wanted, granular));
    }

    private static Selection select(EpConfig c, EpRank r, ActivationFormat format) {
        MoeLayerSpec s = rankSpec(c, r.rank, format);
        Selection sel = c.selector().select(s, r.device);
        if (sel.winner().runsOnHost()) {
            throw EpEngine.unsupported(s, "rank " + r.rank + ": the selector chose '" + sel.winnerId() + "', which runs"
                    + " on the host; expert parallelism needs a GPU kernel on " + r.device.id(),
                    "install a CUDA backend for this layer (marlin / batched-marlin for MXFP4)");
        }
        return sel;
    }

    private static MoeKernel create(Selection sel) {
        return sel.createKernel();
    }

    static String describe(int[] experts) {
        return experts.length <= 8 ? java.util.Arrays.toString(experts) : "[" + experts[0] + ", " + experts[1] + ", ..., "
                + experts[experts.length - 1] + "] (" + experts.length + ")";
    }
}
