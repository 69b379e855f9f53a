/**
 * AITER-style HIP MoE kernels for AMD Instinct gfx942/gfx950 (wave64, MFMA): providers {@code aiter}
 * (MXFP4 weights, BF16 activations) and {@code aiter-fp8} (MXFP4 weights, FP8 E4M3 per-token
 * activations, gfx950). Code objects built by clang during the Maven build, loaded with
 * {@code hipModuleLoadData} through driver-hip.
 */
module io.moeoracle.backend.aiter {
    requires transitive io.moeoracle.api;
    requires io.moeoracle.driver.hip;
    requires org.slf4j;

    exports io.moeoracle.backend.aiter;

    provides io.moeoracle.api.MoeKernelProvider with
            io.moeoracle.backend.aiter.AiterProvider,
            io.moeoracle.backend.aiter.AiterFp8Provider;
}
