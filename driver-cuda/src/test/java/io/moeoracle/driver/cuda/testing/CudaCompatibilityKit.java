package io.moeoracle.driver.cuda.testing;

import io.moeoracle.api.MoeKernelProvider;
import io.moeoracle.driver.cuda.CudaContext;
import io.moeoracle.driver.cuda.CudaDriver;
import io.moeoracle.tck.DeclaredCompatibilityKit;
import java.util.OptionalLong;
import java.util.function.Supplier;

/**
 * The conformance kit on CUDA device 0, for a backend that runs through driver-cuda: the device is
 * device 0 as its probe describes it, and {@link #deviceMemoryInUse()} its total minus free memory,
 * so the kit's resource group also holds device memory flat. A backend's test passes only what is
 * its own, the provider and the tolerance (and, like any kit test, runs on a GPU machine: tag it
 * {@code gpu}):
 *
 * <pre>{@code
 * @Tag("gpu")
 * class MyCompatibilityTest extends CudaCompatibilityKit {
 *     MyCompatibilityTest() {
 *         super(MyProvider::new, 1e-2);
 *     }
 * }
 * }</pre>
 *
 * <p>Lives in driver-cuda's test jar (type {@code test-jar}, test scope): the kit itself knows no
 * driver.
 */
public abstract class CudaCompatibilityKit extends DeclaredCompatibilityKit {
    /**
     * @param provider makes the provider under test
     * @param tolerance the relative L2 error allowed against the float64 reference, every scheme
     */
    protected CudaCompatibilityKit(Supplier<? extends MoeKernelProvider> provider, double tolerance) {
        super(provider, () -> CudaDriver.load().device(0).toDeviceInfo(), tolerance);
    }

    /** Device 0's memory in use (total minus free), through a primary-context retain the test holds. */
    @Override
    protected OptionalLong deviceMemoryInUse() {
        CudaContext.MemoryInfo m = Gauge.CONTEXT.memoryInfo();
        return OptionalLong.of(m.totalBytes() - m.freeBytes());
    }

    /** Held for the JVM's life, so that closing the last kernel does not tear the context down between measurements. */
    private static final class Gauge {
        static final CudaContext CONTEXT = CudaDriver.load().device(0).retainPrimaryContext();
    }
}
