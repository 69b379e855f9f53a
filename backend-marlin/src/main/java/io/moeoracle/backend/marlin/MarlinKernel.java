package io.moeoracle.backend.marlin;

import io.moeoracle.api.CapturedForward;
import io.moeoracle.api.MoeKernel;
import io.moeoracle.api.SupportVerdict;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.spec.ActivationFormat;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.tensor.DType;
import io.moeoracle.api.tensor.DeviceTensor;
import io.moeoracle.api.tensor.LoraAdapter;
import io.moeoracle.api.tensor.LoraArgs;
import io.moeoracle.api.tensor.MoeWeights;
import io.moeoracle.api.tensor.Tensor;
import io.moeoracle.cuda.moe.host.CudaHost;
import io.moeoracle.cuda.moe.kernel.CudaKernels;
import io.moeoracle.cuda.moe.kernel.KernelState;
import io.moeoracle.cuda.moe.kernel.TensorStaging;
import io.moeoracle.driver.cuda.CudaContext;
import io.moeoracle.driver.cuda.CudaDevice;
import io.moeoracle.driver.cuda.CudaGraph;
import io.moeoracle.driver.cuda.CudaModule;
import io.moeoracle.driver.cuda.CudaStream;
import io.moeoracle.driver.cuda.CudaStreamBound;
import io.moeoracle.driver.cuda.CudaTensor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One MoE layer on one CUDA device with the marlin kernels: what the standard
 * ({@link StandardMarlinKernel}) and the batched ({@link BatchedMarlinKernel}) kernel share. Each
 * owns a stream, the loaded image and its launches ({@link MarlinLaunches}), the repacked weights
 * ({@link MarlinWeights}) and grow-only scratch ({@link MarlinScratch}); here are creation,
 * {@link #prepare}, allocation, synchronization and release.
 *
 * <p>Host tensors are copied in and out and the call returns when the output is written; with
 * device tensors ({@link #allocate}) the call returns once the work is queued ({@link #synchronize}
 * waits). Calls are serialized on the kernel (one stream); scratch memory is allocated in
 * {@link #prepare} for {@code maxTokensPerCall} tokens (batched format: on the first call, for its
 * batch size, grow-only), never inside a forward that is being captured.
 */
public abstract sealed class MarlinKernel implements MoeKernel, CudaStreamBound permits StandardMarlinKernel, BatchedMarlinKernel {
    private static final Logger LOG = LoggerFactory.getLogger(MarlinKernel.class);

    final String providerId;
    final MoeLayerSpec spec;
    final DeviceInfo device;
    final CudaContext context;
    final CudaStream stream;
    final MarlinScratch scratch;
    final MarlinWeights weights;
    final MarlinLaunches launches;
    final TensorStaging staging;
    final KernelState state;
    /** The adapters and their launches; null when the spec has no LoRA. */
    final MarlinLora lora;
    final int el;

    MarlinKernel(String providerId, MoeLayerSpec spec, DeviceInfo device, CudaContext context, byte[] image, int sms) {
        this.providerId = providerId;
        this.spec = spec;
        this.device = device;
        this.context = context;
        this.el = spec.localExperts();
        context.ensureCurrent();
        CudaModule module = context.loadModule(image);
        this.stream = context.createStream();
        this.scratch = new MarlinScratch(context, spec, spec.activationFormat() == ActivationFormat.BATCHED);
        this.weights = new MarlinWeights(context, stream, spec);
        this.launches = new MarlinLaunches(spec, device, context, stream, module, sms, scratch, weights);
        this.staging = new TensorStaging(device, providerId);
        this.state = new KernelState(providerId);
        this.lora = spec.lora() ? new MarlinLora(context, stream, spec) : null;
    }

    /**
     * Creates a kernel on a real CUDA device: loads the fatbin, looks up every function and reads the
     * tile configurations it was built with.
     *
     * @param providerId the provider that creates it
     * @param format the activation format this provider runs: a {@link BatchedMarlinKernel} for
     *               {@code BATCHED}, else a {@link StandardMarlinKernel}
     * @param spec the layer (MXFP4 weights; the providers' verdicts say what else)
     * @param device a real device {@code cuda:N}
     * @return the kernel, not yet prepared
     */
    static MarlinKernel create(String providerId, ActivationFormat format, MoeLayerSpec spec, DeviceInfo device) {
        if (MarlinRules.verdict(spec, device, format, providerId) instanceof SupportVerdict.Unsupported u) {
            throw u.toException(providerId, spec, device);
        }
        CudaDevice cuda = CudaHost.cudaDevice(device, providerId);
        byte[] image = MarlinImage.IMAGE.require(providerId, spec, device);
        int sms = cuda.multiprocessorCount();
        MarlinKernel k = CudaKernels.create(cuda.retainPrimaryContext(), context ->
                spec.activationFormat() == ActivationFormat.BATCHED
                        ? new BatchedMarlinKernel(providerId, spec, device, context, image, sms)
                        : new StandardMarlinKernel(providerId, spec, device, context, image, sms),
                kernel -> kernel.launches.loadFunctions(cuda.maxSharedMemoryPerBlockOptin()));
        LOG.debug("{}: kernels loaded on {} for {}", providerId, device.describe(), spec.describe());
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
        state.prepared(false);
        weights.upload(w, launches);
        reserveScratch();
        state.prepared(true);
        LOG.debug("{}: prepared {} (scale bias X: w13 {}, w2 {})", providerId, spec.describe(), weights.x13, weights.x2);
    }

    /** Allocates the scratch that {@link #prepare} can size already (the standard format: maxTokensPerCall). */
    abstract void reserveScratch();

    /** @return the device's copy of the repacked w13 (or w2) weights and scales; for tests */
    byte[][] deviceLayout(boolean w13) {
        synchronized (this) {
            requirePrepared();
            context.ensureCurrent();
            stream.synchronize();
            return weights.layout(w13);
        }
    }

    /**
     * @return the stream every launch of this kernel goes to: work queued after an event recorded on it
     *     (expert parallelism's collectives, the benchmark's events) is ordered without a host wait
     */
    @Override
    public CudaStream stream() {
        return stream;
    }

    /** @return the kernel's context */
    CudaContext context() {
        return context;
    }

    @Override
    public synchronized void loadAdapter(int slot, LoraAdapter adapter) {
        checkOpen();
        LoraArgs.checkSlot(providerId, spec, slot);
        adapter.validate(spec);
        context.ensureCurrent();
        lora.load(slot, adapter);
    }

    @Override
    public synchronized void unloadAdapter(int slot) {
        checkOpen();
        LoraArgs.checkSlot(providerId, spec, slot);
        context.ensureCurrent();
        lora.unload(slot);
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

    /**
     * Forces the M tile (8 = the GEMV decode kernels, 16, 32, 64 or 128) for later calls, or 0 to choose by size; for tests and
     * the benchmark.
     *
     * @param m the M tile or 0
     */
    void forceM(int m) {
        launches.forceM(m);
    }

    @Override
    public synchronized void close() {
        if (state.beginClose()) {
            CudaKernels.release(context, stream, () -> {
                weights.free();
                scratch.free();
                if (lora != null) {
                    lora.free(true);
                }
            }, launches::close);
        }
    }

    final void checkOpen() {
        state.checkOpen();
    }

    final void requirePrepared() {
        state.requirePrepared();
    }

    /** Wraps a recorded graph: replayed on this kernel's stream, under its lock. */
    final CapturedForward replay(CudaGraph graph) {
        return CudaKernels.replay(this, state, context, stream, graph);
    }

    /**
     * Device address of the BF16 activations: a BF16 device tensor as is; F32 (device: converted into
     * scratch by a launch queued here, or, with {@code convertNow} false, by the caller inside a recording)
     * or host tensors copied in. Callers hold the lock.
     */
    final long stageHidden(Tensor hidden, long n, boolean convertNow) {
        return TensorStaging.bf16Hidden(hidden, scratch.hiddenBf16(), scratch.stageOut(), (src, dst) -> {
            if (convertNow || !(hidden instanceof CudaTensor)) {
                launches.routing.convertHidden(src, n);
            }
        });
    }
}
