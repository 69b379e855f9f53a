package io.moeoracle.driver.opencl.ffi;

import static io.moeoracle.driver.opencl.ffi.ClTypes.INT;
import static io.moeoracle.driver.opencl.ffi.ClTypes.LONG;
import static io.moeoracle.driver.opencl.ffi.ClTypes.PTR;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/** clGetPlatformIDs, clGetPlatformInfo, clGetDeviceIDs, clGetDeviceInfo. Raw: return the cl_int code. */
public final class PlatformCalls {
    private static final MethodHandle GET_PLATFORM_IDS = OpenClLibrary.downcall("clGetPlatformIDs",
            FunctionDescriptor.of(INT, INT, PTR, PTR));
    private static final MethodHandle GET_PLATFORM_INFO = OpenClLibrary.downcall("clGetPlatformInfo",
            FunctionDescriptor.of(INT, PTR, INT, LONG, PTR, PTR));
    private static final MethodHandle GET_DEVICE_IDS = OpenClLibrary.downcall("clGetDeviceIDs",
            FunctionDescriptor.of(INT, PTR, LONG, INT, PTR, PTR));
    private static final MethodHandle GET_DEVICE_INFO = OpenClLibrary.downcall("clGetDeviceInfo",
            FunctionDescriptor.of(INT, PTR, INT, LONG, PTR, PTR));

    private PlatformCalls() {
    }

    /**
     * @param numEntries capacity of {@code platforms}
     * @param platforms out: handles, or NULL
     * @param numPlatforms out: count (cl_uint), or NULL
     * @return the cl_int code
     */
    public static int getPlatformIds(int numEntries, MemorySegment platforms, MemorySegment numPlatforms) {
        try {
            return (int) GET_PLATFORM_IDS.invokeExact(numEntries, platforms, numPlatforms);
        } catch (Throwable t) {
            throw OpenClLibrary.rethrow(t);
        }
    }

    /**
     * @param platform the platform
     * @param param a CL_PLATFORM_* query
     * @param size capacity of {@code value}
     * @param value out buffer, or NULL
     * @param sizeRet out: bytes needed (size_t), or NULL
     * @return the cl_int code
     */
    public static int getPlatformInfo(MemorySegment platform, int param, long size, MemorySegment value,
                                      MemorySegment sizeRet) {
        try {
            return (int) GET_PLATFORM_INFO.invokeExact(platform, param, size, value, sizeRet);
        } catch (Throwable t) {
            throw OpenClLibrary.rethrow(t);
        }
    }

    /**
     * @param platform the platform
     * @param deviceType CL_DEVICE_TYPE_* bits
     * @param numEntries capacity of {@code devices}
     * @param devices out: handles, or NULL
     * @param numDevices out: count, or NULL
     * @return the cl_int code
     */
    public static int getDeviceIds(MemorySegment platform, long deviceType, int numEntries, MemorySegment devices,
                                   MemorySegment numDevices) {
        try {
            return (int) GET_DEVICE_IDS.invokeExact(platform, deviceType, numEntries, devices, numDevices);
        } catch (Throwable t) {
            throw OpenClLibrary.rethrow(t);
        }
    }

    /**
     * @param device the device
     * @param param a CL_DEVICE_* query
     * @param size capacity of {@code value}
     * @param value out buffer, or NULL
     * @param sizeRet out: bytes needed, or NULL
     * @return the cl_int code
     */
    public static int getDeviceInfo(MemorySegment device, int param, long size, MemorySegment value,
                                    MemorySegment sizeRet) {
        try {
            return (int) GET_DEVICE_INFO.invokeExact(device, param, size, value, sizeRet);
        } catch (Throwable t) {
            throw OpenClLibrary.rethrow(t);
        }
    }
}
