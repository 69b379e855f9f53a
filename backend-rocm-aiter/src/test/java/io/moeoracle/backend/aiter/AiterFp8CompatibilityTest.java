package io.moeoracle.backend.aiter;

import org.junit.jupiter.api.Tag;

/** {@code aiter-fp8} passes the conformance kit on the first HIP device ({@link AiterKit}: an AMD GPU, tag {@code rocm}). */
@Tag("rocm")
class AiterFp8CompatibilityTest extends AiterKit {
    AiterFp8CompatibilityTest() {
        super(AiterFp8Provider::new);
    }
}
