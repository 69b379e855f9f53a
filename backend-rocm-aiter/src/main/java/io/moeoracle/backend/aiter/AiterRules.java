package io.moeoracle.backend.aiter;

import io.moeoracle.api.Priority;
import io.moeoracle.api.SupportVerdict;
import io.moeoracle.api.device.DeviceAddress;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.device.Vendor;
import io.moeoracle.api.spec.ActivationFormat;
import io.moeoracle.api.spec.ActivationType;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.spec.WeightFormat;

/** What the aiter kernels can run, as verdicts with reasons and remedies; shared by both providers. */
final class AiterRules {
    /**
     * Priority on gfx942/gfx950, the only devices it supports: the preferred band, above the Triton-style
     * backends, as the reference server ranks AITER there.
     */
    static final int PRIORITY = Priority.PREFERRED;
    /** The devices the BF16-activation kernels are built and judged for. */
    static final java.util.List<String> BF16_ARCHS = java.util.List.of("gfx942", "gfx950");
    /** The device the FP8-activation variant is enabled on (the reference server's rule). */
    static final String FP8_ARCH = "gfx950";

    private AiterRules() {
    }

    /** The verdict with the switch read now; an unreadable switch value is a rejection that names it. */
    static SupportVerdict verdict(MoeLayerSpec spec, DeviceInfo device, boolean fp8) {
        boolean enabled;
        try {
            enabled = AiterSettings.enabled();
        } catch (IllegalArgumentException e) {
            return SupportVerdict.unsupported(e.getMessage(), "set MOE_ROCM_AITER to 0 or 1");
        }
        return verdict(spec, device, fp8, enabled);
    }

    static SupportVerdict verdict(MoeLayerSpec spec, DeviceInfo device, boolean fp8, boolean enabled) {
        String id = fp8 ? AiterFp8Provider.ID : AiterProvider.ID;
        if (!enabled) {
            return SupportVerdict.unsupported(id + " is switched off: MOE_ROCM_AITER=0 (or moe.rocm.aiter=false)",
                    "unset MOE_ROCM_AITER or set it to 1 to use the AITER kernels");
        }
        if (device.vendor() != Vendor.AMD) {
            return SupportVerdict.unsupported(id + " runs on AMD Instinct GPUs only; " + device.describe() + " is "
                    + device.vendor().device(), "use a backend for this device");
        }
        if (!device.simulated() && device.address(DeviceAddress.Hip.class).isEmpty()) {
            return SupportVerdict.unsupported(id + " launches through the HIP runtime; " + device.describe()
                    + " is reached through " + kind(device.address()) + " and no HIP device reported the same UUID",
                    "use this GPU's HIP id (hip:N, listed by `moe-oracle devices`)");
        }
        if (fp8 && !device.arch().equals(FP8_ARCH)) {
            return SupportVerdict.unsupported("aiter-fp8 (W4A8) is enabled on gfx950 only, as in the reference server;"
                    + " " + device.describe() + " is " + device.arch() + (device.arch().equals("gfx942")
                    ? " (its FP8 MFMA reads FNUZ E4M3; that path is compiled but not offered)" : ""),
                    "use aiter (MXFP4 weights, BF16 activations) on this device");
        }
        if (!BF16_ARCHS.contains(device.arch())) {
            return SupportVerdict.unsupported(id + " has kernels for gfx942 (MI300) and gfx950 (MI350) only; "
                    + device.describe() + " is " + device.arch(), "use another backend for this GPU");
        }
        if (spec.quant().weights().kind() != WeightFormat.Kind.MXFP4) {
            return SupportVerdict.unsupported(id + " implements MXFP4 weights only; the spec has "
                    + spec.quant().weights() + " weights", "use another backend (e.g. emulation) for "
                    + spec.quant().weights() + " weights");
        }
        ActivationType act = spec.quant().activations();
        if (fp8 && act != ActivationType.FP8_PER_TOKEN && act != ActivationType.AUTO) {
            return SupportVerdict.unsupported("aiter-fp8 quantizes activations to FP8 E4M3 with one scale per token"
                    + " row; the spec asks for " + act + " activations", act == ActivationType.BF16
                    ? "use aiter for BF16 activations" : "use --activation fp8-per-token, or a backend for " + act);
        }
        if (!fp8 && act.isQuantized()) {
            return SupportVerdict.unsupported("aiter keeps activations in BF16 (W4A16); the spec asks for " + act,
                    act == ActivationType.FP8_PER_TOKEN ? "use aiter-fp8 (gfx950) or --activation bf16"
                            : "use --activation bf16 or a backend for " + act + " activations");
        }
        if (spec.lora()) {
            return SupportVerdict.unsupported(id + " does not implement LoRA adapters on the expert GEMMs",
                    "turn LoRA off or use a backend that declares LoRA support");
        }
        if (spec.activationFormat() != ActivationFormat.STANDARD) {
            return SupportVerdict.unsupported(id + " takes the standard token layout [T, H]; the spec asks for "
                    + spec.activationFormat(), "use the standard format or another backend");
        }
        if (spec.localExperts() > AiterPlan.MAX_LOCAL_EXPERTS) {
            return SupportVerdict.unsupported(id + " handles at most " + AiterPlan.MAX_LOCAL_EXPERTS + " local experts"
                    + " per device; the spec has " + spec.localExperts(), "use expert parallelism to split the experts");
        }
        // H and I are multiples of 32 for every MXFP4 spec (MoeLayerSpec checks it): the tiles need no padding
        if (!new AiterPlan(spec, fp8, 64).fitsGrid()) {
            return SupportVerdict.unsupported(id + " launches one GEMM block row per 32 assignments (at most "
                    + AiterPlan.MAX_GRID_Y + "); maxTokensPerCall " + spec.maxTokensPerCall() + " needs more",
                    "lower maxTokensPerCall");
        }
        if (!device.simulated() && !AiterImage.isPresent(device.arch())) {
            return SupportVerdict.unsupported(AiterImage.missing(device.arch()),
                    "rebuild backend-rocm-aiter where clang-22 and lld-22 are installed, or use another backend");
        }
        String via = device.address(DeviceAddress.Hip.class).filter(a -> !device.simulated()
                && !a.id().equals(device.id())).map(a -> "; launched through " + a.id() + " (the same GPU)").orElse("");
        return SupportVerdict.supported((fp8
                ? "MXFP4 widened to FP8 E4M3 in registers; activations to OCP E4M3 with one FP32 scale per token row"
                        + " (amax/448, on the device; the reference server uses a static per-tensor scale); FP8 MFMA"
                        + " 32x32x16, FP32 accumulate; routing, alignment, top-k reduction on the GPU"
                : "MXFP4 decoded to BF16 in registers, BF16 MFMA 32x32x8 (wave64), FP32 accumulate, fused bias and "
                        + activationName(spec) + "; routing, alignment, top-k reduction on the GPU") + via);
    }

    private static String kind(DeviceAddress address) {
        return switch (address) {
            case DeviceAddress.OpenCl o -> "OpenCL (platform " + o.platform() + ", device " + o.index() + ")";
            case DeviceAddress.Cuda c -> "CUDA";
            case DeviceAddress.Host h -> "the host";
            case DeviceAddress.Simulated s -> "no driver (simulated)";
            case DeviceAddress.Hip h -> "HIP";
            case DeviceAddress.Other o -> "a driver this backend does not use";
        };
    }

    private static String activationName(MoeLayerSpec spec) {
        return switch (spec.activation()) {
            case io.moeoracle.api.spec.Activation.SwigluOai s -> "SwiGLU-OAI";
            case io.moeoracle.api.spec.Activation.Silu s -> "SiLU";
            case io.moeoracle.api.spec.Activation.Gelu g -> "GELU";
        };
    }
}
