#!/usr/bin/env python3
"""Regenerates the corrupted-ELF corpus from base.o (clang -O2 -g -target bpf
of tests/elf/loop_maps.c). Deterministic: each case is one mutation of a
header, section, symbol, relocation or BTF field. expected.tsv pairs each
file with a substring of the error bpflua must give (test_elf checks it).

    python3 gen.py        # run in tests/bad/elf
"""
import struct

base = bytearray(open("base.o", "rb").read())
EH = "<16sHHIQQQIHHHHHH"   # Elf64_Ehdr
SH = "<IIQQQQIIQQ"         # Elf64_Shdr: name type flags addr offset size link info align entsize


def ehdr(b):
    return struct.unpack_from(EH, b, 0)


def shdrs(b):
    e = ehdr(b)
    shoff, shnum, shstrndx = e[6], e[12], e[13]
    out = []
    for i in range(shnum):
        out.append(list(struct.unpack_from(SH, b, shoff + i * 64)))
    strsec = out[shstrndx]
    names = []
    for s in out:
        o = strsec[4] + s[0]
        names.append(bytes(b[o:b.index(b"\0", o)]).decode())
    return out, names


def sec(b, name):
    out, names = shdrs(b)
    return names.index(name), out[names.index(name)]


def set_shdr_field(b, name, field, value):
    idx, _ = sec(b, name)
    off = ehdr(b)[6] + idx * 64
    fields = list(struct.unpack_from(SH, b, off))
    fields[field] = value
    struct.pack_into(SH, b, off, *fields)


def set_ehdr_field(b, field, fmt, value):
    offsets = {"class": 4, "data": 5, "type": 16, "machine": 18, "shoff": 40,
               "shentsize": 58, "shnum": 60, "shstrndx": 62}
    struct.pack_into(fmt, b, offsets[field], value)


def at(b, name, rel_off):
    return sec(b, name)[1][4] + rel_off


cases = []


def case(file, expect, fn):
    b = bytearray(base)
    r = fn(b)
    if r is not None:
        b = r
    open(file, "wb").write(b)
    cases.append((file, expect))


F_NAME, F_TYPE, F_OFFSET, F_SIZE, F_LINK, F_INFO, F_ENTSIZE = 0, 1, 4, 5, 6, 7, 9

case("empty.o", "not an ELF file", lambda b: bytearray())
case("not_elf.o", "not an ELF file", lambda b: bytearray(b"-- a Lua file, not an object\n"))
case("truncated_header.o", "truncated ELF header", lambda b: b[:40])
case("truncated_half.o", "outside the file", lambda b: b[:len(b) // 2])
case("wrong_machine.o", "wrong machine 62", lambda b: set_ehdr_field(b, "machine", "<H", 62))
case("wrong_class.o", "not a 64-bit ELF", lambda b: set_ehdr_field(b, "class", "<B", 1))
case("big_endian.o", "not a little-endian", lambda b: set_ehdr_field(b, "data", "<B", 2))
case("not_relocatable.o", "not a relocatable object", lambda b: set_ehdr_field(b, "type", "<H", 2))
case("shoff_past_end.o", "outside the file", lambda b: set_ehdr_field(b, "shoff", "<Q", 1 << 40))
case("shnum_huge.o", "outside the file", lambda b: set_ehdr_field(b, "shnum", "<H", 0xfff0))
case("bad_shstrndx.o", "bad section name table index", lambda b: set_ehdr_field(b, "shstrndx", "<H", 200))
case("bad_shentsize.o", "bad section header size", lambda b: set_ehdr_field(b, "shentsize", "<H", 40))
case("section_offset_past_end.o", "extends past the end",
     lambda b: set_shdr_field(b, "xdp", F_OFFSET, len(b) + 100))
case("section_size_huge.o", "extends past the end",
     lambda b: set_shdr_field(b, "xdp", F_SIZE, 1 << 40))
case("code_size_odd.o", "not a whole number of instructions",
     lambda b: set_shdr_field(b, "xdp", F_SIZE, 13))
case("bad_section_name.o", "bad name offset",
     lambda b: set_shdr_field(b, "xdp", F_NAME, 0xffffff))
case("rel_bad_symbol.o", "bad symbol index",
     lambda b: struct.pack_into("<Q", b, at(b, ".relxdp", 8), (9999 << 32) | 10))
case("rel_bad_offset.o", "outside the section",
     lambda b: struct.pack_into("<Q", b, at(b, ".relxdp", 0), 0x10000))
case("rel_misaligned.o", "outside the section",
     lambda b: struct.pack_into("<Q", b, at(b, ".relxdp", 0), 3))
case("rel_bad_type.o", "unsupported type 77",
     lambda b: struct.pack_into("<Q", b, at(b, ".relxdp", 8),
                                (struct.unpack_from("<Q", b, at(b, ".relxdp", 8))[0] & ~0xffffffff) | 77))
case("rel_not_on_call.o", "is not on a call or lddw",
     lambda b: struct.pack_into("<Q", b, at(b, ".relxdp", 0), 0))
case("rel_target_section.o", "targets bad section",
     lambda b: set_shdr_field(b, ".relxdp", F_INFO, 500))
case("rela.o", "RELA relocations", lambda b: set_shdr_field(b, ".relxdp", F_TYPE, 4))
case("symtab_bad_entsize.o", "malformed symbol table",
     lambda b: set_shdr_field(b, ".symtab", F_ENTSIZE, 16))
case("symtab_bad_link.o", "malformed symbol table",
     lambda b: set_shdr_field(b, ".symtab", F_LINK, 999))
case("no_symtab.o", "no symbol table", lambda b: set_shdr_field(b, ".symtab", F_TYPE, 1))


def func_outside(b):
    _, st = sec(b, ".symtab")
    strtab = shdrs(b)[0][st[F_LINK]]
    for i in range(st[F_SIZE] // 24):
        o = st[F_OFFSET] + i * 24
        name_off = struct.unpack_from("<I", b, o)[0]
        s = strtab[4] + name_off
        if bytes(b[s:b.index(b"\0", s)]) == b"count_len":
            struct.pack_into("<Q", b, o + 8, 0x100000)   # st_value


case("func_outside_section.o", "is outside section", func_outside)
case("call_outside_text.o", "jumps outside .text",
     lambda b: struct.pack_into("<i", b, at(b, "xdp", 5 * 8 + 4), 100000))
case("btf_bad_magic.o", "bad .BTF", lambda b: struct.pack_into("<H", b, at(b, ".BTF", 0), 0))
case("btf_truncated.o", "bad .BTF", lambda b: set_shdr_field(b, ".BTF", F_SIZE, 10))
case("btf_bad_str_len.o", "bad .BTF",
     lambda b: struct.pack_into("<I", b, at(b, ".BTF", 20), 0x7fffffff))
case("btf_ext_bad_magic.o", ".BTF.ext: bad magic",
     lambda b: struct.pack_into("<H", b, at(b, ".BTF.ext", 0), 0x1234))
case("btf_ext_truncated.o", ".BTF.ext truncated", lambda b: set_shdr_field(b, ".BTF.ext", F_SIZE, 4))
case("btf_ext_bad_offsets.o", "info block out of bounds",
     lambda b: struct.pack_into("<I", b, at(b, ".BTF.ext", 8), 0xfffffff0))
case("btf_ext_huge_count.o", "do not fit the section",
     lambda b: struct.pack_into("<I", b, at(b, ".BTF.ext", 32 + 8), 0xffffffff))
case("btf_ext_bad_section_name.o", "bad section name offset",
     lambda b: struct.pack_into("<I", b, at(b, ".BTF.ext", 32 + 4), 0xffffff))
case("btf_ext_bad_rec_size.o", "bad record size",
     lambda b: struct.pack_into("<I", b, at(b, ".BTF.ext", 32), 3))
case("btf_ext_without_btf.o", ".BTF.ext without .BTF",
     lambda b: set_shdr_field(b, ".BTF", F_TYPE, 8))   # SHT_NOBITS
case("maps_without_btf.o", "has no .BTF section",
     lambda b: (set_shdr_field(b, ".BTF", F_TYPE, 8), set_shdr_field(b, ".BTF.ext", F_TYPE, 8)) and None)
case("license_unterminated.o", "malformed license section",
     lambda b: b.__setitem__(slice(at(b, "license", 0), at(b, "license", 4)), b"AAAA"))

with open("expected.tsv", "w") as f:
    f.write("file\terror contains\n")
    for file, expect in cases:
        f.write(f"{file}\t{expect}\n")
print(f"{len(cases)} cases")
