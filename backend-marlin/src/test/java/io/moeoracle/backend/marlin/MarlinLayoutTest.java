package io.moeoracle.backend.marlin;

import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

class MarlinLayoutTest {
    private static final Logger LOG = LoggerFactory.getLogger(MarlinLayoutTest.class);

    @Test
    void repackRoundTripsEveryNibbleAndScaleAndZeroesThePadding() {
        long seed = System.nanoTime();
        LOG.info("seed {}", seed);
        SplittableRandom rnd = new SplittableRandom(seed);
        int[][] shapes = {{2, 128, 64}, {3, 96, 160}, {1, 64 * 3, 32 * 5}, {2, 2 * 96, 224}};
        for (int[] sh : shapes) {
            int e = sh[0];
            int n = sh[1];
            int k = sh[2];
            int nPad = MarlinLayout.pad(n) + (rnd.nextBoolean() ? 64 : 0); // w13 pads N to 2*pad(I): may exceed pad(N)
            int kPad = MarlinLayout.pad(k);
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment blocks = arena.allocate((long) e * n * k / 2);
                MemorySegment scales = arena.allocate((long) e * n * k / 32);
                for (long i = 0; i < blocks.byteSize(); i++) {
                    blocks.set(ValueLayout.JAVA_BYTE, i, (byte) rnd.nextInt(256));
                }
                for (long i = 0; i < scales.byteSize(); i++) {
                    scales.set(ValueLayout.JAVA_BYTE, i, (byte) (110 + rnd.nextInt(30)));
                }
                int x = MarlinLayout.scaleBias(scales);
                assertThat(x).isBetween(0, 11);
                MemorySegment q = arena.allocate(MarlinLayout.weightBytes(e, nPad, kPad));
                MemorySegment sc = arena.allocate(MarlinLayout.scaleBytes(e, nPad, kPad));
                MarlinLayout.repack(blocks, scales, e, n, k, nPad, kPad, x, q, sc);
                for (int ex = 0; ex < e; ex++) {
                    for (int r = 0; r < nPad; r++) {
                        for (int c = 0; c < kPad; c++) {
                            int got = MarlinLayout.unpackNibble(q, nPad, kPad, ex, r, c);
                            int want = 0;
                            if (r < n && c < k) {
                                int b = blocks.get(ValueLayout.JAVA_BYTE, ((long) ex * n + r) * (k / 2) + c / 2) & 0xFF;
                                want = (c & 1) != 0 ? b >>> 4 : b & 0xF;
                            }
                            assertThat(got).as("e=%d n=%d k=%d of %dx%d", ex, r, c, n, k).isEqualTo(want);
                        }
                        for (int kb = 0; kb < kPad / 32; kb++) {
                            int got = MarlinLayout.unpackScale(sc, nPad, kPad, ex, r, kb);
                            int want = 127;
                            if (r < n && kb < k / 32) {
                                want = (scales.get(ValueLayout.JAVA_BYTE, ((long) ex * n + r) * (k / 32) + kb) & 0xFF)
                                        + 126 - x;
                            }
                            assertThat(got).isEqualTo(want);
                        }
                    }
                }
            }
        }
    }

    @Test
    void thePairShiftsTileAllThirtyTwoBits() {
        int used = 0;
        for (int i = 0; i < 4; i++) {
            int pair = MarlinLayout.shiftRight(0x01C001C0, MarlinLayout.MAG_SHIFT[i])
                    | MarlinLayout.shiftRight(0x80008000, MarlinLayout.SGN_SHIFT[i]);
            assertThat(Integer.bitCount(pair)).as("pair %d keeps all 8 bits", i).isEqualTo(8);
            assertThat(used & pair).as("pair %d overlaps", i).isZero();
            used |= pair;
        }
        assertThat(used).isEqualTo(-1);
    }

    @Test
    void scaleBiasIsZeroForCheckpointScalesAndKeepsLargeOnesFinite() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(64);
            s.fill((byte) 121);
            assertThat(MarlinLayout.scaleBias(s)).isZero();
            s.set(ValueLayout.JAVA_BYTE, 7, (byte) 200);
            assertThat(MarlinLayout.scaleBias(s)).isEqualTo(72);
        }
    }

    @Test
    void padRoundsUpToTheTile() {
        assertThat(MarlinLayout.pad(2880)).isEqualTo(2880);
        assertThat(MarlinLayout.pad(2848)).isEqualTo(2880);
        assertThat(MarlinLayout.pad(32)).isEqualTo(64);
    }
}
