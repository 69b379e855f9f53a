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
 * The LoRA adapters of one marlin kernel on its device and the launches that apply them (see the
 * LoRA section of marlin_moe.cu): a slot table on the device ({@code struct LoraSlot}: four factor
 * pointers, rank, scaling; rank 0 = empty) that the kernels read at run time, so a captured graph
 * sees adapters loaded after the capture; per slot the BF16 factors in the device layouts; and the
 * scratch of the shrink ({@code U}) and expand ({@code D}) results, by sorted row. Callers hold the
 * kernel's lock.
 */
final class MarlinLora {
    /** {@code sizeof(struct LoraSlot)}: four pointers, an int and a float. */
    static final int SLOT_BYTES = 40;
    /** Threads per block of the shrink and expand kernels. */
    static final int THREADS = 256;
    /** Rows per tile the LoRA kernels hold in shared memory ({@code LORA_M_MAX} in marlin_moe.cu). */
    static final int ROWS_MAX = 128;
    /** Warps (outputs q) per shrink block. */
    static final int SHRINK_WARPS = THREADS / 32;

    private final CudaContext context;
    private final CudaStream stream;
    private final MoeLayerSpec spec;
    private final int slots;
    private final int maxRank;
    private final int h;
    private final int i;
    private final int hp;
    private final int ip;
    private final DeviceBuffer table;
    private final DeviceBuffer[][] factors;
    private final boolean[] loaded;
    private DeviceBuffer u13;
    private DeviceBuffer u2;
    private DeviceBuffer d13;
    private DeviceBuffer d2;
    DeviceBuffer stageIds;

    MarlinLora(CudaContext context, CudaStream stream, MoeLayerSpec spec) {
        this.context = context;
        this.stream = stream;
        this.spec = spec;
        this.slots = spec.adapterSlots();
        this.maxRank = spec.maxLoraRank();
        this.h = spec.hiddenSize();
        this.i = spec.intermediateSize();
        this.hp = MarlinLayout.pad(h);
        this.ip = MarlinLayout.pad(i);
        this.table = context.allocate((long) slots * SLOT_BYTES);
        this.table.fill((byte) 0);
        this.factors = new DeviceBuffer[slots][];
        this.loaded = new boolean[slots];
    }

    /** @return bytes of one adapter's factors on the device at the spec's largest rank */
    static long adapterBytes(MoeLayerSpec spec) {
        long h = spec.hiddenSize();
        long i = spec.intermediateSize();
        return (long) spec.localExperts() * spec.maxLoraRank() * (2 * h + 2 * i + i + h) * 2;
    }

    /** @return bytes of the LoRA scratch for {@code rows} token-expert rows */
    static long scratchBytes(MoeLayerSpec spec, long rows) {
        long sorted = MarlinPlan.sortedRowsMax(rows, spec.localExperts());
        long perRow = 3L * spec.maxLoraRank() + 2L * MarlinLayout.pad(spec.intermediateSize())
                + MarlinLayout.pad(spec.hiddenSize());
        return sorted * perRow * 4 + (long) spec.maxTokensPerCall() * 4;
    }

    /** Allocates the scratch for {@code rows} token-expert rows of at most {@code tokens} tokens. */
    void reserve(long rows, long tokens) {
        free(false);
        long sorted = MarlinPlan.sortedRowsMax(rows, spec.localExperts());
        u13 = alloc(sorted * 2 * maxRank * 4);
        u2 = alloc(sorted * maxRank * 4);
        d13 = alloc(sorted * 2L * ip * 4);
        d2 = alloc(sorted * (long) hp * 4);
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
            MemorySegment[] host = {a13(a, spec, arena), b13(a, spec, arena), copy(a.downA().data(), arena),
                copy(a.downB().data(), arena)};
            for (int k = 0; k < 4; k++) {
                bufs[k] = context.allocate(Math.max(256, host[k].byteSize()));
                bufs[k].copyFromHost(host[k]);
            }
            stream.synchronize(); // a queued forward or graph may still read the old factors
            MemorySegment entry = arena.allocate(SLOT_BYTES, 8);
            slotEntry(entry, bufs[0].address(), bufs[1].address(), bufs[2].address(), bufs[3].address(), a.rank(),
                    (float) a.scaling());
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

    /** Queues the gate/up terms of this call's rows; returns GEMM1's {@code lora_add}. */
    long enqueueW13(Arena arena, MarlinLaunches l, MarlinPlan plan, MarlinScratch s, long hidden, long ids) {
        int uStride = 2 * maxRank;
        l.launch("moe_lora_shrink", shrinkGrid(uStride, plan.tilesMax()), KernelArgs.builder().pointer(hidden).i32(h)
                .i32(0).i32(h).pointer(s.sorted).pointer(s.tileExpert).pointer(s.numTiles).i32(plan.m()).pointer(ids)
                .i32(spec.topK()).i32(slots).pointer(table).i32(0).pointer(u13).i32(uStride).build(arena));
        l.launch("moe_lora_expand", expandGrid(2 * ip, plan.tilesMax()), KernelArgs.builder().pointer(s.sorted)
                .pointer(s.tileExpert).pointer(s.numTiles).i32(plan.m()).pointer(ids).i32(spec.topK()).i32(slots)
                .pointer(table).i32(0).pointer(u13).i32(uStride).i32(2 * i).i32(2 * ip).pointer(d13).build(arena));
        return d13.address();
    }

    /** Queues the down terms from GEMM1's intermediate rows; returns GEMM2's {@code lora_add}. */
    long enqueueW2(Arena arena, MarlinLaunches l, MarlinPlan plan, MarlinScratch s, long ids) {
        l.launch("moe_lora_shrink", shrinkGrid(maxRank, plan.tilesMax()), KernelArgs.builder().pointer(s.inter).i32(ip)
                .i32(1).i32(i).pointer(s.sorted).pointer(s.tileExpert).pointer(s.numTiles).i32(plan.m()).pointer(ids)
                .i32(spec.topK()).i32(slots).pointer(table).i32(1).pointer(u2).i32(maxRank).build(arena));
        l.launch("moe_lora_expand", expandGrid(hp, plan.tilesMax()), KernelArgs.builder().pointer(s.sorted)
                .pointer(s.tileExpert).pointer(s.numTiles).i32(plan.m()).pointer(ids).i32(spec.topK()).i32(slots)
                .pointer(table).i32(1).pointer(u2).i32(maxRank).i32(h).i32(hp).pointer(d2).build(arena));
        return d2.address();
    }

    /** One warp per shrink output q ({@code qMax} of them) and tile. */
    static LaunchConfig shrinkGrid(int qMax, int tiles) {
        return new LaunchConfig((qMax + SHRINK_WARPS - 1) / SHRINK_WARPS, tiles, 1, THREADS, 1, 1, 0);
    }

    /** One thread per output column of {@code nPad} and tile. */
    static LaunchConfig expandGrid(int nPad, int tiles) {
        return new LaunchConfig((nPad + THREADS - 1) / THREADS, tiles, 1, THREADS, 1, 1, 0);
    }

    /** {@code [El][2r][H]}: per expert the gate A rows, then the up A rows. */
    static MemorySegment a13(LoraAdapter a, MoeLayerSpec spec, Arena arena) {
        long per = (long) a.rank() * spec.hiddenSize() * 2;
        int el = spec.localExperts();
        MemorySegment out = arena.allocate(2 * per * el, 16);
        for (int e = 0; e < el; e++) {
            MemorySegment.copy(a.gateA().data(), e * per, out, 2 * e * per, per);
            MemorySegment.copy(a.upA().data(), e * per, out, (2L * e + 1) * per, per);
        }
        return out;
    }

    /** {@code [El][2I][r]}: row {@code 2c} is gate B row c, row {@code 2c+1} up B row c (w13's interleave). */
    static MemorySegment b13(LoraAdapter a, MoeLayerSpec spec, Arena arena) {
        long row = (long) a.rank() * 2;
        int el = spec.localExperts();
        int in = spec.intermediateSize();
        MemorySegment out = arena.allocate(2L * el * in * row, 16);
        for (long e = 0; e < el; e++) {
            for (long c = 0; c < in; c++) {
                long src = (e * in + c) * row;
                MemorySegment.copy(a.gateB().data(), src, out, (e * 2 * in + 2 * c) * row, row);
                MemorySegment.copy(a.upB().data(), src, out, (e * 2 * in + 2 * c + 1) * row, row);
            }
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

    private static MemorySegment copy(MemorySegment src, Arena arena) {
        MemorySegment dst = arena.allocate(Math.max(1, src.byteSize()), 16);
        MemorySegment.copy(src, 0, dst, 0, src.byteSize());
        return dst;
    }

    /** Frees the scratch, and with {@code all} the factors and the table too. */
    void free(boolean all) {
        for (DeviceBuffer b : new DeviceBuffer[] {u13, u2, d13, d2, stageIds}) {
            if (b != null) {
                b.close();
            }
        }
        u13 = u2 = d13 = d2 = stageIds = null;
        if (all) {
            for (int s = 0; s < slots; s++) {
                release(s);
                loaded[s] = false;
            }
            table.close();
        }
    }
}
