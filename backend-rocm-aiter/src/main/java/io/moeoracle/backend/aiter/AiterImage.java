package io.moeoracle.backend.aiter;

import io.moeoracle.api.error.NativeFailureException;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Optional;

/** The AMDGPU code objects built by clang during the Maven build and packed in the jar, one per target. */
final class AiterImage {
    /** The targets the build tries (see src/main/hip/build-code-objects.sh). */
    static final List<String> TARGETS = List.of("gfx942", "gfx950");
    /** Where the code objects lie in the jar. */
    static final String FOLDER = "io/moeoracle/backend/aiter/";

    private AiterImage() {
    }

    /** @param target e.g. gfx942 @return the code object's file name */
    static String fileName(String target) {
        return "aiter_moe-" + target + ".co";
    }

    /** @param target e.g. gfx942 @return the resource path in the jar */
    static String resource(String target) {
        return FOLDER + fileName(target);
    }

    // Class (not ClassLoader) lookups: they find the module's own resources on the module path too
    static boolean isPresent(String target) {
        return AiterImage.class.getResource(fileName(target)) != null;
    }

    /** @return the targets whose code object is in the jar */
    static List<String> builtTargets() {
        return TARGETS.stream().filter(AiterImage::isPresent).toList();
    }

    /** @param target e.g. gfx950 @return the code object's bytes, or empty when it was not built */
    static Optional<byte[]> bytes(String target) {
        try (InputStream in = AiterImage.class.getResourceAsStream(fileName(target))) {
            return in == null ? Optional.empty() : Optional.of(in.readAllBytes());
        } catch (IOException e) {
            throw new NativeFailureException("read " + resource(target), "", e.toString(), "reading " + resource(target)
                    + " from the backend-rocm-aiter jar failed: " + e + "; check the jar is intact", e);
        }
    }

    /** @param target e.g. gfx950 @return why its code object is missing */
    static String missing(String target) {
        return "code object not built: " + resource(target) + " is missing from the jar (no clang accepting --offload-arch="
                + target + " was found when backend-rocm-aiter was built)";
    }
}
