package io.moeoracle.driver.cuda;

import io.moeoracle.driver.cuda.ffi.CuModule;
import java.lang.foreign.MemorySegment;

/**
 * A kernel bound to a launch shape and an argument array, for launching many times with no
 * allocation: one {@code cuLaunchKernel} downcall a {@link #launch(CudaStream)}. Change the
 * arguments in place through {@link #args()} between launches.
 *
 * @param function the kernel
 * @param config grid, block and dynamic shared memory
 * @param args the arguments
 */
public record KernelLauncher(CudaFunction function, LaunchConfig config, KernelArgs args) {

    /**
     * Queues one launch.
     *
     * @param stream the stream
     */
    public void launch(CudaStream stream) {
        int rc = CuModule.cuLaunchKernel(function.handle(), config.gridX(), config.gridY(), config.gridZ(),
                config.blockX(), config.blockY(), config.blockZ(), config.sharedMemoryBytes(), stream.handle(),
                args.pointers(), MemorySegment.NULL);
        if (rc != 0) {
            throw function.launchFailure(rc, config, stream, args);
        }
    }
}
