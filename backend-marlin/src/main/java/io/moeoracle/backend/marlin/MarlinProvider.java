package io.moeoracle.backend.marlin;

import io.moeoracle.api.HostAvailability;
import io.moeoracle.api.MoeKernel;
import io.moeoracle.api.MoeKernelProvider;
import io.moeoracle.api.RooflineProbe;
import io.moeoracle.api.SupportVerdict;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.spec.ActivationFormat;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.cuda.moe.host.CudaHost;

/**
 * {@code marlin}: Marlin-style W4A16 MoE on NVIDIA GPUs (sm_80+) for the standard token layout.
 * MXFP4 weights are repacked once into a tile layout, decoded to BF16 in registers and multiplied
 * on BF16 tensor cores; routing, alignment, both GEMMs and the top-k reduction run on the GPU and
 * can be replayed as one CUDA graph.
 */
public final class MarlinProvider implements MoeKernelProvider, RooflineProbe {
    /** The provider id. */
    public static final String ID = "marlin";

    /** Does no work: the driver and the kernel image are loaded on first use. */
    public MarlinProvider() {
    }

    @Override
    public String id() {
        return ID;
    }

    @Override
    public String description() {
        return "Marlin-style W4A16 CUDA kernels: MXFP4 weights, BF16 activations and tensor cores (sm_80+)";
    }

    @Override
    public int priority(MoeLayerSpec spec, DeviceInfo device) {
        return MarlinRules.PRIORITY;
    }

    @Override
    public SupportVerdict isSupported(MoeLayerSpec spec, DeviceInfo device) {
        return MarlinRules.verdict(spec, device, ActivationFormat.STANDARD, ID);
    }

    @Override
    public HostAvailability hostAvailability() {
        return CudaHost.availability(MarlinImage.IMAGE);
    }

    @Override
    public MoeKernel create(MoeLayerSpec spec, DeviceInfo device) {
        return MarlinKernel.create(ID, ActivationFormat.STANDARD, spec, device);
    }

    @Override
    public Ceilings measureCeilings(DeviceInfo device) {
        return CudaHost.measureCeilings(device, ID);
    }

    @Override
    public String toString() {
        return "MarlinProvider[" + ID + ", CUDA W4A16 kernels, NVIDIA sm_80+]";
    }
}
