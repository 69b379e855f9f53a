package io.moeoracle.ep;

import io.moeoracle.api.error.NativeFailureException;
import io.moeoracle.api.tensor.DType;
import io.moeoracle.driver.cuda.CudaTensor;
import io.moeoracle.driver.cuda.DeviceBuffer;
import io.moeoracle.driver.nccl.NcclDataType;
import io.moeoracle.driver.nccl.NcclRedOp;
import java.util.Arrays;
import java.util.List;

/**
 * The all-to-all strategy with exact counts. Per rank: route its tokens, pack each token once into the
 * slab of every rank holding one of its experts (with its k ids and weights), count rows per rank and
 * pairs per expert; all-gather the row counts and all-reduce the expert loads; copy them to the host
 * (the one host wait of this strategy: NCCL's send/receive sizes live on the host); send and receive
 * exactly the routed rows; expand the received rows into per-expert batches ({@code [E_local, tc, H]},
 * in chunks when an expert is hot) for the batched kernel; sum each received row's local experts,
 * weighted, into a partial; send the partials back; sum them per token into the output.
 */
final class AllToAllPath {
    private AllToAllPath() {
    }

    /** What one forward moved: the row counts (row s: what rank s sent to each rank) and each rank's bytes. */
    record Moved(int[][] counts, long[] sent, long[] received) {
    }

    static Moved enqueue(EpEngine engine, List<EpIo> ios, boolean timed) {
        EpShape s = engine.shape();
        int h = s.hidden();
        int k = s.topK();
        int ranks = s.ranks();
        int el = s.localExperts();
        int cap = s.cap();
        for (EpIo io : ios) {
            EpRank r = io.rank;
            r.context.setCurrent();
            if (timed) {
                r.marks[0].record(r.stream);
            }
            io.stageHidden(r.buf.stageBf16.slice(0, (long) io.tokens * h * 2), h);
            EpIo.RoutingPointers rp = io.routing(cap, k);
            r.launches.route(r.stream, rp.logits(), rp.logitsBf16(), rp.ids(), rp.weights(), io.tokens, io.tokens,
                    s.experts(), k, r.buf.perm.address(), r.buf.localIds.address(), r.buf.localWeights.address(),
                    r.buf.flags.address());
            r.buf.sendCounts.fillAsync((byte) 0, r.stream);
            r.launches.pack(r.stream, r.buf.stageBf16.address(), r.buf.localIds.address(), r.buf.localWeights.address(),
                    io.tokens, k, h, el, ranks, cap, r.buf.sendHidden.address(), r.buf.sendMeta.address(),
                    r.buf.pos.address(), r.buf.sendCounts.address(), r.buf.sendCounts.address() + 4L * ranks,
                    r.buf.flags.address());
        }
        engine.group(ios, "exchange of row counts and expert loads", r -> {
            r.comm.allGather(r.buf.sendCounts.address(), r.buf.countMatrix.address(), ranks, NcclDataType.INT32, r.stream);
            r.comm.allReduce(r.buf.sendCounts.address() + 4L * ranks, r.buf.expertTotal.address(), s.experts(),
                    NcclDataType.INT32, NcclRedOp.SUM, r.stream);
        });
        for (EpIo io : ios) {
            EpRank r = io.rank;
            r.context.setCurrent();
            r.buf.countMatrix.slice(0, 4L * ranks * ranks).copyToHostAsync(r.hostSlice(0, (long) ranks * ranks), r.stream);
            r.buf.expertTotal.slice(4L * r.rank * el, 4L * el).copyToHostAsync(r.hostSlice((long) ranks * ranks, el),
                    r.stream);
            r.countsReady.record(r.stream);
        }
        engine.await(ios, rank -> rank.countsReady, "exchanging the row counts of an all-to-all forward");
        int[][] counts = readCounts(ios, ranks);
        int[] maxLoad = new int[ios.size()];
        EpBatchPlan[] plans = new EpBatchPlan[ios.size()];
        for (int i = 0; i < ios.size(); i++) {
            EpRank r = ios.get(i).rank;
            r.hostSyncs++;
            for (int e = 0; e < el; e++) {
                maxLoad[i] = Math.max(maxLoad[i], r.hostInt((long) ranks * ranks + e));
            }
            plans[i] = EpBatchPlan.of(maxLoad[i], el, EpBatchPlan.bytesPerRow(h, s.intermediate()), engine.batchBudget(),
                    r.batched.spec().maxTokensPerCall());
            if (plans[i].chunks() > 0) {
                r.context.setCurrent();
                r.buf.ensureBatches(plans[i].tableRows(), plans[i].chunkRows());
            }
        }
        for (EpIo io : ios) {
            EpRank r = io.rank;
            int me = r.rank;
            long self = counts[me][me];
            if (self > 0) {
                r.context.setCurrent();
                slab(r.buf.recvHidden, r.buf, me, self, h, 2).copyFromAsync(slab(r.buf.sendHidden, r.buf, me, self, h, 2),
                        r.stream);
                slab(r.buf.recvMeta, r.buf, me, self, 2L * k, 4).copyFromAsync(slab(r.buf.sendMeta, r.buf, me, self,
                        2L * k, 4), r.stream);
            }
        }
        engine.group(ios, "all-to-all dispatch of routed rows", r -> {
            int me = r.rank;
            for (int d = 0; d < ranks; d++) {
                int n = counts[me][d];
                if (d != me && n > 0) {
                    r.comm.send(r.buf.sendHidden.address() + r.buf.slab(d, 0, h, 2), (long) n * h, NcclDataType.BFLOAT16,
                            d, r.stream);
                    r.comm.send(r.buf.sendMeta.address() + r.buf.slab(d, 0, 2L * k, 4), 2L * n * k, NcclDataType.INT32,
                            d, r.stream);
                }
            }
            for (int p = 0; p < ranks; p++) {
                int n = counts[p][me];
                if (p != me && n > 0) {
                    r.comm.recv(r.buf.recvHidden.address() + r.buf.slab(p, 0, h, 2), (long) n * h, NcclDataType.BFLOAT16,
                            p, r.stream);
                    r.comm.recv(r.buf.recvMeta.address() + r.buf.slab(p, 0, 2L * k, 4), 2L * n * k, NcclDataType.INT32,
                            p, r.stream);
                }
            }
        });
        for (int i = 0; i < ios.size(); i++) {
            EpRank r = ios.get(i).rank;
            EpBatchPlan plan = plans[i];
            r.context.setCurrent();
            if (plan.chunks() > 0) {
                r.buf.ecnt.fillAsync((byte) 0, r.stream);
                r.launches.expand(r.stream, r.buf.recvMeta.address(), r.buf.countMatrix.address(), ranks, r.rank, cap, k,
                        el, r.buf.rowOfCap(), r.buf.ecnt.address(), r.buf.rowOf().address(), r.buf.slotOf.address(),
                        r.buf.flags.address());
                r.launches.checkCounts(r.stream, r.buf.ecnt.address(), r.buf.expertTotal.address(), el, r.rank,
                        r.buf.flags.address());
            }
            if (timed) {
                r.marks[1].record(r.stream);
            }
            for (int c = 0; c < plan.chunks(); c++) {
                int tc = plan.chunkRows();
                int c0 = c * tc;
                r.launches.gather(r.stream, r.buf.recvHidden.address(), r.buf.rowOf().address(), r.buf.ecnt.address(),
                        r.buf.rowOfCap(), c0, tc, el, h, r.buf.batchIn().address(), r.buf.countsChunk.address());
                CudaTensor x = CudaTensor.wrap(r.buf.batchIn(), DType.BF16, el, tc, h);
                CudaTensor n = CudaTensor.wrap(r.buf.countsChunk, DType.I32, el);
                CudaTensor y = CudaTensor.wrap(r.buf.batchOut(), DType.F32, el, tc, h);
                r.runKernel(r.batched, () -> r.batched.forwardBatched(x, n, y));
                r.launches.combineLocal(r.stream, r.buf.batchOut().address(), r.buf.slotOf.address(),
                        r.buf.recvMeta.address(), r.buf.countMatrix.address(), ranks, r.rank, cap, k, el, h, c0, tc, c == 0,
                        r.buf.partial.address());
            }
            if (timed) {
                r.marks[2].record(r.stream);
            }
            long self = counts[r.rank][r.rank];
            if (self > 0) {
                slab(r.buf.ret, r.buf, r.rank, self, h, 4).copyFromAsync(slab(r.buf.partial, r.buf, r.rank, self, h, 4),
                        r.stream);
            }
        }
        engine.group(ios, "all-to-all return of partial outputs", r -> {
            int me = r.rank;
            for (int p = 0; p < ranks; p++) {
                int n = counts[p][me];
                if (p != me && n > 0) {
                    r.comm.send(r.buf.partial.address() + r.buf.slab(p, 0, h, 4), (long) n * h, NcclDataType.FLOAT32, p,
                            r.stream);
                }
            }
            for (int d = 0; d < ranks; d++) {
                int n = counts[me][d];
                if (d != me && n > 0) {
                    r.comm.recv(r.buf.ret.address() + r.buf.slab(d, 0, h, 4), (long) n * h, NcclDataType.FLOAT32, d,
                            r.stream);
                }
            }
        });
        engine.reduceFlags(ios);
        long[] sent = new long[ios.size()];
        long[] received = new long[ios.size()];
        for (int i = 0; i < ios.size(); i++) {
            EpIo io = ios.get(i);
            EpRank r = io.rank;
            r.context.setCurrent();
            r.launches.combine(r.stream, r.buf.ret.address(), r.buf.pos.address(), io.tokens, ranks, cap, h,
                    io.outAddress(), io.outBf16());
            if (timed) {
                r.marks[3].record(r.stream);
            }
            sent[i] = EpTrafficModel.allToAllSentBytes(counts, r.rank, s.experts(), k, h);
            received[i] = EpTrafficModel.allToAllReceivedBytes(counts, r.rank, s.experts(), k, h);
        }
        return new Moved(counts, sent, received);
    }

    private static DeviceBuffer slab(DeviceBuffer b, EpBuffers buf, int slab, long rows, long width, int elem) {
        return b.slice(buf.slab(slab, 0, width, elem), rows * width * elem);
    }

    /** The count matrix as the ranks read it; ranks driven by one process must agree. */
    private static int[][] readCounts(List<EpIo> ios, int ranks) {
        int[][] m = new int[ranks][ranks];
        EpRank first = ios.getFirst().rank;
        for (int a = 0; a < ranks; a++) {
            for (int b = 0; b < ranks; b++) {
                m[a][b] = first.hostInt((long) a * ranks + b);
            }
        }
        for (EpIo io : ios) {
            for (int a = 0; a < ranks; a++) {
                for (int b = 0; b < ranks; b++) {
                    if (io.rank.hostInt((long) a * ranks + b) != m[a][b]) {
                        throw new NativeFailureException("ncclAllGather", "row counts", "rank " + io.rank.rank
                                + " read counts " + Arrays.toString(row(io.rank, a, ranks)) + " for rank " + a
                                + " but rank " + first.rank + " read " + Arrays.toString(m[a])
                                + ": the count exchange is inconsistent");
                    }
                }
            }
        }
        return m;
    }

    private static int[] row(EpRank r, int a, int ranks) {
        int[] out = new int[ranks];
        for (int b = 0; b < ranks; b++) {
            out[b] = r.hostInt((long) a * ranks + b);
        }
        return out;
    }
}
