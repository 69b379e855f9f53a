package io.moeoracle.ep;

import io.moeoracle.api.MoeKernel;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.core.select.Selection;
import io.moeoracle.driver.cuda.CudaContext;
import io.moeoracle.driver.cuda.CudaEvent;
import io.moeoracle.driver.cuda.CudaStream;
import io.moeoracle.driver.cuda.CudaStreamBound;
import io.moeoracle.driver.cuda.PinnedMemory;
import io.moeoracle.driver.nccl.NcclCommunicator;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Everything one rank holds: its GPU's primary context and the one stream all of the rank's work goes
 * to (dispatch kernels, NCCL calls, and, ordered by events, its kernels' own streams), its communicator,
 * the kernel per strategy the selector chose for its shard, the buffers, the timing events, and
 * page-locked host memory for the counts the all-to-all path reads back.
 */
final class EpRank implements AutoCloseable {
    final int rank;
    final DeviceInfo device;
    final CudaContext context;
    final CudaStream stream;
    final EpLaunches launches;
    final EpBuffers buf;
    /** start, dispatched, experts done, end: the time split of the last timed forward. */
    final CudaEvent[] marks = new CudaEvent[4];
    /** recorded after the last queued work: what waits wait for. */
    final CudaEvent done;
    final CudaEvent countsReady;
    private final CudaEvent fork;
    private final CudaEvent join;
    /** [R*R] count matrix, then [El] this rank's expert loads, then [2] flags. */
    final PinnedMemory host;
    NcclCommunicator comm;
    MoeKernel standard;
    MoeKernel batched;
    Optional<Selection> standardSelection = Optional.empty();
    Optional<Selection> batchedSelection = Optional.empty();
    int hostSyncs;

    EpRank(int rank, DeviceInfo device, CudaContext context, byte[] image, int ranks, int cap, int experts, int hidden,
           int topK, boolean allGather, boolean allToAll) {
        this.rank = rank;
        this.device = device;
        this.context = context;
        context.setCurrent();
        List<AutoCloseable> made = new ArrayList<>();
        try {
            stream = context.createStream();
            made.add(stream);
            launches = new EpLaunches(context, image);
            made.add(launches);
            buf = new EpBuffers(context, ranks, cap, experts, hidden, topK, allGather, allToAll);
            made.add(buf);
            for (int i = 0; i < marks.length; i++) {
                marks[i] = context.createEvent();
                made.add(marks[i]);
            }
            done = context.createEvent();
            made.add(done);
            countsReady = context.createEvent();
            made.add(countsReady);
            fork = context.createEvent();
            made.add(fork);
            join = context.createEvent();
            made.add(join);
            host = PinnedMemory.allocate(context, 4L * (ranks * ranks + experts / ranks + 2));
            made.add(host);
        } catch (RuntimeException e) {
            for (int i = made.size() - 1; i >= 0; i--) {
                try {
                    made.get(i).close();
                } catch (Exception suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw e;
        }
    }

    /**
     * Runs a kernel call on this rank's stream order: when the kernel works on a stream of its own, this
     * stream's work so far is a dependency of the call (an event), and the rank's later work depends on
     * the call (an event back); no host wait. A kernel without a stream to order against is waited for
     * on the host before and after (counted in {@link #hostSyncs}).
     *
     * @param kernel the kernel
     * @param call the forward, queued by the kernel
     */
    void runKernel(MoeKernel kernel, Runnable call) {
        context.setCurrent();
        if (kernel instanceof CudaStreamBound bound) {
            CudaStream ks = bound.stream();
            if (ks.handle().address() == stream.handle().address()) {
                call.run();
                return;
            }
            fork.record(stream);
            ks.waitFor(fork);
            call.run();
            context.setCurrent();
            join.record(ks);
            stream.waitFor(join);
            return;
        }
        stream.synchronize();
        call.run();
        kernel.synchronize();
        context.setCurrent();
        hostSyncs += 2;
    }

    /** @return the kernel ids, for reports */
    String kernelIds() {
        List<String> ids = new ArrayList<>();
        if (standard != null) {
            ids.add(standard.providerId());
        }
        if (batched != null) {
            ids.add(batched.providerId());
        }
        return String.join("+", ids);
    }

    int hostInt(long index) {
        return host.segment().getAtIndex(ValueLayout.JAVA_INT, index);
    }

    MemorySegment hostSlice(long intOffset, long ints) {
        return host.segment().asSlice(4 * intOffset, 4 * ints);
    }

    @Override
    public void close() {
        context.setCurrent();
        for (MoeKernel k : new MoeKernel[] {standard, batched}) {
            if (k != null) {
                k.close();
            }
        }
        context.setCurrent();
        buf.close();
        launches.close();
        for (CudaEvent e : marks) {
            e.close();
        }
        done.close();
        countsReady.close();
        fork.close();
        join.close();
        host.close();
        stream.close();
        context.close();
    }

    @Override
    public String toString() {
        return "rank " + rank + " (" + device.id() + ")";
    }
}
