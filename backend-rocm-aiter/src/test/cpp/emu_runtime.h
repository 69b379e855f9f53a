// The CPU emulation runtime behind moe_port.h's MOE_TARGET_CPU: lanes are std::threads, a block's
// barrier a std::barrier, and the warp-collective mma.sync.m16n8k16 (BF16, FP32 accumulate) is
// emulated by staging every lane's fragments and computing each lane's four outputs from them.
#pragma once
#include <barrier>
#include <cmath>
#include <thread>
#include <vector>

inline thread_local int moe_emu_tid = 0;
inline thread_local int moe_emu_bidx = 0;
inline thread_local int moe_emu_bidy = 0;
inline std::barrier<>* moe_emu_bar = nullptr;
inline void moe_emu_sync() { moe_emu_bar->arrive_and_wait(); }

inline unsigned moe_emu_a[64][4];
inline unsigned moe_emu_b[64][2];

inline float moe_emu_bf16(unsigned reg, int half) {
  unsigned bits = ((reg >> (16 * half)) & 0xFFFFu) << 16;
  float f;
  __builtin_memcpy(&f, &bits, 4);
  return f;
}

// PTX ISA, mma.m16n8k16 .bf16: A row-major 16x16 in 4 regs (a0,a1: row g, k 2t..2t+1 / row g+8;
// a2,a3: the same rows, k + 8), B 16x8 in 2 regs (k 2t..2t+1, col g; k + 8), C 16x8 in 4 floats
// (row g, cols 2t, 2t+1; row g+8). g = lane / 4, t = lane % 4.
inline void moe_emu_mma16816(float* c, unsigned a0, unsigned a1, unsigned a2, unsigned a3, unsigned b0, unsigned b1) {
  const int l = moe_emu_tid;
  moe_emu_a[l][0] = a0; moe_emu_a[l][1] = a1; moe_emu_a[l][2] = a2; moe_emu_a[l][3] = a3;
  moe_emu_b[l][0] = b0; moe_emu_b[l][1] = b1;
  moe_emu_sync();
  auto A = [](int row, int k) {
    int lane = (row % 8) * 4 + (k % 8) / 2;
    int reg = (row >= 8 ? 1 : 0) + (k >= 8 ? 2 : 0);
    return moe_emu_bf16(moe_emu_a[lane][reg], k % 2);
  };
  auto B = [](int k, int n) {
    int lane = n * 4 + (k % 8) / 2;
    return moe_emu_bf16(moe_emu_b[lane][k >= 8 ? 1 : 0], k % 2);
  };
  const int g = l >> 2, t = l & 3;
  for (int r = 0; r < 4; r++) {
    int row = g + 8 * (r / 2), col = 2 * t + (r % 2);
    float s = 0.0f;
    for (int k = 0; k < 16; k++) s += A(row, k) * B(k, col);
    c[r] += s;
  }
  moe_emu_sync();
}

#if defined(MOE_EMU_WAVE64)
// v_mfma_f32_32x32x8_bf16 and v_mfma_f32_32x32x16_fp8_fp8 over 64 lanes, from the layouts AMD documents
// (matrix instruction calculator): A[i][k] in lane i + 32*(k/K4), element k%K4 (K4 = 4 for bf16, 8 for
// fp8); B[k][j] in lane j + 32*(k/K4); D[i][j] in lane j + 32*((i/4)%2), element (i%4) + 4*(i/8).
typedef short moe_v4s __attribute__((ext_vector_type(4)));
typedef float moe_v16f __attribute__((ext_vector_type(16)));
inline float moe_emu_av[64][8];
inline float moe_emu_bv[64][8];
inline float moe_emu_fp8(unsigned char b) {  // OCP E4M3 (gfx950)
  unsigned e = (b >> 3) & 15u, m = b & 7u;
  if ((b & 0x7F) == 0x7F) return NAN;
  float mag = e == 0 ? std::ldexp((float)m, -9) : std::ldexp(1.0f + m / 8.0f, (int)e - 7);
  return (b & 0x80) ? -mag : mag;
}
inline moe_v16f moe_emu_mfma(int kPerLane, moe_v16f c) {
  moe_emu_sync();
  const int l = moe_emu_tid;
  moe_v16f d = c;
  for (int r = 0; r < 16; r++) {
    int i = 8 * (r / 4) + 4 * (l / 32) + (r % 4), j = l % 32;
    float s = 0.0f;
    for (int k = 0; k < 2 * kPerLane; k++) s += moe_emu_av[i + 32 * (k / kPerLane)][k % kPerLane] * moe_emu_bv[j + 32 * (k / kPerLane)][k % kPerLane];
    d[r] += s;
  }
  moe_emu_sync();
  return d;
}
inline moe_v16f moe_emu_mfma_bf16(moe_v4s a, moe_v4s b, moe_v16f c) {
  for (int i = 0; i < 4; i++) {
    moe_emu_av[moe_emu_tid][i] = moe_emu_bf16((unsigned short)a[i], 0);
    moe_emu_bv[moe_emu_tid][i] = moe_emu_bf16((unsigned short)b[i], 0);
  }
  return moe_emu_mfma(4, c);
}
inline moe_v16f moe_emu_mfma_fp8(long a, long b, moe_v16f c) {
  for (int i = 0; i < 8; i++) {
    moe_emu_av[moe_emu_tid][i] = moe_emu_fp8((unsigned char)((unsigned long)a >> (8 * i)));
    moe_emu_bv[moe_emu_tid][i] = moe_emu_fp8((unsigned char)((unsigned long)b >> (8 * i)));
  }
  return moe_emu_mfma(8, c);
}
#define __builtin_amdgcn_mfma_f32_32x32x8bf16_1k(a, b, c, x, y, z) moe_emu_mfma_bf16(a, b, c)
#define __builtin_amdgcn_mfma_f32_32x32x16_fp8_fp8(a, b, c, x, y, z) moe_emu_mfma_fp8(a, b, c)
#endif

template <class F>
void moe_emu_launch(int gx, int gy, int block, F kernel) {
  for (int by = 0; by < gy; by++) {
    for (int bx = 0; bx < gx; bx++) {
      std::barrier<> bar(block);
      moe_emu_bar = &bar;
      std::vector<std::thread> lanes;
      for (int t = 0; t < block; t++) {
        lanes.emplace_back([=] {
          moe_emu_tid = t;
          moe_emu_bidx = bx;
          moe_emu_bidy = by;
          kernel();
        });
      }
      for (auto& th : lanes) th.join();
    }
  }
}
