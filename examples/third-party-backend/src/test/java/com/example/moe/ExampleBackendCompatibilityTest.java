package com.example.moe;

import io.moeoracle.api.MoeKernelProvider;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.device.HostCpuFeatures;
import io.moeoracle.api.spec.QuantScheme;
import io.moeoracle.tck.MoeKernelCompatibilityKit;

/** The example backend passes moe-oracle's conformance kit on this machine's CPU. */
class ExampleBackendCompatibilityTest extends MoeKernelCompatibilityKit {
    @Override
    protected MoeKernelProvider provider() {
        return new ExampleBf16Provider();
    }

    @Override
    protected DeviceInfo device() {
        return HostCpuFeatures.host();
    }

    /** float32 arithmetic on exact BF16 weights: what remains is the output's rounding to BF16. */
    @Override
    protected double tolerance(QuantScheme scheme) {
        return 5e-3;
    }
}
