package io.moeoracle.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.moeoracle.api.HostAvailability;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.spec.ActivationType;
import io.moeoracle.core.device.SimulatedDevices;
import io.moeoracle.core.select.Explanation;
import io.moeoracle.core.select.Explanation.Row;
import io.moeoracle.core.select.Explanation.Status;
import io.moeoracle.core.weights.ModelConfig;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ExplanationTableTest {
    private static final DeviceInfo SM90 = SimulatedDevices.get("sim:sm_90");
    private static final String LONG_PATH = "/home/someone/.cache/a/very/deep/folder/structure/that/goes/on/and/on/"
            + "moe-oracle-backend-something-0.1.0-SNAPSHOT-with-a-long-classifier.jar";

    private static Explanation sample() {
        return new Explanation(ModelConfig.preset("gpt-oss-120b"), SM90, Optional.empty(), List.of(
                new Row(1, "flashinfer-mxfp8", OptionalInt.of(120), Optional.of(ActivationType.MXFP8),
                        Status.UNSUPPORTED, "needs fp8 tensor cores", "use --activation bf16",
                        HostAvailability.no("libcuda missing"), "/x/flashinfer.jar"),
                new Row(2, "marlin", OptionalInt.of(100), Optional.of(ActivationType.BF16), Status.CHOSEN,
                        "W4A16 in registers", "", HostAvailability.yes(), "/x/marlin.jar"),
                new Row(3, "cpu", OptionalInt.of(-5), Optional.of(ActivationType.BF16), Status.SUPPORTED_NOT_CHOSEN,
                        "AVX-512 " + "and a long reason that goes on ".repeat(8), "", HostAvailability.yes("avx512_bf16"),
                        "bound"),
                new Row(0, "x", OptionalInt.empty(), Optional.empty(), Status.EXCLUDED, "excluded by moe.exclude",
                        "", HostAvailability.no("not checked"), "bound"),
                new Row(0, "com.example.Broken", OptionalInt.empty(), Optional.empty(), Status.UNAVAILABLE,
                        "failed to load: boom\nsecond line", "fix the jar", HostAvailability.no("failed to load"),
                        LONG_PATH)),
                List.of(new Row(0, "triton", OptionalInt.of(300), Optional.of(ActivationType.BF16), Status.NOT_INSTALLED,
                        "add io.moeoracle:moe-oracle-backend-cuda-triton (would run: fused kernels)", "",
                        HostAvailability.no("not installed"), "catalogue of official backends")));
    }

    private static String render(int width) {
        return new ExplanationTable(width, s -> s.equals("bound") ? "bound by the host" : s.startsWith("catalogue") ? ""
                : s.contains("marlin") ? "built in" : s).render(sample());
    }

    @Test
    void theShortColumnsAreAlignedAndEachRowStartsWithItsVerdict() {
        String table = render(100);
        List<String> lines = table.lines().toList();
        int h = 0;
        while (!lines.get(h).startsWith("#")) {
            h++;
        }
        String header = lines.get(h);
        String[] titles = {"#", "backend", "priority", "act", "verdict", "reason / remedy / host / from"};
        int[] start = new int[titles.length];
        for (int c = 0; c < titles.length; c++) {
            start[c] = header.indexOf(titles[c]);
            assertThat(start[c]).as(titles[c]).isGreaterThanOrEqualTo(c == 0 ? 0 : start[c - 1] + 1);
        }
        List<String[]> expected = List.of(
                new String[] {"1", "flashinfer-mxfp8", "120", "mxfp8", "unsupported", "needs fp8 tensor cores"},
                new String[] {"2", "marlin", "100", "bf16", "chosen", "W4A16 in registers"},
                new String[] {"3", "cpu", "-5", "bf16", "supported", "AVX-512"},
                new String[] {"-", "x", "-", "-", "excluded", "excluded by moe.exclude"},
                new String[] {"-", "com.example.Broken", "-", "-", "unavailable", "failed to load: boom second line"},
                new String[] {"-", "triton", "300", "bf16", "not installed", "add"});
        int row = 0;
        for (String line : lines.subList(h + 1, lines.size())) {
            if (line.isBlank()) {
                break;
            }
            if (line.startsWith(" ")) {
                // a continuation: indented to the last column
                assertThat(line.substring(0, start[5]).strip()).as("continuation %s", line).isEmpty();
                continue;
            }
            for (int c = 0; c < titles.length; c++) {
                assertThat(line.substring(start[c])).as("row %d column %s in%n%s", row, titles[c], table)
                        .startsWith(expected.get(row)[c]);
            }
            row++;
        }
        assertThat(row).isEqualTo(expected.size());
        assertThat(table.replaceAll("\\s+", " ")).contains("io.moeoracle:moe-oracle-backend-cuda-triton (would run");
        assertThat(table).contains("fix: use --activation bf16").contains("host: no (libcuda missing)")
                .contains("from: /x/flashinfer.jar").contains("from: built in").contains("from: bound by the host");
        assertThat(lines).contains("chosen: marlin");
        assertThat(table).startsWith("layer:   E=128 top4 H=2880 I=2880 mxfp4/auto");
        assertThat(lines.get(1)).isEqualTo("device:  " + SM90.describe());
    }

    @ParameterizedTest
    @ValueSource(ints = {60, 80, 100, 132, 200})
    void everyLineFitsTheWidthAndNothingIsLost(int width) {
        String table = render(width);
        assertThat(table.lines()).allSatisfy(l -> assertThat(l.length()).as(l).isLessThanOrEqualTo(width));
        String joined = table.replaceAll("\\s+", "");
        assertThat(joined).contains(LONG_PATH.replaceAll("\\s+", ""))
                .contains(("AVX-512 " + "and a long reason that goes on ".repeat(8)).replaceAll("\\s+", ""));
    }

    @Test
    void aNarrowTerminalStillGetsAReadableLastColumn() {
        String table = render(20);
        assertThat(table).contains("W4A16 in registers");
    }

    @Test
    void theRequestIsShownAboveTheTableAndTheHintBelow() {
        Explanation e = new Explanation(ModelConfig.preset("gpt-oss-120b"), SM90,
                Optional.of(new Explanation.Request("a", "system property moe.backend")), List.of());
        String table = new ExplanationTable(100, s -> s).render(e);
        assertThat(table).contains("request: a (system property moe.backend)\n")
                .contains("(no kernel backends found)").contains("no backend can run this layer\n")
                .contains("hint: add a backend jar to the class path or the plugins folder");
    }

    @Test
    void wrapBreaksAtSpacesAndCutsOnlyWordsWiderThanALine() {
        assertThat(ExplanationTable.wrap("aa bb cc", 5, "")).containsExactly("aa bb", "cc");
        assertThat(ExplanationTable.wrap("aa bb cc", 5, "  ")).containsExactly("aa bb", "  cc");
        assertThat(ExplanationTable.wrap("abcdefghij", 4, "")).containsExactly("abcd", "efgh", "ij");
        assertThat(ExplanationTable.wrap("", 4, "")).containsExactly("");
    }

    @Test
    void aLongClassNameWrapsAfterItsDots() {
        assertThat(ExplanationTable.wrapId("io.moeoracle.it.broken.BrokenProvider", 24))
                .containsExactly("io.moeoracle.it.broken.", "BrokenProvider");
        assertThat(ExplanationTable.wrapId("marlin", 24)).containsExactly("marlin");
        assertThat(ExplanationTable.wrapId("averyveryverylongidwithoutdots", 10))
                .containsExactly("averyveryv", "erylongidw", "ithoutdots");
    }
}
