package io.moeoracle.driver.cuda;

import io.moeoracle.driver.cuda.ffi.CuModule;
import java.lang.foreign.MemorySegment;

/** A kernel ({@code CUfunction}) of a loaded {@link CudaModule}. */
public final class CudaFunction {
    private final CudaModule module;
    private final String name;
    private final MemorySegment handle;

    CudaFunction(CudaModule module, String name, MemorySegment handle) {
        this.module = module;
        this.name = name;
        this.handle = handle;
    }

    /** @return the module */
    public CudaModule module() {
        return module;
    }

    /** @return the kernel's symbol name */
    public String name() {
        return name;
    }

    /** @return the {@code CUfunction} handle */
    public MemorySegment handle() {
        return handle;
    }

    /**
     * @param attribute which
     * @return its value ({@code cuFuncGetAttribute})
     */
    public int attribute(FunctionAttribute attribute) {
        module.checkLoaded();
        return Out.intValue("cuFuncGetAttribute", () -> "attrib=" + attribute + ", hfunc=" + name,
                out -> CuModule.cuFuncGetAttribute(out, attribute.code(), handle));
    }

    /** @return registers per thread */
    public int numRegisters() {
        return attribute(FunctionAttribute.NUM_REGS);
    }

    /** @return the most threads a block of this kernel may have */
    public int maxThreadsPerBlock() {
        return attribute(FunctionAttribute.MAX_THREADS_PER_BLOCK);
    }

    /**
     * Raises (or lowers) the dynamic shared memory a launch of this kernel may ask for; needed
     * above 48 KiB. Checked against the device's opt-in limit minus the kernel's static shared memory.
     *
     * @param bytes the new limit
     * @throws IllegalArgumentException when the device cannot give that much, with both numbers
     */
    public void setMaxDynamicSharedMemory(int bytes) {
        module.checkLoaded();
        int optin = module.context().device().maxSharedMemoryPerBlockOptin();
        int statik = attribute(FunctionAttribute.SHARED_SIZE_BYTES);
        if (bytes < 0 || bytes > optin - statik) {
            throw new IllegalArgumentException("kernel " + name + " cannot have " + bytes + " bytes of dynamic shared memory on "
                    + module.context().device().id() + ": the opt-in limit is " + optin + " bytes per block and the kernel"
                    + " uses " + statik + " bytes statically, so at most " + (optin - statik));
        }
        Out.check(CuModule.cuFuncSetAttribute(handle, FunctionAttribute.MAX_DYNAMIC_SHARED_SIZE_BYTES.code(), bytes),
                "cuFuncSetAttribute", () -> "hfunc=" + name + ", attrib=MAX_DYNAMIC_SHARED_SIZE_BYTES, value=" + bytes);
    }

    /**
     * How many blocks of this kernel fit on one SM at once ({@code cuOccupancyMaxActiveBlocksPerMultiprocessor}):
     * times the SM count, the grid of a persistent kernel.
     *
     * @param blockSize threads per block
     * @param dynamicSharedMemoryBytes dynamic shared memory per block
     * @return resident blocks per SM (0 when the block does not fit at all)
     */
    public int maxActiveBlocksPerMultiprocessor(int blockSize, int dynamicSharedMemoryBytes) {
        module.checkLoaded();
        return Out.intValue("cuOccupancyMaxActiveBlocksPerMultiprocessor",
                () -> "func=" + name + ", blockSize=" + blockSize + ", dynamicSMemSize=" + dynamicSharedMemoryBytes,
                out -> CuModule.cuOccupancyMaxActiveBlocksPerMultiprocessor(out, handle, blockSize, dynamicSharedMemoryBytes));
    }

    /**
     * Launches the kernel ({@code cuLaunchKernel}) on a stream; returns once it is queued.
     *
     * @param config grid, block, dynamic shared memory
     * @param stream the stream
     * @param args the kernel's arguments, in order
     */
    public void launch(LaunchConfig config, CudaStream stream, KernelArgs args) {
        int rc = CuModule.cuLaunchKernel(handle, config.gridX(), config.gridY(), config.gridZ(),
                config.blockX(), config.blockY(), config.blockZ(), config.sharedMemoryBytes(), stream.handle(),
                args.pointers(), MemorySegment.NULL);
        if (rc != 0) {
            throw launchFailure(rc, config, stream, args);
        }
    }

    CudaException launchFailure(int rc, LaunchConfig config, CudaStream stream, KernelArgs args) {
        return CudaException.of(rc, "cuLaunchKernel", "f=" + name + ", " + config + ", stream=" + stream
                + ", params=" + args.describe());
    }

    @Override
    public String toString() {
        return "CudaFunction[" + name + "]";
    }
}
