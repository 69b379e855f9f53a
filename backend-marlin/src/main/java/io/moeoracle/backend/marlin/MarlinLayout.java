package io.moeoracle.backend.marlin;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The kernels' weight layout (the "tile layout"), written in Java as the specification of what the
 * device repack kernel {@code moe_repack_mxfp4} produces; tests compare the two byte for byte.
 *
 * <p>Per expert, the N x K weight matrix (N outputs, K reduction, canonical rows of K/2 bytes) is cut
 * into 64 x 64 tiles, tile {@code (nt, kc)} at byte {@code ((e * nTiles + nt) * kChunks + kc) * 2048}.
 * Inside a tile: {@code [k16 step s (4)][lane (32)][word (4)]}, 32-bit words; word {@code w} of a lane
 * holds the mma B fragments of n8 blocks {@code 2w} and {@code 2w+1}; pair {@code i} of a word
 * (values k, k+1 of block {@code 2w + i/2}, register {@code i%2}) has its magnitude bits at bf16
 * positions 6-8 / 22-24 shifted right by {@link #MAG_SHIFT}{@code [i]} and its sign bits at 15 / 31
 * shifted right by {@link #SGN_SHIFT}{@code [i]}. Scales: 128 bytes per tile, {@code [kb (2)][g (8)][j (8)]}
 * for column {@code nt*64 + j*8 + g}, holding {@code code + 126 - X} (see {@link #scaleBias}).
 * Padding rows/columns get zero weights (and scale byte 127).
 */
final class MarlinLayout {
    /** Tile width in N and K. */
    static final int TILE = 64;
    /** Bytes of one 64 x 64 MXFP4 tile. */
    static final int TILE_BYTES = TILE * TILE / 2;
    /** Scale bytes of one tile. */
    static final int TILE_SCALE_BYTES = TILE * 2;
    /** Right shift of each pair's magnitude bits from their bf16 positions (negative: left). */
    static final int[] MAG_SHIFT = {0, 3, 6, -3};
    /** Right shift of each pair's sign bits from their bf16 positions. */
    static final int[] SGN_SHIFT = {0, 3, 1, 2};

    private MarlinLayout() {
    }

    /** @return {@code x} rounded up to the tile width */
    static int pad(int x) {
        return (x + TILE - 1) / TILE * TILE;
    }

    static long weightBytes(int experts, int nPad, int kPad) {
        return (long) experts * (nPad / TILE) * (kPad / TILE) * TILE_BYTES;
    }

    static long scaleBytes(int experts, int nPad, int kPad) {
        return (long) experts * (nPad / TILE) * (kPad / TILE) * TILE_SCALE_BYTES;
    }

    /**
     * The exponent bias X of the scale encoding: the kernel multiplies raw E2M1 patterns (value x
     * 2^-126) by a bf16 2^(code - 1 - X), which must stay finite, and scales the accumulator by 2^X.
     *
     * @param scales E8M0 codes
     * @return {@code max(0, max code - 128)}; 0 for real checkpoints (scales up to 2)
     */
    static int scaleBias(MemorySegment scales) {
        int max = 0;
        long n = scales.byteSize();
        for (long i = 0; i < n; i++) {
            max = Math.max(max, scales.get(ValueLayout.JAVA_BYTE, i) & 0xFF);
        }
        return Math.max(0, max - 128);
    }

    /**
     * Repacks canonical MXFP4 weights on the host (the reference of the device kernel).
     *
     * @param blocks {@code [E, nReal, kReal/2]} bytes
     * @param scales {@code [E, nReal, kReal/32]} E8M0 codes
     * @param experts E
     * @param nReal N
     * @param kReal K
     * @param nPad N rounded up to the tile (w13: twice the padded I, not pad(2I))
     * @param kPad K rounded up to the tile
     * @param xBias X, see {@link #scaleBias}
     * @param q out: {@link #weightBytes} bytes
     * @param sc out: {@link #scaleBytes} bytes
     */
    static void repack(MemorySegment blocks, MemorySegment scales, int experts, int nReal, int kReal, int nPad,
                       int kPad, int xBias, MemorySegment q, MemorySegment sc) {
        int nTiles = nPad / TILE;
        int nk = kPad / TILE;
        long words = (long) experts * nTiles * nk * 512;
        for (long idx = 0; idx < words; idx++) {
            int wq = (int) (idx & 3);
            int lane = (int) ((idx >> 2) & 31);
            int s = (int) ((idx >> 7) & 3);
            long rest = idx >> 9;
            int kc = (int) (rest % nk);
            rest /= nk;
            int nt = (int) (rest % nTiles);
            int e = (int) (rest / nTiles);
            int word = 0;
            for (int i = 0; i < 4; i++) {
                int j = 2 * wq + (i >> 1);
                int n = nt * TILE + j * 8 + (lane >> 2);
                int kb = kc * TILE + s * 16 + (lane & 3) * 2 + (i & 1) * 8;
                int mag = 0;
                int sgn = 0;
                for (int h = 0; h < 2; h++) {
                    int nib = nibble(blocks, e, n, kb + h, nReal, kReal);
                    mag |= (nib & 7) << (6 + 16 * h);
                    sgn |= ((nib >> 3) & 1) << (15 + 16 * h);
                }
                word |= shiftRight(mag, MAG_SHIFT[i]) | shiftRight(sgn, SGN_SHIFT[i]);
            }
            q.setAtIndex(ValueLayout.JAVA_INT_UNALIGNED, idx, word);
        }
        long sbytes = (long) experts * nTiles * nk * TILE_SCALE_BYTES;
        for (long idx = 0; idx < sbytes; idx++) {
            int j = (int) (idx & 7);
            int g = (int) ((idx >> 3) & 7);
            int kb = (int) ((idx >> 6) & 1);
            long rest = idx >> 7;
            int kc = (int) (rest % nk);
            rest /= nk;
            int nt = (int) (rest % nTiles);
            int e = (int) (rest / nTiles);
            int n = nt * TILE + j * 8 + g;
            int kblk = kc * 2 + kb;
            int v = 127;
            if (n < nReal && kblk < kReal / 32) {
                int code = scales.get(ValueLayout.JAVA_BYTE, ((long) e * nReal + n) * (kReal / 32) + kblk) & 0xFF;
                v = Math.clamp(code + 126 - xBias, 0, 254);
            }
            sc.set(ValueLayout.JAVA_BYTE, idx, (byte) v);
        }
    }

    /**
     * Reads one E2M1 code back out of the tile layout (the inverse of {@link #repack}).
     *
     * @return the 4-bit code of weight (e, n, k)
     */
    static int unpackNibble(MemorySegment q, int nPad, int kPad, int e, int n, int k) {
        int nTiles = nPad / TILE;
        int nk = kPad / TILE;
        int nt = n / TILE;
        int kc = k / TILE;
        int j = (n % TILE) / 8;
        int g = n % 8;
        int kk = k % TILE;
        int s = kk / 16;
        int r = kk % 16;
        int i = ((j & 1) << 1) | (r >= 8 ? 1 : 0);
        int tg = (r % 8) / 2;
        int h = r & 1;
        int lane = g * 4 + tg;
        int wq = j >> 1;
        long idx = ((((long) e * nTiles + nt) * nk + kc) * 4 + s) * 128 + lane * 4 + wq;
        int word = q.getAtIndex(ValueLayout.JAVA_INT_UNALIGNED, idx);
        int mag = (shiftRight(word, -MAG_SHIFT[i]) >>> (6 + 16 * h)) & 7;
        int sgn = (shiftRight(word, -SGN_SHIFT[i]) >>> (15 + 16 * h)) & 1;
        return (sgn << 3) | mag;
    }

    /** @return the stored scale byte of column n, k block kb (k / 32) */
    static int unpackScale(MemorySegment sc, int nPad, int kPad, int e, int n, int kBlock) {
        int nTiles = nPad / TILE;
        int nk = kPad / TILE;
        long idx = (((long) e * nTiles + n / TILE) * nk + kBlock / 2) * TILE_SCALE_BYTES
                + (kBlock % 2) * 64 + (n % 8) * 8 + (n % TILE) / 8;
        return sc.get(ValueLayout.JAVA_BYTE, idx) & 0xFF;
    }

    static int shiftRight(int x, int n) {
        return n >= 0 ? x >>> n : x << -n;
    }

    private static int nibble(MemorySegment blocks, int e, int n, int k, int nReal, int kReal) {
        if (n >= nReal || k >= kReal) {
            return 0;
        }
        int b = blocks.get(ValueLayout.JAVA_BYTE, ((long) e * nReal + n) * (kReal / 2) + k / 2) & 0xFF;
        return (k & 1) != 0 ? b >>> 4 : b & 0xF;
    }
}
