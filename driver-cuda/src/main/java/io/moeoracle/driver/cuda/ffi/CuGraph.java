package io.moeoracle.driver.cuda.ffi;

import static io.moeoracle.driver.cuda.ffi.CuTypes.INT;
import static io.moeoracle.driver.cuda.ffi.CuTypes.LONG;
import static io.moeoracle.driver.cuda.ffi.CuTypes.PTR;
import static io.moeoracle.driver.cuda.ffi.CuTypes.result;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/** Graphs by stream capture: begin/end capture, instantiate, launch, destroy. */
public final class CuGraph {
    private static final MethodHandle BEGIN_CAPTURE = LibCuda.LIBRARY.downcall(result(PTR, INT), "cuStreamBeginCapture_v2");
    private static final MethodHandle END_CAPTURE = LibCuda.LIBRARY.downcall(result(PTR, PTR), "cuStreamEndCapture");
    private static final MethodHandle INSTANTIATE = LibCuda.LIBRARY.downcall(result(PTR, PTR, LONG), "cuGraphInstantiateWithFlags");
    private static final MethodHandle LAUNCH = LibCuda.LIBRARY.downcall(result(PTR, PTR), "cuGraphLaunch");
    private static final MethodHandle EXEC_DESTROY = LibCuda.LIBRARY.downcall(result(PTR), "cuGraphExecDestroy");
    private static final MethodHandle DESTROY = LibCuda.LIBRARY.downcall(result(PTR), "cuGraphDestroy");

    private CuGraph() {
    }

    /** @param stream CUstream @param mode CUstreamCaptureMode @return CUresult */
    public static int cuStreamBeginCapture(MemorySegment stream, int mode) {
        try {
            return (int) BEGIN_CAPTURE.invokeExact(stream, mode);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** @param stream CUstream @param graph out CUgraph @return CUresult */
    public static int cuStreamEndCapture(MemorySegment stream, MemorySegment graph) {
        try {
            return (int) END_CAPTURE.invokeExact(stream, graph);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** @param exec out CUgraphExec @param graph CUgraph @param flags CUgraphInstantiate_flags @return CUresult */
    public static int cuGraphInstantiateWithFlags(MemorySegment exec, MemorySegment graph, long flags) {
        try {
            return (int) INSTANTIATE.invokeExact(exec, graph, flags);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** @param exec CUgraphExec @param stream CUstream @return CUresult */
    public static int cuGraphLaunch(MemorySegment exec, MemorySegment stream) {
        try {
            return (int) LAUNCH.invokeExact(exec, stream);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** @param exec CUgraphExec @return CUresult */
    public static int cuGraphExecDestroy(MemorySegment exec) {
        try {
            return (int) EXEC_DESTROY.invokeExact(exec);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** @param graph CUgraph @return CUresult */
    public static int cuGraphDestroy(MemorySegment graph) {
        try {
            return (int) DESTROY.invokeExact(graph);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }
}
