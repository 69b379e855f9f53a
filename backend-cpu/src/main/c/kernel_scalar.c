/* Portable kernels, built with the baseline flags: runs on any x86-64 (or other) CPU. */
#define GSUFFIX scalar
#include "kernel_generic.h"
