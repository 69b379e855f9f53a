package io.moeoracle.driver.opencl.ffi;

import static io.moeoracle.driver.opencl.ffi.ClTypes.INT;
import static io.moeoracle.driver.opencl.ffi.ClTypes.LONG;
import static io.moeoracle.driver.opencl.ffi.ClTypes.PTR;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/** Contexts and command queues: create, release, flush, finish. */
public final class ContextCalls {
    private static final MethodHandle CREATE_CONTEXT = OpenClLibrary.downcall("clCreateContext",
            FunctionDescriptor.of(PTR, PTR, INT, PTR, PTR, PTR, PTR));
    private static final MethodHandle RELEASE_CONTEXT = OpenClLibrary.downcall("clReleaseContext",
            FunctionDescriptor.of(INT, PTR));
    private static final MethodHandle CREATE_QUEUE = OpenClLibrary.downcall("clCreateCommandQueue",
            FunctionDescriptor.of(PTR, PTR, PTR, LONG, PTR));
    private static final MethodHandle RELEASE_QUEUE = OpenClLibrary.downcall("clReleaseCommandQueue",
            FunctionDescriptor.of(INT, PTR));
    private static final MethodHandle FLUSH = OpenClLibrary.downcall("clFlush", FunctionDescriptor.of(INT, PTR));
    private static final MethodHandle FINISH = OpenClLibrary.downcall("clFinish", FunctionDescriptor.of(INT, PTR));

    private ContextCalls() {
    }

    /**
     * @param properties NULL-terminated property list, or NULL
     * @param numDevices devices in {@code devices}
     * @param devices device handles
     * @param errcode out: cl_int
     * @return the context, NULL on failure
     */
    public static MemorySegment createContext(MemorySegment properties, int numDevices, MemorySegment devices,
                                              MemorySegment errcode) {
        try {
            return (MemorySegment) CREATE_CONTEXT.invokeExact(properties, numDevices, devices, MemorySegment.NULL,
                    MemorySegment.NULL, errcode);
        } catch (Throwable t) {
            throw OpenClLibrary.rethrow(t);
        }
    }

    /** @param context the context @return the cl_int code */
    public static int releaseContext(MemorySegment context) {
        try {
            return (int) RELEASE_CONTEXT.invokeExact(context);
        } catch (Throwable t) {
            throw OpenClLibrary.rethrow(t);
        }
    }

    /**
     * clCreateCommandQueue (OpenCL 1.x entry point, present in every ICD loader).
     *
     * @param context the context
     * @param device the device
     * @param properties CL_QUEUE_* bits
     * @param errcode out: cl_int
     * @return the queue, NULL on failure
     */
    public static MemorySegment createCommandQueue(MemorySegment context, MemorySegment device, long properties,
                                                   MemorySegment errcode) {
        try {
            return (MemorySegment) CREATE_QUEUE.invokeExact(context, device, properties, errcode);
        } catch (Throwable t) {
            throw OpenClLibrary.rethrow(t);
        }
    }

    /** @param queue the queue @return the cl_int code */
    public static int releaseCommandQueue(MemorySegment queue) {
        try {
            return (int) RELEASE_QUEUE.invokeExact(queue);
        } catch (Throwable t) {
            throw OpenClLibrary.rethrow(t);
        }
    }

    /** @param queue the queue @return the cl_int code */
    public static int flush(MemorySegment queue) {
        try {
            return (int) FLUSH.invokeExact(queue);
        } catch (Throwable t) {
            throw OpenClLibrary.rethrow(t);
        }
    }

    /** @param queue the queue @return the cl_int code */
    public static int finish(MemorySegment queue) {
        try {
            return (int) FINISH.invokeExact(queue);
        } catch (Throwable t) {
            throw OpenClLibrary.rethrow(t);
        }
    }
}
