package io.moeoracle.backend.cpu;

import io.moeoracle.api.MoeKernel;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.quant.Bf16;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.tensor.DType;
import io.moeoracle.api.tensor.HostTensor;
import io.moeoracle.api.tensor.MoeWeights;
import io.moeoracle.api.tensor.Routing;
import io.moeoracle.reference.ReferenceMoe;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;

/** Shared helpers: the host device, NaN-filled outputs, one forward against the reference. */
final class CpuTestSupport {
    static final CpuMoeProvider PROVIDER = new CpuMoeProvider();
    static final DeviceInfo HOST = HostCpu.device();

    private CpuTestSupport() {
    }

    /** An output tensor filled with NaN, so an element the kernel forgets to write shows up. */
    static HostTensor nanFilled(Arena arena, DType dtype, long tokens, long hidden) {
        HostTensor t = HostTensor.allocate(arena, dtype, tokens, hidden);
        long n = t.numel();
        for (long i = 0; i < n; i++) {
            if (dtype == DType.F32) {
                t.data().setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, Float.NaN);
            } else {
                t.data().setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, Bf16.fromFloat(Float.NaN));
            }
        }
        return t;
    }

    /** The results of one forward on the cpu kernel and on the float64 reference. */
    record Outputs(HostTensor actual, HostTensor expected) {
    }

    /** Prepares a cpu kernel, runs one forward into a NaN-filled buffer and runs the reference. */
    static Outputs run(MoeLayerSpec spec, MoeWeights w, HostTensor hidden, Routing routing, DType outType, Arena arena) {
        long tokens = hidden.dim(0);
        HostTensor actual = nanFilled(arena, outType, tokens, spec.hiddenSize());
        try (MoeKernel k = PROVIDER.create(spec, HOST)) {
            k.prepare(w);
            k.forward(hidden, routing, actual);
        }
        HostTensor expected = HostTensor.allocate(arena, DType.F32, tokens, spec.hiddenSize());
        ReferenceMoe.forward(spec, w, hidden, routing, expected);
        return new Outputs(actual, expected);
    }

    /** Runs with a system property set for the duration (the provider reads it at create time). */
    static <T> T withProperty(String key, String value, java.util.function.Supplier<T> body) {
        String old = System.getProperty(key);
        System.setProperty(key, value);
        try {
            return body.get();
        } finally {
            if (old == null) {
                System.clearProperty(key);
            } else {
                System.setProperty(key, old);
            }
        }
    }

    /** Top-k routing from explicit ids, weights 1/k. */
    static Routing.TopK topK(Arena arena, int[][] ids) {
        int t = ids.length;
        int k = t == 0 ? 1 : ids[0].length;
        HostTensor idT = HostTensor.allocate(arena, DType.I32, t, k);
        HostTensor wT = HostTensor.allocate(arena, DType.F32, t, k);
        for (int i = 0; i < t; i++) {
            for (int j = 0; j < k; j++) {
                idT.data().setAtIndex(ValueLayout.JAVA_INT_UNALIGNED, (long) i * k + j, ids[i][j]);
                wT.data().setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, (long) i * k + j, (j + 1f) / (k * (k + 1) / 2f));
            }
        }
        return new Routing.TopK(idT, wT);
    }
}
