package io.moeoracle.driver.nccl.ffi;

import static io.moeoracle.driver.nccl.ffi.LibNccl.INT;
import static io.moeoracle.driver.nccl.ffi.LibNccl.LONG;
import static io.moeoracle.driver.nccl.ffi.LibNccl.PTR;
import static io.moeoracle.driver.nccl.ffi.LibNccl.result;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * Group calls and the collectives moe-oracle uses: {@code ncclGroupStart}, {@code ncclGroupEnd},
 * {@code ncclAllGather}, {@code ncclReduceScatter}, {@code ncclAllReduce}, {@code ncclSend},
 * {@code ncclRecv}. Buffers are device addresses ({@code long}); counts are elements; the stream
 * is a {@code CUstream} (the same handle as a {@code cudaStream_t}).
 */
public final class NcclColls {
    private static final MethodHandle GROUP_START = LibNccl.LIBRARY.downcall(result(), "ncclGroupStart");
    private static final MethodHandle GROUP_END = LibNccl.LIBRARY.downcall(result(), "ncclGroupEnd");
    private static final MethodHandle ALL_GATHER = LibNccl.LIBRARY.downcall(result(LONG, LONG, LONG, INT, PTR, PTR),
            "ncclAllGather");
    private static final MethodHandle REDUCE_SCATTER = LibNccl.LIBRARY.downcall(
            result(LONG, LONG, LONG, INT, INT, PTR, PTR), "ncclReduceScatter");
    private static final MethodHandle ALL_REDUCE = LibNccl.LIBRARY.downcall(result(LONG, LONG, LONG, INT, INT, PTR, PTR),
            "ncclAllReduce");
    private static final MethodHandle SEND = LibNccl.LIBRARY.downcall(result(LONG, LONG, INT, INT, PTR, PTR), "ncclSend");
    private static final MethodHandle RECV = LibNccl.LIBRARY.downcall(result(LONG, LONG, INT, INT, PTR, PTR), "ncclRecv");

    private NcclColls() {
    }

    /** @return ncclResult_t */
    public static int ncclGroupStart() {
        try {
            return (int) GROUP_START.invokeExact();
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /** @return ncclResult_t (ncclInProgress when a non-blocking communicator is still working) */
    public static int ncclGroupEnd() {
        try {
            return (int) GROUP_END.invokeExact();
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /**
     * @param send device buffer @param recv device buffer of nranks*count elements @param count elements per rank
     * @param type ncclDataType_t @param comm ncclComm_t @param stream cudaStream_t @return ncclResult_t
     */
    public static int ncclAllGather(long send, long recv, long count, int type, MemorySegment comm, MemorySegment stream) {
        try {
            return (int) ALL_GATHER.invokeExact(send, recv, count, type, comm, stream);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /**
     * @param send device buffer of nranks*recvCount elements @param recv device buffer @param recvCount elements
     * @param type ncclDataType_t @param op ncclRedOp_t @param comm ncclComm_t @param stream cudaStream_t
     * @return ncclResult_t
     */
    public static int ncclReduceScatter(long send, long recv, long recvCount, int type, int op, MemorySegment comm,
                                        MemorySegment stream) {
        try {
            return (int) REDUCE_SCATTER.invokeExact(send, recv, recvCount, type, op, comm, stream);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /**
     * @param send device buffer @param recv device buffer @param count elements @param type ncclDataType_t
     * @param op ncclRedOp_t @param comm ncclComm_t @param stream cudaStream_t @return ncclResult_t
     */
    public static int ncclAllReduce(long send, long recv, long count, int type, int op, MemorySegment comm,
                                    MemorySegment stream) {
        try {
            return (int) ALL_REDUCE.invokeExact(send, recv, count, type, op, comm, stream);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /**
     * @param send device buffer @param count elements @param type ncclDataType_t @param peer destination rank
     * @param comm ncclComm_t @param stream cudaStream_t @return ncclResult_t
     */
    public static int ncclSend(long send, long count, int type, int peer, MemorySegment comm, MemorySegment stream) {
        try {
            return (int) SEND.invokeExact(send, count, type, peer, comm, stream);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /**
     * @param recv device buffer @param count elements @param type ncclDataType_t @param peer source rank
     * @param comm ncclComm_t @param stream cudaStream_t @return ncclResult_t
     */
    public static int ncclRecv(long recv, long count, int type, int peer, MemorySegment comm, MemorySegment stream) {
        try {
            return (int) RECV.invokeExact(recv, count, type, peer, comm, stream);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }
}
