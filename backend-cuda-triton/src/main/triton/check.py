#!/usr/bin/env python3
"""Correctness and timing of the Triton MoE kernels on a GPU (JIT path, same sources as aot.py).

    python3 check.py test                  random specs + gpt-oss shapes vs a float64 reference
    python3 check.py sweep [--write]       tile configs per bucket at the gpt-oss-120b shape (graph replay);
                                           --write stores the best per bucket in buckets.json
    python3 check.py determinism DIR       aot.py twice into DIR/a and DIR/b, byte comparison

Not part of the build; the numbers it prints feed BUCKETS in aot.py (see README.md).
"""
import math
import os
import sys
import time
from pathlib import Path

import torch
import triton

sys.path.insert(0, str(Path(__file__).resolve().parent))
import aot  # noqa: E402
import moe_kernels as mk  # noqa: E402

DEV = "cuda"
FP4 = torch.tensor([0, .5, 1, 1.5, 2, 3, 4, 6, -0., -.5, -1, -1.5, -2, -3, -4, -6], dtype=torch.float64)


def pad(x, m=64):
    return (x + m - 1) // m * m


def dequant(q, s):
    """q [E, N, K/2] u8, s [E, N, K/32] u8 -> [E, N, K] float32 (exact)."""
    lut = FP4.to(q.device, torch.float32)
    v = torch.stack([lut[(q & 15).long()], lut[(q >> 4).long()]], dim=-1).flatten(-2)
    sc = torch.exp2(s.float() - 127).repeat_interleave(32, dim=-1)
    return v * sc


class Layer:
    def __init__(self, E, H, I, k, bias=True, act="swiglu", alpha=1.702, limit=7.0, ep=(1, 0), scale_lo=118,
                 scale_hi=124):
        self.E, self.H, self.I, self.k, self.act, self.alpha, self.limit = E, H, I, k, act, alpha, limit
        self.el = E // ep[0]
        self.e0 = ep[1] * self.el
        g = torch.Generator(device=DEV).manual_seed(int(time.time_ns() % (1 << 31)))
        r = lambda *s: torch.randint(0, 256, s, device=DEV, dtype=torch.uint8, generator=g)  # noqa: E731
        self.q13 = r(self.el, 2 * I, H // 2)
        self.s13 = torch.randint(scale_lo, scale_hi, (self.el, 2 * I, H // 32), device=DEV, dtype=torch.uint8,
                                 generator=g)
        self.q2 = r(self.el, H, I // 2)
        self.s2 = torch.randint(scale_lo, scale_hi, (self.el, H, I // 32), device=DEV, dtype=torch.uint8,
                                generator=g)
        self.b13 = (torch.randn(self.el, 2 * I, device=DEV, generator=g) * 0.1).bfloat16() if bias else None
        self.b2 = (torch.randn(self.el, H, device=DEV, generator=g) * 0.1).bfloat16() if bias else None
        self.prepare()

    def prepare(self):
        H, I, el = self.H, self.I, self.el
        self.Hp, self.Ip = pad(H), pad(I)
        self.wq13, self.ws13 = self.repack(self.q13, self.s13, 2 * I, H, 2 * self.Ip, self.Hp)
        self.wq2, self.ws2 = self.repack(self.q2, self.s2, H, I, self.Hp, self.Ip)
        self.fb13 = torch.zeros(el, 2 * self.Ip, device=DEV)
        self.fb2 = torch.zeros(el, self.Hp, device=DEV)
        if self.b13 is not None:
            self.fb13[:, :2 * I] = self.b13.float()
            self.fb2[:, :H] = self.b2.float()

    def repack(self, q, s, N, K, Np, Kp):
        el = self.el
        dq = torch.empty(el, Np, Kp // 2, device=DEV, dtype=torch.uint8)
        mk.moe_repack_q[(el * Np, triton.cdiv(Kp // 2, aot.REPACK_B))](q, dq, N, K // 2, Np, Kp // 2,
                                                                          B=aot.REPACK_B)
        ds = {}
        for nk in (0, 1):
            ds[nk] = torch.empty(el * (Kp // 32) * Np, device=DEV, dtype=torch.uint8)
            mk.moe_repack_s[(el * (Kp // 32), triton.cdiv(Np, aot.REPACK_B))](s, ds[nk], N, K // 32, Np, Kp // 32, 0,
                                                                                BN=aot.REPACK_B, S_NK=nk)
        return dq, ds

    def reference(self, x, ids, w, rows):
        """float64 output rows [len(rows), H] for tokens `rows`."""
        out = torch.zeros(len(rows), self.H, dtype=torch.float64, device=DEV)
        xs = x[rows].double()
        for j in range(self.k):
            for n, t in enumerate(rows.tolist()):
                e = int(ids[t, j]) - self.e0
                if e < 0 or e >= self.el:
                    continue
                w13 = dequant(self.q13[e:e + 1], self.s13[e:e + 1])[0].double()
                g = w13 @ xs[n]
                if self.b13 is not None:
                    g = g + self.b13[e].double()
                gate, up = g[0::2], g[1::2]
                if self.act == "swiglu":
                    gg = gate.clamp(max=self.limit)
                    uu = up.clamp(-self.limit, self.limit)
                    a = gg * torch.sigmoid(self.alpha * gg) * (uu + 1)
                elif self.act == "silu":
                    a = gate * torch.sigmoid(gate) * up
                else:
                    a = 0.5 * gate * (1 + torch.tanh(math.sqrt(2 / math.pi) * (gate + 0.044715 * gate ** 3))) * up
                a = a.bfloat16().double()
                w2 = dequant(self.q2[e:e + 1], self.s2[e:e + 1])[0].double()
                o = w2 @ a
                if self.b2 is not None:
                    o = o + self.b2[e].double()
                out[n] += float(w[t, j]) * o
        return out


class Forward:
    """The launch sequence the Java kernel runs, with a bucket config (possibly a sweep candidate)."""

    def __init__(self, L, T, cfg, fused=True, out_f32=False):
        self.L, self.T, self.cfg, self.fused = L, T, cfg, fused
        k, el = L.k, L.el
        self.rows = T * k
        self.ep = 256 if el < 256 else 1024
        bm = cfg["BM"]
        self.tiles = min(el, self.rows) + triton.cdiv(self.rows, bm)
        self.ids = torch.empty(T, k, device=DEV, dtype=torch.int32)
        self.w = torch.empty(T, k, device=DEV, dtype=torch.float32)
        self.sorted = torch.empty(self.rows, device=DEV, dtype=torch.int32)
        self.tile_e = torch.empty(self.tiles, device=DEV, dtype=torch.int32)
        self.info = torch.empty(3 * self.ep, device=DEV, dtype=torch.int32)
        self.inter = torch.empty(self.rows, L.Ip, device=DEV, dtype=torch.bfloat16)
        self.gu = None if fused else torch.empty(self.rows, 2 * L.Ip, device=DEV, dtype=torch.bfloat16)
        self.y = torch.empty(self.rows, L.H, device=DEV, dtype=torch.bfloat16)
        self.out = torch.empty(T, L.H, device=DEV, dtype=torch.float32 if out_f32 else torch.bfloat16)
        self.s1 = cfg["g1"].get("split", 1)
        self.s2 = cfg["g2"].get("split", 1)
        self.p1 = torch.empty(self.s1, self.rows, 2 * L.Ip, device=DEV) if self.s1 > 1 else None
        self.p2 = torch.empty(self.s2, self.rows, L.H, device=DEV) if self.s2 > 1 else None
        self.out_f32 = out_f32

    def __call__(self, x, logits):
        L, T, cfg = self.L, self.T, self.cfg
        bt = aot.ROUTE_BT[self.ep]
        mk.moe_route[(triton.cdiv(T, bt),)](logits, self.ids, self.w, T, L.E, L.k,
                                           LOGITS_BF16=logits.dtype == torch.bfloat16, EP=self.ep, KP=aot.KP,
                                           BT=bt, num_warps=4)
        self.align_and_gemms(x)
        return self.out

    def align_and_gemms(self, x):
        L, T, cfg = self.L, self.T, self.cfg
        mk.moe_align[(1,)](self.ids, self.rows, L.e0, L.el, self.sorted, self.tile_e, self.info, self.tiles,
                           BM=cfg["BM"], EP=self.ep, RB=aot.ALIGN_RB, TB=aot.ALIGN_TB, num_warps=aot.ALIGN_WARPS)
        g1, g2 = cfg["g1"], cfg["g2"]
        common = (self.sorted, self.tile_e, self.info, self.ep)
        nk = cfg.get("nk", 1 if aot.S_LAYOUT == "nk" else 0)
        code = {"swiglu": 1, "silu": 2, "gelu": 3}[L.act]
        s1, s2 = self.s1, self.s2
        ks1 = triton.cdiv(L.Hp // g1["BK"], s1) * g1["BK"]
        ks2 = triton.cdiv(L.Ip // g2["BK"], s2) * g2["BK"]
        if s1 > 1:
            mk.moe_gemm[(self.tiles, triton.cdiv(2 * L.Ip, g1["BN"]), s1)](
                x, L.H, L.k, L.H, *common, L.wq13, L.ws13[nk], L.fb13, 1, self.w, self.p1, 2 * L.Ip, 2 * L.Ip,
                2 * L.Ip, L.Hp, L.alpha, L.limit, 1.0, ks1, self.rows * 2 * L.Ip, GEMM2=0, ACT=0, BM=cfg["BM"],
                BN=g1["BN"], BK=g1["BK"], SWAP=g1["swap"], S_NK=nk, SPLIT=s1, DQ=g1.get("dq", 0), num_warps=g1["warps"],
                num_stages=g1["stages"])
            mk.moe_act_split[(self.rows, triton.cdiv(L.Ip, aot.ACT_BC))](
                self.p1, self.inter, self.rows, L.Ip, s1, self.rows * 2 * L.Ip, L.alpha, L.limit, ACT=code,
                BC=aot.ACT_BC)
        elif self.fused:
            mk.moe_gemm[(self.tiles, triton.cdiv(2 * L.Ip, g1["BN"]), 1)](
                x, L.H, L.k, L.H, *common, L.wq13, L.ws13[nk], L.fb13, 1, self.w, self.inter, L.Ip, 2 * L.Ip,
                2 * L.Ip, L.Hp, L.alpha, L.limit, 1.0, L.Hp, 0, GEMM2=0, ACT=1, BM=cfg["BM"], BN=g1["BN"], BK=g1["BK"],
                SWAP=g1["swap"], S_NK=nk, SPLIT=1, DQ=g1.get("dq", 0), num_warps=g1["warps"], num_stages=g1["stages"])
        else:
            mk.moe_gemm[(self.tiles, triton.cdiv(2 * L.Ip, g1["BN"]), 1)](
                x, L.H, L.k, L.H, *common, L.wq13, L.ws13[nk], L.fb13, 1, self.w, self.gu, 2 * L.Ip, 2 * L.Ip,
                2 * L.Ip, L.Hp, L.alpha, L.limit, 1.0, L.Hp, 0, GEMM2=0, ACT=0, BM=cfg["BM"], BN=g1["BN"], BK=g1["BK"],
                SWAP=g1["swap"], S_NK=nk, SPLIT=1, DQ=g1.get("dq", 0), num_warps=g1["warps"], num_stages=g1["stages"])
            mk.moe_act[(self.rows, triton.cdiv(L.Ip, aot.ACT_BC))](self.gu, self.inter, self.rows, L.Ip, L.alpha,
                                                                   L.limit, ACT=code, BC=aot.ACT_BC)
        if s2 > 1:
            mk.moe_gemm[(self.tiles, triton.cdiv(L.H, g2["BN"]), s2)](
                self.inter, L.Ip, 1, L.Ip, *common, L.wq2, L.ws2[nk], L.fb2, 1, self.w, self.p2, L.H, L.H, L.Hp,
                L.Ip, L.alpha, L.limit, 1.0, ks2, self.rows * L.H, GEMM2=1, ACT=0, BM=cfg["BM"], BN=g2["BN"],
                BK=g2["BK"], SWAP=g2["swap"], S_NK=nk, SPLIT=s2, DQ=g2.get("dq", 0), num_warps=g2["warps"], num_stages=g2["stages"])
            mk.moe_reduce_split[(T, triton.cdiv(L.H, aot.REDUCE_BH))](
                self.p2, self.ids, self.out, L.H, L.k, L.e0, L.el, s2, self.rows * L.H, OUT_F32=self.out_f32,
                BH=aot.REDUCE_BH)
            return
        mk.moe_gemm[(self.tiles, triton.cdiv(L.H, g2["BN"]), 1)](
            self.inter, L.Ip, 1, L.Ip, *common, L.wq2, L.ws2[nk], L.fb2, 1, self.w, self.y, L.H, L.H, L.Hp, L.Ip,
            L.alpha, L.limit, 1.0, L.Ip, 0, GEMM2=1, ACT=0, BM=cfg["BM"], BN=g2["BN"], BK=g2["BK"], SWAP=g2["swap"],
            S_NK=nk, SPLIT=1, DQ=g2.get("dq", 0), num_warps=g2["warps"], num_stages=g2["stages"])
        mk.moe_reduce[(T, triton.cdiv(L.H, aot.REDUCE_BH))](self.y, self.ids, self.out, L.H, L.k, L.e0, L.el,
                                                           OUT_F32=self.out_f32, BH=aot.REDUCE_BH)


def bucket_for(T, k, el):
    per = T * k / el
    return "decode" if per <= 12 else ("mid" if per <= 64 else "prefill")  # as TritonPlan


def check_one(L, T, bucket, fused=True, sample=16, out_f32=False, hot=False):
    x = torch.randn(T, L.H, device=DEV).bfloat16()
    logits = torch.randn(T, L.E, device=DEV) * 2
    if hot:
        logits[:, 3] += 4.0  # a hot expert
    logits = logits.bfloat16() if T % 2 else logits
    f = Forward(L, T, bucket if isinstance(bucket, dict) else aot.BUCKETS[bucket], fused, out_f32)
    f.out.fill_(float("nan"))
    out = f(x, logits)
    torch.cuda.synchronize()
    # routing: the kernel's k logits must be the k largest (ties may pick either id)
    lv = torch.topk(logits.float(), L.k, dim=1).values
    mine = logits.float().gather(1, f.ids.long())
    assert torch.equal(mine.sort(1, descending=True).values, lv), "top-k ids differ"
    w = torch.softmax(mine.double(), 1)
    werr = (w - f.w.double()).abs().max().item()
    assert werr < 1e-5, f"routing weights differ by {werr}"
    rows = torch.randperm(T, device=DEV)[:sample]
    ref = L.reference(x, f.ids, w, rows)
    got = out[rows].double()
    assert not torch.isnan(out).any(), "NaN in the output (unwritten rows?)"
    if ref.norm() == 0:  # no sampled token routed to a local expert: the output must be exactly zero
        return 0.0 if got.abs().max() == 0 else float("inf")
    err = (got - ref).norm() / ref.norm()
    return float(err)


def test():
    torch.manual_seed(int(time.time()))
    fails = 0
    cases = []
    for i in range(14):
        E = [4, 8, 16, 32, 64][i % 5]
        H = [256, 224, 512, 96][i % 4]
        I = [128, 160, 320, 64][(i // 2) % 4]
        k = min(E, [1, 2, 4, 4][i % 4])
        act = ["swiglu", "silu", "gelu"][i % 3]
        ep = (2, i % 2) if i % 5 == 3 else (1, 0)
        T = [1, 7, 64, 300][i % 4]
        cases.append((dict(E=E, H=H, I=I, k=k, bias=i % 3 != 2, act=act, ep=ep), T, act == "swiglu" and i % 2 == 0))
    for (spec, T, fused) in cases:
        L = Layer(**spec)
        for b in list(aot.BUCKETS) + ["split", "asm-decode"]:
            cfg = {"split": _cfg(16, 64, 4, 4, 1, 1, split=3, dq=0),
                   "asm-decode": _cfg(16, 64, 4, 4, 1, 1, split=3, dq=1)}.get(b, b)
            try:
                err = check_one(L, T, cfg, fused=fused, sample=min(T, 24), out_f32=T % 2 == 0)
            except Exception as ex:  # noqa: BLE001 - report and count, keep testing the rest
                print(f"  {spec} T={T} {b}: {type(ex).__name__}: {str(ex)[:300]}", flush=True)
                err = float("inf")
            ok = err < 1e-2
            fails += not ok
            print(f"  {spec} T={T} {b} fused={fused}: rel L2 {err:.2e} {'ok' if ok else 'FAIL'}", flush=True)
    for name, E in (("gpt-oss-20b", 32), ("gpt-oss-120b", 128)):
        L = Layer(E, 2880, 2880, 4)
        for T in (1, 7, 64, 300, 4096):
            b = bucket_for(T, 4, E)
            err = check_one(L, T, b, sample=8, hot=T == 300)
            ok = err < 1e-2
            fails += not ok
            print(f"  {name} T={T} {b}: rel L2 {err:.2e} {'ok' if ok else 'FAIL'}", flush=True)
        del L
        torch.cuda.empty_cache()
    print(f"TEST {'PASS' if fails == 0 else 'FAIL (%d)' % fails}", flush=True)
    return fails


def ceilings():
    n = 1 << 28
    a = torch.empty(n, dtype=torch.float32, device=DEV)
    b = torch.empty_like(a)
    ms = triton.testing.do_bench(lambda: b.copy_(a), warmup=25, rep=200, return_mode="median")
    bw = 2 * n * 4 / (ms * 1e-3)
    m = torch.randn(8192, 8192, device=DEV).bfloat16()
    m2 = torch.randn(8192, 8192, device=DEV).bfloat16()
    ms = triton.testing.do_bench(lambda: m @ m2, warmup=25, rep=200, return_mode="median")
    fl = 2 * 8192 ** 3 / (ms * 1e-3)
    del a, b, m, m2
    return bw, fl


def time_graph(fn, iters=50):
    s = torch.cuda.Stream()
    s.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(s):
        for _ in range(3):
            fn()
    torch.cuda.current_stream().wait_stream(s)
    g = torch.cuda.CUDAGraph()
    with torch.cuda.graph(g):
        fn()
    for _ in range(5):
        g.replay()
    ts = []
    for _ in range(iters):
        e0, e1 = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        e0.record()
        g.replay()
        e1.record()
        e1.synchronize()
        ts.append(e0.elapsed_time(e1) * 1e3)
    ts.sort()
    return ts[len(ts) // 2]


def _cfg(bm, bn, w, st, swap, nk, bk=64, split=1, dq=1):
    g = dict(BN=bn, BK=bk, warps=w, stages=st, swap=swap, split=split, dq=dq)
    return dict(BM=bm, g1=g, g2=dict(g), nk=nk)


# per bucket: the T values it serves at the gpt-oss-120b shape (TritonPlan: rows per expert <= 12 decode,
# <= 64 mid, else prefill) and the configs tried there
BUCKET_TOKENS = {"decode": [1, 8, 32, 256], "mid": [1024], "prefill": [4096]}
CANDIDATES = {
    "decode": [_cfg(16, bn, w, st, sw, 1, split=sp, dq=dq) for (bn, w, st, sw, sp, dq) in (
        (64, 4, 4, 1, 3, 0), (64, 4, 4, 1, 3, 1), (64, 4, 4, 1, 5, 1), (64, 4, 4, 1, 1, 1), (128, 4, 4, 1, 3, 1),
        (32, 4, 4, 1, 3, 1), (64, 4, 6, 1, 3, 1), (128, 8, 4, 1, 5, 1))],
    # DQ=1 (packed-register decode) compiles only with swap=1 under Triton 3.6: with the decoded weights as
    # the MMA's right operand the TritonGPUOptimizeDotOperands pass fails ("PassManager::run failed")
    "mid": [_cfg(bm, bn, w, st, sw, 1, dq=dq) for (bm, bn, w, st, sw, dq) in (
        (64, 64, 4, 4, 0, 0), (64, 128, 4, 4, 0, 0), (32, 64, 4, 4, 1, 1), (64, 64, 4, 4, 1, 1))],
    "prefill": [_cfg(bm, bn, w, st, sw, 1, dq=dq) for (bm, bn, w, st, sw, dq) in (
        (128, 128, 4, 4, 0, 0), (128, 128, 8, 4, 0, 0), (128, 256, 8, 3, 0, 0), (128, 64, 4, 4, 0, 0),
        (256, 128, 8, 3, 0, 0), (128, 128, 4, 4, 1, 1))],
}


def sweep(write):
    import json
    bw, fl = ceilings()
    print(f"ceilings: copy {bw / 1e9:.0f} GB/s, bf16 {fl / 1e12:.0f} TFLOP/s ({torch.cuda.get_device_name()})",
          flush=True)
    L = Layer(128, 2880, 2880, 4, scale_lo=119, scale_hi=123)
    eb = (2 * 2880 * 2880 / 2 + 2 * 2880 * 2880 / 32 + 2880 * 2880 / 2 + 2880 * 2880 / 32 + (2 * 2880 + 2880) * 2)
    chosen = {}
    for bucket, tokens in BUCKET_TOKENS.items():
        score = {}
        for T in tokens:
            x = torch.randn(T, 2880, device=DEV).bfloat16()
            logits = torch.randn(T, 128, device=DEV)
            best = None
            res = []
            for ci, cfg in enumerate(CANDIDATES[bucket]):
                try:
                    f = Forward(L, T, cfg)
                    f(x, logits)
                    torch.cuda.synchronize()
                    touched = len(torch.unique(f.ids))
                    us = time_graph(lambda: f(x, logits))
                except Exception as e:  # a config that does not compile (shared memory) is skipped
                    print(f"T={T} {cfg}: {type(e).__name__} {str(e)[:160]}", flush=True)
                    continue
                byts = touched * eb + 2 * T * 2880 * 2 + T * 128 * 4
                flops = 2 * T * 4 * 3 * 2880 * 2880
                floor = max(byts / bw, flops / fl) * 1e6
                res.append((ci, us))
                print(f"T={T:5d} {bucket:8s} BM={cfg['BM']:3d} g1={_c(cfg['g1'])} g2={_c(cfg['g2'])}: {us:9.1f} us "
                      f"floor {floor:8.1f} ratio {us / floor:5.2f} ({flops / us / 1e6 / fl * 1e12:.1%} of bf16)",
                      flush=True)
            top = min(u for _, u in res)
            for ci, us in res:
                score[ci] = score.get(ci, 0) + us / top
        ci = min((c for c in score if score[c] == min(score.values())))
        cfg = CANDIDATES[bucket][ci]
        chosen[bucket] = {"BM": cfg["BM"], "g1": cfg["g1"], "g2": cfg["g2"]}
        print(f"BUCKET {bucket}: {chosen[bucket]} (sum of time / best over T={tokens}: {score[ci]:.3f})", flush=True)
    if write:
        (Path(__file__).resolve().parent / "buckets.json").write_text(json.dumps(chosen, indent=1, sort_keys=True)
                                                                       + "\n")
        print("wrote buckets.json", flush=True)


def _near(T, bucket):
    per = T * 4 / 128
    return {"decode": per <= 8, "mid": 0.5 <= per <= 128, "prefill": per >= 16}[bucket]


def _c(c):
    return (f"{c['BN']}x{c['BK']}w{c['warps']}s{c['stages']}{'S' if c.get('swap') else ''}{'A' if c.get('dq') else ''}"
            f"{'/k%d' % c['split'] if c.get('split', 1) > 1 else ''}")


def determinism(d):
    import filecmp
    import subprocess
    base = Path(d)
    for sub in ("a", "b"):
        subprocess.run([sys.executable, str(Path(__file__).resolve().parent / "aot.py"), str(base / sub)], check=True,
                       env={**os.environ, "TRITON_CACHE_DIR": str(base / (sub + ".cache"))})
    names = sorted(p.name for p in (base / "a").iterdir())
    diff = [n for n in names if not filecmp.cmp(base / "a" / n, base / "b" / n, shallow=False)]
    print(f"DETERMINISM: {len(names)} files, {len(diff)} differ {diff[:10]}", flush=True)
    return len(diff)


def prof():
    """One forward per bucket at the gpt-oss-120b shape, for ncu (no graphs)."""
    L = Layer(128, 2880, 2880, 4, scale_lo=119, scale_hi=123)
    for T in [int(t) for t in os.environ.get("PROF_T", "1,4096").split(",")]:
        x = torch.randn(T, 2880, device=DEV).bfloat16()
        logits = torch.randn(T, 128, device=DEV)
        f = Forward(L, T, aot.BUCKETS[bucket_for(T, 4, 128)])
        for _ in range(2):
            f(x, logits)
        torch.cuda.synchronize()


if __name__ == "__main__":
    cmd = sys.argv[1] if len(sys.argv) > 1 else "test"
    if cmd == "test":
        sys.exit(1 if test() else 0)
    elif cmd == "sweep":
        sweep("--write" in sys.argv)
    elif cmd == "prof":
        prof()
    elif cmd == "determinism":
        sys.exit(1 if determinism(sys.argv[2]) else 0)
