package io.moeoracle.backend.flashinfer;

import io.moeoracle.driver.cuda.testing.CudaCompatibilityKit;
import org.junit.jupiter.api.Tag;

/** {@code flashinfer-bf16} passes the conformance kit on CUDA device 0 (an sm_90 GPU machine: gpu/run-tests). */
@Tag("gpu")
class FlashinferBf16CompatibilityTest extends CudaCompatibilityKit {
    /** Tolerance: BF16 activations on tensor cores with FP32 accumulation plus the output's rounding: FlashinferGpuCases' bound. */
    FlashinferBf16CompatibilityTest() {
        super(FlashinferBf16Provider::new, 1e-2);
    }
}
