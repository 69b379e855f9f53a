package io.moeoracle.backend.cpu;

import io.moeoracle.api.MoeKernelProvider;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.spec.QuantScheme;
import io.moeoracle.tck.MoeKernelCompatibilityKit;

/** The {@code cpu} backend passes the conformance kit on this machine's CPU. */
class CpuCompatibilityTest extends MoeKernelCompatibilityKit {
    @Override
    protected MoeKernelProvider provider() {
        return new CpuMoeProvider();
    }

    @Override
    protected DeviceInfo device() {
        return HostCpu.device();
    }

    /** BF16 activations inside the kernels plus the output's rounding: the bound of CpuMoeKernelNumericsTest. */
    @Override
    protected double tolerance(QuantScheme scheme) {
        return 1e-2;
    }
}
