package io.moeoracle.backend.flashinfer;

import io.moeoracle.api.MoeKernelProvider;
import io.moeoracle.api.spec.QuantScheme;
import io.moeoracle.driver.cuda.testing.CudaCompatibilityKit;
import org.junit.jupiter.api.Tag;

/** {@code flashinfer-bf16} passes the conformance kit on CUDA device 0 (an sm_90 GPU machine: gpu/run-tests). */
@Tag("gpu")
class FlashinferBf16CompatibilityTest extends CudaCompatibilityKit {
    @Override
    protected MoeKernelProvider provider() {
        return new FlashinferBf16Provider();
    }

    /** BF16 activations on tensor cores with FP32 accumulation plus the output's rounding: FlashinferGpuCases' bound. */
    @Override
    protected double tolerance(QuantScheme scheme) {
        return 1e-2;
    }
}
