package com.example.moe;

import com.example.moe.ffi.ExampleNative;
import io.moeoracle.api.HostAvailability;
import io.moeoracle.api.MoeKernel;
import io.moeoracle.api.MoeKernelProvider;
import io.moeoracle.api.Priority;
import io.moeoracle.api.SupportVerdict;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.device.Vendor;
import io.moeoracle.api.error.BadInputException;
import io.moeoracle.api.spec.Activation;
import io.moeoracle.api.spec.ActivationFormat;
import io.moeoracle.api.spec.ActivationType;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.spec.WeightFormat;

/**
 * {@code example-bf16-silu}: one narrow spec (BF16 expert weights, BF16 activations, SiLU-GLU, no
 * bias, the standard token layout, all experts in one process) on the host CPU, computed by a small
 * C kernel in float32. Portable band: it never takes the default from the tuned {@code cpu} backend.
 */
public final class ExampleBf16Provider implements MoeKernelProvider {
    /** The provider id. */
    public static final String ID = "example-bf16-silu";

    /** For {@link java.util.ServiceLoader}; loads nothing. */
    public ExampleBf16Provider() {
    }

    @Override
    public String id() {
        return ID;
    }

    @Override
    public String description() {
        return "example third-party backend: BF16 weights, SiLU, no bias, a plain C kernel on the host CPU";
    }

    @Override
    public int priority(MoeLayerSpec spec, DeviceInfo device) {
        return Priority.PORTABLE;
    }

    @Override
    public SupportVerdict isSupported(MoeLayerSpec spec, DeviceInfo device) {
        if (device.vendor() != Vendor.CPU) {
            return SupportVerdict.unsupported(ID + " runs on the host CPU; " + device.id() + " is not a CPU",
                    "use --device cpu");
        }
        if (spec.quant().weights().kind() != WeightFormat.Kind.BF16) {
            return SupportVerdict.unsupported(ID + " reads BF16 weights only; the layer has " + spec.quant().weights(),
                    "use --quant bf16, or another backend");
        }
        if (spec.quant().activations() != ActivationType.AUTO && spec.quant().activations() != ActivationType.BF16) {
            return SupportVerdict.unsupported(ID + " keeps activations in float32; " + spec.quant().activations()
                    + " activations are not implemented", "use --activation bf16");
        }
        if (!(spec.activation() instanceof Activation.Silu)) {
            return SupportVerdict.unsupported(ID + " implements SiLU only; the layer uses " + spec.activation(),
                    "use --act-fn silu, or another backend");
        }
        if (spec.hasBias()) {
            return SupportVerdict.unsupported(ID + " has no bias terms", "use --no-bias, or another backend");
        }
        if (spec.activationFormat() != ActivationFormat.STANDARD || spec.lora() || spec.expertParallelSize() != 1) {
            return SupportVerdict.unsupported(ID + " runs the standard layout, without LoRA or expert parallelism",
                    "use the standard layout with all experts in one process");
        }
        if (!device.simulated()) {
            var cause = ExampleNative.unavailabilityCause();
            if (cause.isPresent()) {
                return SupportVerdict.unsupported("the example's native library is not available: "
                        + cause.get().getMessage(), "rebuild the example jar on Linux x86-64 with a C compiler");
            }
        }
        return SupportVerdict.supported("BF16 weights, SiLU, float32 C kernel on the host CPU");
    }

    @Override
    public HostAvailability hostAvailability() {
        var cause = ExampleNative.unavailabilityCause();
        return cause.isPresent() ? HostAvailability.no(cause.get().getMessage())
                : HostAvailability.yes("libexample_moe from " + ExampleNative.get().path());
    }

    @Override
    public MoeKernel create(MoeLayerSpec spec, DeviceInfo device) {
        SupportVerdict.requireSupported(this, spec, device);
        if (device.simulated()) {
            throw new BadInputException(ID + " makes kernels for a real CPU; " + device.id() + " is simulated");
        }
        return new ExampleBf16Kernel(ExampleNative.get(), spec, device);
    }

    @Override
    public String toString() {
        return "ExampleBf16Provider[" + ID + "]";
    }
}
