package io.moeoracle.backend.flashinfer;

import io.moeoracle.api.HostAvailability;
import io.moeoracle.api.MoeKernel;
import io.moeoracle.api.MoeKernelProvider;
import io.moeoracle.api.RooflineProbe;
import io.moeoracle.api.SupportVerdict;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.cuda.moe.host.CudaHost;

/**
 * {@code flashinfer-bf16}: MXFP4 weights x BF16 activations on Hopper (sm_90a) with {@code wgmma}:
 * each weight tile dequantized once into shared memory in the layout wgmma reads, activations by
 * bulk copies, bias + activation fused in GEMM1, routing weight + top-k sum in GEMM2; routing,
 * alignment, both GEMMs and the reduction on the GPU, replayable as one CUDA graph.
 */
public final class FlashinferBf16Provider implements MoeKernelProvider, RooflineProbe {
    /** The provider id. */
    public static final String ID = "flashinfer-bf16";

    /** Does no work: the driver and the kernel image are loaded on first use. */
    public FlashinferBf16Provider() {
    }

    @Override
    public String id() {
        return ID;
    }

    @Override
    public String description() {
        return "FlashInfer-family CUDA kernels: MXFP4 weights, BF16 activations on Hopper wgmma (sm_90a)";
    }

    @Override
    public int priority(MoeLayerSpec spec, DeviceInfo device) {
        return FiRanking.bf16Priority(spec, device);
    }

    @Override
    public SupportVerdict isSupported(MoeLayerSpec spec, DeviceInfo device) {
        return FiRules.verdict(spec, device, false);
    }

    @Override
    public HostAvailability hostAvailability() {
        return CudaHost.availability(FiImage.IMAGE);
    }

    @Override
    public MoeKernel create(MoeLayerSpec spec, DeviceInfo device) {
        return FiKernel.create(ID, false, spec, device);
    }

    @Override
    public Ceilings measureCeilings(DeviceInfo device) {
        return CudaHost.measureCeilings(device, ID);
    }

    @Override
    public String toString() {
        return "FlashinferBf16Provider[" + ID + ", CUDA wgmma BF16 kernels, NVIDIA sm_90a]";
    }
}
