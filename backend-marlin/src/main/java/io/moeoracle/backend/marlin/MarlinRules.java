package io.moeoracle.backend.marlin;

import io.moeoracle.api.Priority;
import io.moeoracle.api.SupportVerdict;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.spec.ActivationFormat;
import io.moeoracle.api.spec.ActivationType;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.cuda.moe.host.CudaVerdicts;

import java.util.Optional;
import java.util.OptionalInt;

/** What the marlin kernels can run, as verdicts with reasons and remedies; shared by both providers. */
final class MarlinRules {
    /** Vendor-tuned: below the preferred band, where the Triton backend sits on sm_90 for MXFP4 x BF16 (vLLM's gpt-oss order). */
    static final int PRIORITY = Priority.VENDOR_TUNED;
    /** The alignment kernel keeps one counter per local expert in shared memory. */
    static final int MAX_LOCAL_EXPERTS = 1024;
    /** The largest LoRA rank the shrink/expand kernels take (the expand loops over the rank per thread). */
    static final int MAX_LORA_RANK = 256;

    private MarlinRules() {
    }

    static SupportVerdict verdict(MoeLayerSpec spec, DeviceInfo device, ActivationFormat format, String id) {
        Optional<SupportVerdict> unreachable = CudaVerdicts.unreachable(id, device);
        if (unreachable.isPresent()) {
            return unreachable.get();
        }
        OptionalInt sm = device.smVersion();
        if (sm.isEmpty() || sm.getAsInt() < 80) {
            return SupportVerdict.unsupported(id + " needs BF16 tensor cores (mma.sync bf16, sm_80 or newer); "
                    + device.describe() + " has compute capability " + device.arch(),
                    "use a GPU of compute capability 8.0+ or another backend");
        }
        Optional<SupportVerdict> weights = CudaVerdicts.notMxfp4(id, spec);
        if (weights.isPresent()) {
            return weights.get();
        }
        ActivationType act = spec.quant().activations();
        if (act.isQuantized()) {
            return SupportVerdict.unsupported(id + " keeps activations in BF16 (W4A16); " + act
                    + " activations need FP8 tensor cores", "use flashinfer-mxfp8 (backend-flashinfer, sm_89+) or --activation bf16");
        }
        if (spec.activationFormat() != format) {
            return format == ActivationFormat.STANDARD
                    ? SupportVerdict.unsupported("marlin takes the standard token layout [T, H]; the spec asks for "
                            + spec.activationFormat(), "use batched-marlin for the batched (expert-parallel) format")
                    : SupportVerdict.unsupported("batched-marlin takes per-expert batches [E_local, maxTokens, H] only;"
                            + " the spec asks for " + spec.activationFormat(), "use marlin for the standard format");
        }
        if (spec.localExperts() > MAX_LOCAL_EXPERTS) {
            return SupportVerdict.unsupported(id + " handles at most " + MAX_LOCAL_EXPERTS + " local experts per "
                    + "device; the spec has " + spec.localExperts(), "use expert parallelism to split the experts");
        }
        long rows = format == ActivationFormat.BATCHED ? (long) spec.localExperts() * spec.maxTokensPerCall()
                : (long) spec.maxTokensPerCall() * spec.topK();
        if (MarlinPlan.tilesMax(rows, spec.localExperts(), MarlinPlan.M_MAX) > MarlinPlan.MAX_GRID_Y
                || rows * (long) MarlinLayout.pad(Math.max(spec.hiddenSize(), spec.intermediateSize())) >= (1L << 32)) {
            return SupportVerdict.unsupported(id + " indexes rows with 32-bit offsets; maxTokensPerCall "
                    + spec.maxTokensPerCall() + " is too large for this layer", "lower maxTokensPerCall");
        }
        if (spec.lora()) {
            if (format == ActivationFormat.BATCHED) {
                return SupportVerdict.unsupported(id + " does not implement LoRA adapters (the batched format has no"
                        + " per-token adapter index)", "use marlin with the standard format for LoRA");
            }
            if (spec.maxLoraRank() > MAX_LORA_RANK) {
                return SupportVerdict.unsupported(id + " runs LoRA ranks up to " + MAX_LORA_RANK + "; the spec asks for "
                        + spec.maxLoraRank(), "use a lower maxLoraRank, or the cpu or emulation backend");
            }
            long need = MarlinLora.adapterBytes(spec) * spec.adapterSlots() + MarlinLora.scratchBytes(spec, rows);
            if (device.memoryBytes() > 0 && need > device.memoryBytes() / 4) {
                return SupportVerdict.unsupported(id + " would hold " + (need >> 20) + " MiB of LoRA factors and"
                        + " scratch, more than a quarter of " + device.describe() + "'s memory",
                        "use fewer adapter slots, a lower maxLoraRank or a smaller maxTokensPerCall");
            }
        }
        StringBuilder note = new StringBuilder("MXFP4 decoded to BF16 in registers, BF16 mma.sync tensor cores "
                + "(FP32 accumulate), routing and alignment on the GPU, CUDA graph capture");
        int h = spec.hiddenSize();
        int i = spec.intermediateSize();
        if (h % MarlinLayout.TILE != 0 || i % MarlinLayout.TILE != 0) {
            note.append("; padded for the ").append(MarlinLayout.TILE).append("-wide tiles: ");
            if (h % MarlinLayout.TILE != 0) {
                note.append("H ").append(h).append(" -> ").append(MarlinLayout.pad(h)).append(' ');
            }
            if (i % MarlinLayout.TILE != 0) {
                note.append("I ").append(i).append(" -> ").append(MarlinLayout.pad(i)).append(' ');
            }
            note.append("(zero weights, done in prepare)");
        }
        if (!device.simulated() && !MarlinImage.IMAGE.isPresent()) {
            return SupportVerdict.unsupported(MarlinImage.IMAGE.missingReason(), "rebuild backend-marlin where nvcc (CUDA 12.8+) is installed, or use another backend");
        }
        if (spec.lora()) {
            note.append("; LoRA up to rank ").append(spec.maxLoraRank()).append(" in ").append(spec.adapterSlots())
                    .append(" slots (shrink/expand kernels, terms added in the GEMM epilogues)");
        }
        CudaVerdicts.aliasNote(device).ifPresent(note::append);
        return SupportVerdict.supported(note.toString());
    }
}
