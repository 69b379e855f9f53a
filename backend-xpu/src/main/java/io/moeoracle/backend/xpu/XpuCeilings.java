package io.moeoracle.backend.xpu;

import io.moeoracle.api.RooflineProbe;
import io.moeoracle.driver.opencl.ClBuffer;
import io.moeoracle.driver.opencl.ClContext;
import io.moeoracle.driver.opencl.ClDevice;
import io.moeoracle.driver.opencl.ClEvent;
import io.moeoracle.driver.opencl.ClKernel;
import io.moeoracle.driver.opencl.ClProgram;
import io.moeoracle.driver.opencl.ClQueue;

/**
 * Measures an OpenCL device's ceilings with two tiny kernels timed by profiling events: a float4
 * copy of a buffer far larger than the caches (bandwidth) and independent FMA chains (FP32 peak, the
 * arithmetic the xpu kernels use). Best of five runs each.
 */
final class XpuCeilings {
    private static final String SOURCE = """
            __kernel void copy4(__global const float4* a, __global float4* b) {
                size_t i = get_global_id(0);
                b[i] = a[i];
            }
            __kernel void fma_peak(__global float* out, int iters, float a, float b) {
                float x0 = (float)get_global_id(0) * 1e-9f;
                float x1 = x0 + 1e-7f, x2 = x0 + 2e-7f, x3 = x0 + 3e-7f, x4 = x0 + 4e-7f, x5 = x0 + 5e-7f;
                float x6 = x0 + 6e-7f, x7 = x0 + 7e-7f;
                for (int i = 0; i < iters; i++) {
                    x0 = fma(x0, a, b); x1 = fma(x1, a, b); x2 = fma(x2, a, b); x3 = fma(x3, a, b);
                    x4 = fma(x4, a, b); x5 = fma(x5, a, b); x6 = fma(x6, a, b); x7 = fma(x7, a, b);
                }
                out[get_global_id(0)] = x0 + x1 + x2 + x3 + x4 + x5 + x6 + x7;
            }
            """;
    private static final int CHAINS = 8;
    private static final int REPEATS = 5;

    private XpuCeilings() {
    }

    static RooflineProbe.Ceilings measure(ClDevice device, long copyBytes) {
        long bytes = Math.max(1 << 20, Math.min(copyBytes, device.globalMemBytes() / 8)) & ~0xFFFFL;
        try (ClContext ctx = ClContext.create(device); ClQueue q = ctx.createQueue();
             ClProgram p = ctx.buildProgram(SOURCE, "-cl-std=CL1.2");
             ClKernel copy = p.kernel("copy4"); ClKernel fma = p.kernel("fma_peak");
             ClBuffer a = ctx.createBuffer(bytes); ClBuffer b = ctx.createBuffer(bytes)) {
            q.fill(a, 0x3f800000, 0, bytes);
            q.fill(b, 0, 0, bytes);
            copy.arg(0, a).arg(1, b);
            long bestCopy = Long.MAX_VALUE;
            for (int r = 0; r < REPEATS + 1; r++) {
                try (ClEvent ev = q.launchTimed(copy, new long[] {bytes / 16}, new long[] {256})) {
                    long ns = ev.durationNanos();
                    if (r > 0) {
                        bestCopy = Math.min(bestCopy, ns);
                    }
                }
            }
            long items = (long) Math.max(1, device.computeUnits()) * 2048;
            int iters = 4096;
            try (ClBuffer out = ctx.createBuffer(4 * items)) {
                fma.arg(0, out).arg(1, iters).arg(2, 0.9999999f).arg(3, 1e-7f);
                long bestFma = Long.MAX_VALUE;
                for (int r = 0; r < REPEATS + 1; r++) {
                    try (ClEvent ev = q.launchTimed(fma, new long[] {items}, new long[] {256})) {
                        long ns = ev.durationNanos();
                        if (r > 0) {
                            bestFma = Math.min(bestFma, ns);
                        }
                    }
                }
                double bw = 2.0 * bytes / (Math.max(1, bestCopy) * 1e-9);
                double flops = 2.0 * CHAINS * iters * items / (Math.max(1, bestFma) * 1e-9);
                return new RooflineProbe.Ceilings(bw, flops,
                        "OpenCL float4 copy of " + (bytes >> 20) + " MiB (read + write bytes), best of " + REPEATS,
                        "OpenCL FP32 fma chains (" + CHAINS + " per work-item, " + items + " work-items), best of " + REPEATS);
            }
        }
    }
}
