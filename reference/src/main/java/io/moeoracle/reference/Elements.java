package io.moeoracle.reference;

import io.moeoracle.api.quant.Bf16;
import io.moeoracle.api.tensor.DType;
import io.moeoracle.api.tensor.HostTensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** Reads and writes float elements of host tensors whatever their float dtype (native byte order). */
final class Elements {
    private Elements() {
    }

    /**
     * @param t a BF16, F16, F32 or F64 tensor
     * @param index element index
     * @return the element as a double
     */
    static double get(HostTensor t, long index) {
        MemorySegment d = t.data();
        return switch (t.dtype()) {
            case F32 -> d.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, index);
            case BF16 -> Bf16.toFloat(d.getAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, index));
            case F16 -> Float.float16ToFloat(d.getAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, index));
            case F64 -> d.getAtIndex(ValueLayout.JAVA_DOUBLE_UNALIGNED, index);
            default -> throw new IllegalArgumentException("a " + t.dtype() + " tensor holds no floats; "
                    + "expected BF16, F16, F32 or F64");
        };
    }

    /**
     * Reads {@code n} consecutive elements into {@code out}.
     *
     * @param t a float tensor
     * @param from first element index
     * @param out destination
     * @param outOffset first index written
     * @param n count
     */
    static void read(HostTensor t, long from, double[] out, int outOffset, int n) {
        MemorySegment d = t.data();
        switch (t.dtype()) {
            case F32 -> {
                for (int i = 0; i < n; i++) {
                    out[outOffset + i] = d.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, from + i);
                }
            }
            case BF16 -> {
                for (int i = 0; i < n; i++) {
                    out[outOffset + i] = Bf16.toFloat(d.getAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, from + i));
                }
            }
            default -> {
                for (int i = 0; i < n; i++) {
                    out[outOffset + i] = get(t, from + i);
                }
            }
        }
    }

    /**
     * Writes one element, rounding to the tensor's dtype (F32 or BF16 round to nearest even).
     *
     * @param t an F32, BF16 or F64 tensor
     * @param index element index
     * @param value the value
     */
    static void set(HostTensor t, long index, double value) {
        MemorySegment d = t.data();
        switch (t.dtype()) {
            case F32 -> d.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, index, (float) value);
            case BF16 -> d.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, index, Bf16.fromFloat((float) value));
            case F64 -> d.setAtIndex(ValueLayout.JAVA_DOUBLE_UNALIGNED, index, value);
            default -> throw new IllegalArgumentException("cannot write floats into a " + t.dtype() + " tensor");
        }
    }

    static boolean isFloat(DType dtype) {
        return dtype == DType.F32 || dtype == DType.BF16 || dtype == DType.F16 || dtype == DType.F64;
    }
}
