package io.moeoracle.backend.triton;

import io.moeoracle.api.error.BadInputException;
import io.moeoracle.api.error.NativeFailureException;
import io.moeoracle.cuda.moe.host.KernelImage;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * The ahead-of-time compiled kernels packed in the jar ({@code io/moeoracle/backend/triton/kernels/}):
 * per variant and target a cubin, its PTX and launch metadata, plus {@code manifest.json} (Triton
 * version, SHA-256 of each source, the variants and buckets). Written by {@code src/main/triton/aot.py}.
 */
final class TritonImage {
    /** Where the artifacts lie in the jar. */
    static final String FOLDER = "io/moeoracle/backend/triton/kernels";
    /** The targets that aot.py compiles for. */
    static final String SM90 = "sm_90a";
    static final String SM80 = "sm_80";

    /**
     * The image as the host check sees it: the manifest stands for the artifacts; looked up through this
     * class, which finds the module's own resources on the module path too.
     */
    static final KernelImage IMAGE = new KernelImage(FOLDER + "/manifest.json", "kernels/manifest.json",
            "backend-cuda-triton", "src/main/triton/aot.py's artifacts were not packed when backend-cuda-triton"
            + " was built", () -> "Triton " + tritonVersion() + " cubins sm_90a, sm_80",
            name -> TritonImage.class.getResource(name));

    private static volatile Map<String, Object> manifest;

    private TritonImage() {
    }

    /** @return whether the manifest is in the jar */
    static boolean isPresent() {
        return TritonImage.class.getResource("kernels/manifest.json") != null;
    }

    /**
     * The cubin target for a compute capability: sm_90a for 9.0 (architecture-specific wgmma code), the
     * sm_80 cubin for 8.x (binary compatible within the major version); none otherwise.
     *
     * @param sm compute capability as major * 10 + minor
     * @return the target, or empty where no packed image can run
     */
    static Optional<String> archFor(int sm) {
        if (sm == 90) {
            return Optional.of(SM90);
        }
        if (sm >= 80 && sm < 90) {
            return Optional.of(SM80);
        }
        return Optional.empty();
    }

    /** @return the Triton version that compiled the artifacts */
    static String tritonVersion() {
        return (String) manifest().get("triton_version");
    }

    /** @return SHA-256 of each Triton source file at the time of the compile */
    @SuppressWarnings("unchecked")
    static Map<String, String> sourceHashes() {
        return (Map<String, String>) manifest().get("sources");
    }

    /**
     * @param arch a target
     * @return how many variants were compiled for it (failed ones excluded)
     */
    @SuppressWarnings("unchecked")
    static int compiledFor(String arch) {
        List<Map<String, Object>> a = (List<Map<String, Object>>) manifest().get("artifacts");
        return (int) a.stream().filter(x -> arch.equals(x.get("arch")) && !x.containsKey("error")).count();
    }

    /**
     * @param bucket a bucket name
     * @param gemm {@code g1} or {@code g2}
     * @return the bucket's split-K factor for that GEMM (1: no split), as buckets.json recorded it
     */
    @SuppressWarnings("unchecked")
    static int split(String bucket, String gemm) {
        Map<String, Object> b = (Map<String, Object>) ((Map<String, Object>) manifest().get("buckets")).get(bucket);
        if (b == null) {
            throw broken(FOLDER + "/manifest.json", "the kernel manifest has no bucket " + bucket + "; regenerate the "
                    + "artifacts with src/main/triton/aot.py");
        }
        Object v = ((Map<String, Object>) b.get(gemm)).get("split");
        return v == null ? 1 : ((Number) v).intValue();
    }

    /** @return the largest top-k the routing kernels hold */
    static int maxTopK() {
        return ((Number) manifest().get("max_top_k")).intValue();
    }

    /** @return the largest local expert count of the alignment kernels (their bins must exceed it) */
    @SuppressWarnings("unchecked")
    static int maxLocalExperts() {
        Map<String, Object> c = (Map<String, Object>) manifest().get("expert_classes");
        return c.values().stream().mapToInt(v -> ((Number) v).intValue()).max().orElse(1) - 1;
    }

    /**
     * @param localExperts E_local
     * @return the expert class suffix of the routing / alignment variants
     */
    @SuppressWarnings("unchecked")
    static String expertClass(int localExperts, int experts) {
        Map<String, Object> c = (Map<String, Object>) manifest().get("expert_classes");
        OptionalInt best = c.values().stream().mapToInt(v -> ((Number) v).intValue())
                .filter(ep -> ep > localExperts && ep >= experts).min();
        if (best.isEmpty()) {
            throw new BadInputException(experts + " experts (" + localExperts + " local) exceed the routing kernels'"
                    + " expert classes " + c + "; the providers' verdicts refuse such specs");
        }
        return "e" + best.getAsInt();
    }

    static KernelMeta meta(String variant, String arch) {
        String name = variant + "." + arch + ".json";
        return KernelMeta.parse(new String(read(name), StandardCharsets.UTF_8), FOLDER + "/" + name);
    }

    static byte[] cubin(String variant, String arch) {
        return read(variant + "." + arch + ".cubin");
    }

    /**
     * The packed artifacts and this launcher disagree (a missing file, malformed metadata, a parameter
     * list the launch code does not pass): the jar's kernel image is at fault, not the caller, so it is
     * the api's native failure, as for marlin's fatbin.
     *
     * @param artifact the artifact, e.g. {@code kernels/manifest.json} or a variant name
     * @param message what is wrong and what to do
     * @return the exception to throw
     */
    static NativeFailureException broken(String artifact, String message) {
        return new NativeFailureException(artifact, "", message, message, null);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> manifest() {
        Map<String, Object> m = manifest;
        if (m == null) {
            m = (Map<String, Object>) MiniJson.parse(new String(read("manifest.json"), StandardCharsets.UTF_8),
                    FOLDER + "/manifest.json");
            manifest = m;
        }
        return m;
    }

    private static byte[] read(String name) {
        try (InputStream in = TritonImage.class.getResourceAsStream("kernels/" + name)) {
            if (in == null) {
                throw broken(FOLDER + "/" + name, "kernel image not built: " + FOLDER + "/" + name + " is missing "
                        + "from the backend-cuda-triton jar; regenerate it with src/main/triton/aot.py (README.md)");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new NativeFailureException("read " + FOLDER + "/" + name, "", e.toString(), "reading " + FOLDER + "/"
                    + name + " from the backend-cuda-triton jar failed: " + e + "; check the jar is intact", e);
        }
    }
}
