package io.moeoracle.bench.json;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonTest {
    @Test
    void whatIsWrittenReadsBackWithWholeNumbersExact() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("seed", 9_007_199_254_740_993L); // 2^53 + 1: a double would lose it
        m.put("micros", List.of(12.5, 3.0));
        m.put("nan", Double.NaN);
        m.put("text", "a \"quoted\"\\ line\nand\ttab \u0001");
        m.put("ok", true);
        Object back = Json.read(Json.write(m));
        assertThat(back).isInstanceOf(Map.class);
        Map<?, ?> r = (Map<?, ?>) back;
        assertThat(r.get("seed")).isEqualTo(9_007_199_254_740_993L);
        assertThat(r.get("micros")).isEqualTo(List.of(12.5, 3.0));
        assertThat(r.containsKey("nan")).isTrue();
        assertThat(r.get("nan")).isNull();
        assertThat(r.get("text")).isEqualTo(m.get("text"));
        assertThat(r.get("ok")).isEqualTo(true);
        assertThat(List.<Object>copyOf(r.keySet())).containsExactly("seed", "micros", "nan", "text", "ok");
    }

    @Test
    void badTextIsRefusedWithItsOffset() {
        assertThatThrownBy(() -> Json.read("{\"a\": 1} x")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("character 9");
        assertThatThrownBy(() -> Json.read("[1, tru]")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Json.read("{\"a\" 1}")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("expected ':'");
    }
}
