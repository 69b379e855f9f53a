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
 * Both flashinfer providers, parameterized by the activations they multiply: BF16
 * ({@code flashinfer-bf16}) or quantized to MXFP8 ({@code flashinfer-mxfp8}). The public subclasses
 * exist so that ServiceLoader, module-info and users can name each variant.
 */
abstract sealed class FlashinferVariantProvider implements MoeKernelProvider, RooflineProbe
        permits FlashinferBf16Provider, FlashinferMxfp8Provider {
    private final String id;
    private final boolean fp8;
    private final String description;
    private final String kernels;

    /**
     * @param fp8 whether activations are quantized to MXFP8
     * @param kernels the kernels and GPUs, for {@link #toString()}
     */
    FlashinferVariantProvider(String id, boolean fp8, String description, String kernels) {
        this.id = id;
        this.fp8 = fp8;
        this.description = description;
        this.kernels = kernels;
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
        return fp8 ? FiRanking.mxfp8Priority(spec, device) : FiRanking.bf16Priority(spec, device);
    }

    /**
     * Always MXFP8 for {@code flashinfer-mxfp8}: with {@code auto} the selector then puts BF16-activation
     * backends of equal priority first. {@code flashinfer-bf16} answers as every provider does by default.
     */
    @Override
    public ActivationType activationType(MoeLayerSpec spec, DeviceInfo device) {
        return fp8 ? ActivationType.MXFP8 : MoeKernelProvider.super.activationType(spec, device);
    }

    @Override
    public SupportVerdict isSupported(MoeLayerSpec spec, DeviceInfo device) {
        return FiRules.verdict(spec, device, fp8);
    }

    @Override
    public HostAvailability hostAvailability() {
        return CudaHost.availability(FiImage.IMAGE);
    }

    @Override
    public MoeKernel create(MoeLayerSpec spec, DeviceInfo device) {
        return FiKernel.create(id, fp8, spec, device);
    }

    @Override
    public Ceilings measureCeilings(DeviceInfo device) {
        return CudaHost.measureCeilings(device, id);
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "[" + id + ", " + kernels + "]";
    }
}
