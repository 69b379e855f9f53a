package io.moeoracle.backend.triton;

import io.moeoracle.api.MoeKernelProvider;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.spec.QuantScheme;
import io.moeoracle.driver.cuda.CudaDriver;
import io.moeoracle.tck.MoeKernelCompatibilityKit;
import org.junit.jupiter.api.Tag;

/** {@code triton-unfused} passes the conformance kit on CUDA device 0 (a GPU machine: gpu/run-tests). */
@Tag("gpu")
class TritonUnfusedCompatibilityTest extends MoeKernelCompatibilityKit {
    @Override
    protected MoeKernelProvider provider() {
        return new TritonUnfusedProvider();
    }

    @Override
    protected DeviceInfo device() {
        return CudaDriver.load().device(0).toDeviceInfo();
    }

    /** BF16 activations on tensor cores with FP32 accumulation plus the output's rounding: TritonGpuTest's bound. */
    @Override
    protected double tolerance(QuantScheme scheme) {
        return 1e-2;
    }
}
