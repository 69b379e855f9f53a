package io.moeoracle.driver.opencl;

import io.moeoracle.driver.opencl.ffi.ContextCalls;
import io.moeoracle.driver.opencl.ffi.MemoryCalls;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** An OpenCL context on one device; creates queues, buffers and programs. Close it last. */
public final class ClContext implements AutoCloseable {
    /** CL_MEM_READ_WRITE. */
    public static final long MEM_READ_WRITE = 1L;

    private final ClDevice device;
    private final MemorySegment handle;
    private volatile boolean closed;

    private ClContext(ClDevice device, MemorySegment handle) {
        this.device = device;
        this.handle = handle;
    }

    /**
     * @param device the device
     * @return a context holding only that device
     */
    public static ClContext create(ClDevice device) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment devices = arena.allocate(ValueLayout.ADDRESS);
            devices.set(ValueLayout.ADDRESS, 0, device.handle());
            MemorySegment err = arena.allocate(ValueLayout.JAVA_INT);
            MemorySegment ctx = ContextCalls.createContext(MemorySegment.NULL, 1, devices, err);
            OpenClException.check(err.get(ValueLayout.JAVA_INT, 0), "clCreateContext(device=" + device.id() + ")");
            return new ClContext(device, ctx);
        }
    }

    /** @return the device */
    public ClDevice device() {
        return device;
    }

    MemorySegment handle() {
        ensureOpen();
        return handle;
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("the OpenCL context on " + device.id() + " is closed");
        }
    }

    /** @return an in-order queue with profiling enabled */
    public ClQueue createQueue() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment err = arena.allocate(ValueLayout.JAVA_INT);
            MemorySegment q = ContextCalls.createCommandQueue(handle(), device.handle(), Cl.QUEUE_PROFILING_ENABLE, err);
            OpenClException.check(err.get(ValueLayout.JAVA_INT, 0),
                    "clCreateCommandQueue(device=" + device.id() + ", properties=PROFILING_ENABLE)");
            return new ClQueue(this, q);
        }
    }

    /**
     * @param bytes the size, at least 1
     * @return a read-write device buffer (contents undefined)
     */
    public ClBuffer createBuffer(long bytes) {
        if (bytes <= 0) {
            throw new IllegalArgumentException("a buffer needs at least one byte, asked for " + bytes);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment err = arena.allocate(ValueLayout.JAVA_INT);
            MemorySegment mem = MemoryCalls.createBuffer(handle(), MEM_READ_WRITE, bytes, MemorySegment.NULL, err);
            int rc = err.get(ValueLayout.JAVA_INT, 0);
            if (rc != 0) {
                throw new OpenClException("clCreateBuffer(device=" + device.id() + ", flags=READ_WRITE, size=" + bytes
                        + ")", rc, "the device has " + device.globalMemBytes() + " bytes of global memory");
            }
            return new ClBuffer(device.id(), mem, bytes);
        }
    }

    /**
     * Builds a program for this context's device, through the on-disk binary cache
     * ({@link ProgramCache#fromSystemProperties()}).
     *
     * @param source OpenCL C source
     * @param options build options, e.g. {@code -cl-std=CL1.2 -DFOO=1}
     * @return the built program
     * @throws ProgramBuildException with the build log when the compiler rejects the source
     */
    public ClProgram buildProgram(String source, String options) {
        return ClProgram.build(this, source, options, ProgramCache.fromSystemProperties());
    }

    /**
     * @param source OpenCL C source
     * @param options build options
     * @param cache the binary cache to use
     * @return the built program
     */
    public ClProgram buildProgram(String source, String options, ProgramCache cache) {
        return ClProgram.build(this, source, options, cache);
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            OpenClException.check(ContextCalls.releaseContext(handle), "clReleaseContext(device=" + device.id() + ")");
        }
    }
}
