package io.moeoracle.driver.hip;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.StringJoiner;

/**
 * The {@code void** kernelParams} of a launch: one slot per argument (8 bytes, so any scalar fits)
 * and an array of pointers to the slots, both in the caller's arena.
 */
public final class HipKernelArgs {
    private final MemorySegment pointers;
    private final List<String> described;

    private HipKernelArgs(MemorySegment pointers, List<String> described) {
        this.pointers = pointers;
        this.described = described;
    }

    /** @return a builder */
    public static Builder builder() {
        return new Builder();
    }

    /** @return the {@code void**} array */
    public MemorySegment pointers() {
        return pointers;
    }

    /** @return the argument count */
    public int count() {
        return described.size();
    }

    /** @return the arguments as text, for error messages */
    public String describe() {
        StringJoiner j = new StringJoiner(", ", "(", ")");
        described.forEach(j::add);
        return j.toString();
    }

    /** Collects arguments in order. */
    public static final class Builder {
        private final List<Object> values = new ArrayList<>();

        private Builder() {
        }

        /** @param address a device address (0 for a null pointer) @return this */
        public Builder pointer(long address) {
            values.add(MemorySegment.ofAddress(address));
            return this;
        }

        /** @param value an int argument @return this */
        public Builder i32(int value) {
            values.add(value);
            return this;
        }

        /** @param value a float argument @return this */
        public Builder f32(float value) {
            values.add(value);
            return this;
        }

        /**
         * @param arena where the slots live (must outlive the launch call)
         * @return the arguments
         */
        public HipKernelArgs build(Arena arena) {
            int n = values.size();
            MemorySegment slots = arena.allocate(8L * Math.max(1, n), 8);
            MemorySegment ptrs = arena.allocate(ValueLayout.ADDRESS, Math.max(1, n));
            List<String> text = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                MemorySegment slot = slots.asSlice(8L * i, 8);
                switch (values.get(i)) {
                    case MemorySegment p -> {
                        slot.set(ValueLayout.ADDRESS, 0, p);
                        text.add("0x" + Long.toHexString(p.address()));
                    }
                    case Integer v -> {
                        slot.set(ValueLayout.JAVA_INT, 0, v);
                        text.add(Integer.toString(v));
                    }
                    case Float v -> {
                        slot.set(ValueLayout.JAVA_FLOAT, 0, v);
                        text.add(v + "f");
                    }
                    default -> throw new IllegalStateException("unexpected argument " + values.get(i));
                }
                ptrs.setAtIndex(ValueLayout.ADDRESS, i, slot);
            }
            return new HipKernelArgs(ptrs, List.copyOf(text));
        }
    }
}
