package io.moeoracle.backend.xpu;

import io.moeoracle.api.MoeKernel;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.quant.Bf16;
import io.moeoracle.api.spec.Activation;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.spec.WeightFormat;
import io.moeoracle.api.tensor.DType;
import io.moeoracle.api.tensor.DeviceTensor;
import io.moeoracle.api.tensor.ForwardArgs;
import io.moeoracle.api.tensor.HostTensor;
import io.moeoracle.api.tensor.MoeWeights;
import io.moeoracle.api.tensor.Routing;
import io.moeoracle.api.tensor.Tensor;
import io.moeoracle.driver.opencl.ClBuffer;
import io.moeoracle.driver.opencl.ClContext;
import io.moeoracle.driver.opencl.ClDevice;
import io.moeoracle.driver.opencl.ClEvent;
import io.moeoracle.driver.opencl.ClKernel;
import io.moeoracle.driver.opencl.ClQueue;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The MoE layer on one OpenCL device. Weights stay in the canonical layout on the device (the
 * kernels decode MXFP4 / BF16 rows directly), biases become F32. Thread-safe: calls are serialized
 * on the kernel (one in-order queue).
 */
final class XpuMoeKernel implements MoeKernel {
    private static final Logger LOG = LoggerFactory.getLogger(XpuMoeKernel.class);
    private static final int ACT_SWIGLU_OAI = 0;
    private static final int ACT_SILU = 1;
    private static final int ACT_GELU = 2;

    private final MoeLayerSpec spec;
    private final DeviceInfo device;
    private final ClContext context;
    private final ClQueue queue;
    private final XpuPrograms programs;
    private final int localExperts;
    private final int firstExpert;
    private final boolean mxfp4;
    private final List<ClBuffer> weightBuffers = new ArrayList<>();
    private final Map<String, Long> lastStageNanos = new LinkedHashMap<>();
    private ClBuffer w13;
    private ClBuffer s13;
    private ClBuffer b13;
    private ClBuffer w2;
    private ClBuffer s2;
    private ClBuffer b2;
    private Workspace ws;
    private boolean prepared;
    private boolean closed;
    private boolean profile;

    XpuMoeKernel(MoeLayerSpec spec, DeviceInfo device, ClDevice clDevice, KernelPath path, boolean forced,
                 boolean blockReads, String source) {
        this.spec = spec;
        this.device = device;
        this.localExperts = spec.localExperts();
        this.firstExpert = spec.expertParallelRank() * spec.localExperts();
        this.mxfp4 = spec.quant().weights().kind() == WeightFormat.Kind.MXFP4;
        ClContext ctx = ClContext.create(clDevice);
        try {
            this.queue = ctx.createQueue();
            long t0 = System.nanoTime();
            this.programs = XpuPrograms.build(ctx, source, path, forced, blockReads);
            LOG.debug("xpu kernels ready on {} ({}, {}) in {} ms", clDevice.name(), programs.path, programs.options,
                    (System.nanoTime() - t0) / 1_000_000);
        } catch (RuntimeException e) {
            ctx.close();
            throw e;
        }
        this.context = ctx;
    }

    /** @return the kernel variant that was built */
    KernelPath path() {
        return programs.path;
    }

    /** @param on record per-stage device times of later forward calls (see {@link #lastStageNanos()}) */
    synchronized void profile(boolean on) {
        this.profile = on;
    }

    /** @return device time per stage of the last profiled forward, ns */
    synchronized Map<String, Long> lastStageNanos() {
        return Map.copyOf(lastStageNanos);
    }

    @Override
    public String providerId() {
        return XpuKernelProvider.ID;
    }

    @Override
    public MoeLayerSpec spec() {
        return spec;
    }

    @Override
    public DeviceInfo device() {
        return device;
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("this xpu kernel on " + device.id() + " is closed");
        }
    }

    @Override
    public synchronized void prepare(MoeWeights weights) {
        ensureOpen();
        weights.validate(spec);
        releaseWeights();
        w13 = upload(weights.w13());
        w2 = upload(weights.w2());
        s13 = weights.w13Scales().map(this::upload).orElseGet(this::dummy);
        s2 = weights.w2Scales().map(this::upload).orElseGet(this::dummy);
        b13 = weights.w13Bias().map(this::uploadF32).orElseGet(this::dummy);
        b2 = weights.w2Bias().map(this::uploadF32).orElseGet(this::dummy);
        prepared = true;
    }

    private ClBuffer track(ClBuffer b) {
        weightBuffers.add(b);
        return b;
    }

    private ClBuffer dummy() {
        return track(context.createBuffer(16));
    }

    private ClBuffer upload(HostTensor t) {
        ClBuffer b = track(context.createBuffer(Math.max(16, t.byteSize())));
        queue.write(b, 0, t.data());
        return b;
    }

    private ClBuffer uploadF32(HostTensor t) {
        if (t.dtype() == DType.F32) {
            return upload(t);
        }
        long n = t.numel();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment f = arena.allocate(4 * n, 64);
            for (long i = 0; i < n; i++) {
                f.setAtIndex(ValueLayout.JAVA_FLOAT, i,
                        Bf16.toFloat(t.data().getAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i)));
            }
            ClBuffer b = track(context.createBuffer(Math.max(16, 4 * n)));
            queue.write(b, 0, f);
            return b;
        }
    }

    private void releaseWeights() {
        for (ClBuffer b : weightBuffers) {
            b.close();
        }
        weightBuffers.clear();
        prepared = false;
    }

    @Override
    public synchronized boolean isPrepared() {
        return prepared;
    }

    @Override
    public synchronized DeviceTensor allocate(DType dtype, long... shape) {
        ensureOpen();
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("shape " + java.util.Arrays.toString(shape) + " has a negative extent");
            }
            n = Math.multiplyExact(n, d);
        }
        return new XpuDeviceTensor(this, context.createBuffer(Math.max(16, n * dtype.byteSize())), dtype, shape);
    }

    synchronized void write(ClBuffer dst, HostTensor src) {
        ensureOpen();
        queue.write(dst, 0, src.data());
    }

    synchronized void read(ClBuffer src, HostTensor dst) {
        ensureOpen();
        queue.finish();
        queue.read(src, 0, dst.data());
    }

    @Override
    public synchronized void synchronize() {
        ensureOpen();
        queue.finish();
    }

    private XpuDeviceTensor own(Tensor t, String name) {
        if (t instanceof XpuDeviceTensor d) {
            if (d.owner() != this) {
                throw new IllegalArgumentException(name + " is a device tensor of another kernel (" + d.deviceId()
                        + "); pass host tensors or tensors from this kernel's allocate()");
            }
            return d;
        }
        if (t instanceof DeviceTensor) {
            throw new IllegalArgumentException(name + " is a device tensor of another backend (" + t
                    + "); pass host tensors or tensors from this kernel's allocate()");
        }
        return null;
    }

    @Override
    public synchronized void forward(Tensor hidden, Routing routing, Tensor out) {
        ensureOpen();
        if (!prepared) {
            throw new IllegalStateException("call prepare(weights) before forward on this xpu kernel");
        }
        int tokens = ForwardArgs.check(spec, hidden, routing, out);
        ForwardArgs.checkIds(spec, routing);
        XpuDeviceTensor dHidden = own(hidden, "hidden");
        XpuDeviceTensor dOut = own(out, "out");
        List<Tensor> routingTensors = switch (routing) {
            case Routing.Logits l -> List.of(l.logits());
            case Routing.TopK k -> List.of(k.ids(), k.weights());
        };
        for (Tensor t : routingTensors) {
            own(t, "routing");
        }
        if (tokens == 0) {
            return;
        }
        lastStageNanos.clear();
        int k = spec.topK();
        int h = spec.hiddenSize();
        int inter = spec.intermediateSize();
        int tk = tokens * k;
        ensureWorkspace(tokens);

        // hidden -> f32 [T, H]
        ClBuffer x;
        if (hidden.dtype() == DType.F32) {
            if (dHidden != null) {
                x = dHidden.buffer();
            } else {
                queue.write(ws.x, 0, ((HostTensor) hidden).data());
                x = ws.x;
            }
        } else {
            ClBuffer raw = dHidden != null ? dHidden.buffer() : ws.raw;
            if (dHidden == null) {
                queue.write(ws.raw, 0, ((HostTensor) hidden).data());
            }
            int n = tokens * h;
            programs.bf16ToF32.arg(0, raw).arg(1, ws.x).arg(2, n);
            launch("convert", programs.bf16ToF32, new long[] {roundUp(n, 64)}, new long[] {64});
            x = ws.x;
        }

        // routing -> ids [T, k] i32, weights [T, k] f32
        ClBuffer ids;
        ClBuffer wts;
        switch (routing) {
            case Routing.Logits l -> {
                ClBuffer logits;
                if (l.logits() instanceof XpuDeviceTensor d) {
                    logits = d.buffer();
                } else {
                    queue.write(ws.logits, 0, ((HostTensor) l.logits()).data());
                    logits = ws.logits;
                }
                programs.route.arg(0, logits).arg(1, l.logits().dtype() == DType.BF16 ? 1 : 0).arg(2, tokens)
                        .arg(3, spec.experts()).arg(4, k).arg(5, ws.ids).arg(6, ws.wts);
                launch("route", programs.route, new long[] {roundUp(tokens, 64)}, new long[] {64});
                ids = ws.ids;
                wts = ws.wts;
            }
            case Routing.TopK t -> {
                if (t.ids() instanceof XpuDeviceTensor d) {
                    ids = d.buffer();
                } else {
                    queue.write(ws.ids, 0, ((HostTensor) t.ids()).data());
                    ids = ws.ids;
                }
                if (t.weights() instanceof XpuDeviceTensor d) {
                    wts = d.buffer();
                } else {
                    queue.write(ws.wts, 0, ((HostTensor) t.weights()).data());
                    wts = ws.wts;
                }
            }
        }

        // align: pairs grouped by local expert into tiles of BM
        int maxTiles = maxTiles(tk, localExperts);
        programs.align.arg(0, ids).arg(1, tk).arg(2, localExperts).arg(3, firstExpert).arg(4, maxTiles)
                .arg(5, ws.sorted).arg(6, ws.tileExpert);
        launch("align", programs.align, new long[] {XpuPrograms.ALIGN_WG}, new long[] {XpuPrograms.ALIGN_WG});

        // gemm1 + bias + activation -> act [T*k, I]
        Activation act = spec.activation();
        int actKind = switch (act) {
            case Activation.SwigluOai s -> ACT_SWIGLU_OAI;
            case Activation.Silu s -> ACT_SILU;
            case Activation.Gelu g -> ACT_GELU;
        };
        float alpha = act instanceof Activation.SwigluOai s ? (float) s.alpha() : 0f;
        float limit = act instanceof Activation.SwigluOai s ? (float) s.limit() : 0f;
        int hasBias = spec.hasBias() ? 1 : 0;
        ClKernel g1 = mxfp4 ? programs.gemm1Mxfp4 : programs.gemm1Bf16;
        g1.arg(0, x).arg(1, w13).arg(2, s13).arg(3, b13).arg(4, hasBias).arg(5, ws.sorted).arg(6, ws.tileExpert)
                .arg(7, h).arg(8, inter).arg(9, k).arg(10, actKind).arg(11, alpha).arg(12, limit).arg(13, ws.act);
        launch("gemm1", g1, new long[] {(long) XpuPrograms.WG * ceilDiv(inter, XpuPrograms.NPW), maxTiles},
                new long[] {XpuPrograms.WG, 1});

        // gemm2 + bias -> y [T*k, H]
        ClKernel g2 = mxfp4 ? programs.gemm2Mxfp4 : programs.gemm2Bf16;
        g2.arg(0, ws.act).arg(1, w2).arg(2, s2).arg(3, b2).arg(4, hasBias).arg(5, ws.sorted).arg(6, ws.tileExpert)
                .arg(7, h).arg(8, inter).arg(9, ws.y);
        launch("gemm2", g2, new long[] {(long) XpuPrograms.WG * ceilDiv(h, XpuPrograms.NPW), maxTiles},
                new long[] {XpuPrograms.WG, 1});

        // combine over k, in slot order -> out
        ClBuffer o = dOut != null ? dOut.buffer() : ws.out;
        programs.combine.arg(0, ws.y).arg(1, ids).arg(2, wts).arg(3, tokens).arg(4, h).arg(5, k)
                .arg(6, localExperts).arg(7, firstExpert).arg(8, out.dtype() == DType.BF16 ? 1 : 0).arg(9, o);
        launch("combine", programs.combine, new long[] {roundUp(h, 64), tokens}, new long[] {64, 1});

        if (dOut == null) {
            HostTensor hostOut = (HostTensor) out;
            queue.read(ws.out, 0, hostOut.data().asSlice(0, hostOut.byteSize()));
        } else {
            queue.flush();
        }
    }

    private void launch(String stage, ClKernel kernel, long[] global, long[] local) {
        if (LOG.isTraceEnabled()) {
            LOG.trace("xpu launch {} ({}) global {} local {}", stage, kernel.name(), java.util.Arrays.toString(global),
                    java.util.Arrays.toString(local));
        }
        if (!profile) {
            queue.launch(kernel, global, local);
            return;
        }
        try (ClEvent ev = queue.launchTimed(kernel, global, local)) {
            lastStageNanos.merge(stage, ev.durationNanos(), Long::sum);
        }
    }

    static int maxTiles(int pairs, int localExperts) {
        long bound = (long) pairs + (long) Math.min(localExperts, pairs) * (XpuPrograms.BM - 1);
        return (int) Math.max(1, ceilDiv(bound, XpuPrograms.BM));
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }

    private static long roundUp(long a, long b) {
        return Math.max(b, ceilDiv(a, b) * b);
    }

    private void ensureWorkspace(int tokens) {
        if (ws != null && ws.tokens >= tokens) {
            return;
        }
        int cap = Math.min(spec.maxTokensPerCall(), Math.max(tokens, Math.max(8, ws == null ? 0 : ws.tokens * 2)));
        if (ws != null) {
            ws.close();
            ws = null;
        }
        ws = new Workspace(cap);
    }

    /** Per-call scratch buffers for up to {@code tokens} tokens. */
    private final class Workspace implements AutoCloseable {
        final int tokens;
        final ClBuffer x;
        final ClBuffer raw;
        final ClBuffer logits;
        final ClBuffer ids;
        final ClBuffer wts;
        final ClBuffer sorted;
        final ClBuffer tileExpert;
        final ClBuffer act;
        final ClBuffer y;
        final ClBuffer out;
        private final List<ClBuffer> all = new ArrayList<>();

        Workspace(int tokens) {
            this.tokens = tokens;
            long t = tokens;
            long h = spec.hiddenSize();
            long tk = t * spec.topK();
            int tiles = maxTiles((int) tk, localExperts);
            try {
                x = alloc(4 * t * h);
                raw = alloc(2 * t * h);
                logits = alloc(4 * t * spec.experts());
                ids = alloc(4 * tk);
                wts = alloc(4 * tk);
                sorted = alloc(4L * tiles * XpuPrograms.BM);
                tileExpert = alloc(4L * tiles);
                act = alloc(4 * tk * spec.intermediateSize());
                y = alloc(4 * tk * h);
                out = alloc(4 * t * h);
            } catch (RuntimeException e) {
                close();
                throw e;
            }
        }

        private ClBuffer alloc(long bytes) {
            ClBuffer b = context.createBuffer(Math.max(16, bytes));
            all.add(b);
            return b;
        }

        @Override
        public void close() {
            for (ClBuffer b : all) {
                b.close();
            }
            all.clear();
        }
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            queue.finish();
        } finally {
            if (ws != null) {
                ws.close();
            }
            releaseWeights();
            programs.close();
            queue.close();
            context.close();
        }
    }

    @Override
    public String toString() {
        return "xpu[" + spec.describe() + " on " + device.describe() + ", " + programs.path + "]";
    }
}
