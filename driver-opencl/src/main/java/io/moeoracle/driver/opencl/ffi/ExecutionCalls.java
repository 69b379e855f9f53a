package io.moeoracle.driver.opencl.ffi;

import static io.moeoracle.driver.opencl.ffi.ClTypes.INT;
import static io.moeoracle.driver.opencl.ffi.ClTypes.LONG;
import static io.moeoracle.driver.opencl.ffi.ClTypes.PTR;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/** Kernel launches and events: clEnqueueNDRangeKernel, clWaitForEvents, profiling, release. */
public final class ExecutionCalls {
    private static final MethodHandle ENQUEUE_ND_RANGE = OpenClLibrary.downcall("clEnqueueNDRangeKernel",
            FunctionDescriptor.of(INT, PTR, PTR, INT, PTR, PTR, PTR, INT, PTR, PTR));
    private static final MethodHandle WAIT_FOR_EVENTS = OpenClLibrary.downcall("clWaitForEvents",
            FunctionDescriptor.of(INT, INT, PTR));
    private static final MethodHandle GET_PROFILING_INFO = OpenClLibrary.downcall("clGetEventProfilingInfo",
            FunctionDescriptor.of(INT, PTR, INT, LONG, PTR, PTR));
    private static final MethodHandle RELEASE_EVENT = OpenClLibrary.downcall("clReleaseEvent",
            FunctionDescriptor.of(INT, PTR));

    private ExecutionCalls() {
    }

    /**
     * @param queue the queue
     * @param kernel the kernel, arguments set
     * @param workDim 1 to 3
     * @param globalSize size_t[workDim]
     * @param localSize size_t[workDim], or NULL to let the driver choose
     * @param event out: the launch's event, or NULL
     * @return the cl_int code
     */
    public static int enqueueNdRange(MemorySegment queue, MemorySegment kernel, int workDim, MemorySegment globalSize,
                                     MemorySegment localSize, MemorySegment event) {
        try {
            return (int) ENQUEUE_ND_RANGE.invokeExact(queue, kernel, workDim, MemorySegment.NULL, globalSize,
                    localSize, 0, MemorySegment.NULL, event);
        } catch (Throwable t) {
            throw OpenClLibrary.rethrow(t);
        }
    }

    /**
     * @param count events
     * @param events cl_event[count]
     * @return the cl_int code
     */
    public static int waitForEvents(int count, MemorySegment events) {
        try {
            return (int) WAIT_FOR_EVENTS.invokeExact(count, events);
        } catch (Throwable t) {
            throw OpenClLibrary.rethrow(t);
        }
    }

    /**
     * @param event the event
     * @param param CL_PROFILING_COMMAND_*
     * @param size 8
     * @param value out: cl_ulong nanoseconds
     * @param sizeRet out, or NULL
     * @return the cl_int code
     */
    public static int getProfilingInfo(MemorySegment event, int param, long size, MemorySegment value,
                                       MemorySegment sizeRet) {
        try {
            return (int) GET_PROFILING_INFO.invokeExact(event, param, size, value, sizeRet);
        } catch (Throwable t) {
            throw OpenClLibrary.rethrow(t);
        }
    }

    /** @param event the event @return the cl_int code */
    public static int releaseEvent(MemorySegment event) {
        try {
            return (int) RELEASE_EVENT.invokeExact(event);
        } catch (Throwable t) {
            throw OpenClLibrary.rethrow(t);
        }
    }
}
