package io.moeoracle.driver.opencl.ffi;

import static io.moeoracle.driver.opencl.ffi.ClTypes.INT;
import static io.moeoracle.driver.opencl.ffi.ClTypes.LONG;
import static io.moeoracle.driver.opencl.ffi.ClTypes.PTR;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/** Buffers: create, release, and the read / write / fill / copy commands. */
public final class MemoryCalls {
    private static final MethodHandle CREATE_BUFFER = OpenClLibrary.downcall("clCreateBuffer",
            FunctionDescriptor.of(PTR, PTR, LONG, LONG, PTR, PTR));
    private static final MethodHandle RELEASE = OpenClLibrary.downcall("clReleaseMemObject",
            FunctionDescriptor.of(INT, PTR));
    private static final MethodHandle READ = OpenClLibrary.downcall("clEnqueueReadBuffer",
            FunctionDescriptor.of(INT, PTR, PTR, INT, LONG, LONG, PTR, INT, PTR, PTR));
    private static final MethodHandle WRITE = OpenClLibrary.downcall("clEnqueueWriteBuffer",
            FunctionDescriptor.of(INT, PTR, PTR, INT, LONG, LONG, PTR, INT, PTR, PTR));
    private static final MethodHandle FILL = OpenClLibrary.downcall("clEnqueueFillBuffer",
            FunctionDescriptor.of(INT, PTR, PTR, PTR, LONG, LONG, LONG, INT, PTR, PTR));
    private static final MethodHandle COPY = OpenClLibrary.downcall("clEnqueueCopyBuffer",
            FunctionDescriptor.of(INT, PTR, PTR, PTR, LONG, LONG, LONG, INT, PTR, PTR));

    private MemoryCalls() {
    }

    /**
     * @param context the context
     * @param flags CL_MEM_* bits
     * @param size bytes
     * @param hostPtr host memory for USE/COPY_HOST_PTR, else NULL
     * @param errcode out: cl_int
     * @return the buffer, NULL on failure
     */
    public static MemorySegment createBuffer(MemorySegment context, long flags, long size, MemorySegment hostPtr,
                                             MemorySegment errcode) {
        try {
            return (MemorySegment) CREATE_BUFFER.invokeExact(context, flags, size, hostPtr, errcode);
        } catch (Throwable t) {
            throw OpenClLibrary.rethrow(t);
        }
    }

    /** @param mem the buffer @return the cl_int code */
    public static int release(MemorySegment mem) {
        try {
            return (int) RELEASE.invokeExact(mem);
        } catch (Throwable t) {
            throw OpenClLibrary.rethrow(t);
        }
    }

    /**
     * @param queue the queue
     * @param buffer source buffer
     * @param blocking CL_TRUE to wait
     * @param offset byte offset in the buffer
     * @param size bytes
     * @param dst host destination
     * @param event out: the command's event, or NULL
     * @return the cl_int code
     */
    public static int read(MemorySegment queue, MemorySegment buffer, int blocking, long offset, long size,
                           MemorySegment dst, MemorySegment event) {
        try {
            return (int) READ.invokeExact(queue, buffer, blocking, offset, size, dst, 0, MemorySegment.NULL, event);
        } catch (Throwable t) {
            throw OpenClLibrary.rethrow(t);
        }
    }

    /**
     * @param queue the queue
     * @param buffer destination buffer
     * @param blocking CL_TRUE to wait
     * @param offset byte offset in the buffer
     * @param size bytes
     * @param src host source
     * @param event out: the command's event, or NULL
     * @return the cl_int code
     */
    public static int write(MemorySegment queue, MemorySegment buffer, int blocking, long offset, long size,
                            MemorySegment src, MemorySegment event) {
        try {
            return (int) WRITE.invokeExact(queue, buffer, blocking, offset, size, src, 0, MemorySegment.NULL, event);
        } catch (Throwable t) {
            throw OpenClLibrary.rethrow(t);
        }
    }

    /**
     * @param queue the queue
     * @param buffer the buffer
     * @param pattern the pattern bytes
     * @param patternSize 1, 2, 4, ... 128
     * @param offset byte offset, a multiple of patternSize
     * @param size bytes, a multiple of patternSize
     * @param event out, or NULL
     * @return the cl_int code
     */
    public static int fill(MemorySegment queue, MemorySegment buffer, MemorySegment pattern, long patternSize,
                           long offset, long size, MemorySegment event) {
        try {
            return (int) FILL.invokeExact(queue, buffer, pattern, patternSize, offset, size, 0, MemorySegment.NULL,
                    event);
        } catch (Throwable t) {
            throw OpenClLibrary.rethrow(t);
        }
    }

    /**
     * @param queue the queue
     * @param src source buffer
     * @param dst destination buffer
     * @param srcOffset byte offset in src
     * @param dstOffset byte offset in dst
     * @param size bytes
     * @param event out, or NULL
     * @return the cl_int code
     */
    public static int copy(MemorySegment queue, MemorySegment src, MemorySegment dst, long srcOffset, long dstOffset,
                           long size, MemorySegment event) {
        try {
            return (int) COPY.invokeExact(queue, src, dst, srcOffset, dstOffset, size, 0, MemorySegment.NULL, event);
        } catch (Throwable t) {
            throw OpenClLibrary.rethrow(t);
        }
    }
}
