package io.moeoracle.core.weights;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.tensor.DType;
import io.moeoracle.api.tensor.HostTensor;
import io.moeoracle.api.tensor.LoraAdapter;
import io.moeoracle.reference.RandomMoe;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PeftLoraLoaderTest {
    /** 8 experts over 2 ranks: this is rank 1, so the file's experts 4..7 are read. */
    private static final MoeLayerSpec SPEC = MoeLayerSpec.builder().experts(8).topK(2).hiddenSize(64)
            .intermediateSize(32).expertParallel(2, 1).lora(8, 2).build();
    private static final String[] PROJ = {"gate_proj", "up_proj", "down_proj"};

    @TempDir
    Path dir;

    /** Writes the adapter under PEFT names (experts 4..7; gate_proj lora_A as F32), plus decoys for experts 0..3. */
    private Path write(LoraAdapter a, int layer, boolean dropOne, Arena arena) throws IOException {
        HostTensor[] t = {a.gateA(), a.gateB(), a.upA(), a.upB(), a.downA(), a.downB()};
        SafetensorsWriter w = new SafetensorsWriter();
        for (int e = 0; e < 4; e++) {
            for (int k = 0; k < 6; k++) {
                long r = t[k].dim(1);
                long c = t[k].dim(2);
                HostTensor one = HostTensor.of(t[k].data().asSlice(e * r * c * 2, r * c * 2), DType.BF16, r, c);
                if (k == 0) {
                    HostTensor f32 = HostTensor.allocate(arena, DType.F32, r, c);
                    for (long j = 0; j < r * c; j++) {
                        f32.data().setAtIndex(ValueLayout.JAVA_FLOAT, j, LoraAdapter.at(one, j));
                    }
                    one = f32;
                }
                String factor = k % 2 == 0 ? "A" : "B";
                if (!(dropOne && e == 2 && k == 5)) {
                    w.add(PeftLoraLoader.name(layer, 4 + e, PROJ[k / 2], factor), one);
                }
                w.add(PeftLoraLoader.name(layer, e, PROJ[k / 2], factor), HostTensor.allocate(arena, DType.BF16, r, c));
            }
        }
        Path f = dir.resolve("adapter_model.safetensors");
        w.write(f);
        Files.writeString(dir.resolve("adapter_config.json"), "{\"r\": 8, \"lora_alpha\": 16, \"peft_type\": \"LORA\"}");
        return f;
    }

    @Test
    void readsPeftNamesOfThisRanksExpertsWithTheConfigScaling() throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            LoraAdapter want = RandomMoe.lora(SPEC, 8, 4, arena);
            Path f = write(want, 5, false, arena);
            LoraAdapter got = PeftLoraLoader.read(f, SPEC, 5, arena);
            got.validate(SPEC);
            assertThat(got.rank()).isEqualTo(8);
            assertThat(got.scaling()).isEqualTo(2.0);
            HostTensor[] a = {want.gateA(), want.gateB(), want.upA(), want.upB(), want.downA(), want.downB()};
            HostTensor[] b = {got.gateA(), got.gateB(), got.upA(), got.upB(), got.downA(), got.downB()};
            for (int k = 0; k < 6; k++) {
                assertThat(b[k].data().toArray(ValueLayout.JAVA_SHORT)).as("factor %d", k)
                        .containsExactly(a[k].data().toArray(ValueLayout.JAVA_SHORT));
            }
            assertThat(PeftLoraLoader.read(f, SPEC, 5, 0.5, arena).scaling()).isEqualTo(0.5);
            assertThatThrownBy(() -> PeftLoraLoader.read(f, SPEC, 6, arena))
                    .isInstanceOf(SafetensorsException.class).hasMessageContaining("no LoRA factors of layer 6 expert 4");
        }
    }

    @Test
    void aMissingFactorIsNamed() throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            Path f = write(RandomMoe.lora(SPEC, 8, 4, arena), 0, true, arena);
            assertThatThrownBy(() -> PeftLoraLoader.read(f, SPEC, 0, 2.0, arena))
                    .isInstanceOf(SafetensorsException.class)
                    .hasMessageContaining("experts.6.down_proj.lora_B.weight").hasMessageContaining("missing");
        }
    }
}
