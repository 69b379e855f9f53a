package io.moeoracle.tck;

import io.moeoracle.api.MoeKernelProvider;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.device.HostCpuFeatures;
import io.moeoracle.api.spec.QuantScheme;
import io.moeoracle.reference.EmulationProvider;

/**
 * The {@code emulation} backend (module reference) passes the kit. It lives here because the kit
 * depends on the reference module, not the other way round.
 */
class EmulationCompatibilityTest extends MoeKernelCompatibilityKit {
    @Override
    protected MoeKernelProvider provider() {
        return new EmulationProvider();
    }

    @Override
    protected DeviceInfo device() {
        return HostCpuFeatures.host();
    }

    /** The reference itself: only the rounding of the output to BF16 or F32 remains. */
    @Override
    protected double tolerance(QuantScheme scheme) {
        return 5e-3;
    }
}
