package io.moeoracle.driver.opencl;

import io.moeoracle.driver.opencl.ffi.MemoryCalls;
import java.lang.foreign.MemorySegment;

/** A device buffer (cl_mem). Close it to free the memory. */
public final class ClBuffer implements AutoCloseable {
    private final String deviceId;
    private final MemorySegment handle;
    private final long bytes;
    private volatile boolean closed;

    ClBuffer(String deviceId, MemorySegment handle, long bytes) {
        this.deviceId = deviceId;
        this.handle = handle;
        this.bytes = bytes;
    }

    /** @return the size in bytes */
    public long byteSize() {
        return bytes;
    }

    /** @return the device id */
    public String deviceId() {
        return deviceId;
    }

    /** @return whether {@link #close()} has run */
    public boolean isClosed() {
        return closed;
    }

    MemorySegment handle() {
        if (closed) {
            throw new IllegalStateException("the OpenCL buffer of " + bytes + " bytes on " + deviceId + " is closed");
        }
        return handle;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            OpenClException.check(MemoryCalls.release(handle), "clReleaseMemObject(size=" + bytes + ")");
        }
    }

    @Override
    public String toString() {
        return "ClBuffer[" + bytes + " bytes on " + deviceId + "]";
    }
}
