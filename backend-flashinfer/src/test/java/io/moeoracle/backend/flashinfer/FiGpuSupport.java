package io.moeoracle.backend.flashinfer;

import io.moeoracle.api.MoeKernel;
import io.moeoracle.api.quant.Bf16;
import io.moeoracle.api.tensor.DType;
import io.moeoracle.api.tensor.DeviceTensor;
import io.moeoracle.api.tensor.HostTensor;
import io.moeoracle.api.tensor.Routing;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.stream.IntStream;

/** Tensor helpers of the gpu tests: uploads, row subsets for the (slow) reference, the NaN-poison check. */
final class FiGpuSupport {
    private FiGpuSupport() {
    }

    static DeviceTensor upload(MoeKernel k, HostTensor t) {
        DeviceTensor d = k.allocate(t.dtype(), t.shape());
        d.copyFrom(t);
        return d;
    }

    static HostTensor toBf16(HostTensor f32, Arena arena) {
        HostTensor b = HostTensor.allocate(arena, DType.BF16, f32.shape());
        for (long j = 0; j < f32.numel(); j++) {
            b.data().setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, j,
                    Bf16.fromFloat(f32.data().getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, j)));
        }
        return b;
    }

    static void add(HostTensor f32, long index, float delta) {
        MemorySegment d = f32.data();
        d.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, index, d.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, index) + delta);
    }

    /** @return every row when t is small, else {@code max} distinct random rows, ascending */
    static int[] pickRows(SplittableRandom rnd, int t, int max) {
        if (t <= max) {
            return IntStream.range(0, t).toArray();
        }
        TreeSet<Integer> s = new TreeSet<>();
        while (s.size() < max) {
            s.add(rnd.nextInt(t));
        }
        return s.stream().mapToInt(Integer::intValue).toArray();
    }

    static HostTensor rowsOf(HostTensor t, int[] rows, Arena arena) {
        long[] shape = t.shape();
        long rowBytes = t.byteSize() / shape[0];
        shape[0] = rows.length;
        HostTensor r = HostTensor.allocate(arena, t.dtype(), shape);
        for (int i = 0; i < rows.length; i++) {
            MemorySegment.copy(t.data(), rows[i] * rowBytes, r.data(), i * rowBytes, rowBytes);
        }
        return r;
    }

    static Routing subset(Routing routing, int[] rows, Arena arena) {
        return switch (routing) {
            case Routing.Logits l -> Routing.logits(rowsOf((HostTensor) l.logits(), rows, arena));
            case Routing.TopK tk -> Routing.topK(rowsOf((HostTensor) tk.ids(), rows, arena),
                    rowsOf((HostTensor) tk.weights(), rows, arena));
        };
    }

    /** Fails naming the first element still holding the NaN the test put there (or any non-finite value). */
    static void assertFullyWritten(HostTensor out) {
        long n = out.numel();
        for (long i = 0; i < n; i++) {
            float v = out.dtype() == DType.F32 ? out.data().getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i)
                    : Bf16.toFloat(out.data().getAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i));
            if (!Float.isFinite(v)) {
                throw new AssertionError("out element " + i + " of " + out.shapeString() + " is " + v
                        + ": not (or wrongly) written");
            }
        }
    }
}
