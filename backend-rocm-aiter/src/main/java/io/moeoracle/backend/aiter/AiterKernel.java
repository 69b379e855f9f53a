package io.moeoracle.backend.aiter;

import io.moeoracle.api.MoeKernel;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.error.BadInputException;
import io.moeoracle.api.error.KernelStateException;
import io.moeoracle.api.error.UnsupportedSpecException;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.tensor.DType;
import io.moeoracle.api.tensor.ForwardArgs;
import io.moeoracle.api.tensor.HostTensor;
import io.moeoracle.api.tensor.MoeWeights;
import io.moeoracle.api.tensor.Routing;
import io.moeoracle.api.tensor.Tensor;
import io.moeoracle.driver.hip.HipBuffer;
import io.moeoracle.driver.hip.HipDevice;
import io.moeoracle.driver.hip.HipFunction;
import io.moeoracle.driver.hip.HipKernelArgs;
import io.moeoracle.driver.hip.HipModule;
import io.moeoracle.driver.hip.HipStream;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One layer on one AMD GPU through driver-hip: the code object for the device's gfx target loaded
 * with {@code hipModuleLoadData}, the canonical weights uploaded as they are (the kernels read the
 * gpt-oss layout directly, no repack), and per call the launches of {@link AiterPlan} on one stream.
 * Takes host tensors (uploads, runs, downloads); scratch is allocated per call. Calls are serialized
 * on the kernel (one stream, per-call scratch): concurrent forwards run one at a time, and close waits
 * for a running forward (the api's thread-safety contract).
 */
final class AiterKernel implements MoeKernel {
    private final String providerId;
    private final boolean fp8;
    private final MoeLayerSpec spec;
    private final DeviceInfo device;
    private final HipDevice hip;
    private final HipModule module;
    private final HipStream stream;
    private final Map<String, HipFunction> functions = new HashMap<>();
    private final List<HipBuffer> weights = new ArrayList<>();
    private long w13;
    private long w13s;
    private long b13;
    private boolean b13F32;
    private long w2;
    private long w2s;
    private long b2;
    private boolean b2F32;
    private volatile boolean prepared;
    private volatile boolean closed;

    AiterKernel(String providerId, boolean fp8, MoeLayerSpec spec, DeviceInfo device, HipDevice hip) {
        this.providerId = providerId;
        this.fp8 = fp8;
        this.spec = spec;
        this.device = device;
        this.hip = hip;
        byte[] image = AiterImage.bytes(hip.processor()).orElseThrow(() -> new UnsupportedSpecException(providerId,
                spec.describe() + " on " + device.describe(), AiterImage.missing(hip.processor()),
                "rebuild backend-rocm-aiter where clang-22 and lld-22 are installed, or use another backend"));
        this.module = hip.loadModule(image);
        this.stream = hip.createStream();
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
    public synchronized void prepare(MoeWeights w) {
        checkOpen();
        w.validate(spec);
        releaseWeights();
        w13 = upload(w.w13());
        w13s = upload(w.w13Scales().orElseThrow());
        w2 = upload(w.w2());
        w2s = upload(w.w2Scales().orElseThrow());
        b13 = w.w13Bias().map(this::upload).orElse(0L);
        b13F32 = w.w13Bias().map(t -> t.dtype() == DType.F32).orElse(false);
        b2 = w.w2Bias().map(this::upload).orElse(0L);
        b2F32 = w.w2Bias().map(t -> t.dtype() == DType.F32).orElse(false);
        prepared = true;
    }

    private long upload(HostTensor t) {
        HipBuffer b = hip.allocate(Math.max(1, t.data().byteSize()));
        weights.add(b);
        b.copyFromHost(t.data());
        return b.address();
    }

    @Override
    public boolean isPrepared() {
        return prepared;
    }

    @Override
    public synchronized void forward(Tensor hidden, Routing routing, Tensor out) {
        checkOpen();
        if (!prepared) {
            throw KernelStateException.notPrepared(providerId, "forward");
        }
        int tokens = ForwardArgs.check(spec, hidden, routing, out);
        ForwardArgs.checkIds(spec, routing);
        HostTensor h = host("hidden", hidden);
        HostTensor o = host("out", out);
        if (tokens == 0) {
            return;
        }
        AiterPlan plan = new AiterPlan(spec, fp8, 64);
        AiterPlan.Scratch s = plan.scratch(tokens);
        List<HipBuffer> call = new ArrayList<>();
        try (Arena arena = Arena.ofConfined()) {
            long dHidden = copy(call, h);
            long dOut = alloc(call, o.data().byteSize());
            long logits = 0;
            boolean logitsBf16 = false;
            long ids;
            long wts;
            switch (routing) {
                case Routing.Logits l -> {
                    HostTensor lt = host("logits", l.logits());
                    logits = copy(call, lt);
                    logitsBf16 = lt.dtype() == DType.BF16;
                    ids = alloc(call, s.ids());
                    wts = alloc(call, s.weights());
                }
                case Routing.TopK tk -> {
                    ids = copy(call, host("ids", tk.ids()));
                    wts = copy(call, host("weights", tk.weights()));
                }
            }
            AiterPlan.Buffers b = new AiterPlan.Buffers(dHidden, h.dtype() == DType.F32, logits, logitsBf16, dOut,
                    o.dtype() == DType.F32, w13, w13s, b13, b13F32, w2, w2s, b2, b2F32, ids, wts,
                    alloc(call, s.sorted()), alloc(call, s.blockExpert()), alloc(call, s.numBlocks()),
                    alloc(call, s.inter()), alloc(call, s.y()), alloc(call, s.xq()), alloc(call, s.xs()),
                    alloc(call, s.interq()), alloc(call, s.inters()));
            for (AiterPlan.Launch launch : plan.launches(tokens, b)) {
                function(launch.kernel()).launch(launch.gridX(), launch.gridY(), launch.block(), 0, stream,
                        args(launch.args(), arena));
            }
            stream.synchronize();
            findBuffer(call, dOut).copyToHost(o.data());
        } finally {
            call.forEach(HipBuffer::close);
        }
    }

    private static HipBuffer findBuffer(List<HipBuffer> buffers, long address) {
        return buffers.stream().filter(x -> x.address() == address).findFirst().orElseThrow();
    }

    private long copy(List<HipBuffer> call, HostTensor t) {
        HipBuffer b = hip.allocate(Math.max(1, t.data().byteSize()));
        call.add(b);
        b.copyFromHost(t.data());
        return b.address();
    }

    private long alloc(List<HipBuffer> call, long bytes) {
        if (bytes == 0) {
            return 0;
        }
        HipBuffer b = hip.allocate(bytes);
        call.add(b);
        return b.address();
    }

    static HipKernelArgs args(List<AiterPlan.Arg> args, Arena arena) {
        HipKernelArgs.Builder b = HipKernelArgs.builder();
        for (AiterPlan.Arg a : args) {
            switch (a) {
                case AiterPlan.Arg.Ptr p -> b.pointer(p.address());
                case AiterPlan.Arg.I32 i -> b.i32(i.value());
                case AiterPlan.Arg.F32 f -> b.f32(f.value());
            }
        }
        return b.build(arena);
    }

    private HipFunction function(String name) {
        return functions.computeIfAbsent(name, module::function);
    }

    private HostTensor host(String what, Tensor t) {
        if (t instanceof HostTensor ht) {
            return ht;
        }
        throw new BadInputException(providerId + " takes host tensors (it uploads and downloads per call); "
                + what + " is a " + t.getClass().getSimpleName());
    }

    private void checkOpen() {
        if (closed) {
            throw KernelStateException.closed(providerId, "this call");
        }
    }

    private void releaseWeights() {
        weights.forEach(HipBuffer::close);
        weights.clear();
        prepared = false;
    }

    @Override
    public synchronized void synchronize() {
        checkOpen();
        stream.synchronize();
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            releaseWeights();
            stream.close();
            module.close();
            closed = true;
        }
    }

    @Override
    public String toString() {
        return providerId + " on " + device.describe() + (prepared ? ", prepared" : "");
    }
}
