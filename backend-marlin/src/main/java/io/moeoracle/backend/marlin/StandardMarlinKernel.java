package io.moeoracle.backend.marlin;

import io.moeoracle.api.CapturedForward;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.error.BadInputException;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.tensor.DType;
import io.moeoracle.api.tensor.ForwardArgs;
import io.moeoracle.api.tensor.HostTensor;
import io.moeoracle.api.tensor.LoraArgs;
import io.moeoracle.api.tensor.Routing;
import io.moeoracle.api.tensor.Tensor;
import io.moeoracle.cuda.moe.kernel.TensorStaging;
import io.moeoracle.driver.cuda.CudaContext;
import io.moeoracle.driver.cuda.CudaGraph;
import io.moeoracle.driver.cuda.CudaTensor;
import java.lang.foreign.Arena;
import java.util.Optional;

/**
 * The marlin kernel for the standard format ({@code hidden [T, H]} with router logits or top-k
 * ids and weights). A forward is five launches on the kernel's stream, with no host round trip:
 * routing (top-k + softmax, or given top-k), alignment (rows sorted by expert, padded to the M
 * tile), GEMM1 (+ bias + activation), GEMM2 (+ bias, times the routing weight, summed over the
 * top-k by FP32 atomics) and the conversion to the output type. Decode-sized calls fuse routing
 * and alignment into one launch. With LoRA ({@link #forward(Tensor, Routing, Tensor, Tensor)}), one
 * launch more ({@link MarlinLora}): the gate/up shrink before GEMM1; GEMM1's epilogue adds the gate/up
 * expand before the activation and sums the down shrink of its columns, GEMM2's epilogue adds the
 * down expand before the routing weight.
 */
public final class StandardMarlinKernel extends MarlinKernel {

    StandardMarlinKernel(String providerId, MoeLayerSpec spec, DeviceInfo device, CudaContext context, byte[] image,
                         int sms) {
        super(providerId, spec, device, context, image, sms);
    }

    @Override
    void reserveScratch() {
        scratch.ensure(spec.maxTokensPerCall(), (long) spec.maxTokensPerCall() * spec.topK(), spec.maxTokensPerCall());
        if (lora != null) {
            lora.reserve((long) spec.maxTokensPerCall() * spec.topK(), spec.maxTokensPerCall());
        }
    }

    @Override
    public void forward(Tensor hidden, Routing routing, Tensor out) {
        run(hidden, routing, null, out);
    }

    @Override
    public void forward(Tensor hidden, Routing routing, Tensor adapterIds, Tensor out) {
        if (lora == null) {
            throw LoraArgs.noLora(providerId, spec, "forward with adapter ids");
        }
        run(hidden, routing, java.util.Objects.requireNonNull(adapterIds, "adapterIds"), out);
    }

    /** One forward; {@code adapterIds} null: without LoRA. */
    private void run(Tensor hidden, Routing routing, Tensor adapterIds, Tensor out) {
        checkOpen();
        requirePrepared();
        int t = ForwardArgs.check(spec, hidden, routing, out);
        ForwardArgs.checkIds(spec, routing);
        if (adapterIds != null) {
            staging.checkResidence("adapter ids", adapterIds);
        }
        staging.checkResidence(hidden, routing, out);
        synchronized (this) {
            checkOpen();
            context.ensureCurrent();
            if (adapterIds != null) {
                LoraArgs.checkIds(providerId, spec, adapterIds, t, lora::isLoaded); // under the lock: slots stay put
            }
            if (t == 0) {
                return;
            }
            Tensor ad = adapterIds == null ? hidden : adapterIds;
            if (hidden.dtype() == DType.F32 || TensorStaging.anyOnHost(hidden, out, ad)
                    || TensorStaging.anyOnHost(TensorStaging.routingTensors(routing))) {
                stream.synchronize(); // staging buffers may still feed the previous call
            }
            long adapterPtr = adapterIds == null ? 0 : TensorStaging.in(adapterIds, lora.stageIds);
            long hiddenPtr = stageHidden(hidden, t * (long) spec.hiddenSize(), true);
            TensorStaging.DeviceRouting r = TensorStaging.stage(routing, scratch.stageLogits(), scratch.stageIds(),
                    scratch.stageW());
            long outPtr = TensorStaging.out(out, scratch.stageOut());
            enqueue(t, hiddenPtr, r, outPtr, out.dtype() == DType.BF16, adapterPtr);
            if (out instanceof HostTensor h) {
                stream.synchronize();
                scratch.stageOut().copyToHost(h.data());
            }
        }
    }

    @Override
    public Optional<CapturedForward> capture(Tensor hidden, Routing routing, Tensor out) {
        return record(hidden, routing, null, out);
    }

    @Override
    public Optional<CapturedForward> capture(Tensor hidden, Routing routing, Tensor adapterIds, Tensor out) {
        if (lora == null) {
            throw LoraArgs.noLora(providerId, spec, "capture with adapter ids");
        }
        return record(hidden, routing, java.util.Objects.requireNonNull(adapterIds, "adapterIds"), out);
    }

    private Optional<CapturedForward> record(Tensor hidden, Routing routing, Tensor adapterIds, Tensor out) {
        checkOpen();
        requirePrepared();
        int t = ForwardArgs.check(spec, hidden, routing, out);
        final long a0;
        if (adapterIds != null) {
            LoraArgs.checkIds(providerId, spec, adapterIds, t, s -> true);
            a0 = staging.requireDevice("adapter ids", adapterIds).address();
        } else {
            a0 = 0;
        }
        staging.requireDevice("hidden", hidden);
        staging.requireDevice("out", out);
        TensorStaging.DeviceRouting r = staging.requireDevice(routing);
        if (t == 0) {
            throw new BadInputException("cannot capture a forward of 0 tokens");
        }
        synchronized (this) {
            context.ensureCurrent();
            stream.synchronize();
            long hiddenPtr = stageHidden(hidden, t * (long) spec.hiddenSize(), false); // F32: converted in the graph
            boolean f32 = hidden.dtype() == DType.F32;
            CudaTensor hid = (CudaTensor) hidden;
            long outPtr = ((CudaTensor) out).address();
            CudaGraph graph = CudaGraph.capture(stream, s -> {
                if (f32) {
                    launches.routing.convertHidden(hid.address(), t * (long) spec.hiddenSize());
                }
                enqueue(t, hiddenPtr, r, outPtr, out.dtype() == DType.BF16, a0);
            });
            return Optional.of(replay(graph));
        }
    }

    /** Queues the standard forward on the kernel's stream; every pointer is a device address. */
    private void enqueue(int t, long hidden, TensorStaging.DeviceRouting r, long out, boolean outBf16, long adapterIds) {
        long rows = (long) t * spec.topK();
        MarlinPlan plan = launches.plan(rows, t);
        int h = spec.hiddenSize();
        try (Arena arena = Arena.ofConfined()) {
            if (plan.fusedRouting()) {
                launches.routing.routeAlign(arena, r.logits(), r.logitsBf16Flag(), r.ids(), r.weights(), t, plan.m());
            } else {
                launches.routing.route(arena, r.logits(), r.logitsBf16Flag(), r.ids(), r.weights(), t);
                launches.routing.align(arena, scratch.topkIds().address(), (int) rows, 0, 0, plan.m());
            }
            if (adapterIds == 0) {
                launches.launchGemms(arena, plan, hidden, spec.topK(), scratch.topkW().address());
            } else {
                MarlinLora.Terms terms = lora.enqueueShrink(arena, launches, plan, scratch, hidden, adapterIds);
                launches.launchGemm1(arena, plan, hidden, spec.topK(), terms);
                launches.launchGemm2(arena, plan, spec.topK(), scratch.topkW().address(), terms);
            }
            launches.routing.finalizeOut(arena, (long) t * h, out, outBf16);
        }
    }
}
