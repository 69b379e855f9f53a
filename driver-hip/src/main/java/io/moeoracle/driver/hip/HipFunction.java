package io.moeoracle.driver.hip;

import io.moeoracle.driver.hip.ffi.HipCalls;
import java.lang.foreign.MemorySegment;

/** A kernel of a {@link HipModule}, launched with {@code hipModuleLaunchKernel}. */
public final class HipFunction {
    private final HipModule module;
    private final String name;
    private final MemorySegment handle;

    HipFunction(HipModule module, String name, MemorySegment handle) {
        this.module = module;
        this.name = name;
        this.handle = handle;
    }

    /** @return the kernel's name */
    public String name() {
        return name;
    }

    /**
     * Enqueues one launch.
     *
     * @param gridX blocks in x
     * @param gridY blocks in y
     * @param blockX threads per block in x
     * @param sharedBytes dynamic shared (LDS) bytes
     * @param stream the stream
     * @param args the kernel's arguments, in order
     */
    public void launch(int gridX, int gridY, int blockX, int sharedBytes, HipStream stream, HipKernelArgs args) {
        if (gridX < 1 || gridY < 1 || blockX < 1) {
            throw new IllegalArgumentException("launch of " + name + " with grid " + gridX + "x" + gridY
                    + " and block " + blockX + ": every dimension must be at least 1");
        }
        int rc = HipCalls.hipModuleLaunchKernel(handle, gridX, gridY, 1, blockX, 1, 1, sharedBytes, stream.handle(),
                args.pointers(), MemorySegment.NULL);
        HipException.check(rc, "hipModuleLaunchKernel", "kernel=" + name + ", grid=" + gridX + "x" + gridY
                + ", block=" + blockX + ", shared=" + sharedBytes + ", args=" + args.describe());
    }

    @Override
    public String toString() {
        return name + " in " + module;
    }
}
