package io.moeoracle.driver.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class LaunchConfigTest {

    @Test
    void covering_rounds_up() {
        assertThat(LaunchConfig.covering(1000, 256).gridX()).isEqualTo(4);
        assertThat(LaunchConfig.covering(1024, 256).gridX()).isEqualTo(4);
        assertThat(LaunchConfig.covering(0, 256).gridX()).isEqualTo(1);
    }

    @Test
    void bad_shapes_are_rejected_before_any_launch() {
        assertThatThrownBy(() -> LaunchConfig.of(0, 32)).hasMessageContaining("grid (0, 1, 1)");
        assertThatThrownBy(() -> LaunchConfig.of(1, 2048)).hasMessageContaining("at most 1024 threads");
        assertThatThrownBy(() -> LaunchConfig.of(1, 1, 1, 32, 32, 2)).hasMessageContaining("at most 1024");
        assertThatThrownBy(() -> LaunchConfig.of(1, 32).withSharedMemory(-1)).hasMessageContaining("≥ 0");
    }
}
