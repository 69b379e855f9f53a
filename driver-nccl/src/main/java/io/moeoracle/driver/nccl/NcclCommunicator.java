package io.moeoracle.driver.nccl;

import io.moeoracle.driver.cuda.CudaContext;
import io.moeoracle.driver.cuda.CudaStream;
import io.moeoracle.driver.nccl.ffi.NcclColls;
import io.moeoracle.driver.nccl.ffi.NcclComms;
import io.moeoracle.driver.nccl.ffi.NcclConfig;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One rank of an NCCL communicator ({@code ncclComm_t}), bound to one GPU's primary context.
 * Communicators made here are <em>non-blocking</em> ({@code ncclConfig_t.blocking = 0}): no NCCL call
 * waits for other ranks on the host, calls may answer "in progress", and {@link #awaitReady} polls
 * {@code ncclCommGetAsyncError} with a deadline, so a rank whose peers never come can give up and
 * {@link #abort()} instead of hanging.
 *
 * <p>Collectives are queued on a CUDA stream of this rank's device ({@link CudaStream}) and take
 * device addresses and element counts. From one thread driving several GPUs, put the calls of all
 * ranks in one {@link Nccl#group(Runnable)}.
 */
public final class NcclCommunicator implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(NcclCommunicator.class);
    private static final long POLL_NANOS = 20_000;

    private final MemorySegment handle;
    private final int rank;
    private final int size;
    private final CudaContext context;
    private final AtomicBoolean released = new AtomicBoolean();
    private volatile boolean aborted;

    private NcclCommunicator(MemorySegment handle, int rank, int size, CudaContext context) {
        this.handle = handle;
        this.rank = rank;
        this.size = size;
        this.context = context;
    }

    /**
     * Joins a communicator as one rank ({@code ncclCommInitRankConfig}, non-blocking): one rank per
     * process (or per thread), every rank passing the same id and size. Waits until every rank has
     * joined, at most {@code timeout}.
     *
     * @param context this rank's GPU (made current on the calling thread)
     * @param id the id made by one rank ({@link Nccl#uniqueId()}) and handed to all
     * @param rank this rank, in {@code [0, size)}
     * @param size the number of ranks
     * @param timeout how long to wait for the other ranks
     * @return the communicator
     * @throws NcclTimeoutException when the others did not join in time (this rank's part was aborted)
     * @throws NcclException when NCCL refused
     */
    public static NcclCommunicator initRank(CudaContext context, NcclUniqueId id, int rank, int size, Duration timeout) {
        checkRank(rank, size);
        Nccl.ensureAvailability();
        NcclCommunicator c;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            context.setCurrent();
            int rc = NcclComms.ncclCommInitRankConfig(out, size, id.toStruct(arena), rank, NcclConfig.allocate(arena, false));
            MemorySegment h = out.get(ValueLayout.ADDRESS, 0);
            if (rc != 0 && rc != NcclException.IN_PROGRESS) {
                throw NcclException.of(rc, "ncclCommInitRankConfig", "nranks=" + size + ", rank=" + rank + ", device="
                        + context.device().id() + ", blocking=0", h);
            }
            c = new NcclCommunicator(h, rank, size, context);
        }
        awaitAll(List.of(c), timeout, "ncclCommInitRankConfig", "rank " + rank + " of " + size
                + " waiting for the other ranks to join", "start every rank with the same id and size within the timeout");
        LOG.debug("NCCL rank {}/{} ready on {}", rank, size, context.device().id());
        return c;
    }

    /**
     * Makes one communicator over several GPUs driven by this JVM: a new unique id, then
     * {@code ncclCommInitRankConfig} (non-blocking) for each device inside one group, rank {@code i} on
     * {@code contexts.get(i)}. Waits at most {@code timeout} for all of them.
     *
     * @param contexts one primary context per rank, distinct devices
     * @param timeout how long to wait
     * @return the communicators, rank order
     * @throws NcclTimeoutException when initialization did not finish in time (all were aborted)
     * @throws NcclException when NCCL refused
     */
    public static List<NcclCommunicator> initAll(List<CudaContext> contexts, Duration timeout) {
        if (contexts.isEmpty()) {
            throw new IllegalArgumentException("initAll needs at least one context");
        }
        Nccl nccl = Nccl.load();
        NcclUniqueId id = nccl.uniqueId();
        int n = contexts.size();
        List<NcclCommunicator> comms = new ArrayList<>(n);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment idStruct = id.toStruct(arena);
            MemorySegment config = NcclConfig.allocate(arena, false);
            try {
                nccl.group(() -> {
                    for (int r = 0; r < n; r++) {
                        CudaContext ctx = contexts.get(r);
                        MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
                        ctx.setCurrent();
                        int rc = NcclComms.ncclCommInitRankConfig(out, n, idStruct, r, config);
                        MemorySegment h = out.get(ValueLayout.ADDRESS, 0);
                        if (rc != 0 && rc != NcclException.IN_PROGRESS) {
                            throw NcclException.of(rc, "ncclCommInitRankConfig", "nranks=" + n + ", rank=" + r
                                    + ", device=" + ctx.device().id() + ", blocking=0 (one JVM, " + n + " GPUs)", h);
                        }
                        comms.add(new NcclCommunicator(h, r, n, ctx));
                    }
                });
            } catch (RuntimeException e) {
                abortAll(comms);
                throw e;
            }
        }
        awaitAll(comms, timeout, "ncclCommInitRankConfig", n + " ranks on " + contexts.stream()
                .map(c -> c.device().id()).toList(), "check that the GPUs can reach each other (nvidia-smi topo -m)");
        return List.copyOf(comms);
    }

    private static void checkRank(int rank, int size) {
        if (size < 1 || rank < 0 || rank >= size) {
            throw new IllegalArgumentException("rank " + rank + " of " + size + " ranks: need size >= 1 and 0 <= rank < size");
        }
    }

    /** @return this rank */
    public int rank() {
        return rank;
    }

    /** @return the number of ranks */
    public int size() {
        return size;
    }

    /** @return this rank's GPU context */
    public CudaContext context() {
        return context;
    }

    /** @return the {@code ncclComm_t} handle */
    public MemorySegment handle() {
        return handle;
    }

    /** @return whether {@link #abort()} was called */
    public boolean isAborted() {
        return aborted;
    }

    /**
     * @return the communicator's state ({@code ncclCommGetAsyncError}): {@link NcclException#SUCCESS},
     *     {@link NcclException#IN_PROGRESS}, or an error code
     */
    public int state() {
        checkOpen("ncclCommGetAsyncError");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.JAVA_INT);
            int rc = NcclComms.ncclCommGetAsyncError(handle, out);
            if (rc != 0) {
                throw NcclException.of(rc, "ncclCommGetAsyncError", "rank=" + rank, handle);
            }
            return out.get(ValueLayout.JAVA_INT, 0);
        }
    }

    /**
     * Throws when the communicator has failed asynchronously (a peer went away, a network error).
     *
     * @throws NcclException with NCCL's text for the state
     */
    public void checkHealthy() {
        int s = state();
        if (s != NcclException.SUCCESS && s != NcclException.IN_PROGRESS) {
            throw NcclException.of(s, "ncclCommGetAsyncError", "rank=" + rank + " of " + size + " on "
                    + context.device().id() + " reports an asynchronous error", handle);
        }
    }

    /**
     * Waits until the communicator is no longer "in progress" (initialization, or a group that was
     * answered with {@code ncclInProgress}).
     *
     * @param timeout the deadline
     * @throws NcclTimeoutException when still in progress at the deadline (then this rank is aborted)
     * @throws NcclException on an asynchronous error
     */
    public void awaitReady(Duration timeout) {
        awaitAll(List.of(this), timeout, "ncclCommGetAsyncError", "rank " + rank + " of " + size + " in progress", "");
    }

    /**
     * Waits until none of the communicators is "in progress"; on an error or at the deadline aborts
     * them all and throws.
     *
     * @param comms communicators (of one or several groups)
     * @param timeout the deadline
     * @param call what was waited for, for the message
     * @param what what the ranks were doing, for the message
     * @param remedy what to do when it times out
     * @throws NcclTimeoutException at the deadline
     * @throws NcclException on an asynchronous error
     */
    public static void awaitAll(List<NcclCommunicator> comms, Duration timeout, String call, String what, String remedy) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            boolean pending = false;
            for (NcclCommunicator c : comms) {
                int s;
                try {
                    s = c.state();
                } catch (RuntimeException e) {
                    abortAll(comms);
                    throw e;
                }
                if (s == NcclException.IN_PROGRESS) {
                    pending = true;
                } else if (s != NcclException.SUCCESS) {
                    NcclException e = NcclException.of(s, call, what + " (rank " + c.rank + " on "
                            + c.context.device().id() + ")", c.handle);
                    abortAll(comms);
                    throw e;
                }
            }
            if (!pending) {
                return;
            }
            if (System.nanoTime() - deadline > 0) {
                abortAll(comms);
                throw new NcclTimeoutException(call, what, timeout, remedy);
            }
            LockSupport.parkNanos(POLL_NANOS);
        }
    }

    /**
     * Queues an all-gather: rank {@code i}'s {@code count} elements land at {@code recv + i*count}.
     * In place when {@code send == recv + rank*count*bytes}.
     *
     * @param send device address of this rank's {@code count} elements
     * @param recv device address of {@code size*count} elements
     * @param count elements per rank
     * @param type element type
     * @param stream a stream of this rank's device
     */
    public void allGather(long send, long recv, long count, NcclDataType type, CudaStream stream) {
        checkOpen("ncclAllGather");
        check(NcclColls.ncclAllGather(send, recv, count, type.code(), handle, stream.handle()), "ncclAllGather",
                "send=0x" + Long.toHexString(send) + ", recv=0x" + Long.toHexString(recv) + ", sendcount=" + count + ", "
                        + type + ", rank=" + rank + "/" + size + ", stream=" + stream);
    }

    /**
     * Queues a reduce-scatter: block {@code i} of the element-wise reduction of every rank's
     * {@code size*recvCount} elements lands on rank {@code i}.
     *
     * @param send device address of {@code size*recvCount} elements
     * @param recv device address of {@code recvCount} elements
     * @param recvCount elements per rank
     * @param type element type
     * @param op the reduction
     * @param stream a stream of this rank's device
     */
    public void reduceScatter(long send, long recv, long recvCount, NcclDataType type, NcclRedOp op, CudaStream stream) {
        checkOpen("ncclReduceScatter");
        check(NcclColls.ncclReduceScatter(send, recv, recvCount, type.code(), op.code(), handle, stream.handle()),
                "ncclReduceScatter", "send=0x" + Long.toHexString(send) + ", recv=0x" + Long.toHexString(recv)
                        + ", recvcount=" + recvCount + ", " + type + ", " + op + ", rank=" + rank + "/" + size);
    }

    /**
     * Queues an all-reduce of {@code count} elements (in place when {@code send == recv}).
     *
     * @param send device address
     * @param recv device address
     * @param count elements
     * @param type element type
     * @param op the reduction
     * @param stream a stream of this rank's device
     */
    public void allReduce(long send, long recv, long count, NcclDataType type, NcclRedOp op, CudaStream stream) {
        checkOpen("ncclAllReduce");
        check(NcclColls.ncclAllReduce(send, recv, count, type.code(), op.code(), handle, stream.handle()),
                "ncclAllReduce", "send=0x" + Long.toHexString(send) + ", recv=0x" + Long.toHexString(recv)
                        + ", count=" + count + ", " + type + ", " + op + ", rank=" + rank + "/" + size);
    }

    /**
     * Queues a send of {@code count} elements to {@code peer} (which must queue the matching receive);
     * the sends and receives of one exchange go in one {@link Nccl#group(Runnable)}.
     *
     * @param buffer device address
     * @param count elements
     * @param type element type
     * @param peer the destination rank
     * @param stream a stream of this rank's device
     */
    public void send(long buffer, long count, NcclDataType type, int peer, CudaStream stream) {
        checkOpen("ncclSend");
        checkPeer(peer, "ncclSend");
        check(NcclColls.ncclSend(buffer, count, type.code(), peer, handle, stream.handle()), "ncclSend",
                "buf=0x" + Long.toHexString(buffer) + ", count=" + count + ", " + type + ", peer=" + peer + ", rank="
                        + rank + "/" + size);
    }

    /**
     * Queues a receive of {@code count} elements from {@code peer}.
     *
     * @param buffer device address
     * @param count elements
     * @param type element type
     * @param peer the source rank
     * @param stream a stream of this rank's device
     */
    public void recv(long buffer, long count, NcclDataType type, int peer, CudaStream stream) {
        checkOpen("ncclRecv");
        checkPeer(peer, "ncclRecv");
        check(NcclColls.ncclRecv(buffer, count, type.code(), peer, handle, stream.handle()), "ncclRecv",
                "buf=0x" + Long.toHexString(buffer) + ", count=" + count + ", " + type + ", peer=" + peer + ", rank="
                        + rank + "/" + size);
    }

    private void checkPeer(int peer, String call) {
        if (peer < 0 || peer >= size) {
            throw new IllegalArgumentException(call + ": peer " + peer + " is not a rank of this communicator (0.."
                    + (size - 1) + ")");
        }
    }

    private void check(int rc, String call, String args) {
        if (rc != 0 && rc != NcclException.IN_PROGRESS) {
            throw NcclException.of(rc, call, args, handle);
        }
    }

    private void checkOpen(String call) {
        if (released.get()) {
            throw new IllegalStateException(call + ": NCCL rank " + rank + " of " + size + " was "
                    + (aborted ? "aborted" : "destroyed") + "; make a new communicator");
        }
    }

    /**
     * Aborts the communicator ({@code ncclCommAbort}): NCCL kernels of this rank still waiting for
     * peers quit, its resources are freed; idempotent. Safe to call from another thread than the one
     * that queued work (a watchdog).
     */
    public void abort() {
        if (released.compareAndSet(false, true)) {
            aborted = true;
            int rc = NcclComms.ncclCommAbort(handle);
            if (rc != 0 && rc != NcclException.IN_PROGRESS) {
                LOG.warn("ncclCommAbort of rank {} on {} answered {}", rank, context.device().id(), NcclException.nameOf(rc));
            }
        }
    }

    /**
     * Aborts every communicator (in one group, as NCCL asks when one thread owns several).
     *
     * @param comms the communicators
     */
    public static void abortAll(List<NcclCommunicator> comms) {
        List<NcclCommunicator> live = comms.stream().filter(c -> !c.released.get()).toList();
        if (live.isEmpty()) {
            return;
        }
        if (live.size() == 1) {
            live.getFirst().abort();
            return;
        }
        NcclColls.ncclGroupStart();
        try {
            live.forEach(NcclCommunicator::abort);
        } finally {
            NcclColls.ncclGroupEnd();
        }
    }

    /**
     * Destroys every communicator (in one group).
     *
     * @param comms the communicators
     */
    public static void closeAll(List<NcclCommunicator> comms) {
        List<NcclCommunicator> live = comms.stream().filter(c -> !c.released.get()).toList();
        if (live.size() <= 1) {
            live.forEach(NcclCommunicator::close);
            return;
        }
        NcclColls.ncclGroupStart();
        try {
            live.forEach(NcclCommunicator::close);
        } finally {
            NcclColls.ncclGroupEnd();
        }
    }

    /** Destroys the communicator ({@code ncclCommDestroy}); after {@link #abort()} does nothing; idempotent. */
    @Override
    public void close() {
        if (released.compareAndSet(false, true)) {
            context.ensureCurrent();
            int rc = NcclComms.ncclCommDestroy(handle);
            if (rc != 0 && rc != NcclException.IN_PROGRESS) {
                LOG.warn("ncclCommDestroy of rank {} on {} answered {}", rank, context.device().id(), NcclException.nameOf(rc));
            }
        }
    }

    @Override
    public String toString() {
        return "NcclCommunicator[rank " + rank + "/" + size + ", " + context.device().id()
                + (released.get() ? (aborted ? ", aborted" : ", destroyed") : "") + "]";
    }
}
