package io.moeoracle.backend.marlin;

import static org.assertj.core.api.Assertions.assertThat;

import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.tensor.LoraAdapter;
import io.moeoracle.driver.cuda.LaunchConfig;
import io.moeoracle.reference.RandomMoe;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/** The host side of marlin's LoRA: device layouts of the factors, the slot table entry and the grids. */
class MarlinLoraLayoutTest {
    private static final MoeLayerSpec SPEC = MoeLayerSpec.builder().experts(6).topK(2).hiddenSize(96)
            .intermediateSize(64).lora(8, 3).build();

    private static short at(MemorySegment s, long i) {
        return s.getAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i);
    }

    @Test
    void ranksArePaddedToVectorWidth() {
        assertThat(MarlinLora.padRank(1)).isEqualTo(8);
        assertThat(MarlinLora.padRank(8)).isEqualTo(8);
        assertThat(MarlinLora.padRank(9)).isEqualTo(16);
        assertThat(MarlinLora.padRank(16)).isEqualTo(16);
        assertThat(MarlinLora.padRank(250)).isEqualTo(256);
    }

    @Test
    void a13StacksGateThenUpRowsPerExpertWithZeroRowsToThePaddedRank() {
        try (Arena arena = Arena.ofConfined()) {
            LoraAdapter a = RandomMoe.lora(SPEC, 5, 1, arena);
            MemorySegment m = MarlinLora.a13(a, SPEC, arena);
            int r = 5;
            int rp = 8;
            int h = 96;
            assertThat(m.byteSize()).isEqualTo(6L * 2 * rp * h * 2);
            for (int e = 0; e < 6; e++) {
                for (int q = 0; q < 2 * rp; q++) {
                    for (int c = 0; c < h; c += 7) {
                        int qq = q % rp;
                        short want = qq >= r ? 0 : q < rp ? at(a.gateA().data(), ((long) e * r + qq) * h + c)
                                : at(a.upA().data(), ((long) e * r + qq) * h + c);
                        assertThat(at(m, ((long) e * 2 * rp + q) * h + c)).as("e %d q %d c %d", e, q, c).isEqualTo(want);
                    }
                }
            }
        }
    }

    @Test
    void b13InterleavesGateAndUpRowsLikeW13WithZeroColumnsToThePaddedRank() {
        try (Arena arena = Arena.ofConfined()) {
            LoraAdapter a = RandomMoe.lora(SPEC, 3, 2, arena);
            MemorySegment m = MarlinLora.b13(a, SPEC, arena);
            int r = 3;
            int rp = 8;
            int in = 64;
            assertThat(m.byteSize()).isEqualTo(6L * 2 * in * rp * 2);
            for (int e = 0; e < 6; e++) {
                for (int n = 0; n < 2 * in; n++) {
                    for (int q = 0; q < rp; q++) {
                        short want = q >= r ? 0
                                : at(n % 2 == 0 ? a.gateB().data() : a.upB().data(), ((long) e * in + n / 2) * r + q);
                        assertThat(at(m, ((long) e * 2 * in + n) * rp + q)).as("e %d n %d q %d", e, n, q).isEqualTo(want);
                    }
                }
            }
        }
    }

    @Test
    void downFactorsArePaddedToTheRank() {
        try (Arena arena = Arena.ofConfined()) {
            LoraAdapter a = RandomMoe.lora(SPEC, 6, 3, arena);
            MemorySegment a2 = MarlinLora.a2(a, SPEC, arena);
            MemorySegment b2 = MarlinLora.b2(a, SPEC, arena);
            int r = 6;
            int rp = 8;
            int h = 96;
            int in = 64;
            assertThat(a2.byteSize()).isEqualTo(6L * rp * in * 2);
            assertThat(b2.byteSize()).isEqualTo(6L * h * rp * 2);
            for (int e = 0; e < 6; e++) {
                for (int q = 0; q < rp; q++) {
                    for (int c = 0; c < in; c += 5) {
                        short want = q >= r ? 0 : at(a.downA().data(), ((long) e * r + q) * in + c);
                        assertThat(at(a2, ((long) e * rp + q) * in + c)).as("a2 e %d q %d c %d", e, q, c).isEqualTo(want);
                    }
                }
                for (int n = 0; n < h; n += 3) {
                    for (int q = 0; q < rp; q++) {
                        short want = q >= r ? 0 : at(a.downB().data(), ((long) e * h + n) * r + q);
                        assertThat(at(b2, ((long) e * h + n) * rp + q)).as("b2 e %d n %d q %d", e, n, q).isEqualTo(want);
                    }
                }
            }
        }
    }

    @Test
    void slotEntryMatchesTheCudaStruct() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(MarlinLora.SLOT_BYTES, 8);
            MarlinLora.slotEntry(s, 0x1000, 0x2000, 0x3000, 0x4000, 16, 0.5f);
            assertThat(s.get(ValueLayout.JAVA_LONG, 0)).isEqualTo(0x1000);
            assertThat(s.get(ValueLayout.JAVA_LONG, 24)).isEqualTo(0x4000);
            assertThat(s.get(ValueLayout.JAVA_INT, 32)).isEqualTo(16);
            assertThat(s.get(ValueLayout.JAVA_FLOAT, 36)).isEqualTo(0.5f);
            assertThat(MarlinLora.SLOT_BYTES % 8).as("array stride keeps the pointers aligned").isZero();
        }
    }

    @Test
    void shrinkGridCoversEveryOutputTileAndRow() {
        for (int rmax : new int[] {8, 16, 64, 256}) {
            for (int m : MarlinPlan.M_TILES) {
                LaunchConfig c = MarlinLora.shrinkGrid(rmax, 37, m);
                int perBlock = MarlinLora.SHRINK_WARPS * MarlinLora.shrinkOutputsPerWarp(m);
                assertThat((long) c.gridX() * perBlock).isGreaterThanOrEqualTo(2L * rmax);
                assertThat((long) (c.gridX() - 1) * perBlock).isLessThan(2L * rmax);
                assertThat(c.gridY()).isEqualTo(37);
                assertThat(c.gridZ() * MarlinLora.SHRINK_ROWS).isGreaterThanOrEqualTo(m);
                assertThat((c.gridZ() - 1) * MarlinLora.SHRINK_ROWS).isLessThan(m);
                assertThat(c.blockX()).isEqualTo(MarlinLora.THREADS);
            }
        }
        assertThat(MarlinLora.shrinkKernel(8)).isEqualTo("moe_lora_shrink_q1");
        assertThat(MarlinLora.shrinkKernel(16)).isEqualTo("moe_lora_shrink_q1");
        for (int m : MarlinPlan.M_TILES) {
            assertThat(2 * MarlinLora.RANK_ALIGN % MarlinLora.shrinkOutputsPerWarp(m))
                    .as("2 * padded rank is a multiple of the outputs per warp (M %d): no warp straddles an adapter's end", m)
                    .isZero();
        }
    }

    @Test
    void scratchCoversEverySortedRowOfEveryTile() {
        MoeLayerSpec s = MoeLayerSpec.builder().experts(128).topK(4).hiddenSize(2880).intermediateSize(2880)
                .maxTokensPerCall(256).lora(16, 4).build();
        long rows = 256L * 4;
        for (int m : MarlinPlan.M_TILES) {
            assertThat(MarlinPlan.tilesMax(rows, 128, m) * m).isLessThanOrEqualTo(MarlinPlan.sortedRowsMax(rows, 128));
        }
        long perRow = (3L * 16 + 1) * 4; // U13 (2 r), U2 (r), the row's slot
        assertThat(MarlinLora.scratchBytes(s, rows)).isEqualTo(MarlinPlan.sortedRowsMax(rows, 128) * perRow + 256 * 4);
        assertThat(MarlinLora.adapterBytes(s)).isEqualTo(128L * 16 * (6 * 2880) * 2);
        MoeLayerSpec odd = MoeLayerSpec.builder().experts(128).topK(4).hiddenSize(2880).intermediateSize(2880)
                .maxTokensPerCall(256).lora(12, 4).build();
        assertThat(MarlinLora.adapterBytes(odd)).as("rank 12 is held as 16").isEqualTo(MarlinLora.adapterBytes(s));
    }
}
