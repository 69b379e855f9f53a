package io.moeoracle.backend.flashinfer;

import io.moeoracle.api.MoeKernelProvider;
import io.moeoracle.api.spec.QuantScheme;
import io.moeoracle.driver.cuda.testing.CudaCompatibilityKit;
import org.junit.jupiter.api.Tag;

/** {@code flashinfer-mxfp8} passes the conformance kit on CUDA device 0 (sm_89+: gpu/run-tests); the kit compares with the MXFP8 reference. */
@Tag("gpu")
class FlashinferMxfp8CompatibilityTest extends CudaCompatibilityKit {
    @Override
    protected MoeKernelProvider provider() {
        return new FlashinferMxfp8Provider();
    }

    /** Against the reference with MXFP8 quantize-dequantize of both GEMM inputs: FlashinferGpuCases' bound. */
    @Override
    protected double tolerance(QuantScheme scheme) {
        return 1e-2;
    }
}
