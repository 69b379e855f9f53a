package io.moeoracle.cli;

import static io.moeoracle.cli.MoeOracleCliTest.cli;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moeoracle.ep.EpStrategy;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** {@code run} and {@code bench} with {@code --devices}: argument checks, and a clear verdict without GPUs. */
class ExpertParallelCliTest {
    private static final String[] LAYER = {"--experts", "8", "--top-k", "2", "--hidden", "64", "--intermediate", "64"};

    private static String[] args(String command, String... more) {
        String[] a = new String[1 + LAYER.length + more.length];
        a[0] = command;
        System.arraycopy(LAYER, 0, a, 1, LAYER.length);
        System.arraycopy(more, 0, a, 1 + LAYER.length, more.length);
        return a;
    }

    private static void badInput(MoeOracleCliTest.Outcome o, String... mentions) {
        assertThat(o.code()).as(o.err()).isEqualTo(MoeOracleCli.EXIT_BAD_INPUT);
        assertThat(o.err()).doesNotContain("\tat ").contains(mentions);
    }

    @Test
    @DisplayName("strategy names: all-gather, all-to-all, auto and short forms; others refused with the list")
    void strategies() {
        assertThat(ExpertParallelOptions.parse("all-gather")).isEqualTo(EpStrategy.ALL_GATHER);
        assertThat(ExpertParallelOptions.parse("ALL_TO_ALL")).isEqualTo(EpStrategy.ALL_TO_ALL);
        assertThat(ExpertParallelOptions.parse("a2a")).isEqualTo(EpStrategy.ALL_TO_ALL);
        assertThat(ExpertParallelOptions.parse("auto")).isEqualTo(EpStrategy.AUTO);
        assertThatThrownBy(() -> ExpertParallelOptions.parse("ring")).hasMessageContaining("all-gather, all-to-all or auto");
    }

    @Test
    @DisplayName("--ep-strategy without --devices is refused")
    void strategyNeedsDevices() {
        badInput(cli(args("run", "--ep-strategy", "all-gather")), "--ep-strategy needs --devices");
    }

    @Test
    @DisplayName("--devices with --ep-size, --batched or --device is refused, naming the clash")
    void clashes() {
        badInput(cli(args("run", "--devices", "cuda:0,cuda:1", "--ep-size", "2")), "--ep-size");
        badInput(cli(args("bench", "--devices", "cuda:0,cuda:1", "--batched")), "--batched");
        badInput(cli(args("run", "--devices", "cuda:0,cuda:1", "--device", "cpu")), "--device and --devices");
        badInput(cli(args("run", "--devices", "cuda:0,cuda:1", "--ep-strategy", "ring")), "'ring'");
    }

    @Test
    @DisplayName("on a machine without those GPUs (or NCCL) run --devices ends in one paragraph, not a stack trace")
    void noGpusHere() {
        MoeOracleCliTest.Outcome o = cli(args("run", "--devices", "cuda:0,cuda:1", "--tokens", "4", "--iterations", "1"));
        assertThat(o.code()).as(o.out() + o.err()).isNotZero();
        assertThat(o.err()).doesNotContain("\tat ").doesNotContain("internal error").containsAnyOf("cuda:0", "NCCL", "CUDA");
    }
}
