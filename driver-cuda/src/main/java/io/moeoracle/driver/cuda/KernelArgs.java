package io.moeoracle.driver.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.StringJoiner;

/**
 * The {@code void** kernelParams} array of a launch, built in an arena from typed arguments:
 * each value gets a slot (aligned to its size) in one block of native memory, and the array holds
 * one pointer per slot, in order. Values may be changed in place between launches
 * ({@link #setPointer}, {@link #setInt}, ...) so a hot loop allocates nothing. Not thread-safe
 * while being changed; lives as long as the arena given to {@link Builder#build(Arena)}.
 *
 * <pre>{@code
 * KernelArgs args = KernelArgs.builder().pointer(x).pointer(y).i32(n).f32(2.0f).build(arena);
 * kernel.launch(LaunchConfig.covering(n, 256), stream, args);
 * }</pre>
 */
public final class KernelArgs {
    /** What one argument is, for checks and messages. */
    public enum Kind {
        /** A device pointer, 8 bytes. */
        POINTER(8),
        /** {@code int} / {@code unsigned}, 4 bytes. */
        I32(4),
        /** {@code long long} / {@code size_t}, 8 bytes. */
        I64(8),
        /** {@code float}, 4 bytes. */
        F32(4),
        /** {@code double}, 8 bytes. */
        F64(8),
        /** A struct passed by value (e.g. a 128-byte TMA descriptor), any size. */
        BYTES(0);

        private final int size;

        Kind(int size) {
            this.size = size;
        }
    }

    private final MemorySegment pointers;
    private final MemorySegment values;
    private final Kind[] kinds;
    private final long[] offsets;
    private final long[] sizes;

    private KernelArgs(MemorySegment pointers, MemorySegment values, Kind[] kinds, long[] offsets, long[] sizes) {
        this.pointers = pointers;
        this.values = values;
        this.kinds = kinds;
        this.offsets = offsets;
        this.sizes = sizes;
    }

    /** @return a builder */
    public static Builder builder() {
        return new Builder();
    }

    /** @return the number of arguments */
    public int count() {
        return kinds.length;
    }

    /** @return the {@code void*[count]} array to pass as {@code kernelParams} */
    public MemorySegment pointers() {
        return pointers;
    }

    /**
     * @param index argument index
     * @return its kind
     */
    public Kind kind(int index) {
        return kinds[index];
    }

    /**
     * @param index argument index
     * @return the native memory holding its value
     */
    public MemorySegment slot(int index) {
        return values.asSlice(offsets[index], sizes[index]);
    }

    /**
     * @param index a {@link Kind#POINTER} argument
     * @param buffer the new device pointer
     */
    public void setPointer(int index, DeviceBuffer buffer) {
        setPointer(index, buffer.address());
    }

    /**
     * @param index a {@link Kind#POINTER} argument
     * @param address the new device address
     */
    public void setPointer(int index, long address) {
        expect(index, Kind.POINTER);
        values.set(ValueLayout.JAVA_LONG_UNALIGNED, offsets[index], address);
    }

    /**
     * @param index an {@link Kind#I32} argument
     * @param value the new value
     */
    public void setInt(int index, int value) {
        expect(index, Kind.I32);
        values.set(ValueLayout.JAVA_INT_UNALIGNED, offsets[index], value);
    }

    /**
     * @param index an {@link Kind#I64} argument
     * @param value the new value
     */
    public void setLong(int index, long value) {
        expect(index, Kind.I64);
        values.set(ValueLayout.JAVA_LONG_UNALIGNED, offsets[index], value);
    }

    /**
     * @param index an {@link Kind#F32} argument
     * @param value the new value
     */
    public void setFloat(int index, float value) {
        expect(index, Kind.F32);
        values.set(ValueLayout.JAVA_FLOAT_UNALIGNED, offsets[index], value);
    }

    private void expect(int index, Kind kind) {
        if (index < 0 || index >= kinds.length) {
            throw new IndexOutOfBoundsException("kernel argument " + index + " does not exist: there are " + kinds.length);
        }
        if (kinds[index] != kind) {
            throw new IllegalArgumentException("kernel argument " + index + " is " + kinds[index] + ", not " + kind);
        }
    }

    /** @return the arguments as text, e.g. {@code [ptr 0x7f.., i32 1024, f32 2.0]} */
    public String describe() {
        StringJoiner j = new StringJoiner(", ", "[", "]");
        for (int i = 0; i < kinds.length; i++) {
            long off = offsets[i];
            j.add(switch (kinds[i]) {
                case POINTER -> "ptr 0x" + Long.toHexString(values.get(ValueLayout.JAVA_LONG_UNALIGNED, off));
                case I32 -> "i32 " + values.get(ValueLayout.JAVA_INT_UNALIGNED, off);
                case I64 -> "i64 " + values.get(ValueLayout.JAVA_LONG_UNALIGNED, off);
                case F32 -> "f32 " + values.get(ValueLayout.JAVA_FLOAT_UNALIGNED, off);
                case F64 -> "f64 " + values.get(ValueLayout.JAVA_DOUBLE_UNALIGNED, off);
                case BYTES -> "struct of " + sizes[i] + " bytes";
            });
        }
        return j.toString();
    }

    /** Collects arguments in kernel-signature order. */
    public static final class Builder {
        private record Arg(Kind kind, long size, long alignment, MemorySegment bytes, long bits) {
        }

        private final List<Arg> args = new ArrayList<>();

        private Builder() {
        }

        /** @param buffer a device buffer, passed as its address @return this */
        public Builder pointer(DeviceBuffer buffer) {
            return pointer(buffer.address());
        }

        /** @param tensor a CUDA tensor, passed as the address of its first element @return this */
        public Builder pointer(CudaTensor tensor) {
            return pointer(tensor.address());
        }

        /** @param address a device address (0 for a null pointer) @return this */
        public Builder pointer(long address) {
            args.add(new Arg(Kind.POINTER, 8, 8, null, address));
            return this;
        }

        /** @param value an {@code int} @return this */
        public Builder i32(int value) {
            args.add(new Arg(Kind.I32, 4, 4, null, value));
            return this;
        }

        /** @param value a {@code long long} / {@code size_t} @return this */
        public Builder i64(long value) {
            args.add(new Arg(Kind.I64, 8, 8, null, value));
            return this;
        }

        /** @param value a {@code float} @return this */
        public Builder f32(float value) {
            args.add(new Arg(Kind.F32, 4, 4, null, Float.floatToRawIntBits(value)));
            return this;
        }

        /** @param value a {@code double} @return this */
        public Builder f64(double value) {
            args.add(new Arg(Kind.F64, 8, 8, null, Double.doubleToRawLongBits(value)));
            return this;
        }

        /**
         * A struct passed by value; its bytes are copied now.
         *
         * @param value the struct's bytes
         * @param alignment its alignment (a power of two, e.g. 64 for a CUtensorMap)
         * @return this
         */
        public Builder bytes(MemorySegment value, long alignment) {
            if (alignment <= 0 || Long.bitCount(alignment) != 1) {
                throw new IllegalArgumentException("alignment must be a power of two, got " + alignment);
            }
            if (value.byteSize() == 0) {
                throw new IllegalArgumentException("a by-value kernel argument needs at least one byte");
            }
            MemorySegment copy = MemorySegment.ofArray(new byte[(int) value.byteSize()]);
            copy.copyFrom(value);
            args.add(new Arg(Kind.BYTES, value.byteSize(), alignment, copy, 0));
            return this;
        }

        /**
         * A {@code const __grid_constant__ CUtensorMap} parameter (128 bytes by value, 64-byte aligned).
         *
         * @param map the encoded descriptor
         * @return this
         */
        public Builder tensorMap(TensorMap map) {
            return bytes(map.bytes(), 64);
        }

        /**
         * Lays the values out in the arena and fills the pointer array.
         *
         * @param arena owns the memory; the args must not be used after it closes
         * @return the arguments
         */
        public KernelArgs build(Arena arena) {
            int n = args.size();
            long[] offsets = new long[n];
            long[] sizes = new long[n];
            Kind[] kinds = new Kind[n];
            long at = 0;
            long maxAlign = 8;
            for (int i = 0; i < n; i++) {
                Arg a = args.get(i);
                at = (at + a.alignment - 1) & -a.alignment;
                offsets[i] = at;
                sizes[i] = a.size;
                kinds[i] = a.kind;
                at += a.size;
                maxAlign = Math.max(maxAlign, a.alignment);
            }
            MemorySegment values = arena.allocate(Math.max(at, 8), maxAlign);
            MemorySegment pointers = arena.allocate(ValueLayout.ADDRESS, Math.max(n, 1));
            for (int i = 0; i < n; i++) {
                Arg a = args.get(i);
                long off = offsets[i];
                switch (a.kind) {
                    case POINTER, I64, F64 -> values.set(ValueLayout.JAVA_LONG_UNALIGNED, off, a.bits);
                    case I32, F32 -> values.set(ValueLayout.JAVA_INT_UNALIGNED, off, (int) a.bits);
                    case BYTES -> MemorySegment.copy(a.bytes, 0, values, off, a.size);
                }
                pointers.setAtIndex(ValueLayout.ADDRESS, i, values.asSlice(off, a.size));
            }
            return new KernelArgs(pointers, values, kinds, offsets, sizes);
        }
    }
}
