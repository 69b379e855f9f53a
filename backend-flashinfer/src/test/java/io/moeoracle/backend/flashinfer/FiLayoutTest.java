package io.moeoracle.backend.flashinfer;

import static org.assertj.core.api.Assertions.assertThat;

import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.spec.QuantScheme;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The padded row-major layout of ABI.md (the host twin of fi_repack_mxfp4) and the sizes derived from it. */
class FiLayoutTest {
    @Test
    void padAndSizes() {
        assertThat(FiLayout.pad(2880)).isEqualTo(2880);
        assertThat(FiLayout.pad(2848)).isEqualTo(2880);
        assertThat(FiLayout.pad(32)).isEqualTo(64);
        assertThat(FiLayout.weightBytes(128, 5760, 2880)).isEqualTo(128L * 5760 * 1440);
        assertThat(FiLayout.scaleBytes(128, 5760, 2880)).isEqualTo(128L * 5760 * 90);
        // gpt-oss-120b: ~13.2 MB a layer's expert (w13 8.29 MB + 0.52 MB scales, w2 4.15 MB + 0.26 MB, biases)
        long perExpert = FiLayout.preparedBytes(128, 2880, 2880, true) / 128;
        assertThat(perExpert).isEqualTo(5760L * 1440 + 5760 * 90 + 2880L * 1440 + 2880 * 90 + (5760 + 2880) * 4L);
    }

    @Test
    void hostRepackKeepsRowsPadsWithZeroNibblesAndScale127() {
        int e = 3;
        int nReal = 2 * 96;   // w13 of I = 96: 2I rows
        int kReal = 160;      // H = 160
        int nPad = 2 * FiLayout.pad(96);
        int kPad = FiLayout.pad(160);
        SplittableRandom rnd = new SplittableRandom(7);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment blocks = arena.allocate((long) e * nReal * kReal / 2);
            MemorySegment scales = arena.allocate((long) e * nReal * kReal / 32);
            for (long i = 0; i < blocks.byteSize(); i++) {
                blocks.set(ValueLayout.JAVA_BYTE, i, (byte) rnd.nextInt(256));
            }
            for (long i = 0; i < scales.byteSize(); i++) {
                scales.set(ValueLayout.JAVA_BYTE, i, (byte) (100 + rnd.nextInt(40)));
            }
            MemorySegment q = arena.allocate(FiLayout.weightBytes(e, nPad, kPad));
            MemorySegment s = arena.allocate(FiLayout.scaleBytes(e, nPad, kPad));
            q.fill((byte) 0x55);
            s.fill((byte) 0x55);
            FiLayout.repack(blocks, scales, e, nReal, kReal, nPad, kPad, q, s);
            for (int x = 0; x < e; x++) {
                for (int n = 0; n < nPad; n++) {
                    for (int k = 0; k < kPad; k += 2) {
                        int got = q.get(ValueLayout.JAVA_BYTE, ((long) x * nPad + n) * (kPad / 2) + k / 2) & 0xFF;
                        int want = n < nReal && k < kReal
                                ? blocks.get(ValueLayout.JAVA_BYTE, ((long) x * nReal + n) * (kReal / 2) + k / 2) & 0xFF
                                : 0;
                        assertThat(got).as("q e%d n%d k%d", x, n, k).isEqualTo(want);
                    }
                    for (int b = 0; b < kPad / 32; b++) {
                        int got = s.get(ValueLayout.JAVA_BYTE, ((long) x * nPad + n) * (kPad / 32) + b) & 0xFF;
                        int want = n < nReal && b < kReal / 32
                                ? scales.get(ValueLayout.JAVA_BYTE, ((long) x * nReal + n) * (kReal / 32) + b) & 0xFF
                                : FiLayout.PAD_SCALE;
                        assertThat(got).as("s e%d n%d b%d", x, n, b).isEqualTo(want);
                    }
                }
            }
            assertThat(FiLayout.maxScaleCode(scales)).isBetween(100, 139);
        }
    }

    @Test
    void scratchGrowsWithTokensAndTheMxfp8Buffers() {
        MoeLayerSpec spec = MoeLayerSpec.builder().experts(128).topK(4).hiddenSize(2880).intermediateSize(2880)
                .quant(QuantScheme.MXFP4_BF16).maxTokensPerCall(4096).build();
        long bf16 = FiScratch.bytes(spec, FiPlan.M_PROBE, false);
        long fp8 = FiScratch.bytes(spec, FiPlan.M_PROBE, true);
        long sorted = FiPlan.sortedRowsMax(4096L * 4, 128, FiPlan.M_PROBE);
        // MXFP8 rows and scales of hidden and intermediate, and the intermediate in F32 (the larger case)
        assertThat(fp8 - bf16).isEqualTo(4096L * 2880 + 4096L * 2880 / 32 + sorted * 2880 + sorted * 2880 / 32 - 4 * 256
                + sorted * 2880 * 2);
        assertThat(bf16).isGreaterThan(sorted * 2880 * 2 + 4096L * 2880 * 4 * 2);
        MoeLayerSpec more = spec.toBuilder().maxTokensPerCall(8192).build();
        assertThat(FiScratch.bytes(more, FiPlan.M_PROBE, false)).isGreaterThan(bf16);
    }
}
