package io.moeoracle.core.weights;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.spec.QuantScheme;
import io.moeoracle.api.tensor.DType;
import io.moeoracle.api.tensor.HostTensor;
import io.moeoracle.api.tensor.MoeWeights;
import io.moeoracle.reference.RandomMoe;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GptOssLayerLoaderTest {
    private static final long SEED = System.nanoTime();
    private static final MoeLayerSpec SPEC = MoeLayerSpec.builder().experts(4).topK(2).hiddenSize(64)
            .intermediateSize(32).build();

    @TempDir
    Path dir;

    private static boolean same(HostTensor a, HostTensor b) {
        return a.byteSize() == b.byteSize() && a.data().mismatch(b.data()) == -1;
    }

    private static HostTensor as4d(HostTensor t) {
        return t.reshape(t.dim(0), t.dim(1), t.dim(2) / 16, 16);
    }

    private Path writeHf(MoeWeights w, HostTensor router, HostTensor routerBias, int layer) throws IOException {
        String p = "model.layers." + layer + ".mlp.";
        Path f = dir.resolve("hf.safetensors");
        new SafetensorsWriter()
                .add(p + "experts.gate_up_proj_blocks", as4d(w.w13()))
                .add(p + "experts.gate_up_proj_scales", w.w13Scales().get())
                .add(p + "experts.gate_up_proj_bias", w.w13Bias().get())
                .add(p + "experts.down_proj_blocks", as4d(w.w2()))
                .add(p + "experts.down_proj_scales", w.w2Scales().get())
                .add(p + "experts.down_proj_bias", w.w2Bias().get())
                .add(p + "router.weight", router).add(p + "router.bias", routerBias)
                .add("model.layers." + layer + ".self_attn.q_proj.weight", router)
                .write(f);
        return f;
    }

    @Test
    void loadsHuggingFaceNamingWith4dBlocks() throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MoeWeights w = RandomMoe.weights(SPEC, SEED, arena);
            HostTensor router = RandomMoe.hidden(4, 64, DType.BF16, SEED, arena);
            HostTensor rbias = RandomMoe.hidden(1, 4, DType.BF16, SEED, arena).reshape(4);
            Path f = writeHf(w, router, rbias, 3);
            SafetensorsCheckpoint c = SafetensorsCheckpoint.open(f, arena);
            assertThat(GptOssLayerLoader.layers(c)).containsExactly(3);
            GptOssLayerLoader.Layer l = GptOssLayerLoader.load(c, SPEC, 3, arena);
            assertThat(l.naming()).isEqualTo(GptOssLayerLoader.Naming.HUGGING_FACE);
            l.weights().validate(SPEC);
            assertThat(l.weights().w13().shape()).containsExactly(4, 64, 32);
            assertThat(same(l.weights().w13(), w.w13())).as("seed %d", SEED).isTrue();
            assertThat(same(l.weights().w2Scales().get(), w.w2Scales().get())).isTrue();
            assertThat(same(l.weights().w2Bias().get(), w.w2Bias().get())).isTrue();
            assertThat(same(l.router(), router)).isTrue();
            assertThat(same(l.routerBias().orElseThrow(), rbias)).isTrue();
            assertThat(l.weights().w13().data().isMapped()).isTrue(); // no copy

            assertThatThrownBy(() -> GptOssLayerLoader.load(c, SPEC, 4, arena))
                    .isInstanceOf(SafetensorsException.class).hasMessageContaining("layer 4")
                    .hasMessageContaining("layers present: [3]");
            MoeLayerSpec wider = SPEC.toBuilder().intermediateSize(64).build();
            assertThatThrownBy(() -> GptOssLayerLoader.load(c, wider, 3, arena))
                    .isInstanceOf(SafetensorsException.class)
                    .hasMessageContaining("'model.layers.3.mlp.experts.gate_up_proj_blocks'")
                    .hasMessageContaining("is U8 [4, 64, 2, 16]").hasMessageContaining("[4, 128, 2, 16]");
        }
    }

    @Test
    void loadsTheOriginalNamingWith3dBlocksAndSlicesExpertParallelRanks() throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MoeWeights w = RandomMoe.weights(SPEC, SEED, arena);
            HostTensor router = RandomMoe.hidden(4, 64, DType.F32, SEED, arena);
            Path f = dir.resolve("model.safetensors");
            new SafetensorsWriter()
                    .add("block.0.mlp.mlp1_weight.blocks", w.w13())
                    .add("block.0.mlp.mlp1_weight.scales", w.w13Scales().get())
                    .add("block.0.mlp.mlp1_bias", w.w13Bias().get())
                    .add("block.0.mlp.mlp2_weight.blocks", w.w2())
                    .add("block.0.mlp.mlp2_weight.scales", w.w2Scales().get())
                    .add("block.0.mlp.mlp2_bias", w.w2Bias().get())
                    .add("block.0.mlp.gate.weight", router)
                    .write(f);
            SafetensorsCheckpoint c = SafetensorsCheckpoint.open(dir, arena);
            GptOssLayerLoader.Layer l = GptOssLayerLoader.load(c, SPEC, 0, arena);
            assertThat(l.naming()).isEqualTo(GptOssLayerLoader.Naming.ORIGINAL);
            assertThat(same(l.weights().w2(), w.w2())).isTrue();
            assertThat(l.routerBias()).isEmpty();

            MoeLayerSpec rank1 = SPEC.toBuilder().expertParallel(2, 1).build();
            GptOssLayerLoader.Layer half = GptOssLayerLoader.load(c, rank1, 0, arena);
            half.weights().validate(rank1);
            long expertBytes = w.w13().byteSize() / 4;
            assertThat(half.weights().w13().data().mismatch(w.w13().data().asSlice(2 * expertBytes, 2 * expertBytes)))
                    .isEqualTo(-1);
            assertThat(half.router().shape()).containsExactly(4, 64); // every rank routes over all experts
        }
    }

    @Test
    void missingTensorsAndWrongDtypesAreNamed() throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MoeWeights w = RandomMoe.weights(SPEC, SEED, arena);
            Path f = dir.resolve("partial.safetensors");
            new SafetensorsWriter()
                    .add("block.1.mlp.mlp1_weight.blocks", w.w13())
                    .add("block.1.mlp.mlp1_weight.scales", RandomMoe.hidden(4, 64, DType.F32, SEED, arena))
                    .write(f);
            SafetensorsFile file = SafetensorsFile.open(f, arena);
            assertThatThrownBy(() -> GptOssLayerLoader.load(file, SPEC, 1, arena))
                    .hasMessageContaining("'block.1.mlp.mlp2_weight.blocks'").hasMessageContaining("missing");
            new SafetensorsWriter()
                    .add("block.1.mlp.mlp1_weight.blocks", w.w13())
                    .add("block.1.mlp.mlp1_weight.scales", RandomMoe.hidden(4 * 64, 2, DType.BF16, SEED, arena)
                            .reshape(4, 64, 2))
                    .add("block.1.mlp.mlp2_weight.blocks", w.w2())
                    .write(f);
            SafetensorsFile file2 = SafetensorsFile.open(f, arena);
            assertThatThrownBy(() -> GptOssLayerLoader.load(file2, SPEC, 1, arena))
                    .hasMessageContaining("'block.1.mlp.mlp1_weight.scales'").hasMessageContaining("scales are BF16")
                    .hasMessageContaining("U8 or F8_E8M0");
        }
    }

    @Test
    void bf16HuggingFaceExpertsAreTransposedToTheCanonicalLayout() throws IOException {
        MoeLayerSpec spec = SPEC.toBuilder().quant(QuantScheme.BF16).hasBias(false).build();
        try (Arena arena = Arena.ofConfined()) {
            MoeWeights canon = RandomMoe.weights(spec, SEED, arena);
            // HF stores gate_up_proj [E, H, 2I] and down_proj [E, I, H]
            HostTensor gu = HostTensor.allocate(arena, DType.BF16, 4, 64, 64);
            HostTensor dn = HostTensor.allocate(arena, DType.BF16, 4, 32, 64);
            for (int e = 0; e < 4; e++) {
                for (int r = 0; r < 64; r++) {
                    for (int c = 0; c < 64; c++) {
                        gu.data().setAtIndex(ValueLayout.JAVA_SHORT, (e * 64L + c) * 64 + r,
                                canon.w13().data().getAtIndex(ValueLayout.JAVA_SHORT, (e * 64L + r) * 64 + c));
                    }
                }
                for (int r = 0; r < 64; r++) {
                    for (int c = 0; c < 32; c++) {
                        dn.data().setAtIndex(ValueLayout.JAVA_SHORT, (e * 32L + c) * 64 + r,
                                canon.w2().data().getAtIndex(ValueLayout.JAVA_SHORT, (e * 64L + r) * 32 + c));
                    }
                }
            }
            Path f = dir.resolve("bf16.safetensors");
            new SafetensorsWriter().add("model.layers.0.mlp.experts.gate_up_proj", gu)
                    .add("model.layers.0.mlp.experts.down_proj", dn)
                    .add("model.layers.0.mlp.router.weight", RandomMoe.hidden(4, 64, DType.BF16, SEED, arena))
                    .write(f);
            GptOssLayerLoader.Layer l = GptOssLayerLoader.load(SafetensorsFile.open(f, arena), spec, 0, arena);
            assertThat(same(l.weights().w13(), canon.w13())).isTrue();
            assertThat(same(l.weights().w2(), canon.w2())).isTrue();
        }
    }
}
