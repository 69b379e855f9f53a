#!/usr/bin/env python3
# Prints the wgmma register-A wrappers that fi_bf16.cuh pastes between its GENERATED markers:
# fi_wgmma_rs<N>(float* d, const uint32_t (&a)[4], uint64_t desc) for m64nNk16 f32 += bf16 * bf16,
# A from registers, B K-major from shared memory (descriptor), scale-d = 1.
NS = [8, 16, 24, 32, 48, 64, 96, 128, 160, 192, 224, 256]
print("template <int N> __device__ __forceinline__ void fi_wgmma_rs(float* d, const uint32_t (&a)[4], uint64_t desc);")
for n in NS:
    nd = n // 2
    dl = ", ".join("%%%d" % i for i in range(nd))
    al = ", ".join("%%%d" % (nd + i) for i in range(4))
    outs = ", ".join('"+f"(d[%d])' % i for i in range(nd))
    print("template <> __device__ __forceinline__ void fi_wgmma_rs<%d>(float* d, const uint32_t (&a)[4], uint64_t desc) {" % n)
    print('    asm volatile("wgmma.mma_async.sync.aligned.m64n%dk16.f32.bf16.bf16 {%s}, {%s}, %%%d, 1, 1, 1, 0;\\n"' % (n, dl, al, nd + 4))
    print("                 : %s" % outs)
    print('                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(desc));')
    print("}")
