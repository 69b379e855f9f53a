package io.moeoracle.driver.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** Out-parameters of driver calls, each in its own confined arena. */
final class Out {
    private Out() {
    }

    /** A call that writes into one out-parameter and returns a CUresult. */
    @FunctionalInterface
    interface Call {
        int invoke(MemorySegment out);
    }

    /** Supplies the text of the arguments, only when a call failed. */
    @FunctionalInterface
    interface Args {
        String text();
    }

    static int intValue(String call, Args args, Call c) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.JAVA_INT);
            check(c.invoke(out), call, args);
            return out.get(ValueLayout.JAVA_INT, 0);
        }
    }

    static long longValue(String call, Args args, Call c) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.JAVA_LONG);
            check(c.invoke(out), call, args);
            return out.get(ValueLayout.JAVA_LONG, 0);
        }
    }

    static float floatValue(String call, Args args, Call c) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.JAVA_FLOAT);
            check(c.invoke(out), call, args);
            return out.get(ValueLayout.JAVA_FLOAT, 0);
        }
    }

    /** @return an opaque handle (CUcontext, CUstream, ...) as a zero-length segment */
    static MemorySegment handle(String call, Args args, Call c) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            check(c.invoke(out), call, args);
            return out.get(ValueLayout.ADDRESS, 0);
        }
    }

    static void check(int rc, String call, Args args) {
        if (rc != 0) {
            throw CudaException.of(rc, call, args.text());
        }
    }

    static String hex(MemorySegment handle) {
        return "0x" + Long.toHexString(handle.address());
    }

    static String hex(long address) {
        return "0x" + Long.toHexString(address);
    }
}
