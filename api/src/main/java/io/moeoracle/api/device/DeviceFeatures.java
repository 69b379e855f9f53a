package io.moeoracle.api.device;

/**
 * The feature flags a {@link DeviceInfo} may carry ({@link DeviceInfo#hasFeature}), as probes and
 * simulated-device catalogues spell them. A backend's verdicts test these constants rather than
 * string literals; a probe or catalogue sets the flags its device really has. Flags not listed here
 * are allowed (a third-party probe's own), lower-case with underscores.
 */
public final class DeviceFeatures {
    // --- GPUs of several vendors
    /** BF16 arithmetic in hardware (NVIDIA sm_80+, AMD CDNA, Intel Xe). */
    public static final String BF16 = "bf16";
    /** FP8 arithmetic (NVIDIA sm_89+, AMD gfx942+). */
    public static final String FP8 = "fp8";
    /** FP4 (E2M1) arithmetic in tensor cores (NVIDIA sm_100, AMD gfx950). */
    public static final String FP4 = "fp4";
    /** Double precision at a useful rate (Intel Xe-HPC). */
    public static final String FP64 = "fp64";

    // --- NVIDIA
    /** TF32 tensor cores (sm_80+). */
    public static final String TF32 = "tf32";
    /** Asynchronous global-to-shared copies, {@code cp.async} (sm_80+). */
    public static final String CP_ASYNC = "cp_async";
    /** Warp-group MMA, {@code wgmma} (sm_90). */
    public static final String WGMMA = "wgmma";
    /** The tensor memory accelerator (sm_90+). */
    public static final String TMA = "tma";
    /** Fifth-generation tensor cores, {@code tcgen05} (sm_100). */
    public static final String TCGEN05 = "tcgen05";

    // --- AMD
    /** Matrix fused multiply-add instructions (CDNA). */
    public static final String MFMA = "mfma";
    /** FP8 in the FNUZ variant (gfx942). */
    public static final String FP8_FNUZ = "fp8_fnuz";
    /** FP8 in the OCP variant (gfx950). */
    public static final String FP8_OCP = "fp8_ocp";
    /** FP6 arithmetic (gfx950). */
    public static final String FP6 = "fp6";

    // --- Intel and OpenCL
    /** Dot-product-accumulate systolic instructions (Xe). */
    public static final String DPAS = "dpas";
    /** The OpenCL extension {@code cl_khr_subgroups}. */
    public static final String CL_KHR_SUBGROUPS = "cl_khr_subgroups";
    /** The OpenCL extension {@code cl_intel_subgroups}. */
    public static final String CL_INTEL_SUBGROUPS = "cl_intel_subgroups";

    // --- CPUs: the /proc/cpuinfo names (see HostCpuFeatures.RELEVANT for all that are read)
    /** AVX-512 Foundation. */
    public static final String AVX512F = "avx512f";
    /** AVX-512 byte and word instructions. */
    public static final String AVX512BW = "avx512bw";
    /** AVX-512 vector-length extensions. */
    public static final String AVX512VL = "avx512vl";
    /** AVX-512 BF16 dot products ({@code vdpbf16ps}). */
    public static final String AVX512_BF16 = "avx512_bf16";
    /** AVX2. */
    public static final String AVX2 = "avx2";
    /** Fused multiply-add (FMA3). */
    public static final String FMA = "fma";

    private DeviceFeatures() {
    }
}
