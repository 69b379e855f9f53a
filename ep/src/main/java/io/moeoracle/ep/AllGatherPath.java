package io.moeoracle.ep;

import io.moeoracle.api.tensor.DType;
import io.moeoracle.api.tensor.Routing;
import io.moeoracle.driver.cuda.CudaTensor;
import io.moeoracle.driver.nccl.NcclDataType;
import io.moeoracle.driver.nccl.NcclRedOp;
import java.util.List;

/**
 * The all-gather strategy, queued on every rank's stream: route the rank's own tokens (rows past its
 * count padded with id -1 up to the common {@code tPad}), all-gather rows, ids and weights in place,
 * run the rank's standard-format kernel over all {@code R * tPad} rows (only its experts contribute:
 * partial sums in F32), reduce-scatter the partials (each rank gets the sum for its own rows), convert
 * into the output. Fixed sizes throughout: nothing waits on the host, and the whole of it can be
 * captured into one CUDA graph per rank.
 */
final class AllGatherPath {
    private AllGatherPath() {
    }

    /**
     * @param engine the engine (shape, NCCL, group calls)
     * @param ios the ranks' checked inputs
     * @param tPad rows per rank the collectives carry
     * @param timed whether to record the time split
     * @return bytes each rank sends (and receives), by position in {@code ios}
     */
    static long[] enqueue(EpEngine engine, List<EpIo> ios, int tPad, boolean timed) {
        EpShape s = engine.shape();
        int h = s.hidden();
        int k = s.topK();
        long rows = (long) s.ranks() * tPad;
        for (EpIo io : ios) {
            EpRank r = io.rank;
            r.context.setCurrent();
            if (timed) {
                r.marks[0].record(r.stream);
            }
            long row0 = (long) r.rank * tPad;
            io.stageHidden(r.buf.agHidden.slice(row0 * h * 2, (long) io.tokens * h * 2), h);
            EpIo.RoutingPointers rp = io.routing(s.cap(), k);
            r.launches.route(r.stream, rp.logits(), rp.logitsBf16(), rp.ids(), rp.weights(), io.tokens, tPad,
                    s.experts(), k, r.buf.perm.address(), r.buf.agIds.address() + row0 * k * 4,
                    r.buf.agWeights.address() + row0 * k * 4, r.buf.flags.address());
        }
        engine.group(ios, "all-gather of rows and routing", r -> {
            long row0 = (long) r.rank * tPad;
            r.comm.allGather(r.buf.agHidden.address() + row0 * h * 2, r.buf.agHidden.address(), tPad * (long) h,
                    NcclDataType.BFLOAT16, r.stream);
            r.comm.allGather(r.buf.agIds.address() + row0 * k * 4, r.buf.agIds.address(), tPad * (long) k,
                    NcclDataType.INT32, r.stream);
            r.comm.allGather(r.buf.agWeights.address() + row0 * k * 4, r.buf.agWeights.address(), tPad * (long) k,
                    NcclDataType.FLOAT32, r.stream);
        });
        for (EpIo io : ios) {
            EpRank r = io.rank;
            r.context.setCurrent();
            if (timed) {
                r.marks[1].record(r.stream);
            }
            CudaTensor hidden = CudaTensor.wrap(r.buf.agHidden, DType.BF16, rows, h);
            CudaTensor ids = CudaTensor.wrap(r.buf.agIds, DType.I32, rows, k);
            CudaTensor weights = CudaTensor.wrap(r.buf.agWeights, DType.F32, rows, k);
            CudaTensor partial = CudaTensor.wrap(r.buf.agPartial, DType.F32, rows, h);
            r.runKernel(r.standard, () -> r.standard.forward(hidden, Routing.topK(ids, weights), partial));
            if (timed) {
                r.marks[2].record(r.stream);
            }
        }
        engine.group(ios, "reduce-scatter of partial outputs", r -> r.comm.reduceScatter(r.buf.agPartial.address(),
                r.buf.stageF32.address(), tPad * (long) h, NcclDataType.FLOAT32, NcclRedOp.SUM, r.stream));
        engine.reduceFlags(ios);
        long[] bytes = new long[ios.size()];
        for (int i = 0; i < ios.size(); i++) {
            EpIo io = ios.get(i);
            EpRank r = io.rank;
            r.context.setCurrent();
            io.fromStageF32(h);
            if (timed) {
                r.marks[3].record(r.stream);
            }
            bytes[i] = EpTrafficModel.allGatherBytes(tPad, k, h, s.ranks());
        }
        return bytes;
    }
}
