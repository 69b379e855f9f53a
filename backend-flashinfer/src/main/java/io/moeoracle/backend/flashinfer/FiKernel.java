package io.moeoracle.backend.flashinfer;

import io.moeoracle.api.CapturedForward;
import io.moeoracle.api.MoeKernel;
import io.moeoracle.api.SupportVerdict;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.error.BadInputException;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.tensor.DType;
import io.moeoracle.api.tensor.DeviceTensor;
import io.moeoracle.api.tensor.ForwardArgs;
import io.moeoracle.api.tensor.HostTensor;
import io.moeoracle.api.tensor.MoeWeights;
import io.moeoracle.api.tensor.Routing;
import io.moeoracle.api.tensor.Tensor;
import io.moeoracle.cuda.moe.host.CudaHost;
import io.moeoracle.cuda.moe.kernel.CudaKernels;
import io.moeoracle.cuda.moe.kernel.KernelState;
import io.moeoracle.cuda.moe.kernel.TensorStaging;
import io.moeoracle.driver.cuda.CudaContext;
import io.moeoracle.driver.cuda.CudaDevice;
import io.moeoracle.driver.cuda.CudaGraph;
import io.moeoracle.driver.cuda.CudaStream;
import io.moeoracle.driver.cuda.CudaStreamBound;
import io.moeoracle.driver.cuda.CudaTensor;
import java.lang.foreign.Arena;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One MoE layer on one CUDA device with the flashinfer kernels (standard format: {@code hidden [T, H]}
 * with router logits or top-k ids and weights). A forward is one stream of launches with no host
 * round trip: routing and alignment (one launch at decode sizes), for the MXFP8 provider the
 * quantization of the hidden rows, GEMM1 (+ bias + activation, BF16 intermediate), for MXFP8 the
 * quantization of the intermediate rows in use, GEMM2 (+ bias, times the routing weight, top-k sum by
 * FP32 atomics) and the conversion to the output type; {@link #capture} records it as a CUDA graph.
 *
 * <p>Host tensors are copied in and out and the call returns when the output is written; with
 * device tensors ({@link #allocate}) it returns once the work is queued ({@link #synchronize} waits).
 * Calls are serialized on the kernel (one stream); scratch is allocated in {@link #prepare} for
 * {@code maxTokensPerCall} tokens. The life cycle, staging and graph replay are
 * cuda-moe's, shared with the other CUDA backends.
 */
public final class FiKernel implements MoeKernel, CudaStreamBound {
    private static final Logger LOG = LoggerFactory.getLogger(FiKernel.class);

    private final String providerId;
    private final MoeLayerSpec spec;
    private final DeviceInfo device;
    private final CudaContext context;
    private final CudaStream stream;
    private final FiScratch scratch;
    private final FiWeights weights;
    private final FiLaunches launches;
    private final TensorStaging staging;
    private final KernelState state;
    private final boolean fp8;
    /** GEMM1 writes an F32 intermediate (read from the image's configuration; the quantizer then reads F32). */
    private boolean f32Inter;

    private FiKernel(String providerId, boolean fp8, List<FiFamily> families, MoeLayerSpec spec, DeviceInfo device,
                     CudaContext context, byte[] image, int sms) {
        this.providerId = providerId;
        this.fp8 = fp8;
        this.spec = spec;
        this.device = device;
        this.context = context;
        context.ensureCurrent();
        var module = context.loadModule(image);
        this.stream = context.createStream();
        this.scratch = new FiScratch(context, spec, fp8);
        this.weights = new FiWeights(context, stream, spec, providerId, families.getFirst());
        this.launches = new FiLaunches(spec, families, context, stream, module, sms, scratch);
        this.staging = new TensorStaging(device, providerId);
        this.state = new KernelState(providerId);
    }

    /**
     * Creates a kernel on a real CUDA device: loads the fatbin, probes the families' kernels and reads
     * their configurations.
     *
     * @param providerId the provider that creates it
     * @param fp8 MXFP8 activations (flashinfer-mxfp8) or BF16 (flashinfer-bf16)
     * @param spec the layer
     * @param device a real device {@code cuda:N}
     * @return the kernel, not yet prepared
     */
    static FiKernel create(String providerId, boolean fp8, MoeLayerSpec spec, DeviceInfo device) {
        if (FiRules.verdict(spec, device, fp8) instanceof SupportVerdict.Unsupported u) {
            throw u.toException(providerId, spec, device);
        }
        CudaDevice cuda = CudaHost.cudaDevice(device, providerId);
        byte[] image = FiImage.IMAGE.require(providerId, spec, device);
        List<FiFamily> families = FiRules.families(fp8, device.smVersion().orElse(0), FlashinferSettings.fp8Mma());
        int sms = cuda.multiprocessorCount();
        FiKernel k = CudaKernels.create(cuda.retainPrimaryContext(),
                context -> new FiKernel(providerId, fp8, families, spec, device, context, image, sms), kernel -> {
                    kernel.launches.loadFunctions(cuda.maxSharedMemoryPerBlockOptin());
                    kernel.f32Inter = kernel.launches.f32Intermediate();
                });
        LOG.debug("{}: {} kernels (M {}) loaded on {} for {}", providerId, families,
                java.util.Arrays.toString(k.launches.offered()), device.describe(), spec.describe());
        return k;
    }

    @Override
    public String providerId() {
        return providerId;
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
    public String toString() {
        return providerId + " kernel (" + launches.families() + ") for " + spec.describe() + " on " + device.describe();
    }

    @Override
    public synchronized void prepare(MoeWeights w) {
        checkOpen();
        w.validate(spec);
        weights.check(w);
        context.ensureCurrent();
        state.prepared(false);
        weights.upload(w, launches);
        scratch.ensure(spec.maxTokensPerCall(), launches.offered(), launches.f32Intermediate());
        state.prepared(true);
        LOG.debug("{}: prepared {}", providerId, spec.describe());
    }

    @Override
    public boolean isPrepared() {
        return state.isPrepared();
    }

    @Override
    public DeviceTensor allocate(DType dtype, long... shape) {
        checkOpen();
        return CudaTensor.allocate(context, dtype, shape);
    }

    @Override
    public void synchronize() {
        checkOpen();
        context.ensureCurrent();
        stream.synchronize();
    }

    /** Forces the M tile (one the families offer) for later calls, or 0 to choose by size; for tests and benchmarks. */
    void forceM(int m) {
        launches.forceM(m);
    }

    /** @return the M tiles the loaded families offer */
    int[] offeredM() {
        return launches.offered();
    }

    /** @return the GEMM families this kernel runs, preferred first */
    List<FiFamily> families() {
        return launches.families();
    }

    /** @return the plan a call of {@code tokens} tokens gets */
    FiPlan plan(int tokens) {
        return launches.plan((long) tokens * spec.topK(), tokens);
    }

    /**
     * @return the stream every launch of this kernel goes to: work queued after an event recorded on it
     *     (expert parallelism's collectives, the benchmark's events) is ordered without a host wait
     */
    @Override
    public CudaStream stream() {
        return stream;
    }

    /** @return the kernel's context; for tests that launch single kernels of the image */
    CudaContext context() {
        return context;
    }

    /** @return the launches (the loaded image); for tests */
    FiLaunches launches() {
        return launches;
    }

    /** @return {@code fi_repack_mxfp4}'s padded layout of the w13 (or w2) weights and scales of {@code w}; for tests */
    byte[][] paddedLayout(MoeWeights w, boolean w13) {
        synchronized (this) {
            checkOpen();
            context.ensureCurrent();
            int h = spec.hiddenSize();
            int i = spec.intermediateSize();
            return w13 ? weights.paddedLayout(launches, w.w13(), w.w13Scales().orElseThrow(), 2 * i, h,
                    2 * FiLayout.pad(i), FiLayout.pad(h))
                    : weights.paddedLayout(launches, w.w2(), w.w2Scales().orElseThrow(), h, i, FiLayout.pad(h),
                    FiLayout.pad(i));
        }
    }

    @Override
    public void forward(Tensor hidden, Routing routing, Tensor out) {
        checkOpen();
        requirePrepared();
        int t = ForwardArgs.check(spec, hidden, routing, out);
        ForwardArgs.checkIds(spec, routing);
        staging.checkResidence(hidden, routing, out);
        synchronized (this) {
            checkOpen();
            context.ensureCurrent();
            if (t == 0) {
                return;
            }
            if (TensorStaging.anyOnHost(hidden, out) || TensorStaging.anyOnHost(TensorStaging.routingTensors(routing))) {
                stream.synchronize(); // staging buffers may still feed the previous call
            }
            long hiddenPtr = stageHidden(hidden);
            TensorStaging.DeviceRouting r = TensorStaging.stage(routing, scratch.stageLogits(), scratch.stageIds(),
                    scratch.stageW());
            enqueue(t, hiddenPtr, hidden.dtype() == DType.BF16, r, TensorStaging.out(out, scratch.stageOut()),
                    out.dtype() == DType.BF16);
            if (out instanceof HostTensor h) {
                stream.synchronize();
                scratch.stageOut().copyToHost(h.data());
            }
        }
    }

    @Override
    public Optional<CapturedForward> capture(Tensor hidden, Routing routing, Tensor out) {
        checkOpen();
        requirePrepared();
        int t = ForwardArgs.check(spec, hidden, routing, out);
        long hiddenPtr = staging.requireDevice("hidden", hidden).address();
        long outPtr = staging.requireDevice("out", out).address();
        TensorStaging.DeviceRouting r = staging.requireDevice(routing);
        if (t == 0) {
            throw new BadInputException("cannot capture a forward of 0 tokens");
        }
        boolean hiddenBf16 = hidden.dtype() == DType.BF16;
        boolean outBf16 = out.dtype() == DType.BF16;
        synchronized (this) {
            checkOpen();
            context.ensureCurrent();
            stream.synchronize();
            CudaGraph graph = CudaGraph.capture(stream, s -> enqueue(t, hiddenPtr, hiddenBf16, r, outPtr, outBf16));
            return Optional.of(CudaKernels.replay(this, state, context, stream, graph));
        }
    }

    /** Queues one forward on the kernel's stream; every pointer is a device address. */
    private void enqueue(int t, long hidden, boolean hiddenBf16, TensorStaging.DeviceRouting r, long out,
                         boolean outBf16) {
        int h = spec.hiddenSize();
        int hp = FiLayout.pad(h);
        int ip = FiLayout.pad(spec.intermediateSize());
        long rows = (long) t * spec.topK();
        FiPlan plan = launches.plan(rows, t);
        try (Arena arena = Arena.ofConfined()) {
            if (plan.fusedRouting()) {
                launches.routing.routeAlign(arena, r.logits(), r.logitsBf16Flag(), r.ids(), r.weights(), t, plan.m());
            } else {
                launches.routing.route(arena, r.logits(), r.logitsBf16Flag(), r.ids(), r.weights(), t);
                launches.routing.align(arena, scratch.topkIds().address(), (int) rows, 0L, 0, plan.m());
            }
            if (fp8) {
                String quantizer = launches.familyFor(plan.m()).quantizer();
                launches.quantize(arena, quantizer, hidden, hiddenBf16, h, 0L, 1, t, h, hp, scratch.hiddenQ.address(),
                        scratch.hiddenS.address());
                launches.gemm1(arena, plan, weights, scratch.hiddenQ.address(), scratch.hiddenS.address(), hp);
                launches.quantize(arena, quantizer, scratch.inter().address(), !f32Inter, ip, scratch.numTiles().address(),
                        plan.m(), (long) plan.tilesMax() * plan.m(), spec.intermediateSize(), ip,
                        scratch.interQ.address(), scratch.interS.address());
                launches.gemm2(arena, plan, weights, scratch.interQ.address(), scratch.interS.address());
            } else {
                long a = hidden;
                if (!hiddenBf16) {
                    launches.routing.convertHidden(hidden, t * (long) h);
                    a = scratch.hiddenBf16().address();
                }
                launches.gemm1(arena, plan, weights, a, 0L, h);
                launches.gemm2(arena, plan, weights, scratch.inter().address(), 0L);
            }
            launches.routing.finalizeOut(arena, (long) t * h, out, outBf16);
        }
    }

    /**
     * The device address of the activations as given (F32 or BF16): a device tensor as is, a host tensor
     * copied into staging (F32 into the F32 staging buffer, BF16 into the BF16 scratch). Callers hold the lock.
     */
    private long stageHidden(Tensor hidden) {
        if (hidden instanceof HostTensor h && h.dtype() == DType.F32) {
            return TensorStaging.in(h, scratch.stageOut()); // F32 staging, large enough for [T, H] floats
        }
        return TensorStaging.in(hidden, scratch.hiddenBf16());
    }

    @Override
    public synchronized void close() {
        if (state.beginClose()) {
            CudaKernels.release(context, stream, () -> {
                weights.free();
                scratch.free();
            }, launches::close);
        }
    }

    private void checkOpen() {
        state.checkOpen();
    }

    private void requirePrepared() {
        state.requirePrepared();
    }
}
