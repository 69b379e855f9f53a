package io.moeoracle.driver.hip;

import io.moeoracle.driver.hip.ffi.HipCalls;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** A code object loaded with {@code hipModuleLoadData}; {@link #close()} unloads it. */
public final class HipModule implements AutoCloseable {
    private final HipDevice device;
    private final MemorySegment handle;
    private boolean closed;

    private HipModule(HipDevice device, MemorySegment handle) {
        this.device = device;
        this.handle = handle;
    }

    static HipModule load(HipDevice device, byte[] image) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment bytes = arena.allocate(image.length, 4096);
            MemorySegment.copy(image, 0, bytes, ValueLayout.JAVA_BYTE, 0, image.length);
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            HipException.check(HipCalls.hipModuleLoadData(out, bytes), "hipModuleLoadData",
                    "image=" + image.length + " bytes, device=" + device);
            return new HipModule(device, out.get(ValueLayout.ADDRESS, 0));
        }
    }

    /**
     * @param name the kernel's symbol ({@code extern "C"} name)
     * @return the kernel
     */
    public HipFunction function(String name) {
        if (closed) {
            throw new IllegalStateException("module was unloaded");
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            HipException.check(HipCalls.hipModuleGetFunction(out, handle, arena.allocateFrom(name)),
                    "hipModuleGetFunction", "name=" + name);
            return new HipFunction(this, name, out.get(ValueLayout.ADDRESS, 0));
        }
    }

    /** @return the device it was loaded on */
    public HipDevice device() {
        return device;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            device.makeCurrent();
            HipException.check(HipCalls.hipModuleUnload(handle), "hipModuleUnload", "module=" + handle);
        }
    }
}
