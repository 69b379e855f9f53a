/**
 * FlashInfer-family MoE kernels for NVIDIA GPUs, MXFP4 weights: {@code flashinfer-bf16} (BF16
 * activations on Hopper {@code wgmma}, sm_90a) and {@code flashinfer-mxfp8} (activations quantized on
 * the GPU to MXFP8 and multiplied on FP8 tensor cores: {@code wgmma} e4m3 on sm_90a, {@code mma.sync}
 * e4m3 on sm_89, PTX for newer GPUs). The whole layer runs on the device and replays as a CUDA graph.
 */
module io.moeoracle.backend.flashinfer {
    requires transitive io.moeoracle.api;
    requires transitive io.moeoracle.driver.cuda; // its kernel is CudaStreamBound: its stream is API
    requires io.moeoracle.cuda.moe; // the plumbing the CUDA backends share (not a backend)
    requires org.slf4j;

    exports io.moeoracle.backend.flashinfer;

    provides io.moeoracle.api.MoeKernelProvider with
            io.moeoracle.backend.flashinfer.FlashinferBf16Provider,
            io.moeoracle.backend.flashinfer.FlashinferMxfp8Provider;
}
