package io.moeoracle.backend.aiter;

import io.moeoracle.api.MoeKernelProvider;
import org.junit.jupiter.api.Tag;

/** {@code aiter} passes the conformance kit on the first HIP device ({@link AiterKit}: an AMD GPU, tag {@code rocm}). */
@Tag("rocm")
class AiterCompatibilityTest extends AiterKit {
    @Override
    protected MoeKernelProvider provider() {
        return new AiterProvider();
    }
}
