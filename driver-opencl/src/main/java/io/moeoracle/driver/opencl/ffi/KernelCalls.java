package io.moeoracle.driver.opencl.ffi;

import static io.moeoracle.driver.opencl.ffi.ClTypes.INT;
import static io.moeoracle.driver.opencl.ffi.ClTypes.LONG;
import static io.moeoracle.driver.opencl.ffi.ClTypes.PTR;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/** Kernels: create, set arguments, query work-group limits, release. */
public final class KernelCalls {
    private static final MethodHandle CREATE = OpenClLibrary.downcall("clCreateKernel",
            FunctionDescriptor.of(PTR, PTR, PTR, PTR));
    private static final MethodHandle SET_ARG = OpenClLibrary.downcall("clSetKernelArg",
            FunctionDescriptor.of(INT, PTR, INT, LONG, PTR));
    private static final MethodHandle GET_WORK_GROUP_INFO = OpenClLibrary.downcall("clGetKernelWorkGroupInfo",
            FunctionDescriptor.of(INT, PTR, PTR, INT, LONG, PTR, PTR));
    private static final MethodHandle RELEASE = OpenClLibrary.downcall("clReleaseKernel",
            FunctionDescriptor.of(INT, PTR));

    private KernelCalls() {
    }

    /**
     * @param program a built program
     * @param name NUL-terminated kernel name
     * @param errcode out: cl_int
     * @return the kernel, NULL on failure
     */
    public static MemorySegment create(MemorySegment program, MemorySegment name, MemorySegment errcode) {
        try {
            return (MemorySegment) CREATE.invokeExact(program, name, errcode);
        } catch (Throwable t) {
            throw OpenClLibrary.rethrow(t);
        }
    }

    /**
     * @param kernel the kernel
     * @param index argument index
     * @param size bytes of the value (for a __local argument: bytes to reserve)
     * @param value the value's bytes, NULL for a __local argument
     * @return the cl_int code
     */
    public static int setArg(MemorySegment kernel, int index, long size, MemorySegment value) {
        try {
            return (int) SET_ARG.invokeExact(kernel, index, size, value);
        } catch (Throwable t) {
            throw OpenClLibrary.rethrow(t);
        }
    }

    /**
     * @param kernel the kernel
     * @param device the device
     * @param param CL_KERNEL_*
     * @param size capacity of value
     * @param value out
     * @param sizeRet out, or NULL
     * @return the cl_int code
     */
    public static int getWorkGroupInfo(MemorySegment kernel, MemorySegment device, int param, long size,
                                       MemorySegment value, MemorySegment sizeRet) {
        try {
            return (int) GET_WORK_GROUP_INFO.invokeExact(kernel, device, param, size, value, sizeRet);
        } catch (Throwable t) {
            throw OpenClLibrary.rethrow(t);
        }
    }

    /** @param kernel the kernel @return the cl_int code */
    public static int release(MemorySegment kernel) {
        try {
            return (int) RELEASE.invokeExact(kernel);
        } catch (Throwable t) {
            throw OpenClLibrary.rethrow(t);
        }
    }
}
