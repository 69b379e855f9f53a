package io.moeoracle.backend.marlin;

import io.moeoracle.driver.cuda.testing.CudaCompatibilityKit;
import org.junit.jupiter.api.Tag;

/** {@code batched-marlin} (the batched (expert-parallel) layout) passes the conformance kit on CUDA device 0 (a GPU machine: gpu/run-tests). */
@Tag("gpu")
class BatchedMarlinCompatibilityTest extends CudaCompatibilityKit {
    /** Tolerance: BF16 activations on tensor cores with FP32 accumulation plus the output's rounding: MarlinGpuTest's bound. */
    BatchedMarlinCompatibilityTest() {
        super(BatchedMarlinProvider::new, 1e-2);
    }
}
