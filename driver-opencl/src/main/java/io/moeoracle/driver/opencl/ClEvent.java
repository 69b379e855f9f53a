package io.moeoracle.driver.opencl;

import io.moeoracle.driver.opencl.ffi.ExecutionCalls;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** A command's event, from a queue with profiling enabled. Close it when done. */
public final class ClEvent implements AutoCloseable {
    private final MemorySegment handle;
    private final String what;
    private boolean closed;

    ClEvent(MemorySegment handle, String what) {
        this.handle = handle;
        this.what = what;
    }

    /** Blocks until the command has finished. */
    public void waitFor() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment list = arena.allocate(ValueLayout.ADDRESS);
            list.set(ValueLayout.ADDRESS, 0, handle);
            OpenClException.check(ExecutionCalls.waitForEvents(1, list), "clWaitForEvents(" + what + ")");
        }
    }

    private long profiling(int param, String name) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment v = arena.allocate(ValueLayout.JAVA_LONG);
            OpenClException.check(ExecutionCalls.getProfilingInfo(handle, param, 8, v, MemorySegment.NULL),
                    "clGetEventProfilingInfo(" + what + ", " + name + ")");
            return v.get(ValueLayout.JAVA_LONG, 0);
        }
    }

    /** @return device time the command was queued, ns */
    public long queuedNanos() {
        return profiling(Cl.PROFILING_COMMAND_QUEUED, "CL_PROFILING_COMMAND_QUEUED");
    }

    /** @return device time the command was submitted, ns */
    public long submitNanos() {
        return profiling(Cl.PROFILING_COMMAND_SUBMIT, "CL_PROFILING_COMMAND_SUBMIT");
    }

    /** @return device time the command started, ns */
    public long startNanos() {
        return profiling(Cl.PROFILING_COMMAND_START, "CL_PROFILING_COMMAND_START");
    }

    /** @return device time the command ended, ns */
    public long endNanos() {
        return profiling(Cl.PROFILING_COMMAND_END, "CL_PROFILING_COMMAND_END");
    }

    /** @return end minus start, ns; waits for the command first */
    public long durationNanos() {
        waitFor();
        return endNanos() - startNanos();
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            OpenClException.check(ExecutionCalls.releaseEvent(handle), "clReleaseEvent(" + what + ")");
        }
    }
}
