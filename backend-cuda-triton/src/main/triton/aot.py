#!/usr/bin/env python3
"""Ahead-of-time compile of the backend-cuda-triton kernels (moe_kernels.py).

Runs where Triton (3.6) and ptxas are installed; no GPU is needed to compile, one is needed only by
check.py. For every kernel variant (kernel x token-count bucket x specialization) and every target
(sm_90a, sm_80) it writes

    <out>/<variant>.<arch>.cubin   machine code loaded with cuModuleLoadData
    <out>/<variant>.<arch>.ptx     the PTX it came from
    <out>/<variant>.<arch>.json    launch metadata: entry name, every parameter in PTX order (Triton's
                                   trailing scratch pointers included, checked against the .entry
                                   signature), num_warps, shared memory, cluster dims, grid rule
    <out>/manifest.json            Triton version, SHA-256 of each source file, variants, buckets

Usage: python3 aot.py <out-dir>            (the module's artifacts live in
       src/main/resources/io/moeoracle/backend/triton/kernels)
Two runs with the same Triton version write byte-identical files (check.py --determinism checks it).
"""
import hashlib
import json
import os
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCES = ["moe_kernels.py", "aot.py", "buckets.json"]

# Token-count buckets (buckets.json, written by `check.py sweep --write` from its timings): per bucket
# the rows-of-one-expert tile BM (the alignment pads each expert's rows to it, so GEMM1 and GEMM2 share
# it) and per GEMM the N/K tile, warps, pipeline stages and whether the decoded weights are the MMA's
# left operand (swap). Which bucket a call runs is decided in Java (TritonPlan) by rows per expert.
BUCKETS = json.loads((HERE / "buckets.json").read_text())
# Scale layout after prepare: "kn" = [E, Kp/32, Np] (a tile's scales load along N), "nk" = [E, Np, Kp/32].
S_LAYOUT = "nk"
# Expert-count classes of the routing and alignment kernels (the bin count must exceed E_local).
EXPERT_CLASSES = {"e256": 256, "e1024": 1024}
KP = 8  # top-k at most 8
ROUTE_BT = {256: 8, 1024: 2}
ALIGN_RB = 64
ALIGN_TB = 64
ALIGN_WARPS = 8
ACT_BC = 1024
REDUCE_BH = 1024
CVT_B = 1024
REPACK_B = 1024
TARGETS = {"sm_90a": 90, "sm_80": 80}

ROUTE_SIG = [("logits_ptr", None), ("ids_ptr", "*i32"), ("w_ptr", "*fp32"), ("T", "i32"), ("E", "i32"),
             ("K", "i32")]
ALIGN_SIG = [("ids_ptr", "*i32"), ("n_rows", "i32"), ("e0", "i32"), ("n_local", "i32"), ("sorted_ptr", "*i32"),
             ("tile_expert_ptr", "*i32"), ("info_ptr", "*i32"), ("max_tiles", "i32")]
GEMM_SIG = [("a_ptr", "*bf16"), ("stride_a", "i32"), ("a_div", "i32"), ("KA", "i32"), ("sorted_ptr", "*i32"),
            ("tile_expert_ptr", "*i32"), ("info_ptr", "*i32"), ("info_stride", "i32"), ("q_ptr", "*u8"),
            ("s_ptr", "*u8"), ("bias_ptr", "*fp32"), ("has_bias", "i32"), ("route_w_ptr", "*fp32"),
            ("c_ptr", "*bf16"), ("stride_c", "i32"), ("N", "i32"), ("Np", "i32"), ("K", "i32"),
            ("alpha", "fp32"), ("limit", "fp32"), ("acc_scale", "fp32"), ("k_split", "i32"), ("stride_split", "i32")]
# tt.divisibility 16 (what Triton's JIT infers from the values): without it the loads and stores of a
# K-split program (offset k_lo = z * k_split) are not vectorized. Every one holds for the Java launches:
# buffers come from cuMemAlloc (256-byte aligned), H, I and their padded sizes are multiples of 32.
GEMM_DIV16 = {"a_ptr", "sorted_ptr", "tile_expert_ptr", "info_ptr", "q_ptr", "s_ptr", "bias_ptr", "c_ptr",
              "k_split", "stride_split", "stride_a", "KA",
              "stride_c", "N", "Np", "K"}
ACT_SIG = [("gu_ptr", "*bf16"), ("out_ptr", "*bf16"), ("n_rows", "i32"), ("I", "i32"), ("alpha", "fp32"),
           ("limit", "fp32")]
REDUCE_SIG = [("y_ptr", "*bf16"), ("ids_ptr", "*i32"), ("out_ptr", None), ("H", "i32"), ("K", "i32"),
              ("e0", "i32"), ("n_local", "i32")]
ACT_SPLIT_SIG = [("p_ptr", "*fp32"), ("out_ptr", "*bf16"), ("n_rows", "i32"), ("I", "i32"), ("S", "i32"),
                 ("stride_split", "i32"), ("alpha", "fp32"), ("limit", "fp32")]
REDUCE_SPLIT_SIG = [("p_ptr", "*fp32"), ("ids_ptr", "*i32"), ("out_ptr", None), ("H", "i32"), ("K", "i32"),
                    ("e0", "i32"), ("n_local", "i32"), ("S", "i32"), ("stride_split", "i32")]
CVT_SIG = [("src_ptr", "*fp32"), ("dst_ptr", "*bf16"), ("n", "i64")]
REPACK_Q_SIG = [("src_ptr", "*u8"), ("dst_ptr", "*u8"), ("N", "i32"), ("K2", "i32"), ("Np", "i32"),
                ("Kp2", "i32")]
REPACK_S_SIG = REPACK_Q_SIG[:2] + [("N", "i32"), ("KB", "i32"), ("Np", "i32"), ("KBp", "i32"), ("shift", "i32")]


def variants():
    """Every compiled variant: name, kernel, signature, constexprs, warps, stages, grid rule, divisible-by-16 args."""
    out = []

    def add(name, kernel, sig, consts, warps, stages, grid, div16=()):
        out.append({"name": name, "kernel": kernel, "sig": sig, "consts": consts, "warps": warps,
                    "stages": stages, "grid": grid, "div16": sorted(div16)})

    for cls, ep in EXPERT_CLASSES.items():
        for lt in ("bf16", "f32"):
            sig = [("logits_ptr", "*bf16" if lt == "bf16" else "*fp32")] + ROUTE_SIG[1:]
            add(f"moe_route_{lt}_{cls}", "moe_route", sig,
                {"LOGITS_BF16": 1 if lt == "bf16" else 0, "EP": ep, "KP": KP, "BT": ROUTE_BT[ep]}, 4, 1,
                ["cdiv(T, %d)" % ROUTE_BT[ep], "1", "1"])
        for b, cfg in BUCKETS.items():
            add(f"moe_align_{b}_{cls}", "moe_align", ALIGN_SIG,
                {"BM": cfg["BM"], "EP": ep, "RB": ALIGN_RB, "TB": ALIGN_TB}, ALIGN_WARPS, 1, ["1", "1", "1"])
    for b, cfg in BUCKETS.items():
        bm = cfg["BM"]
        for g, gemm2, act in (("gemm1_swiglu", 0, 1), ("gemm1_raw", 0, 0), ("gemm2", 1, 0)):
            c = cfg["g2" if gemm2 else "g1"]
            split = c.get("split", 1)
            if split > 1 and g == "gemm1_raw":
                continue
            name = g.replace("_swiglu", "") + "_split" if split > 1 else g
            sig = GEMM_SIG if split == 1 else [(n, "*fp32" if n == "c_ptr" else t) for n, t in GEMM_SIG]
            n_rule = "cdiv(H, %d)" % c["BN"] if gemm2 else "cdiv(2 * Ip, %d)" % c["BN"]
            add(f"moe_{name}_{b}", "moe_gemm", sig,
                {"GEMM2": gemm2, "ACT": 0 if split > 1 else act, "BM": bm, "BN": c["BN"], "BK": c["BK"],
                 "SWAP": c["swap"], "S_NK": 1 if S_LAYOUT == "nk" else 0, "SPLIT": split, "DQ": c.get("dq", 0)}, c["warps"], c["stages"],
                ["min(E_local, rows) + cdiv(rows, %d)" % bm, n_rule, "%d (k_split = cdiv(K / %d, %d) * %d)"
                 % (split, c["BK"], split, c["BK"]) if split > 1 else "1"], GEMM_DIV16)
    for a, code in (("swiglu", 1), ("silu", 2), ("gelu", 3)):
        add(f"moe_act_{a}", "moe_act", ACT_SIG, {"ACT": code, "BC": ACT_BC}, 4, 1,
            ["rows", "cdiv(Ip, %d)" % ACT_BC, "1"], {"gu_ptr", "out_ptr", "I"})
    for a, code in (("swiglu", 1), ("silu", 2), ("gelu", 3)):
        add(f"moe_act_split_{a}", "moe_act_split", ACT_SPLIT_SIG, {"ACT": code, "BC": ACT_BC}, 4, 1,
            ["rows", "cdiv(Ip, %d)" % ACT_BC, "1"], {"p_ptr", "out_ptr", "I", "stride_split"})
    for o in ("bf16", "f32"):
        sig = REDUCE_SPLIT_SIG[:2] + [("out_ptr", "*bf16" if o == "bf16" else "*fp32")] + REDUCE_SPLIT_SIG[3:]
        add(f"moe_reduce_split_{o}", "moe_reduce_split", sig, {"OUT_F32": 1 if o == "f32" else 0, "BH": REDUCE_BH},
            4, 1, ["T", "cdiv(H, %d)" % REDUCE_BH, "1"], {"p_ptr", "out_ptr", "H", "stride_split"})
    for o in ("bf16", "f32"):
        sig = REDUCE_SIG[:2] + [("out_ptr", "*bf16" if o == "bf16" else "*fp32")] + REDUCE_SIG[3:]
        add(f"moe_reduce_{o}", "moe_reduce", sig, {"OUT_F32": 1 if o == "f32" else 0, "BH": REDUCE_BH}, 4, 1,
            ["T", "cdiv(H, %d)" % REDUCE_BH, "1"], {"y_ptr", "out_ptr", "H"})
    add("moe_f32_to_bf16", "moe_f32_to_bf16", CVT_SIG, {"B": CVT_B}, 4, 1, ["cdiv(n, %d)" % CVT_B, "1", "1"])
    add("moe_repack_q", "moe_repack_q", REPACK_Q_SIG, {"B": REPACK_B}, 4, 1,
        ["E * Np", "cdiv(Kp2, %d)" % REPACK_B, "1"])
    add("moe_repack_s", "moe_repack_s", REPACK_S_SIG, {"BN": REPACK_B, "S_NK": 1 if S_LAYOUT == "nk" else 0}, 4, 1,
        ["E * KBp", "cdiv(Np, %d)" % REPACK_B, "1"])
    return out


def source_hashes():
    return {s: hashlib.sha256((HERE / s).read_bytes()).hexdigest() for s in SOURCES}


ENTRY = re.compile(r"\.visible\s+\.entry\s+(\w+)\s*\((.*?)\)", re.S)
PARAM = re.compile(r"\.param\s+(\.\w+)(?:\s+\.ptr\s+\.global\s+\.align\s+\d+)?\s+(\w+)")


def ptx_params(ptx, entry):
    for m in ENTRY.finditer(ptx):
        if m.group(1) == entry:
            return [(t, n) for t, n in PARAM.findall(m.group(2))]
    raise RuntimeError(f"entry {entry} not found in the PTX")


PTX_TYPE = {"i32": {".u32", ".s32", ".b32"}, "fp32": {".f32", ".b32"}, "i64": {".u64", ".s64", ".b64"}}


def compile_variant(v, arch_name, cap):
    import triton
    import triton.compiler as tc
    from triton.backends.compiler import GPUTarget
    sys.path.insert(0, str(HERE))
    import moe_kernels
    fn = getattr(moe_kernels, v["kernel"])
    names = list(fn.arg_names)
    types = dict(v["sig"])
    signature = {}
    for n in names:
        if n in v["consts"]:
            signature[n] = "constexpr"
        elif n in types:
            signature[n] = types[n]
        else:
            raise RuntimeError(f"{v['name']}: no type for argument {n}")
    attrs = {(i,): [["tt.divisibility", 16]] for i, n in enumerate(names) if n in v["div16"]}
    src = tc.ASTSource(fn=fn, signature=signature, constexprs=dict(v["consts"]), attrs=attrs)
    target = GPUTarget("cuda", cap, 32)
    backend = tc.make_backend(target)
    opts = backend.parse_options({"num_warps": v["warps"], "num_stages": v["stages"]})
    k = triton.compile(src, target=target, options=opts.__dict__)
    md = k.metadata
    gs = getattr(md, "global_scratch_size", 0) or 0
    ps = getattr(md, "profile_scratch_size", 0) or 0
    if gs or ps:
        raise RuntimeError(f"{v['name']} {arch_name}: needs global scratch {gs} / profile scratch {ps}; "
                           "the Java launcher passes null scratch pointers")
    ptx = k.asm["ptx"]
    entry = md.name
    pp = ptx_params(ptx, entry)
    args = [(n, types[n]) for n in names if n not in v["consts"]]
    if len(pp) < len(args):
        raise RuntimeError(f"{v['name']}: PTX has {len(pp)} params, the kernel {len(args)} arguments")
    params = []
    for i, (ptype, pname) in enumerate(pp):
        if i < len(args):
            n, t = args[i]
            ok = ptype in (".u64", ".b64") if t.startswith("*") else ptype in PTX_TYPE[t]
            if not ok:
                raise RuntimeError(f"{v['name']}: param {i} ({n}: {t}) is {ptype} in the PTX")
            params.append({"name": n, "type": t, "ptx": ptype})
        else:
            if ptype not in (".u64", ".b64"):
                raise RuntimeError(f"{v['name']}: trailing param {pname} is {ptype}, expected a scratch pointer")
            params.append({"name": ["global_scratch", "profile_scratch"][min(i - len(args), 1)]
                           if i - len(args) < 2 else pname, "type": "*scratch", "ptx": ptype})
    cluster = list(getattr(md, "cluster_dims", (1, 1, 1)) or (1, 1, 1))
    meta = {
        "variant": v["name"], "kernel": v["kernel"], "entry": entry, "arch": arch_name,
        "params": params, "constexprs": v["consts"], "num_warps": md.num_warps, "num_stages": v["stages"],
        "threads": md.num_warps * 32, "shared": md.shared, "num_ctas": getattr(md, "num_ctas", 1),
        "cluster_dims": cluster, "global_scratch_size": gs, "profile_scratch_size": ps, "grid": v["grid"],
    }
    return k.asm["cubin"], ptx, meta


def export(out_dir, only_arch=None):
    import triton
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    index = []
    for arch_name, cap in TARGETS.items():
        if only_arch and arch_name != only_arch:
            continue
        for v in variants():
            try:
                cubin, ptx, meta = compile_variant(v, arch_name, cap)
            except Exception as e:  # sm_80 may lack what a kernel needs: recorded, not fatal
                if arch_name == "sm_90a":
                    raise
                index.append({"variant": v["name"], "arch": arch_name, "error": str(e).splitlines()[0][:300]})
                print(f"  {v['name']} {arch_name}: not compiled: {e}", file=sys.stderr)
                continue
            stem = f"{v['name']}.{arch_name}"
            (out / f"{stem}.cubin").write_bytes(cubin)
            (out / f"{stem}.ptx").write_text(ptx)
            (out / f"{stem}.json").write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n")
            index.append({"variant": v["name"], "arch": arch_name, "entry": meta["entry"],
                          "cubin_sha256": hashlib.sha256(cubin).hexdigest()})
            print(f"  {stem}: {len(cubin)} B cubin, shared {meta['shared']}, warps {meta['num_warps']}, "
                  f"{len(meta['params'])} params", flush=True)
    manifest = {"triton_version": triton.__version__, "sources": source_hashes(), "buckets": BUCKETS,
                "expert_classes": EXPERT_CLASSES, "max_top_k": KP, "scale_layout": S_LAYOUT, "targets": list(TARGETS), "artifacts": index}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return manifest


if __name__ == "__main__":
    if len(sys.argv) < 2:
        print(__doc__)
        sys.exit(2)
    os.environ.setdefault("TRITON_CACHE_DIR", str(Path(sys.argv[1]).resolve()) + ".cache")
    export(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None)
