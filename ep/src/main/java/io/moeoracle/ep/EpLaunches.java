package io.moeoracle.ep;

import io.moeoracle.driver.cuda.CudaContext;
import io.moeoracle.driver.cuda.CudaFunction;
import io.moeoracle.driver.cuda.CudaModule;
import io.moeoracle.driver.cuda.CudaStream;
import io.moeoracle.driver.cuda.KernelArgs;
import io.moeoracle.driver.cuda.LaunchConfig;
import java.lang.foreign.Arena;

/**
 * The dispatch/combine kernels of one rank's GPU ({@code ep_kernels.cu}) and their launches, each
 * queued on the given stream. Argument order follows the kernels' signatures; every size is an upper
 * bound known on the host, the real counts are read on the device.
 */
final class EpLaunches implements AutoCloseable {
    static final int ROUTE_WARPS = 4;
    static final int ROW_THREADS = 128;
    static final int FLAT_THREADS = 256;

    private final CudaModule module;
    private final CudaFunction route;
    private final CudaFunction toBf16;
    private final CudaFunction pack;
    private final CudaFunction expand;
    private final CudaFunction checkCounts;
    private final CudaFunction gather;
    private final CudaFunction combineLocal;
    private final CudaFunction combine;

    EpLaunches(CudaContext context, byte[] image) {
        this.module = context.loadModule(image);
        try {
            route = module.function("ep_route");
            toBf16 = module.function("ep_f32_to_bf16");
            pack = module.function("ep_a2a_pack");
            expand = module.function("ep_a2a_expand");
            checkCounts = module.function("ep_a2a_check_counts");
            gather = module.function("ep_a2a_gather");
            combineLocal = module.function("ep_a2a_combine_local");
            combine = module.function("ep_a2a_combine");
        } catch (RuntimeException e) {
            module.close();
            throw e;
        }
    }

    /** Top-k (or given ids) into virtual ids and weights for rows [0, tPad); rows >= t get id -1. */
    void route(CudaStream s, long logits, boolean logitsBf16, long idsIn, long wIn, int t, int tPad, int e, int k,
               long perm, long idsOut, long wOut, long err) {
        if (tPad == 0) {
            return;
        }
        try (Arena a = Arena.ofConfined()) {
            KernelArgs args = KernelArgs.builder().pointer(logits).i32(logitsBf16 ? 1 : 0).pointer(idsIn).pointer(wIn)
                    .i32(t).i32(tPad).i32(e).i32(k).pointer(perm).pointer(idsOut).pointer(wOut).pointer(err).build(a);
            route.launch(LaunchConfig.of((tPad + ROUTE_WARPS - 1) / ROUTE_WARPS, 32 * ROUTE_WARPS), s, args);
        }
    }

    /** n F32 values to BF16. */
    void toBf16(CudaStream s, long in, long out, long n) {
        if (n == 0) {
            return;
        }
        try (Arena a = Arena.ofConfined()) {
            KernelArgs args = KernelArgs.builder().pointer(in).pointer(out).i64(n).build(a);
            long blocks = Math.min((n + FLAT_THREADS - 1) / FLAT_THREADS, 65_535L * 16);
            toBf16.launch(LaunchConfig.of((int) blocks, FLAT_THREADS), s, args);
        }
    }

    /** Source side of all-to-all: rows into per-rank slabs, positions, counts per rank and per expert. */
    void pack(CudaStream s, long hidden, long ids, long w, int t, int k, int h, int el, int ranks, int cap,
              long sendHidden, long sendMeta, long pos, long sendCount, long expertCount, long err) {
        if (t == 0) {
            return;
        }
        try (Arena a = Arena.ofConfined()) {
            KernelArgs args = KernelArgs.builder().pointer(hidden).pointer(ids).pointer(w).i32(t).i32(k).i32(h).i32(el)
                    .i32(ranks).i32(cap).pointer(sendHidden).pointer(sendMeta).pointer(pos).pointer(sendCount)
                    .pointer(expertCount).pointer(err).build(a);
            pack.launch(LaunchConfig.of(t, ROW_THREADS), s, args);
        }
    }

    /** Receiver side: each local choice of each received row gets a slot in its expert's batch. */
    void expand(CudaStream s, long recvMeta, long counts, int ranks, int me, int cap, int k, int el, int tbCap,
                long ecnt, long rowOf, long slotOf, long err) {
        try (Arena a = Arena.ofConfined()) {
            KernelArgs args = KernelArgs.builder().pointer(recvMeta).pointer(counts).i32(ranks).i32(me).i32(cap).i32(k)
                    .i32(el).i32(tbCap).pointer(ecnt).pointer(rowOf).pointer(slotOf).pointer(err).build(a);
            expand.launch(LaunchConfig.covering((long) ranks * cap * k, FLAT_THREADS), s, args);
        }
    }

    /** Flags a mismatch between the expanded and the exchanged per-expert counts. */
    void checkCounts(CudaStream s, long ecnt, long expertTotal, int el, int me, long err) {
        try (Arena a = Arena.ofConfined()) {
            KernelArgs args = KernelArgs.builder().pointer(ecnt).pointer(expertTotal).i32(el).i32(me).pointer(err).build(a);
            checkCounts.launch(LaunchConfig.covering(el, FLAT_THREADS), s, args);
        }
    }

    /** One chunk of the batched format: rows [c0, c0+tc) of every local expert into X, their counts. */
    void gather(CudaStream s, long recvHidden, long rowOf, long ecnt, int tbCap, int c0, int tc, int el, int h,
                long x, long countsChunk) {
        try (Arena a = Arena.ofConfined()) {
            KernelArgs args = KernelArgs.builder().pointer(recvHidden).pointer(rowOf).pointer(ecnt).i32(tbCap).i32(c0)
                    .i32(tc).i32(h).pointer(x).pointer(countsChunk).build(a);
            gather.launch(LaunchConfig.of(tc, el, 1, ROW_THREADS, 1, 1), s, args);
        }
    }

    /** Adds one chunk's expert outputs, weighted, into each received row's partial sum. */
    void combineLocal(CudaStream s, long y, long slotOf, long recvMeta, long counts, int ranks, int me, int cap, int k,
                      int el, int h, int c0, int tc, boolean first, long partial) {
        try (Arena a = Arena.ofConfined()) {
            KernelArgs args = KernelArgs.builder().pointer(y).pointer(slotOf).pointer(recvMeta).pointer(counts).i32(ranks)
                    .i32(me).i32(cap).i32(k).i32(el).i32(h).i32(c0).i32(tc).i32(first ? 1 : 0).pointer(partial).build(a);
            combineLocal.launch(LaunchConfig.of(ranks * cap, ROW_THREADS), s, args);
        }
    }

    /** Source side: each token's partials from every rank, summed, into the output (F32 or BF16). */
    void combine(CudaStream s, long ret, long pos, int t, int ranks, int cap, int h, long out, boolean outBf16) {
        if (t == 0) {
            return;
        }
        try (Arena a = Arena.ofConfined()) {
            KernelArgs args = KernelArgs.builder().pointer(ret).pointer(pos).i32(t).i32(ranks).i32(cap).i32(h)
                    .pointer(out).i32(outBf16 ? 1 : 0).build(a);
            combine.launch(LaunchConfig.of(t, ROW_THREADS), s, args);
        }
    }

    @Override
    public void close() {
        module.close();
    }
}
