package io.moeoracle.driver.nccl.ffi;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** ncclConfig_t as NCCL 2.17 lays it out (the C offsets), initialized as NCCL_CONFIG_INITIALIZER does. */
class NcclConfigTest {

    @Test
    @DisplayName("the fields sit at the C offsets of the 2.17 struct, 48 bytes in all")
    void layout() {
        assertThat(NcclConfig.LAYOUT.byteSize()).isEqualTo(48);
        assertThat(NcclConfig.offset("magic")).isEqualTo(8);
        assertThat(NcclConfig.offset("version")).isEqualTo(12);
        assertThat(NcclConfig.offset("blocking")).isEqualTo(16);
        assertThat(NcclConfig.offset("maxCTAs")).isEqualTo(28);
        assertThat(NcclConfig.offset("netName")).isEqualTo(32);
        assertThat(NcclConfig.offset("splitShare")).isEqualTo(40);
    }

    @Test
    @DisplayName("size, magic and version are set, blocking as asked, everything else NCCL's 'undefined'")
    void values() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment c = NcclConfig.allocate(arena, false);
            assertThat(c.get(ValueLayout.JAVA_LONG, 0)).isEqualTo(48);
            assertThat(c.get(ValueLayout.JAVA_INT, 8)).isEqualTo(0xcafebeef);
            assertThat(c.get(ValueLayout.JAVA_INT, 12)).isEqualTo(21700);
            assertThat(c.get(ValueLayout.JAVA_INT, 16)).isZero();
            assertThat(c.get(ValueLayout.JAVA_INT, 20)).isEqualTo(Integer.MIN_VALUE);
            assertThat(c.get(ValueLayout.JAVA_INT, 28)).isEqualTo(Integer.MIN_VALUE);
            assertThat(c.get(ValueLayout.ADDRESS, 32)).isEqualTo(MemorySegment.NULL);
            assertThat(c.get(ValueLayout.JAVA_INT, 40)).isEqualTo(Integer.MIN_VALUE);
            assertThat(NcclConfig.allocate(arena, true).get(ValueLayout.JAVA_INT, 16)).isEqualTo(1);
        }
    }

    @Test
    @DisplayName("the unique id is a 128-byte struct, passed by value")
    void uniqueIdLayout() {
        assertThat(LibNccl.UNIQUE_ID.byteSize()).isEqualTo(128);
    }
}
