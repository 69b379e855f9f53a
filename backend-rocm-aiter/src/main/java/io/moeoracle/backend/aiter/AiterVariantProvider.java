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
 * Both aiter providers, parameterized by the activations they multiply: BF16 ({@code aiter},
 * gfx942/gfx950) or FP8 E4M3 per token ({@code aiter-fp8}, gfx950). The public subclasses exist so
 * that ServiceLoader, module-info and users can name each variant.
 */
abstract sealed class AiterVariantProvider implements MoeKernelProvider permits AiterProvider, AiterFp8Provider {
    private final String id;
    private final boolean fp8;
    private final String description;
    /** The architectures whose code objects this variant needs. */
    private final List<String> archs;

    AiterVariantProvider(String id, boolean fp8, String description) {
        this.id = id;
        this.fp8 = fp8;
        this.description = description;
        this.archs = fp8 ? List.of(AiterRules.FP8_ARCH) : AiterRules.BF16_ARCHS;
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
        return AiterRules.PRIORITY;
    }

    /**
     * Always FP8 per token for {@code aiter-fp8}; {@code aiter}: BF16 for {@code auto}, else what the spec
     * asks (its verdict judges that).
     */
    @Override
    public ActivationType activationType(MoeLayerSpec spec, DeviceInfo device) {
        if (fp8) {
            return ActivationType.FP8_PER_TOKEN;
        }
        ActivationType requested = spec.quant().activations();
        return requested == ActivationType.AUTO ? ActivationType.BF16 : requested;
    }

    @Override
    public SupportVerdict isSupported(MoeLayerSpec spec, DeviceInfo device) {
        return AiterRules.verdict(spec, device, fp8);
    }

    @Override
    public HostAvailability hostAvailability() {
        return AiterHost.availability(archs);
    }

    @Override
    public MoeKernel create(MoeLayerSpec spec, DeviceInfo device) {
        SupportVerdict.requireSupported(this, spec, device);
        return new AiterKernel(id, fp8, spec, device, AiterHost.hipDevice(device));
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "[" + id + ", HIP kernels for AMD gfx942/gfx950]";
    }
}
