package io.moeoracle.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.moeoracle.api.RooflineProbe;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** What {@link BenchResult#toJson()} writes reads back (within the six digits it writes), old files too. */
class BenchResultReaderTest {

    @Test
    void aResultReadsBackWithinTheDigitsWritten() {
        Random rnd = new Random();
        List<BenchRow> rows = List.of(row(1, rnd), row(64, rnd), row(4096, rnd));
        RooflineProbe.Ceilings c = new RooflineProbe.Ceilings(3.0e12 * (1 + rnd.nextDouble()), 7.9e14, "copy \"1 GiB\"",
                "gemm\\n", 1.5e15, "cublasLt fp8");
        BenchResult r = new BenchResult("flash", "cuda:0", "cuda:0 (sm_90, H100)", "E=128 top4", "BF16", 10, 30,
                rnd.nextLong(), Optional.of(c), rows, Instant.parse("2026-11-26T12:00:00.5Z"), true);
        BenchResult back = BenchResultReader.parse(r.toJson());
        assertThat(back.backend()).isEqualTo("flash");
        assertThat(back.deviceDescription()).isEqualTo(r.deviceDescription());
        assertThat(back.seed()).isEqualTo(r.seed());
        assertThat(back.timestamp()).isEqualTo(r.timestamp());
        assertThat(back.fp8Activations()).isTrue();
        RooflineProbe.Ceilings bc = back.ceilings().orElseThrow();
        assertThat(bc.bandwidthMethod()).isEqualTo("copy \"1 GiB\"");
        assertThat(bc.flopsMethod()).isEqualTo("gemm\\n");
        assertThat(bc.bytesPerSecond()).isCloseTo(c.bytesPerSecond(), within(c.bytesPerSecond() * 1e-5));
        assertThat(bc.fp8FlopsPerSecond()).isCloseTo(1.5e15, within(1e10));
        assertThat(back.rows()).hasSize(3);
        for (int i = 0; i < 3; i++) {
            BenchRow a = rows.get(i);
            BenchRow b = back.rows().get(i);
            assertThat(b.tokens()).isEqualTo(a.tokens());
            assertThat(b.medianMicros()).isCloseTo(a.medianMicros(), within(a.medianMicros() * 1e-5));
            assertThat(b.flops()).isCloseTo(a.flops(), within(a.flops() * 1e-5));
            assertThat(b.mode()).isEqualTo("graph");
        }
        assertThat(back.rows().getFirst().ratioToFloor()).as("NaN is written as null and read as NaN").isNaN();
    }

    @Test
    void theCommittedH100FilesReadWithoutAnFp8Rate() throws IOException {
        // written before the FP8 ceiling existed (the module's tests run in bench/)
        BenchResult m = BenchResultReader.read(Path.of("results", "marlin-cuda0-H100-120b-20261126-final.json"));
        assertThat(m.backend()).isEqualTo("marlin");
        assertThat(m.deviceDescription()).contains("H100");
        assertThat(m.fp8Activations()).isFalse();
        assertThat(m.ceilings().orElseThrow().hasFp8Rate()).isFalse();
        assertThat(m.rows()).extracting(BenchRow::tokens).containsExactly(1, 8, 32, 256, 1024, 4096);
    }

    @Test
    void aFileThatIsNoResultNamesWhatIsMissing() {
        assertThatThrownBy(() -> BenchResultReader.parse("{\"backend\": \"x\"}")).hasMessageContaining("\"rows\"");
        assertThatThrownBy(() -> BenchResultReader.parse("{\"rows\": []}")).hasMessageContaining("\"backend\"");
        assertThatThrownBy(() -> BenchResultReader.parse("[1, 2")).hasMessageContaining("JSON syntax");
    }

    private static BenchRow row(int t, Random rnd) {
        double median = 10 + 1000 * rnd.nextDouble();
        return new BenchRow(t, median, median * 0.9, median * 1.1, 4, 5.3e7 * t, 2e8 * t, 900, 3600,
                17.7, t == 1 ? Double.NaN : 3.1, 0.3, 0.004, "graph");
    }
}
