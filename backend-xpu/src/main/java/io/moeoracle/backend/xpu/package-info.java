/**
 * The {@code xpu} MoE backend: OpenCL C kernels for Intel Xe GPUs, runnable on any OpenCL device on
 * request; see {@link io.moeoracle.backend.xpu.XpuKernelProvider}.
 */
package io.moeoracle.backend.xpu;
