package io.moeoracle.backend.aiter;

import io.moeoracle.api.HostAvailability;
import io.moeoracle.api.MoeKernel;
import io.moeoracle.api.MoeKernelProvider;
import io.moeoracle.api.SupportVerdict;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.spec.ActivationType;
import io.moeoracle.api.spec.MoeLayerSpec;

/**
 * {@code aiter}: MXFP4 weights with BF16 activations on AMD Instinct gfx942/gfx950 (HIP, BF16 MFMA, wave64). Routing, alignment, both grouped GEMMs and the top-k reduction run on the
 * GPU (aiter_moe.hip). Never run on AMD hardware by this project: the same source, compiled as CUDA,
 * is what the gpu test checks against the float64 reference (see the module README).
 */
public final class AiterProvider implements MoeKernelProvider {
    /** The provider id. */
    public static final String ID = "aiter";

    /** Does no work: the runtime and the code object are loaded on first use. */
    public AiterProvider() {
    }

    @Override
    public String id() {
        return ID;
    }

    @Override
    public String description() {
        return "MXFP4 weights with BF16 activations on AMD Instinct gfx942/gfx950 (HIP, BF16 MFMA, wave64)";
    }

    @Override
    public int priority(MoeLayerSpec spec, DeviceInfo device) {
        return AiterRules.PRIORITY;
    }

    @Override
    public ActivationType activationType(MoeLayerSpec spec, DeviceInfo device) {
        ActivationType requested = spec.quant().activations();
        return requested == ActivationType.AUTO ? ActivationType.BF16 : requested;
    }

    @Override
    public SupportVerdict isSupported(MoeLayerSpec spec, DeviceInfo device) {
        return AiterRules.verdict(spec, device, false);
    }

    @Override
    public HostAvailability hostAvailability() {
        return AiterHost.availability(AiterRules.BF16_ARCHS);
    }

    @Override
    public MoeKernel create(MoeLayerSpec spec, DeviceInfo device) {
        SupportVerdict.requireSupported(this, spec, device);
        return new AiterKernel(ID, false, spec, device, AiterHost.hipDevice(device));
    }

    @Override
    public String toString() {
        return "AiterProvider[" + ID + ", HIP kernels for AMD gfx942/gfx950]";
    }
}
