package io.moeoracle.backend.triton;

import io.moeoracle.driver.cuda.testing.CudaCompatibilityKit;
import org.junit.jupiter.api.Tag;

/** {@code triton-unfused} passes the conformance kit on CUDA device 0 (a GPU machine: gpu/run-tests). */
@Tag("gpu")
class TritonUnfusedCompatibilityTest extends CudaCompatibilityKit {
    /** Tolerance: BF16 activations on tensor cores with FP32 accumulation plus the output's rounding: TritonGpuTest's bound. */
    TritonUnfusedCompatibilityTest() {
        super(TritonUnfusedProvider::new, 1e-2);
    }
}
