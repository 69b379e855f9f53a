/**
 * Marlin-style W4A16 MoE kernels for NVIDIA GPUs (sm_80+): MXFP4 weights decoded to BF16 in
 * registers, BF16 tensor-core MMA, the whole layer on the device and replayable as a CUDA graph.
 * Providers {@code marlin} (standard token layout) and {@code batched-marlin} (per-expert batches).
 */
module io.moeoracle.backend.marlin {
    requires transitive io.moeoracle.api;
    requires transitive io.moeoracle.driver.cuda; // its kernels are CudaStreamBound: their stream is API
    requires io.moeoracle.cuda.moe; // the plumbing the CUDA backends share (not a backend)
    requires org.slf4j;

    exports io.moeoracle.backend.marlin;

    provides io.moeoracle.api.MoeKernelProvider with
            io.moeoracle.backend.marlin.MarlinProvider,
            io.moeoracle.backend.marlin.BatchedMarlinProvider;
}
