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
 * Both Triton providers, parameterized by where the activation runs: fused into GEMM1's epilogue
 * ({@code triton}) or in its own kernel between the GEMMs ({@code triton-unfused}). The public
 * subclasses exist so that ServiceLoader, module-info and users can name each variant.
 */
abstract sealed class TritonVariantProvider implements MoeKernelProvider, RooflineProbe
        permits TritonProvider, TritonUnfusedProvider {
    private final String id;
    private final boolean fused;
    private final String description;

    TritonVariantProvider(String id, boolean fused, String description) {
        this.id = id;
        this.fused = fused;
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
        return TritonRules.priority(spec, device, fused);
    }

    @Override
    public SupportVerdict isSupported(MoeLayerSpec spec, DeviceInfo device) {
        return TritonRules.verdict(spec, device, fused, id);
    }

    @Override
    public HostAvailability hostAvailability() {
        return CudaHost.availability(TritonImage.IMAGE);
    }

    @Override
    public MoeKernel create(MoeLayerSpec spec, DeviceInfo device) {
        SupportVerdict.requireSupported(this, spec, device);
        return TritonKernel.create(id, fused, spec, device);
    }

    @Override
    public Ceilings measureCeilings(DeviceInfo device) {
        return CudaHost.measureCeilings(device, id);
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "[" + id + ", Triton kernels compiled ahead of time, NVIDIA]";
    }
}
