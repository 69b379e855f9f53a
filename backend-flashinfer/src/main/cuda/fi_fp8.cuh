// MXFP8-activation FP8 GEMMs and the MXFP8 activation quantizer. Contract: ABI.md.
#pragma once
#include "fi_common.cuh"
