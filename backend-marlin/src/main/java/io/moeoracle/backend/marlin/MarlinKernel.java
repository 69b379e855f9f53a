package io.moeoracle.backend.marlin;

import io.moeoracle.api.CapturedForward;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.spec.Activation;
import io.moeoracle.api.spec.ActivationFormat;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.tensor.DType;
import io.moeoracle.api.tensor.DeviceTensor;
import io.moeoracle.api.tensor.ForwardArgs;
import io.moeoracle.api.tensor.HostTensor;
import io.moeoracle.api.tensor.MoeWeights;
import io.moeoracle.api.tensor.Routing;
import io.moeoracle.api.tensor.Tensor;
import io.moeoracle.api.quant.Bf16;
import io.moeoracle.driver.cuda.CudaContext;
import io.moeoracle.driver.cuda.CudaDevice;
import io.moeoracle.driver.cuda.CudaFunction;
import io.moeoracle.driver.cuda.CudaGraph;
import io.moeoracle.driver.cuda.CudaModule;
import io.moeoracle.driver.cuda.CudaStream;
import io.moeoracle.driver.cuda.CudaTensor;
import io.moeoracle.driver.cuda.DeviceBuffer;
import io.moeoracle.driver.cuda.KernelArgs;
import io.moeoracle.driver.cuda.LaunchConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * One MoE layer on one CUDA device with the marlin kernels. A forward is five launches on the
 * kernel's own stream, with no host round trip: routing (top-k + softmax, or given top-k),
 * alignment (rows sorted by expert, padded to the M tile), GEMM1 (+ bias + activation), GEMM2
 * (+ bias, times the routing weight, summed over the top-k by FP32 atomics) and the conversion to
 * the output type. Decode-sized calls fuse routing and alignment into one launch.
 *
 * <p>Host tensors are copied in and out and the call returns when the output is written; with
 * device tensors ({@link #allocate}) the call returns once the work is queued ({@link #synchronize}
 * waits). Calls are serialized on the kernel (one stream); scratch memory is allocated in
 * {@link #prepare} for {@code maxTokensPerCall} tokens (batched format: on the first call, for its
 * batch size, grow-only), never inside a forward that is being captured.
 */
public final class MarlinKernel implements BatchedMoeKernel {
    private static final Logger LOG = LoggerFactory.getLogger(MarlinKernel.class);
    private static final int ACT_SWIGLU_OAI = 0;
    private static final int ACT_SILU = 1;
    private static final int ACT_GELU = 2;
    private static final int DEFAULT_SMEM_LIMIT = 48 * 1024;

    private final String providerId;
    private final MoeLayerSpec spec;
    private final DeviceInfo device;
    private final boolean batched;
    private final CudaContext context;
    private final CudaStream stream;
    private final CudaModule module;
    private final Map<String, CudaFunction> functions = new HashMap<>();
    private final int[] gemmSmem = new int[MarlinPlan.M_TILES.length];
    private final int[] gemmThreads = new int[MarlinPlan.M_TILES.length];
    private final int sms;
    private final int hp;
    private final int ip;
    private final int el;
    private final int e0;
    private final int act;
    private final float alpha;
    private final float limit;

    private DeviceBuffer q13;
    private DeviceBuffer sc13;
    private DeviceBuffer q2;
    private DeviceBuffer sc2;
    private DeviceBuffer b13;
    private DeviceBuffer b2;
    private int x13;
    private int x2;
    private volatile boolean prepared;
    private volatile boolean closed;
    private int forcedM;

    private final Scratch scratch = new Scratch();

    private MarlinKernel(String providerId, MoeLayerSpec spec, DeviceInfo device, CudaContext context, byte[] image,
                         int sms) {
        this.providerId = providerId;
        this.spec = spec;
        this.device = device;
        this.batched = spec.activationFormat() == ActivationFormat.BATCHED;
        this.context = context;
        this.sms = sms;
        this.hp = MarlinLayout.pad(spec.hiddenSize());
        this.ip = MarlinLayout.pad(spec.intermediateSize());
        this.el = spec.localExperts();
        this.e0 = spec.expertParallelRank() * el;
        switch (spec.activation()) {
            case Activation.SwigluOai s -> {
                act = ACT_SWIGLU_OAI;
                alpha = (float) s.alpha();
                limit = (float) s.limit();
            }
            case Activation.Silu _ -> {
                act = ACT_SILU;
                alpha = 1f;
                limit = Float.POSITIVE_INFINITY;
            }
            case Activation.Gelu _ -> {
                act = ACT_GELU;
                alpha = 1f;
                limit = Float.POSITIVE_INFINITY;
            }
        }
        context.ensureCurrent();
        this.module = context.loadModule(image);
        this.stream = context.createStream();
    }

    /**
     * Creates a kernel on a real CUDA device: loads the fatbin, looks up every function and reads the
     * tile configurations it was built with.
     *
     * @param providerId the provider that creates it
     * @param format the activation format this provider runs
     * @param spec the layer (MXFP4 weights; the providers' verdicts say what else)
     * @param device a real device {@code cuda:N}
     * @return the kernel, not yet prepared
     */
    static MarlinKernel create(String providerId, ActivationFormat format, MoeLayerSpec spec, DeviceInfo device) {
        if (MarlinRules.verdict(spec, device, format, providerId)
                instanceof io.moeoracle.api.SupportVerdict.Unsupported(String reason, String remedy)) {
            throw new IllegalArgumentException(providerId + " cannot run " + spec.describe() + " on "
                    + device.describe() + ": " + reason + " (" + remedy + ")");
        }
        CudaDevice cuda = MarlinHost.cudaDevice(device);
        byte[] image = MarlinImage.bytes().orElseThrow(() -> new IllegalStateException("kernel image not built: "
                + MarlinImage.RESOURCE + " is missing from the backend-marlin jar; rebuild it where nvcc exists"));
        CudaContext context = cuda.retainPrimaryContext();
        MarlinKernel k = null;
        try {
            k = new MarlinKernel(providerId, spec, device, context, image, cuda.multiprocessorCount());
            k.loadFunctions(cuda.maxSharedMemoryPerBlockOptin());
            LOG.debug("{}: kernels loaded on {} for {}", providerId, device.describe(), spec.describe());
            return k;
        } catch (RuntimeException e) {
            if (k != null) {
                k.close();
            } else {
                context.close();
            }
            throw e;
        }
    }

    private void loadFunctions(int smemOptin) {
        for (String name : new String[] {"moe_route", "moe_align", "moe_route_align", "moe_finalize", "moe_zero",
                "moe_f32_to_bf16", "moe_repack_mxfp4"}) {
            functions.put(name, module.function(name));
        }
        try (DeviceBuffer cfg = context.allocate(3 * 4); Arena arena = Arena.ofConfined()) {
            for (int i = 0; i < MarlinPlan.M_TILES.length; i++) {
                int m = MarlinPlan.M_TILES[i];
                CudaFunction probe = module.function("moe_gemm1_m" + m + "_config");
                probe.launch(LaunchConfig.of(1, 1), stream, KernelArgs.builder().pointer(cfg).build(arena));
                stream.synchronize();
                MemorySegment host = arena.allocate(12, 4);
                cfg.copyToHost(host);
                gemmSmem[i] = host.getAtIndex(ValueLayout.JAVA_INT, 0);
                gemmThreads[i] = host.getAtIndex(ValueLayout.JAVA_INT, 1);
                int mm = host.getAtIndex(ValueLayout.JAVA_INT, 2);
                if (mm != m) {
                    throw new IllegalStateException("the fatbin's moe_gemm1_m" + m + " reports M=" + mm
                            + "; the jar's kernel image does not match this class");
                }
                if (gemmSmem[i] > smemOptin) {
                    throw new IllegalStateException("moe_gemm_m" + m + " needs " + gemmSmem[i]
                            + " bytes of shared memory per block; " + device.describe() + " allows " + smemOptin);
                }
                for (String g : new String[] {"moe_gemm1_m", "moe_gemm2_m"}) {
                    CudaFunction f = module.function(g + m);
                    if (gemmSmem[i] > DEFAULT_SMEM_LIMIT) {
                        f.setMaxDynamicSharedMemory(gemmSmem[i]);
                    }
                    functions.put(g + m, f);
                }
            }
        }
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

    // ------------------------------------------------------------------------------------------
    // prepare
    // ------------------------------------------------------------------------------------------

    @Override
    public synchronized void prepare(MoeWeights weights) {
        checkOpen();
        weights.validate(spec);
        context.ensureCurrent();
        freeWeights();
        prepared = false;
        int h = spec.hiddenSize();
        int i = spec.intermediateSize();
        HostTensor s13 = weights.w13Scales().orElseThrow();
        HostTensor s2 = weights.w2Scales().orElseThrow();
        x13 = MarlinLayout.scaleBias(s13.data());
        x2 = MarlinLayout.scaleBias(s2.data());
        long blocksMax = Math.max(weights.w13().byteSize(), weights.w2().byteSize());
        long scalesMax = Math.max(s13.byteSize(), s2.byteSize());
        try (DeviceBuffer tb = context.allocate(Math.max(1, blocksMax));
             DeviceBuffer ts = context.allocate(Math.max(1, scalesMax))) {
            q13 = context.allocate(MarlinLayout.weightBytes(el, 2 * ip, hp));
            sc13 = context.allocate(MarlinLayout.scaleBytes(el, 2 * ip, hp));
            repack(tb, ts, weights.w13(), s13, 2 * i, h, 2 * ip, hp, x13, q13, sc13);
            q2 = context.allocate(MarlinLayout.weightBytes(el, hp, ip));
            sc2 = context.allocate(MarlinLayout.scaleBytes(el, hp, ip));
            repack(tb, ts, weights.w2(), s2, h, i, hp, ip, x2, q2, sc2);
            stream.synchronize();
        }
        if (spec.hasBias()) {
            b13 = uploadBias(weights.w13Bias().orElseThrow(), 2 * i, 2 * ip);
            b2 = uploadBias(weights.w2Bias().orElseThrow(), h, hp);
        }
        if (!batched) {
            scratch.ensure(spec.maxTokensPerCall(), (long) spec.maxTokensPerCall() * spec.topK(),
                    spec.maxTokensPerCall());
        }
        prepared = true;
        LOG.debug("{}: prepared {} (scale bias X: w13 {}, w2 {})", providerId, spec.describe(), x13, x2);
    }

    private void repack(DeviceBuffer tb, DeviceBuffer ts, HostTensor blocks, HostTensor scales, int nReal, int kReal,
                        int nPad, int kPad, int xBias, DeviceBuffer q, DeviceBuffer sc) {
        stream.synchronize(); // the temporaries may still feed the previous repack
        tb.copyFromHost(blocks.data());
        ts.copyFromHost(scales.data());
        long words = q.byteSize() / 4;
        try (Arena arena = Arena.ofConfined()) {
            KernelArgs args = KernelArgs.builder().pointer(tb).pointer(ts).i32(el).i32(nReal).i32(kReal).i32(nPad)
                    .i32(kPad).i32(xBias).pointer(q).pointer(sc).build(arena);
            fn("moe_repack_mxfp4").launch(LaunchConfig.covering(words, 256), stream, args);
        }
    }

    private DeviceBuffer uploadBias(HostTensor bias, int n, int nPad) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment f = arena.allocate((long) el * nPad * 4, 16);
            for (int e = 0; e < el; e++) {
                for (int c = 0; c < n; c++) {
                    long at = (long) e * n + c;
                    float v = bias.dtype() == DType.F32 ? bias.data().getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, at)
                            : Bf16.toFloat(bias.data().getAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, at));
                    f.setAtIndex(ValueLayout.JAVA_FLOAT, (long) e * nPad + c, v);
                }
            }
            DeviceBuffer b = context.allocate(f.byteSize());
            b.copyFromHost(f);
            return b;
        }
    }

    /** @return the device's copy of the repacked w13 (or w2) weights and scales; for tests */
    byte[][] deviceLayout(boolean w13) {
        synchronized (this) {
            requirePrepared();
            context.ensureCurrent();
            stream.synchronize();
            return w13 ? new byte[][] {q13.toByteArray(), sc13.toByteArray()}
                    : new byte[][] {q2.toByteArray(), sc2.toByteArray()};
        }
    }

    /** @return the stream every launch of this kernel goes to; for the benchmark's events */
    CudaStream stream() {
        return stream;
    }

    /** @return the kernel's context */
    CudaContext context() {
        return context;
    }

    @Override
    public boolean isPrepared() {
        return prepared;
    }

    // ------------------------------------------------------------------------------------------
    // forward, standard format
    // ------------------------------------------------------------------------------------------

    @Override
    public void forward(Tensor hidden, Routing routing, Tensor out) {
        checkOpen();
        if (batched) {
            throw new UnsupportedOperationException(providerId + " runs the batched format; call forwardBatched("
                    + "hidden [E_local, maxTokens, H], counts [E_local], out)");
        }
        requirePrepared();
        int t = ForwardArgs.check(spec, hidden, routing, out);
        ForwardArgs.checkIds(spec, routing);
        checkResidence("hidden", hidden);
        checkResidence("out", out);
        switch (routing) {
            case Routing.Logits l -> checkResidence("router logits", l.logits());
            case Routing.TopK k -> {
                checkResidence("top-k ids", k.ids());
                checkResidence("top-k weights", k.weights());
            }
        }
        synchronized (this) {
            checkOpen();
            context.ensureCurrent();
            if (t == 0) {
                return;
            }
            if (usesStaging(hidden, out, routing instanceof Routing.Logits l ? new Tensor[] {l.logits()}
                    : new Tensor[] {((Routing.TopK) routing).ids(), ((Routing.TopK) routing).weights()})) {
                stream.synchronize(); // staging buffers may still feed the previous call
            }
            long hiddenPtr = stageHidden(hidden, t * (long) spec.hiddenSize(), true);
            long logits = 0;
            int logitsBf16 = 0;
            long ids = 0;
            long weightsPtr = 0;
            switch (routing) {
                case Routing.Logits l -> {
                    logits = stageIn(l.logits(), scratch.stageLogits);
                    logitsBf16 = l.logits().dtype() == DType.BF16 ? 1 : 0;
                }
                case Routing.TopK k -> {
                    ids = stageIn(k.ids(), scratch.stageIds);
                    weightsPtr = stageIn(k.weights(), scratch.stageW);
                }
            }
            long outPtr = out instanceof CudaTensor c ? c.address() : scratch.stageOut.address();
            enqueueStandard(t, hiddenPtr, logits, logitsBf16, ids, weightsPtr, outPtr, out.dtype() == DType.BF16);
            if (out instanceof HostTensor h) {
                stream.synchronize();
                scratch.stageOut.copyToHost(h.data());
            }
        }
    }

    @Override
    public Optional<CapturedForward> capture(Tensor hidden, Routing routing, Tensor out) {
        checkOpen();
        if (batched) {
            throw new UnsupportedOperationException(providerId + " runs the batched format; call captureBatched");
        }
        requirePrepared();
        int t = ForwardArgs.check(spec, hidden, routing, out);
        requireDevice("hidden", hidden);
        requireDevice("out", out);
        long logits = 0;
        int logitsBf16 = 0;
        long ids = 0;
        long weightsPtr = 0;
        switch (routing) {
            case Routing.Logits l -> {
                logits = requireDevice("router logits", l.logits()).address();
                logitsBf16 = l.logits().dtype() == DType.BF16 ? 1 : 0;
            }
            case Routing.TopK k -> {
                ids = requireDevice("top-k ids", k.ids()).address();
                weightsPtr = requireDevice("top-k weights", k.weights()).address();
            }
        }
        if (t == 0) {
            throw new IllegalArgumentException("cannot capture a forward of 0 tokens");
        }
        final long l0 = logits;
        final int lb = logitsBf16;
        final long i0 = ids;
        final long w0 = weightsPtr;
        synchronized (this) {
            context.ensureCurrent();
            stream.synchronize();
            long hiddenPtr = stageHidden(hidden, t * (long) spec.hiddenSize(), false); // F32: converted in the graph
            boolean f32 = hidden.dtype() == DType.F32;
            CudaTensor hid = (CudaTensor) hidden;
            long outPtr = ((CudaTensor) out).address();
            CudaGraph graph = CudaGraph.capture(stream, s -> {
                if (f32) {
                    convertHidden(hid.address(), t * (long) spec.hiddenSize());
                }
                enqueueStandard(t, hiddenPtr, l0, lb, i0, w0, outPtr, out.dtype() == DType.BF16);
            });
            return Optional.of(new Replay(graph));
        }
    }

    /** Queues the standard forward on {@link #stream}; every pointer is a device address. */
    private void enqueueStandard(int t, long hidden, long logits, int logitsBf16, long ids, long weights, long out,
                                 boolean outBf16) {
        long rows = (long) t * spec.topK();
        MarlinPlan plan = plan(rows, t);
        int h = spec.hiddenSize();
        try (Arena arena = Arena.ofConfined()) {
            if (plan.fusedRouting()) {
                launch("moe_route_align", LaunchConfig.of(1, 1024), KernelArgs.builder().pointer(logits)
                        .i32(logitsBf16).pointer(ids).pointer(weights).i32(t).i32(spec.experts()).i32(spec.topK())
                        .pointer(scratch.topkIds).pointer(scratch.topkW).pointer(scratch.acc).i32(h).i32(el).i32(e0)
                        .i32(plan.m()).pointer(scratch.sorted).pointer(scratch.tileExpert).pointer(scratch.numTiles)
                        .build(arena));
            } else {
                launch("moe_route", LaunchConfig.of((t + 3) / 4, 128), KernelArgs.builder().pointer(logits)
                        .i32(logitsBf16).pointer(ids).pointer(weights).i32(t).i32(spec.experts()).i32(spec.topK())
                        .pointer(scratch.topkIds).pointer(scratch.topkW).pointer(scratch.acc).i32(h).build(arena));
                launchAlign(arena, scratch.topkIds.address(), (int) rows, 0, 0, plan.m());
            }
            launchGemms(arena, plan, hidden, spec.topK(), scratch.topkW.address());
            launchFinalize(arena, (long) t * h, out, outBf16);
        }
    }

    // ------------------------------------------------------------------------------------------
    // forward, batched format
    // ------------------------------------------------------------------------------------------

    @Override
    public void forwardBatched(Tensor hidden, Tensor counts, Tensor out) {
        checkOpen();
        requireBatched();
        requirePrepared();
        int tb = checkBatched(hidden, counts, out);
        checkResidence("hidden", hidden);
        checkResidence("counts", counts);
        checkResidence("out", out);
        synchronized (this) {
            checkOpen();
            context.ensureCurrent();
            if (tb == 0) {
                return;
            }
            if (usesStaging(hidden, out, new Tensor[] {counts})) {
                stream.synchronize(); // staging buffers may still feed the previous call
            }
            scratch.ensure((long) el * tb, (long) el * tb, (long) el * tb);
            long hiddenPtr = stageHidden(hidden, (long) el * tb * spec.hiddenSize(), true);
            long countsPtr = stageIn(counts, scratch.stageIds);
            long outPtr = out instanceof CudaTensor c ? c.address() : scratch.stageOut.address();
            enqueueBatched(tb, hiddenPtr, countsPtr, outPtr, out.dtype() == DType.BF16);
            if (out instanceof HostTensor h) {
                stream.synchronize();
                scratch.stageOut.copyToHost(h.data());
            }
        }
    }

    @Override
    public CapturedForward captureBatched(Tensor hidden, Tensor counts, Tensor out) {
        checkOpen();
        requireBatched();
        requirePrepared();
        int tb = checkBatched(hidden, counts, out);
        CudaTensor hid = requireDevice("hidden", hidden);
        long countsPtr = requireDevice("counts", counts).address();
        long outPtr = requireDevice("out", out).address();
        if (tb == 0) {
            throw new IllegalArgumentException("cannot capture a forward of empty batches");
        }
        synchronized (this) {
            context.ensureCurrent();
            stream.synchronize();
            scratch.ensure((long) el * tb, (long) el * tb, (long) el * tb);
            long hiddenPtr = stageHidden(hidden, (long) el * tb * spec.hiddenSize(), false);
            boolean f32 = hidden.dtype() == DType.F32;
            CudaGraph graph = CudaGraph.capture(stream, s -> {
                if (f32) {
                    convertHidden(hid.address(), (long) el * tb * spec.hiddenSize());
                }
                enqueueBatched(tb, hiddenPtr, countsPtr, outPtr, out.dtype() == DType.BF16);
            });
            return new Replay(graph);
        }
    }

    private void enqueueBatched(int tb, long hidden, long counts, long out, boolean outBf16) {
        long rows = (long) el * tb;
        MarlinPlan plan = plan(rows, -1);
        long n = rows * spec.hiddenSize();
        try (Arena arena = Arena.ofConfined()) {
            launch("moe_zero", LaunchConfig.covering(n / 4, 256), KernelArgs.builder().pointer(scratch.acc).i64(n)
                    .build(arena));
            launchAlign(arena, 0, (int) rows, counts, tb, plan.m());
            launchGemms(arena, plan, hidden, 1, 0);
            launchFinalize(arena, n, out, outBf16);
        }
    }

    private int checkBatched(Tensor hidden, Tensor counts, Tensor out) {
        int h = spec.hiddenSize();
        if (hidden.rank() != 3 || hidden.dim(0) != el || hidden.dim(2) != h) {
            throw new IllegalArgumentException("hidden is " + hidden.shapeString() + " but must be [" + el
                    + ", maxTokens, " + h + "] (E_local, tokens per expert, H)");
        }
        long tb = hidden.dim(1);
        if (tb > spec.maxTokensPerCall()) {
            throw new IllegalArgumentException("hidden holds " + tb + " tokens per expert, more than maxTokensPerCall "
                    + spec.maxTokensPerCall());
        }
        if (!Arrays.equals(out.shape(), hidden.shape())) {
            throw new IllegalArgumentException("out is " + out.shapeString() + " but must match hidden "
                    + hidden.shapeString());
        }
        floatType("hidden", hidden);
        floatType("out", out);
        if (counts.dtype() != DType.I32 || counts.rank() != 1 || counts.dim(0) != el) {
            throw new IllegalArgumentException("counts are " + counts.dtype() + " " + counts.shapeString()
                    + " but must be I32 [" + el + "]");
        }
        return (int) tb;
    }

    // ------------------------------------------------------------------------------------------
    // launches shared by both formats
    // ------------------------------------------------------------------------------------------

    private MarlinPlan plan(long rows, int standardTokens) {
        int m = forcedM != 0 ? forcedM : MarlinPlan.chooseM(rows, el);
        return MarlinPlan.of(rows, el, hp, ip, gemmSmem[mIndex(m)], sms, standardTokens, m);
    }

    private void launchAlign(Arena arena, long topkIds, int nIds, long batchCounts, int maxT, int m) {
        launch("moe_align", LaunchConfig.of(1, 1024), KernelArgs.builder().pointer(topkIds).i32(nIds)
                .pointer(batchCounts).i32(maxT).i32(el).i32(e0).i32(m).pointer(scratch.sorted)
                .pointer(scratch.tileExpert).pointer(scratch.numTiles).build(arena));
    }

    private void launchGemms(Arena arena, MarlinPlan plan, long hidden, int aDiv, long topkW) {
        int mi = mIndex(plan.m());
        int smem = gemmSmem[mi];
        int threads = gemmThreads[mi];
        long b13p = b13 == null ? 0 : b13.address();
        long b2p = b2 == null ? 0 : b2.address();
        int h = spec.hiddenSize();
        int i = spec.intermediateSize();
        launch("moe_gemm1_m" + plan.m(), new LaunchConfig(2 * ip / MarlinLayout.TILE, plan.tilesMax(), 1, threads, 1, 1,
                smem), KernelArgs.builder().pointer(hidden).i32(h).i32(aDiv).i32(0).i32(h).pointer(scratch.sorted)
                .pointer(scratch.tileExpert).pointer(scratch.numTiles).pointer(q13).pointer(sc13).pointer(b13p)
                .i32(2 * i).i32(2 * ip).i32(hp).i32(1).pointer(scratch.inter).i32(ip).pointer(0L).i32(act)
                .f32(alpha).f32(limit).f32(Math.scalb(1f, x13)).build(arena));
        launch("moe_gemm2_m" + plan.m(), new LaunchConfig(hp / MarlinLayout.TILE, plan.tilesMax(), plan.splits(),
                threads, 1, 1, smem), KernelArgs.builder().pointer(scratch.inter).i32(ip).i32(aDiv).i32(1).i32(ip)
                .pointer(scratch.sorted).pointer(scratch.tileExpert).pointer(scratch.numTiles).pointer(q2)
                .pointer(sc2).pointer(b2p).i32(h).i32(hp).i32(ip).i32(plan.splits()).pointer(scratch.acc).i32(h)
                .pointer(topkW).i32(act).f32(alpha).f32(limit).f32(Math.scalb(1f, x2)).build(arena));
    }

    private void launchFinalize(Arena arena, long n, long out, boolean outBf16) {
        launch("moe_finalize", LaunchConfig.covering(n / 4, 256), KernelArgs.builder().pointer(scratch.acc)
                .pointer(out).i32(outBf16 ? 1 : 0).i64(n).build(arena));
    }

    private void convertHidden(long src, long n) {
        try (Arena arena = Arena.ofConfined()) {
            launch("moe_f32_to_bf16", LaunchConfig.covering(n, 256), KernelArgs.builder().pointer(src)
                    .pointer(scratch.hiddenBf16).i64(n).build(arena));
        }
    }

    private void launch(String name, LaunchConfig config, KernelArgs args) {
        fn(name).launch(config, stream, args);
    }

    private CudaFunction fn(String name) {
        CudaFunction f = functions.get(name);
        if (f == null) {
            throw new IllegalStateException("kernel " + name + " was not loaded from the fatbin");
        }
        return f;
    }

    private static int mIndex(int m) {
        for (int i = 0; i < MarlinPlan.M_TILES.length; i++) {
            if (MarlinPlan.M_TILES[i] == m) {
                return i;
            }
        }
        throw new IllegalArgumentException("M tile " + m + " is not one of " + Arrays.toString(MarlinPlan.M_TILES));
    }

    /**
     * Device address of the BF16 activations: a BF16 device tensor as is; F32 (device: converted
     * into scratch by a launch queued here, not during capture) or host tensors copied in.
     */
    private long stageHidden(Tensor hidden, long n, boolean convertNow) {
        switch (hidden) {
            case CudaTensor c when c.dtype() == DType.BF16 -> {
                return c.address();
            }
            case CudaTensor c -> {
                if (convertNow) {
                    convertHidden(c.address(), n);
                }
                return scratch.hiddenBf16.address();
            }
            case HostTensor h when h.dtype() == DType.BF16 -> {
                scratch.hiddenBf16.copyFromHost(h.data());
                return scratch.hiddenBf16.address();
            }
            case HostTensor h -> {
                scratch.stageOut.copyFromHost(h.data()); // F32 staging, large enough for [T, H] floats
                convertHidden(scratch.stageOut.address(), n);
                return scratch.hiddenBf16.address();
            }
            default -> throw new IllegalArgumentException("hidden is a " + hidden.getClass().getName()
                    + "; pass a HostTensor or a tensor from allocate()");
        }
    }

    /** Whether a call writes staging buffers from the host (F32 hidden is converted into scratch too). */
    private static boolean usesStaging(Tensor hidden, Tensor out, Tensor[] others) {
        boolean host = hidden instanceof HostTensor || out instanceof HostTensor || hidden.dtype() == DType.F32;
        for (Tensor t : others) {
            host |= t instanceof HostTensor;
        }
        return host;
    }

    private static long stageIn(Tensor t, DeviceBuffer staging) {
        if (t instanceof CudaTensor c) {
            return c.address();
        }
        staging.copyFromHost(((HostTensor) t).data());
        return staging.address();
    }

    private void checkResidence(String name, Tensor t) {
        switch (t) {
            case HostTensor _ -> {
            }
            case CudaTensor c -> {
                if (!c.deviceId().equals(device.id())) {
                    throw new IllegalArgumentException(name + " lives on " + c.deviceId() + " but this kernel runs on "
                            + device.id() + "; copy it there or allocate it with this kernel");
                }
            }
            case DeviceTensor d -> throw new IllegalArgumentException(name + " is a " + d.getClass().getName()
                    + " of device " + d.deviceId() + "; marlin takes HostTensors or tensors from its allocate()");
        }
    }

    private CudaTensor requireDevice(String name, Tensor t) {
        checkResidence(name, t);
        if (t instanceof CudaTensor c) {
            return c;
        }
        throw new IllegalArgumentException("capture needs device tensors; " + name + " is a host tensor (use allocate())");
    }

    private static void floatType(String name, Tensor t) {
        if (t.dtype() != DType.F32 && t.dtype() != DType.BF16) {
            throw new IllegalArgumentException(name + " is " + t.dtype() + " but must be F32 or BF16");
        }
    }

    // ------------------------------------------------------------------------------------------
    // the rest of MoeKernel
    // ------------------------------------------------------------------------------------------

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
        if (m != 0) {
            mIndex(m);
        }
        forcedM = m;
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        prepared = false;
        try {
            context.ensureCurrent();
            stream.synchronize();
            freeWeights();
            scratch.free();
            stream.close();
            module.close();
        } finally {
            context.close();
        }
    }

    private void freeWeights() {
        for (DeviceBuffer b : new DeviceBuffer[] {q13, sc13, q2, sc2, b13, b2}) {
            if (b != null) {
                b.close();
            }
        }
        q13 = sc13 = q2 = sc2 = b13 = b2 = null;
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException(providerId + " kernel for " + spec.describe() + " is closed");
        }
    }

    private void requirePrepared() {
        if (!prepared) {
            throw new IllegalStateException(providerId + ": forward before prepare; call prepare(weights) first");
        }
    }

    private void requireBatched() {
        if (!batched) {
            throw new UnsupportedOperationException(providerId + " runs the standard format; call forward(hidden, "
                    + "routing, out)");
        }
    }

    /** A CUDA graph replayed on the kernel's stream. */
    private final class Replay implements CapturedForward {
        private final CudaGraph graph;
        private boolean released;

        Replay(CudaGraph graph) {
            this.graph = graph;
        }

        @Override
        public void replay() {
            synchronized (MarlinKernel.this) {
                checkOpen();
                if (released) {
                    throw new IllegalStateException("this captured forward was closed");
                }
                context.ensureCurrent();
                graph.launch(stream);
            }
        }

        @Override
        public void close() {
            synchronized (MarlinKernel.this) {
                if (!released) {
                    released = true;
                    graph.close();
                }
            }
        }
    }

    /** Device scratch of one kernel, grow-only. */
    private final class Scratch {
        DeviceBuffer topkIds;
        DeviceBuffer topkW;
        DeviceBuffer sorted;
        DeviceBuffer tileExpert;
        DeviceBuffer numTiles;
        DeviceBuffer acc;
        DeviceBuffer inter;
        DeviceBuffer hiddenBf16;
        DeviceBuffer stageLogits;
        DeviceBuffer stageIds;
        DeviceBuffer stageW;
        DeviceBuffer stageOut;
        private long rowsCap = -1;
        private long accRowsCap = -1;
        private long inputRowsCap = -1;

        /**
         * @param inputRows rows of hidden / out (T, or E_local * Tb)
         * @param rows token-expert rows (T * k, or E_local * Tb)
         * @param accRows rows of the FP32 accumulator
         */
        void ensure(long inputRows, long rows, long accRows) {
            if (rows <= rowsCap && accRows <= accRowsCap && inputRows <= inputRowsCap) {
                return;
            }
            free();
            int h = spec.hiddenSize();
            long sortedLen = MarlinPlan.sortedRowsMax(rows, el);
            topkIds = alloc(rows * 4);
            topkW = alloc(rows * 4);
            sorted = alloc(sortedLen * 4);
            tileExpert = alloc(MarlinPlan.tileListMax(rows, el) * 4);
            numTiles = alloc(4);
            acc = alloc(accRows * h * 4);
            inter = alloc(sortedLen * ip * 2);
            hiddenBf16 = alloc(inputRows * h * 2);
            long tokens = batched ? 0 : inputRows;
            stageLogits = alloc(tokens * spec.experts() * 4);
            stageIds = alloc(Math.max(rows, el) * 4);
            stageW = alloc(rows * 4);
            stageOut = alloc(inputRows * h * 4);
            rowsCap = rows;
            accRowsCap = accRows;
            inputRowsCap = inputRows;
        }

        private DeviceBuffer alloc(long bytes) {
            return context.allocate(Math.max(256, bytes));
        }

        void free() {
            for (DeviceBuffer b : new DeviceBuffer[] {topkIds, topkW, sorted, tileExpert, numTiles, acc, inter,
                    hiddenBf16, stageLogits, stageIds, stageW, stageOut}) {
                if (b != null) {
                    b.close();
                }
            }
            topkIds = topkW = sorted = tileExpert = numTiles = acc = inter = hiddenBf16 = null;
            stageLogits = stageIds = stageW = stageOut = null;
            rowsCap = accRowsCap = inputRowsCap = -1;
        }
    }
}
