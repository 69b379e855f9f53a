package io.moeoracle.api.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Objects;

/**
 * A tensor in host memory: a {@link MemorySegment} of exactly {@code numel * dtype.byteSize()}
 * bytes, row-major. The segment may be heap, native or memory-mapped.
 */
public final class HostTensor implements Tensor {
    private final MemorySegment data;
    private final DType dtype;
    private final long[] shape;

    private HostTensor(MemorySegment data, DType dtype, long[] shape) {
        this.data = Objects.requireNonNull(data, "data");
        this.dtype = Objects.requireNonNull(dtype, "dtype");
        this.shape = shape.clone();
        for (long d : this.shape) {
            if (d < 0) {
                throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " has a negative extent");
            }
        }
        long need = byteSize();
        if (data.byteSize() != need) {
            throw new IllegalArgumentException("segment of " + data.byteSize() + " bytes does not hold a "
                    + dtype + " tensor of shape " + Arrays.toString(shape) + " (" + need + " bytes)");
        }
    }

    /**
     * Wraps a segment.
     *
     * @param data the bytes, exactly as many as the shape needs
     * @param dtype element type
     * @param shape extents
     * @return the tensor
     * @throws IllegalArgumentException when the segment's size does not match the shape
     */
    public static HostTensor of(MemorySegment data, DType dtype, long... shape) {
        return new HostTensor(data, dtype, shape);
    }

    /**
     * Allocates a zeroed native tensor in an arena.
     *
     * @param arena owner of the memory
     * @param dtype element type
     * @param shape extents
     * @return the tensor
     */
    public static HostTensor allocate(Arena arena, DType dtype, long... shape) {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return new HostTensor(arena.allocate(Math.max(1, n * dtype.byteSize()), 64)
                .asSlice(0, n * dtype.byteSize()), dtype, shape);
    }

    /** @return the memory */
    public MemorySegment data() {
        return data;
    }

    @Override
    public DType dtype() {
        return dtype;
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    @Override
    public int rank() {
        return shape.length;
    }

    @Override
    public long dim(int i) {
        return shape[i];
    }

    /**
     * The same bytes seen with another shape of equal element count.
     *
     * @param newShape extents
     * @return a view
     */
    public HostTensor reshape(long... newShape) {
        return new HostTensor(data, dtype, newShape);
    }

    @Override
    public String toString() {
        return "HostTensor[" + dtype + " " + Arrays.toString(shape) + "]";
    }
}
