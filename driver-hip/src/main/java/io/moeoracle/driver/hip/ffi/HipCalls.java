package io.moeoracle.driver.hip.ffi;

import static io.moeoracle.driver.hip.ffi.HipTypes.INT;
import static io.moeoracle.driver.hip.ffi.HipTypes.LONG;
import static io.moeoracle.driver.hip.ffi.HipTypes.PTR;
import static io.moeoracle.driver.hip.ffi.HipTypes.result;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * The HIP runtime functions this facade calls, one {@code static final} downcall handle each, called
 * with {@code invokeExact}; each returns the {@code hipError_t}. Signatures follow
 * {@code hip_runtime_api.h} (ROCm 6/7); {@code hipGetDeviceProperties} binds the R0600 symbol where the
 * runtime has it. One class for the whole (small) API: the facade classes group them by area.
 */
public final class HipCalls {
    // The handles, grouped in holder classes that are initialized (and their functions linked) on first use:
    // a probe links the 8 of its group, not all 35 (in a fresh JVM each new C signature costs 2-3 ms to link,
    // BENCHMARKS.md "cold discovery")

    /** Error text, linked only when a call fails. */
    private static final class Errors {
        static final MethodHandle HIP_GET_ERROR_NAME = LibHip.LIBRARY.downcall(FunctionDescriptor.of(PTR, INT),
                "hipGetErrorName");
        static final MethodHandle HIP_GET_ERROR_STRING = LibHip.LIBRARY.downcall(FunctionDescriptor.of(PTR, INT),
                "hipGetErrorString");
    }

    /** What the device probe calls: init, versions, count and device properties. */
    private static final class Probe {
        static final MethodHandle HIP_INIT = LibHip.LIBRARY.downcall(result(INT), "hipInit");
        static final MethodHandle HIP_RUNTIME_GET_VERSION = LibHip.LIBRARY.downcall(result(PTR), "hipRuntimeGetVersion");
        static final MethodHandle HIP_DRIVER_GET_VERSION = LibHip.LIBRARY.downcall(result(PTR), "hipDriverGetVersion");
        static final MethodHandle HIP_GET_DEVICE_COUNT = LibHip.LIBRARY.downcall(result(PTR), "hipGetDeviceCount");
        static final MethodHandle HIP_SET_DEVICE = LibHip.LIBRARY.downcall(result(INT), "hipSetDevice");
        static final MethodHandle HIP_DEVICE_GET_NAME = LibHip.LIBRARY.downcall(result(PTR, INT, INT), "hipDeviceGetName");
        static final MethodHandle HIP_DEVICE_TOTAL_MEM = LibHip.LIBRARY.downcall(result(PTR, INT), "hipDeviceTotalMem");
        static final MethodHandle HIP_GET_DEVICE_PROPERTIES = LibHip.LIBRARY.downcall(result(PTR, INT), "hipGetDevicePropertiesR0600", "hipGetDeviceProperties");
    }

    /** Code objects and launches. */
    private static final class Modules {
        static final MethodHandle HIP_DEVICE_SYNCHRONIZE = LibHip.LIBRARY.downcall(result(), "hipDeviceSynchronize");
        static final MethodHandle HIP_MODULE_LOAD_DATA = LibHip.LIBRARY.downcall(result(PTR, PTR), "hipModuleLoadData");
        static final MethodHandle HIP_MODULE_UNLOAD = LibHip.LIBRARY.downcall(result(PTR), "hipModuleUnload");
        static final MethodHandle HIP_MODULE_GET_FUNCTION = LibHip.LIBRARY.downcall(result(PTR, PTR, PTR), "hipModuleGetFunction");
        static final MethodHandle HIP_MODULE_LAUNCH_KERNEL = LibHip.LIBRARY.downcall(result(PTR, INT, INT, INT, INT, INT, INT, INT, PTR, PTR, PTR), "hipModuleLaunchKernel");
    }

    /** Device memory. */
    private static final class Memory {
        static final MethodHandle HIP_MALLOC = LibHip.LIBRARY.downcall(result(PTR, LONG), "hipMalloc");
        static final MethodHandle HIP_FREE = LibHip.LIBRARY.downcall(result(PTR), "hipFree");
        static final MethodHandle HIP_MEMCPY = LibHip.LIBRARY.downcall(result(PTR, PTR, LONG, INT), "hipMemcpy");
        static final MethodHandle HIP_MEMCPY_ASYNC = LibHip.LIBRARY.downcall(result(PTR, PTR, LONG, INT, PTR), "hipMemcpyAsync");
        static final MethodHandle HIP_MEMSET = LibHip.LIBRARY.downcall(result(PTR, INT, LONG), "hipMemset");
        static final MethodHandle HIP_MEMSET_ASYNC = LibHip.LIBRARY.downcall(result(PTR, INT, LONG, PTR), "hipMemsetAsync");
    }

    /** Streams and events. */
    private static final class Streams {
        static final MethodHandle HIP_STREAM_CREATE = LibHip.LIBRARY.downcall(result(PTR), "hipStreamCreate");
        static final MethodHandle HIP_STREAM_DESTROY = LibHip.LIBRARY.downcall(result(PTR), "hipStreamDestroy");
        static final MethodHandle HIP_STREAM_SYNCHRONIZE = LibHip.LIBRARY.downcall(result(PTR), "hipStreamSynchronize");
        static final MethodHandle HIP_EVENT_CREATE = LibHip.LIBRARY.downcall(result(PTR), "hipEventCreate");
        static final MethodHandle HIP_EVENT_DESTROY = LibHip.LIBRARY.downcall(result(PTR), "hipEventDestroy");
        static final MethodHandle HIP_EVENT_RECORD = LibHip.LIBRARY.downcall(result(PTR, PTR), "hipEventRecord");
        static final MethodHandle HIP_EVENT_SYNCHRONIZE = LibHip.LIBRARY.downcall(result(PTR), "hipEventSynchronize");
        static final MethodHandle HIP_EVENT_ELAPSED_TIME = LibHip.LIBRARY.downcall(result(PTR, PTR, PTR), "hipEventElapsedTime");
    }

    /** Stream capture and graphs. */
    private static final class Graphs {
        static final MethodHandle HIP_STREAM_BEGIN_CAPTURE = LibHip.LIBRARY.downcall(result(PTR, INT), "hipStreamBeginCapture");
        static final MethodHandle HIP_STREAM_END_CAPTURE = LibHip.LIBRARY.downcall(result(PTR, PTR), "hipStreamEndCapture");
        static final MethodHandle HIP_GRAPH_INSTANTIATE = LibHip.LIBRARY.downcall(result(PTR, PTR, PTR, PTR, LONG), "hipGraphInstantiate");
        static final MethodHandle HIP_GRAPH_LAUNCH = LibHip.LIBRARY.downcall(result(PTR, PTR), "hipGraphLaunch");
        static final MethodHandle HIP_GRAPH_EXEC_DESTROY = LibHip.LIBRARY.downcall(result(PTR), "hipGraphExecDestroy");
        static final MethodHandle HIP_GRAPH_DESTROY = LibHip.LIBRARY.downcall(result(PTR), "hipGraphDestroy");
    }

    private HipCalls() {
    }

    /** @param error a hipError_t @return the runtime's name for it (a static C string), or NULL */
    public static MemorySegment hipGetErrorName(int error) {
        try {
            return (MemorySegment) Errors.HIP_GET_ERROR_NAME.invokeExact(error);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** @param error a hipError_t @return the runtime's description (a static C string), or NULL */
    public static MemorySegment hipGetErrorString(int error) {
        try {
            return (MemorySegment) Errors.HIP_GET_ERROR_STRING.invokeExact(error);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** {@code hipInit}. @return hipError_t */
    public static int hipInit(int flags) {
        try {
            return (int) Probe.HIP_INIT.invokeExact(flags);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** {@code hipRuntimeGetVersion}. @return hipError_t */
    public static int hipRuntimeGetVersion(MemorySegment version) {
        try {
            return (int) Probe.HIP_RUNTIME_GET_VERSION.invokeExact(version);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** {@code hipDriverGetVersion}. @return hipError_t */
    public static int hipDriverGetVersion(MemorySegment version) {
        try {
            return (int) Probe.HIP_DRIVER_GET_VERSION.invokeExact(version);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** {@code hipGetDeviceCount}. @return hipError_t */
    public static int hipGetDeviceCount(MemorySegment count) {
        try {
            return (int) Probe.HIP_GET_DEVICE_COUNT.invokeExact(count);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** {@code hipSetDevice}. @return hipError_t */
    public static int hipSetDevice(int device) {
        try {
            return (int) Probe.HIP_SET_DEVICE.invokeExact(device);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** {@code hipDeviceSynchronize}. @return hipError_t */
    public static int hipDeviceSynchronize() {
        try {
            return (int) Modules.HIP_DEVICE_SYNCHRONIZE.invokeExact();
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** {@code hipDeviceGetName}. @return hipError_t */
    public static int hipDeviceGetName(MemorySegment name, int length, int device) {
        try {
            return (int) Probe.HIP_DEVICE_GET_NAME.invokeExact(name, length, device);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** {@code hipDeviceTotalMem}. @return hipError_t */
    public static int hipDeviceTotalMem(MemorySegment bytes, int device) {
        try {
            return (int) Probe.HIP_DEVICE_TOTAL_MEM.invokeExact(bytes, device);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** {@code hipGetDeviceProperties}. @return hipError_t */
    public static int hipGetDeviceProperties(MemorySegment props, int device) {
        try {
            return (int) Probe.HIP_GET_DEVICE_PROPERTIES.invokeExact(props, device);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** {@code hipModuleLoadData}. @return hipError_t */
    public static int hipModuleLoadData(MemorySegment module, MemorySegment image) {
        try {
            return (int) Modules.HIP_MODULE_LOAD_DATA.invokeExact(module, image);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** {@code hipModuleUnload}. @return hipError_t */
    public static int hipModuleUnload(MemorySegment module) {
        try {
            return (int) Modules.HIP_MODULE_UNLOAD.invokeExact(module);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** {@code hipModuleGetFunction}. @return hipError_t */
    public static int hipModuleGetFunction(MemorySegment function, MemorySegment module, MemorySegment name) {
        try {
            return (int) Modules.HIP_MODULE_GET_FUNCTION.invokeExact(function, module, name);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** {@code hipModuleLaunchKernel}. @return hipError_t */
    public static int hipModuleLaunchKernel(MemorySegment f, int gx, int gy, int gz, int bx, int by, int bz, int shared, MemorySegment stream, MemorySegment params, MemorySegment extra) {
        try {
            return (int) Modules.HIP_MODULE_LAUNCH_KERNEL.invokeExact(f, gx, gy, gz, bx, by, bz, shared, stream, params, extra);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** {@code hipMalloc}. @return hipError_t */
    public static int hipMalloc(MemorySegment ptr, long bytes) {
        try {
            return (int) Memory.HIP_MALLOC.invokeExact(ptr, bytes);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** {@code hipFree}. @return hipError_t */
    public static int hipFree(MemorySegment ptr) {
        try {
            return (int) Memory.HIP_FREE.invokeExact(ptr);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** {@code hipMemcpy}. @return hipError_t */
    public static int hipMemcpy(MemorySegment dst, MemorySegment src, long bytes, int kind) {
        try {
            return (int) Memory.HIP_MEMCPY.invokeExact(dst, src, bytes, kind);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** {@code hipMemcpyAsync}. @return hipError_t */
    public static int hipMemcpyAsync(MemorySegment dst, MemorySegment src, long bytes, int kind, MemorySegment stream) {
        try {
            return (int) Memory.HIP_MEMCPY_ASYNC.invokeExact(dst, src, bytes, kind, stream);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** {@code hipMemset}. @return hipError_t */
    public static int hipMemset(MemorySegment dst, int value, long bytes) {
        try {
            return (int) Memory.HIP_MEMSET.invokeExact(dst, value, bytes);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** {@code hipMemsetAsync}. @return hipError_t */
    public static int hipMemsetAsync(MemorySegment dst, int value, long bytes, MemorySegment stream) {
        try {
            return (int) Memory.HIP_MEMSET_ASYNC.invokeExact(dst, value, bytes, stream);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** {@code hipStreamCreate}. @return hipError_t */
    public static int hipStreamCreate(MemorySegment stream) {
        try {
            return (int) Streams.HIP_STREAM_CREATE.invokeExact(stream);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** {@code hipStreamDestroy}. @return hipError_t */
    public static int hipStreamDestroy(MemorySegment stream) {
        try {
            return (int) Streams.HIP_STREAM_DESTROY.invokeExact(stream);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** {@code hipStreamSynchronize}. @return hipError_t */
    public static int hipStreamSynchronize(MemorySegment stream) {
        try {
            return (int) Streams.HIP_STREAM_SYNCHRONIZE.invokeExact(stream);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** {@code hipEventCreate}. @return hipError_t */
    public static int hipEventCreate(MemorySegment event) {
        try {
            return (int) Streams.HIP_EVENT_CREATE.invokeExact(event);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** {@code hipEventDestroy}. @return hipError_t */
    public static int hipEventDestroy(MemorySegment event) {
        try {
            return (int) Streams.HIP_EVENT_DESTROY.invokeExact(event);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** {@code hipEventRecord}. @return hipError_t */
    public static int hipEventRecord(MemorySegment event, MemorySegment stream) {
        try {
            return (int) Streams.HIP_EVENT_RECORD.invokeExact(event, stream);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** {@code hipEventSynchronize}. @return hipError_t */
    public static int hipEventSynchronize(MemorySegment event) {
        try {
            return (int) Streams.HIP_EVENT_SYNCHRONIZE.invokeExact(event);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** {@code hipEventElapsedTime}. @return hipError_t */
    public static int hipEventElapsedTime(MemorySegment ms, MemorySegment start, MemorySegment stop) {
        try {
            return (int) Streams.HIP_EVENT_ELAPSED_TIME.invokeExact(ms, start, stop);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** {@code hipStreamBeginCapture}. @return hipError_t */
    public static int hipStreamBeginCapture(MemorySegment stream, int mode) {
        try {
            return (int) Graphs.HIP_STREAM_BEGIN_CAPTURE.invokeExact(stream, mode);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** {@code hipStreamEndCapture}. @return hipError_t */
    public static int hipStreamEndCapture(MemorySegment stream, MemorySegment graph) {
        try {
            return (int) Graphs.HIP_STREAM_END_CAPTURE.invokeExact(stream, graph);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** {@code hipGraphInstantiate}. @return hipError_t */
    public static int hipGraphInstantiate(MemorySegment exec, MemorySegment graph, MemorySegment errorNode, MemorySegment log, long logSize) {
        try {
            return (int) Graphs.HIP_GRAPH_INSTANTIATE.invokeExact(exec, graph, errorNode, log, logSize);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** {@code hipGraphLaunch}. @return hipError_t */
    public static int hipGraphLaunch(MemorySegment exec, MemorySegment stream) {
        try {
            return (int) Graphs.HIP_GRAPH_LAUNCH.invokeExact(exec, stream);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** {@code hipGraphExecDestroy}. @return hipError_t */
    public static int hipGraphExecDestroy(MemorySegment exec) {
        try {
            return (int) Graphs.HIP_GRAPH_EXEC_DESTROY.invokeExact(exec);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** {@code hipGraphDestroy}. @return hipError_t */
    public static int hipGraphDestroy(MemorySegment graph) {
        try {
            return (int) Graphs.HIP_GRAPH_DESTROY.invokeExact(graph);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }
}
