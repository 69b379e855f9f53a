#!/usr/bin/env python3
"""Proves that a change to the CUDA sources kept the machine code: compares two builds' cubins function by
function (the set of ELF function symbols; per function its 128-bit SASS instruction words, register count,
shared and constant-bank sizes, relocations by symbol name and .nv.info attributes) and their PTX. Needs no
NVIDIA disassembler (identical instruction words are identical SASS). Build each side with the module's
nvcc flags plus `--keep --keep-dir DIR` (nvcc leaves the cubins and PTX it packs into the fatbin there):
  cubin_diff.py BASE_DIR NEW_DIR        exit status 0 when every cubin's functions are identical"""
import glob, hashlib, os, struct, sys


def cstr(b, o):
    return b[o:b.index(b'\0', o)].decode()


def functions(path):
    """name -> description of everything that makes up the function's machine code"""
    b = open(path, 'rb').read()
    shoff, = struct.unpack_from('<Q', b, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from('<HHH', b, 0x3A)
    secs = []
    for i in range(shnum):
        name, typ, flags, _, off, size, link, info, align, _ = struct.unpack_from('<IIQQQQIIQQ', b, shoff + i * shentsize)
        secs.append(dict(name_off=name, type=typ, flags=flags, size=size, link=link, info=info, align=align,
                         data=b[off:off + size] if typ != 8 else b''))  # 8: NOBITS
    for s in secs:
        s['name'] = cstr(b, struct.unpack_from('<Q', b, shoff + shstrndx * shentsize + 24)[0] + s['name_off'])
    symtab = next(s for s in secs if s['type'] == 2)
    strs_off = struct.unpack_from('<Q', b, shoff + symtab['link'] * shentsize + 24)[0]
    syms = []
    for i in range(symtab['size'] // 24):
        name, info, other, shndx, value, size = struct.unpack_from('<IBBHQQ', symtab['data'], i * 24)
        syms.append(dict(name=cstr(b, strs_off + name), type=info & 15, bind=info >> 4, other=other, shndx=shndx,
                         value=value, size=size))
    by_name = {s['name']: s for s in secs}
    out = {}
    for f in (s for s in syms if s['type'] == 2):  # STT_FUNC
        text = secs[f['shndx']]
        code = text['data'][f['value']:f['value'] + f['size']]
        relocs = []
        for s in secs:
            if s['type'] in (4, 9) and s['info'] == f['shndx']:  # RELA / REL against this text
                ent = 24 if s['type'] == 4 else 16
                for i in range(s['size'] // ent):
                    off, info = struct.unpack_from('<QQ', s['data'], i * ent)
                    add = struct.unpack_from('<q', s['data'], i * ent + 16)[0] if ent == 24 else 0
                    relocs.append((off, info & 0xffffffff, syms[info >> 32]['name'], add))
        n = f['name']
        out[n] = dict(bind=f['bind'], other=f['other'], regs=text['info'] >> 24, flags=text['flags'], align=text['align'],
                      shared=by_name.get('.nv.shared.' + n, {}).get('size', 0),
                      const0=by_name.get('.nv.constant0.' + n, {}).get('size', 0),
                      nvinfo=by_name.get('.nv.info.' + n, {}).get('data', b''), relocs=relocs,
                      sass=[code[i:i + 16] for i in range(0, len(code), 16)])
    return out


def main(base, new):
    ok = True
    for path in sorted(glob.glob(os.path.join(base, '**', '*.cubin'), recursive=True)):
        rel = os.path.relpath(path, base)
        a, b = functions(path), functions(os.path.join(new, rel))
        if set(a) != set(b):
            ok = False
            print(f"{rel}: function set differs: only before {sorted(set(a) - set(b))}, only after {sorted(set(b) - set(a))}")
        differ = [n for n in sorted(set(a) & set(b)) if a[n] != b[n]]
        for n in differ:
            ok = False
            first = next((i for i, (x, y) in enumerate(zip(a[n]['sass'], b[n]['sass'])) if x != y), None)
            print(f"  {rel} {n}: differs (regs {a[n]['regs']} -> {b[n]['regs']}, {len(a[n]['sass'])} -> "
                  f"{len(b[n]['sass'])} instructions, first differing instruction {first})")
        digest = hashlib.sha256(open(path, 'rb').read()).digest() == hashlib.sha256(open(os.path.join(new, rel), 'rb').read()).digest()
        print(f"{rel}: {len(a)} functions, {len(differ)} differ{'; cubin byte-identical' if digest else ''}")
    for path in sorted(glob.glob(os.path.join(base, '**', '*.ptx'), recursive=True)):
        rel = os.path.relpath(path, base)
        x, y = open(path).read().splitlines(), open(os.path.join(new, rel)).read().splitlines()
        changed = sum(1 for p, q in zip(x, y) if p != q) + abs(len(x) - len(y))
        print(f"{rel}: PTX {'identical' if changed == 0 else f'{changed} lines differ'}")
    return 0 if ok else 1


if __name__ == '__main__':
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))
