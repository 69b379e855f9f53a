package io.moeoracle.driver.opencl.ffi;

import static io.moeoracle.driver.opencl.ffi.ClTypes.INT;
import static io.moeoracle.driver.opencl.ffi.ClTypes.LONG;
import static io.moeoracle.driver.opencl.ffi.ClTypes.PTR;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/** Programs: create from source or binary, build, query (build log, binaries), release. */
public final class ProgramCalls {
    private static final MethodHandle CREATE_WITH_SOURCE = OpenClLibrary.downcall("clCreateProgramWithSource",
            FunctionDescriptor.of(PTR, PTR, INT, PTR, PTR, PTR));
    private static final MethodHandle CREATE_WITH_BINARY = OpenClLibrary.downcall("clCreateProgramWithBinary",
            FunctionDescriptor.of(PTR, PTR, INT, PTR, PTR, PTR, PTR, PTR));
    private static final MethodHandle BUILD = OpenClLibrary.downcall("clBuildProgram",
            FunctionDescriptor.of(INT, PTR, INT, PTR, PTR, PTR, PTR));
    private static final MethodHandle GET_BUILD_INFO = OpenClLibrary.downcall("clGetProgramBuildInfo",
            FunctionDescriptor.of(INT, PTR, PTR, INT, LONG, PTR, PTR));
    private static final MethodHandle GET_INFO = OpenClLibrary.downcall("clGetProgramInfo",
            FunctionDescriptor.of(INT, PTR, INT, LONG, PTR, PTR));
    private static final MethodHandle RELEASE = OpenClLibrary.downcall("clReleaseProgram",
            FunctionDescriptor.of(INT, PTR));

    private ProgramCalls() {
    }

    /**
     * @param context the context
     * @param count number of strings
     * @param strings char*[count]
     * @param lengths size_t[count], or NULL for NUL-terminated strings
     * @param errcode out: cl_int
     * @return the program, NULL on failure
     */
    public static MemorySegment createWithSource(MemorySegment context, int count, MemorySegment strings,
                                                 MemorySegment lengths, MemorySegment errcode) {
        try {
            return (MemorySegment) CREATE_WITH_SOURCE.invokeExact(context, count, strings, lengths, errcode);
        } catch (Throwable t) {
            throw OpenClLibrary.rethrow(t);
        }
    }

    /**
     * @param context the context
     * @param numDevices devices
     * @param devices device handles
     * @param lengths size_t per device
     * @param binaries unsigned char* per device
     * @param binaryStatus out: cl_int per device, or NULL
     * @param errcode out: cl_int
     * @return the program, NULL on failure
     */
    public static MemorySegment createWithBinary(MemorySegment context, int numDevices, MemorySegment devices,
                                                 MemorySegment lengths, MemorySegment binaries,
                                                 MemorySegment binaryStatus, MemorySegment errcode) {
        try {
            return (MemorySegment) CREATE_WITH_BINARY.invokeExact(context, numDevices, devices, lengths, binaries,
                    binaryStatus, errcode);
        } catch (Throwable t) {
            throw OpenClLibrary.rethrow(t);
        }
    }

    /**
     * Builds synchronously (no callback).
     *
     * @param program the program
     * @param numDevices devices
     * @param devices device handles
     * @param options NUL-terminated build options
     * @return the cl_int code
     */
    public static int build(MemorySegment program, int numDevices, MemorySegment devices, MemorySegment options) {
        try {
            return (int) BUILD.invokeExact(program, numDevices, devices, options, MemorySegment.NULL,
                    MemorySegment.NULL);
        } catch (Throwable t) {
            throw OpenClLibrary.rethrow(t);
        }
    }

    /**
     * @param program the program
     * @param device the device
     * @param param CL_PROGRAM_BUILD_*
     * @param size capacity of value
     * @param value out, or NULL
     * @param sizeRet out: bytes needed, or NULL
     * @return the cl_int code
     */
    public static int getBuildInfo(MemorySegment program, MemorySegment device, int param, long size,
                                   MemorySegment value, MemorySegment sizeRet) {
        try {
            return (int) GET_BUILD_INFO.invokeExact(program, device, param, size, value, sizeRet);
        } catch (Throwable t) {
            throw OpenClLibrary.rethrow(t);
        }
    }

    /**
     * @param program the program
     * @param param CL_PROGRAM_*
     * @param size capacity of value
     * @param value out, or NULL
     * @param sizeRet out: bytes needed, or NULL
     * @return the cl_int code
     */
    public static int getInfo(MemorySegment program, int param, long size, MemorySegment value,
                              MemorySegment sizeRet) {
        try {
            return (int) GET_INFO.invokeExact(program, param, size, value, sizeRet);
        } catch (Throwable t) {
            throw OpenClLibrary.rethrow(t);
        }
    }

    /** @param program the program @return the cl_int code */
    public static int release(MemorySegment program) {
        try {
            return (int) RELEASE.invokeExact(program);
        } catch (Throwable t) {
            throw OpenClLibrary.rethrow(t);
        }
    }
}
