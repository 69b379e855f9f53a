package io.moeoracle.reference;

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

/**
 * The tensor chores of tests that run a kernel against the float64 reference: outputs filled with
 * NaN before a call and checked to be fully overwritten after it, uploads to a kernel's device, BF16
 * copies, and row samples (the reference is slow on large calls, so those compare a sample of rows
 * while the kernel still computes every row). {@link ForwardCase} runs whole calls with them.
 */
public final class ForwardChecks {
    private ForwardChecks() {
    }

    /**
     * Fills a tensor with all-ones bytes: NaN in F32 and BF16, so an element a kernel leaves alone
     * fails {@link #assertFullyWritten}.
     *
     * @param t the tensor (typically an output)
     * @return {@code t}
     */
    public static HostTensor poison(HostTensor t) {
        t.data().fill((byte) 0xFF);
        return t;
    }

    /**
     * @param arena where the tensor lives
     * @param dtype F32 or BF16
     * @param shape extents
     * @return a new tensor full of NaN ({@link #poison})
     */
    public static HostTensor poisoned(Arena arena, DType dtype, long... shape) {
        return poison(HostTensor.allocate(arena, dtype, shape));
    }

    /**
     * Fails naming the first element that is not finite: still the NaN the test put there, or a
     * value computed from memory the kernel never wrote.
     *
     * @param out an F32 or BF16 output
     * @throws AssertionError for the first non-finite element
     * @throws IllegalArgumentException for another element type
     */
    public static void assertFullyWritten(HostTensor out) {
        if (out.dtype() != DType.F32 && out.dtype() != DType.BF16) {
            throw new IllegalArgumentException("assertFullyWritten reads F32 or BF16 outputs, not " + out.dtype());
        }
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

    /**
     * @param kernel the kernel whose device receives the copy
     * @param t host data
     * @return a device tensor of the same dtype and shape holding a copy; the caller closes it
     */
    public static DeviceTensor upload(MoeKernel kernel, HostTensor t) {
        DeviceTensor d = kernel.allocate(t.dtype(), t.shape());
        try {
            d.copyFrom(t);
        } catch (RuntimeException e) {
            d.close();
            throw e;
        }
        return d;
    }

    /**
     * @param f32 an F32 tensor
     * @param arena where the copy lives
     * @return a BF16 copy (round to nearest even)
     */
    public static HostTensor toBf16(HostTensor f32, Arena arena) {
        HostTensor b = HostTensor.allocate(arena, DType.BF16, f32.shape());
        for (long j = 0; j < f32.numel(); j++) {
            b.data().setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, j,
                    Bf16.fromFloat(f32.data().getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, j)));
        }
        return b;
    }

    /**
     * Adds {@code delta} to one element of an F32 tensor (e.g. to steer a router logit).
     *
     * @param f32 the tensor
     * @param index flat element index
     * @param delta what to add
     */
    public static void add(HostTensor f32, long index, float delta) {
        MemorySegment d = f32.data();
        d.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, index, d.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, index) + delta);
    }

    /**
     * The rows a check compares: all of them when there are at most {@code max}, else {@code max}
     * distinct rows that always include the first and the last (where tiling errors show) and random
     * others.
     *
     * @param rnd the source of the random rows
     * @param tokens rows of the call
     * @param max the most rows to compare (at least 2 when {@code tokens} exceeds it)
     * @return row indices, ascending
     */
    public static int[] pickRows(SplittableRandom rnd, int tokens, int max) {
        if (tokens <= max) {
            return IntStream.range(0, tokens).toArray();
        }
        if (max < 2) {
            throw new IllegalArgumentException("pickRows needs room for the first and last row: max " + max
                    + " of " + tokens + " rows; pass at least 2");
        }
        TreeSet<Integer> s = new TreeSet<>();
        s.add(0);
        s.add(tokens - 1);
        while (s.size() < max) {
            s.add(rnd.nextInt(tokens));
        }
        return s.stream().mapToInt(Integer::intValue).toArray();
    }

    /**
     * @param t a host tensor, rows along the first dimension
     * @param rows row indices
     * @param arena where the copy lives
     * @return a copy of those rows, in that order
     */
    public static HostTensor rowsOf(HostTensor t, int[] rows, Arena arena) {
        long[] shape = t.shape();
        long rowBytes = t.byteSize() / shape[0];
        shape[0] = rows.length;
        HostTensor r = HostTensor.allocate(arena, t.dtype(), shape);
        for (int i = 0; i < rows.length; i++) {
            MemorySegment.copy(t.data(), rows[i] * rowBytes, r.data(), i * rowBytes, rowBytes);
        }
        return r;
    }

    /**
     * @param routing host routing (logits, or top-k ids and weights)
     * @param rows token indices
     * @param arena where the copy lives
     * @return the routing of those tokens only
     */
    public static Routing rowsOf(Routing routing, int[] rows, Arena arena) {
        return switch (routing) {
            case Routing.Logits l -> Routing.logits(rowsOf((HostTensor) l.logits(), rows, arena));
            case Routing.TopK tk -> Routing.topK(rowsOf((HostTensor) tk.ids(), rows, arena),
                    rowsOf((HostTensor) tk.weights(), rows, arena));
        };
    }
}
