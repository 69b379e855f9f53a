package io.moeoracle.backend.xpu;

import io.moeoracle.api.MoeKernelProvider;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.spec.QuantScheme;
import io.moeoracle.tck.MoeKernelCompatibilityKit;

/**
 * The {@code xpu} backend passes the conformance kit on the first OpenCL device (PoCL's CPU device
 * in CI; skipped without OpenCL, failed instead under {@code -Dmoe.test.strict=true}).
 */
class XpuCompatibilityTest extends MoeKernelCompatibilityKit {
    @Override
    protected MoeKernelProvider provider() {
        return new XpuKernelProvider();
    }

    @Override
    protected DeviceInfo device() {
        return XpuTestSupport.device(false);
    }

    /** BF16 activations between the GEMMs plus the output's rounding: the bound of XpuForwardTest. */
    @Override
    protected double tolerance(QuantScheme scheme) {
        return 1e-2;
    }
}
