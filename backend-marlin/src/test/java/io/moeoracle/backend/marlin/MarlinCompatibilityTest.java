package io.moeoracle.backend.marlin;

import io.moeoracle.api.MoeKernelProvider;
import io.moeoracle.api.spec.QuantScheme;
import io.moeoracle.driver.cuda.testing.CudaCompatibilityKit;
import org.junit.jupiter.api.Tag;

/** {@code marlin} (the standard layout) passes the conformance kit on CUDA device 0 (a GPU machine: gpu/run-tests). */
@Tag("gpu")
class MarlinCompatibilityTest extends CudaCompatibilityKit {
    @Override
    protected MoeKernelProvider provider() {
        return new MarlinProvider();
    }

    /** BF16 activations on tensor cores with FP32 accumulation plus the output's rounding: MarlinGpuTest's bound. */
    @Override
    protected double tolerance(QuantScheme scheme) {
        return 1e-2;
    }
}
