package io.moeoracle.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class ProgressTest {
    @Test
    @DisplayName("a known fraction draws a bar with the percentage, the stage and the time left")
    void bar() {
        String line = Progress.line(0.5, 10.0, "timing T=64");
        assertThat(line).startsWith("[" + "#".repeat(12) + "-".repeat(12) + "]")
                .contains(" 50%").contains("timing T=64").contains("10.0 s").endsWith("~10 s left");
    }

    @Test
    @DisplayName("the estimate scales with what is left, in minutes past 90 seconds")
    void estimate() {
        assertThat(Progress.line(0.25, 60.0, "x")).endsWith("~3 min 00 s left");
        assertThat(Progress.line(0.9, 9.0, "x")).endsWith("~1 s left");
    }

    @Test
    @DisplayName("no estimate at 0 and at 100%; no bar while the fraction is unknown")
    void edges() {
        assertThat(Progress.line(0.0, 1.0, "starting")).contains("  0%").doesNotContain("left");
        assertThat(Progress.line(1.0, 4.0, "done")).contains("[" + "#".repeat(24) + "]").contains("100%")
                .doesNotContain("left");
        assertThat(Progress.line(Double.NaN, 2.5, "mapping")).isEqualTo("2.5 s  mapping");
    }

    @Test
    @DisplayName("off a terminal, nothing is drawn on the output but the final line; the fraction never goes back")
    void plain() {
        StringWriter sw = new StringWriter();
        try (Progress p = new Progress(new PrintWriter(sw, true), "benchmarking cpu", false)) {
            p.progress(0.6, "timing T=8");
            p.progress(0.3, "timing T=8");
            assertThat(p.fraction()).isEqualTo(0.6);
        }
        assertThat(sw.toString()).doesNotContain("\r").doesNotContain("[#").startsWith("benchmarking cpu: ");
    }
}
