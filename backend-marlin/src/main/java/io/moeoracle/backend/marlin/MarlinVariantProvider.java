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
 * Both marlin providers, parameterized by the token layout their kernels take: standard
 * ({@code marlin}) or batched per local expert ({@code batched-marlin}). The public subclasses exist
 * so that ServiceLoader, module-info and users can name each variant.
 */
abstract sealed class MarlinVariantProvider implements MoeKernelProvider, RooflineProbe
        permits MarlinProvider, BatchedMarlinProvider {
    private final String id;
    private final ActivationFormat format;
    private final String description;

    MarlinVariantProvider(String id, ActivationFormat format, String description) {
        this.id = id;
        this.format = format;
        this.description = description;
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public String description() {
        return description;
    }

    @Override
    public int priority(MoeLayerSpec spec, DeviceInfo device) {
        return MarlinRules.PRIORITY;
    }

    @Override
    public SupportVerdict isSupported(MoeLayerSpec spec, DeviceInfo device) {
        return MarlinRules.verdict(spec, device, format, id);
    }

    @Override
    public HostAvailability hostAvailability() {
        return CudaHost.availability(MarlinImage.IMAGE);
    }

    @Override
    public MoeKernel create(MoeLayerSpec spec, DeviceInfo device) {
        return MarlinKernel.create(id, format, spec, device);
    }

    @Override
    public Ceilings measureCeilings(DeviceInfo device) {
        return CudaHost.measureCeilings(device, id);
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "[" + id + ", CUDA W4A16 kernels, NVIDIA sm_80+]";
    }
}
