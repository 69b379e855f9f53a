package io.moeoracle.driver.cuda;

import io.moeoracle.driver.cuda.ffi.CuModule;
import java.lang.foreign.MemorySegment;

/**
 * A kernel bound to a launch shape and an argument array, for launching many times with no
 * allocation: one {@code cuLaunchKernel} downcall a {@link #launch(CudaStream)}, its operands read
 * from final fields. Change the arguments in place through {@link #args()} between launches
 * (not while another thread launches with them).
 */
public final class KernelLauncher {
    private final CudaFunction function;
    private final LaunchConfig config;
    private final KernelArgs args;
    private final MemorySegment fn;
    private final MemorySegment params;
    private final int gx;
    private final int gy;
    private final int gz;
    private final int bx;
    private final int by;
    private final int bz;
    private final int smem;

    /**
     * @param function the kernel
     * @param config grid, block and dynamic shared memory
     * @param args the arguments
     */
    public KernelLauncher(CudaFunction function, LaunchConfig config, KernelArgs args) {
        this.function = function;
        this.config = config;
        this.args = args;
        this.fn = function.handle();
        this.params = args.pointers();
        this.gx = config.gridX();
        this.gy = config.gridY();
        this.gz = config.gridZ();
        this.bx = config.blockX();
        this.by = config.blockY();
        this.bz = config.blockZ();
        this.smem = config.sharedMemoryBytes();
    }

    /** @return the kernel */
    public CudaFunction function() {
        return function;
    }

    /** @return grid, block and dynamic shared memory */
    public LaunchConfig config() {
        return config;
    }

    /** @return the arguments, changeable in place */
    public KernelArgs args() {
        return args;
    }

    /**
     * Queues one launch.
     *
     * @param stream the stream
     */
    public void launch(CudaStream stream) {
        int rc = CuModule.cuLaunchKernel(fn, gx, gy, gz, bx, by, bz, smem, stream.handle(), params, MemorySegment.NULL);
        if (rc != 0) {
            throw function.launchFailure(rc, config, stream, args);
        }
    }

    @Override
    public String toString() {
        return "KernelLauncher[" + function.name() + ", " + config + "]";
    }
}
