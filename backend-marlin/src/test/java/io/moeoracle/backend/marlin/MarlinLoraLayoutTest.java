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
    void a13StacksGateThenUpRowsPerExpert() {
        try (Arena arena = Arena.ofConfined()) {
            LoraAdapter a = RandomMoe.lora(SPEC, 5, 1, arena);
            MemorySegment m = MarlinLora.a13(a, SPEC, arena);
            int r = 5;
            int h = 96;
            assertThat(m.byteSize()).isEqualTo(6L * 2 * r * h * 2);
            for (int e = 0; e < 6; e++) {
                for (int q = 0; q < 2 * r; q++) {
                    for (int c = 0; c < h; c += 7) {
                        short want = q < r ? at(a.gateA().data(), ((long) e * r + q) * h + c)
                                : at(a.upA().data(), ((long) e * r + q - r) * h + c);
                        assertThat(at(m, ((long) e * 2 * r + q) * h + c)).isEqualTo(want);
                    }
                }
            }
        }
    }

    @Test
    void b13InterleavesGateAndUpRowsLikeW13() {
        try (Arena arena = Arena.ofConfined()) {
            LoraAdapter a = RandomMoe.lora(SPEC, 3, 2, arena);
            MemorySegment m = MarlinLora.b13(a, SPEC, arena);
            int r = 3;
            int in = 64;
            assertThat(m.byteSize()).isEqualTo(6L * 2 * in * r * 2);
            for (int e = 0; e < 6; e++) {
                for (int n = 0; n < 2 * in; n++) {
                    for (int q = 0; q < r; q++) {
                        short want = at(n % 2 == 0 ? a.gateB().data() : a.upB().data(), ((long) e * in + n / 2) * r + q);
                        assertThat(at(m, ((long) e * 2 * in + n) * r + q)).as("e %d n %d q %d", e, n, q).isEqualTo(want);
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
    void gridsCoverEveryOutputAndTile() {
        for (int q : new int[] {1, 8, 9, 16, 128, 512}) {
            LaunchConfig c = MarlinLora.shrinkGrid(q, 37);
            assertThat((long) c.gridX() * MarlinLora.SHRINK_WARPS).isGreaterThanOrEqualTo(q);
            assertThat((long) (c.gridX() - 1) * MarlinLora.SHRINK_WARPS).isLessThan(q);
            assertThat(c.gridY()).isEqualTo(37);
            assertThat(c.blockX()).isEqualTo(MarlinLora.THREADS);
        }
        for (int n : new int[] {64, 2880, 5760, 5824}) {
            LaunchConfig c = MarlinLora.expandGrid(n, 5);
            assertThat((long) c.gridX() * MarlinLora.THREADS).isGreaterThanOrEqualTo(n);
            assertThat((long) (c.gridX() - 1) * MarlinLora.THREADS).isLessThan(n);
        }
    }

    @Test
    void everyMTileFitsTheLoraKernelsRowTable() {
        for (int m : MarlinPlan.M_TILES) {
            assertThat(m).isLessThanOrEqualTo(MarlinLora.ROWS_MAX);
        }
        assertThat(MarlinPlan.M_MAX).isLessThanOrEqualTo(MarlinLora.ROWS_MAX);
    }

    @Test
    void scratchCoversEverySortedRowOfEveryTile() {
        MoeLayerSpec s = MoeLayerSpec.builder().experts(128).topK(4).hiddenSize(2880).intermediateSize(2880)
                .maxTokensPerCall(256).lora(16, 4).build();
        long rows = 256L * 4;
        for (int m : MarlinPlan.M_TILES) {
            assertThat(MarlinPlan.tilesMax(rows, 128, m) * m).isLessThanOrEqualTo(MarlinPlan.sortedRowsMax(rows, 128));
        }
        long perRow = 3L * 16 + 2L * 2880 + 2880;
        assertThat(MarlinLora.scratchBytes(s, rows)).isEqualTo(MarlinPlan.sortedRowsMax(rows, 128) * perRow * 4 + 256 * 4);
        assertThat(MarlinLora.adapterBytes(s)).isEqualTo(128L * 16 * (6 * 2880) * 2);
    }
}
