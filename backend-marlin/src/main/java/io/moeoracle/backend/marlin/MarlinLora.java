package io.moeoracle.backend.marlin;

import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.tensor.LoraAdapter;
import io.moeoracle.driver.cuda.CudaContext;
import io.moeoracle.driver.cuda.CudaStream;
import io.moeoracle.driver.cuda.DeviceBuffer;
import io.moeoracle.driver.cuda.KernelArgs;
import io.moeoracle.driver.cuda.LaunchConfig;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The LoRA adapters of one marlin kernel on its device and the launch that applies them (see the
 * LoRA section of marlin_moe.cu): a slot table on the device ({@code struct LoraSlot}: four factor
 * pointers, padded rank, scaling; rank 0 = empty) that the kernels read at run time, so a captured
 * graph sees adapters loaded after the capture; per slot the BF16 factors in the device layouts, with
 * the rank padded to a multiple of {@link #RANK_ALIGN} by zeros; and the scratch: the gate/up shrink
 * {@code U13}, the down shrink {@code U2} (summed by GEMM1's epilogue) and each sorted row's slot.
 * One launch ({@code moe_lora_shrink}) runs before GEMM1; the expand terms and the down shrink run in
 * the GEMM epilogues ({@link Terms}). Callers hold the kernel's lock.
 */
final class MarlinLora {
    /** {@code sizeof(struct LoraSlot)}: four pointers, an int and a float. */
    static final int SLOT_BYTES = 40;
    /** Threads per block of the shrink kernel. */
    static final int THREADS = 256;
    /** Rows of a tile per shrink block ({@code LORA_ROWS} in marlin_moe.cu): grid z covers the M tile. */
    static final int SHRINK_ROWS = 16;
    /** Warps per shrink block. */
    static final int SHRINK_WARPS = THREADS / 32;
    /** Device layouts pad every rank to a multiple of this (16-byte vector loads of BF16 rows). */
    static final int RANK_ALIGN = 8;

    /**
     * What the GEMM epilogues need for the LoRA terms ({@code lora_table} ... {@code lora_rmax} of
     * marlin_moe.cu's GEMM parameters); {@link #NONE}: no LoRA.
     *
     * @param table device address of the slot table
     * @param rowSlot device address of each sorted row's slot
     * @param u13 device address of the gate/up shrink rows ({@code 2 * rmax} floats each)
     * @param u2 device address of the down shrink rows ({@code rmax} floats each)
     * @param rmax the largest rank, padded
     */
    record Terms(long table, long rowSlot, long u13, long u2, int rmax) {
        static final Terms NONE = new Terms(0, 0, 0, 0, 0);
    }

    private final CudaContext context;
    private final CudaStream stream;
    private final MoeLayerSpec spec;
    private final int slots;
    private final int rmax;
    private final int h;
    private final DeviceBuffer table;
    private final DeviceBuffer[][] factors;
    private final boolean[] loaded;
    private DeviceBuffer u13;
    private DeviceBuffer u2;
    private DeviceBuffer rowSlot;
    DeviceBuffer stageIds;

    MarlinLora(CudaContext context, CudaStream stream, MoeLayerSpec spec) {
        this.context = context;
        this.stream = stream;
        this.spec = spec;
        this.slots = spec.adapterSlots();
        this.rmax = padRank(spec.maxLoraRank());
        this.h = spec.hiddenSize();
        this.table = context.allocate((long) slots * SLOT_BYTES);
        this.table.fill((byte) 0);
        this.factors = new DeviceBuffer[slots][];
        this.loaded = new boolean[slots];
    }

    /** @return {@code rank} rounded up to a multiple of {@link #RANK_ALIGN} */
    static int padRank(int rank) {
        return (rank + RANK_ALIGN - 1) / RANK_ALIGN * RANK_ALIGN;
    }

    /** @return bytes of one adapter's factors on the device at the spec's largest rank (padded) */
    static long adapterBytes(MoeLayerSpec spec) {
        long h = spec.hiddenSize();
        long i = spec.intermediateSize();
        return (long) spec.localExperts() * padRank(spec.maxLoraRank()) * (2 * h + 2 * i + i + h) * 2;
    }

    /** @return bytes of the LoRA scratch for {@code rows} token-expert rows: U13, U2, row slots, staged ids */
    static long scratchBytes(MoeLayerSpec spec, long rows) {
        long sorted = MarlinPlan.sortedRowsMax(rows, spec.localExperts());
        long perRow = 3L * padRank(spec.maxLoraRank()) * 4 + 4;
        return sorted * perRow + (long) spec.maxTokensPerCall() * 4;
    }

    /** Allocates the scratch for {@code rows} token-expert rows of at most {@code tokens} tokens. */
    void reserve(long rows, long tokens) {
        free(false);
        long sorted = MarlinPlan.sortedRowsMax(rows, spec.localExperts());
        u13 = alloc(sorted * 2 * rmax * 4);
        u2 = alloc(sorted * rmax * 4);
        rowSlot = alloc(sorted * 4);
        stageIds = alloc(tokens * 4);
    }

    private DeviceBuffer alloc(long bytes) {
        return context.allocate(Math.max(256, bytes));
    }

    boolean isLoaded(int slot) {
        return loaded[slot];
    }

    /** Uploads an adapter (already validated against the spec) into a slot, replacing what it held. */
    void load(int slot, LoraAdapter a) {
        DeviceBuffer[] bufs = new DeviceBuffer[4];
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment[] host = {a13(a, spec, arena), b13(a, spec, arena), a2(a, spec, arena), b2(a, spec, arena)};
            for (int k = 0; k < 4; k++) {
                bufs[k] = context.allocate(Math.max(256, host[k].byteSize()));
                bufs[k].copyFromHost(host[k]);
            }
            stream.synchronize(); // a queued forward or graph may still read the old factors
            MemorySegment entry = arena.allocate(SLOT_BYTES, 8);
            slotEntry(entry, bufs[0].address(), bufs[1].address(), bufs[2].address(), bufs[3].address(),
                    padRank(a.rank()), (float) a.scaling());
            table.copyFromHost(entry, (long) slot * SLOT_BYTES);
        } catch (RuntimeException e) {
            for (DeviceBuffer b : bufs) {
                if (b != null) {
                    b.close();
                }
            }
            throw e;
        }
        release(slot);
        factors[slot] = bufs;
        loaded[slot] = true;
    }

    /** Empties a slot: rank 0 in the table, then frees the factors. */
    void unload(int slot) {
        stream.synchronize();
        try (Arena arena = Arena.ofConfined()) {
            table.copyFromHost(arena.allocate(SLOT_BYTES, 8), (long) slot * SLOT_BYTES);
        }
        release(slot);
        loaded[slot] = false;
    }

    private void release(int slot) {
        if (factors[slot] != null) {
            for (DeviceBuffer b : factors[slot]) {
                b.close();
            }
            factors[slot] = null;
        }
    }

    /**
     * Queues the one LoRA launch before GEMM1: the gate/up shrink of this call's rows, each row's slot,
     * and zeroed down-shrink rows; returns what the GEMM epilogues need for the rest.
     */
    Terms enqueueShrink(Arena arena, MarlinLaunches l, MarlinPlan plan, MarlinScratch s, long hidden, long ids) {
        l.launch(shrinkKernel(plan.m()), shrinkGrid(rmax, plan.tilesMax(), plan.m()), KernelArgs.builder().pointer(hidden)
                .i32(h).pointer(s.sorted()).pointer(s.tileExpert()).pointer(s.numTiles()).i32(plan.m()).pointer(ids)
                .i32(spec.topK()).i32(slots).pointer(table).i32(rmax).pointer(u13).pointer(u2).pointer(rowSlot)
                .build(arena));
        return new Terms(table.address(), rowSlot.address(), u13.address(), u2.address(), rmax);
    }

    /**
     * @return outputs per warp of the shrink for M tile {@code m}: 1 ({@code moe_lora_shrink_q1}) at every M.
     *     The 4-output kernel reads a quarter of the x rows from L2 but, with a quarter of the warps, was
     *     latency-bound at T=256 on an H100 (127 µs against 84); it stays in the image for the harness.
     */
    static int shrinkOutputsPerWarp(int m) {
        return 1;
    }

    /** @return the shrink kernel for M tile {@code m} ({@code moe_lora_shrink_q1} or {@code moe_lora_shrink}) */
    static String shrinkKernel(int m) {
        return shrinkOutputsPerWarp(m) == 1 ? "moe_lora_shrink_q1" : "moe_lora_shrink";
    }

    /** {@link #shrinkOutputsPerWarp} gate/up outputs ({@code 2 * rmax}) per warp, per tile and {@link #SHRINK_ROWS} rows. */
    static LaunchConfig shrinkGrid(int rmax, int tiles, int m) {
        int perBlock = SHRINK_WARPS * shrinkOutputsPerWarp(m);
        return new LaunchConfig((2 * rmax + perBlock - 1) / perBlock, tiles, (m + SHRINK_ROWS - 1) / SHRINK_ROWS,
                THREADS, 1, 1, 0);
    }

    /** {@code [El][2rp][H]}: per expert the gate A rows, zero rows up to rp, the up A rows, zero rows. */
    static MemorySegment a13(LoraAdapter a, MoeLayerSpec spec, Arena arena) {
        int r = a.rank();
        int rp = padRank(r);
        long row = (long) spec.hiddenSize() * 2;
        int el = spec.localExperts();
        MemorySegment out = arena.allocate(2L * rp * row * el, 16);
        for (long e = 0; e < el; e++) {
            MemorySegment.copy(a.gateA().data(), e * r * row, out, 2 * e * rp * row, r * row);
            MemorySegment.copy(a.upA().data(), e * r * row, out, (2 * e + 1) * rp * row, r * row);
        }
        return out;
    }

    /** {@code [El][2I][rp]}: row {@code 2c} is gate B row c, row {@code 2c+1} up B row c (w13's interleave). */
    static MemorySegment b13(LoraAdapter a, MoeLayerSpec spec, Arena arena) {
        long src = (long) a.rank() * 2;
        long dst = (long) padRank(a.rank()) * 2;
        int el = spec.localExperts();
        int in = spec.intermediateSize();
        MemorySegment out = arena.allocate(2L * el * in * dst, 16);
        for (long e = 0; e < el; e++) {
            for (long c = 0; c < in; c++) {
                MemorySegment.copy(a.gateB().data(), (e * in + c) * src, out, (e * 2 * in + 2 * c) * dst, src);
                MemorySegment.copy(a.upB().data(), (e * in + c) * src, out, (e * 2 * in + 2 * c + 1) * dst, src);
            }
        }
        return out;
    }

    /** {@code [El][rp][I]}: the down A rows, zero rows up to rp. */
    static MemorySegment a2(LoraAdapter a, MoeLayerSpec spec, Arena arena) {
        int r = a.rank();
        long row = (long) spec.intermediateSize() * 2;
        int el = spec.localExperts();
        MemorySegment out = arena.allocate((long) padRank(r) * row * el, 16);
        for (long e = 0; e < el; e++) {
            MemorySegment.copy(a.downA().data(), e * r * row, out, e * padRank(r) * row, r * row);
        }
        return out;
    }

    /** {@code [El][H][rp]}: the down B rows, each padded with zeros to rp. */
    static MemorySegment b2(LoraAdapter a, MoeLayerSpec spec, Arena arena) {
        long src = (long) a.rank() * 2;
        long dst = (long) padRank(a.rank()) * 2;
        long rows = (long) spec.localExperts() * spec.hiddenSize();
        MemorySegment out = arena.allocate(rows * dst, 16);
        for (long n = 0; n < rows; n++) {
            MemorySegment.copy(a.downB().data(), n * src, out, n * dst, src);
        }
        return out;
    }

    /** Writes one {@code struct LoraSlot}. */
    static void slotEntry(MemorySegment dst, long a13, long b13, long a2, long b2, int rank, float scaling) {
        dst.set(ValueLayout.JAVA_LONG, 0, a13);
        dst.set(ValueLayout.JAVA_LONG, 8, b13);
        dst.set(ValueLayout.JAVA_LONG, 16, a2);
        dst.set(ValueLayout.JAVA_LONG, 24, b2);
        dst.set(ValueLayout.JAVA_INT, 32, rank);
        dst.set(ValueLayout.JAVA_FLOAT, 36, scaling);
    }

    /** Frees the scratch, and with {@code all} the factors and the table too. */
    void free(boolean all) {
        for (DeviceBuffer b : new DeviceBuffer[] {u13, u2, rowSlot, stageIds}) {
            if (b != null) {
                b.close();
            }
        }
        u13 = u2 = rowSlot = stageIds = null;
        if (all) {
            for (int s = 0; s < slots; s++) {
                release(s);
                loaded[s] = false;
            }
            table.close();
        }
    }
}
