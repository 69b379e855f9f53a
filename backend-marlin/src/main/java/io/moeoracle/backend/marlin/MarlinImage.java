package io.moeoracle.backend.marlin;

import io.moeoracle.cuda.moe.host.KernelImage;

/** The fatbin built by nvcc during the Maven build and packed in the jar. */
final class MarlinImage {
    /** The machine code and PTX the fatbin holds (see src/main/cuda/build-fatbin.sh). */
    static final String TARGETS = "sm_80, sm_89, sm_90a + compute_80 PTX";
    /** The fatbin; looked up through this class, which finds the module's own resources on the module path too. */
    static final KernelImage IMAGE = KernelImage.fatbin("io/moeoracle/backend/marlin", "marlin_moe.fatbin",
            "backend-marlin", TARGETS, name -> MarlinImage.class.getResource(name));

    private MarlinImage() {
    }
}
