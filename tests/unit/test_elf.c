/* test_elf.c - the ELF reader and writer.
 *
 *  - round trips: objects (assembled or built by hand) -> ELF -> read back
 *    give identical instructions, maps, funcs, lines, license and source;
 *  - the written ELF has the shape libbpf expects (checked with libbpf's
 *    own bpf_object__open_mem, no kernel needed);
 *  - clang-built objects (tests/elf/NAME.c) read correctly and, once the
 *    verifier and interpreter are present, run in bpflua;
 *  - the corrupted corpus (tests/bad/elf, see gen.py) and byte mutations
 *    of good objects give "elf: ..." errors, never a crash.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "core/bpflua.h"
#include "core/insn.h"
#include "core/object.h"
#include "testutil.h"

/* ---- helpers ---------------------------------------------------------------- */

static const char *loop_asm = TU_LOOP_ASM_HEAD("seen") TU_LOOP_ASM_TAIL;

static bpflua_object *roundtrip(bpflua_object *obj)
{
    void *buf = NULL;
    size_t len = 0;
    char *err = NULL;
    int rc = bpflua_object_to_elf(obj, &buf, &len, &err);
    if (rc)
        fail_msg("to_elf: %s", err ? err : "?");
    bpflua_object *back = bpflua_object_from_elf(buf, len, "rt.o", &err);
    if (!back)
        fail_msg("from_elf: %s", err ? err : "?");
    free(buf);
    free(err);
    return back;
}

static void assert_same_maps(const bpflua_object *a, const bpflua_object *b)
{
    assert_int_equal(a->n_maps, b->n_maps);
    for (uint32_t i = 0; i < a->n_maps; i++) {
        const struct bl_map_def *x = &a->maps[i], *y = &b->maps[i];
        assert_string_equal(x->name, y->name);
        assert_int_equal(x->type, y->type);
        assert_int_equal(x->key_size, y->key_size);
        assert_int_equal(x->value_size, y->value_size);
        assert_int_equal(x->max_entries, y->max_entries);
        assert_int_equal(x->flags, y->flags);
        assert_int_equal(x->key_signed, y->key_signed);
        assert_int_equal(x->value_signed, y->value_signed);
    }
}

static void assert_same_prog(const struct bl_prog *x, const struct bl_prog *y, int check_lines)
{
    assert_string_equal(x->name, y->name);
    assert_string_equal(x->section, y->section);
    assert_int_equal(x->n_insns, y->n_insns);
    assert_memory_equal(x->insns, y->insns, x->n_insns * sizeof *x->insns);
    assert_int_equal(x->n_funcs, y->n_funcs);
    for (uint32_t f = 0; f < x->n_funcs; f++) {
        assert_int_equal(x->funcs[f].insn, y->funcs[f].insn);
        assert_string_equal(x->funcs[f].name, y->funcs[f].name);
    }
    if (!check_lines)
        return;
    assert_int_equal(x->n_lines, y->n_lines);
    for (uint32_t l = 0; l < x->n_lines; l++) {
        assert_int_equal(x->lines[l].insn, y->lines[l].insn);
        assert_int_equal(x->lines[l].line, y->lines[l].line);
        assert_int_equal(x->lines[l].col, y->lines[l].col);
    }
}

static void assert_same_object(const bpflua_object *a, const bpflua_object *b, int check_lines)
{
    assert_string_equal(a->license, b->license);
    assert_same_maps(a, b);
    assert_int_equal(a->n_progs, b->n_progs);
    for (uint32_t p = 0; p < a->n_progs; p++)
        assert_same_prog(&a->progs[p], &b->progs[p], check_lines);
}

/* The assembled loop program again, with line info and source text. */
static bpflua_object *loop_object_with_lines(void)
{
    bpflua_object *as = tu_assemble(loop_asm, "loop_prog");
    bpflua_object *obj = bpflua_object_new();
    assert_non_null(obj);
    for (uint32_t m = 0; m < as->n_maps; m++) {
        const struct bl_map_def *d = &as->maps[m];
        struct bpflua_map_spec spec = { .name = d->name, .type = d->type,
                                        .key_size = d->key_size, .value_size = d->value_size,
                                        .max_entries = d->max_entries, .flags = d->flags,
                                        .key_signed = d->key_signed,
                                        .value_signed = d->value_signed,
                                        .inner_map = d->inner_map };
        assert_true(bpflua_object_add_map(obj, &spec) >= 0);
    }
    const struct bl_prog *p = &as->progs[0];
    struct bpflua_func_info funcs[8];
    assert_true(p->n_funcs <= 8);
    for (uint32_t f = 0; f < p->n_funcs; f++)
        funcs[f] = (struct bpflua_func_info){ p->funcs[f].insn, p->funcs[f].name, NULL };
    /* a record at every function start and at a few insns in between,
     * none on the second half of an lddw */
    struct bpflua_line_info lines[16];
    size_t n = 0;
    uint32_t want[] = { 0, 3, 5, 9, 11, 18, 20 };
    for (size_t k = 0; k < sizeof want / sizeof *want; k++)
        lines[n++] = (struct bpflua_line_info){ want[k], (uint32_t)(k + 1), (uint32_t)(2 * k + 1) };
    for (uint32_t f = 1; f < p->n_funcs; f++)
        lines[n++] = (struct bpflua_line_info){ p->funcs[f].insn, 10 + f, 3 };
    assert_true(bpflua_object_add_prog(obj, p->name, "xdp", p->insns, p->n_insns, funcs,
                                       p->n_funcs, lines, n) >= 0);
    assert_int_equal(bpflua_object_set_source(obj, "loop.lua",
        "local a = 1\nlocal b = 2\n  for i = 0, 9 do\nline 4\nline 5\nline 6\nline 7\n"
        "line 8\nline 9\nline 10\nfunction body()\nfunction double()\n"), 0);
    assert_int_equal(bpflua_object_set_license(obj, "Dual MIT/GPL"), 0);
    bpflua_object_free(as);
    return obj;
}

/* The same, written as ELF: the image (the caller frees it), the object in *obj. */
static void *loop_elf_with_lines(bpflua_object **obj, size_t *len)
{
    *obj = loop_object_with_lines();
    void *buf = NULL;
    *len = 0;
    assert_int_equal(bpflua_object_to_elf(*obj, &buf, len, NULL), 0);
    return buf;
}

/* ---- round trips ---------------------------------------------------------------- */

static void test_roundtrip_asm(void **state)
{
    (void)state;
    bpflua_object *obj = tu_assemble(loop_asm, "loop_prog");
    assert_int_equal(obj->progs[0].n_funcs, 3);
    bpflua_object *back = roundtrip(obj);
    assert_same_object(obj, back, 0);
    /* callbacks and calls stay pc-relative, maps by index */
    const struct bl_prog *p = &back->progs[0];
    int saw_func = 0, saw_call = 0, saw_map = 0;
    for (uint32_t i = 0; i < p->n_insns; i++) {
        const struct bl_insn *in = &p->insns[i];
        if (bl_is_lddw(in) && in->src == BL_PSEUDO_FUNC)
            saw_func = (uint32_t)((int)i + in->imm + 1) == p->funcs[1].insn;
        if (bl_is_lddw(in) && in->src == BL_PSEUDO_MAP_FD)
            saw_map = in->imm == 0;
        if (in->code == (BL_JMP | BL_CALL) && in->src == BL_PSEUDO_CALL)
            saw_call = (uint32_t)((int)i + in->imm + 1) == p->funcs[2].insn;
    }
    assert_true(saw_func && saw_call && saw_map);
    bpflua_object_free(obj);
    bpflua_object_free(back);
}

static void test_roundtrip_lines_and_source(void **state)
{
    (void)state;
    bpflua_object *obj = loop_object_with_lines();
    bpflua_object *back = roundtrip(obj);
    assert_same_object(obj, back, 1);
    assert_string_equal(bpflua_object_source_name(back), "loop.lua");
    /* the line text travels in BTF: the source is rebuilt from it */
    size_t len = 0;
    const char *l3 = bpflua_object_source_line(back, 3, &len);
    assert_non_null(l3);
    assert_int_equal(len, strlen("  for i = 0, 9 do"));
    assert_memory_equal(l3, "  for i = 0, 9 do", len);
    const char *l12 = bpflua_object_source_line(back, 12, &len);
    assert_non_null(l12);
    assert_memory_equal(l12, "function double()", len);
    /* and disassembly interleaves it */
    char *dis = bpflua_disasm(back, 0, 1);
    assert_non_null(dis);
    assert_non_null(strstr(dis, "for i = 0, 9 do"));
    free(dis);
    /* a second round trip is byte-identical */
    void *b1 = NULL, *b2 = NULL;
    size_t n1 = 0, n2 = 0;
    assert_int_equal(bpflua_object_to_elf(back, &b1, &n1, NULL), 0);
    bpflua_object *again = bpflua_object_from_elf(b1, n1, "again.o", NULL);
    assert_non_null(again);
    assert_int_equal(bpflua_object_to_elf(again, &b2, &n2, NULL), 0);
    assert_int_equal(n1, n2);
    assert_memory_equal(b1, b2, n1);
    free(b1);
    free(b2);
    bpflua_object_free(again);
    bpflua_object_free(obj);
    bpflua_object_free(back);
}

/* Several programs, two sharing a section, with subprograms of the same
 * name in different programs and a map whose key is signed. */
static void test_roundtrip_multi_prog(void **state)
{
    (void)state;
    const char *a =
        "  lddw %r2, func:cb\n  mov %r1, 4\n  mov %r3, 0\n  mov %r4, 0\n  call 181\n"
        "  mov %r0, 2\n  exit\ncb:\n  mov %r0, 0\n  exit\n";
    const char *b = "  mov %r1, 5\n  call local cb\n  exit\ncb:\n  mov %r0, %r1\n  exit\n";
    bpflua_object *pa = tu_assemble(a, "prog_a");
    bpflua_object *pb = tu_assemble(b, "prog_b");
    bpflua_object *obj = bpflua_object_new();
    struct bpflua_map_spec spec = { .name = "signed_keys", .type = BPFLUA_MAP_HASH, .key_size = 8,
                                    .value_size = 2, .max_entries = 32, .key_signed = 1,
                                    .value_signed = 1 };
    assert_int_equal(bpflua_object_add_map(obj, &spec), 0);
    struct bpflua_map_spec odd = { .name = "odd_sizes", .type = BPFLUA_MAP_HASH, .key_size = 12,
                                   .value_size = 20, .max_entries = 8, .flags = 1 };
    assert_int_equal(bpflua_object_add_map(obj, &odd), 1);
    const char *sections[] = { "xdp", "xdp/second", "xdp" };
    bpflua_object *srcs[] = { pa, pb, pa };
    const char *names[] = { "prog_a", "prog_b", "prog_c" };
    for (int i = 0; i < 3; i++) {
        const struct bl_prog *p = &srcs[i]->progs[0];
        struct bpflua_func_info funcs[4];
        for (uint32_t f = 0; f < p->n_funcs; f++)
            funcs[f] = (struct bpflua_func_info){ p->funcs[f].insn, f ? p->funcs[f].name : names[i], NULL };
        assert_true(bpflua_object_add_prog(obj, names[i], sections[i], p->insns, p->n_insns,
                                           funcs, p->n_funcs, NULL, 0) >= 0);
    }
    bpflua_object *back = roundtrip(obj);
    assert_same_object(obj, back, 1);
    assert_string_equal(back->progs[1].funcs[1].name, "cb");
    assert_string_equal(back->progs[2].funcs[1].name, "cb");
    bpflua_object_free(back);
    bpflua_object_free(obj);
    bpflua_object_free(pa);
    bpflua_object_free(pb);
}

/* Names that are not C identifiers become ones; a call target missing
 * from funcs[] still becomes a function. */
static void test_names_and_implicit_functions(void **state)
{
    (void)state;
    struct bl_insn insns[] = {
        { BL_JMP | BL_CALL, 0, BL_PSEUDO_CALL, 0, 1 }, /* call +1 */
        { BL_JMP | BL_EXIT, 0, 0, 0, 0 },
        { BL_ALU64 | BL_MOV | BL_K, 0, 0, 0, 2 },
        { BL_JMP | BL_EXIT, 0, 0, 0, 0 },
    };
    bpflua_object *obj = bpflua_object_new();
    assert_true(bpflua_object_add_prog(obj, "my-prog.v2", "xdp", insns, 4, NULL, 0, NULL, 0) >= 0);
    bpflua_object *back = roundtrip(obj);
    assert_string_equal(back->progs[0].name, "my_prog_v2");
    assert_int_equal(back->progs[0].n_funcs, 2);
    assert_int_equal(back->progs[0].funcs[1].insn, 2);
    assert_string_equal(back->progs[0].funcs[1].name, "my_prog_v2__sub_2");
    assert_memory_equal(back->progs[0].insns, insns, sizeof insns);
    bpflua_object_free(back);
    bpflua_object_free(obj);
}

static void expect_write_error(bpflua_object *obj, const char *needle)
{
    void *buf = NULL;
    size_t len = 0;
    char *err = NULL;
    assert_true(bpflua_object_to_elf(obj, &buf, &len, &err) < 0);
    assert_null(buf);
    assert_non_null(err);
    if (!strstr(err, needle))
        fail_msg("error '%s' lacks '%s'", err, needle);
    free(err);
}

static void test_write_errors(void **state)
{
    (void)state;
    bpflua_object *empty = bpflua_object_new();
    expect_write_error(empty, "no programs");
    bpflua_object_free(empty);

    struct bl_insn self_call[] = {
        { BL_JMP | BL_CALL, 0, BL_PSEUDO_CALL, 0, -1 }, { BL_JMP | BL_EXIT, 0, 0, 0, 0 } };
    bpflua_object *o1 = bpflua_object_new();
    bpflua_object_add_prog(o1, "p", "xdp", self_call, 2, NULL, 0, NULL, 0);
    expect_write_error(o1, "outside the program");
    bpflua_object_free(o1);

    struct bl_insn cross_jump[] = {
        { BL_JMP | BL_CALL, 0, BL_PSEUDO_CALL, 0, 1 }, { BL_JMP | BL_JA, 0, 0, 1, 0 },
        { BL_JMP | BL_EXIT, 0, 0, 0, 0 }, { BL_JMP | BL_EXIT, 0, 0, 0, 0 } };
    bpflua_object *o2 = bpflua_object_new();
    bpflua_object_add_prog(o2, "p", "xdp", cross_jump, 4, NULL, 0, NULL, 0);
    expect_write_error(o2, "jumps out of function");
    bpflua_object_free(o2);

    struct bl_insn bad_map[] = {
        { BL_LD | BL_IMM | BL_DW, 1, BL_PSEUDO_MAP_FD, 0, 3 }, { 0, 0, 0, 0, 0 },
        { BL_JMP | BL_EXIT, 0, 0, 0, 0 } };
    bpflua_object *o3 = bpflua_object_new();
    bpflua_object_add_prog(o3, "p", "xdp", bad_map, 3, NULL, 0, NULL, 0);
    expect_write_error(o3, "refers to map 3");
    bpflua_object_free(o3);

    struct bl_insn cut_lddw[] = { { BL_JMP | BL_EXIT, 0, 0, 0, 0 },
                                  { BL_LD | BL_IMM | BL_DW, 1, 0, 0, 3 } };
    bpflua_object *o4 = bpflua_object_new();
    bpflua_object_add_prog(o4, "p", "xdp", cut_lddw, 2, NULL, 0, NULL, 0);
    expect_write_error(o4, "cut off");
    bpflua_object_free(o4);

    char *err = NULL;
    bpflua_object *o5 = tu_assemble("mov %r0, 2\nexit\n", "ok");
    assert_true(bpflua_object_write_elf(o5, "/nonexistent-dir/x.o", &err) < 0);
    assert_non_null(strstr(err, "/nonexistent-dir/x.o"));
    free(err);
    bpflua_object_free(o5);
}

/* ---- libbpf's view of what we write ------------------------------------------ */

/* A section of an ELF image we wrote (trusted: no bounds checks). */
static const void *find_section(const void *image, size_t len, const char *name, size_t *size)
{
    const uint8_t *b = image;
    uint64_t shoff;
    uint16_t shnum, shstrndx;
    memcpy(&shoff, b + 40, 8);
    memcpy(&shnum, b + 60, 2);
    memcpy(&shstrndx, b + 62, 2);
    uint64_t strs;
    memcpy(&strs, b + shoff + (uint64_t)shstrndx * 64 + 24, 8);
    for (uint16_t i = 1; i < shnum; i++) {
        const uint8_t *sh = b + shoff + (uint64_t)i * 64;
        uint32_t name_off;
        uint64_t off, sz;
        memcpy(&name_off, sh, 4);
        memcpy(&off, sh + 24, 8);
        memcpy(&sz, sh + 32, 8);
        if (strcmp((const char *)b + strs + name_off, name) == 0 && off + sz <= len) {
            *size = sz;
            return b + off;
        }
    }
    return NULL;
}

static void test_libbpf_parses_written_object(void **state)
{
    (void)state;
    bpflua_object *obj;
    size_t len;
    void *buf = loop_elf_with_lines(&obj, &len);

    libbpf_print_fn_t old = libbpf_set_print(NULL);
    LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = "t");
    struct bpf_object *bo = bpf_object__open_mem(buf, len, &opts);
    libbpf_set_print(old);
    assert_non_null(bo);
    struct bpf_program *bp = bpf_object__find_program_by_name(bo, "loop_prog");
    assert_non_null(bp);
    assert_int_equal(bpf_program__type(bp), BPF_PROG_TYPE_XDP);
    /* before loading, libbpf holds only the main function: subprograms are
     * in .text, to be appended when it links */
    assert_int_equal(bpf_program__insn_cnt(bp), obj->progs[0].funcs[1].insn);
    struct bpf_map *m = bpf_object__find_map_by_name(bo, "seen");
    assert_non_null(m);
    assert_int_equal(bpf_map__type(m), BPF_MAP_TYPE_HASH);
    assert_int_equal(bpf_map__key_size(m), 4);
    assert_int_equal(bpf_map__value_size(m), 8);
    assert_int_equal(bpf_map__max_entries(m), 16);
    /* BTF has a FUNC for every function */
    struct btf *btf = bpf_object__btf(bo);
    assert_non_null(btf);
    assert_true(btf__find_by_name_kind(btf, "loop_prog", BTF_KIND_FUNC) > 0);
    assert_true(btf__find_by_name_kind(btf, "body", BTF_KIND_FUNC) > 0);
    assert_true(btf__find_by_name_kind(btf, "double", BTF_KIND_FUNC) > 0);
    bpf_object__close(bo);
    /* libbpf ignores a .BTF.ext it cannot parse: parse ours explicitly */
    size_t ext_len = 0;
    const void *ext = find_section(buf, len, ".BTF.ext", &ext_len);
    assert_non_null(ext);
    struct btf_ext *be = btf_ext__new(ext, (uint32_t)ext_len);
    assert_non_null(be);
    btf_ext__free(be);
    free(buf);
    bpflua_object_free(obj);
}

/* ---- clang-built objects ------------------------------------------------------- */

#ifdef BPFLUA_ELF_OBJ_DIR
static bpflua_object *open_clang(const char *name)
{
    char path[1024];
    char *err = NULL;
    snprintf(path, sizeof path, "%s/%s", BPFLUA_ELF_OBJ_DIR, name);
    bpflua_object *obj = bpflua_object_open_elf(path, &err);
    if (!obj)
        fail_msg("%s: %s", path, err ? err : "?");
    free(err);
    return obj;
}

/* map_in_map.c: the inner map template comes from `__array(values, ...)`;
 * the program's lookups go through outer[0] in both engines */
static void test_clang_map_in_map(void **state)
{
    (void)state;
    bpflua_object *obj = open_clang("map_in_map.o");
    int outer = bpflua_map_find(obj, "outer"), counters = bpflua_map_find(obj, "counters");
    int tmpl = bpflua_map_find(obj, "outer__inner");
    assert_true(outer >= 0 && counters >= 0 && tmpl >= 0);
    struct bpflua_map_spec s;
    assert_int_equal(bpflua_map_spec(obj, (size_t)outer, &s), 0);
    assert_int_equal(s.type, BPFLUA_MAP_ARRAY_OF_MAPS);
    assert_int_equal(s.inner_map, (uint32_t)tmpl + 1);
    assert_int_equal(bpflua_map_spec(obj, (size_t)tmpl, &s), 0);
    assert_int_equal(s.type, BPFLUA_MAP_ARRAY);
    assert_int_equal(s.value_size, 8);
    assert_int_equal(s.max_entries, 4);
    const enum bpflua_engine engines[2] = {BPFLUA_ENGINE_INTERP, BPFLUA_ENGINE_JIT};
    for (int e = 0; e < 2; e++) {
        bpflua_object *o = open_clang("map_in_map.o");
        uint8_t pkt[64] = {0};
        struct bpflua_run_opts ro = {.engine = engines[e]};
        struct bpflua_run_result res;
        int rc = bpflua_run(o, 0, pkt, sizeof pkt, &ro, &res, NULL);
        if (rc == -ENOTSUP) {
            bpflua_object_free(o);
            continue;
        }
        assert_int_equal(rc, 0);
        assert_int_equal(res.retval, 1); /* XDP_DROP: outer[0] is empty */
        uint32_t k0 = 0, k1 = 1, idx = (uint32_t)counters;
        assert_int_equal(bpflua_map_update(o, (size_t)outer, &k0, &idx, 0), 0);
        assert_int_equal(bpflua_run(o, 0, pkt, sizeof pkt, &ro, &res, NULL), 0);
        assert_int_equal(res.retval, 2);
        uint64_t v = 0;
        assert_int_equal(bpflua_map_lookup(o, (size_t)counters, &k1, &v), 0);
        assert_int_equal(v, 1);
        bpflua_object_free(o);
    }
    bpflua_object_free(obj);
}

static void test_clang_loop_maps(void **state)
{
    (void)state;
    bpflua_object *obj = open_clang("loop_maps.o");
    assert_int_equal(bpflua_prog_count(obj), 1);
    const struct bl_prog *p = &obj->progs[0];
    assert_string_equal(p->name, "count_len");
    assert_string_equal(p->section, "xdp");
    assert_string_equal(obj->license, "GPL");
    /* main, then .text functions in the order first reached */
    assert_int_equal(p->n_funcs, 3);
    assert_string_equal(p->funcs[0].name, "count_len");
    assert_string_equal(p->funcs[1].name, "classify");
    assert_string_equal(p->funcs[2].name, "add_index");
    assert_int_equal(obj->n_maps, 2);
    assert_string_equal(obj->maps[0].name, "counts");
    assert_int_equal(obj->maps[0].type, BPFLUA_MAP_ARRAY);
    assert_int_equal(obj->maps[0].key_size, 4);
    assert_int_equal(obj->maps[0].value_size, 8);
    assert_int_equal(obj->maps[0].max_entries, 4);
    assert_int_equal(obj->maps[0].key_signed, 0);
    assert_string_equal(obj->maps[1].name, "seen");
    assert_int_equal(obj->maps[1].type, BPFLUA_MAP_HASH);
    assert_int_equal(obj->maps[1].key_signed, 1);
    assert_int_equal(obj->maps[1].value_signed, 1);
    /* relocations resolved the kernel's way */
    int maps = 0, funcs = 0, calls = 0;
    for (uint32_t i = 0; i < p->n_insns; i++) {
        const struct bl_insn *in = &p->insns[i];
        if (bl_is_lddw(in) && in->src == BL_PSEUDO_MAP_FD)
            maps += in->imm == 0 || in->imm == 1;
        if (bl_is_lddw(in) && in->src == BL_PSEUDO_FUNC)
            funcs += (uint32_t)((int)i + in->imm + 1) == p->funcs[2].insn;
        if (in->code == (BL_JMP | BL_CALL) && in->src == BL_PSEUDO_CALL)
            calls += (uint32_t)((int)i + in->imm + 1) == p->funcs[1].insn;
    }
    assert_int_equal(maps, 2);
    assert_int_equal(funcs, 1);
    assert_int_equal(calls, 1);
    /* line info: the C file and its lines */
    assert_true(p->n_lines > 5);
    for (uint32_t l = 1; l < p->n_lines; l++)
        assert_true(p->lines[l - 1].insn <= p->lines[l].insn);
    assert_non_null(strstr(bpflua_object_source_name(obj), "loop_maps.c"));
    size_t len = 0;
    const char *text = bpflua_object_source_line(obj, bl_prog_insn_line(p, p->funcs[2].insn + 1), &len);
    assert_non_null(text);
    assert_non_null(memmem(text, len, "c->sum += index", 15));

    uint8_t pkt[64] = {0};
    uint64_t ret;
    if (tu_interp_run(obj, "count_len", pkt, sizeof pkt, &ret)) {
        assert_int_equal(ret, 2); /* XDP_PASS: the loop summed 0..9 = 45 */
        uint32_t key = 1;
        uint64_t count = 0;
        assert_int_equal(bpflua_map_lookup(obj, 0, &key, &count), 0);
        assert_int_equal(count, 1);
        int32_t skey = -1;
        int64_t sum = 0;
        assert_int_equal(bpflua_map_lookup(obj, 1, &skey, &sum), 0);
        assert_int_equal(sum, 45);
    }
    /* and it survives our writer */
    bpflua_object *back = roundtrip(obj);
    assert_same_object(obj, back, 1);
    bpflua_object_free(back);
    bpflua_object_free(obj);
}

static void test_clang_plain(void **state)
{
    (void)state;
    bpflua_object *obj = open_clang("plain.o");
    assert_int_equal(bpflua_prog_count(obj), 1);
    assert_int_equal(obj->progs[0].n_funcs, 1);
    assert_int_equal(obj->n_maps, 0);
    uint8_t pkt[20] = {0xff};
    uint64_t ret;
    if (tu_interp_run(obj, "first_byte", pkt, sizeof pkt, &ret)) {
        assert_int_equal(ret, 1); /* XDP_DROP */
        pkt[0] = 0;
        assert_true(tu_interp_run(obj, "first_byte", pkt, sizeof pkt, &ret));
        assert_int_equal(ret, 2);
    }
    bpflua_object_free(obj);
}

static void test_clang_multi(void **state)
{
    (void)state;
    bpflua_object *obj = open_clang("multi.o");
    assert_int_equal(bpflua_prog_count(obj), 3);
    assert_string_equal(obj->license, "Dual MIT/GPL");
    assert_string_equal(bpflua_prog_section(obj, (size_t)bpflua_prog_find(obj, "prog_c")), "xdp/tx");
    const struct bl_prog *a = &obj->progs[bpflua_prog_find(obj, "prog_a")];
    assert_int_equal(a->n_funcs, 3); /* prog_a, add_one (global), twice (static) */
    assert_string_equal(a->funcs[1].name, "add_one");
    assert_string_equal(a->funcs[2].name, "twice");
    const char *progs[] = { "prog_a", "prog_b", "prog_c" };
    uint64_t want[] = { 2, 1, 3 };
    for (int i = 0; i < 3; i++) {
        uint8_t pkt[20] = {0};
        uint64_t ret;
        if (tu_interp_run(obj, progs[i], pkt, sizeof pkt, &ret))
            assert_int_equal(ret, want[i]);
    }
    bpflua_object *back = roundtrip(obj);
    assert_same_object(obj, back, 1);
    bpflua_object_free(back);
    bpflua_object_free(obj);
}
#else
static void test_clang_objects_skipped(void **state)
{
    (void)state;
    printf("# skip: no clang at build time, no clang-built objects\n");
    skip();
}
#endif

/* ---- hostile input --------------------------------------------------------------- */

static void test_bad_corpus(void **state)
{
    (void)state;
    char path[1024];
    snprintf(path, sizeof path, "%s/expected.tsv", BPFLUA_BAD_ELF_DIR);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[512];
    int cases = 0;
    assert_non_null(fgets(line, sizeof line, f)); /* header */
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        char *tab = strchr(line, '\t');
        assert_non_null(tab);
        *tab = '\0';
        const char *expect = tab + 1;
        snprintf(path, sizeof path, "%s/%s", BPFLUA_BAD_ELF_DIR, line);
        char *err = NULL;
        bpflua_object *obj = bpflua_object_open_elf(path, &err);
        if (obj)
            fail_msg("%s: read without error", line);
        assert_non_null(err);
        if (strncmp(err, "elf: ", 5) != 0 || !strstr(err, expect))
            fail_msg("%s: error '%s' lacks '%s'", line, err, expect);
        free(err);
        cases++;
    }
    fclose(f);
    assert_true(cases >= 20);
    /* the object they were made from is fine */
    snprintf(path, sizeof path, "%s/base.o", BPFLUA_BAD_ELF_DIR);
    char *err = NULL;
    bpflua_object *base = bpflua_object_open_elf(path, &err);
    if (!base)
        fail_msg("base.o: %s", err);
    bpflua_object_free(base);
}

/* Every byte of a written object's headers, tables, relocations and BTF,
 * replaced by a few values: the reader either reads the result or says
 * "elf: ...", and the sanitizers see no bad access. */
static void mutate_all(const uint8_t *good, size_t len, size_t stride)
{
    uint8_t *buf = malloc(len);
    assert_non_null(buf);
    static const uint8_t values[] = { 0x00, 0xff, 0x7f };
    for (size_t off = 0; off < len; off += stride) {
        for (size_t v = 0; v < sizeof values; v++) {
            memcpy(buf, good, len);
            if (buf[off] == values[v])
                continue;
            buf[off] = values[v];
            char *err = NULL;
            bpflua_object *obj = bpflua_object_from_elf(buf, len, "mutant.o", &err);
            if (obj) {
                bpflua_object_free(obj);
            } else {
                assert_non_null(err);
                if (strncmp(err, "elf: ", 5) != 0)
                    fail_msg("offset %zu value %u: '%s'", off, values[v], err);
            }
            free(err);
        }
    }
    /* and every truncation */
    for (size_t n = 0; n < len; n += stride) {
        char *err = NULL;
        bpflua_object *obj = bpflua_object_from_elf(good, n, "short.o", &err);
        assert_null(obj);
        assert_non_null(err);
        free(err);
    }
    free(buf);
}

static void test_mutations_of_written_object(void **state)
{
    (void)state;
    bpflua_object *obj;
    size_t len;
    void *buf = loop_elf_with_lines(&obj, &len);
    mutate_all(buf, len, 1);
    free(buf);
    bpflua_object_free(obj);
}

static void test_mutations_of_clang_object(void **state)
{
    (void)state;
    char path[1024];
    snprintf(path, sizeof path, "%s/base.o", BPFLUA_BAD_ELF_DIR);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static uint8_t buf[65536];
    size_t len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    assert_true(len > 1000);
    mutate_all(buf, len, 3);
}

static void test_open_errors(void **state)
{
    (void)state;
    char *err = NULL;
    assert_null(bpflua_object_open_elf("/nonexistent/file.o", &err));
    assert_non_null(strstr(err, "elf: /nonexistent/file.o"));
    free(err);
    err = NULL;
    assert_null(bpflua_object_open_elf("/", &err));
    assert_non_null(strstr(err, "elf: /"));
    free(err);
    err = NULL;
    assert_null(bpflua_object_from_elf(NULL, 10, "x", &err));
    assert_non_null(err);
    free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_asm),
        cmocka_unit_test(test_roundtrip_lines_and_source),
        cmocka_unit_test(test_roundtrip_multi_prog),
        cmocka_unit_test(test_names_and_implicit_functions),
        cmocka_unit_test(test_write_errors),
        cmocka_unit_test(test_libbpf_parses_written_object),
#ifdef BPFLUA_ELF_OBJ_DIR
        cmocka_unit_test(test_clang_loop_maps),
        cmocka_unit_test(test_clang_map_in_map),
        cmocka_unit_test(test_clang_plain),
        cmocka_unit_test(test_clang_multi),
#else
        cmocka_unit_test(test_clang_objects_skipped),
#endif
        cmocka_unit_test(test_bad_corpus),
        cmocka_unit_test(test_mutations_of_written_object),
        cmocka_unit_test(test_mutations_of_clang_object),
        cmocka_unit_test(test_open_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
