// Small kernels for the driver-cuda tests and the launch-overhead benchmark.
// Rebuild the committed fatbin with driver-cuda/src/test/cuda/build.sh (nvcc 13.0).
extern "C" __global__ void empty_kernel() {}

// y[i] = a * x[i] + y[i]
extern "C" __global__ void saxpy(float a, const float* __restrict__ x, float* __restrict__ y, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        y[i] = a * x[i] + y[i];
    }
}

// v[i] += delta, used to check graph replays accumulate
extern "C" __global__ void add_scalar(float* v, float delta, long long n) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        v[i] += delta;
    }
}

// copies through dynamic shared memory (needs the raised limit when smem_floats*4 > 48 KiB)
extern "C" __global__ void smem_roundtrip(const float* in, float* out, int smem_floats) {
    extern __shared__ float buf[];
    for (int i = threadIdx.x; i < smem_floats; i += blockDim.x) {
        buf[i] = in[i];
    }
    __syncthreads();
    for (int i = threadIdx.x; i < smem_floats; i += blockDim.x) {
        out[i] = buf[smem_floats - 1 - i];
    }
}

#include <cuda.h>  // CUtensorMap

// Loads one 32x32 FP32 tile at (x0, y0) through the bulk tensor copy engine (sm_90+) into shared
// memory and writes it to out[32*32]; checks that a 128-byte CUtensorMap passed by value arrives.
extern "C" __global__ void tma_load_tile(const __grid_constant__ CUtensorMap map, float* out, int x0, int y0) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    __shared__ alignas(128) float tile[32 * 32];
    __shared__ alignas(8) unsigned long long bar;
    unsigned bar_addr = (unsigned)__cvta_generic_to_shared(&bar);
    unsigned tile_addr = (unsigned)__cvta_generic_to_shared(tile);
    if (threadIdx.x == 0) {
        asm volatile("mbarrier.init.shared::cta.b64 [%0], 1;" ::"r"(bar_addr) : "memory");
        asm volatile("fence.proxy.async.shared::cta;" ::: "memory");
    }
    __syncthreads();
    if (threadIdx.x == 0) {
        asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;" ::"r"(bar_addr), "r"(32 * 32 * 4) : "memory");
        asm volatile(
            "cp.async.bulk.tensor.2d.shared::cluster.global.tile.mbarrier::complete_tx::bytes [%0], [%1, {%2, %3}], [%4];"
            ::"r"(tile_addr), "l"(&map), "r"(x0), "r"(y0), "r"(bar_addr) : "memory");
    }
    unsigned done = 0;
    while (!done) {
        asm volatile("{\n .reg .pred p;\n mbarrier.try_wait.parity.shared::cta.b64 p, [%1], 0;\n selp.u32 %0, 1, 0, p;\n}"
                     : "=r"(done) : "r"(bar_addr) : "memory");
    }
    for (int i = threadIdx.x; i < 32 * 32; i += blockDim.x) {
        out[i] = tile[i];
    }
#endif
}
