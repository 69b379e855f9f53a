package io.moeoracle.backend.triton;

import io.moeoracle.driver.cuda.testing.CudaCompatibilityKit;
import org.junit.jupiter.api.Tag;

/** {@code triton} passes the conformance kit on CUDA device 0 (a GPU machine: gpu/run-tests). */
@Tag("gpu")
class TritonCompatibilityTest extends CudaCompatibilityKit {
    /** Tolerance: BF16 activations on tensor cores with FP32 accumulation plus the output's rounding: TritonGpuTest's bound. */
    TritonCompatibilityTest() {
        super(TritonProvider::new, 1e-2);
    }
}
