/**
 * The embedded CPU backend: MXFP4 / BF16 expert weights with BF16 activations, C kernels
 * (AVX-512 BF16, AVX2+FMA or scalar, chosen at run time) called through the FFM API.
 */
module io.moeoracle.backend.cpu {
    requires transitive io.moeoracle.api;
    requires io.moeoracle.nativeload;
    requires org.slf4j;

    exports io.moeoracle.backend.cpu;

    provides io.moeoracle.api.MoeKernelProvider with io.moeoracle.backend.cpu.CpuMoeProvider;
}
