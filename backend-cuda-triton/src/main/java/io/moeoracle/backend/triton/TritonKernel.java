package io.moeoracle.backend.triton;

import io.moeoracle.api.CapturedForward;
import io.moeoracle.api.MoeKernel;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.error.BadInputException;
import io.moeoracle.api.error.UnsupportedSpecException;
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
import io.moeoracle.cuda.moe.launch.PaddedBias;
import io.moeoracle.driver.cuda.CudaContext;
import io.moeoracle.driver.cuda.CudaDevice;
import io.moeoracle.driver.cuda.CudaGraph;
import io.moeoracle.driver.cuda.CudaStream;
import io.moeoracle.driver.cuda.CudaStreamBound;
import io.moeoracle.driver.cuda.CudaTensor;
import io.moeoracle.driver.cuda.DeviceBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Optional;

/**
 * One MoE layer on one CUDA device with the AOT-compiled Triton kernels. A forward is five launches
 * (six unfused) on the kernel's own stream with no host round trip: routing (skipped for given top-k),
 * alignment, GEMM1 (+ bias, + SwiGLU-OAI when fused), [activation], GEMM2 (+ bias, x routing weight)
 * and the top-k gather-reduce into the output type. Host tensors are staged through device scratch
 * and the call returns when the output is written; with device tensors ({@link #allocate}) the call
 * returns once queued. Calls are serialized on the kernel (one stream).
 */
public final class TritonKernel implements MoeKernel, CudaStreamBound {
    private static final Logger LOG = LoggerFactory.getLogger(TritonKernel.class);

    private final String providerId;
    private final MoeLayerSpec spec;
    private final DeviceInfo device;
    private final CudaContext context;
    private final CudaStream stream;
    private final TritonModules modules;
    private final TritonLaunches launches;
    private DeviceBuffer[] weightBuffers = new DeviceBuffer[0];
    private TritonLaunches.Weights weights;
    private TritonScratch scratch;
    private final TensorStaging staging;
    private final KernelState state;

    private TritonKernel(String providerId, boolean fused, MoeLayerSpec spec, DeviceInfo device, CudaContext context,
                         String arch) {
        this.providerId = providerId;
        this.spec = spec;
        this.device = device;
        this.context = context;
        context.ensureCurrent();
        this.modules = new TritonModules(context, arch);
        this.stream = context.createStream();
        this.launches = new TritonLaunches(modules, spec, fused);
        this.staging = new TensorStaging(device, providerId);
        this.state = new KernelState(providerId);
    }

    /**
     * Creates a kernel on a real CUDA device and loads every variant it can launch. The provider's
     * {@code create} has checked its verdict first ({@link io.moeoracle.api.SupportVerdict#requireSupported}).
     *
     * @param providerId the provider that creates it
     * @param fused SwiGLU-OAI fused into GEMM1 ({@code triton}) or the activation in its own kernel
     * @param spec the layer
     * @param device a real device with a CUDA address ({@code cuda:N}, or an alias of the same GPU)
     * @return the kernel, not yet prepared
     * @throws BadInputException for a simulated device or one the CUDA driver does not have
     * @throws UnsupportedSpecException when the real GPU has no packed image (its DeviceInfo claimed another arch)
     * @throws io.moeoracle.api.error.NativeFailureException when the driver or a module load fails
     */
    static TritonKernel create(String providerId, boolean fused, MoeLayerSpec spec, DeviceInfo device) {
        CudaDevice cuda = CudaHost.cudaDevice(device, providerId);
        String arch = TritonImage.archFor(cuda.computeCapability()).orElseThrow(() -> new UnsupportedSpecException(
                providerId, spec.describe() + " on " + device.describe(), "the driver reports " + cuda.arch()
                + ", for which no Triton image is packed (packed: sm_90a, sm_80)", "use marlin on this GPU"));
        TritonKernel k = CudaKernels.create(cuda.retainPrimaryContext(),
                context -> new TritonKernel(providerId, fused, spec, device, context, arch), kernel -> {
                    // the constructor has loaded every variant
                });
        LOG.debug("{}: {} kernels loaded on {} for {}", providerId, arch, device.describe(), spec.describe());
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
    public String toString() {
        return providerId + " kernel for " + spec.describe() + " on " + device.describe();
    }

    @Override
    public DeviceInfo device() {
        return device;
    }

    @Override
    public synchronized void prepare(MoeWeights w) {
        checkOpen();
        w.validate(spec);
        context.ensureCurrent();
        stream.synchronize();
        freeWeights();
        state.prepared(false);
        int h = spec.hiddenSize();
        int i = spec.intermediateSize();
        int el = spec.localExperts();
        int hp = launches.hiddenPad();
        int ip = launches.interPad();
        HostTensor s13 = w.w13Scales().orElseThrow();
        HostTensor s2 = w.w2Scales().orElseThrow();
        int shift13 = TritonLaunches.scaleShift(s13.data(), "w13");
        int shift2 = TritonLaunches.scaleShift(s2.data(), "w2");
        DeviceBuffer q13 = context.allocate((long) el * 2 * ip * hp / 2);
        DeviceBuffer sc13 = context.allocate((long) el * 2 * ip * hp / 32);
        DeviceBuffer q2 = context.allocate((long) el * hp * ip / 2);
        DeviceBuffer sc2 = context.allocate((long) el * hp * ip / 32);
        DeviceBuffer b13 = spec.hasBias() ? PaddedBias.upload(context, w.w13Bias().orElseThrow(), el, 2 * i, 2 * ip) : null;
        DeviceBuffer b2 = spec.hasBias() ? PaddedBias.upload(context, w.w2Bias().orElseThrow(), el, h, hp) : null;
        weightBuffers = b13 == null ? new DeviceBuffer[] {q13, sc13, q2, sc2}
                : new DeviceBuffer[] {q13, sc13, q2, sc2, b13, b2};
        try (DeviceBuffer tq = context.allocate(Math.max(w.w13().byteSize(), w.w2().byteSize()));
             DeviceBuffer ts = context.allocate(Math.max(s13.byteSize(), s2.byteSize()))) {
            tq.copyFromHost(w.w13().data());
            ts.copyFromHost(s13.data());
            launches.repack(stream, tq, ts, 2 * i, h, 2 * ip, hp, shift13, q13, sc13);
            stream.synchronize(); // the temporaries feed the next repack
            tq.copyFromHost(w.w2().data());
            ts.copyFromHost(s2.data());
            launches.repack(stream, tq, ts, h, i, hp, ip, shift2, q2, sc2);
            stream.synchronize();
        }
        weights = new TritonLaunches.Weights(q13.address(), sc13.address(), b13 == null ? 0 : b13.address(),
                q2.address(), sc2.address(), b2 == null ? 0 : b2.address(), Math.scalb(1f, -shift13),
                Math.scalb(1f, -shift2));
        if (scratch == null) {
            long tokens = spec.maxTokensPerCall();
            scratch = new TritonScratch(context, tokens, spec.topK(), spec.experts(), h, ip,
                    launches.tilesMaxAnyBucket(tokens * spec.topK()), launches.infoLength(),
                    providerId.equals(TritonUnfusedProvider.ID), launches.splitScratch(tokens * spec.topK()));
        }
        state.prepared(true);
        LOG.debug("{}: prepared {} (H {} -> {}, I {} -> {})", providerId, spec.describe(), h, hp, i, ip);
    }

    @Override
    public boolean isPrepared() {
        return state.isPrepared();
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
            if (hidden.dtype() == DType.F32 || TensorStaging.anyOnHost(hidden, out)
                    || TensorStaging.anyOnHost(TensorStaging.routingTensors(routing))) {
                stream.synchronize(); // staging buffers may still feed the previous call
            }
            long n = (long) t * spec.hiddenSize();
            if (hidden instanceof CudaTensor c && c.dtype() == DType.BF16) {
                requireAligned("hidden", c.address());
            }
            long hid = TensorStaging.bf16Hidden(hidden, scratch.hiddenBf16, scratch.stageOut,
                    (src, dst) -> launches.convert(stream, src, dst, n));
            TensorStaging.DeviceRouting r = TensorStaging.stage(routing, scratch.stageLogits, scratch.stageIds,
                    scratch.stageWeights);
            long outPtr = TensorStaging.out(out, scratch.stageOut);
            requireAligned("out", outPtr);
            enqueue(t, hid, r, outPtr, out.dtype() == DType.F32);
            if (out instanceof HostTensor ht) {
                stream.synchronize();
                scratch.stageOut.copyToHost(ht.data());
            }
        }
    }

    @Override
    public Optional<CapturedForward> capture(Tensor hidden, Routing routing, Tensor out) {
        checkOpen();
        requirePrepared();
        int t = ForwardArgs.check(spec, hidden, routing, out);
        CudaTensor hid = staging.requireDevice("hidden", hidden);
        CudaTensor o = staging.requireDevice("out", out);
        requireAligned("out", o.address());
        if (hidden.dtype() == DType.BF16) {
            requireAligned("hidden", hid.address());
        }
        TensorStaging.DeviceRouting r = staging.requireDevice(routing);
        if (t == 0) {
            throw new BadInputException("cannot capture a forward of 0 tokens");
        }
        synchronized (this) {
            context.ensureCurrent();
            stream.synchronize();
            long n = (long) t * spec.hiddenSize();
            boolean f32 = hidden.dtype() == DType.F32;
            long hidPtr = f32 ? scratch.hiddenBf16.address() : hid.address();
            CudaGraph graph = CudaGraph.capture(stream, s -> {
                if (f32) {
                    launches.convert(stream, hid.address(), hidPtr, n);
                }
                enqueue(t, hidPtr, r, o.address(), out.dtype() == DType.F32);
            });
            return Optional.of(CudaKernels.replay(this, state, context, stream, graph));
        }
    }

    /**
     * Queues one forward; with router logits the routing kernel writes the top-k ids and weights into
     * scratch, given top-k are read where they lie.
     */
    private void enqueue(int t, long hidden, TensorStaging.DeviceRouting r, long out, boolean outF32) {
        boolean routed = r.ids() == 0;
        launches.forward(stream, scratch, weights, t, hidden, r.logits(), r.logitsBf16(),
                routed ? scratch.ids.address() : r.ids(), routed ? scratch.weights.address() : r.weights(), out, outF32);
    }

    /** The GEMM variants were compiled assuming 16-byte aligned activations (tt.divisibility 16). */
    private static void requireAligned(String name, long address) {
        if (address % 16 != 0) {
            throw new BadInputException(name + " at device address 0x" + Long.toHexString(address)
                    + " is not 16-byte aligned, which the Triton kernels assume; pass a tensor from allocate()");
        }
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

    /**
     * @return the stream every launch goes to: work queued after an event recorded on it (expert
     *     parallelism's collectives, the benchmark's events) is ordered without a host wait
     */
    @Override
    public CudaStream stream() {
        return stream;
    }

    @Override
    public synchronized void close() {
        if (state.beginClose()) {
            CudaKernels.release(context, stream, () -> {
                freeWeights();
                if (scratch != null) {
                    scratch.close();
                }
            }, modules::close);
        }
    }

    private void freeWeights() {
        for (DeviceBuffer b : weightBuffers) {
            b.close();
        }
        weightBuffers = new DeviceBuffer[0];
        weights = null;
    }

    private void checkOpen() {
        state.checkOpen();
    }

    private void requirePrepared() {
        state.requirePrepared();
    }
}
