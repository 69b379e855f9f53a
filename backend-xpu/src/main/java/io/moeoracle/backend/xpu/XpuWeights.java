package io.moeoracle.backend.xpu;

import io.moeoracle.api.quant.Bf16;
import io.moeoracle.api.tensor.DType;
import io.moeoracle.api.tensor.HostTensor;
import io.moeoracle.api.tensor.MoeWeights;
import io.moeoracle.driver.opencl.ClBuffer;
import io.moeoracle.driver.opencl.ClContext;
import io.moeoracle.driver.opencl.ClQueue;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * One layer's weights on the OpenCL device, in the canonical layout (the kernels decode MXFP4 /
 * BF16 rows directly); biases become F32; absent scales and biases are 16-byte placeholders so
 * every kernel argument is a buffer. Callers hold the kernel's lock.
 */
final class XpuWeights {
    private final ClContext context;
    private final ClQueue queue;
    private final List<ClBuffer> buffers = new ArrayList<>();
    ClBuffer w13;
    ClBuffer s13;
    ClBuffer b13;
    ClBuffer w2;
    ClBuffer s2;
    ClBuffer b2;

    XpuWeights(ClContext context, ClQueue queue) {
        this.context = context;
        this.queue = queue;
    }

    /** Releases what is on the device, then uploads {@code weights} (already validated). */
    void upload(MoeWeights weights) {
        release();
        w13 = upload(weights.w13());
        w2 = upload(weights.w2());
        s13 = weights.w13Scales().map(this::upload).orElseGet(this::dummy);
        s2 = weights.w2Scales().map(this::upload).orElseGet(this::dummy);
        b13 = weights.w13Bias().map(this::uploadF32).orElseGet(this::dummy);
        b2 = weights.w2Bias().map(this::uploadF32).orElseGet(this::dummy);
    }

    private ClBuffer track(ClBuffer b) {
        buffers.add(b);
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

    void release() {
        for (ClBuffer b : buffers) {
            b.close();
        }
        buffers.clear();
        w13 = s13 = b13 = w2 = s2 = b2 = null;
    }
}
