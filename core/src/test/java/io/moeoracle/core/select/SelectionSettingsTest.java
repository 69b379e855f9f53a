package io.moeoracle.core.select;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class SelectionSettingsTest {

    @Test
    void readsPropertiesAndEnvironment() {
        SelectionSettings s = SelectionSettings.from(
                Map.of("moe.backend", " Marlin ", "moe.priority", "a, B,,c,a", "moe.exclude", "x"),
                Map.of("MOE_BACKEND", "cpu", "MOE_PRIORITY", "ignored", "MOE_EXCLUDE", "ignored"));
        assertThat(s.backend()).contains("marlin");
        assertThat(s.backendFromEnv()).contains("cpu");
        assertThat(s.priority()).as("trimmed, lower case, blanks and repeats dropped").containsExactly("a", "b", "c");
        assertThat(s.exclude()).containsExactly("x");
        assertThat(s.excludes("X")).isTrue();
    }

    @Test
    void theEnvironmentIsUsedWhenNoPropertyIsSet() {
        SelectionSettings s = SelectionSettings.from(Map.of(),
                Map.of("MOE_PRIORITY", "p,q", "MOE_EXCLUDE", "r"));
        assertThat(s.backend()).isEmpty();
        assertThat(s.backendFromEnv()).isEmpty();
        assertThat(s.priority()).containsExactly("p", "q");
        assertThat(s.exclude()).containsExactly("r");
    }

    @Test
    void blankValuesMeanNothing() {
        SelectionSettings s = SelectionSettings.from(Map.of("moe.backend", "  "), Map.of("MOE_BACKEND", ""));
        assertThat(s).isEqualTo(SelectionSettings.defaults());
    }

    @Test
    void fromSystemReadsTheSystemProperties() {
        String saved = System.getProperty("moe.exclude");
        try {
            System.setProperty("moe.exclude", "slow,broken");
            assertThat(SelectionSettings.fromSystem().exclude()).containsExactly("slow", "broken");
        } finally {
            if (saved == null) {
                System.clearProperty("moe.exclude");
            } else {
                System.setProperty("moe.exclude", saved);
            }
        }
    }

    @Test
    void withersCopy() {
        SelectionSettings s = SelectionSettings.defaults().withBackend("A").withBackendFromEnv("b")
                .withPriority("c").withExclude("d");
        assertThat(s).isEqualTo(new SelectionSettings(Optional.of("a"), Optional.of("b"),
                java.util.List.of("c"), java.util.List.of("d")));
        assertThat(s.withBackend(null).backend()).isEmpty();
    }

    @Test
    void theCacheSizeIsASettingWithABound() {
        assertThat(SelectionSettings.defaults().cacheSize()).isEqualTo(1024);
        assertThat(SelectionSettings.from(Map.of("moe.selector.cacheSize", "16"), Map.of()).cacheSize()).isEqualTo(16);
        assertThat(SelectionSettings.defaults().withCacheSize(3).cacheSize()).isEqualTo(3);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> SelectionSettings.from(
                Map.of("moe.selector.cacheSize", "0"), Map.of())).hasMessageContaining("-Dmoe.selector.cacheSize")
                .hasMessageContaining("'0'");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> SelectionSettings.defaults().withCacheSize(0))
                .hasMessageContaining("moe.selector.cacheSize");
    }
}
