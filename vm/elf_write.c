/* elf_write.c - a bpflua object as a BPF ELF object, laid out as clang
 * lays one out, so libbpf, bpftool and the kernel load it:
 *
 *   program sections ("xdp", ...)  each program's main function, a global
 *                                  FUNC symbol; programs sharing a section
 *                                  name share the section (libbpf >= 1.0)
 *   .text                          every subprogram (loop callbacks, local
 *                                  functions), each a local FUNC symbol; a
 *                                  program's subprograms are its own copies
 *   .rel<section>                  R_BPF_64_32 for calls and R_BPF_64_64 for
 *                                  callback lddws, both against the .text
 *                                  section symbol (as for static functions);
 *                                  R_BPF_64_64 for map lddws against the map
 *   license, .maps, .BTF, .BTF.ext, .symtab, .strtab
 *
 * The ELF image is assembled by hand: libelf writes only to files.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "elf_internal.h"
#include "object.h"

struct out_sec {
    char name[BL_NAME_MAX];
    struct bl_insn *insns;
    uint32_t n, cap;
    Elf64_Rel *rels;
    uint32_t n_rels;
    uint32_t shndx, rel_shndx;
};

/* one function of one program, as it will be placed */
struct func_slot {
    uint32_t start, end;     /* in the program */
    const char *name;
    uint32_t sec;            /* index into writer.secs */
    uint32_t sec_insn;
};

struct writer {
    bpflua_object *obj;
    struct out_sec *secs;    /* program sections, then .text last if used */
    uint32_t n_secs;
    struct bl_placed_func *placed;
    size_t n_placed;
    char **names;            /* names given out, each after a kind letter G/L */
    size_t n_names;
    char **map_names;
    const char *license_name;
    char **err;
};

/* ---- names: C identifiers, unique across the symbol table ----------------- */

/* Globals (programs, maps) get unique names; subprograms are local
 * symbols, which may repeat like static functions of different files, so
 * every program keeps its own callbacks' names. */
static const char *unique_name(struct writer *w, const char *want, int global)
{
    char base[BL_NAME_MAX];
    size_t n = 0;
    for (const char *s = want; *s && n < BL_NAME_MAX - 8; s++)
        base[n++] = (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
                    (*s >= '0' && *s <= '9') || *s == '_' ? *s : '_';
    base[n] = '\0';
    if (n == 0 || (base[0] >= '0' && base[0] <= '9')) {
        memmove(base + 1, base, n + 1);
        base[0] = '_';
    }
    char cand[BL_NAME_MAX + 16];
    snprintf(cand, sizeof cand, "%s", base);
    for (int k = 2; global; k++) {
        int used = 0;
        for (size_t i = 0; i < w->n_names && !used; i++)
            used = w->names[i][0] == 'G' && strcmp(w->names[i] + 1, cand) == 0;
        if (!used)
            break;
        snprintf(cand, sizeof cand, "%s__%d", base, k);
    }
    char **nn = realloc(w->names, (w->n_names + 1) * sizeof *nn);
    if (!nn)
        return NULL;
    w->names = nn;
    nn[w->n_names] = bl_asprintf("%c%s", global ? 'G' : 'L', cand); /* kind, then name */
    return nn[w->n_names] ? nn[w->n_names++] + 1 : NULL;
}

/* ---- sections of code ----------------------------------------------------- */

static int section_index(struct writer *w, const char *name)
{
    for (uint32_t i = 0; i < w->n_secs; i++)
        if (strcmp(w->secs[i].name, name) == 0)
            return (int)i;
    struct out_sec *ns = realloc(w->secs, (w->n_secs + 1) * sizeof *ns);
    if (!ns)
        return -ENOMEM;
    w->secs = ns;
    memset(&ns[w->n_secs], 0, sizeof *ns);
    snprintf(ns[w->n_secs].name, BL_NAME_MAX, "%s", name);
    return (int)w->n_secs++;
}

static int sec_reserve(struct out_sec *s, uint32_t n)
{
    if (s->n + n <= s->cap)
        return 0;
    uint32_t cap = s->cap ? s->cap : 64;
    while (cap < s->n + n)
        cap *= 2;
    struct bl_insn *ni = realloc(s->insns, cap * sizeof *ni);
    if (!ni)
        return -ENOMEM;
    s->insns = ni;
    s->cap = cap;
    return 0;
}

static int add_rel(struct out_sec *s, uint32_t insn, uint32_t sym, uint32_t type)
{
    Elf64_Rel *nr = realloc(s->rels, (s->n_rels + 1) * sizeof *nr);
    if (!nr)
        return -ENOMEM;
    s->rels = nr;
    nr[s->n_rels++] = (Elf64_Rel){ (Elf64_Addr)insn * 8, ELF64_R_INFO(sym, type) };
    return 0;
}

/* ---- splitting a program into functions ------------------------------------ */

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Function starts: funcs[] plus every call and callback target (an
 * assembled program may not name them all). */
static int function_starts(struct writer *w, const struct bl_prog *p, uint32_t **out, uint32_t *n_out)
{
    uint32_t *starts = malloc((p->n_funcs + p->n_insns + 1) * sizeof *starts);
    if (!starts)
        return -ENOMEM;
    uint32_t n = 0;
    starts[n++] = 0;
    for (uint32_t i = 0; i < p->n_funcs; i++) {
        if (p->funcs[i].insn >= p->n_insns) {
            free(starts);
            bl_set_err(w->err, "elf: program '%s': function '%s' starts after the end",
                       p->name, p->funcs[i].name);
            return -EINVAL;
        }
        starts[n++] = p->funcs[i].insn;
    }
    for (uint32_t i = 0; i < p->n_insns; i++) {
        const struct bl_insn *in = &p->insns[i];
        int is_call = in->code == (BL_JMP | BL_CALL) && in->src == BL_PSEUDO_CALL;
        int is_func = bl_is_lddw(in) && in->src == BL_PSEUDO_FUNC;
        if (is_call || is_func) {
            int64_t t = (int64_t)i + in->imm + 1;
            if (t <= 0 || t >= p->n_insns) {
                free(starts);
                bl_set_err(w->err, "elf: program '%s': insn %u: %s target %lld is outside the program",
                           p->name, i, is_call ? "call" : "callback", (long long)t);
                return -EINVAL;
            }
            starts[n++] = (uint32_t)t;
        }
        if (bl_is_lddw(in))
            i++;
    }
    qsort(starts, n, sizeof *starts, cmp_u32);
    uint32_t u = 0;
    for (uint32_t i = 0; i < n; i++)
        if (u == 0 || starts[u - 1] != starts[i])
            starts[u++] = starts[i];
    *out = starts;
    *n_out = u;
    return 0;
}

static const char *func_name_at(const struct bl_prog *p, uint32_t start, char *buf, size_t cap)
{
    if (start == 0)
        return p->name;
    for (uint32_t i = 0; i < p->n_funcs; i++)
        if (p->funcs[i].insn == start && p->funcs[i].name[0])
            return p->funcs[i].name;
    snprintf(buf, cap, "%s__sub_%u", p->name, start);
    return buf;
}

static struct func_slot *slot_at(struct func_slot *slots, uint32_t n, uint32_t insn)
{
    for (uint32_t i = 0; i < n; i++)
        if (slots[i].start == insn)
            return &slots[i];
    return NULL;
}

static int jump_target(const struct bl_insn *in, uint32_t i, int64_t *t)
{
    uint8_t cls = BL_CLASS(in->code), op = BL_OP(in->code);
    if ((cls != BL_JMP && cls != BL_JMP32) || op == BL_CALL || op == BL_EXIT)
        return 0;
    int64_t delta = (cls == BL_JMP32 && op == BL_JA) ? in->imm : in->off;
    *t = (int64_t)i + delta + 1;
    return 1;
}

/* Copies function `f` of program p into its section, turning calls,
 * callbacks and map references into relocations. */
static int emit_function(struct writer *w, const struct bl_prog *p, struct func_slot *slots,
                         uint32_t n_slots, const struct func_slot *f, const uint32_t *map_syms,
                         uint32_t text_sym)
{
    struct out_sec *s = &w->secs[f->sec];
    uint32_t len = f->end - f->start;
    if (sec_reserve(s, len))
        return -ENOMEM;
    memcpy(s->insns + s->n, p->insns + f->start, len * sizeof *s->insns);
    uint32_t base = s->n;
    s->n += len;
    for (uint32_t i = f->start; i < f->end; i++) {
        struct bl_insn *out = &s->insns[base + (i - f->start)];
        const struct bl_insn *in = &p->insns[i];
        int64_t t;
        if (jump_target(in, i, &t) && (t < f->start || t >= f->end)) {
            bl_set_err(w->err, "elf: program '%s': insn %u jumps out of function '%s'",
                       p->name, i, f->name);
            return -EINVAL;
        }
        if (in->code == (BL_JMP | BL_CALL) && in->src == BL_PSEUDO_CALL) {
            const struct func_slot *g = slot_at(slots, n_slots, (uint32_t)(i + in->imm + 1));
            if (!g || g->start == 0) {
                bl_set_err(w->err, "elf: program '%s': insn %u calls the program's main function",
                           p->name, i);
                return -EINVAL;
            }
            out->imm = (int32_t)g->sec_insn - 1;
            if (add_rel(s, base + (i - f->start), text_sym, R_BPF_64_32))
                return -ENOMEM;
            continue;
        }
        if (!bl_is_lddw(in))
            continue;
        if (i + 1 >= f->end) {
            bl_set_err(w->err, "elf: program '%s': lddw at insn %u is cut off", p->name, i);
            return -EINVAL;
        }
        if (in->src == BL_PSEUDO_FUNC) {
            const struct func_slot *g = slot_at(slots, n_slots, (uint32_t)(i + in->imm + 1));
            if (!g || g->start == 0) {
                bl_set_err(w->err, "elf: program '%s': insn %u: the callback is the main function",
                           p->name, i);
                return -EINVAL;
            }
            out->imm = (int32_t)(g->sec_insn * 8);
            out[1].imm = 0;
            if (add_rel(s, base + (i - f->start), text_sym, R_BPF_64_64))
                return -ENOMEM;
        } else if (in->src == BL_PSEUDO_MAP_FD) {
            if (in->imm < 0 || (uint32_t)in->imm >= w->obj->n_maps) {
                bl_set_err(w->err, "elf: program '%s': insn %u refers to map %d of %u",
                           p->name, i, in->imm, w->obj->n_maps);
                return -EINVAL;
            }
            if (add_rel(s, base + (i - f->start), map_syms[in->imm], R_BPF_64_64))
                return -ENOMEM;
            out->src = 0; /* clang leaves src 0; libbpf sets BPF_PSEUDO_MAP_FD */
            out->imm = 0;
            out[1].imm = 0;
        } else if (in->src != 0) {
            bl_set_err(w->err, "elf: program '%s': insn %u: lddw with src %u is not supported",
                       p->name, i, in->src);
            return -EINVAL;
        }
        i++;
    }
    return 0;
}

/* ---- the ELF image -------------------------------------------------------- */

struct image {
    struct bl_strbuf data;          /* the file being built */
    Elf64_Shdr *shdrs;
    uint32_t n_shdrs;
    struct bl_strbuf strtab;        /* section and symbol names */
    Elf64_Sym *syms;
    uint32_t n_syms;
};

static uint32_t str_add(struct bl_strbuf *sb, const char *s)
{
    uint32_t off = (uint32_t)sb->len;
    bl_strbuf_append(sb, s, strlen(s) + 1);
    return off;
}

static int add_shdr(struct image *im, const char *name, uint32_t type, uint64_t flags,
                    uint64_t align, uint64_t entsize)
{
    Elf64_Shdr *ns = realloc(im->shdrs, (im->n_shdrs + 1) * sizeof *ns);
    if (!ns)
        return -ENOMEM;
    im->shdrs = ns;
    Elf64_Shdr *sh = &ns[im->n_shdrs];
    memset(sh, 0, sizeof *sh);
    sh->sh_name = name ? str_add(&im->strtab, name) : 0;
    sh->sh_type = type;
    sh->sh_flags = flags;
    sh->sh_addralign = align;
    sh->sh_entsize = entsize;
    return (int)im->n_shdrs++;
}

static int put_data(struct image *im, uint32_t shndx, const void *data, size_t len)
{
    static const char zeros[8];
    size_t pad = (8 - im->data.len % 8) % 8;
    if (pad && bl_strbuf_append(&im->data, zeros, pad))
        return -ENOMEM;
    im->shdrs[shndx].sh_offset = im->data.len;
    im->shdrs[shndx].sh_size = len;
    if (len && bl_strbuf_append(&im->data, data, len))
        return -ENOMEM;
    return 0;
}

static int add_sym(struct image *im, const char *name, unsigned bind, unsigned type,
                   uint32_t shndx, uint64_t value, uint64_t size)
{
    Elf64_Sym *ns = realloc(im->syms, (im->n_syms + 1) * sizeof *ns);
    if (!ns)
        return -ENOMEM;
    im->syms = ns;
    ns[im->n_syms] = (Elf64_Sym){
        .st_name = name ? str_add(&im->strtab, name) : 0,
        .st_info = ELF64_ST_INFO(bind, type),
        .st_shndx = (uint16_t)shndx,
        .st_value = value,
        .st_size = size,
    };
    return (int)im->n_syms++;
}

static void image_free(struct image *im)
{
    bl_strbuf_free(&im->data);
    bl_strbuf_free(&im->strtab);
    free(im->shdrs);
    free(im->syms);
}

/* ---- the whole object ------------------------------------------------------- */

static int place_program(struct writer *w, uint32_t pi, struct func_slot **slots_out,
                         uint32_t *n_out, int *text_used)
{
    const struct bl_prog *p = &w->obj->progs[pi];
    uint32_t *starts, n;
    int rc = function_starts(w, p, &starts, &n);
    if (rc)
        return rc;
    struct func_slot *slots = calloc(n, sizeof *slots);
    if (!slots) {
        free(starts);
        return -ENOMEM;
    }
    for (uint32_t k = 0; k < n && !rc; k++) {
        char buf[BL_NAME_MAX + 32];
        struct func_slot *f = &slots[k];
        f->start = starts[k];
        f->end = k + 1 < n ? starts[k + 1] : p->n_insns;
        f->name = unique_name(w, func_name_at(p, f->start, buf, sizeof buf), k == 0);
        int sec = section_index(w, k == 0 ? (p->section[0] ? p->section : "xdp") : ".text");
        if (!f->name || sec < 0) {
            rc = -ENOMEM;
            break;
        }
        if (k == 0 && strcmp(w->secs[sec].name, ".text") == 0) {
            bl_set_err(w->err, "elf: program '%s': section .text cannot hold a program", p->name);
            rc = -EINVAL;
            break;
        }
        if (k > 0)
            *text_used = 1;
        f->sec = (uint32_t)sec;
        f->sec_insn = w->secs[sec].n;
        w->secs[sec].n += f->end - f->start; /* reserve; emit_function refills n */
    }
    free(starts);
    if (rc) {
        free(slots);
        return rc;
    }
    *slots_out = slots;
    *n_out = n;
    return 0;
}

static int record_placed(struct writer *w, const struct bl_prog *p, const struct func_slot *f,
                         int is_main)
{
    struct bl_placed_func *np = realloc(w->placed, (w->n_placed + 1) * sizeof *np);
    if (!np)
        return -ENOMEM;
    w->placed = np;
    np[w->n_placed++] = (struct bl_placed_func){
        .section = w->secs[f->sec].name, .sec_insn = f->sec_insn, .n_insns = f->end - f->start,
        .name = f->name, .is_main = is_main, .prog = p, .prog_insn = f->start,
    };
    return 0;
}

static int write_image(struct writer *w, struct func_slot **slots, uint32_t *n_slots,
                       void **buf, size_t *len)
{
    bpflua_object *obj = w->obj;
    struct image im = {0};
    int rc = 0;
    str_add(&im.strtab, "");

    /* section headers, in file order */
    add_shdr(&im, NULL, SHT_NULL, 0, 0, 0);
    int strtab = add_shdr(&im, ".strtab", SHT_STRTAB, 0, 1, 0);
    for (uint32_t i = 0; i < w->n_secs; i++)
        w->secs[i].shndx = (uint32_t)add_shdr(&im, w->secs[i].name, SHT_PROGBITS,
                                              SHF_ALLOC | SHF_EXECINSTR, 8, 0);
    int license = add_shdr(&im, "license", SHT_PROGBITS, SHF_ALLOC | SHF_WRITE, 1, 0);
    int maps = obj->n_maps ? add_shdr(&im, ".maps", SHT_PROGBITS, SHF_ALLOC | SHF_WRITE, 8, 0) : 0;
    void *init_data = NULL;
    size_t init_len = 0;
    rc = bl_init_encode(obj, (const char *const *)w->map_names, &init_data, &init_len);
    int init = rc ? -ENOMEM : init_len ? add_shdr(&im, BL_INIT_SECTION, SHT_PROGBITS, 0, 1, 0) : 0;
    int btf = add_shdr(&im, ".BTF", SHT_PROGBITS, 0, 4, 0);
    int ext = add_shdr(&im, ".BTF.ext", SHT_PROGBITS, 0, 4, 0);
    int symtab = add_shdr(&im, ".symtab", SHT_SYMTAB, 0, 8, sizeof(Elf64_Sym));
    for (uint32_t i = 0; i < w->n_secs; i++) {
        char name[BL_NAME_MAX + 8];
        snprintf(name, sizeof name, ".rel%s", w->secs[i].name);
        w->secs[i].rel_shndx = (uint32_t)add_shdr(&im, name, SHT_REL, SHF_INFO_LINK, 8,
                                                  sizeof(Elf64_Rel));
    }
    if (!im.shdrs || strtab < 0 || license < 0 || maps < 0 || btf < 0 || ext < 0 || symtab < 0 ||
        init < 0) {
        image_free(&im);
        free(init_data);
        return -ENOMEM;
    }

    /* symbols: locals (section symbols, subprograms), then globals */
    add_sym(&im, NULL, STB_LOCAL, STT_NOTYPE, SHN_UNDEF, 0, 0);
    uint32_t text_sym = 0;
    for (uint32_t i = 0; i < w->n_secs; i++) {
        int sym = add_sym(&im, NULL, STB_LOCAL, STT_SECTION, w->secs[i].shndx, 0, 0);
        if (strcmp(w->secs[i].name, ".text") == 0)
            text_sym = (uint32_t)sym;
    }
    for (uint32_t pi = 0; pi < obj->n_progs; pi++)
        for (uint32_t k = 1; k < n_slots[pi]; k++) {
            const struct func_slot *f = &slots[pi][k];
            add_sym(&im, f->name, STB_LOCAL, STT_FUNC, w->secs[f->sec].shndx,
                    (uint64_t)f->sec_insn * 8, (uint64_t)(f->end - f->start) * 8);
        }
    uint32_t first_global = im.n_syms;
    for (uint32_t pi = 0; pi < obj->n_progs; pi++) {
        const struct func_slot *f = &slots[pi][0];
        add_sym(&im, f->name, STB_GLOBAL, STT_FUNC, w->secs[f->sec].shndx,
                (uint64_t)f->sec_insn * 8, (uint64_t)(f->end - f->start) * 8);
    }

    struct bl_btf_image bimg = {0};
    rc = bl_btf_build(obj, w->placed, w->n_placed, (const char *const *)w->map_names,
                      w->license_name, &bimg, w->err);
    if (rc) {
        image_free(&im);
        free(init_data);
        return rc;
    }
    uint32_t *map_syms = calloc(obj->n_maps ? obj->n_maps : 1, sizeof *map_syms);
    uint64_t maps_size = 0;
    for (uint32_t m = 0; map_syms && m < obj->n_maps; m++) {
        map_syms[m] = (uint32_t)add_sym(&im, w->map_names[m], STB_GLOBAL, STT_OBJECT,
                                        (uint32_t)maps, maps_size, bimg.map_sizes[m]);
        maps_size += bimg.map_sizes[m];
    }
    size_t lic_len = strlen(obj->license) + 1;
    add_sym(&im, w->license_name, STB_GLOBAL, STT_OBJECT, (uint32_t)license, 0, lic_len);
    if (!map_syms || !im.syms)
        rc = -ENOMEM;

    /* code, with relocations */
    for (uint32_t i = 0; i < w->n_secs; i++)
        w->secs[i].n = 0;
    for (uint32_t pi = 0; pi < obj->n_progs && !rc; pi++)
        for (uint32_t k = 0; k < n_slots[pi] && !rc; k++)
            rc = emit_function(w, &obj->progs[pi], slots[pi], n_slots[pi], &slots[pi][k],
                               map_syms, text_sym);

    /* section contents */
    Elf64_Ehdr eh;
    memset(&eh, 0, sizeof eh);
    if (!rc)
        rc = bl_strbuf_append(&im.data, (const char *)&eh, sizeof eh);
    for (uint32_t i = 0; i < w->n_secs && !rc; i++) {
        struct out_sec *s = &w->secs[i];
        rc = put_data(&im, s->shndx, s->insns, (size_t)s->n * 8);
        if (!rc)
            rc = put_data(&im, s->rel_shndx, s->rels, (size_t)s->n_rels * sizeof *s->rels);
        im.shdrs[s->rel_shndx].sh_link = (uint32_t)symtab;
        im.shdrs[s->rel_shndx].sh_info = s->shndx;
    }
    if (!rc)
        rc = put_data(&im, (uint32_t)license, obj->license, lic_len);
    if (!rc && maps) {
        void *zeros = calloc(1, maps_size ? maps_size : 1);
        rc = zeros ? put_data(&im, (uint32_t)maps, zeros, maps_size) : -ENOMEM;
        free(zeros);
    }
    if (!rc && init)
        rc = put_data(&im, (uint32_t)init, init_data, init_len);
    if (!rc)
        rc = put_data(&im, (uint32_t)btf, bimg.btf, bimg.btf_len);
    if (!rc)
        rc = put_data(&im, (uint32_t)ext, bimg.ext, bimg.ext_len);
    if (!rc) {
        im.shdrs[symtab].sh_link = (uint32_t)strtab;
        im.shdrs[symtab].sh_info = first_global;
        rc = put_data(&im, (uint32_t)symtab, im.syms, (size_t)im.n_syms * sizeof *im.syms);
    }
    if (!rc)
        rc = put_data(&im, (uint32_t)strtab, im.strtab.buf, im.strtab.len);
    /* the section header table last, then the ELF header in front */
    if (!rc)
        rc = put_data(&im, 0, NULL, 0);
    uint64_t shoff = im.data.len;
    im.shdrs[0].sh_offset = 0;
    im.shdrs[0].sh_size = 0;
    if (!rc)
        rc = bl_strbuf_append(&im.data, (const char *)im.shdrs, im.n_shdrs * sizeof *im.shdrs);
    if (!rc) {
        memcpy(eh.e_ident, ELFMAG, SELFMAG);
        eh.e_ident[EI_CLASS] = ELFCLASS64;
        eh.e_ident[EI_DATA] = ELFDATA2LSB;
        eh.e_ident[EI_VERSION] = EV_CURRENT;
        eh.e_ident[EI_OSABI] = ELFOSABI_NONE;
        eh.e_type = ET_REL;
        eh.e_machine = EM_BPF;
        eh.e_version = EV_CURRENT;
        eh.e_shoff = shoff;
        eh.e_ehsize = sizeof eh;
        eh.e_shentsize = sizeof(Elf64_Shdr);
        eh.e_shnum = (uint16_t)im.n_shdrs;
        eh.e_shstrndx = (uint16_t)strtab;
        memcpy(im.data.buf, &eh, sizeof eh);
        *buf = im.data.buf;
        *len = im.data.len;
        im.data.buf = NULL;
    }
    free(map_syms);
    free(init_data);
    bl_btf_image_free(&bimg);
    image_free(&im);
    return rc;
}

static void writer_free(struct writer *w)
{
    for (uint32_t i = 0; i < w->n_secs; i++) {
        free(w->secs[i].insns);
        free(w->secs[i].rels);
    }
    free(w->secs);
    free(w->placed);
    for (size_t i = 0; i < w->n_names; i++)
        free(w->names[i]);
    free(w->names);
    free(w->map_names);
}

int bpflua_object_to_elf(bpflua_object *obj, void **buf, size_t *len, char **err)
{
    if (!obj || !buf || !len) {
        bl_set_err(err, "elf: bad arguments");
        return -EINVAL;
    }
    if (obj->n_progs == 0) {
        bl_set_err(err, "elf: the object has no programs");
        return -EINVAL;
    }
    struct writer w = { .obj = obj, .err = err };
    struct func_slot **slots = calloc(obj->n_progs, sizeof *slots);
    uint32_t *n_slots = calloc(obj->n_progs, sizeof *n_slots);
    w.map_names = calloc(obj->n_maps ? obj->n_maps : 1, sizeof *w.map_names);
    int rc = slots && n_slots && w.map_names ? 0 : -ENOMEM;
    int text_used = 0;
    for (uint32_t m = 0; m < obj->n_maps && !rc; m++) {
        w.map_names[m] = (char *)unique_name(&w, obj->maps[m].name, 1);
        if (!w.map_names[m])
            rc = -ENOMEM;
    }
    if (!rc) {
        w.license_name = unique_name(&w, "LICENSE", 1);
        rc = w.license_name ? 0 : -ENOMEM;
    }
    /* program sections first, .text after them */
    for (uint32_t pi = 0; pi < obj->n_progs && !rc; pi++)
        if (section_index(&w, obj->progs[pi].section[0] ? obj->progs[pi].section : "xdp") < 0)
            rc = -ENOMEM;
    if (!rc && section_index(&w, ".text") < 0)
        rc = -ENOMEM;
    for (uint32_t pi = 0; pi < obj->n_progs && !rc; pi++)
        rc = place_program(&w, pi, &slots[pi], &n_slots[pi], &text_used);
    /* func_info/line_info order: program sections in order, then .text */
    for (uint32_t s = 0; s < w.n_secs && !rc; s++)
        for (uint32_t pi = 0; pi < obj->n_progs && !rc; pi++)
            for (uint32_t k = 0; k < n_slots[pi] && !rc; k++)
                if (slots[pi][k].sec == s)
                    rc = record_placed(&w, &obj->progs[pi], &slots[pi][k], k == 0);
    if (!rc && !text_used)
        w.n_secs--; /* .text is last and empty: leave it out */
    if (!rc)
        rc = write_image(&w, slots, n_slots, buf, len);
    if (rc == -ENOMEM)
        bl_set_err(err, "elf: out of memory");
    else if (rc && err && !*err)
        bl_set_err(err, "elf: %s", strerror(-rc));
    for (uint32_t pi = 0; slots && pi < obj->n_progs; pi++)
        free(slots[pi]);
    free(slots);
    free(n_slots);
    writer_free(&w);
    return rc;
}

/* The names the writer gives programs' main functions and maps (see
 * unique_name: maps first, then LICENSE, then programs in order), for the
 * kernel engine's lookups in what libbpf loaded from the written image. */
int bl_elf_written_names(const bpflua_object *obj, char ***progs, char ***maps)
{
    struct writer w = { .obj = (bpflua_object *)obj };
    char **pn = calloc(obj->n_progs ? obj->n_progs : 1, sizeof *pn);
    char **mn = calloc(obj->n_maps ? obj->n_maps : 1, sizeof *mn);
    int rc = pn && mn ? 0 : -ENOMEM;
    for (uint32_t m = 0; m < obj->n_maps && !rc; m++) {
        const char *n = unique_name(&w, obj->maps[m].name, 1);
        rc = n && (mn[m] = strdup(n)) ? 0 : -ENOMEM;
    }
    if (!rc && !unique_name(&w, "LICENSE", 1))
        rc = -ENOMEM;
    for (uint32_t pi = 0; pi < obj->n_progs && !rc; pi++) {
        const char *n = unique_name(&w, obj->progs[pi].name, 1);
        rc = n && (pn[pi] = strdup(n)) ? 0 : -ENOMEM;
    }
    writer_free(&w);
    if (rc) {
        bl_elf_names_free(pn, obj->n_progs);
        bl_elf_names_free(mn, obj->n_maps);
        return rc;
    }
    *progs = pn;
    *maps = mn;
    return 0;
}

void bl_elf_names_free(char **names, size_t n)
{
    for (size_t i = 0; names && i < n; i++)
        free(names[i]);
    free(names);
}

int bpflua_object_write_elf(bpflua_object *obj, const char *path, char **err)
{
    void *buf = NULL;
    size_t len = 0;
    int rc = bpflua_object_to_elf(obj, &buf, &len, err);
    if (rc)
        return rc;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        rc = -errno;
        bl_set_err(err, "elf: %s: %s", path, strerror(errno));
        free(buf);
        return rc;
    }
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(fd, (const char *)buf + done, len - done);
        if (n <= 0) {
            rc = n < 0 ? -errno : -EIO;
            bl_set_err(err, "elf: %s: write failed: %s", path, strerror(-rc));
            break;
        }
        done += (size_t)n;
    }
    if (close(fd) && !rc) {
        rc = -errno;
        bl_set_err(err, "elf: %s: %s", path, strerror(errno));
    }
    free(buf);
    return rc;
}
