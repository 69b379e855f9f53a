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
