package io.moeoracle.backend.flashinfer;

import io.moeoracle.cuda.moe.host.KernelImage;

/** The fatbin built by nvcc during the Maven build and packed in the jar. */
final class FiImage {
    /** The machine code and PTX the fatbin holds (see src/main/cuda/build-fatbin.sh). */
    static final String TARGETS = "sm_89, sm_90a + compute_89 PTX";
    /** The fatbin; looked up through this class, which finds the module's own resources on the module path too. */
    static final KernelImage IMAGE = KernelImage.fatbin("io/moeoracle/backend/flashinfer", "flashinfer_moe.fatbin",
            "backend-flashinfer", TARGETS, name -> FiImage.class.getResource(name));

    private FiImage() {
    }
}
