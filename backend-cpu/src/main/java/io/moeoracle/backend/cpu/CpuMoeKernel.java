package io.moeoracle.backend.cpu;

import io.moeoracle.api.MoeKernel;
import io.moeoracle.api.ProgressListener;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.error.BadInputException;
import io.moeoracle.api.error.KernelStateException;
import io.moeoracle.api.spec.Activation;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.spec.WeightFormat;
import io.moeoracle.api.tensor.DType;
import io.moeoracle.api.tensor.ForwardArgs;
import io.moeoracle.api.tensor.HostTensor;
import io.moeoracle.api.tensor.LoraAdapter;
import io.moeoracle.api.tensor.LoraArgs;
import io.moeoracle.api.tensor.MoeWeights;
import io.moeoracle.api.tensor.Routing;
import io.moeoracle.api.tensor.Tensor;
import io.moeoracle.backend.cpu.ffi.MoeCpuNative;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One MoE layer on the host CPU. Thread-safe: calls on one kernel are serialized (the native
 * layer owns one workspace). The worker threads are not the kernel's: every kernel of the process
 * shares one native pool sized to the cores, and forwards of several kernels take turns on it
 * ({@link MoeCpuNative#sharedPools()}). Takes {@link HostTensor}s only; heap segments are copied to
 * native memory around the call. LoRA adapters are copied into the native layer (fp32) on
 * {@link #loadAdapter}; their tensors may be released afterwards.
 */
public final class CpuMoeKernel implements MoeKernel {
    private static final Logger LOG = LoggerFactory.getLogger(CpuMoeKernel.class);

    private final MoeCpuNative nat;
    private final MoeLayerSpec spec;
    private final DeviceInfo device;
    private final CpuIsa isa;
    private final ReentrantLock lock = new ReentrantLock();
    private MemorySegment layer;
    private boolean prepared;
    private final boolean[] loaded;

    CpuMoeKernel(MoeCpuNative nat, MoeLayerSpec spec, DeviceInfo device, CpuIsa isa, int threads) {
        this.nat = nat;
        this.spec = spec;
        this.device = device;
        this.isa = isa;
        float alpha = 1.702f;
        float limit = Float.POSITIVE_INFINITY;
        int act;
        switch (spec.activation()) {
            case Activation.SwigluOai s -> {
                act = MoeCpuNative.ACT_SWIGLU_OAI;
                alpha = (float) s.alpha();
                limit = (float) s.limit();
            }
            case Activation.Silu s -> act = MoeCpuNative.ACT_SILU;
            case Activation.Gelu g -> act = MoeCpuNative.ACT_GELU;
        }
        int wfmt = spec.quant().weights().kind() == WeightFormat.Kind.MXFP4 ? MoeCpuNative.WFMT_MXFP4
                : MoeCpuNative.WFMT_BF16;
        this.layer = nat.layerCreate(spec.experts(), spec.topK(), spec.hiddenSize(), spec.intermediateSize(), wfmt, act,
                alpha, limit, spec.hasBias(), isa.code(), threads);
        this.loaded = new boolean[spec.adapterSlots()];
        if (spec.lora()) {
            try {
                nat.lora().configure(layer, spec.adapterSlots(), spec.maxLoraRank());
            } catch (RuntimeException e) {
                nat.layerDestroy(layer);
                throw e;
            }
        }
        LOG.debug("cpu kernel for {} on {}: {} with {} threads", spec.describe(), device.id(), isa, threads);
    }

    @Override
    public String providerId() {
        return CpuMoeProvider.ID;
    }

    @Override
    public MoeLayerSpec spec() {
        return spec;
    }

    @Override
    public DeviceInfo device() {
        return device;
    }

    /** @return the kernel set this kernel runs */
    public CpuIsa isa() {
        return isa;
    }

    /** @return the worker threads of the shared pool this kernel runs on */
    int workerThreads() {
        lock.lock();
        try {
            ensureOpen("workerThreads");
            return nat.layerThreads(layer);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void prepare(MoeWeights weights) {
        prepare(weights, ProgressListener.NONE);
    }

    /**
     * Reports by bytes: the copies of heap tensors into native memory (none for a mapped checkpoint),
     * then the native repacking as the rest; the native call itself is one step.
     */
    @Override
    public void prepare(MoeWeights weights, ProgressListener progress) {
        lock.lock();
        try {
            ensureOpen("prepare");
            weights.validate(spec);
            boolean mx = spec.quant().weights().kind() == WeightFormat.Kind.MXFP4;
            double total = 2.0 * (weights.w13().byteSize() + weights.w2().byteSize());
            progress.progress(0, "copying weights to native memory");
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment w13 = nativeCopy(weights.w13(), arena);
                progress.progress(weights.w13().byteSize() / total, "copying weights to native memory");
                MemorySegment w2 = nativeCopy(weights.w2(), arena);
                MemorySegment w13s = mx ? nativeCopy(weights.w13Scales().orElseThrow(), arena) : MemorySegment.NULL;
                MemorySegment w2s = mx ? nativeCopy(weights.w2Scales().orElseThrow(), arena) : MemorySegment.NULL;
                MemorySegment b13 = bias(weights.w13Bias(), arena);
                MemorySegment b2 = bias(weights.w2Bias(), arena);
                progress.progress(0.5, "repacking expert weights");
                nat.layerPrepare(layer, w13, w13s, b13, dtypeCode(weights.w13Bias()), w2, w2s, b2,
                        dtypeCode(weights.w2Bias()));
            }
            prepared = true;
            progress.progress(1.0, "prepared");
        } finally {
            lock.unlock();
        }
    }

    private MemorySegment bias(Optional<HostTensor> b, Arena arena) {
        return spec.hasBias() && b.isPresent() ? nativeCopy(b.get(), arena) : MemorySegment.NULL;
    }

    private static int dtypeCode(Optional<HostTensor> b) {
        return b.map(t -> t.dtype() == DType.F32 ? MoeCpuNative.DT_F32 : MoeCpuNative.DT_BF16).orElse(MoeCpuNative.DT_F32);
    }

    private static MemorySegment nativeCopy(HostTensor t, Arena arena) {
        MemorySegment s = t.data();
        if (s.isNative()) {
            return s;
        }
        MemorySegment copy = arena.allocate(Math.max(1, s.byteSize()), 64);
        MemorySegment.copy(s, 0, copy, 0, s.byteSize());
        return copy;
    }

    @Override
    public boolean isPrepared() {
        return prepared;
    }

    @Override
    public void loadAdapter(int slot, LoraAdapter adapter) {
        lock.lock();
        try {
            ensureOpen("loadAdapter");
            LoraArgs.checkSlot(CpuMoeProvider.ID, spec, slot);
            adapter.validate(spec);
            try (Arena arena = Arena.ofConfined()) {
                nat.lora().load(layer, slot, adapter.rank(), (float) adapter.scaling(),
                        nativeCopy(adapter.gateA(), arena), nativeCopy(adapter.gateB(), arena),
                        nativeCopy(adapter.upA(), arena), nativeCopy(adapter.upB(), arena),
                        nativeCopy(adapter.downA(), arena), nativeCopy(adapter.downB(), arena));
            }
            loaded[slot] = true;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void unloadAdapter(int slot) {
        lock.lock();
        try {
            ensureOpen("unloadAdapter");
            LoraArgs.checkSlot(CpuMoeProvider.ID, spec, slot);
            nat.lora().unload(layer, slot);
            loaded[slot] = false;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void forward(Tensor hidden, Routing routing, Tensor adapterIds, Tensor out) {
        run(hidden, routing, java.util.Objects.requireNonNull(adapterIds, "adapterIds"), out);
    }

    @Override
    public void forward(Tensor hidden, Routing routing, Tensor out) {
        run(hidden, routing, null, out);
    }

    /** One forward; {@code adapterIds} null: no LoRA. */
    private void run(Tensor hidden, Routing routing, Tensor adapterIds, Tensor out) {
        lock.lock();
        try {
            ensureOpen("forward");
            if (!prepared) {
                throw KernelStateException.notPrepared(CpuMoeProvider.ID, "forward");
            }
            HostTensor h = host("hidden", hidden);
            HostTensor o = host("out", out);
            switch (routing) {
                case Routing.Logits l -> host("router logits", l.logits());
                case Routing.TopK k -> {
                    host("top-k ids", k.ids());
                    host("top-k weights", k.weights());
                }
            }
            int tokens = ForwardArgs.check(spec, hidden, routing, out);
            ForwardArgs.checkIds(spec, routing);
            if (adapterIds != null) {
                host("adapter ids", adapterIds);
                LoraArgs.checkIds(CpuMoeProvider.ID, spec, adapterIds, tokens, s -> loaded[s]);
            }
            if (tokens == 0) {
                return;
            }
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment ids = adapterIds == null ? MemorySegment.NULL : nativeCopy((HostTensor) adapterIds, arena);
                MemorySegment hs = nativeCopy(h, arena);
                boolean outHeap = !o.data().isNative();
                MemorySegment os = outHeap ? arena.allocate(o.byteSize(), 64) : o.data();
                switch (routing) {
                    case Routing.Logits l -> {
                        HostTensor lt = (HostTensor) l.logits();
                        nat.layerForward(layer, tokens, hs, code(h.dtype()), 0, nativeCopy(lt, arena), code(lt.dtype()),
                                MemorySegment.NULL, MemorySegment.NULL, os, code(o.dtype()), ids);
                    }
                    case Routing.TopK k -> nat.layerForward(layer, tokens, hs, code(h.dtype()), 1, MemorySegment.NULL,
                            MoeCpuNative.DT_F32, nativeCopy((HostTensor) k.ids(), arena),
                            nativeCopy((HostTensor) k.weights(), arena), os, code(o.dtype()), ids);
                }
                if (outHeap) {
                    MemorySegment.copy(os, 0, o.data(), 0, o.byteSize());
                }
            }
        } finally {
            lock.unlock();
        }
    }

    private static int code(DType t) {
        return t == DType.F32 ? MoeCpuNative.DT_F32 : MoeCpuNative.DT_BF16;
    }

    private static HostTensor host(String name, Tensor t) {
        if (t instanceof HostTensor h) {
            return h;
        }
        throw new BadInputException(name + " is a device tensor, but the cpu backend runs on host memory; "
                + "pass a HostTensor");
    }

    private void ensureOpen(String call) {
        if (layer == null) {
            throw new KernelStateException(call + " on a closed cpu kernel (" + spec.describe() + "); create a new one"
                    + " with the provider");
        }
    }

    @Override
    public String toString() {
        return CpuMoeProvider.ID + " kernel for " + spec.describe() + " on " + device.id() + " (" + isa + ")";
    }

    @Override
    public void close() {
        lock.lock();
        try {
            if (layer != null) {
                nat.layerDestroy(layer);
                layer = null;
                prepared = false;
            }
        } finally {
            lock.unlock();
        }
    }
}
