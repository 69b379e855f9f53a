package io.moeoracle.api.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Objects;
import java.util.Optional;

/**
 * A tensor in host memory: a {@link MemorySegment} of exactly {@code numel * dtype.byteSize()}
 * bytes, row-major. The segment may be heap, native or memory-mapped; a mapped tensor carries a
 * {@link Backing} that {@link #checkBacking()} asks whether the file is still whole.
 */
public final class HostTensor implements Tensor {
    private final MemorySegment data;
    private final DType dtype;
    private final long[] shape;
    private final Backing backing; // null: memory that cannot shrink under us

    /**
     * What a tensor's bytes live in when that can change under them: a memory-mapped file that
     * another process may truncate. Reading a truncated mapping from native code kills the JVM
     * with SIGBUS, so code that hands the bytes to native code checks first.
     */
    @FunctionalInterface
    public interface Backing {
        /**
         * Checks that every byte of the mapping is still backed by the file.
         *
         * @throws RuntimeException naming the file and what changed, when it is not
         */
        void check();
    }

    private HostTensor(MemorySegment data, DType dtype, long[] shape) {
        this(data, dtype, shape, null);
    }

    private HostTensor(MemorySegment data, DType dtype, long[] shape, Backing backing) {
        this.backing = backing;
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
     * Wraps a segment of a memory-mapped file.
     *
     * @param data the mapped bytes, exactly as many as the shape needs
     * @param dtype element type
     * @param backing checks that the file still holds every mapped byte
     * @param shape extents
     * @return the tensor
     * @throws IllegalArgumentException when the segment's size does not match the shape
     */
    public static HostTensor mapped(MemorySegment data, DType dtype, Backing backing, long... shape) {
        return new HostTensor(data, dtype, shape, Objects.requireNonNull(backing, "backing"));
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
        return new HostTensor(data, dtype, newShape, backing);
    }

    /** @return the mapped file's check, for a tensor made by {@link #mapped} */
    public Optional<Backing> backing() {
        return Optional.ofNullable(backing);
    }

    /**
     * Checks that the bytes can still be read (a no-op unless the tensor is {@link #mapped}).
     * Call it right before native code reads {@link #data()}.
     *
     * @throws RuntimeException from the {@link Backing}, naming the file, when it shrank
     */
    public void checkBacking() {
        if (backing != null) {
            backing.check();
        }
    }

    @Override
    public String toString() {
        return "HostTensor[" + dtype + " " + Arrays.toString(shape) + "]";
    }
}
