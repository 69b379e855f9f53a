package com.example.moe;

import com.example.moe.ffi.ExampleNative;
import io.moeoracle.api.MoeKernel;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.error.BadInputException;
import io.moeoracle.api.error.KernelStateException;
import io.moeoracle.api.quant.Bf16;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.tensor.DType;
import io.moeoracle.api.tensor.ForwardArgs;
import io.moeoracle.api.tensor.HostTensor;
import io.moeoracle.api.tensor.MoeWeights;
import io.moeoracle.api.tensor.Routing;
import io.moeoracle.api.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * One layer on the host CPU. Thread-safe as MoeKernel requires: forwards share a read lock (each
 * allocates its own buffers), prepare and close take the write lock.
 */
final class ExampleBf16Kernel implements MoeKernel {
    private final ExampleNative nat;
    private final MoeLayerSpec spec;
    private final DeviceInfo device;
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private Arena weightsArena;
    private MemorySegment w13;
    private MemorySegment w2;
    private boolean closed;

    ExampleBf16Kernel(ExampleNative nat, MoeLayerSpec spec, DeviceInfo device) {
        this.nat = nat;
        this.spec = spec;
        this.device = device;
    }

    @Override
    public String providerId() {
        return ExampleBf16Provider.ID;
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
    public void prepare(MoeWeights weights) {
        lock.writeLock().lock();
        try {
            if (closed) {
                throw KernelStateException.closed(ExampleBf16Provider.ID, "prepare");
            }
            weights.validate(spec);
            Arena arena = Arena.ofShared();
            MemorySegment a = arena.allocate(weights.w13().byteSize(), 64).copyFrom(weights.w13().data());
            MemorySegment b = arena.allocate(weights.w2().byteSize(), 64).copyFrom(weights.w2().data());
            if (weightsArena != null) {
                weightsArena.close();
            }
            weightsArena = arena;
            w13 = a;
            w2 = b;
        } finally {
            lock.writeLock().unlock();
        }
    }

    @Override
    public boolean isPrepared() {
        lock.readLock().lock();
        try {
            return w13 != null;
        } finally {
            lock.readLock().unlock();
        }
    }

    @Override
    public void forward(Tensor hidden, Routing routing, Tensor out) {
        lock.readLock().lock();
        try {
            if (closed) {
                throw KernelStateException.closed(ExampleBf16Provider.ID, "forward");
            }
            if (w13 == null) {
                throw KernelStateException.notPrepared(ExampleBf16Provider.ID, "forward");
            }
            int t = ForwardArgs.check(spec, hidden, routing, out);
            HostTensor h = host("hidden", hidden);
            HostTensor o = host("out", out);
            int k = spec.topK();
            int width = spec.hiddenSize();
            try (Arena call = Arena.ofConfined()) {
                MemorySegment ids = call.allocate(ValueLayout.JAVA_INT, Math.max(1, (long) t * k));
                MemorySegment wts = call.allocate(ValueLayout.JAVA_FLOAT, Math.max(1, (long) t * k));
                switch (routing) {
                    case Routing.TopK(Tensor idT, Tensor wT) -> {
                        ForwardArgs.checkIds(spec, routing);
                        MemorySegment.copy(host("top-k ids", idT).data(), 0, ids, 0, (long) t * k * 4);
                        MemorySegment.copy(host("top-k weights", wT).data(), 0, wts, 0, (long) t * k * 4);
                    }
                    case Routing.Logits(Tensor logits) -> Routes.topK(host("router logits", logits), t, spec.experts(),
                            k, ids, wts);
                }
                MemorySegment x = call.allocate(ValueLayout.JAVA_FLOAT, Math.max(1, (long) t * width));
                for (long i = 0; i < (long) t * width; i++) {
                    x.setAtIndex(ValueLayout.JAVA_FLOAT, i, Routes.value(h, i));
                }
                MemorySegment y = call.allocate(ValueLayout.JAVA_FLOAT, Math.max(1, (long) t * width));
                if (t > 0) {
                    nat.forward(t, width, spec.intermediateSize(), spec.experts(), k, x, ids, wts, w13, w2, y);
                }
                for (long i = 0; i < (long) t * width; i++) {
                    float v = y.getAtIndex(ValueLayout.JAVA_FLOAT, i);
                    if (o.dtype() == DType.F32) {
                        o.data().setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, v);
                    } else {
                        o.data().setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, Bf16.fromFloat(v));
                    }
                }
            }
        } finally {
            lock.readLock().unlock();
        }
    }

    private static HostTensor host(String name, Tensor t) {
        if (t instanceof HostTensor h) {
            return h;
        }
        throw new BadInputException(name + " is a device tensor; " + ExampleBf16Provider.ID
                + " runs on host memory: pass a HostTensor");
    }

    @Override
    public void close() {
        lock.writeLock().lock();
        try {
            if (!closed) {
                closed = true;
                if (weightsArena != null) {
                    weightsArena.close();
                }
                weightsArena = null;
                w13 = null;
                w2 = null;
            }
        } finally {
            lock.writeLock().unlock();
        }
    }

    @Override
    public String toString() {
        return ExampleBf16Provider.ID + " kernel for " + spec.describe();
    }
}
