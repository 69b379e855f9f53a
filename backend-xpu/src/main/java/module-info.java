/** The xpu MoE backend (OpenCL C kernels for Intel Xe GPUs). */
module io.moeoracle.backend.xpu {
    requires transitive io.moeoracle.api;
    requires io.moeoracle.driver.opencl;
    requires org.slf4j;

    exports io.moeoracle.backend.xpu;

    provides io.moeoracle.api.MoeKernelProvider with io.moeoracle.backend.xpu.XpuKernelProvider;
}
