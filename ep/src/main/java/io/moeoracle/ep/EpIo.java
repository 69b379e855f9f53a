package io.moeoracle.ep;

import io.moeoracle.api.device.DeviceAddress;
import io.moeoracle.api.error.BadInputException;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.tensor.DType;
import io.moeoracle.api.tensor.DeviceTensor;
import io.moeoracle.api.tensor.ForwardArgs;
import io.moeoracle.api.tensor.HostTensor;
import io.moeoracle.api.tensor.Routing;
import io.moeoracle.api.tensor.Tensor;
import io.moeoracle.driver.cuda.CudaTensor;
import io.moeoracle.driver.cuda.DeviceBuffer;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * A rank's inputs and output for one forward: checked before anything is queued, then staged on the
 * device (host tensors copied in, F32 converted to BF16, device tensors used in place) and, after the
 * forward, host outputs copied back.
 */
final class EpIo {
    final EpRank rank;
    final EpRankInput input;
    final int tokens;

    private EpIo(EpRank rank, EpRankInput input, int tokens) {
        this.rank = rank;
        this.input = input;
        this.tokens = tokens;
    }

    /** A rank that takes part with no tokens of its own (its input was refused; the forward must still run). */
    static EpIo empty(EpRank rank, EpRankInput input) {
        return new EpIo(rank, input, 0);
    }

    /**
     * Checks shapes, dtypes, token count and where each tensor lives, before any native call.
     *
     * @param checkSpec the whole layer with {@code maxTokensPerCall} = the per-rank capacity
     * @param rank the rank
     * @param input its input
     * @return the checked input
     * @throws BadInputException naming the rank, the tensor and what was expected
     */
    static EpIo check(MoeLayerSpec checkSpec, EpRank rank, EpRankInput input) {
        try {
            int t = ForwardArgs.check(checkSpec, input.hidden(), input.routing(), input.out());
            ForwardArgs.checkIds(checkSpec, input.routing());
            String cudaId = rank.device.address(DeviceAddress.Cuda.class).map(DeviceAddress::id).orElse(rank.device.id());
            for (Tensor x : tensors(input)) {
                if (x instanceof HostTensor h) {
                    h.checkBacking();
                } else if (x instanceof CudaTensor c) {
                    if (!c.deviceId().equals(cudaId)) {
                        throw new BadInputException("a tensor lives on " + c.deviceId() + " but this rank runs on " + cudaId
                                + "; pass each rank tensors of its own GPU, or host tensors");
                    }
                } else if (x instanceof DeviceTensor d) {
                    throw new BadInputException("a " + d.getClass().getName() + " of " + d.deviceId()
                            + " is neither a host tensor nor a CUDA tensor; expert parallelism takes HostTensor or CudaTensor");
                }
            }
            return new EpIo(rank, input, t);
        } catch (BadInputException e) {
            throw new BadInputException("rank " + rank.rank + " (" + rank.device.id() + "): " + e.getMessage(), e);
        }
    }

    private static List<Tensor> tensors(EpRankInput in) {
        List<Tensor> all = new ArrayList<>(List.of(in.hidden(), in.out()));
        switch (in.routing()) {
            case Routing.Logits l -> all.add(l.logits());
            case Routing.TopK k -> {
                all.add(k.ids());
                all.add(k.weights());
            }
        }
        return all;
    }

    /** @return whether any tensor of the input is in host memory */
    boolean usesHost() {
        return tensors(input).stream().anyMatch(t -> t instanceof HostTensor);
    }

    /**
     * Queues this rank's rows, as BF16, into {@code dst} (host rows are copied synchronously: the rank's
     * stream is idle when host tensors are involved).
     *
     * @param dst exactly {@code tokens * H * 2} bytes
     * @param hidden H
     */
    void stageHidden(DeviceBuffer dst, int hidden) {
        if (tokens == 0) {
            return;
        }
        long n = (long) tokens * hidden;
        switch (input.hidden()) {
            case CudaTensor c when c.dtype() == DType.BF16 -> dst.copyFromAsync(c.buffer(), rank.stream);
            case CudaTensor c -> rank.launches.toBf16(rank.stream, c.address(), dst.address(), n);
            case HostTensor h when h.dtype() == DType.BF16 -> upload(dst, h.data(), rank.stream);
            case HostTensor h -> {
                upload(rank.buf.stageF32, h.data(), rank.stream);
                rank.launches.toBf16(rank.stream, rank.buf.stageF32.address(), dst.address(), n);
            }
            default -> throw new IllegalStateException("unchecked input " + input.hidden());
        }
    }

    /**
     * The routing's device addresses (host routing copied into the staging buffer).
     *
     * @param cap rows of the staging buffer
     * @param topK k
     * @return logits (0 for top-k), whether BF16, ids and weights (0 for logits)
     */
    RoutingPointers routing(int cap, int topK) {
        if (tokens == 0) {
            return new RoutingPointers(0, false, 0, 0);
        }
        return switch (input.routing()) {
            case Routing.Logits l -> new RoutingPointers(address(l.logits(), rank.buf.stageRouting),
                    l.logits().dtype() == DType.BF16, 0, 0);
            case Routing.TopK k -> new RoutingPointers(0, false, address(k.ids(), rank.buf.stageRouting),
                    address(k.weights(), rank.buf.stageRouting.slice(4L * cap * topK, 4L * cap * topK)));
        };
    }

    private long address(Tensor t, DeviceBuffer staging) {
        if (t instanceof CudaTensor c) {
            return c.address();
        }
        HostTensor h = (HostTensor) t;
        upload(staging, h.data(), rank.stream);
        return staging.address();
    }

    /**
     * Host rows into a staging buffer, queued on the rank's stream so the kernels that read it next are
     * ordered after it without a host wait (DeviceBuffer.copyFromHost would wait for the legacy stream).
     * The caller's host memory stays valid until the forward completes (host inputs make forward synchronous).
     */
    private static void upload(DeviceBuffer dst, MemorySegment src, io.moeoracle.driver.cuda.CudaStream stream) {
        if (src.isNative()) {
            dst.copyFromHostAsync(src, stream);
            return;
        }
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            MemorySegment tmp = arena.allocate(src.byteSize(), 64);
            tmp.copyFrom(src);
            dst.copyFromHostAsync(tmp, stream);
            stream.synchronize();
        }
    }

    /** Where the output is written on the device: the user's tensor, or staging when it lives on the host. */
    long outAddress() {
        return switch (input.out()) {
            case CudaTensor c -> c.address();
            case HostTensor h when h.dtype() == DType.BF16 -> rank.buf.stageBf16.address();
            default -> rank.buf.stageF32.address();
        };
    }

    /** @return whether the output is BF16 */
    boolean outBf16() {
        return input.out().dtype() == DType.BF16;
    }

    /**
     * Queues the conversion of F32 rows (the all-gather path's reduce-scatter output, in stageF32) into
     * the output: a device tensor directly, a host BF16 one via stageBf16 (copied back by {@link #copyBack}).
     *
     * @param hidden H
     */
    void fromStageF32(int hidden) {
        if (tokens == 0) {
            return;
        }
        long n = (long) tokens * hidden;
        switch (input.out()) {
            case CudaTensor c when c.dtype() == DType.F32 -> c.buffer().copyFromAsync(rank.buf.stageF32.slice(0, 4 * n),
                    rank.stream);
            case CudaTensor c -> rank.launches.toBf16(rank.stream, rank.buf.stageF32.address(), c.address(), n);
            case HostTensor h when h.dtype() == DType.BF16 -> rank.launches.toBf16(rank.stream,
                    rank.buf.stageF32.address(), rank.buf.stageBf16.address(), n);
            default -> {
                // host F32: copied straight from stageF32 by copyBack
            }
        }
    }

    /** After the forward completed: copies a host output back from its staging buffer. */
    void copyBack() {
        if (tokens == 0 || !(input.out() instanceof HostTensor h)) {
            return;
        }
        DeviceBuffer from = h.dtype() == DType.BF16 ? rank.buf.stageBf16 : rank.buf.stageF32;
        from.copyToHost(h.data());
    }

    /** Device addresses of one rank's routing. */
    record RoutingPointers(long logits, boolean logitsBf16, long ids, long weights) {
    }
}
