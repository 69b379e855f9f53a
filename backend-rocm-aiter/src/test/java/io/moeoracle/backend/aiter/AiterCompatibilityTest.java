package io.moeoracle.backend.aiter;

import org.junit.jupiter.api.Tag;

/** {@code aiter} passes the conformance kit on the first HIP device ({@link AiterKit}: an AMD GPU, tag {@code rocm}). */
@Tag("rocm")
class AiterCompatibilityTest extends AiterKit {
    AiterCompatibilityTest() {
        super(AiterProvider::new);
    }
}
