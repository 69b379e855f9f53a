package io.moeoracle.backend.xpu;

import io.moeoracle.tck.DeclaredCompatibilityKit;

/**
 * The {@code xpu} backend passes the conformance kit on the first OpenCL device (PoCL's CPU device
 * in CI; skipped without OpenCL, failed instead under {@code -Dmoe.test.strict=true}).
 */
class XpuCompatibilityTest extends DeclaredCompatibilityKit {
    /** Tolerance: BF16 activations between the GEMMs plus the output's rounding: the bound of XpuForwardTest. */
    XpuCompatibilityTest() {
        super(XpuKernelProvider::new, () -> XpuTestSupport.device(false), 1e-2);
    }
}
