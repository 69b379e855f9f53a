package io.moeoracle.ep;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moeoracle.api.error.BadInputException;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Which rank holds which experts, and the virtual ids every rank's kernel sees. */
class ExpertPlacementTest {

    @Test
    @DisplayName("contiguous blocks: rank r holds [r*E/R, (r+1)*E/R), virtual id = global id")
    void contiguous() {
        ExpertPlacement p = ExpertPlacement.contiguous(256, 4);
        assertThat(p.localExperts()).isEqualTo(64);
        assertThat(p.owner(0)).isZero();
        assertThat(p.owner(63)).isZero();
        assertThat(p.owner(64)).isEqualTo(1);
        assertThat(p.owner(255)).isEqualTo(3);
        assertThat(p.slot(130)).isEqualTo(2);
        assertThat(p.expertsOf(2)).startsWith(128, 129).endsWith(191).hasSize(64);
        assertThat(p.isContiguous()).isTrue();
        for (int g = 0; g < 256; g++) {
            assertThat(p.virtualId(g)).isEqualTo(g);
        }
        assertThat(p).isEqualTo(ExpertPlacement.of(p.asLists()));
    }

    @Test
    @DisplayName("a host's placement: virtual ids put each rank's experts in its block, in slot order")
    void given() {
        // round robin: rank 0 holds 0, 2, 4, 6; rank 1 holds 7, 5, 3, 1 (any order)
        ExpertPlacement p = ExpertPlacement.of(List.of(List.of(0, 2, 4, 6), List.of(7, 5, 3, 1)));
        assertThat(p.isContiguous()).isFalse();
        assertThat(p.owner(5)).isEqualTo(1);
        assertThat(p.slot(5)).isEqualTo(1);
        assertThat(p.virtualId(5)).isEqualTo(4 + 1);
        assertThat(p.virtualId(6)).isEqualTo(3);
        assertThat(p.expertsOf(1)).containsExactly(7, 5, 3, 1);
        int[] v = p.virtualIds();
        assertThat(v).containsExactly(0, 7, 1, 6, 2, 5, 3, 4);
        // every virtual id once: a permutation
        assertThat(java.util.Arrays.stream(v).sorted().toArray()).containsExactly(0, 1, 2, 3, 4, 5, 6, 7);
    }

    @Test
    @DisplayName("a placement must cover each expert once, with E/R experts on every rank")
    void refused() {
        assertThatThrownBy(() -> ExpertPlacement.contiguous(10, 4)).isInstanceOf(BadInputException.class)
                .hasMessageContaining("must divide");
        assertThatThrownBy(() -> ExpertPlacement.of(List.of(List.of(0, 1), List.of(2)))).isInstanceOf(BadInputException.class)
                .hasMessageContaining("rank 1 holds 1 experts but rank 0 holds 2");
        assertThatThrownBy(() -> ExpertPlacement.of(List.of(List.of(0, 1), List.of(1, 2)))).isInstanceOf(BadInputException.class)
                .hasMessageContaining("expert 1 is placed on rank 0 and on rank 1");
        assertThatThrownBy(() -> ExpertPlacement.of(List.of(List.of(0, 9), List.of(1, 2)))).isInstanceOf(BadInputException.class)
                .hasMessageContaining("outside [0, 4)");
        assertThatThrownBy(() -> ExpertPlacement.of(List.of())).isInstanceOf(BadInputException.class);
    }
}
