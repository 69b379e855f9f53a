// Hopper BF16 wgmma GEMMs (MXFP4 weights x BF16 activations). Contract: ABI.md.
#pragma once
#include "fi_common.cuh"
