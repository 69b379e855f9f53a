package io.moeoracle.backend.flashinfer;

import io.moeoracle.api.HostAvailability;
import io.moeoracle.api.MoeKernel;
import io.moeoracle.api.MoeKernelProvider;
import io.moeoracle.api.RooflineProbe;
import io.moeoracle.api.SupportVerdict;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.spec.ActivationType;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.cuda.moe.host.CudaHost;

/**
 * {@code flashinfer-mxfp8}: MXFP4 weights x MXFP8 activations on FP8 tensor cores. Activations are
 * quantized on the GPU (E4M3, one E8M0 scale per 32 along K, the OCP rule of api's {@code Mxfp8}),
 * weights widened E2M1 to E4M3 (exact), each 32-wide K block's partial sum scaled by both E8M0
 * scales in FP32: {@code wgmma} e4m3 on sm_90a, {@code mma.sync} m16n8k32 e4m3 on sm_89 (and on newer
 * GPUs through the image's PTX, not validated there). Setting {@code moe.flashinfer.fp8Mma} forces
 * the mma.sync kernels on Hopper.
 */
public final class FlashinferMxfp8Provider implements MoeKernelProvider, RooflineProbe {
    /** The provider id. */
    public static final String ID = "flashinfer-mxfp8";

    /** Does no work: the driver and the kernel image are loaded on first use. */
    public FlashinferMxfp8Provider() {
    }

    @Override
    public String id() {
        return ID;
    }

    @Override
    public String description() {
        return "FlashInfer-family CUDA kernels: MXFP4 weights, MXFP8 activations on FP8 tensor cores (sm_89+)";
    }

    @Override
    public int priority(MoeLayerSpec spec, DeviceInfo device) {
        return FiRanking.mxfp8Priority(spec, device);
    }

    /** Always MXFP8: with {@code auto} the selector then puts BF16-activation backends of equal priority first. */
    @Override
    public ActivationType activationType(MoeLayerSpec spec, DeviceInfo device) {
        return ActivationType.MXFP8;
    }

    @Override
    public SupportVerdict isSupported(MoeLayerSpec spec, DeviceInfo device) {
        return FiRules.verdict(spec, device, true);
    }

    @Override
    public HostAvailability hostAvailability() {
        return CudaHost.availability(FiImage.IMAGE);
    }

    @Override
    public MoeKernel create(MoeLayerSpec spec, DeviceInfo device) {
        return FiKernel.create(ID, true, spec, device);
    }

    @Override
    public Ceilings measureCeilings(DeviceInfo device) {
        return CudaHost.measureCeilings(device, ID);
    }

    @Override
    public String toString() {
        return "FlashinferMxfp8Provider[" + ID + ", CUDA FP8 kernels (wgmma / mma.sync e4m3), NVIDIA sm_89+]";
    }
}
