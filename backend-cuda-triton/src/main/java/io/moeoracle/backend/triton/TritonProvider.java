package io.moeoracle.backend.triton;

import io.moeoracle.api.HostAvailability;
import io.moeoracle.api.MoeKernel;
import io.moeoracle.api.MoeKernelProvider;
import io.moeoracle.api.RooflineProbe;
import io.moeoracle.api.SupportVerdict;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.cuda.moe.host.CudaHost;

/**
 * {@code triton}: Triton MoE kernels compiled ahead of time (sm_90a wgmma, sm_80), SwiGLU-OAI fused
 * into GEMM1's epilogue, MXFP4 weights decoded in-kernel, BF16 activations; routing, alignment, both
 * GEMMs and the top-k gather-reduce on the GPU, replayable as one CUDA graph.
 */
public final class TritonProvider implements MoeKernelProvider, RooflineProbe {
    /** The provider id. */
    public static final String ID = "triton";

    /** Does no work: the driver and the kernel images are loaded on first use. */
    public TritonProvider() {
    }

    @Override
    public String id() {
        return ID;
    }

    @Override
    public String description() {
        return "Triton AOT kernels: MXFP4 weights, BF16 activations, SwiGLU-OAI fused into GEMM1 (sm_90a, sm_80)";
    }

    @Override
    public int priority(MoeLayerSpec spec, DeviceInfo device) {
        return TritonRules.priority(spec, device, true);
    }

    @Override
    public SupportVerdict isSupported(MoeLayerSpec spec, DeviceInfo device) {
        return TritonRules.verdict(spec, device, true, ID);
    }

    @Override
    public HostAvailability hostAvailability() {
        return CudaHost.availability(TritonImage.IMAGE);
    }

    @Override
    public MoeKernel create(MoeLayerSpec spec, DeviceInfo device) {
        SupportVerdict.requireSupported(this, spec, device);
        return TritonKernel.create(ID, true, spec, device);
    }

    @Override
    public Ceilings measureCeilings(DeviceInfo device) {
        return CudaHost.measureCeilings(device, ID);
    }

    @Override
    public String toString() {
        return "TritonProvider[" + ID + ", Triton kernels compiled ahead of time, NVIDIA]";
    }
}
