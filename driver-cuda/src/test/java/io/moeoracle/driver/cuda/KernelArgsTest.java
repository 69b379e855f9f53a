package io.moeoracle.driver.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

class KernelArgsTest {
    private static final Logger LOG = LoggerFactory.getLogger(KernelArgsTest.class);

    @Test
    void each_pointer_points_at_an_aligned_slot_holding_the_value() {
        long seed = System.nanoTime();
        LOG.info("seed {}", seed);
        Random rnd = new Random(seed);
        long ptr = rnd.nextLong();
        int n = rnd.nextInt();
        float a = rnd.nextFloat();
        long big = rnd.nextLong();
        double d = rnd.nextDouble();
        try (Arena arena = Arena.ofConfined()) {
            KernelArgs args = KernelArgs.builder().pointer(ptr).i32(n).f32(a).i64(big).i32(n + 1).f64(d).build(arena);

            assertThat(args.count()).isEqualTo(6);
            MemorySegment p = args.pointers();
            assertThat(p.byteSize()).isEqualTo(6 * ValueLayout.ADDRESS.byteSize());
            long base = p.getAtIndex(ValueLayout.ADDRESS, 0).address();
            long[] expectedOffsets = {0, 8, 12, 16, 24, 32};
            for (int i = 0; i < 6; i++) {
                long at = p.getAtIndex(ValueLayout.ADDRESS, i).address();
                assertThat(at - base).as("offset of argument %d", i).isEqualTo(expectedOffsets[i]);
                assertThat(at % (args.kind(i) == KernelArgs.Kind.I32 || args.kind(i) == KernelArgs.Kind.F32 ? 4 : 8))
                        .isZero();
            }
            assertThat(args.slot(0).get(ValueLayout.JAVA_LONG, 0)).isEqualTo(ptr);
            assertThat(args.slot(1).get(ValueLayout.JAVA_INT, 0)).isEqualTo(n);
            assertThat(args.slot(2).get(ValueLayout.JAVA_FLOAT, 0)).isEqualTo(a);
            assertThat(args.slot(3).get(ValueLayout.JAVA_LONG, 0)).isEqualTo(big);
            assertThat(args.slot(4).get(ValueLayout.JAVA_INT, 0)).isEqualTo(n + 1);
            assertThat(args.slot(5).get(ValueLayout.JAVA_DOUBLE, 0)).isEqualTo(d);
        }
    }

    @Test
    void values_change_in_place_and_kinds_are_checked() {
        try (Arena arena = Arena.ofConfined()) {
            KernelArgs args = KernelArgs.builder().pointer(0x1000).i32(7).f32(1.5f).build(arena);
            MemorySegment slotBefore = args.pointers().getAtIndex(ValueLayout.ADDRESS, 1);

            args.setInt(1, 42);
            args.setPointer(0, 0xABCDEF00L);
            args.setFloat(2, -3.25f);

            assertThat(args.pointers().getAtIndex(ValueLayout.ADDRESS, 1).address()).isEqualTo(slotBefore.address());
            assertThat(args.slot(1).get(ValueLayout.JAVA_INT, 0)).isEqualTo(42);
            assertThat(args.slot(0).get(ValueLayout.JAVA_LONG, 0)).isEqualTo(0xABCDEF00L);
            assertThat(args.describe()).isEqualTo("[ptr 0xabcdef00, i32 42, f32 -3.25]");
            assertThatThrownBy(() -> args.setFloat(1, 1f)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("argument 1 is I32");
            assertThatThrownBy(() -> args.setInt(3, 1)).isInstanceOf(IndexOutOfBoundsException.class)
                    .hasMessageContaining("there are 3");
        }
    }

    @Test
    void structs_by_value_are_copied_at_their_alignment() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment map = arena.allocate(128);
            for (int i = 0; i < 128; i++) {
                map.set(ValueLayout.JAVA_BYTE, i, (byte) (i * 7 + 3));
            }
            KernelArgs args = KernelArgs.builder().i32(1).bytes(map, 64).pointer(5).build(arena);
            map.fill((byte) 0); // copied at build time: later changes must not leak in

            long base = args.pointers().getAtIndex(ValueLayout.ADDRESS, 0).address();
            long structAt = args.pointers().getAtIndex(ValueLayout.ADDRESS, 1).address();
            assertThat(structAt % 64).isZero();
            assertThat(structAt - base).isEqualTo(64);
            assertThat(args.slot(1).get(ValueLayout.JAVA_BYTE, 5)).isEqualTo((byte) 38);
            assertThat(args.pointers().getAtIndex(ValueLayout.ADDRESS, 2).address() - base).isEqualTo(192);
        }
    }
}
