package io.moeoracle.ep;

import io.moeoracle.driver.cuda.CudaContext;
import io.moeoracle.driver.cuda.DeviceBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * The device buffers of one rank, sized once for {@code cap} tokens per rank (the most one forward
 * may carry): staging for host inputs and outputs, the all-gather path's gathered rows and partial
 * outputs, the all-to-all path's per-rank slabs of {@code cap} rows each. The per-expert batches of
 * the all-to-all path grow on demand ({@link #ensureBatches}). Callers hold the engine's lock.
 */
final class EpBuffers implements AutoCloseable {
    private final CudaContext context;
    private final int ranks;
    private final int cap;
    private final int hidden;
    private final int topK;
    private final int localExperts;
    private final List<DeviceBuffer> owned = new ArrayList<>();

    /** [0] this rank's error bits, [1] the bits of all ranks (all-reduced, max). */
    final DeviceBuffer flags;
    /** global expert id -> virtual id, [E] int32. */
    final DeviceBuffer perm;
    /** [cap, H] F32: host F32 inputs, the reduce-scatter's output, host F32 outputs. */
    final DeviceBuffer stageF32;
    /** [cap, H] BF16: the all-to-all path's own rows, host BF16 inputs and outputs. */
    final DeviceBuffer stageBf16;
    /** host routing: logits [cap, E] (4 bytes), or ids [cap, k] then weights [cap, k]. */
    final DeviceBuffer stageRouting;

    // all-gather path (null when it is off)
    final DeviceBuffer agHidden;
    final DeviceBuffer agIds;
    final DeviceBuffer agWeights;
    final DeviceBuffer agPartial;

    // all-to-all path (null when it is off)
    final DeviceBuffer localIds;
    final DeviceBuffer localWeights;
    final DeviceBuffer sendHidden;
    final DeviceBuffer recvHidden;
    final DeviceBuffer sendMeta;
    final DeviceBuffer recvMeta;
    final DeviceBuffer pos;
    /** [R] rows sent to each rank, then [E] (token, expert) pairs per virtual expert: zeroed per forward. */
    final DeviceBuffer sendCounts;
    /** [R*R]: row s = what rank s sends to each rank (all-gathered). */
    final DeviceBuffer countMatrix;
    /** [E]: pairs per virtual expert over all ranks (all-reduced). */
    final DeviceBuffer expertTotal;
    final DeviceBuffer slotOf;
    final DeviceBuffer ecnt;
    final DeviceBuffer countsChunk;
    final DeviceBuffer partial;
    final DeviceBuffer ret;

    private DeviceBuffer rowOf;
    private DeviceBuffer batchIn;
    private DeviceBuffer batchOut;
    private int rowOfCap;
    private long batchRowsCap;

    EpBuffers(CudaContext context, int ranks, int cap, int experts, int hidden, int topK, boolean allGather,
              boolean allToAll) {
        this.context = context;
        this.ranks = ranks;
        this.cap = cap;
        this.hidden = hidden;
        this.topK = topK;
        this.localExperts = experts / ranks;
        long rows = (long) ranks * cap;
        long h = hidden;
        try {
            flags = alloc(16);
            perm = alloc(4L * experts);
            stageF32 = alloc(4L * cap * h);
            stageBf16 = alloc(2L * cap * h);
            stageRouting = alloc(Math.max(4L * cap * experts, 8L * cap * topK));
            agHidden = allGather ? alloc(2 * rows * h) : null;
            agIds = allGather ? alloc(4 * rows * topK) : null;
            agWeights = allGather ? alloc(4 * rows * topK) : null;
            agPartial = allGather ? alloc(4 * rows * h) : null;
            localIds = allToAll ? alloc(4L * cap * topK) : null;
            localWeights = allToAll ? alloc(4L * cap * topK) : null;
            sendHidden = allToAll ? alloc(2 * rows * h) : null;
            recvHidden = allToAll ? alloc(2 * rows * h) : null;
            sendMeta = allToAll ? alloc(8 * rows * topK) : null;
            recvMeta = allToAll ? alloc(8 * rows * topK) : null;
            pos = allToAll ? alloc(4L * cap * ranks) : null;
            sendCounts = allToAll ? alloc(4L * (ranks + experts)) : null;
            countMatrix = allToAll ? alloc(4L * ranks * ranks) : null;
            expertTotal = allToAll ? alloc(4L * experts) : null;
            slotOf = allToAll ? alloc(4 * rows * topK) : null;
            ecnt = allToAll ? alloc(4L * localExperts) : null;
            countsChunk = allToAll ? alloc(4L * localExperts) : null;
            partial = allToAll ? alloc(4 * rows * h) : null;
            ret = allToAll ? alloc(4 * rows * h) : null;
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    private DeviceBuffer alloc(long bytes) {
        DeviceBuffer b = context.allocate(Math.max(256, bytes));
        owned.add(b);
        return b;
    }

    /** @return bytes of the fixed buffers */
    long bytes() {
        return owned.stream().mapToLong(DeviceBuffer::byteSize).sum();
    }

    /**
     * Makes the per-expert batch buffers hold {@code tbCap} slots per expert in the row table and
     * {@code tc} rows per expert in the batches (grow-only). The rank's stream must be idle up to here.
     *
     * @param tbCap slots per expert in the row table
     * @param tc rows per expert of one chunk
     */
    void ensureBatches(int tbCap, int tc) {
        if (tbCap > rowOfCap) {
            if (rowOf != null) {
                rowOf.close();
            }
            rowOf = context.allocate(Math.max(256, 4L * localExperts * tbCap));
            rowOfCap = tbCap;
        }
        long rows = (long) localExperts * tc;
        if (rows > batchRowsCap) {
            if (batchIn != null) {
                batchIn.close();
                batchOut.close();
                batchIn = null;
            }
            batchIn = context.allocate(Math.max(256, 2 * rows * hidden));
            batchOut = context.allocate(Math.max(256, 4 * rows * hidden));
            batchRowsCap = rows;
        }
    }

    DeviceBuffer rowOf() {
        return rowOf;
    }

    int rowOfCap() {
        return rowOfCap;
    }

    DeviceBuffer batchIn() {
        return batchIn;
    }

    DeviceBuffer batchOut() {
        return batchOut;
    }

    /** Byte offset of row {@code row} of slab {@code slab} in a [R][cap][width] buffer of {@code elem}-byte values. */
    long slab(int slab, long row, long width, int elem) {
        return (((long) slab * cap + row) * width) * elem;
    }

    int cap() {
        return cap;
    }

    int ranks() {
        return ranks;
    }

    int topK() {
        return topK;
    }

    @Override
    public void close() {
        for (DeviceBuffer b : owned) {
            b.close();
        }
        owned.clear();
        for (DeviceBuffer b : new DeviceBuffer[] {rowOf, batchIn, batchOut}) {
            if (b != null) {
                b.close();
            }
        }
        rowOf = batchIn = batchOut = null;
        rowOfCap = 0;
        batchRowsCap = 0;
    }
}
