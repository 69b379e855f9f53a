# Triton MoE kernels of backend-cuda-triton (moe-oracle). Compiled ahead of time by aot.py; the
# Java side (TritonKernel) launches the cubins with the parameter lists recorded in the metadata.
#
# One forward, all on one stream and capturable into a CUDA graph (grids never depend on the routing):
#   moe_route      top-k of the router logits (ties to the lower id) and a softmax over the k
#   moe_align      one program: rows per local expert, expert-sorted row list, tile -> expert map
#   moe_gemm       grouped GEMM over (m tile, n tile); MXFP4 weights decoded in-kernel to BF16
#                  (E2M1 nibble x E8M0 scale), tl.dot on BF16 with FP32 accumulate.
#                  GEMM1: A rows gathered from hidden, + bias, SwiGLU-OAI fused (ACT=1) or raw gate/up (ACT=0)
#                  GEMM2: A = intermediate rows in sorted order, + bias, x routing weight, BF16 row per (token, k)
#   moe_act        unfused activation over interleaved gate/up (SiLU, GELU-tanh, SwiGLU-OAI)
#   moe_reduce     gather-reduce over the top-k rows of each token (no atomics), output BF16 or F32
#   moe_f32_to_bf16, moe_repack_q, moe_repack_s   input conversion and the prepare-time repack
#
# Weight layout after prepare (per expert e, N output rows, K reduction, both padded to 64):
#   q [E, Np, Kp/2] u8  E2M1 nibbles, low nibble first (the checkpoint's own order, rows zero-padded)
#   s [E, Kp/32, Np] u8 E8M0 scales, transposed so that a tile's scales load along N (or, with
#     S_LAYOUT 'nk' in aot.py, [E, Np, Kp/32])
# GEMM1 keeps the checkpoint's gate/up interleave (even row gate, odd row up): the epilogue splits
# the accumulator's column pairs.
import triton
import triton.language as tl


@triton.jit
def moe_route(logits_ptr, ids_ptr, w_ptr, T, E, K,
              LOGITS_BF16: tl.constexpr, EP: tl.constexpr, KP: tl.constexpr, BT: tl.constexpr):
    pid = tl.program_id(0)
    t = pid * BT + tl.arange(0, BT)
    e = tl.arange(0, EP)
    tmask = t < T
    m2 = tmask[:, None] & (e[None, :] < E)
    x = tl.load(logits_ptr + t[:, None].to(tl.int64) * E + e[None, :], mask=m2, other=float("-inf"))
    x = x.to(tl.float32)
    x = tl.where(x != x, float("-inf"), x)  # NaN logits never win
    kc = tl.arange(0, KP)
    vals = tl.zeros([BT, KP], dtype=tl.float32)
    idxs = tl.zeros([BT, KP], dtype=tl.int32)
    for j in range(K):
        m = tl.max(x, axis=1)
        cand = tl.where((x == m[:, None]) & (e[None, :] < E), e[None, :], EP)
        i = tl.min(cand, axis=1)
        i = tl.where(i >= E, j % E, i)  # all -inf rows: any valid id
        vals = tl.where(kc[None, :] == j, m[:, None], vals)
        idxs = tl.where(kc[None, :] == j, i[:, None], idxs)
        x = tl.where(e[None, :] == i[:, None], float("-inf"), x)
    kmask = kc[None, :] < K
    top = tl.max(tl.where(kmask, vals, float("-inf")), axis=1)
    p = tl.where(kmask, tl.exp(vals - top[:, None]), 0.0)
    p = tl.where(p != p, 0.0, p)
    s = tl.sum(p, axis=1)
    s = tl.where(s > 0, s, 1.0)
    p = p / s[:, None]
    off = t[:, None] * K + kc[None, :]
    om = tmask[:, None] & kmask
    tl.store(ids_ptr + off, idxs, mask=om)
    tl.store(w_ptr + off, p, mask=om)


@triton.jit
def moe_align(ids_ptr, n_rows, e0, n_local, sorted_ptr, tile_expert_ptr, info_ptr, max_tiles,
              BM: tl.constexpr, EP: tl.constexpr, RB: tl.constexpr, TB: tl.constexpr):
    # One program. info = [offset (EP), count (EP), first tile (EP)] per local expert.
    # Row order inside an expert follows the row id (deterministic, no atomics).
    eo = tl.arange(0, EP)
    ro = tl.arange(0, RB)
    counts = tl.zeros([EP], dtype=tl.int32)
    for start in range(0, n_rows, RB):
        r = start + ro
        e = tl.load(ids_ptr + r, mask=r < n_rows, other=-1) - e0
        valid = (r < n_rows) & (e >= 0) & (e < n_local)
        e = tl.where(valid, e, EP - 1)  # EP > n_local: the last bin collects the rest
        counts += tl.histogram(e, EP)
    counts = tl.where(eo < n_local, counts, 0)
    tiles = (counts + BM - 1) // BM
    tile_end = tl.cumsum(tiles, 0)
    tile_start = tile_end - tiles
    off_end = tl.cumsum(counts, 0)
    off_start = off_end - counts
    tl.store(info_ptr + eo, off_start)
    tl.store(info_ptr + EP + eo, counts)
    tl.store(info_ptr + 2 * EP + eo, tile_start)
    total = tl.sum(tiles, 0)
    to = tl.arange(0, TB)
    tile_end_v = tl.where(eo < n_local, tile_end, 2147483647)
    for t0 in range(0, max_tiles, TB):
        t = t0 + to
        ex = tl.sum((tile_end_v[None, :] <= t[:, None]).to(tl.int32), axis=1)
        ex = tl.where(t < total, ex, -1)
        tl.store(tile_expert_ptr + t, ex, mask=t < max_tiles)
    cursor = off_start
    for start in range(0, n_rows, RB):
        r = start + ro
        e = tl.load(ids_ptr + r, mask=r < n_rows, other=-1) - e0
        valid = (r < n_rows) & (e >= 0) & (e < n_local)
        e = tl.where(valid, e, EP - 1)
        onehot = (e[:, None] == eo[None, :]) & valid[:, None]
        base = tl.sum(tl.where(onehot, cursor[None, :], 0), axis=1)
        same = (e[:, None] == e[None, :]) & (ro[None, :] < ro[:, None]) & valid[None, :]
        rank = tl.sum(same.to(tl.int32), axis=1)
        tl.store(sorted_ptr + base + rank, r, mask=valid)
        cursor += tl.sum(onehot.to(tl.int32), axis=0)


# E2M1 -> BF16 on packed registers (DQ=1): per 4 nibble bytes and their 4 scale bytes, 8 BF16 values
# with ~5 instructions each. A nibble s|e1e0m placed at bits 15 / 8..6 is the BF16 value E2M1 * 2^-126
# (a subnormal for e=0); one FMA by 2^126 and one by the scale 2^(S-127) (both exact) finish it.
# Outputs: $0 $1 the low nibbles of bytes 0..3, $2 $3 the high nibbles; inputs $4 nibbles, $5 scales.
_E2M1_ASM = tl.constexpr("""{
.reg .b32 z, u, t, w, sc, k, nz;
mov.b32 z, 0;
mov.b32 k, 0x7E807E80;
mov.b32 nz, 0x80008000;
prmt.b32 u, $4, z, 0x4140;
prmt.b32 sc, $5, z, 0x4140;
shl.b32 sc, sc, 7;
and.b32 t, u, 0x00070007;
shl.b32 t, t, 6;
and.b32 w, u, 0x00080008;
shl.b32 w, w, 12;
or.b32 t, t, w;
fma.rn.bf16x2 t, t, k, nz;
fma.rn.bf16x2 $0, t, sc, nz;
and.b32 t, u, 0x00700070;
shl.b32 t, t, 2;
and.b32 w, u, 0x00800080;
shl.b32 w, w, 8;
or.b32 t, t, w;
fma.rn.bf16x2 t, t, k, nz;
fma.rn.bf16x2 $2, t, sc, nz;
prmt.b32 u, $4, z, 0x4342;
prmt.b32 sc, $5, z, 0x4342;
shl.b32 sc, sc, 7;
and.b32 t, u, 0x00070007;
shl.b32 t, t, 6;
and.b32 w, u, 0x00080008;
shl.b32 w, w, 12;
or.b32 t, t, w;
fma.rn.bf16x2 t, t, k, nz;
fma.rn.bf16x2 $1, t, sc, nz;
and.b32 t, u, 0x00700070;
shl.b32 t, t, 2;
and.b32 w, u, 0x00800080;
shl.b32 w, w, 8;
or.b32 t, t, w;
fma.rn.bf16x2 t, t, k, nz;
fma.rn.bf16x2 $3, t, sc, nz;
}""")


@triton.jit
def _dequant_asm(q, sb, BN: tl.constexpr, BK: tl.constexpr):
    # q [BN, BK/2] u8 nibble pairs, sb [BN, BK/2] u8 the scale of each byte -> [BN, BK] bf16
    lo, hi = tl.inline_asm_elementwise(_E2M1_ASM, "=r,=r,=r,=r,r,r", [q, sb], dtype=(tl.bfloat16, tl.bfloat16),
                                       is_pure=True, pack=4)
    return tl.reshape(tl.join(lo, hi), [BN, BK])


@triton.jit
def _dequant(q, s, BN: tl.constexpr, BK: tl.constexpr):
    # q [BN, BK/2] u8 (low nibble first), s [BN, BK/32] u8 -> [BN, BK] bf16 = E2M1 * 2^(s-127)
    q = q.to(tl.uint16)
    n = tl.reshape(tl.join(q & 15, q >> 4), [BN, BK])
    c = n & 7
    bits = tl.where(c >= 2, (c << 6) + (126 << 7), tl.where(c == 1, 126 << 7, 0)).to(tl.uint16)
    bits = bits | ((n & 8) << 12).to(tl.uint16)
    v = bits.to(tl.bfloat16, bitcast=True)
    sc = (s.to(tl.uint16) << 7).to(tl.bfloat16, bitcast=True)
    v = tl.reshape(v, [BN, BK // 32, 32]) * tl.reshape(sc, [BN, BK // 32, 1])
    return tl.reshape(v, [BN, BK])


@triton.jit
def moe_gemm(a_ptr, stride_a, a_div, KA, sorted_ptr, tile_expert_ptr, info_ptr, info_stride,
             q_ptr, s_ptr, bias_ptr, has_bias, route_w_ptr, c_ptr, stride_c,
             N, Np, K, alpha, limit, acc_scale, k_split, stride_split,
             GEMM2: tl.constexpr, ACT: tl.constexpr, BM: tl.constexpr, BN: tl.constexpr, BK: tl.constexpr,
             SWAP: tl.constexpr, S_NK: tl.constexpr, SPLIT: tl.constexpr, DQ: tl.constexpr):
    # grid (tiles_max, cdiv(N, BN), splits); K (padded) a multiple of BK, A holds KA <= K real columns.
    # ACT: 0 raw, 1 SwiGLU-OAI (GEMM1 only). SWAP: the decoded weights are the MMA's left operand
    # (acc^T = W A^T, so they stay in registers). S_NK: scales stored [E, Np, K/32] instead of [E, K/32, Np].
    # SPLIT > 1 (split-K, decode sizes): program z sums K in [z * k_split, (z + 1) * k_split) and
    # writes an FP32 partial slab c[z] (bias in slab 0, GEMM2 times the routing weight); moe_act_split
    # and moe_reduce_split add the slabs, so no atomics. DQ=1 (needs S_NK): the packed-register decode
    # (_E2M1_ASM) with the scales loaded per nibble byte; DQ=0: the decode in Triton arithmetic.
    # acc_scale = 2^-shift undoes the exponent shift moe_repack_s added to this tensor's scale codes
    # (it keeps every decoded weight a normal BF16); applied first in the epilogue, before bias,
    # activation and routing weight.
    pid_m = tl.program_id(0)
    pid_n = tl.program_id(1)
    pid_k = tl.program_id(2)
    e = tl.load(tile_expert_ptr + pid_m)
    if e < 0:
        return
    off = tl.load(info_ptr + e)
    cnt = tl.load(info_ptr + info_stride + e)
    ts = tl.load(info_ptr + 2 * info_stride + e)
    rm = off + (pid_m - ts) * BM + tl.arange(0, BM)
    mvalid = rm < off + cnt
    rid = tl.load(sorted_ptr + rm, mask=mvalid, other=0)
    if GEMM2:
        arow = rm
    else:
        arow = rid // a_div
    rn = pid_n * BN + tl.arange(0, BN)
    rk = tl.arange(0, BK)
    rk2 = tl.arange(0, BK // 2)
    rks = tl.arange(0, BK // 32)
    e64 = e.to(tl.int64)
    if SPLIT > 1:
        k_lo = pid_k * k_split
        k_hi = tl.minimum(K, k_lo + k_split)
    else:
        k_lo = 0
        k_hi = K
    a_ptrs = a_ptr + arow.to(tl.int64)[:, None] * stride_a + k_lo + rk[None, :]
    q_ptrs = q_ptr + e64 * Np * (K // 2) + rn.to(tl.int64)[:, None] * (K // 2) + k_lo // 2 + rk2[None, :]
    if DQ:
        s_ptrs = s_ptr + e64 * (K // 32) * Np + rn[:, None] * (K // 32) + k_lo // 32 + rk2[None, :] // 16
    elif S_NK:
        s_ptrs = s_ptr + e64 * (K // 32) * Np + rn[:, None] * (K // 32) + k_lo // 32 + rks[None, :]
    else:
        s_ptrs = s_ptr + e64 * (K // 32) * Np + (k_lo // 32 + rks[:, None]) * Np + rn[None, :]
    nmask = rn < Np
    if SWAP:
        acc = tl.zeros([BN, BM], dtype=tl.float32)
    else:
        acc = tl.zeros([BM, BN], dtype=tl.float32)
    # A rows (gathered) and scales are prefetched one step ahead in registers: Triton's pipeliner
    # takes the nibble tile (cp.async) but left these as synchronous loads inside the loop.
    a = tl.load(a_ptrs, mask=mvalid[:, None] & (rk[None, :] < KA - k_lo), other=0.0)
    if S_NK or DQ:
        s = tl.load(s_ptrs, mask=nmask[:, None] & (k_lo < k_hi), other=0)
    else:
        s = tl.trans(tl.load(s_ptrs, mask=nmask[None, :] & (k_lo < k_hi), other=0))
    for k0 in range(k_lo, k_hi, BK):
        q = tl.load(q_ptrs, mask=nmask[:, None], other=0)
        a_ptrs += BK
        q_ptrs += BK // 2
        more = k0 + BK < k_hi
        a_next = tl.load(a_ptrs, mask=mvalid[:, None] & (rk[None, :] < KA - k0 - BK), other=0.0)
        if S_NK or DQ:
            s_ptrs += BK // 32
            s_next = tl.load(s_ptrs, mask=nmask[:, None] & more, other=0)
        else:
            s_ptrs += (BK // 32) * Np
            s_next = tl.trans(tl.load(s_ptrs, mask=nmask[None, :] & more, other=0))
        if DQ:
            w = _dequant_asm(q, s, BN, BK)
        else:
            w = _dequant(q, s, BN, BK)
        if SWAP:
            acc = tl.dot(w, tl.trans(a), acc)
        else:
            acc = tl.dot(a, tl.trans(w), acc)
        a = a_next
        s = s_next
    if SWAP:
        acc = tl.trans(acc)
    acc = acc * acc_scale
    if has_bias != 0:
        if pid_k == 0:
            b = tl.load(bias_ptr + e64 * Np + rn, mask=nmask, other=0.0)
            acc += b[None, :]
    if SPLIT > 1:
        if GEMM2:
            rw = tl.load(route_w_ptr + rid, mask=mvalid, other=0.0)
            acc = acc * rw[:, None]
            crow = rid
        else:
            crow = rm
        c_ptrs = c_ptr + pid_k.to(tl.int64) * stride_split + crow.to(tl.int64)[:, None] * stride_c + rn[None, :]
        tl.store(c_ptrs, acc, mask=mvalid[:, None] & (rn < N)[None, :])
    elif GEMM2:
        rw = tl.load(route_w_ptr + rid, mask=mvalid, other=0.0)
        acc = acc * rw[:, None]
        c_ptrs = c_ptr + rid.to(tl.int64)[:, None] * stride_c + rn[None, :]
        tl.store(c_ptrs, acc.to(tl.bfloat16), mask=mvalid[:, None] & (rn < N)[None, :])
    elif ACT == 1:
        g, u = tl.split(tl.reshape(acc, [BM, BN // 2, 2]))
        g = tl.minimum(g, limit)
        u = tl.minimum(tl.maximum(u, -limit), limit)
        o = g * tl.sigmoid(alpha * g) * (u + 1.0)
        cn = pid_n * (BN // 2) + tl.arange(0, BN // 2)
        c_ptrs = c_ptr + rm.to(tl.int64)[:, None] * stride_c + cn[None, :]
        tl.store(c_ptrs, o.to(tl.bfloat16), mask=mvalid[:, None] & (cn < N // 2)[None, :])
    else:
        c_ptrs = c_ptr + rm.to(tl.int64)[:, None] * stride_c + rn[None, :]
        tl.store(c_ptrs, acc.to(tl.bfloat16), mask=mvalid[:, None] & (rn < N)[None, :])


@triton.jit
def moe_act(gu_ptr, out_ptr, n_rows, I, alpha, limit, ACT: tl.constexpr, BC: tl.constexpr):
    # gu [rows, 2I] (gate even, up odd) -> out [rows, I]; ACT 1 SwiGLU-OAI, 2 SiLU, 3 GELU (tanh)
    row = tl.program_id(0)
    c = tl.program_id(1) * BC + tl.arange(0, BC)
    m = c < I
    base = row.to(tl.int64) * 2 * I
    g = tl.load(gu_ptr + base + 2 * c, mask=m, other=0.0).to(tl.float32)
    u = tl.load(gu_ptr + base + 2 * c + 1, mask=m, other=0.0).to(tl.float32)
    if ACT == 1:
        g = tl.minimum(g, limit)
        u = tl.minimum(tl.maximum(u, -limit), limit)
        o = g * tl.sigmoid(alpha * g) * (u + 1.0)
    elif ACT == 2:
        o = g * tl.sigmoid(g) * u
    else:
        z = 0.7978845608028654 * (g + 0.044715 * g * g * g)
        th = 2.0 * tl.sigmoid(2.0 * z) - 1.0
        o = 0.5 * g * (1.0 + th) * u
    tl.store(out_ptr + row.to(tl.int64) * I + c, o.to(tl.bfloat16), mask=m)


@triton.jit
def moe_act_split(p_ptr, out_ptr, n_rows, I, S, stride_split, alpha, limit, ACT: tl.constexpr, BC: tl.constexpr):
    # p [S, rows, 2I] FP32 split-K partials of GEMM1 (gate even, up odd; bias in slab 0) -> out [rows, I]
    row = tl.program_id(0)
    c = tl.program_id(1) * BC + tl.arange(0, BC)
    m = c < I
    base = row.to(tl.int64) * 2 * I
    g = tl.zeros([BC], dtype=tl.float32)
    u = tl.zeros([BC], dtype=tl.float32)
    for sk in range(S):
        sb = sk * stride_split + base
        g += tl.load(p_ptr + sb + 2 * c, mask=m, other=0.0)
        u += tl.load(p_ptr + sb + 2 * c + 1, mask=m, other=0.0)
    if ACT == 1:
        g = tl.minimum(g, limit)
        u = tl.minimum(tl.maximum(u, -limit), limit)
        o = g * tl.sigmoid(alpha * g) * (u + 1.0)
    elif ACT == 2:
        o = g * tl.sigmoid(g) * u
    else:
        z = 0.7978845608028654 * (g + 0.044715 * g * g * g)
        th = 2.0 * tl.sigmoid(2.0 * z) - 1.0
        o = 0.5 * g * (1.0 + th) * u
    tl.store(out_ptr + row.to(tl.int64) * I + c, o.to(tl.bfloat16), mask=m)


@triton.jit
def moe_reduce_split(p_ptr, ids_ptr, out_ptr, H, K, e0, n_local, S, stride_split, OUT_F32: tl.constexpr,
                     BH: tl.constexpr):
    # out[t, :] = sum over j and split slabs s of p[s, t*K + j, :] (FP32, routing weight applied)
    t = tl.program_id(0)
    h = tl.program_id(1) * BH + tl.arange(0, BH)
    m = h < H
    acc = tl.zeros([BH], dtype=tl.float32)
    for j in range(K):
        r = t * K + j
        e = tl.load(ids_ptr + r) - e0
        if (e >= 0) & (e < n_local):
            for sk in range(S):
                acc += tl.load(p_ptr + sk * stride_split + r.to(tl.int64) * H + h, mask=m, other=0.0)
    if OUT_F32:
        tl.store(out_ptr + t.to(tl.int64) * H + h, acc, mask=m)
    else:
        tl.store(out_ptr + t.to(tl.int64) * H + h, acc.to(tl.bfloat16), mask=m)


@triton.jit
def moe_reduce(y_ptr, ids_ptr, out_ptr, H, K, e0, n_local, OUT_F32: tl.constexpr, BH: tl.constexpr):
    # out[t, :] = sum over j of y[t*K + j, :] for the local experts among the token's top-k
    t = tl.program_id(0)
    h = tl.program_id(1) * BH + tl.arange(0, BH)
    m = h < H
    acc = tl.zeros([BH], dtype=tl.float32)
    for j in range(K):
        r = t * K + j
        e = tl.load(ids_ptr + r) - e0
        if (e >= 0) & (e < n_local):
            acc += tl.load(y_ptr + r.to(tl.int64) * H + h, mask=m, other=0.0).to(tl.float32)
    if OUT_F32:
        tl.store(out_ptr + t.to(tl.int64) * H + h, acc, mask=m)
    else:
        tl.store(out_ptr + t.to(tl.int64) * H + h, acc.to(tl.bfloat16), mask=m)


@triton.jit
def moe_f32_to_bf16(src_ptr, dst_ptr, n, B: tl.constexpr):
    i = tl.program_id(0).to(tl.int64) * B + tl.arange(0, B)
    m = i < n
    tl.store(dst_ptr + i, tl.load(src_ptr + i, mask=m, other=0.0).to(tl.bfloat16), mask=m)


@triton.jit
def moe_repack_q(src_ptr, dst_ptr, N, K2, Np, Kp2, B: tl.constexpr):
    # [E, N, K2] u8 -> [E, Np, Kp2] u8, zero padded; grid (E * Np, cdiv(Kp2, B))
    row = tl.program_id(0)
    e = row // Np
    n = row % Np
    k = tl.program_id(1) * B + tl.arange(0, B)
    v = tl.load(src_ptr + (e.to(tl.int64) * N + n) * K2 + k, mask=(k < K2) & (n < N), other=0)
    tl.store(dst_ptr + row.to(tl.int64) * Kp2 + k, v, mask=k < Kp2)


@triton.jit
def moe_repack_s(src_ptr, dst_ptr, N, KB, Np, KBp, shift, BN: tl.constexpr, S_NK: tl.constexpr):
    # [E, N, KB] u8 -> [E, KBp, Np] u8 (transposed) or, S_NK, [E, Np, KBp]; padding 127 (scale 1; its
    # nibbles are zero). Every code but 255 (NaN) gets the tensor's exponent shift added (clamped to
    # 0..254); the GEMM multiplies its accumulator by 2^-shift. grid (E * KBp, cdiv(Np, BN))
    row = tl.program_id(0)
    e = row // KBp
    kb = row % KBp
    n = tl.program_id(1) * BN + tl.arange(0, BN)
    v = tl.load(src_ptr + (e.to(tl.int64) * N + n) * KB + kb, mask=(n < N) & (kb < KB), other=127)
    w = tl.minimum(tl.maximum(v.to(tl.int32) + shift, 0), 254)
    v = tl.where(v == 255, v, w.to(tl.uint8))
    if S_NK:
        tl.store(dst_ptr + (e.to(tl.int64) * Np + n) * KBp + kb, v, mask=n < Np)
    else:
        tl.store(dst_ptr + row.to(tl.int64) * Np + n, v, mask=n < Np)
