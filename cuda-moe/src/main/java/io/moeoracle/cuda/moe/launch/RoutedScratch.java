package io.moeoracle.cuda.moe.launch;

import io.moeoracle.driver.cuda.CudaContext;
import io.moeoracle.driver.cuda.DeviceBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The device scratch of a routed MoE forward that the CUDA backends allocate alike: routing results
 * (top-k ids and weights), the expert-sorted row list and its tiles, the FP32 accumulator, the GEMM1
 * intermediate, BF16 activations and the staging buffers of host tensors. A backend extends it with
 * buffers of its own ({@link #allocate}), all freed together. Every buffer holds at least 256 bytes.
 * Callers hold the kernel's lock.
 */
public class RoutedScratch {
    /** The smallest allocation: a zero-sized buffer still gets a valid, aligned address. */
    public static final long MIN_BYTES = 256;

    private final CudaContext context;
    private final List<DeviceBuffer> all = new ArrayList<>();
    private DeviceBuffer topkIds;
    private DeviceBuffer topkW;
    private DeviceBuffer sorted;
    private DeviceBuffer tileExpert;
    private DeviceBuffer numTiles;
    private DeviceBuffer acc;
    private DeviceBuffer inter;
    private DeviceBuffer hiddenBf16;
    private DeviceBuffer stageLogits;
    private DeviceBuffer stageIds;
    private DeviceBuffer stageW;
    private DeviceBuffer stageOut;

    /**
     * How large the shared buffers are.
     *
     * @param rows token-expert rows (T * k, or E_local * Tb)
     * @param sortedRows the longest expert-sorted row list (rows padded to the M tile per expert)
     * @param tiles the longest list of M tiles
     * @param accRows rows of the FP32 accumulator
     * @param inputRows rows of hidden and out (T, or E_local * Tb)
     * @param hidden H
     * @param interBytes bytes of the GEMM1 intermediate
     * @param logitsRows tokens whose router logits are staged (0 for the batched format)
     * @param experts E (columns of the logits)
     * @param localExperts E_local (the batched format stages one count per local expert)
     */
    public record Sizes(long rows, long sortedRows, long tiles, long accRows, long inputRows, int hidden,
                        long interBytes, long logitsRows, int experts, int localExperts) {
        /** @return the bytes of each buffer, in the order {@link #allocate(Sizes)} allocates them */
        public long[] bytes() {
            return new long[] {rows * 4, rows * 4, sortedRows * 4, tiles * 4, 4, accRows * hidden * 4, interBytes,
                inputRows * hidden * 2, logitsRows * experts * 4, Math.max(rows, localExperts) * 4, rows * 4,
                inputRows * hidden * 4};
        }

        /** @return the device bytes the shared buffers take, each rounded up to {@link #MIN_BYTES} */
        public long total() {
            long b = 0;
            for (long x : bytes()) {
                b += Math.max(MIN_BYTES, x);
            }
            return b;
        }
    }

    /** @param context the kernel's context */
    public RoutedScratch(CudaContext context) {
        this.context = Objects.requireNonNull(context, "context");
    }

    /**
     * Frees what is allocated, then allocates the shared buffers; a subclass allocates its own after this.
     *
     * @param sizes how large
     */
    protected final void allocate(Sizes sizes) {
        free();
        long[] s = sizes.bytes();
        int i = 0;
        topkIds = allocate(s[i++]);
        topkW = allocate(s[i++]);
        sorted = allocate(s[i++]);
        tileExpert = allocate(s[i++]);
        numTiles = allocate(s[i++]);
        acc = allocate(s[i++]);
        inter = allocate(s[i++]);
        hiddenBf16 = allocate(s[i++]);
        stageLogits = allocate(s[i++]);
        stageIds = allocate(s[i++]);
        stageW = allocate(s[i++]);
        stageOut = allocate(s[i]);
    }

    /**
     * @param bytes the size (at least {@link #MIN_BYTES} is allocated)
     * @return a buffer that {@link #free} releases with the rest
     */
    protected final DeviceBuffer allocate(long bytes) {
        DeviceBuffer b = context.allocate(Math.max(MIN_BYTES, bytes));
        all.add(b);
        return b;
    }

    /** Frees every buffer; a later {@link #allocate(Sizes)} starts over. */
    public void free() {
        all.forEach(DeviceBuffer::close);
        all.clear();
        topkIds = topkW = sorted = tileExpert = numTiles = acc = inter = hiddenBf16 = null;
        stageLogits = stageIds = stageW = stageOut = null;
    }

    /** @return the routed experts {@code [rows]} (I32) */
    public final DeviceBuffer topkIds() {
        return topkIds;
    }

    /** @return the routing weights {@code [rows]} (F32) */
    public final DeviceBuffer topkW() {
        return topkW;
    }

    /** @return the expert-sorted row list, padded to the M tile per expert */
    public final DeviceBuffer sorted() {
        return sorted;
    }

    /** @return the expert of each M tile */
    public final DeviceBuffer tileExpert() {
        return tileExpert;
    }

    /** @return the number of M tiles (one I32, written on the device) */
    public final DeviceBuffer numTiles() {
        return numTiles;
    }

    /** @return the FP32 accumulator {@code [accRows][H]} */
    public final DeviceBuffer acc() {
        return acc;
    }

    /** @return GEMM1's output */
    public final DeviceBuffer inter() {
        return inter;
    }

    /** @return BF16 activations {@code [inputRows][H]}: F32 input converted, or host BF16 input staged */
    public final DeviceBuffer hiddenBf16() {
        return hiddenBf16;
    }

    /** @return staged host router logits */
    public final DeviceBuffer stageLogits() {
        return stageLogits;
    }

    /** @return staged host top-k ids (or batch counts) */
    public final DeviceBuffer stageIds() {
        return stageIds;
    }

    /** @return staged host top-k weights */
    public final DeviceBuffer stageW() {
        return stageW;
    }

    /** @return F32 {@code [inputRows][H]}: host outputs, and host F32 activations on their way in */
    public final DeviceBuffer stageOut() {
        return stageOut;
    }
}
