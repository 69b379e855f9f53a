package io.moeoracle.driver.cuda;

import io.moeoracle.api.tensor.DType;
import io.moeoracle.api.tensor.DeviceTensor;
import io.moeoracle.api.tensor.HostTensor;
import java.util.Arrays;

/**
 * A {@link DeviceTensor} in CUDA device memory: a dtype and shape over a {@link DeviceBuffer}.
 * Shared by every CUDA backend so that tensors from one can be handed to another. Copies check
 * dtype and element count before the driver is called. The context must be current on the
 * calling thread.
 */
public final class CudaTensor implements DeviceTensor {
    private final DeviceBuffer buffer;
    private final DType dtype;
    private final long[] shape;
    private final DeviceBuffer allocation; // freed on close; null for a view of someone else's buffer

    private CudaTensor(DeviceBuffer buffer, DType dtype, long[] shape, DeviceBuffer allocation) {
        this.buffer = buffer;
        this.dtype = dtype;
        this.shape = shape.clone();
        this.allocation = allocation;
    }

    /**
     * Allocates a tensor (contents undefined).
     *
     * @param context the context
     * @param dtype element type
     * @param shape extents, none negative
     * @return the tensor, owning its memory
     */
    public static CudaTensor allocate(CudaContext context, DType dtype, long... shape) {
        long bytes = bytesOf(dtype, shape);
        DeviceBuffer memory = context.allocate(Math.max(1, bytes)); // the driver refuses 0-byte allocations
        return new CudaTensor(bytes == memory.byteSize() ? memory : memory.slice(0, bytes), dtype, shape, memory);
    }

    /**
     * Views part of an existing buffer as a tensor; closing the tensor leaves the buffer alone.
     *
     * @param buffer device memory, at least as large as the tensor
     * @param dtype element type
     * @param shape extents
     * @return the tensor
     */
    public static CudaTensor wrap(DeviceBuffer buffer, DType dtype, long... shape) {
        long bytes = bytesOf(dtype, shape);
        if (buffer.byteSize() < bytes) {
            throw new IllegalArgumentException("a " + dtype + " tensor of shape " + Arrays.toString(shape) + " needs "
                    + bytes + " bytes, the buffer has " + buffer.byteSize());
        }
        return new CudaTensor(buffer.slice(0, bytes), dtype, shape, null);
    }

    private static long bytesOf(DType dtype, long[] shape) {
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " has a negative extent");
            }
            n = Math.multiplyExact(n, d);
        }
        return Math.multiplyExact(n, dtype.byteSize());
    }

    /** @return the device memory (exactly {@link #byteSize()} bytes) */
    public DeviceBuffer buffer() {
        return buffer;
    }

    /** @return the device address of the first element */
    public long address() {
        return buffer.address();
    }

    @Override
    public String deviceId() {
        return buffer.context().device().id();
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

    @Override
    public void copyFrom(HostTensor src) {
        checkSame(src, "copyFrom");
        buffer.copyFromHost(src.data());
    }

    @Override
    public void copyTo(HostTensor dst) {
        checkSame(dst, "copyTo");
        buffer.copyToHost(dst.data());
    }

    /**
     * Stream-ordered copy in; the host tensor must be native memory that lives until the copy is done.
     *
     * @param src source
     * @param stream the stream
     */
    public void copyFromAsync(HostTensor src, CudaStream stream) {
        checkSame(src, "copyFromAsync");
        buffer.copyFromHostAsync(src.data(), stream);
    }

    /**
     * Stream-ordered copy out; the host tensor must be native memory that lives until the copy is done.
     *
     * @param dst destination
     * @param stream the stream
     */
    public void copyToAsync(HostTensor dst, CudaStream stream) {
        checkSame(dst, "copyToAsync");
        buffer.copyToHostAsync(dst.data(), stream);
    }

    private void checkSame(HostTensor host, String what) {
        if (host.dtype() != dtype || host.numel() != numel()) {
            throw new IllegalArgumentException(what + ": host tensor " + host.dtype() + " " + host.shapeString()
                    + " does not match device tensor " + dtype + " " + shapeString() + " (same dtype and element count needed)");
        }
    }

    /** Frees the memory if this tensor allocated it; idempotent. */
    @Override
    public void close() {
        if (allocation != null) {
            allocation.close();
        }
    }

    @Override
    public String toString() {
        return "CudaTensor[" + deviceId() + ", " + dtype + " " + shapeString() + "]";
    }
}
