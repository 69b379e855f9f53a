package io.moeoracle.backend.triton;

import io.moeoracle.api.Priority;
import io.moeoracle.api.SupportVerdict;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.device.Vendor;
import io.moeoracle.api.spec.Activation;
import io.moeoracle.api.spec.ActivationFormat;
import io.moeoracle.api.spec.ActivationType;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.cuda.moe.host.CudaVerdicts;

import java.util.Optional;
import java.util.OptionalInt;

/** What the Triton kernels can run, as verdicts with reasons and remedies, and where they rank; both providers. */
final class TritonRules {
    /** Marlin's priority (backend-marlin's MarlinRules.PRIORITY), the reference point of the rule below. */
    static final int MARLIN_PRIORITY = Priority.VENDOR_TUNED;
    /** Ahead of marlin: the preferred band, the reference server's order on sm_90 for MXFP4 x BF16. */
    static final int AHEAD_OF_MARLIN = Priority.PREFERRED;
    /**
     * Behind marlin and still vendor-tuned (Triton kernels tuned for NVIDIA tensor cores), above the
     * band's baseline (the host CPU's {@link Priority#VENDOR_TUNED_BASELINE}): not measured faster, so no default stolen.
     */
    static final int BEHIND_MARLIN = Priority.VENDOR_TUNED - 50;
    /** {@code triton-unfused} sits this far below {@code triton} (one more launch per forward). */
    static final int UNFUSED_OFFSET = 10;
    /**
     * Measured rule (BENCHMARKS.md, "triton vs marlin", H100): the spec's maxTokensPerCall decides. Up to
     * this many tokens per call marlin was faster at every measured T, so triton ranks behind it; above,
     * triton ranks ahead. {@link Integer#MAX_VALUE}: marlin was faster at every measured T.
     */
    static final int TRITON_AHEAD_ABOVE_TOKENS = Integer.MAX_VALUE;
    /** The kernels index element offsets of token-expert rows in 32 bits. */
    static final long MAX_ROWS = 1L << 30;

    private TritonRules() {
    }

    /**
     * @param spec the layer
     * @param device the device
     * @param fused whether this is {@code triton} (SwiGLU-OAI fused) or {@code triton-unfused}
     * @return the priority: ahead of marlin on sm_90 where the side-by-side measurement says so, else behind
     */
    static int priority(MoeLayerSpec spec, DeviceInfo device, boolean fused) {
        int p = aheadOfMarlin(spec, device) ? AHEAD_OF_MARLIN : BEHIND_MARLIN;
        return fused ? p : p - UNFUSED_OFFSET;
    }

    static boolean aheadOfMarlin(MoeLayerSpec spec, DeviceInfo device) {
        OptionalInt sm = device.smVersion();
        return device.vendor() == Vendor.NVIDIA && sm.isPresent() && sm.getAsInt() == 90
                && spec.maxTokensPerCall() > TRITON_AHEAD_ABOVE_TOKENS;
    }

    static String priorityNote(MoeLayerSpec spec, DeviceInfo device, boolean fused) {
        int p = priority(spec, device, fused);
        if (aheadOfMarlin(spec, device)) {
            return "priority " + p + ", ahead of marlin: maxTokensPerCall " + spec.maxTokensPerCall() + " > "
                    + TRITON_AHEAD_ABOVE_TOKENS + " (side-by-side benchmark, BENCHMARKS.md)";
        }
        OptionalInt sm = device.smVersion();
        if (sm.isPresent() && sm.getAsInt() == 90) {
            return "priority " + p + ", behind marlin (" + MARLIN_PRIORITY + "): marlin measured 1.8-4.1x faster at every "
                    + "T = 1..4096 at the gpt-oss-120b shape on an H100, so no maxTokensPerCall puts triton first "
                    + "(BENCHMARKS.md, triton vs marlin)";
        }
        return "priority " + p + ", behind marlin (" + MARLIN_PRIORITY + "): not measured on " + device.arch()
                + "; the reference server does not choose Triton below sm_90 either";
    }

    static SupportVerdict verdict(MoeLayerSpec spec, DeviceInfo device, boolean fused, String id) {
        Optional<SupportVerdict> unreachable = CudaVerdicts.unreachable(id, device);
        if (unreachable.isPresent()) {
            return unreachable.get();
        }
        OptionalInt sm = device.smVersion();
        Optional<String> arch = sm.isPresent() ? TritonImage.archFor(sm.getAsInt()) : Optional.empty();
        if (arch.isEmpty()) {
            return SupportVerdict.unsupported(id + " packs ahead-of-time Triton cubins for sm_90a (Hopper) and sm_80 "
                    + "(Ampere/Ada) only; " + device.describe() + " is " + device.arch(), sm.isPresent()
                    && sm.getAsInt() > 90 ? "use marlin, or regenerate the artifacts for this GPU with aot.py"
                    : "use a GPU of compute capability 8.0+ or another backend");
        }
        Optional<SupportVerdict> weights = CudaVerdicts.notMxfp4(id, spec);
        if (weights.isPresent()) {
            return weights.get();
        }
        ActivationType act = spec.quant().activations();
        if (act.isQuantized()) {
            return SupportVerdict.unsupported(id + " keeps activations in BF16 (tl.dot on BF16); " + act
                    + " activations are not implemented", "use flashinfer-mxfp8 (backend-flashinfer, sm_89+) or --activation bf16");
        }
        if (fused && !(spec.activation() instanceof Activation.SwigluOai)) {
            return SupportVerdict.unsupported("triton fuses SwiGLU-OAI into GEMM1's epilogue only; the spec asks for "
                    + spec.activation(), "use triton-unfused (SiLU, GELU, SwiGLU-OAI in their own kernel) or marlin");
        }
        if (spec.lora()) {
            return SupportVerdict.unsupported(id + " does not implement LoRA adapters on the expert GEMMs",
                    "turn LoRA off or use a backend that declares LoRA support");
        }
        if (spec.activationFormat() != ActivationFormat.STANDARD) {
            return SupportVerdict.unsupported(id + " takes the standard token layout [T, H]; the spec asks for "
                    + spec.activationFormat(), "use batched-marlin for the batched (expert-parallel) format");
        }
        if (spec.topK() > TritonImage.maxTopK()) {
            return SupportVerdict.unsupported(id + "'s routing kernel keeps at most " + TritonImage.maxTopK()
                    + " experts per token; the spec has top-" + spec.topK(), "use marlin");
        }
        int maxE = TritonImage.maxLocalExperts();
        if (spec.experts() > maxE + 1 || spec.localExperts() > maxE) {
            return SupportVerdict.unsupported(id + "'s routing and alignment kernels hold at most " + maxE
                    + " experts; the spec has " + spec.experts(), "use marlin or expert parallelism");
        }
        if (spec.hiddenSize() % 32 != 0 || spec.intermediateSize() % 32 != 0) {
            return SupportVerdict.unsupported(id + " needs H and I to be multiples of the MXFP4 block (32); the spec "
                    + "has H " + spec.hiddenSize() + ", I " + spec.intermediateSize(), "pad the layer");
        }
        if ((long) spec.maxTokensPerCall() * spec.topK() > MAX_ROWS) {
            return SupportVerdict.unsupported(id + " indexes token-expert rows in 32 bits; maxTokensPerCall "
                    + spec.maxTokensPerCall() + " x top-" + spec.topK() + " is too many", "lower maxTokensPerCall");
        }
        if (!TritonImage.isPresent()) {
            return SupportVerdict.unsupported("kernel image not built: " + TritonImage.FOLDER
                    + "/manifest.json is missing from the jar", "regenerate the artifacts with src/main/triton/aot.py");
        }
        if (TritonImage.compiledFor(arch.get()) == 0) {
            return SupportVerdict.unsupported("kernel image not built for " + arch.get() + ": aot.py could not compile "
                    + "the kernels for it", "use marlin on this GPU");
        }
        StringBuilder note = new StringBuilder("Triton " + TritonImage.tritonVersion() + " AOT cubin " + arch.get()
                + (arch.get().equals(TritonImage.SM90) ? " (wgmma)" : " (mma.sync; compiled, not measured on sm_80)")
                + ", MXFP4 decoded to BF16 in-kernel, " + (fused ? "SwiGLU-OAI fused into GEMM1 (decode sizes split K"
                + " and apply it when adding the partials)" : spec.activation() + " in its own kernel")
                + ", top-k gather-reduce (no atomics), CUDA graph capture");
        if (spec.hiddenSize() % 64 != 0 || spec.intermediateSize() % 64 != 0) {
            note.append("; H/I padded to 64 in prepare");
        }
        CudaVerdicts.aliasNote(device).ifPresent(note::append);
        note.append("; ").append(priorityNote(spec, device, fused));
        return SupportVerdict.supported(note.toString());
    }
}
