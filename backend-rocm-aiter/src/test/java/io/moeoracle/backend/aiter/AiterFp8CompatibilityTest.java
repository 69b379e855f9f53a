package io.moeoracle.backend.aiter;

import io.moeoracle.api.MoeKernelProvider;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.spec.QuantScheme;
import io.moeoracle.driver.hip.HipDeviceProbe;
import io.moeoracle.tck.MoeKernelCompatibilityKit;
import org.junit.jupiter.api.Tag;

/**
 * {@code aiter-fp8} passes the conformance kit on the first HIP device. Needs an AMD GPU (gfx942/gfx950):
 * tag {@code rocm}, excluded from every default run; {@code ./mvnw -pl backend-rocm-aiter -am verify
 * -Dgroups=rocm} on such a machine.
 */
@Tag("rocm")
class AiterFp8CompatibilityTest extends MoeKernelCompatibilityKit {
    @Override
    protected MoeKernelProvider provider() {
        return new AiterFp8Provider();
    }

    @Override
    protected DeviceInfo device() {
        return new HipDeviceProbe().probe().devices().getFirst();
    }

    /** BF16 (or FP8) on matrix cores with FP32 accumulation plus the output's rounding. */
    @Override
    protected double tolerance(QuantScheme scheme) {
        return scheme.activations().isQuantized() ? 5e-2 : 1e-2;
    }
}
