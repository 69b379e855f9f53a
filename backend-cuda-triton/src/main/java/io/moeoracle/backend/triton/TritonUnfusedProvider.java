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
 * {@code triton-unfused}: the same Triton MoE kernels compiled ahead of time (sm_90a wgmma, sm_80), SiLU, GELU (tanh) or SwiGLU-OAI in
 * their own kernel between the GEMMs, MXFP4 weights decoded in-kernel, BF16 activations; routing, alignment, both
 * GEMMs and the top-k gather-reduce on the GPU, replayable as one CUDA graph.
 */
public final class TritonUnfusedProvider implements MoeKernelProvider, RooflineProbe {
    /** The provider id. */
    public static final String ID = "triton-unfused";

    /** Does no work: the driver and the kernel images are loaded on first use. */
    public TritonUnfusedProvider() {
    }

    @Override
    public String id() {
        return ID;
    }

    @Override
    public String description() {
        return "Triton AOT kernels: MXFP4 weights, BF16 activations, SiLU, GELU, SwiGLU-OAI in their own kernel (sm_90a, sm_80)";
    }

    @Override
    public int priority(MoeLayerSpec spec, DeviceInfo device) {
        return TritonRules.priority(spec, device, false);
    }

    @Override
    public SupportVerdict isSupported(MoeLayerSpec spec, DeviceInfo device) {
        return TritonRules.verdict(spec, device, false, ID);
    }

    @Override
    public HostAvailability hostAvailability() {
        return CudaHost.availability(TritonImage.IMAGE);
    }

    @Override
    public MoeKernel create(MoeLayerSpec spec, DeviceInfo device) {
        SupportVerdict.requireSupported(this, spec, device);
        return TritonKernel.create(ID, false, spec, device);
    }

    @Override
    public Ceilings measureCeilings(DeviceInfo device) {
        return CudaHost.measureCeilings(device, ID);
    }

    @Override
    public String toString() {
        return "TritonUnfusedProvider[" + ID + ", Triton kernels compiled ahead of time, NVIDIA]";
    }
}
