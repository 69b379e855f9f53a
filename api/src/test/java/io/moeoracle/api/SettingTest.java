package io.moeoracle.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class SettingTest {
    private static final Setting BACKEND = Setting.propertyOrEnv("moe.test.backend", "MOE_TEST_BACKEND", "auto",
            "a backend for this test");

    @Test
    void thePropertyWinsOverTheVariableAndBlankCountsAsUnset() {
        Map<String, String> props = Map.of("moe.test.backend", " cpu ");
        Map<String, String> env = Map.of("MOE_TEST_BACKEND", "marlin");
        assertThat(BACKEND.value(props::get, env::get)).contains("cpu");
        assertThat(BACKEND.value(Map.of("moe.test.backend", "  ")::get, env::get)).contains("marlin");
        assertThat(BACKEND.value(k -> null, k -> null)).isEmpty();
        assertThat(BACKEND.valueOrDefault()).isEqualTo("auto");
    }

    @Test
    void badValuesNameTheSettingAndTheDefault() {
        assertThatThrownBy(() -> BACKEND.parseBoolean("yes")).hasMessageContaining("-Dmoe.test.backend (or MOE_TEST_BACKEND)")
                .hasMessageContaining("'yes'").hasMessageContaining("true or false").hasMessageContaining("(auto)");
        assertThat(BACKEND.parseBoolean(" TRUE")).isTrue();
        assertThat(BACKEND.parseLong("12", 1, 64)).isEqualTo(12);
        assertThatThrownBy(() -> BACKEND.parseLong("0", 1, 64)).hasMessageContaining("[1, 64]");
        assertThatThrownBy(() -> BACKEND.parseLong("x", 1, 64)).hasMessageContaining("'x'");
    }

    @Test
    void namesFollowTheHouseConvention() {
        assertThatThrownBy(() -> Setting.property("cpu.threads", "", "x")).hasMessageContaining("moe.word");
        assertThatThrownBy(() -> Setting.propertyOrEnv("moe.x", "X", "", "x")).hasMessageContaining("MOE_WORD");
        assertThatThrownBy(() -> Setting.property("moe.x", "", " ")).hasMessageContaining("description");
    }

    @Test
    void theHandWrittenNameChecksAcceptExactlyWhatTheHouseRegexesAccept() {
        java.util.regex.Pattern property = java.util.regex.Pattern.compile("moe(\\.[A-Za-z0-9]+)+");
        java.util.regex.Pattern env = java.util.regex.Pattern.compile("MOE_[A-Z0-9_]+");
        for (String name : new String[] {"moe.a", "moe.cpu.threads", "moe.A1.b2", "moe", "moe.", "moe..x", "moe.x.",
            "moex.y", "moe.x-y", "moe.x y", ".moe.x", "moe.x..y", "moe.é"}) {
            boolean ok = property.matcher(name).matches();
            if (ok) {
                assertThat(Setting.property(name, "", "d").name()).isEqualTo(name);
            } else {
                assertThatThrownBy(() -> Setting.property(name, "", "d")).as(name).hasMessageContaining("moe.word");
            }
        }
        for (String name : new String[] {"MOE_X", "MOE_A_B9", "MOE__", "MOE_", "MOE_x", "MOEX", "MOE-X", "XMOE_A"}) {
            boolean ok = env.matcher(name).matches();
            if (ok) {
                assertThat(Setting.propertyOrEnv("moe.x", name, "", "d").env()).contains(name);
            } else {
                assertThatThrownBy(() -> Setting.propertyOrEnv("moe.x", name, "", "d")).as(name)
                        .hasMessageContaining("MOE_WORD");
            }
        }
    }
}
