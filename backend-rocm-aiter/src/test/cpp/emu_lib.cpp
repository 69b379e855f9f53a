// A shared library of the CPU emulation build of aiter_moe.hip (moe_port.h's MOE_TARGET_CPU), so a
// Java test can run AiterPlan's launch list on host memory exactly as the GPU tests run it on a
// device: one entry point takes a launch (kernel name, grid, block) and its arguments, each packed
// in 64 bits (a pointer's address, an int, or a float's bits in the low 32).
//   g++ -std=c++20 -O1 -pthread -shared -fPIC -DMOE_TARGET_CPU -I src/test/cpp -I src/main/hip \
//       src/test/cpp/emu_lib.cpp -o target/libaiter_emu.so
#include <cstdint>
#include <cstring>
#include "aiter_moe.hip"

namespace {
struct Args {
  const int64_t* a;
  void* p(int i) const { return (void*)(intptr_t)a[i]; }
  int i(int k) const { return (int)a[k]; }
  float f(int k) const { uint32_t u = (uint32_t)a[k]; float v; std::memcpy(&v, &u, 4); return v; }
};
}  // namespace

/** @return 0, or -1 for an unknown kernel name or argument count */
extern "C" int moe_emu_run(const char* kernel, int gx, int gy, int block, const int64_t* packed, int n) {
  Args a{packed};
  auto gemm = [&](auto fn) {
    if (n != 17) return -1;
    moe_emu_launch(gx, gy, block, [=] {
      fn(a.p(0), a.i(1), (const float*)a.p(2), (const u8*)a.p(3), (const u8*)a.p(4), a.p(5), a.i(6),
         (const int*)a.p(7), (const int*)a.p(8), (const int*)a.p(9), a.i(10), a.i(11), a.i(12), a.i(13), a.f(14),
         a.f(15), (float*)a.p(16));
    });
    return 0;
  };
  if (!std::strcmp(kernel, "moe_topk_softmax") && n == 7) {
    moe_emu_launch(gx, gy, block, [=] {
      moe_topk_softmax(a.p(0), a.i(1), a.i(2), a.i(3), a.i(4), (int*)a.p(5), (float*)a.p(6)); });
    return 0;
  }
  if (!std::strcmp(kernel, "moe_align") && n == 7) {
    moe_emu_launch(gx, gy, block, [=] {
      moe_align((const int*)a.p(0), a.i(1), a.i(2), a.i(3), (int*)a.p(4), (int*)a.p(5), (int*)a.p(6)); });
    return 0;
  }
  if (!std::strcmp(kernel, "moe_quant_rows") && n == 6) {
    moe_emu_launch(gx, gy, block, [=] {
      moe_quant_rows(a.p(0), a.i(1), a.i(2), (const int*)a.p(3), (u8*)a.p(4), (float*)a.p(5)); });
    return 0;
  }
  if (!std::strcmp(kernel, "moe_gemm1_bf16")) return gemm(moe_gemm1_bf16);
  if (!std::strcmp(kernel, "moe_gemm2_bf16")) return gemm(moe_gemm2_bf16);
  if (!std::strcmp(kernel, "moe_gemm1_fp8")) return gemm(moe_gemm1_fp8);
  if (!std::strcmp(kernel, "moe_gemm2_fp8")) return gemm(moe_gemm2_fp8);
  if (!std::strcmp(kernel, "moe_reduce") && n == 10) {
    moe_emu_launch(gx, gy, block, [=] {
      moe_reduce((const float*)a.p(0), (const int*)a.p(1), (const float*)a.p(2), a.i(3), a.i(4), a.i(5), a.i(6),
                 a.i(7), a.p(8), a.i(9)); });
    return 0;
  }
  return -1;
}
