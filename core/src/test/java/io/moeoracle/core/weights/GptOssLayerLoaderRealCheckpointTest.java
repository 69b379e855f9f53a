package io.moeoracle.core.weights;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.tensor.DType;
import io.moeoracle.api.tensor.HostTensor;
import io.moeoracle.api.tensor.MoeWeights;
import io.moeoracle.reference.RandomMoe;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What real checkpoints bring: no router, other scale dtypes, files changed after they were opened. */
class GptOssLayerLoaderRealCheckpointTest {
    private static final long SEED = System.nanoTime();
    private static final MoeLayerSpec SPEC = MoeLayerSpec.builder().experts(4).topK(2).hiddenSize(64)
            .intermediateSize(32).build();
    private static final String P = "model.layers.0.mlp.experts.";

    @TempDir
    Path dir;

    /** Writes the experts of layer 0 under Hugging Face names, with the scales stored as {@code scaleDtype}. */
    private Path writeExperts(MoeWeights w, String scaleDtype, boolean router, Arena arena) throws IOException {
        Path f = dir.resolve("experts.safetensors");
        HostTensor s13 = w.w13Scales().orElseThrow();
        HostTensor s2 = w.w2Scales().orElseThrow();
        SafetensorsWriter out = new SafetensorsWriter()
                .add(P + "gate_up_proj_blocks", w.w13())
                .add(P + "gate_up_proj_scales", scaleDtype, s13.shape(), s13.data())
                .add(P + "gate_up_proj_bias", w.w13Bias().orElseThrow())
                .add(P + "down_proj_blocks", w.w2())
                .add(P + "down_proj_scales", scaleDtype, s2.shape(), s2.data())
                .add(P + "down_proj_bias", w.w2Bias().orElseThrow());
        if (router) {
            out.add("model.layers.0.mlp.router.weight", RandomMoe.hidden(4, 64, DType.BF16, SEED, arena));
        }
        out.write(f);
        return f;
    }

    @Test
    void aLayerWithoutRouterLoadsAndAskingForItsRouterNamesTheTensor() throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MoeWeights w = RandomMoe.weights(SPEC, SEED, arena);
            Path f = writeExperts(w, "U8", false, arena);
            GptOssLayerLoader.Layer l = GptOssLayerLoader.load(SafetensorsFile.open(f, arena), SPEC, 0, arena);
            l.weights().validate(SPEC);
            assertThat(l.hasRouter()).isFalse();
            assertThat(l.routerWeight()).isEmpty();
            assertThat(l.weights().w13().data().mismatch(w.w13().data())).as("seed %d", SEED).isEqualTo(-1);
            assertThatThrownBy(l::router).isInstanceOf(SafetensorsException.class)
                    .hasMessageContaining("'model.layers.0.mlp.router.weight'")
                    .hasMessageContaining("missing from the checkpoint")
                    .hasMessageContaining("Routing.topK")
                    .hasMessageContaining(f.toString());
        }
    }

    @Test
    void scalesStoredAsF8E8M0AreExponentsAndLoad() throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MoeWeights w = RandomMoe.weights(SPEC, SEED, arena);
            Path f = writeExperts(w, "F8_E8M0", true, arena);
            GptOssLayerLoader.Layer l = GptOssLayerLoader.load(SafetensorsFile.open(f, arena), SPEC, 0, arena);
            assertThat(l.weights().w2Scales().orElseThrow().data().mismatch(w.w2Scales().orElseThrow().data()))
                    .isEqualTo(-1);
            assertThat(l.hasRouter()).isTrue();
        }
    }

    @Test
    void scalesOfAnotherFp8FormatAreRefusedWithTheTensorName() throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MoeWeights w = RandomMoe.weights(SPEC, SEED, arena);
            Path f = writeExperts(w, "F8_E4M3", true, arena);
            SafetensorsCheckpoint c = SafetensorsCheckpoint.open(f, arena);
            assertThat(c.fileDtype(P + "gate_up_proj_scales")).isEqualTo("F8_E4M3");
            assertThatThrownBy(() -> GptOssLayerLoader.load(c, SPEC, 0, arena))
                    .isInstanceOf(SafetensorsException.class)
                    .hasMessageContaining("'" + P + "gate_up_proj_scales'")
                    .hasMessageContaining("scales are F8_E4M3")
                    .hasMessageContaining("U8 or F8_E8M0");
        }
    }

    @Test
    void aFileThatShrankAfterOpeningFailsTheWeightsCheckWithItsName() throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MoeWeights w = RandomMoe.weights(SPEC, SEED, arena);
            Path f = writeExperts(w, "U8", true, arena);
            long size = Files.size(f);
            SafetensorsFile file = SafetensorsFile.open(f, arena);
            GptOssLayerLoader.Layer l = GptOssLayerLoader.load(file, SPEC, 0, arena);
            MoeLayerSpec rank1 = SPEC.toBuilder().expertParallel(2, 1).build();
            GptOssLayerLoader.Layer half = GptOssLayerLoader.load(file, rank1, 0, arena);
            l.weights().validate(SPEC); // whole: passes

            try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
                ch.truncate(size / 2);
            }
            assertThatThrownBy(() -> l.weights().validate(SPEC)).isInstanceOf(SafetensorsException.class)
                    .hasMessageContaining(f.toString()).hasMessageContaining("shrank from " + size + " to " + size / 2);
            // expert-parallel slices and 4-D reshapes keep the check
            assertThatThrownBy(() -> half.weights().checkBacking()).isInstanceOf(SafetensorsException.class);
            assertThatThrownBy(file::checkNotShrunk).hasMessageContaining("shrank");
            assertThatThrownBy(() -> file.tensor(P + "down_proj_bias")).hasMessageContaining("shrank");
        }
    }

    @Test
    void aFileReplacedByAnotherOneLeavesTheOldMappingReadable() throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MoeWeights w = RandomMoe.weights(SPEC, SEED, arena);
            Path f = writeExperts(w, "U8", true, arena);
            GptOssLayerLoader.Layer l = GptOssLayerLoader.load(SafetensorsFile.open(f, arena), SPEC, 0, arena);
            Path small = dir.resolve("small.bin");
            Files.write(small, new byte[16]);
            Files.move(small, f, java.nio.file.StandardCopyOption.REPLACE_EXISTING); // a new inode at the same path
            l.weights().validate(SPEC);
            assertThat(l.weights().w13().data().mismatch(w.w13().data())).isEqualTo(-1);
        }
    }
}
