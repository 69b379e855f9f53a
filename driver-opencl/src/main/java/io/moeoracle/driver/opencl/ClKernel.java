package io.moeoracle.driver.opencl;

import io.moeoracle.driver.opencl.ffi.KernelCalls;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** A kernel of a built program; set its arguments, then launch it on a {@link ClQueue}. Not thread-safe. */
public final class ClKernel implements AutoCloseable {
    private final String name;
    private final MemorySegment handle;
    private final ClDevice device;
    // argument values are copied by clSetKernelArg before it returns: one reusable slot suffices
    private final Arena argArena = Arena.ofShared();
    private final MemorySegment argSlot = argArena.allocate(16, 16);
    private boolean closed;

    ClKernel(String name, MemorySegment handle, ClDevice device) {
        this.name = name;
        this.handle = handle;
        this.device = device;
    }

    /** @return the kernel's name */
    public String name() {
        return name;
    }

    MemorySegment handle() {
        if (closed) {
            throw new IllegalStateException("kernel " + name + " is closed");
        }
        return handle;
    }

    private ClKernel set(int index, long size, MemorySegment value, String what) {
        int rc = KernelCalls.setArg(handle(), index, size, value);
        if (rc != 0) {
            throw new OpenClException("clSetKernelArg(kernel=" + name + ", index=" + index + ", size=" + size
                    + ", value=" + what + ")", rc, "");
        }
        return this;
    }

    /**
     * @param index argument index
     * @param buffer a buffer argument
     * @return this
     */
    public ClKernel arg(int index, ClBuffer buffer) {
        argSlot.set(ValueLayout.ADDRESS, 0, buffer.handle());
        return set(index, ValueLayout.ADDRESS.byteSize(), argSlot, buffer.toString());
    }

    /**
     * @param index argument index
     * @param value an {@code int} / {@code uint} argument
     * @return this
     */
    public ClKernel arg(int index, int value) {
        argSlot.set(ValueLayout.JAVA_INT, 0, value);
        return set(index, 4, argSlot, "int " + value);
    }

    /**
     * @param index argument index
     * @param value a {@code long} / {@code ulong} argument
     * @return this
     */
    public ClKernel arg(int index, long value) {
        argSlot.set(ValueLayout.JAVA_LONG, 0, value);
        return set(index, 8, argSlot, "long " + value);
    }

    /**
     * @param index argument index
     * @param value a {@code float} argument
     * @return this
     */
    public ClKernel arg(int index, float value) {
        argSlot.set(ValueLayout.JAVA_FLOAT, 0, value);
        return set(index, 4, argSlot, "float " + value);
    }

    /**
     * @param index argument index
     * @param bytes size of a {@code __local} buffer argument
     * @return this
     */
    public ClKernel localArg(int index, long bytes) {
        return set(index, bytes, MemorySegment.NULL, "__local " + bytes + " bytes");
    }

    /** @return CL_KERNEL_WORK_GROUP_SIZE on the device: the largest local size this kernel can launch with */
    public long maxWorkGroupSize() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment v = arena.allocate(ValueLayout.JAVA_LONG);
            OpenClException.check(KernelCalls.getWorkGroupInfo(handle(), device.handle(), Cl.KERNEL_WORK_GROUP_SIZE, 8,
                    v, MemorySegment.NULL), "clGetKernelWorkGroupInfo(kernel=" + name + ", CL_KERNEL_WORK_GROUP_SIZE)");
            return v.get(ValueLayout.JAVA_LONG, 0);
        }
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            argArena.close();
            OpenClException.check(KernelCalls.release(handle), "clReleaseKernel(kernel=" + name + ")");
        }
    }
}
