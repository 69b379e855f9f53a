package io.moeoracle.backend.flashinfer;

import io.moeoracle.api.SupportVerdict;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.spec.ActivationFormat;
import io.moeoracle.api.spec.ActivationType;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.cuda.moe.host.CudaVerdicts;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * What the flashinfer kernels can run, as verdicts that name what is missing, for both providers;
 * which kernel families run on a device ({@link #families}). Where they rank: {@link FiRanking}.
 */
final class FiRules {
    /** wgmma (warpgroup MMA) exists on sm_90a only: neither on Ada nor on Blackwell (tcgen05 there). */
    static final int SM_WGMMA = 90;
    /** FP8 e4m3 tensor-core MMA starts with Ada. */
    static final int SM_FP8 = 89;
    /** The alignment kernel keeps one counter per local expert in shared memory (1024 threads). */
    static final int MAX_LOCAL_EXPERTS = 1024;
    /** Weights and scratch may take at most this share of the device's memory. */
    static final double MEMORY_SHARE = 0.9;

    private FiRules() {
    }

    /**
     * @param spec the layer
     * @param device the device (simulated or real)
     * @param fp8 {@code flashinfer-mxfp8} (true) or {@code flashinfer-bf16}
     * @return the verdict; never throws for a valid spec
     */
    static SupportVerdict verdict(MoeLayerSpec spec, DeviceInfo device, boolean fp8) {
        String id = fp8 ? FlashinferMxfp8Provider.ID : FlashinferBf16Provider.ID;
        Optional<SupportVerdict> unreachable = CudaVerdicts.unreachable(id, device);
        if (unreachable.isPresent()) {
            return unreachable.get();
        }
        OptionalInt smv = device.smVersion();
        int sm = smv.orElse(0);
        SupportVerdict arch = fp8 ? fp8Arch(device, sm) : wgmmaArch(device, sm);
        if (arch != null) {
            return arch;
        }
        Optional<SupportVerdict> weights = CudaVerdicts.notMxfp4(id, spec);
        if (weights.isPresent()) {
            return weights.get();
        }
        SupportVerdict act = fp8 ? fp8Activations(spec) : bf16Activations(spec);
        if (act != null) {
            return act;
        }
        if (spec.activationFormat() != ActivationFormat.STANDARD) {
            return SupportVerdict.unsupported(id + " takes the standard token layout [T, H]; the spec asks for "
                    + spec.activationFormat(), "use batched-marlin for the batched (expert-parallel) format");
        }
        if (spec.lora()) {
            return SupportVerdict.unsupported(id + ": LoRA adapters on the expert GEMMs are not implemented",
                    "use marlin (LoRA on the standard format) or turn LoRA off");
        }
        if (spec.hiddenSize() % FiLayout.BLOCK != 0 || spec.intermediateSize() % FiLayout.BLOCK != 0) {
            return SupportVerdict.unsupported(id + " needs H and I to be multiples of the MXFP4 block (32); the spec"
                    + " has H " + spec.hiddenSize() + ", I " + spec.intermediateSize(), "pad the layer");
        }
        if (spec.localExperts() > MAX_LOCAL_EXPERTS) {
            return SupportVerdict.unsupported(id + " handles at most " + MAX_LOCAL_EXPERTS + " local experts per"
                    + " device; the spec has " + spec.localExperts(), "use expert parallelism to split the experts");
        }
        long rows = (long) spec.maxTokensPerCall() * spec.topK();
        long sorted = FiPlan.sortedRowsMax(rows, spec.localExperts(), FiPlan.M_PROBE);
        int widest = Math.max(FiLayout.pad(spec.hiddenSize()), 2 * FiLayout.pad(spec.intermediateSize()));
        if (sorted * widest >= Integer.MAX_VALUE) {
            return SupportVerdict.unsupported(id + " indexes activation rows with 32-bit offsets; maxTokensPerCall "
                    + spec.maxTokensPerCall() + " x top-" + spec.topK() + " is too many for this layer",
                    "lower maxTokensPerCall");
        }
        long need = FiLayout.preparedBytes(spec.localExperts(), spec.hiddenSize(), spec.intermediateSize(),
                spec.hasBias()) + FiScratch.bytes(spec, FiPlan.M_PROBE, fp8);
        if (device.memoryBytes() > 0 && need > MEMORY_SHARE * device.memoryBytes()) {
            return SupportVerdict.unsupported(id + " needs " + (need >> 20) + " MiB of GPU memory for the prepared"
                    + " weights and the scratch of maxTokensPerCall " + spec.maxTokensPerCall() + "; "
                    + device.describe() + " has " + (device.memoryBytes() >> 20) + " MiB",
                    "use expert parallelism or a smaller maxTokensPerCall");
        }
        if (!device.simulated() && !FiImage.IMAGE.isPresent()) {
            return SupportVerdict.unsupported(FiImage.IMAGE.missingReason(), "rebuild backend-flashinfer where nvcc (CUDA 12.8+) is installed, or use another backend");
        }
        return SupportVerdict.supported(note(spec, device, fp8, sm));
    }

    /** flashinfer-bf16: wgmma, so sm_90 exactly. */
    private static SupportVerdict wgmmaArch(DeviceInfo device, int sm) {
        String id = FlashinferBf16Provider.ID;
        if (sm == SM_WGMMA) {
            return null;
        }
        if (sm > SM_WGMMA) {
            return SupportVerdict.unsupported(id + " issues wgmma (warpgroup MMA), which exists on sm_90a only; "
                    + device.describe() + " is " + device.arch() + ", where wgmma is gone (tcgen05 replaces it)"
                    + " and no kernel for it is written", "use marlin, or flashinfer-mxfp8 (runs there through PTX)");
        }
        return SupportVerdict.unsupported(id + " issues wgmma (warpgroup MMA), which needs sm_90a (Hopper); "
                + device.describe() + " has compute capability " + device.arch(), sm >= SM_FP8
                ? "use marlin, or flashinfer-mxfp8 (MXFP8 activations on this GPU's FP8 tensor cores)"
                : "use marlin (sm_80+) or another backend");
    }

    /** flashinfer-mxfp8: FP8 tensor cores (sm_89+); wgmma only if it is there. */
    private static SupportVerdict fp8Arch(DeviceInfo device, int sm) {
        String id = FlashinferMxfp8Provider.ID;
        if (sm < SM_FP8) {
            return SupportVerdict.unsupported(id + " multiplies MXFP8 activations on FP8 tensor cores (e4m3 MMA, sm_89"
                    + " or newer); " + device.describe() + " has compute capability " + device.arch()
                    + " and no FP8 tensor cores", "use marlin with BF16 activations (--activation bf16 or auto)");
        }
        FlashinferSettings.Fp8Mma choice;
        try {
            choice = FlashinferSettings.fp8Mma();
        } catch (IllegalArgumentException e) {
            return SupportVerdict.unsupported(id + " cannot read its settings: " + e.getMessage(),
                    "set " + FlashinferSettings.FP8_MMA.describe() + " to auto, mma-sync or wgmma");
        }
        if (choice == FlashinferSettings.Fp8Mma.WGMMA && sm != SM_WGMMA) {
            return SupportVerdict.unsupported(id + " was told to issue wgmma e4m3 (" + FlashinferSettings.FP8_MMA.describe()
                    + "=wgmma), which exists on sm_90a only; " + device.describe() + " is " + device.arch(),
                    "unset " + FlashinferSettings.FP8_MMA.describe() + " (auto) or set it to mma-sync");
        }
        return null;
    }

    private static SupportVerdict bf16Activations(MoeLayerSpec spec) {
        ActivationType act = spec.quant().activations();
        if (!act.isQuantized()) {
            return null;
        }
        return SupportVerdict.unsupported(FlashinferBf16Provider.ID + " keeps activations in BF16 (wgmma BF16); the spec"
                + " asks for " + act + " activations", act == ActivationType.MXFP8 ? "use flashinfer-mxfp8"
                : "use flashinfer-mxfp8 with --activation mxfp8, or a backend for " + act + " activations");
    }

    private static SupportVerdict fp8Activations(MoeLayerSpec spec) {
        ActivationType act = spec.quant().activations();
        return switch (act) {
            case AUTO, MXFP8 -> null;
            case BF16 -> SupportVerdict.unsupported(FlashinferMxfp8Provider.ID + " quantizes activations to MXFP8 only"
                    + " (E4M3, one E8M0 scale per 32); the spec asks for bf16 activations",
                    "use flashinfer-bf16 (sm_90) or marlin, or --activation mxfp8 / auto");
            case FP8_PER_TOKEN -> SupportVerdict.unsupported(FlashinferMxfp8Provider.ID + " quantizes activations to"
                    + " MXFP8 only (one E8M0 scale per 32 values); the spec asks for fp8-per-token (one scale per row)",
                    "use --activation mxfp8, or a backend for fp8-per-token activations (aiter-fp8 on gfx950)");
        };
    }

    /**
     * The GEMM families that run on a device of compute capability {@code sm}, preferred first: a call's
     * M tile goes to the first family that offers it. MXFP8 on sm_90: the wgmma kernels, and the
     * mma.sync ones for the M tiles wgmma does not offer (both read one weight layout); mma-sync or
     * wgmma alone when the setting says so; mma.sync elsewhere.
     *
     * @param fp8 the MXFP8 provider
     * @param sm compute capability (e.g. 90)
     * @param choice the {@link FlashinferSettings#FP8_MMA} setting
     * @return the families, preferred first
     */
    static List<FiFamily> families(boolean fp8, int sm, FlashinferSettings.Fp8Mma choice) {
        if (!fp8) {
            return List.of(FiFamily.BF16);
        }
        if (sm != SM_WGMMA || choice == FlashinferSettings.Fp8Mma.MMA_SYNC) {
            return List.of(FiFamily.FP8_MMA_SYNC);
        }
        return choice == FlashinferSettings.Fp8Mma.WGMMA ? List.of(FiFamily.FP8_WGMMA)
                : List.of(FiFamily.FP8_WGMMA, FiFamily.FP8_MMA_SYNC);
    }

    private static String note(MoeLayerSpec spec, DeviceInfo device, boolean fp8, int sm) {
        StringBuilder note = new StringBuilder();
        if (fp8) {
            List<FiFamily> fs = families(true, sm, FlashinferSettings.fp8Mma());
            note.append("activations quantized to MXFP8 on the GPU (OCP rule, as api's Mxfp8), MXFP4 widened to E4M3, ")
                    .append(fs.getFirst().mma()).append(fs.size() > 1 ? " for the M tiles it offers, "
                            + fs.get(1).mma() + " for the others" : "")
                    .append(", each 32-wide K block's partial sum scaled by both E8M0 scales in FP32")
                    .append(fs.contains(FiFamily.FP8_WGMMA) ? " (wgmma: scales folded to one exponent per 128 K,"
                            + " exact unless values fall into E4M3 subnormals)" : "");
            if (sm > SM_WGMMA) {
                note.append("; runs through PTX (compute_89, JIT-compiled by the driver), not validated on this"
                        + " generation");
            }
        } else {
            note.append("MXFP4 decoded to BF16 straight into the register A operand (weights as A, tokens as N), wgmma BF16"
                    + " for M tiles of 64 and 128, mma.sync for 8 and 32 (FP32 accumulate)");
        }
        note.append(", bias and ").append(spec.activation()).append(" fused in GEMM1, routing weight and top-k sum in"
                + " GEMM2; routing and alignment on the GPU, CUDA graph capture");
        int h = spec.hiddenSize();
        int i = spec.intermediateSize();
        if (h % FiLayout.PAD != 0 || i % FiLayout.PAD != 0) {
            note.append("; padded to ").append(FiLayout.PAD).append(" in prepare (zero weights):");
            if (h % FiLayout.PAD != 0) {
                note.append(" H ").append(h).append(" -> ").append(FiLayout.pad(h));
            }
            if (i % FiLayout.PAD != 0) {
                note.append(" I ").append(i).append(" -> ").append(FiLayout.pad(i));
            }
        }
        CudaVerdicts.aliasNote(device).ifPresent(note::append);
        note.append("; ").append(FiRanking.note(spec, device, fp8));
        return note.toString();
    }
}
