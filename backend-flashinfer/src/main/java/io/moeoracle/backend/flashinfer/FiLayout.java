package io.moeoracle.backend.flashinfer;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The weight layout every GEMM family reads (ABI.md, "Weights"), written in Java as the
 * specification of what the device kernel {@code fi_repack_mxfp4} produces; a GPU test compares the
 * two byte for byte. Per GEMM: {@code q [El][N_pad][K_pad/2]} (row-major, two E2M1 values a byte,
 * low nibble the even k), {@code s [El][N_pad][K_pad/32]} raw E8M0 codes; padding rows and columns
 * hold zero nibbles and scale 127. GEMM1's rows keep the checkpoint's gate/up interleave.
 */
final class FiLayout {
    /** Both dimensions of every GEMM are padded to this (the widest granule ABI.md lets kernels assume). */
    static final int PAD = 64;
    /** Values per E8M0 scale (MXFP4 and MXFP8 blocks alike). */
    static final int BLOCK = 32;
    /** The scale code of padding blocks: 2^0. */
    static final int PAD_SCALE = 127;

    private FiLayout() {
    }

    /** @return {@code x} rounded up to {@link #PAD} */
    static int pad(int x) {
        return (x + PAD - 1) / PAD * PAD;
    }

    /** @return bytes of the packed E2M1 weights of {@code experts} N_pad x K_pad matrices */
    static long weightBytes(int experts, int nPad, int kPad) {
        return (long) experts * nPad * (kPad / 2);
    }

    /** @return bytes of their E8M0 scales */
    static long scaleBytes(int experts, int nPad, int kPad) {
        return (long) experts * nPad * (kPad / BLOCK);
    }

    /** @return bytes of one layer's prepared weights, scales and F32 biases on the device */
    static long preparedBytes(int experts, int h, int i, boolean bias) {
        int hp = pad(h);
        int ip = pad(i);
        long b = weightBytes(experts, 2 * ip, hp) + scaleBytes(experts, 2 * ip, hp)
                + weightBytes(experts, hp, ip) + scaleBytes(experts, hp, ip);
        return bias ? b + (long) experts * (2L * ip + hp) * 4 : b;
    }

    /**
     * Repacks canonical MXFP4 weights on the host: the reference of {@code fi_repack_mxfp4}.
     *
     * @param blocks {@code [E, nReal, kReal/2]} bytes
     * @param scales {@code [E, nReal, kReal/32]} E8M0 codes
     * @param experts E
     * @param nReal N
     * @param kReal K
     * @param nPad N padded (w13: twice the padded I)
     * @param kPad K padded
     * @param q out: {@link #weightBytes} bytes
     * @param s out: {@link #scaleBytes} bytes
     */
    static void repack(MemorySegment blocks, MemorySegment scales, int experts, int nReal, int kReal, int nPad,
                       int kPad, MemorySegment q, MemorySegment s) {
        long rowBytes = kPad / 2;
        long rowScales = kPad / BLOCK;
        for (int e = 0; e < experts; e++) {
            for (int n = 0; n < nPad; n++) {
                long qRow = ((long) e * nPad + n) * rowBytes;
                long sRow = ((long) e * nPad + n) * rowScales;
                q.asSlice(qRow, rowBytes).fill((byte) 0);
                s.asSlice(sRow, rowScales).fill((byte) PAD_SCALE);
                if (n < nReal) {
                    MemorySegment.copy(blocks, ((long) e * nReal + n) * (kReal / 2), q, qRow, kReal / 2);
                    MemorySegment.copy(scales, ((long) e * nReal + n) * (kReal / BLOCK), s, sRow, kReal / BLOCK);
                }
            }
        }
    }

    /** @return the largest E8M0 code among {@code scales} */
    static int maxScaleCode(MemorySegment scales) {
        int max = 0;
        long n = scales.byteSize();
        for (long j = 0; j < n; j++) {
            max = Math.max(max, scales.get(ValueLayout.JAVA_BYTE, j) & 0xFF);
        }
        return max;
    }
}
