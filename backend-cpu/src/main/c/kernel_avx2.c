/* Portable kernels built with -mavx2 -mfma: gcc vectorizes the k-major loops over 32 rows.
 * Only called when cpuid reports AVX2 and FMA. */
#define GSUFFIX avx2
#include "kernel_generic.h"
