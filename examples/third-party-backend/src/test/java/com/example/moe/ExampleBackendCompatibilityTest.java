package com.example.moe;

import io.moeoracle.api.device.HostCpuFeatures;
import io.moeoracle.tck.DeclaredCompatibilityKit;

/** The example backend passes moe-oracle's conformance kit on this machine's CPU. */
class ExampleBackendCompatibilityTest extends DeclaredCompatibilityKit {
    /** Tolerance: float32 arithmetic on exact BF16 weights: what remains is the output's rounding to BF16. */
    ExampleBackendCompatibilityTest() {
        super(ExampleBf16Provider::new, HostCpuFeatures::host, 5e-3);
    }
}
