// The flashinfer MoE kernel image: shared routing/alignment/finalize/repack (fi_common.cuh), the
// Hopper BF16 wgmma GEMMs (fi_bf16.cuh, sm_90a only) and the MXFP8-activation FP8 GEMMs with their
// activation quantizer (fi_fp8.cuh: mma.sync e4m3 on sm_89+, wgmma e4m3 on sm_90a). Contract: ABI.md.
#include "fi_common.cuh"
#include "fi_bf16.cuh"
#include "fi_fp8.cuh"
