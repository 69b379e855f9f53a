package io.moeoracle.backend.xpu;

import io.moeoracle.api.MoeKernel;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.error.BadInputException;
import io.moeoracle.api.error.KernelStateException;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The MoE layer on one OpenCL device: routing, alignment by expert, two GEMMs and the weighted
 * combine, queued on one in-order queue. Weights ({@link XpuWeights}) stay in the canonical layout
 * on the device; per-call buffers are an {@link XpuWorkspace}. Thread-safe: calls are serialized
 * on the kernel.
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
    private final Map<String, Long> lastStageNanos = new LinkedHashMap<>();
    private final XpuWeights weights;
    private XpuWorkspace ws;
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
        this.weights = new XpuWeights(ctx, queue);
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
            throw KernelStateException.closed(XpuKernelProvider.ID, "this call");
        }
    }

    @Override
    public synchronized void prepare(MoeWeights weights) {
        ensureOpen();
        weights.validate(spec);
        prepared = false;
        this.weights.upload(weights);
        prepared = true;
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
                throw new BadInputException("shape " + java.util.Arrays.toString(shape) + " has a negative extent");
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
                throw new BadInputException(name + " is a device tensor of another kernel (" + d.deviceId()
                        + "); pass host tensors or tensors from this kernel's allocate()");
            }
            return d;
        }
        if (t instanceof DeviceTensor) {
            throw new BadInputException(name + " is a device tensor of another backend (" + t
                    + "); pass host tensors or tensors from this kernel's allocate()");
        }
        return null;
    }

    @Override
    public synchronized void forward(Tensor hidden, Routing routing, Tensor out) {
        ensureOpen();
        if (!prepared) {
            throw KernelStateException.notPrepared(XpuKernelProvider.ID, "forward");
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
        g1.arg(0, x).arg(1, weights.w13).arg(2, weights.s13).arg(3, weights.b13).arg(4, hasBias).arg(5, ws.sorted).arg(6, ws.tileExpert)
                .arg(7, h).arg(8, inter).arg(9, k).arg(10, actKind).arg(11, alpha).arg(12, limit).arg(13, ws.act);
        launch("gemm1", g1, new long[] {(long) XpuPrograms.WG * ceilDiv(inter, XpuPrograms.NPW), maxTiles},
                new long[] {XpuPrograms.WG, 1});

        // gemm2 + bias -> y [T*k, H]
        ClKernel g2 = mxfp4 ? programs.gemm2Mxfp4 : programs.gemm2Bf16;
        g2.arg(0, ws.act).arg(1, weights.w2).arg(2, weights.s2).arg(3, weights.b2).arg(4, hasBias).arg(5, ws.sorted).arg(6, ws.tileExpert)
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
        ws = new XpuWorkspace(context, spec, cap);
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
            weights.release();
            prepared = false;
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
