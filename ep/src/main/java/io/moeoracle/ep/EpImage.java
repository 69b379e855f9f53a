package io.moeoracle.ep;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Optional;

/** The dispatch/combine kernels ({@code src/main/cuda/ep_kernels.cu}), built by nvcc during the Maven build. */
final class EpImage {
    /** Where the fatbin lies in the jar. */
    public static final String RESOURCE = "io/moeoracle/ep/ep_kernels.fatbin";
    /** The machine code and PTX it holds. */
    public static final String TARGETS = "sm_80, sm_89, sm_90 + compute_80 PTX";

    private EpImage() {
    }

    /** @return the fatbin's bytes, or empty when the build had no nvcc */
    public static Optional<byte[]> bytes() {
        // a Class lookup: it finds the module's own resource on the module path too
        try (InputStream in = EpImage.class.getResourceAsStream("ep_kernels.fatbin")) {
            return in == null ? Optional.empty() : Optional.of(in.readAllBytes());
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + RESOURCE + " from the moe-oracle-ep jar failed", e);
        }
    }
}
