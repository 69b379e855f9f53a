package io.moeoracle.driver.cuda.testing;

import io.moeoracle.driver.cuda.CudaContext;
import io.moeoracle.driver.cuda.CudaDriver;
import io.moeoracle.driver.cuda.CudaModule;

/**
 * A module image loaded on device 0's primary context, for gpu tests that launch kernels themselves:
 * load it in {@code @BeforeAll}, make the context current again in {@code @BeforeEach} (JUnit may run
 * a method on another thread), close it in {@code @AfterAll}.
 *
 * @param context device 0's primary context, retained
 * @param module the loaded image
 */
public record CudaTestModule(CudaContext context, CudaModule module) implements AutoCloseable {
    /**
     * @param image a cubin, fatbin or PTX image
     * @return the image loaded on device 0, its context current on this thread
     */
    public static CudaTestModule load(byte[] image) {
        CudaContext context = CudaDriver.load().device(0).retainPrimaryContext();
        try {
            context.setCurrent();
            return new CudaTestModule(context, context.loadModule(image));
        } catch (RuntimeException e) {
            context.close();
            throw e;
        }
    }

    /** Unloads the module, then releases the context. */
    @Override
    public void close() {
        try {
            module.close();
        } finally {
            context.close();
        }
    }
}
