package io.moeoracle.backend.flashinfer;

import static org.assertj.core.api.Assertions.assertThat;

import io.moeoracle.api.quant.Bf16;
import io.moeoracle.api.quant.Mxfp8;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.driver.cuda.CudaContext;
import io.moeoracle.driver.cuda.DeviceBuffer;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * flashinfer-mxfp8 on this GPU's own FP8 MMA (wgmma e4m3 on Hopper, mma.sync e4m3 on Ada): the cases
 * of {@link FlashinferGpuCases}, and the activation quantizer {@code fi_quant_mxfp8} byte for byte
 * against api's {@link Mxfp8} codec.
 */
@Tag("gpu")
class FlashinferMxfp8GpuTest extends FlashinferGpuCases {
    @Override
    boolean fp8() {
        return true;
    }

    /** The kinds of 32-value blocks the quantizer test draws. */
    private enum Block { NORMAL, ZERO, NAN, INF, SATURATING, E4M3_SUBNORMAL, FLOAT_SUBNORMAL, HUGE, TIES, SIGNED_ZERO }

    private float[] block(Block kind) {
        float[] v = new float[32];
        int x = rnd.nextInt(-20, 21);
        for (int i = 0; i < 32; i++) {
            v[i] = (float) (rnd.nextGaussian() * Math.scalb(1.0, x));
        }
        switch (kind) {
            case NORMAL -> {
            }
            case ZERO -> Arrays.fill(v, 0f);
            case NAN -> v[rnd.nextInt(32)] = Float.NaN;
            case INF -> v[rnd.nextInt(32)] = rnd.nextBoolean() ? Float.POSITIVE_INFINITY : Float.NEGATIVE_INFINITY;
            case SATURATING -> v[rnd.nextInt(32)] = (float) (Math.scalb(460.0 + 50 * rnd.nextDouble(), x)
                    * (rnd.nextBoolean() ? 1 : -1)); // scaled to 460..510: beyond 448, saturates
            case E4M3_SUBNORMAL -> {
                for (int i = 0; i < 32; i++) {
                    v[i] = (float) Math.scalb(rnd.nextDouble() - 0.5, x - 14); // far below the block's maximum
                }
                v[rnd.nextInt(32)] = (float) Math.scalb(1.5, x);
            }
            case FLOAT_SUBNORMAL -> {
                for (int i = 0; i < 32; i++) {
                    v[i] = (float) ((rnd.nextDouble() - 0.5) * 1e-39); // float subnormals: scale code clamped at 0
                }
            }
            case HUGE -> {
                for (int i = 0; i < 32; i++) {
                    v[i] = (float) ((rnd.nextDouble() - 0.5) * 6e38);
                }
            }
            case TIES -> {
                // amax 256 (X = 0): elements on E4M3 midpoints (1.0625 between 1 and 1.125, 17 between 16 and 18, ...)
                for (int i = 0; i < 32; i++) {
                    int e = rnd.nextInt(0, 8);
                    int m = rnd.nextInt(8);
                    v[i] = (float) (Math.scalb(1 + (m + 0.5) / 8.0, e) * (rnd.nextBoolean() ? 1 : -1));
                }
                v[0] = 256f;
            }
            case SIGNED_ZERO -> {
                for (int i = 0; i < 32; i += 2) {
                    v[i] = -0f;
                }
            }
        }
        return v;
    }

    /**
     * Quantizes random rows (every kind of block, K not always a multiple of 64, F32 and BF16 input,
     * row strides wider than K) on the GPU and compares every byte with {@link Mxfp8#encode}; columns
     * K..K_pad must be zero elements with scale 127.
     */
    @Test
    void quantizerBytesEqualTheJavaCodec() {
        MoeLayerSpec spec = MoeLayerSpec.builder().experts(4).topK(2).hiddenSize(128).intermediateSize(64)
                .quant(scheme()).maxTokensPerCall(8).build();
        try (FiKernel kernel = create(spec); Arena arena = Arena.ofShared()) {
            CudaContext ctx = kernel.context();
            ctx.ensureCurrent();
            int cases = 0;
            for (int kReal : new int[] {32, 96, 160, 2848, 2880}) {
                for (boolean bf16 : new boolean[] {false, true}) {
                    int stride = kReal + (rnd.nextBoolean() ? 0 : 32);
                    int rows = 48;
                    check(kernel, ctx, arena, kReal, stride, rows, bf16, false);
                    cases++;
                }
            }
            check(kernel, ctx, arena, 96, 96, 64, true, true); // rows from a device count: the intermediate's path
            log.info("fi_quant_mxfp8: {} shapes, every byte equal to api's Mxfp8 (OCP rule)", cases + 1);
        }
    }

    private void check(FiKernel kernel, CudaContext ctx, Arena arena, int kReal, int stride, int rows, boolean bf16,
                       boolean rowsFromDevice) {
        int kPad = FiLayout.pad(kReal);
        Block[] kinds = Block.values();
        float[][] values = new float[rows][kReal];
        for (int r = 0; r < rows; r++) {
            for (int b = 0; b < kReal / 32; b++) {
                float[] v = block(kinds[rnd.nextInt(kinds.length)]);
                for (int i = 0; i < 32; i++) {
                    values[r][b * 32 + i] = bf16 ? Bf16.toFloat(Bf16.fromFloat(v[i])) : v[i];
                }
            }
        }
        int elem = bf16 ? 2 : 4;
        MemorySegment in = arena.allocate((long) rows * stride * elem, 16);
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < kReal; c++) {
                long at = (long) r * stride + c;
                if (bf16) {
                    in.setAtIndex(ValueLayout.JAVA_SHORT, at, Bf16.fromFloat(values[r][c]));
                } else {
                    in.setAtIndex(ValueLayout.JAVA_FLOAT, at, values[r][c]);
                }
            }
        }
        int rowsMul = 8;
        int counted = rowsFromDevice ? 3 : rows; // 3 tiles of 8 rows
        int checked = rowsFromDevice ? Math.min(counted * rowsMul, rows) : rows;
        byte[] wantQ = new byte[rows * kPad];
        byte[] wantS = new byte[rows * (kPad / 32)];
        Arrays.fill(wantS, (byte) FiLayout.PAD_SCALE);
        for (int r = 0; r < rows; r++) {
            for (int b = 0; b < kReal / 32; b++) {
                wantS[r * (kPad / 32) + b] = (byte) Mxfp8.encode(values[r], b * 32, wantQ, r * kPad + b * 32);
            }
        }
        try (DeviceBuffer dIn = ctx.allocate(in.byteSize()); DeviceBuffer dq = ctx.allocate((long) rows * kPad);
             DeviceBuffer ds = ctx.allocate((long) rows * kPad / 32); DeviceBuffer dn = ctx.allocate(4);
             Arena a = Arena.ofConfined()) {
            dIn.copyFromHost(in);
            dq.fill((byte) 0x5A);
            ds.fill((byte) 0x5A);
            dn.fillInt(counted);
            kernel.launches().quantize(a, FiFamily.EXACT_QUANTIZER, dIn.address(), bf16, stride, rowsFromDevice ? dn.address() : 0L, rowsMul,
                    rows, kReal, kPad, dq.address(), ds.address());
            kernel.synchronize();
            byte[] q = dq.toByteArray();
            byte[] s = ds.toByteArray();
            String what = "K " + kReal + " (K_pad " + kPad + "), stride " + stride + ", " + (bf16 ? "BF16" : "F32")
                    + " input, rows " + checked + (rowsFromDevice ? " (from a device count)" : "");
            for (int r = 0; r < checked; r++) {
                for (int b = 0; b < kPad / 32; b++) {
                    int sAt = r * (kPad / 32) + b;
                    final int row = r;
                    final int blk = b;
                    assertThat(s[sAt]).as(() -> what + ": scale of row " + row + " block " + blk + " (values "
                            + (blk < kReal / 32 ? Arrays.toString(Arrays.copyOfRange(values[row], blk * 32, blk * 32 + 32))
                            : "padding") + ")").isEqualTo(wantS[sAt]);
                    for (int i = 0; i < 32; i++) {
                        int at = r * kPad + b * 32 + i;
                        final int col = b * 32 + i;
                        assertThat(q[at]).as(() -> what + ": element (" + row + ", " + col + ") of value "
                                + (col < kReal ? values[row][col] : "padding") + " in a block of scale "
                                + (wantS[sAt] & 0xFF)).isEqualTo(wantQ[at]);
                    }
                }
            }
        }
    }
}
