package io.moeoracle.cuda.moe.host;

import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.error.UnsupportedSpecException;
import io.moeoracle.api.spec.MoeLayerSpec;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URL;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * A kernel image packed in a backend's jar (a fatbin built by nvcc, or Triton's manifest and cubins),
 * found through the backend's own lookup: on the module path a resource in a backend's package is
 * visible to that backend's code only, so the backend hands in {@code n -> Own.class.getResource(n)}.
 */
public final class KernelImage {
    private final String resource;
    private final String name;
    private final String module;
    private final String whyMissing;
    private final Supplier<String> summary;
    private final Function<String, URL> locate;

    /**
     * @param resource the image's path in the jar, for messages ({@code io/moeoracle/backend/marlin/marlin_moe.fatbin})
     * @param name the same relative to the backend's class that {@code locate} resolves against
     * @param module the backend's Maven module, for messages ({@code backend-marlin})
     * @param whyMissing why a build lacks it, for messages ({@code nvcc was not found when backend-marlin was built})
     * @param summary what the image holds, for the availability line (read only when the image is there)
     * @param locate the backend's {@code Class::getResource}: a lambda in the backend's code
     */
    public KernelImage(String resource, String name, String module, String whyMissing, Supplier<String> summary,
                       Function<String, URL> locate) {
        this.resource = Objects.requireNonNull(resource, "resource");
        this.name = Objects.requireNonNull(name, "name");
        this.module = Objects.requireNonNull(module, "module");
        this.whyMissing = Objects.requireNonNull(whyMissing, "whyMissing");
        this.summary = Objects.requireNonNull(summary, "summary");
        this.locate = Objects.requireNonNull(locate, "locate");
    }

    /**
     * A fatbin that the backend's Maven build makes with nvcc.
     *
     * @param packagePath the backend's package as a path ({@code io/moeoracle/backend/marlin})
     * @param name the fatbin's file name
     * @param module the backend's Maven module
     * @param targets the machine code and PTX it holds ({@code sm_80, sm_89, sm_90a + compute_80 PTX})
     * @param locate the backend's {@code Class::getResource}
     * @return the image
     */
    public static KernelImage fatbin(String packagePath, String name, String module, String targets,
                                     Function<String, URL> locate) {
        return new KernelImage(packagePath + "/" + name, name, module, "nvcc was not found when " + module
                + " was built", () -> "fatbin " + targets, locate);
    }

    /** @return the image's path in the jar */
    public String resource() {
        return resource;
    }

    /** @return whether the jar holds the image */
    public boolean isPresent() {
        return locate.apply(name) != null;
    }

    /** @return what the image holds, for the availability line */
    public String summary() {
        return summary.get();
    }

    /** @return the reason a verdict or the availability gives when the image is missing */
    public String missingReason() {
        return "kernel image not built: " + resource + " is missing from the jar (" + whyMissing + ")";
    }

    /**
     * @return the image's bytes, or empty when the build did not make it
     * @throws UncheckedIOException when the jar cannot be read
     */
    public Optional<byte[]> bytes() {
        URL url = locate.apply(name);
        if (url == null) {
            return Optional.empty();
        }
        try (InputStream in = url.openStream()) {
            return Optional.of(in.readAllBytes());
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + resource + " from the " + module + " jar failed", e);
        }
    }

    /**
     * The error of a {@code create} that finds no image (its verdict was given on a device that does not
     * load it, or the jar changed).
     *
     * @param providerId the provider
     * @param spec the layer
     * @param device the device
     * @return the exception to throw
     */
    public UnsupportedSpecException missing(String providerId, MoeLayerSpec spec, DeviceInfo device) {
        return new UnsupportedSpecException(providerId, spec.describe() + " on " + device.describe(),
                "kernel image not built: " + resource + " is missing from the " + module + " jar",
                "rebuild " + module + " where nvcc exists");
    }

    /**
     * @param providerId the provider that creates the kernel
     * @param spec the layer
     * @param device the device
     * @return the image's bytes
     * @throws UnsupportedSpecException when the jar lacks the image ({@link #missing})
     */
    public byte[] require(String providerId, MoeLayerSpec spec, DeviceInfo device) {
        return bytes().orElseThrow(() -> missing(providerId, spec, device));
    }

    @Override
    public String toString() {
        return resource;
    }
}
