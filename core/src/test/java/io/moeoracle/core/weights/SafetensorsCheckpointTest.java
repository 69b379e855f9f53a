package io.moeoracle.core.weights;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moeoracle.api.tensor.DType;
import io.moeoracle.api.tensor.HostTensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsCheckpointTest {
    @TempDir
    Path dir;

    private void twoShards() throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            HostTensor a = HostTensor.allocate(arena, DType.F32, 2);
            a.data().setAtIndex(ValueLayout.JAVA_FLOAT, 1, 3.5f);
            HostTensor b = HostTensor.allocate(arena, DType.I32, 3);
            b.data().setAtIndex(ValueLayout.JAVA_INT, 2, 42);
            new SafetensorsWriter().add("x.a", a).write(dir.resolve("model-00001-of-00002.safetensors"));
            new SafetensorsWriter().add("x.b", b).write(dir.resolve("model-00002-of-00002.safetensors"));
        }
    }

    @Test
    void opensAnIndexedCheckpoint() throws IOException {
        twoShards();
        Files.writeString(dir.resolve(SafetensorsCheckpoint.INDEX), "{\"metadata\":{\"total_size\":20},\"weight_map\":{"
                + "\"x.a\":\"model-00001-of-00002.safetensors\",\"x.b\":\"model-00002-of-00002.safetensors\"}}");
        try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(dir)) {
            assertThat(c.names()).containsExactlyInAnyOrder("x.a", "x.b");
            assertThat(c.tensor("x.a").data().getAtIndex(ValueLayout.JAVA_FLOAT, 1)).isEqualTo(3.5f);
            assertThat(c.tensor("x.b").data().getAtIndex(ValueLayout.JAVA_INT, 2)).isEqualTo(42);
            assertThat(c.fileOf("x.b").getFileName().toString()).isEqualTo("model-00002-of-00002.safetensors");
            assertThat(c.files()).hasSize(2);
        }
        try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(dir.resolve(SafetensorsCheckpoint.INDEX))) {
            assertThat(c.names()).hasSize(2);
        }
    }

    @Test
    void opensAFolderWithoutAnIndexAndASingleFile() throws IOException {
        twoShards();
        try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(dir)) {
            assertThat(c.names()).containsExactly("x.a", "x.b");
        }
        try (Arena arena = Arena.ofConfined()) {
            SafetensorsCheckpoint c = SafetensorsCheckpoint.open(dir.resolve("model-00002-of-00002.safetensors"), arena);
            assertThat(c.names()).containsExactly("x.b");
        }
    }

    @Test
    void indexProblemsNameTheTensor() throws IOException {
        twoShards();
        Files.writeString(dir.resolve(SafetensorsCheckpoint.INDEX), "{\"weight_map\":{"
                + "\"x.c\":\"model-00001-of-00002.safetensors\"}}");
        assertThatThrownBy(() -> SafetensorsCheckpoint.open(dir)).isInstanceOf(SafetensorsException.class)
                .hasMessageContaining("'x.c'").hasMessageContaining("missing from the file");
        Files.writeString(dir.resolve(SafetensorsCheckpoint.INDEX), "{\"weight_map\":{\"x.a\":\"../etc/passwd\"}}");
        assertThatThrownBy(() -> SafetensorsCheckpoint.open(dir)).hasMessageContaining("'x.a'");
        Files.writeString(dir.resolve(SafetensorsCheckpoint.INDEX), "{\"weight_map\":{\"x.a\":\"gone.safetensors\"}}");
        assertThatThrownBy(() -> SafetensorsCheckpoint.open(dir)).hasMessageContaining("gone.safetensors");
        Files.delete(dir.resolve(SafetensorsCheckpoint.INDEX));
        Files.copy(dir.resolve("model-00001-of-00002.safetensors"), dir.resolve("model-copy.safetensors"));
        assertThatThrownBy(() -> SafetensorsCheckpoint.open(dir)).hasMessageContaining("'x.a'")
                .hasMessageContaining("one file only");
        assertThatThrownBy(() -> SafetensorsCheckpoint.open(dir.resolve("nothing-here"))).hasMessageContaining("no such");
    }
}
