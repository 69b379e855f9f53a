package io.moeoracle.backend.marlin;

import io.moeoracle.api.CapturedForward;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.error.BadInputException;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.tensor.DType;
import io.moeoracle.api.tensor.ForwardArgs;
import io.moeoracle.api.tensor.HostTensor;
import io.moeoracle.api.tensor.Routing;
import io.moeoracle.api.tensor.Tensor;
import io.moeoracle.cuda.moe.kernel.TensorStaging;
import io.moeoracle.driver.cuda.CudaContext;
import io.moeoracle.driver.cuda.CudaGraph;
import io.moeoracle.driver.cuda.CudaTensor;
import java.lang.foreign.Arena;
import java.util.Optional;

/**
 * The marlin kernel for the batched (expert-parallel) format: tokens arrive grouped per local
 * expert ({@link io.moeoracle.api.MoeKernel#forwardBatched}). A forward zeroes the accumulator, aligns the batches to the M
 * tile, runs both GEMMs (no routing weight) and converts the output. Scratch grows on the first
 * call for its batch size. The standard {@link #forward}/{@link #capture} of {@code MoeKernel}
 * are not this format and throw, naming the batched calls.
 */
public final class BatchedMarlinKernel extends MarlinKernel {

    BatchedMarlinKernel(String providerId, MoeLayerSpec spec, DeviceInfo device, CudaContext context, byte[] image,
                        int sms) {
        super(providerId, spec, device, context, image, sms);
    }

    @Override
    void reserveScratch() {
        // sized by the first call's batch (tokens per expert), not by maxTokensPerCall
    }

    @Override
    public void forward(Tensor hidden, Routing routing, Tensor out) {
        checkOpen();
        throw ForwardArgs.wrongFormat(providerId, spec, "forward");
    }

    @Override
    public Optional<CapturedForward> capture(Tensor hidden, Routing routing, Tensor out) {
        checkOpen();
        throw ForwardArgs.wrongFormat(providerId, spec, "capture");
    }

    @Override
    public void forwardBatched(Tensor hidden, Tensor counts, Tensor out) {
        checkOpen();
        requirePrepared();
        int tb = checkBatched(hidden, counts, out);
        staging.checkResidence("hidden", hidden);
        staging.checkResidence("counts", counts);
        staging.checkResidence("out", out);
        synchronized (this) {
            checkOpen();
            context.ensureCurrent();
            if (tb == 0) {
                return;
            }
            if (hidden.dtype() == DType.F32 || TensorStaging.anyOnHost(hidden, out, counts)) {
                stream.synchronize(); // staging buffers may still feed the previous call
            }
            scratch.ensure((long) el * tb, (long) el * tb, (long) el * tb);
            long hiddenPtr = stageHidden(hidden, (long) el * tb * spec.hiddenSize(), true);
            long countsPtr = TensorStaging.in(counts, scratch.stageIds());
            long outPtr = TensorStaging.out(out, scratch.stageOut());
            enqueue(tb, hiddenPtr, countsPtr, outPtr, out.dtype() == DType.BF16);
            if (out instanceof HostTensor h) {
                stream.synchronize();
                scratch.stageOut().copyToHost(h.data());
            }
        }
    }

    @Override
    public Optional<CapturedForward> captureBatched(Tensor hidden, Tensor counts, Tensor out) {
        checkOpen();
        requirePrepared();
        int tb = checkBatched(hidden, counts, out);
        CudaTensor hid = staging.requireDevice("hidden", hidden);
        long countsPtr = staging.requireDevice("counts", counts).address();
        long outPtr = staging.requireDevice("out", out).address();
        if (tb == 0) {
            throw new BadInputException("cannot capture a forward of empty batches");
        }
        synchronized (this) {
            context.ensureCurrent();
            stream.synchronize();
            scratch.ensure((long) el * tb, (long) el * tb, (long) el * tb);
            long hiddenPtr = stageHidden(hidden, (long) el * tb * spec.hiddenSize(), false);
            boolean f32 = hidden.dtype() == DType.F32;
            CudaGraph graph = CudaGraph.capture(stream, s -> {
                if (f32) {
                    launches.routing.convertHidden(hid.address(), (long) el * tb * spec.hiddenSize());
                }
                enqueue(tb, hiddenPtr, countsPtr, outPtr, out.dtype() == DType.BF16);
            });
            return Optional.of(replay(graph));
        }
    }

    private void enqueue(int tb, long hidden, long counts, long out, boolean outBf16) {
        long rows = (long) el * tb;
        MarlinPlan plan = launches.plan(rows, -1);
        long n = rows * spec.hiddenSize();
        try (Arena arena = Arena.ofConfined()) {
            launches.routing.zeroAcc(arena, n);
            launches.routing.align(arena, 0, (int) rows, counts, tb, plan.m());
            launches.launchGemms(arena, plan, hidden, 1, 0);
            launches.routing.finalizeOut(arena, n, out, outBf16);
        }
    }

    private int checkBatched(Tensor hidden, Tensor counts, Tensor out) {
        return ForwardArgs.checkBatched(spec, hidden, counts, out);
    }
}
