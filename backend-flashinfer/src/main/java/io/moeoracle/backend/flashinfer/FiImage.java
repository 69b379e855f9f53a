package io.moeoracle.backend.flashinfer;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Optional;

/** The fatbin built by nvcc during the Maven build and packed in the jar. */
final class FiImage {
    /** Where the fatbin lies in the jar. */
    static final String RESOURCE = "io/moeoracle/backend/flashinfer/flashinfer_moe.fatbin";
    /** The machine code and PTX the fatbin holds (see src/main/cuda/build-fatbin.sh). */
    static final String TARGETS = "sm_89, sm_90a + compute_89 PTX";

    // Class (not ClassLoader) lookups: they find the module's own resources on the module path too
    private static final String NAME = "flashinfer_moe.fatbin";

    private FiImage() {
    }

    static boolean isPresent() {
        return FiImage.class.getResource(NAME) != null;
    }

    /** @return the fatbin's bytes, or empty when the build had no nvcc */
    static Optional<byte[]> bytes() {
        try (InputStream in = FiImage.class.getResourceAsStream(NAME)) {
            return in == null ? Optional.empty() : Optional.of(in.readAllBytes());
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + RESOURCE + " from the backend-flashinfer jar failed", e);
        }
    }
}
