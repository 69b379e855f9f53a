package io.moeoracle.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import javax.imageio.ImageIO;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Element;

/** {@code bench --plot} on this machine's CPU: a small sweep of every supported backend, drawn. */
class BenchPlotTest {
    private static final byte[] PNG_SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

    @TempDir
    Path dir;

    private static MoeOracleCliTest.Outcome smallSweep(String backend, Path plot) {
        return MoeOracleCliTest.cli("bench", "--experts", "8", "--top-k", "2", "--hidden", "128", "--intermediate", "96",
                "--tokens", "1,4,16", "--iterations", "3", "--warmup", "1", "--device", "cpu", "--no-save",
                "--seed", "7", "--backend", backend, "--plot", plot.toString());
    }

    @Test
    @DisplayName("--plot FILE.png on the CPU draws every supported backend into a valid PNG within a minute")
    void png() throws IOException {
        Path png = dir.resolve("sweep.png");
        long start = System.nanoTime();
        MoeOracleCliTest.Outcome o = smallSweep("all-supported", png);
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        assertThat(o.code()).as(o.err() + o.out()).isZero();
        assertThat(took).isLessThan(Duration.ofMinutes(1));
        byte[] bytes = Files.readAllBytes(png);
        assertThat(Arrays.copyOf(bytes, 8)).as("PNG signature").isEqualTo(PNG_SIGNATURE);
        assertThat(bytes.length).as("a chart with lines and labels, not an empty image").isGreaterThan(20_000);
        BufferedImage image = ImageIO.read(png.toFile());
        assertThat(image.getWidth()).isEqualTo(1000);
        assertThat(image.getHeight()).isEqualTo(850);
        // cpu and emulation both support the layer on this machine's CPU: both were timed and plotted
        String md = Files.readString(dir.resolve("sweep.md"));
        assertThat(md).startsWith("![").contains("(sweep.png)").contains("| cpu | 1 |").contains("| emulation | 16 |");
        assertThat(o.out()).contains("backend: cpu").contains("backend: emulation").contains("wrote " + png);
    }

    @Test
    @DisplayName("--plot FILE.svg writes an SVG document whose root element is <svg>")
    void svg() throws Exception {
        Path svg = dir.resolve("sweep.svg");
        MoeOracleCliTest.Outcome o = smallSweep("cpu", svg);
        assertThat(o.code()).as(o.err() + o.out()).isZero();
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setNamespaceAware(true);
        // JFreeSVG writes a DOCTYPE naming the W3C's DTD; the test machine has no network, and the root needs no DTD
        f.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false);
        Element root = f.newDocumentBuilder().parse(svg.toFile()).getDocumentElement();
        assertThat(root.getLocalName()).isEqualTo("svg");
        assertThat(root.getNamespaceURI()).isEqualTo("http://www.w3.org/2000/svg");
        assertThat(Files.readString(svg)).contains("memory floor").contains("compute floor");
    }

    @Test
    @DisplayName("--plot with another extension is refused before anything is timed")
    void badExtension() {
        MoeOracleCliTest.Outcome o = smallSweep("cpu", dir.resolve("sweep.gif"));
        assertThat(o.code()).isEqualTo(MoeOracleCli.EXIT_BAD_INPUT);
        assertThat(o.err()).contains(".png or .svg");
        assertThat(dir.resolve("sweep.gif")).doesNotExist();
    }
}
