package io.moeoracle.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.moeoracle.bench.BenchResult;
import io.moeoracle.bench.BenchResultReader;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code moe-oracle plot --from-json}: the GPU runs committed under {@code bench/results}, drawn on
 * this machine, and an FP8 backend beside a BF16 one.
 */
class PlotCommandTest {
    private static final byte[] PNG_SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    /** The final H100 run of marlin and triton (BENCHMARKS.md); the module's tests run in cli/. */
    private static final Path MARLIN = Path.of("..", "bench", "results", "marlin-cuda0-H100-120b-20261126-final.json");
    private static final Path TRITON = Path.of("..", "bench", "results", "triton-cuda0-H100-120b-20261126-final.json");

    @TempDir
    Path dir;

    @Test
    @DisplayName("the H100 marlin and triton JSON make a PNG and a table naming both, every T of both files")
    void pngOfTheGpuRun() throws IOException {
        Path png = dir.resolve("h100.png");
        MoeOracleCliTest.Outcome o = MoeOracleCliTest.cli("plot", "--from-json", MARLIN + "," + TRITON, "--out",
                png.toString());
        assertThat(o.code()).as(o.err() + o.out()).isZero();
        byte[] bytes = Files.readAllBytes(png);
        assertThat(Arrays.copyOf(bytes, 8)).as("PNG signature").isEqualTo(PNG_SIGNATURE);
        assertThat(bytes.length).as("a chart with lines and labels, not an empty image").isGreaterThan(20_000);
        BufferedImage image = ImageIO.read(png.toFile());
        assertThat(image.getWidth()).isEqualTo(1000);
        assertThat(image.getHeight()).isEqualTo(850);
        String md = Files.readString(dir.resolve("h100.md"));
        for (Path file : List.of(MARLIN, TRITON)) {
            BenchResult r = BenchResultReader.read(file);
            for (var row : r.rows()) {
                assertThat(md).contains("| " + r.backend() + " | " + row.tokens() + " | "
                        + String.format(java.util.Locale.ROOT, "%.1f", row.medianMicros()) + " |");
            }
        }
        assertThat(md).contains("(h100.png)").contains("NVIDIA H100 80GB HBM3");
        assertThat(o.out()).contains("wrote " + png);
    }

    @Test
    @DisplayName("the SVG's legend names every backend of the files and both floors")
    void svgLegend() throws IOException {
        Path svg = dir.resolve("h100.svg");
        MoeOracleCliTest.Outcome o = MoeOracleCliTest.cli("plot", "--from-json", MARLIN + "," + TRITON, "--out",
                svg.toString());
        assertThat(o.code()).as(o.err() + o.out()).isZero();
        String text = Files.readString(svg);
        assertThat(text).startsWith("<!DOCTYPE svg").contains(">marlin<").contains(">triton<").contains("memory floor (")
                .contains("compute floor (");
    }

    @Test
    @DisplayName("a backend with FP8 activations gets its own compute floor (the FP8 rate), drawn and tabled")
    void fp8BackendBesideBf16() throws IOException {
        String marlin = Files.readString(MARLIN);
        // an FP8 variant of the same run: FP8 activations, ceilings with an FP8 rate twice the BF16 one
        String fp8 = marlin.replace("\"backend\": \"marlin\"", "\"backend\": \"fp8-test\"")
                .replace("\"ceilings\": {", "\"fp8Activations\": true,\n  \"ceilings\": {\"fp8FlopsPerSecond\": 1.57606e+15,"
                        + " \"fp8FlopsMethod\": \"a test rate\", ");
        Path fp8File = dir.resolve("fp8.json");
        Files.writeString(fp8File, fp8);
        assertThat(BenchResultReader.read(fp8File).fp8Activations()).isTrue();
        Path svg = dir.resolve("mixed.svg");
        MoeOracleCliTest.Outcome o = MoeOracleCliTest.cli("plot", "--from-json", MARLIN + "," + fp8File, "--out",
                svg.toString());
        assertThat(o.code()).as(o.err() + o.out()).isZero();
        String text = Files.readString(svg);
        assertThat(text).contains(">fp8-test<").contains(">marlin<").contains("compute floor BF16 (")
                .contains("compute floor FP8 (1576.1 TFLOP/s)");
        String md = Files.readString(dir.resolve("mixed.md"));
        assertThat(md).contains("| fp8-test (FP8) | 1 |").contains("| marlin | 1 |")
                .contains("FP8 matmul ceiling: 1576.1 TFLOP/s (a test rate)");
        // at T = 4096 the compute floor decides: the FP8 backend's floor is half marlin's
        BenchResult m = BenchResultReader.read(MARLIN);
        double flops = m.rows().getLast().flops();
        double bf16 = m.ceilings().orElseThrow().flopsPerSecond();
        assertThat(md).contains(String.format(java.util.Locale.ROOT, "| %.1f |", flops / bf16 * 1e6))
                .contains(String.format(java.util.Locale.ROOT, "| %.1f |", flops / 1.57606e15 * 1e6));
    }

    @Test
    @DisplayName("a file that is no bench result, or runs of two devices, are refused with the reason")
    void refusals() throws IOException {
        Path bad = dir.resolve("bad.json");
        Files.writeString(bad, "{\"backend\": \"x\"}");
        MoeOracleCliTest.Outcome o = MoeOracleCliTest.cli("plot", "--from-json", bad.toString(), "--out",
                dir.resolve("x.png").toString());
        assertThat(o.code()).isEqualTo(MoeOracleCli.EXIT_BAD_INPUT);
        assertThat(o.err()).contains("bad.json is not a bench result").contains("\"rows\"");
        Path h200 = Path.of("..", "bench", "results", "marlin-cuda0-H200-120b-20261126-merged.json");
        o = MoeOracleCliTest.cli("plot", "--from-json", MARLIN + "," + h200, "--out", dir.resolve("y.png").toString());
        assertThat(o.code()).isEqualTo(MoeOracleCli.EXIT_BAD_INPUT);
        assertThat(o.err()).contains("different devices").contains("H200");
        assertThat(dir.resolve("y.png")).doesNotExist();
        o = MoeOracleCliTest.cli("plot", "--from-json", dir.resolve("missing.json").toString(), "--out",
                dir.resolve("z.png").toString());
        assertThat(o.code()).isEqualTo(MoeOracleCli.EXIT_BAD_INPUT);
        assertThat(o.err()).contains("no such file");
    }
}
