package io.moeoracle.backend.aiter;

import io.moeoracle.api.HostAvailability;
import io.moeoracle.api.MoeKernel;
import io.moeoracle.api.MoeKernelProvider;
import io.moeoracle.api.SupportVerdict;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.spec.ActivationType;
import io.moeoracle.api.spec.MoeLayerSpec;
import java.util.List;

/**
 * {@code aiter-fp8}: MXFP4 weights with FP8 E4M3 per-token activations on AMD Instinct gfx950 (HIP, FP8 MFMA). Routing, alignment, both grouped GEMMs and the top-k reduction run on the
 * GPU (aiter_moe.hip). Never run on AMD hardware by this project: the same source, compiled as CUDA,
 * is what the gpu test checks against the float64 reference (see the module README).
 */
public final class AiterFp8Provider implements MoeKernelProvider {
    /** The provider id. */
    public static final String ID = "aiter-fp8";

    /** Does no work: the runtime and the code object are loaded on first use. */
    public AiterFp8Provider() {
    }

    @Override
    public String id() {
        return ID;
    }

    @Override
    public String description() {
        return "MXFP4 weights with FP8 E4M3 per-token activations on AMD Instinct gfx950 (HIP, FP8 MFMA)";
    }

    @Override
    public int priority(MoeLayerSpec spec, DeviceInfo device) {
        return AiterRules.PRIORITY;
    }

    @Override
    public ActivationType activationType(MoeLayerSpec spec, DeviceInfo device) {
        return ActivationType.FP8_PER_TOKEN;
    }

    @Override
    public SupportVerdict isSupported(MoeLayerSpec spec, DeviceInfo device) {
        return AiterRules.verdict(spec, device, true);
    }

    @Override
    public HostAvailability hostAvailability() {
        return AiterHost.availability(List.of(AiterRules.FP8_ARCH));
    }

    @Override
    public MoeKernel create(MoeLayerSpec spec, DeviceInfo device) {
        SupportVerdict.requireSupported(this, spec, device);
        return new AiterKernel(ID, true, spec, device, AiterHost.hipDevice(device));
    }

    @Override
    public String toString() {
        return "AiterFp8Provider[" + ID + ", HIP kernels for AMD gfx942/gfx950]";
    }
}
