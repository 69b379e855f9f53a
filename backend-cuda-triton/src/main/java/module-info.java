/**
 * Triton MoE kernels compiled ahead of time (cubins for sm_90a and sm_80 with their PTX and launch
 * metadata, packed in the jar) and launched through driver-cuda. Providers {@code triton}
 * (SwiGLU-OAI fused into GEMM1) and {@code triton-unfused} (SiLU, GELU, SwiGLU-OAI in their own kernel).
 */
module io.moeoracle.backend.triton {
    requires transitive io.moeoracle.api;
    requires transitive io.moeoracle.driver.cuda; // its kernels are CudaStreamBound: their stream is API
    requires io.moeoracle.cuda.moe; // the plumbing the CUDA backends share (not a backend)
    requires org.slf4j;

    exports io.moeoracle.backend.triton;

    provides io.moeoracle.api.MoeKernelProvider with
            io.moeoracle.backend.triton.TritonProvider,
            io.moeoracle.backend.triton.TritonUnfusedProvider;
}
