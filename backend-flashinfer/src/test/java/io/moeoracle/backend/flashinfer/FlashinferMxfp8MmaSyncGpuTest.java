package io.moeoracle.backend.flashinfer;

import org.junit.jupiter.api.Tag;

/**
 * flashinfer-mxfp8 with its sm_89 kernels ({@code mma.sync} m16n8k32 e4m3) forced by
 * {@code moe.flashinfer.fp8Mma=mma-sync}, so that the Ada path is checked on a Hopper card too: the
 * same cases as {@link FlashinferMxfp8GpuTest} ({@link FlashinferGpuCases}).
 */
@Tag("gpu")
class FlashinferMxfp8MmaSyncGpuTest extends FlashinferGpuCases {
    @Override
    boolean fp8() {
        return true;
    }

    @Override
    String fp8Mma() {
        return "mma-sync";
    }
}
