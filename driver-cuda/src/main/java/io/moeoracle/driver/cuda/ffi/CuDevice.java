package io.moeoracle.driver.cuda.ffi;

import static io.moeoracle.driver.cuda.ffi.CuTypes.INT;
import static io.moeoracle.driver.cuda.ffi.CuTypes.PTR;
import static io.moeoracle.driver.cuda.ffi.CuTypes.result;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/** Devices: {@code cuDeviceGetCount}, {@code cuDeviceGet}, {@code cuDeviceGetName}, {@code cuDeviceGetAttribute}, {@code cuDeviceTotalMem_v2}, {@code cuDeviceGetUuid}. */
public final class CuDevice {
    private static final MethodHandle GET_COUNT = LibCuda.LIBRARY.downcall(result(PTR), "cuDeviceGetCount");
    private static final MethodHandle GET = LibCuda.LIBRARY.downcall(result(PTR, INT), "cuDeviceGet");
    private static final MethodHandle GET_NAME = LibCuda.LIBRARY.downcall(result(PTR, INT, INT), "cuDeviceGetName");
    private static final MethodHandle GET_ATTRIBUTE = LibCuda.LIBRARY.downcall(result(PTR, INT, INT), "cuDeviceGetAttribute");
    private static final MethodHandle TOTAL_MEM = LibCuda.LIBRARY.downcall(result(PTR, INT), "cuDeviceTotalMem_v2");
    private static final MethodHandle GET_UUID = LibCuda.LIBRARY.downcall(result(PTR, INT), "cuDeviceGetUuid");

    private CuDevice() {
    }

    /** @param count out int @return CUresult */
    public static int cuDeviceGetCount(MemorySegment count) {
        try {
            return (int) GET_COUNT.invokeExact(count);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** @param device out CUdevice @param ordinal ordinal @return CUresult */
    public static int cuDeviceGet(MemorySegment device, int ordinal) {
        try {
            return (int) GET.invokeExact(device, ordinal);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** @param name out chars @param len capacity @param device CUdevice @return CUresult */
    public static int cuDeviceGetName(MemorySegment name, int len, int device) {
        try {
            return (int) GET_NAME.invokeExact(name, len, device);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** @param value out int @param attribute CUdevice_attribute @param device CUdevice @return CUresult */
    public static int cuDeviceGetAttribute(MemorySegment value, int attribute, int device) {
        try {
            return (int) GET_ATTRIBUTE.invokeExact(value, attribute, device);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** @param bytes out size_t @param device CUdevice @return CUresult */
    public static int cuDeviceTotalMem(MemorySegment bytes, int device) {
        try {
            return (int) TOTAL_MEM.invokeExact(bytes, device);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** @param uuid out CUuuid (16 bytes) @param device CUdevice @return CUresult */
    public static int cuDeviceGetUuid(MemorySegment uuid, int device) {
        try {
            return (int) GET_UUID.invokeExact(uuid, device);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }
}
