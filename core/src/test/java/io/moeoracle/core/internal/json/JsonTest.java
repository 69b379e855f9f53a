package io.moeoracle.core.internal.json;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonTest {

    @Test
    void parsesEveryKindOfValue() {
        Object v = Json.parse(" {\"a\": [1, -2.5e3, true, false, null], \"b\": {\"c\": \"x\\u00e9\\n\\\"\"},"
                + " \"big\": 123456789012345678901234567890, \"z\": 0} ");
        assertThat(v).isInstanceOf(Map.class);
        @SuppressWarnings("unchecked")
        Map<String, Object> m = (Map<String, Object>) v;
        assertThat(m.get("a")).isEqualTo(java.util.Arrays.asList(1L, -2500.0, true, false, null));
        assertThat(m.get("a")).isInstanceOf(List.class);
        assertThat(((Map<?, ?>) m.get("b")).get("c")).isEqualTo("x\u00e9\n\"");
        assertThat(m.get("big")).isInstanceOf(Double.class);
        assertThat(m.get("z")).isEqualTo(0L);
        assertThat(m.keySet()).containsExactly("a", "b", "big", "z");
    }

    @Test
    void errorsGiveLineAndColumn() {
        assertThatThrownBy(() -> Json.parse("{\n  \"a\": 1,\n  \"b\" 2\n}"))
                .isInstanceOf(JsonException.class)
                .hasMessageContaining("line 3, column 7").hasMessageContaining("expected ':'");
        assertThatThrownBy(() -> Json.parse("[1, 2")).hasMessageContaining("end of input");
        assertThatThrownBy(() -> Json.parse("{\"a\":1,\"a\":2}")).hasMessageContaining("duplicate key \"a\"");
        assertThatThrownBy(() -> Json.parse("01")).hasMessageContaining("after the value");
        assertThatThrownBy(() -> Json.parse("\"abc")).hasMessageContaining("unterminated string");
        assertThatThrownBy(() -> Json.parse("[tru]")).hasMessageContaining("expected true");
        assertThatThrownBy(() -> Json.parse("{} x")).hasMessageContaining("column 4");
        assertThatThrownBy(() -> Json.parse("[".repeat(10_000))).hasMessageContaining("nesting");
    }

    @Test
    void writeRoundTrips() {
        String text = "{\"a\":[1,2.5,\"q\\\"\\n\"],\"b\":{\"c\":null,\"d\":true}}";
        assertThat(Json.write(Json.parse(text))).isEqualTo(text);
    }
}
