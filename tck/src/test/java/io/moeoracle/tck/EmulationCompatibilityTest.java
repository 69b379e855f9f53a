package io.moeoracle.tck;

import io.moeoracle.api.device.HostCpuFeatures;
import io.moeoracle.reference.EmulationProvider;

/**
 * The {@code emulation} backend (module reference) passes the kit. It lives here because the kit
 * depends on the reference module, not the other way round.
 */
class EmulationCompatibilityTest extends DeclaredCompatibilityKit {
    /** Tolerance: the reference itself: only the rounding of the output to BF16 or F32 remains. */
    EmulationCompatibilityTest() {
        super(EmulationProvider::new, HostCpuFeatures::host, 5e-3);
    }
}
