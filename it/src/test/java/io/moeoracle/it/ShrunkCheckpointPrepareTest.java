package io.moeoracle.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moeoracle.api.MoeKernel;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.spec.QuantScheme;
import io.moeoracle.api.tensor.MoeWeights;
import io.moeoracle.backend.cpu.CpuMoeProvider;
import io.moeoracle.backend.cpu.HostCpu;
import io.moeoracle.core.weights.GptOssLayerLoader;
import io.moeoracle.core.weights.SafetensorsException;
import io.moeoracle.core.weights.SafetensorsFile;
import io.moeoracle.core.weights.SafetensorsWriter;
import io.moeoracle.reference.RandomMoe;
import java.lang.foreign.Arena;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A checkpoint truncated after it was mapped, prepared by the cpu backend: its native prepare would
 * read pages the file no longer has (SIGBUS, the JVM dies), so prepare must fail in Java first,
 * naming the file.
 */
class ShrunkCheckpointPrepareTest {
    private final MoeLayerSpec spec = MoeLayerSpec.builder().experts(4).topK(2).hiddenSize(64).intermediateSize(32)
            .quant(QuantScheme.MXFP4_BF16).build();

    @Test
    void prepareOfAMappingWhoseFileShrankFailsWithTheFileNameAndTheJvmLives(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("layer.safetensors");
        try (Arena arena = Arena.ofShared(); MoeKernel kernel = new CpuMoeProvider().create(spec, HostCpu.device())) {
            MoeWeights w = RandomMoe.weights(spec, System.nanoTime(), arena);
            String p = "model.layers.0.mlp.experts.";
            new SafetensorsWriter()
                    .add(p + "gate_up_proj_blocks", w.w13()).add(p + "gate_up_proj_scales", w.w13Scales().orElseThrow())
                    .add(p + "gate_up_proj_bias", w.w13Bias().orElseThrow())
                    .add(p + "down_proj_blocks", w.w2()).add(p + "down_proj_scales", w.w2Scales().orElseThrow())
                    .add(p + "down_proj_bias", w.w2Bias().orElseThrow())
                    .write(f);
            MoeWeights mapped = GptOssLayerLoader.load(SafetensorsFile.open(f, arena), spec, 0, arena).weights();
            assertThat(mapped.w13().data().isMapped()).isTrue();
            kernel.prepare(mapped); // whole file: prepares

            long size = Files.size(f);
            try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
                ch.truncate(64);
            }
            // guard: without the Java-side check the native prepare below would kill this JVM, so make
            // sure first (in Java only) that the check sees the shrink; a failure here stops the test.
            assertThatThrownBy(mapped::checkBacking).isInstanceOf(SafetensorsException.class);
            assertThatThrownBy(() -> kernel.prepare(mapped)).isInstanceOf(SafetensorsException.class)
                    .hasMessageContaining(f.toString()).hasMessageContaining("shrank from " + size + " to 64");
        }
    }
}
