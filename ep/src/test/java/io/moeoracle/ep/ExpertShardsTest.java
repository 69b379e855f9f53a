package io.moeoracle.ep;

import static org.assertj.core.api.Assertions.assertThat;

import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.tensor.HostTensor;
import io.moeoracle.api.tensor.MoeWeights;
import io.moeoracle.core.weights.SafetensorsCheckpoint;
import io.moeoracle.core.weights.SafetensorsWriter;
import io.moeoracle.reference.RandomMoe;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each rank's weights: a view of its experts' bytes when they are one run, a copy of just them otherwise. */
class ExpertShardsTest {
    private static final MoeLayerSpec SPEC = MoeLayerSpec.builder().experts(8).topK(2).hiddenSize(64)
            .intermediateSize(96).build();

    private static boolean sameExpert(HostTensor full, int g, HostTensor shard, int slot) {
        long per = full.data().byteSize() / full.dim(0);
        return full.data().asSlice(g * per, per).mismatch(shard.data().asSlice(slot * per, per)) == -1;
    }

    @Test
    @DisplayName("contiguous experts are a view of the same memory; a placement's experts are copied in slot order")
    void slices() {
        try (Arena arena = Arena.ofConfined()) {
            MoeWeights full = RandomMoe.weights(SPEC, 11, arena);
            MoeLayerSpec rank1 = SPEC.toBuilder().expertParallel(2, 1).build();
            MoeWeights run = ExpertShards.ofFullLayer(full).forRank(1, new int[] {4, 5, 6, 7}, rank1, arena);
            run.validate(rank1);
            assertThat(run.w13().data().address()).isEqualTo(full.w13().data().address() + 4 * full.w13().data().byteSize() / 8);
            assertThat(sameExpert(full.w2Scales().orElseThrow(), 6, run.w2Scales().orElseThrow(), 2)).isTrue();
            MoeWeights picked = ExpertShards.ofFullLayer(full).forRank(1, new int[] {7, 1, 3, 5}, rank1, arena);
            picked.validate(rank1);
            assertThat(picked.w13().data().address()).isNotEqualTo(full.w13().data().address());
            for (int slot = 0; slot < 4; slot++) {
                int g = new int[] {7, 1, 3, 5}[slot];
                assertThat(sameExpert(full.w13(), g, picked.w13(), slot)).isTrue();
                assertThat(sameExpert(full.w13Scales().orElseThrow(), g, picked.w13Scales().orElseThrow(), slot)).isTrue();
                assertThat(sameExpert(full.w13Bias().orElseThrow(), g, picked.w13Bias().orElseThrow(), slot)).isTrue();
                assertThat(sameExpert(full.w2(), g, picked.w2(), slot)).isTrue();
                assertThat(sameExpert(full.w2Bias().orElseThrow(), g, picked.w2Bias().orElseThrow(), slot)).isTrue();
            }
        }
    }

    @Test
    @DisplayName("from a mapped checkpoint, a rank's contiguous experts stay views of the mapping (with its file check)")
    void checkpoint(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("layer.safetensors");
        try (Arena arena = Arena.ofConfined()) {
            MoeWeights w = RandomMoe.weights(SPEC, 12, arena);
            String l = "model.layers.0.mlp.experts.";
            new SafetensorsWriter()
                    .add(l + "gate_up_proj_blocks", w.w13()).add(l + "gate_up_proj_scales", w.w13Scales().orElseThrow())
                    .add(l + "gate_up_proj_bias", w.w13Bias().orElseThrow())
                    .add(l + "down_proj_blocks", w.w2()).add(l + "down_proj_scales", w.w2Scales().orElseThrow())
                    .add(l + "down_proj_bias", w.w2Bias().orElseThrow())
                    .write(file);
            try (Arena mapped = Arena.ofShared(); SafetensorsCheckpoint ckpt = SafetensorsCheckpoint.open(file, mapped)) {
                MoeLayerSpec rank0 = SPEC.toBuilder().expertParallel(2, 0).build();
                MoeWeights shard = ExpertShards.ofCheckpoint(ckpt, SPEC, 0).forRank(0, new int[] {0, 1, 2, 3}, rank0, mapped);
                shard.validate(rank0);
                assertThat(shard.w13().backing()).isPresent();
                assertThat(sameExpert(w.w2(), 3, shard.w2(), 3)).isTrue();
                assertThat(shard.w13().data().mismatch(MemorySegment.ofArray(w.w13().data().asSlice(0,
                        shard.w13().data().byteSize()).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE)))).isEqualTo(-1);
            }
        }
    }
}
