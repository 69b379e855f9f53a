package io.moeoracle.ep;

import io.moeoracle.driver.cuda.CudaEvent;
import io.moeoracle.driver.nccl.NcclCommunicator;
import io.moeoracle.driver.nccl.NcclException;
import io.moeoracle.driver.nccl.NcclTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Function;

/**
 * Every host wait of expert parallelism goes through here, with a deadline: it polls the ranks' events
 * ({@code cuEventQuery}) and their communicators' state ({@code ncclCommGetAsyncError}); an
 * asynchronous NCCL error or the deadline aborts every communicator this process drives
 * ({@code ncclCommAbort}: NCCL kernels still waiting for a peer quit, so the streams drain) and throws.
 * A rank that failed or never called its part of a collective thus ends in an exception on every
 * other rank, not a hang.
 */
final class EpWatchdog {
    private static final long POLL_NANOS = 20_000;

    private EpWatchdog() {
    }

    /**
     * @param ranks the ranks this process drives
     * @param event which event of a rank to wait for
     * @param timeout the deadline
     * @param what what the ranks were doing, for the message
     * @throws NcclTimeoutException at the deadline (after aborting)
     * @throws NcclException on an asynchronous NCCL error (after aborting)
     */
    static void await(List<EpRank> ranks, Function<EpRank, CudaEvent> event, Duration timeout, String what) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            List<EpRank> pending = new ArrayList<>();
            for (EpRank r : ranks) {
                r.context.setCurrent();
                if (event.apply(r).isComplete()) {
                    continue;
                }
                pending.add(r);
                if (r.comm != null && !r.comm.isAborted()) {
                    int s;
                    try {
                        s = r.comm.state();
                    } catch (RuntimeException e) {
                        abort(ranks);
                        throw e;
                    }
                    if (s != NcclException.SUCCESS && s != NcclException.IN_PROGRESS) {
                        NcclException e = NcclException.of(s, "ncclCommGetAsyncError", "rank " + r.rank + " on "
                                + r.device.id() + " while " + what, r.comm.handle());
                        abort(ranks);
                        throw e;
                    }
                }
            }
            if (pending.isEmpty()) {
                return;
            }
            if (System.nanoTime() - deadline > 0) {
                abort(ranks);
                throw new NcclTimeoutException(what, "ranks " + pending.stream().map(EpRank::toString).toList()
                        + " still busy", timeout, "another rank failed or never called its part (its own exception"
                        + " says why); this layer is unusable now: close it and build a new one; the deadline is "
                        + "moe.ep.timeout");
            }
            LockSupport.parkNanos(POLL_NANOS);
        }
    }

    /**
     * Aborts every communicator of the ranks (idempotent).
     *
     * @param ranks the ranks
     */
    static void abort(List<EpRank> ranks) {
        NcclCommunicator.abortAll(ranks.stream().map(r -> r.comm).filter(Objects::nonNull).toList());
    }
}
