package io.moeoracle.backend.flashinfer;

import org.junit.jupiter.api.Tag;

/** flashinfer-bf16 (wgmma BF16, sm_90a) against the float64 reference: {@link FlashinferGpuCases}. */
@Tag("gpu")
class FlashinferBf16GpuTest extends FlashinferGpuCases {
    @Override
    boolean fp8() {
        return false;
    }
}
