package io.moeoracle.cli;

import static io.moeoracle.cli.MoeOracleCliTest.cli;
import static org.assertj.core.api.Assertions.assertThat;

import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.tensor.MoeWeights;
import io.moeoracle.core.weights.SafetensorsWriter;
import io.moeoracle.reference.RandomMoe;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code run --weights} on a checkpoint that holds the experts but not the router. */
class RunRoutingTest {
    private static final String[] LAYER = {"--experts", "4", "--top-k", "2", "--hidden", "64", "--intermediate", "96",
            "--device", "cpu", "--tokens", "5", "--iterations", "2"};

    private static Path expertsOnly(Path dir) throws Exception {
        MoeLayerSpec spec = MoeLayerSpec.builder().experts(4).topK(2).hiddenSize(64).intermediateSize(96).build();
        Path file = dir.resolve("experts.safetensors");
        try (Arena arena = Arena.ofConfined()) {
            MoeWeights w = RandomMoe.weights(spec, System.nanoTime(), arena);
            String l = "model.layers.0.mlp.experts.";
            new SafetensorsWriter()
                    .add(l + "gate_up_proj_blocks", w.w13()).add(l + "gate_up_proj_scales", w.w13Scales().orElseThrow())
                    .add(l + "gate_up_proj_bias", w.w13Bias().orElseThrow())
                    .add(l + "down_proj_blocks", w.w2()).add(l + "down_proj_scales", w.w2Scales().orElseThrow())
                    .add(l + "down_proj_bias", w.w2Bias().orElseThrow())
                    .write(file);
        }
        return file;
    }

    private static String[] args(Path file, String... more) {
        String[] a = new String[1 + LAYER.length + 2 + more.length];
        a[0] = "run";
        System.arraycopy(LAYER, 0, a, 1, LAYER.length);
        a[LAYER.length + 1] = "--weights";
        a[LAYER.length + 2] = file.toString();
        System.arraycopy(more, 0, a, LAYER.length + 3, more.length);
        return a;
    }

    @Test
    @DisplayName("without a router in the checkpoint, run names the missing tensor and the option that routes anyway")
    void missingRouterIsNamed(@TempDir Path dir) throws Exception {
        Path file = expertsOnly(dir);
        MoeOracleCliTest.Outcome o = cli(args(file));
        assertThat(o.code()).as(o.out()).isEqualTo(MoeOracleCli.EXIT_BAD_INPUT);
        assertThat(o.err()).contains("'model.layers.0.mlp.router.weight'").contains("--routing random");
    }

    @Test
    @DisplayName("with --routing random, the experts of a router-less checkpoint run and match the reference")
    void hostSuppliedRoutingRuns(@TempDir Path dir) throws Exception {
        Path file = expertsOnly(dir);
        MoeOracleCliTest.Outcome o = cli(args(file, "--routing", "random"));
        assertThat(o.code()).as(o.err() + o.out()).isZero();
        assertThat(o.out()).contains("mapping " + file)
                .containsPattern("relative L2 error vs float64 reference: \\d\\.\\d+e-\\d+");
    }

    @Test
    @DisplayName("--routing router without a checkpoint is a usage error")
    void routerNeedsACheckpoint() {
        String[] a = new String[LAYER.length + 3];
        a[0] = "run";
        System.arraycopy(LAYER, 0, a, 1, LAYER.length);
        a[LAYER.length + 1] = "--routing";
        a[LAYER.length + 2] = "router";
        MoeOracleCliTest.Outcome o = cli(a);
        assertThat(o.code()).isEqualTo(MoeOracleCli.EXIT_BAD_INPUT);
        assertThat(o.err()).contains("--weights");
    }
}
