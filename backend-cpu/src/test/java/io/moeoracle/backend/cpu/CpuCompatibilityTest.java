package io.moeoracle.backend.cpu;

import io.moeoracle.tck.DeclaredCompatibilityKit;

/** The {@code cpu} backend passes the conformance kit on this machine's CPU. */
class CpuCompatibilityTest extends DeclaredCompatibilityKit {
    /** Tolerance: BF16 activations inside the kernels plus the output's rounding: the bound of CpuMoeKernelNumericsTest. */
    CpuCompatibilityTest() {
        super(CpuMoeProvider::new, HostCpu::device, 1e-2);
    }
}
