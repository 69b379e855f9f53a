package io.moeoracle.backend.flashinfer;

import io.moeoracle.driver.cuda.testing.CudaCompatibilityKit;
import org.junit.jupiter.api.Tag;

/** {@code flashinfer-mxfp8} passes the conformance kit on CUDA device 0 (sm_89+: gpu/run-tests); the kit compares with the MXFP8 reference. */
@Tag("gpu")
class FlashinferMxfp8CompatibilityTest extends CudaCompatibilityKit {
    /** Tolerance: Against the reference with MXFP8 quantize-dequantize of both GEMM inputs: FlashinferGpuCases' bound. */
    FlashinferMxfp8CompatibilityTest() {
        super(FlashinferMxfp8Provider::new, 1e-2);
    }
}
