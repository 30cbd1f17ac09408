/* elf_read.c - BPF ELF objects (clang or bpflua) into a bpflua object.
 *
 * An object file keeps each program's main function in a program section
 * ("xdp", "xdp/...", "socket", "tc", ...: every executable section but
 * .text; each global FUNC symbol there is a program) and the subprograms
 * in .text. Calls, callback addresses and map references are relocations.
 * Like libbpf, we link each program: its main function first, then every
 * .text function it reaches (transitively), in the order first reached,
 * with calls and BL_PSEUDO_FUNC lddws made pc-relative and map lddws
 * turned into src_reg 1 / imm = map index (see docs/internals.md).
 *
 * The input is untrusted. The ELF header and section table are checked
 * before libelf sees them, and every section offset, symbol index,
 * relocation offset and BTF record is checked before use.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <bpf/btf.h>

#include "elf_internal.h"
#include "object.h"

#define MAX_ELF_SIZE   (256u << 20)
#define MAX_PROG_INSNS 1000000u
#define MAX_SRC_LINES  200000u
#define KERNEL_ARRAY_OF_MAPS 12 /* enum bpf_map_type */
#define KERNEL_HASH_OF_MAPS  13

struct section {
    const char *name;
    GElf_Shdr shdr;
    const uint8_t *data;   /* NULL for SHT_NOBITS */
    size_t size;
    int is_code;           /* executable program or .text */
    struct bl_insn *insns; /* copy of the code (aligned) */
    uint32_t n_insns;
    GElf_Rel *rels;        /* relocations against this section */
    size_t n_rels;
};

struct function {
    uint32_t placed_gen;   /* == reader.gen: placed in the program being linked */
    uint32_t placed_at;    /* then: its first instruction in that program */
    size_t sym;            /* symbol index: programs keep symbol-table order */
    size_t sec;            /* section index */
    uint32_t start, len;   /* in instructions */
    const char *name;
    int global;
};

struct reader {
    Elf *elf;
    size_t n_secs;
    struct section *secs;
    size_t symtab;         /* section index, 0 if none */
    GElf_Sym *syms;
    size_t n_syms;
    size_t text;           /* .text section index, 0 if none */
    size_t maps_sec;       /* .maps section index, 0 if none */
    size_t legacy_maps;    /* "maps" section (struct bpf_map_def), 0 if none */
    struct function *funcs;
    size_t n_funcs;
    uint32_t gen;          /* one per program linked */
    struct btf *btf;
    struct bl_ext_info ext;
    uint32_t *map_offsets; /* offset of each object map in its section */
    size_t *map_secs;      /* the section each object map comes from */
    uint32_t *kconfig;     /* per symbol: 1 + its 8-byte slot in .kconfig, 0 none */
    int kconfig_map;       /* the .kconfig map's index, -1 none */
    bpflua_object *obj;
    char **err;
};

/* ---- the raw header: checked before libelf parses anything -------------- */

static int check_header(const uint8_t *buf, size_t len, char **err)
{
    Elf64_Ehdr eh;
    if (len < EI_NIDENT || memcmp(buf, ELFMAG, SELFMAG) != 0) {
        bl_set_err(err, "elf: not an ELF file");
        return -EINVAL;
    }
    if (buf[EI_CLASS] != ELFCLASS64) {
        bl_set_err(err, "elf: not a 64-bit ELF file (class %u)", buf[EI_CLASS]);
        return -EINVAL;
    }
    if (buf[EI_DATA] != ELFDATA2LSB) {
        bl_set_err(err, "elf: not a little-endian ELF file (only little-endian BPF is supported)");
        return -EINVAL;
    }
    if (len < sizeof eh) {
        bl_set_err(err, "elf: truncated ELF header (%zu bytes)", len);
        return -EINVAL;
    }
    memcpy(&eh, buf, sizeof eh);
    if (eh.e_machine != EM_BPF) {
        bl_set_err(err, "elf: wrong machine %u (expected EM_BPF, 247)", eh.e_machine);
        return -EINVAL;
    }
    if (eh.e_type != ET_REL) {
        bl_set_err(err, "elf: not a relocatable object (e_type %u)", eh.e_type);
        return -EINVAL;
    }
    if (eh.e_shentsize != sizeof(Elf64_Shdr)) {
        bl_set_err(err, "elf: bad section header size %u", eh.e_shentsize);
        return -EINVAL;
    }
    if (eh.e_shnum == 0 || eh.e_shoff > len || eh.e_shoff % 8 ||
        (len - eh.e_shoff) / sizeof(Elf64_Shdr) < eh.e_shnum) {
        bl_set_err(err, "elf: section header table (offset %llu, %u entries) outside the file",
                   (unsigned long long)eh.e_shoff, eh.e_shnum);
        return -EINVAL;
    }
    if (eh.e_shstrndx == SHN_UNDEF || eh.e_shstrndx >= eh.e_shnum) {
        bl_set_err(err, "elf: bad section name table index %u", eh.e_shstrndx);
        return -EINVAL;
    }
    return 0;
}

/* ---- sections -------------------------------------------------------------- */

static int load_sections(struct reader *r)
{
    size_t shstrndx;
    if (elf_getshdrnum(r->elf, &r->n_secs) || elf_getshdrstrndx(r->elf, &shstrndx)) {
        bl_set_err(r->err, "elf: %s", elf_errmsg(-1));
        return -EINVAL;
    }
    r->secs = calloc(r->n_secs, sizeof *r->secs);
    if (!r->secs)
        return -ENOMEM;
    for (size_t i = 1; i < r->n_secs; i++) {
        struct section *s = &r->secs[i];
        Elf_Scn *scn = elf_getscn(r->elf, i);
        if (!scn || !gelf_getshdr(scn, &s->shdr)) {
            bl_set_err(r->err, "elf: section %zu: %s", i, elf_errmsg(-1));
            return -EINVAL;
        }
        s->name = elf_strptr(r->elf, shstrndx, s->shdr.sh_name);
        if (!s->name) {
            bl_set_err(r->err, "elf: section %zu: bad name offset %u", i, s->shdr.sh_name);
            return -EINVAL;
        }
        if (s->shdr.sh_type == SHT_NOBITS || s->shdr.sh_type == SHT_NULL)
            continue;
        /* check bounds ourselves: the message names the section */
        size_t file_len = 0;
        const char *image = elf_rawfile(r->elf, &file_len);
        if (!image || s->shdr.sh_offset > file_len || s->shdr.sh_size > file_len - s->shdr.sh_offset) {
            bl_set_err(r->err, "elf: section '%s' (offset %llu, size %llu) extends past the end of the file",
                       s->name, (unsigned long long)s->shdr.sh_offset,
                       (unsigned long long)s->shdr.sh_size);
            return -EINVAL;
        }
        s->data = (const uint8_t *)image + s->shdr.sh_offset;
        s->size = s->shdr.sh_size;
    }
    return 0;
}

static int load_symbols(struct reader *r)
{
    for (size_t i = 1; i < r->n_secs; i++) {
        if (r->secs[i].shdr.sh_type != SHT_SYMTAB)
            continue;
        if (r->symtab) {
            bl_set_err(r->err, "elf: more than one symbol table");
            return -EINVAL;
        }
        r->symtab = i;
    }
    if (!r->symtab) {
        bl_set_err(r->err, "elf: no symbol table");
        return -EINVAL;
    }
    struct section *st = &r->secs[r->symtab];
    size_t strtab = st->shdr.sh_link;
    if (st->shdr.sh_entsize != sizeof(Elf64_Sym) || st->size % sizeof(Elf64_Sym) ||
        strtab == 0 || strtab >= r->n_secs || r->secs[strtab].shdr.sh_type != SHT_STRTAB) {
        bl_set_err(r->err, "elf: malformed symbol table");
        return -EINVAL;
    }
    r->n_syms = st->size / sizeof(Elf64_Sym);
    r->syms = calloc(r->n_syms ? r->n_syms : 1, sizeof *r->syms);
    if (!r->syms)
        return -ENOMEM;
    for (size_t i = 0; i < r->n_syms; i++)
        memcpy(&r->syms[i], st->data + i * sizeof(Elf64_Sym), sizeof(Elf64_Sym));
    return 0;
}

static const char *sym_name(struct reader *r, const GElf_Sym *sym)
{
    size_t strtab = r->secs[r->symtab].shdr.sh_link;
    const char *n = elf_strptr(r->elf, strtab, sym->st_name);
    return n ? n : "";
}

static int is_code_section(const struct section *s)
{
    return s->shdr.sh_type == SHT_PROGBITS && (s->shdr.sh_flags & SHF_EXECINSTR) && s->size > 0;
}

static int load_code(struct reader *r)
{
    for (size_t i = 1; i < r->n_secs; i++) {
        struct section *s = &r->secs[i];
        if (strcmp(s->name, ".text") == 0 && s->shdr.sh_type == SHT_PROGBITS)
            r->text = i;
        if (strcmp(s->name, ".maps") == 0)
            r->maps_sec = i;
        if (strcmp(s->name, "maps") == 0 && s->shdr.sh_type == SHT_PROGBITS)
            r->legacy_maps = i;
        if (!is_code_section(s))
            continue;
        if (s->size % sizeof(struct bl_insn) || s->size / 8 > MAX_PROG_INSNS) {
            bl_set_err(r->err, "elf: section '%s': size %zu is not a whole number of instructions",
                       s->name, s->size);
            return -EINVAL;
        }
        s->is_code = 1;
        s->n_insns = (uint32_t)(s->size / 8);
        s->insns = malloc(s->size);
        if (!s->insns)
            return -ENOMEM;
        memcpy(s->insns, s->data, s->size);
    }
    return 0;
}

/* Relocations are sorted by offset once loaded (lookups stay O(log n)
 * on hostile objects with many of them). */
static int cmp_rel(const void *a, const void *b)
{
    const GElf_Rel *x = a, *y = b;
    return x->r_offset < y->r_offset ? -1 : x->r_offset > y->r_offset;
}

static int load_relocations(struct reader *r)
{
    for (size_t i = 1; i < r->n_secs; i++) {
        struct section *rs = &r->secs[i];
        if (rs->shdr.sh_type == SHT_RELA && rs->shdr.sh_info < r->n_secs &&
            r->secs[rs->shdr.sh_info].is_code) {
            bl_set_err(r->err, "elf: section '%s': RELA relocations are not used by BPF", rs->name);
            return -EINVAL;
        }
        if (rs->shdr.sh_type != SHT_REL)
            continue;
        size_t target = rs->shdr.sh_info;
        if (target == 0 || target >= r->n_secs) {
            bl_set_err(r->err, "elf: relocation section '%s' targets bad section %zu",
                       rs->name, target);
            return -EINVAL;
        }
        struct section *ts = &r->secs[target];
        if (!ts->is_code && target != r->maps_sec)
            continue; /* debug info and .BTF relocations are not needed */
        if (rs->shdr.sh_link != r->symtab || rs->shdr.sh_entsize != sizeof(Elf64_Rel) ||
            rs->size % sizeof(Elf64_Rel)) {
            bl_set_err(r->err, "elf: malformed relocation section '%s'", rs->name);
            return -EINVAL;
        }
        if (ts->rels) {
            bl_set_err(r->err, "elf: section '%s' has two relocation sections", ts->name);
            return -EINVAL;
        }
        ts->n_rels = rs->size / sizeof(Elf64_Rel);
        ts->rels = calloc(ts->n_rels ? ts->n_rels : 1, sizeof *ts->rels);
        if (!ts->rels)
            return -ENOMEM;
        for (size_t k = 0; k < ts->n_rels; k++) {
            GElf_Rel *rel = &ts->rels[k];
            memcpy(rel, rs->data + k * sizeof(Elf64_Rel), sizeof(Elf64_Rel));
            uint64_t sym = GELF_R_SYM(rel->r_info), type = GELF_R_TYPE(rel->r_info);
            if (rel->r_offset % 8 || rel->r_offset >= ts->size) {
                bl_set_err(r->err, "elf: relocation %zu of '%s': offset %llu outside the section",
                           k, ts->name, (unsigned long long)rel->r_offset);
                return -EINVAL;
            }
            if (sym == 0 || sym >= r->n_syms) {
                bl_set_err(r->err, "elf: relocation %zu of '%s': bad symbol index %llu",
                           k, ts->name, (unsigned long long)sym);
                return -EINVAL;
            }
            /* 2: R_BPF_64_ABS64, a pointer in data (.maps' `values`) */
            if (type != R_BPF_64_64 && type != R_BPF_64_32 && !(type == 2 && !ts->is_code)) {
                bl_set_err(r->err, "elf: relocation %zu of '%s': unsupported type %llu",
                           k, ts->name, (unsigned long long)type);
                return -EINVAL;
            }
        }
        if (ts->n_rels > 1)
            qsort(ts->rels, ts->n_rels, sizeof *ts->rels, cmp_rel);
    }
    return 0;
}

static const GElf_Rel *find_rel(const struct section *s, uint32_t insn)
{
    GElf_Rel key = { .r_offset = (uint64_t)insn * 8 };
    return s->n_rels ? bsearch(&key, s->rels, s->n_rels, sizeof key, cmp_rel) : NULL;
}

/* ---- functions: programs and .text subprograms ----------------------------- */

static int cmp_func(const void *a, const void *b)
{
    const struct function *x = a, *y = b;
    if (x->sec != y->sec)
        return x->sec < y->sec ? -1 : 1;
    return x->start < y->start ? -1 : x->start > y->start;
}

static int add_function(struct reader *r, size_t sym, size_t sec, uint32_t start, uint32_t len,
                        const char *name, int global)
{
    struct function *nf = realloc(r->funcs, (r->n_funcs + 1) * sizeof *nf);
    if (!nf)
        return -ENOMEM;
    r->funcs = nf;
    nf[r->n_funcs++] = (struct function){ 0, 0, sym, sec, start, len, name, global };
    return 0;
}

/* Older clang (and hand-written objects) leave a program section without a
 * global function: the program is then the section's code from its first
 * instruction, named by a local function starting there or else by the
 * section (as libbpf names legacy programs). */
static int whole_section_programs(struct reader *r)
{
    size_t n_before = r->n_funcs;
    for (size_t sec = 1; sec < r->n_secs; sec++) {
        if (!r->secs[sec].is_code || sec == r->text)
            continue;
        struct function *at0 = NULL;
        uint32_t first_start = r->secs[sec].n_insns;
        int has_global = 0;
        for (size_t i = 0; i < n_before; i++) {
            struct function *f = &r->funcs[i];
            if (f->sec != sec)
                continue;
            has_global |= f->global;
            if (f->start == 0)
                at0 = f;
            if (f->start < first_start)
                first_start = f->start;
        }
        if (has_global)
            continue;
        if (at0) {
            at0->global = 1;
            continue;
        }
        int rc = add_function(r, r->n_syms + sec, sec, 0, first_start, r->secs[sec].name, 1);
        if (rc)
            return rc;
    }
    if (r->n_funcs != n_before)
        qsort(r->funcs, r->n_funcs, sizeof *r->funcs, cmp_func);
    return 0;
}

static int collect_functions(struct reader *r)
{
    for (size_t i = 1; i < r->n_syms; i++) {
        const GElf_Sym *sym = &r->syms[i];
        if (GELF_ST_TYPE(sym->st_info) != STT_FUNC)
            continue;
        if (sym->st_shndx == SHN_UNDEF) {
            bl_set_err(r->err, "elf: extern function '%s' is not supported", sym_name(r, sym));
            return -EINVAL;
        }
        if (sym->st_shndx >= r->n_secs || !r->secs[sym->st_shndx].is_code)
            continue;
        const struct section *s = &r->secs[sym->st_shndx];
        if (sym->st_value % 8 || sym->st_size % 8 || sym->st_value >= s->size ||
            sym->st_size > s->size - sym->st_value) {
            bl_set_err(r->err, "elf: function '%s' (offset %llu, size %llu) is outside section '%s'",
                       sym_name(r, sym), (unsigned long long)sym->st_value,
                       (unsigned long long)sym->st_size, s->name);
            return -EINVAL;
        }
        int global = GELF_ST_BIND(sym->st_info) != STB_LOCAL;
        int rc = add_function(r, i, sym->st_shndx, (uint32_t)(sym->st_value / 8),
                              (uint32_t)(sym->st_size / 8), sym_name(r, sym), global);
        if (rc)
            return rc;
    }
    if (r->n_funcs > 1)
        qsort(r->funcs, r->n_funcs, sizeof *r->funcs, cmp_func);
    /* a size of 0 (hand-written assembly) runs to the next function */
    for (size_t i = 0; i < r->n_funcs; i++) {
        struct function *f = &r->funcs[i];
        if (i + 1 < r->n_funcs && r->funcs[i + 1].sec == f->sec &&
            r->funcs[i + 1].start == f->start) {
            bl_set_err(r->err, "elf: functions '%s' and '%s' start at the same place",
                       f->name, r->funcs[i + 1].name);
            return -EINVAL;
        }
        if (f->len == 0) {
            uint32_t end = r->secs[f->sec].n_insns;
            if (i + 1 < r->n_funcs && r->funcs[i + 1].sec == f->sec)
                end = r->funcs[i + 1].start;
            f->len = end - f->start;
        }
    }
    return whole_section_programs(r);
}

/* The function of section sec containing insn (funcs[] is sorted by
 * section and start), or NULL. */
static struct function *func_containing(struct reader *r, size_t sec, uint32_t insn)
{
    size_t lo = 0, hi = r->n_funcs;
    struct function *best = NULL;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        struct function *f = &r->funcs[mid];
        if (f->sec < sec || (f->sec == sec && f->start <= insn)) {
            if (f->sec == sec)
                best = f;
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return best && insn < best->start + best->len ? best : NULL;
}

/* ---- maps -------------------------------------------------------------- */

/* Remembers where object map idx came from, for relocations. */
static int note_map(struct reader *r, int idx, size_t sec, uint64_t offset)
{
    /* one entry per object map: never shrink when an earlier map is noted */
    size_t n = r->obj->n_maps > (uint32_t)idx + 1 ? r->obj->n_maps : (size_t)idx + 1;
    uint32_t *no = realloc(r->map_offsets, n * sizeof *no);
    if (!no)
        return -ENOMEM;
    r->map_offsets = no;
    size_t *ns = realloc(r->map_secs, n * sizeof *ns);
    if (!ns)
        return -ENOMEM;
    r->map_secs = ns;
    no[idx] = (uint32_t)offset;
    ns[idx] = sec;
    return 0;
}

static int add_map(struct reader *r, const struct bpflua_map_spec *spec, size_t sec,
                   uint64_t offset)
{
    int idx = bpflua_object_add_map(r->obj, spec);
    if (idx < 0) {
        const char *why = bpflua_object_error(r->obj);
        bl_set_err(r->err, "elf: map '%s': %s", spec->name, *why ? why : strerror(-idx));
        return idx;
    }
    int rc = note_map(r, idx, sec, offset);
    return rc ? rc : idx;
}

static int load_btf_maps(struct reader *r)
{
    if (!r->maps_sec)
        return 0;
    for (size_t i = 1; i < r->n_syms; i++) {
        const GElf_Sym *sym = &r->syms[i];
        if (sym->st_shndx != r->maps_sec || GELF_ST_TYPE(sym->st_info) == STT_SECTION)
            continue;
        struct bl_map_def def;
        memset(&def, 0, sizeof def);
        const char *name = sym_name(r, sym);
        if (!name[0] || strlen(name) >= BL_NAME_MAX) {
            bl_set_err(r->err, "elf: map symbol %zu has a bad name", i);
            return -EINVAL;
        }
        snprintf(def.name, sizeof def.name, "%s", name);
        if (sym->st_value > UINT32_MAX || sym->st_value >= r->secs[r->maps_sec].shdr.sh_size) {
            bl_set_err(r->err, "elf: map '%s' is outside .maps", name);
            return -EINVAL;
        }
        struct bl_map_def inner;
        int rc = bl_btf_map_def(r->btf, (uint32_t)sym->st_value, &def, &inner, r->err);
        if (!rc)
            rc = bl_btf_map_records(r->btf, r->obj, &def, r->err);
        if (rc)
            return rc;
        /* a map of maps holds map fds, a prog_array program fds: libbpf
         * sets 4-byte values itself (`__array(values, ...)` gives no size) */
        if ((def.type == BPFLUA_MAP_ARRAY_OF_MAPS || def.type == BPFLUA_MAP_HASH_OF_MAPS ||
             def.type == BPFLUA_MAP_PROG_ARRAY) && !def.value_size)
            def.value_size = 4;
        struct bpflua_map_spec spec = {
            .name = def.name, .type = def.type, .key_size = def.key_size,
            .value_size = def.value_size, .max_entries = def.max_entries, .flags = def.flags,
            .key_signed = def.key_signed, .value_signed = def.value_signed,
            .key_record = def.key_record, .value_record = def.value_record,
            .event_type = def.event_type,
        };
        if ((def.type == BPFLUA_MAP_ARRAY_OF_MAPS || def.type == BPFLUA_MAP_HASH_OF_MAPS) &&
            inner.type) {
            /* the template goes in first, as a map of its own that no
             * symbol names; the map of maps refers to it. A writer (bpflua's
             * own) may also have written the template as a map of its own:
             * one map either way */
            struct bpflua_map_spec ts = {
                .name = inner.name, .type = inner.type, .key_size = inner.key_size,
                .value_size = inner.value_size, .max_entries = inner.max_entries,
                .flags = inner.flags, .key_signed = inner.key_signed,
                .value_signed = inner.value_signed,
            };
            int ti = bpflua_map_find(r->obj, inner.name);
            if (ti < 0) {
                ti = add_map(r, &ts, r->maps_sec, UINT32_MAX); /* no symbol (yet) */
                if (ti < 0)
                    return ti;
            }
            spec.inner_map = (uint32_t)ti + 1;
        }
        /* the map a map of maps' `values` already brought in as its template */
        int idx = bpflua_map_find(r->obj, def.name);
        if (idx >= 0 && r->map_secs[idx] == r->maps_sec && r->map_offsets[idx] == UINT32_MAX)
            rc = note_map(r, idx, r->maps_sec, sym->st_value);
        else
            rc = add_map(r, &spec, r->maps_sec, sym->st_value);
        if (rc < 0)
            return rc;
        if (idx < 0)
            r->obj->maps[rc].spin_lock_off = def.spin_lock_off;
    }
    return 0;
}

/* `.values = { [i] = &inner }` of a map of maps and `{ [i] = &prog }` of
 * a prog_array (libbpf's initial slots): relocations in .maps at the
 * `values` member, slot i at 8 * i; they become the maps' initial entries
 * (key i, value the map's or program's index). Programs are read by now. */
static int load_map_values(struct reader *r)
{
    if (!r->maps_sec || !r->secs[r->maps_sec].n_rels)
        return 0;
    const struct section *ms = &r->secs[r->maps_sec];
    for (uint32_t m = 0; m < r->obj->n_maps; m++) {
        const struct bl_map_def *d = &r->obj->maps[m];
        int progs = d->type == BPFLUA_MAP_PROG_ARRAY;
        if ((!progs && !d->inner_map) || r->map_secs[m] != r->maps_sec ||
            r->map_offsets[m] == UINT32_MAX || d->key_size != 4 || d->value_size != 4)
            continue;
        uint32_t voff;
        if (bl_btf_map_values_off(r->btf, d->name, &voff) < 0)
            continue;
        uint64_t lo = (uint64_t)r->map_offsets[m] + voff, hi = lo + 8ull * d->max_entries;
        for (size_t k = 0; k < ms->n_rels; k++) {
            const GElf_Rel *rel = &ms->rels[k];
            if (rel->r_offset < lo || rel->r_offset >= hi)
                continue;
            uint32_t slot = (uint32_t)((rel->r_offset - lo) / 8);
            const GElf_Sym *sym = &r->syms[GELF_R_SYM(rel->r_info)];
            int target = -1;
            if (progs)
                target = bpflua_prog_find(r->obj, sym_name(r, sym));
            else if (sym->st_shndx == r->maps_sec)
                for (uint32_t j = 0; j < r->obj->n_maps && target < 0; j++)
                    if (r->map_secs[j] == r->maps_sec && r->map_offsets[j] == sym->st_value)
                        target = (int)j;
            if (target < 0) {
                bl_set_err(r->err, "elf: map '%s': slot %u names '%s', not a %s of the object",
                           d->name, slot, sym_name(r, sym), progs ? "program" : "map");
                return -EINVAL;
            }
            uint32_t v = (uint32_t)target;
            int rc = bpflua_map_add_init(r->obj, m, &slot, &v);
            if (rc < 0) {
                bl_set_err(r->err, "elf: map '%s': cannot hold initial slot %u: %s", d->name, slot,
                           strerror(-rc));
                return rc;
            }
        }
    }
    return 0;
}

static int cmp_sym_value(const void *a, const void *b)
{
    const GElf_Sym *x = *(const GElf_Sym *const *)a, *y = *(const GElf_Sym *const *)b;
    return x->st_value < y->st_value ? -1 : x->st_value > y->st_value;
}

/* The legacy "maps" section: one struct bpf_map_def per symbol, all the
 * same size (section size / symbols, as libbpf reads it), at least the
 * first four u32 fields (type, key_size, value_size, max_entries), then
 * map_flags, inner_map_idx, numa_node and whatever a loader added. */
static int load_legacy_maps(struct reader *r)
{
    if (!r->legacy_maps)
        return 0;
    const struct section *s = &r->secs[r->legacy_maps];
    size_t n = 0;
    for (size_t i = 1; i < r->n_syms; i++)
        if (r->syms[i].st_shndx == r->legacy_maps &&
            GELF_ST_TYPE(r->syms[i].st_info) != STT_SECTION)
            n++;
    if (n == 0)
        return 0;
    if (!s->data || s->size % n || s->size / n < 16) {
        bl_set_err(r->err, "elf: legacy 'maps' section of %zu bytes does not hold %zu map "
                   "definitions of one size", s->size, n);
        return -EINVAL;
    }
    size_t def_size = s->size / n;
    const GElf_Sym **order = malloc(n * sizeof *order);
    if (!order)
        return -ENOMEM;
    size_t k = 0;
    for (size_t i = 1; i < r->n_syms; i++)
        if (r->syms[i].st_shndx == r->legacy_maps &&
            GELF_ST_TYPE(r->syms[i].st_info) != STT_SECTION)
            order[k++] = &r->syms[i];
    qsort(order, n, sizeof *order, cmp_sym_value);
    int first = (int)r->obj->n_maps, rc = 0;
    for (k = 0; k < n && rc >= 0; k++) {
        const GElf_Sym *sym = order[k];
        const char *name = sym_name(r, sym);
        if (sym->st_value % def_size || sym->st_value / def_size != k) {
            bl_set_err(r->err, "elf: legacy map '%s' at offset %llu is not definition %zu of %zu "
                       "bytes", name, (unsigned long long)sym->st_value, k, def_size);
            rc = -EINVAL;
            break;
        }
        if (!name[0] || strlen(name) >= BL_NAME_MAX) {
            bl_set_err(r->err, "elf: legacy map symbol at offset %llu has a bad name",
                       (unsigned long long)sym->st_value);
            rc = -EINVAL;
            break;
        }
        uint32_t f[9] = { 0 };
        memcpy(f, s->data + sym->st_value, def_size < sizeof f ? def_size : sizeof f);
        struct bpflua_map_spec spec = {
            .name = name, .type = f[0], .key_size = f[1], .value_size = f[2],
            .max_entries = f[3], .flags = f[4],
        };
        /* iproute2's struct bpf_elf_map (Cilium, tc samples): type, size_key,
         * size_value, max_elem, flags, id, pinning, inner_id, inner_idx; its
         * map of maps names its template by id (inner_id == the template's
         * id). Else (samples/bpf's struct bpf_map_def) inner_map_idx counts
         * definitions in this section; in other maps field 5 means nothing
         * here (an iproute2 id, a pin name's number) */
        uint32_t of_maps = f[0] == KERNEL_ARRAY_OF_MAPS || f[0] == KERNEL_HASH_OF_MAPS;
        if (of_maps && def_size >= 36 && f[7]) {
            size_t t = 0;
            uint32_t g[9];
            for (t = 0; t < k; t++) {
                memset(g, 0, sizeof g);
                memcpy(g, s->data + order[t]->st_value, sizeof g);
                if (g[5] == f[7])
                    break;
            }
            if (t == k) {
                bl_set_err(r->err, "elf: legacy map '%s': inner_id %u names no earlier map's id",
                           name, f[7]);
                rc = -EINVAL;
                break;
            }
            spec.inner_map = (uint32_t)first + (uint32_t)t + 1;
        } else if (def_size >= 24 && of_maps) {
            if (f[5] >= k) {
                bl_set_err(r->err, "elf: legacy map '%s': inner map index %u is not an "
                           "earlier definition", name, f[5]);
                rc = -EINVAL;
                break;
            }
            spec.inner_map = (uint32_t)first + f[5] + 1;
        }
        rc = add_map(r, &spec, r->legacy_maps, sym->st_value);
    }
    free(order);
    return rc < 0 ? rc : 0;
}

/* Global data as libbpf maps it: each .rodata*, .data* and .bss* section
 * is an array of one element holding the section's bytes; .rodata* is
 * read-only for programs (libbpf freezes it). */
static int is_data_section(const struct section *s, int *rdonly)
{
    static const char *const prefixes[] = { ".rodata", ".data", ".bss" };
    if (s->is_code || s->shdr.sh_size == 0 || s->shdr.sh_size > (1u << 28) ||
        (s->shdr.sh_type != SHT_PROGBITS && s->shdr.sh_type != SHT_NOBITS) ||
        !(s->shdr.sh_flags & SHF_ALLOC))
        return 0;
    for (size_t i = 0; i < 3; i++) {
        size_t n = strlen(prefixes[i]);
        if (strncmp(s->name, prefixes[i], n) == 0 && (s->name[n] == '\0' || s->name[n] == '.')) {
            *rdonly = i == 0;
            return 1;
        }
    }
    return 0;
}

static int load_data_maps(struct reader *r)
{
    for (size_t i = 1; i < r->n_secs; i++) {
        const struct section *s = &r->secs[i];
        int rdonly;
        if (!is_data_section(s, &rdonly))
            continue;
        if (strlen(s->name) >= BL_NAME_MAX) {
            bl_set_err(r->err, "elf: data section name '%.40s...' is too long", s->name);
            return -EINVAL;
        }
        struct bpflua_map_spec spec = {
            .name = s->name, .type = BPFLUA_MAP_ARRAY, .key_size = 4,
            .value_size = (uint32_t)s->shdr.sh_size, .max_entries = 1,
            .init = s->shdr.sh_type == SHT_NOBITS ? NULL : s->data,
            .init_len = s->shdr.sh_type == SHT_NOBITS || !s->data ? 0 : (uint32_t)s->size,
            /* (PROGBITS: load_sections checked size == sh_size within the file) */
            .rdonly_prog = rdonly,
        };
        int rc = add_map(r, &spec, i, 0);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* libbpf's __kconfig externs (LINUX_KERNEL_VERSION, CONFIG_*): a
 * read-only map ".kconfig" of one element, 8 bytes per extern, holding
 * what libbpf would put there for this machine: the running kernel's
 * version, LINUX_HAS_SYSCALL_WRAPPER and LINUX_HAS_BPF_COOKIE 1 (x86-64,
 * 6.x), every CONFIG_* 0 (as libbpf gives a __weak one it cannot find).
 * Other externs (.ksyms, functions) stay unsupported. */
static int is_kconfig_extern(struct reader *r, const GElf_Sym *sym)
{
    int type = GELF_ST_TYPE(sym->st_info);
    const char *name = sym_name(r, sym);
    return sym->st_shndx == SHN_UNDEF && (type == STT_OBJECT || type == STT_NOTYPE) &&
           GELF_ST_BIND(sym->st_info) != STB_LOCAL &&
           (strncmp(name, "CONFIG_", 7) == 0 || strncmp(name, "LINUX_", 6) == 0);
}

static uint64_t kconfig_value(const char *name)
{
    if (strcmp(name, "LINUX_HAS_SYSCALL_WRAPPER") == 0 || strcmp(name, "LINUX_HAS_BPF_COOKIE") == 0)
        return 1;
    if (strcmp(name, "LINUX_KERNEL_VERSION") != 0)
        return 0;
    struct utsname u;
    unsigned a = 0, b = 0, c = 0;
    if (uname(&u) == 0)
        sscanf(u.release, "%u.%u.%u", &a, &b, &c);
    return ((uint64_t)a << 16) + ((uint64_t)b << 8) + (c > 255 ? 255 : c);
}

static int load_kconfig(struct reader *r)
{
    uint32_t n = 0;
    r->kconfig_map = -1;
    for (size_t i = 1; i < r->n_syms; i++)
        n += is_kconfig_extern(r, &r->syms[i]);
    if (!n)
        return 0;
    r->kconfig = calloc(r->n_syms, sizeof *r->kconfig);
    uint8_t *bytes = calloc(n, 8);
    if (!r->kconfig || !bytes) {
        free(bytes);
        return -ENOMEM;
    }
    uint32_t slot = 0;
    for (size_t i = 1; i < r->n_syms; i++) {
        if (!is_kconfig_extern(r, &r->syms[i]))
            continue;
        uint64_t v = kconfig_value(sym_name(r, &r->syms[i]));
        memcpy(bytes + 8 * slot, &v, 8);
        r->kconfig[i] = ++slot;
    }
    struct bpflua_map_spec spec = {
        .name = ".kconfig", .type = BPFLUA_MAP_ARRAY, .key_size = 4, .value_size = 8 * n,
        .max_entries = 1, .init = bytes, .init_len = 8 * n, .rdonly_prog = 1,
    };
    int rc = add_map(r, &spec, 0, 0);
    free(bytes);
    if (rc < 0)
        return rc;
    r->kconfig_map = rc;
    return 0;
}

static int load_maps(struct reader *r)
{
    int rc = load_btf_maps(r);
    if (!rc)
        rc = load_legacy_maps(r);
    if (!rc)
        rc = load_data_maps(r);
    if (!rc)
        rc = load_kconfig(r);
    return rc;
}

/* The map defined at offset in section sec, or -1. */
static int map_index_at(struct reader *r, size_t sec, uint64_t offset)
{
    for (uint32_t i = 0; i < r->obj->n_maps; i++)
        if (r->map_secs[i] == sec && r->map_offsets[i] == offset)
            return (int)i;
    return -1;
}

/* ---- linking one program ------------------------------------------------------ */

struct link {
    struct bl_insn *insns;
    uint32_t n, cap;
    uint32_t *origin_sec, *origin_idx;   /* where each output insn came from */
    struct bpflua_func_info *funcs;
    uint32_t n_funcs;
    const struct function **placed;      /* function behind funcs[i] */
};

static int link_append(struct reader *r, struct link *l, const struct function *f)
{
    if (l->n + f->len > MAX_PROG_INSNS)
        return -E2BIG;
    if (l->n + f->len > l->cap) {
        uint32_t cap = l->cap ? l->cap : 64;
        while (cap < l->n + f->len)
            cap *= 2;
        struct bl_insn *ni = realloc(l->insns, cap * sizeof *ni);
        if (ni)
            l->insns = ni;
        uint32_t *os = realloc(l->origin_sec, cap * sizeof *os);
        if (os)
            l->origin_sec = os;
        uint32_t *oi = realloc(l->origin_idx, cap * sizeof *oi);
        if (oi)
            l->origin_idx = oi;
        if (!ni || !os || !oi)
            return -ENOMEM;
        l->cap = cap;
    }
    struct bpflua_func_info *nf = realloc(l->funcs, (l->n_funcs + 1) * sizeof *nf);
    if (nf)
        l->funcs = nf;
    const struct function **np = realloc(l->placed, (l->n_funcs + 1) * sizeof *np);
    if (np)
        l->placed = np;
    if (!nf || !np)
        return -ENOMEM;
    l->funcs[l->n_funcs] = (struct bpflua_func_info){ l->n, f->name, r->secs[f->sec].name };
    l->placed[l->n_funcs++] = f;
    memcpy(l->insns + l->n, r->secs[f->sec].insns + f->start, f->len * sizeof *l->insns);
    for (uint32_t i = 0; i < f->len; i++) {
        l->origin_sec[l->n + i] = (uint32_t)f->sec;
        l->origin_idx[l->n + i] = f->start + i;
    }
    l->n += f->len;
    return 0;
}

/* Output position of instruction `target` of section sec (.text, or the
 * program's own section for static subprograms kept there), appending its
 * function if this program does not have it yet; negative errno if it
 * starts no function. */
static int64_t func_target(struct reader *r, struct link *l, size_t sec, uint32_t target,
                           const char *prog)
{
    struct function *f = func_containing(r, sec, target);
    if (f && f->placed_gen == r->gen)
        return f->placed_at + (target - f->start);
    if (!f || f->start != target) {
        bl_set_err(r->err, "elf: program '%s': call or callback target %s+%u is not a function",
                   prog, r->secs[sec].name, target * 8);
        return -EINVAL;
    }
    uint32_t at = l->n;
    f->placed_gen = r->gen;
    f->placed_at = at;
    int rc = link_append(r, l, f);
    if (rc) {
        bl_set_err(r->err, "elf: program '%s': %s", prog,
                   rc == -E2BIG ? "too many instructions" : "out of memory");
        return rc;
    }
    return at;
}

static int relocate_insn(struct reader *r, struct link *l, uint32_t i, const char *prog)
{
    struct bl_insn *in = &l->insns[i];
    const struct section *s = &r->secs[l->origin_sec[i]];
    uint32_t orig = l->origin_idx[i];
    const GElf_Rel *rel = find_rel(s, orig);
    int is_call = in->code == (BL_JMP | BL_CALL);
    size_t call_sec = r->text;
    int is_lddw = bl_is_lddw(in);

    if (is_lddw && orig + 1 >= s->n_insns) {
        bl_set_err(r->err, "elf: program '%s': lddw at insn %u of '%s' is cut off",
                   prog, orig, s->name);
        return -EINVAL;
    }
    if (rel && !is_call && !is_lddw) {
        bl_set_err(r->err, "elf: program '%s': relocation at insn %u of '%s' is not on a call or lddw",
                   prog, orig, s->name);
        return -EINVAL;
    }
    if (is_call && in->src == BL_PSEUDO_CALL) {
        int64_t target;
        if (rel) {
            const GElf_Sym *sym = &r->syms[GELF_R_SYM(rel->r_info)];
            if (!r->text || sym->st_shndx != r->text || sym->st_value % 8) {
                bl_set_err(r->err, "elf: program '%s': call at insn %u of '%s' relocated against '%s', not a .text function",
                           prog, orig, s->name, sym_name(r, sym));
                return -EINVAL;
            }
            target = (int64_t)(sym->st_value / 8) + in->imm + 1;
            if (target < 0 || target >= r->secs[r->text].n_insns) {
                bl_set_err(r->err, "elf: program '%s': call at insn %u of '%s' jumps outside .text",
                           prog, orig, s->name);
                return -EINVAL;
            }
        } else {
            /* a call inside one section needs no relocation: pc-relative
             * already (.text, or a static function in the program's section) */
            target = (int64_t)orig + in->imm + 1;
            call_sec = l->origin_sec[i];
            if (target < 0 || target >= s->n_insns) {
                bl_set_err(r->err, "elf: program '%s': call at insn %u of '%s' has no relocation",
                           prog, orig, s->name);
                return -EINVAL;
            }
        }
        int64_t out = func_target(r, l, call_sec, (uint32_t)target, prog);
        if (out < 0)
            return (int)out;
        l->insns[i].imm = (int32_t)(out - (int64_t)i - 1);
        return 0;
    }
    if (is_call) {
        if (in->src != BL_CALL_HELPER) {
            bl_set_err(r->err, "elf: program '%s': call at insn %u of '%s': kfunc calls are not supported",
                       prog, orig, s->name);
            return -EINVAL;
        }
        if (rel) {
            bl_set_err(r->err, "elf: program '%s': helper call at insn %u of '%s' has a relocation",
                       prog, orig, s->name);
            return -EINVAL;
        }
        return 0;
    }
    if (!is_lddw || !rel) {
        if (is_lddw && in->src != 0) {
            bl_set_err(r->err, "elf: program '%s': lddw at insn %u of '%s' has src %u but no relocation",
                       prog, orig, s->name, in->src);
            return -EINVAL;
        }
        return 0;
    }
    const GElf_Sym *sym = &r->syms[GELF_R_SYM(rel->r_info)];
    if (GELF_R_TYPE(rel->r_info) != R_BPF_64_64) {
        bl_set_err(r->err, "elf: program '%s': lddw at insn %u of '%s' has relocation type %llu",
                   prog, orig, s->name, (unsigned long long)GELF_R_TYPE(rel->r_info));
        return -EINVAL;
    }
    if (r->text && sym->st_shndx == r->text) {
        /* callback address, byte offset = sym + imm; clang 14 leaves src 0 */
        int64_t off = (int64_t)sym->st_value + in->imm;
        if ((in->src != BL_PSEUDO_FUNC && in->src != 0) || off < 0 || off % 8 ||
            off / 8 >= r->secs[r->text].n_insns) {
            bl_set_err(r->err, "elf: program '%s': bad callback reference at insn %u of '%s'",
                       prog, orig, s->name);
            return -EINVAL;
        }
        int64_t out = func_target(r, l, r->text, (uint32_t)(off / 8), prog);
        if (out < 0)
            return (int)out;
        l->insns[i].src = BL_PSEUDO_FUNC;
        l->insns[i].imm = (int32_t)(out - (int64_t)i - 1);
        l->insns[i + 1].imm = 0;
        return 0;
    }
    int is_section_sym = GELF_ST_TYPE(sym->st_info) == STT_SECTION;
    if (sym->st_shndx != SHN_UNDEF && sym->st_shndx < r->n_secs &&
        ((r->maps_sec && sym->st_shndx == r->maps_sec) ||
         (r->legacy_maps && sym->st_shndx == r->legacy_maps))) {
        /* a map: its symbol, or (older clang) the section plus the offset in imm */
        uint64_t off = sym->st_value + (is_section_sym ? (uint64_t)(uint32_t)in->imm : 0);
        int map = map_index_at(r, sym->st_shndx, off);
        if (map < 0) {
            bl_set_err(r->err, "elf: program '%s': insn %u of '%s' refers to unknown map '%s'",
                       prog, orig, s->name, sym_name(r, sym));
            return -EINVAL;
        }
        l->insns[i].src = BL_PSEUDO_MAP_FD;
        l->insns[i].imm = map;
        l->insns[i + 1].imm = 0;
        return 0;
    }
    size_t sym_idx = GELF_R_SYM(rel->r_info);
    if (sym->st_shndx == SHN_UNDEF && r->kconfig && r->kconfig[sym_idx] && r->kconfig_map >= 0) {
        int64_t off = 8 * (int64_t)(r->kconfig[sym_idx] - 1) + in->imm;
        if (off < 0 || (uint64_t)off >= r->obj->maps[r->kconfig_map].value_size) {
            bl_set_err(r->err, "elf: program '%s': insn %u of '%s' points outside kconfig '%s'",
                       prog, orig, s->name, sym_name(r, sym));
            return -EINVAL;
        }
        l->insns[i].src = BL_PSEUDO_MAP_VALUE;
        l->insns[i].imm = r->kconfig_map;
        l->insns[i + 1].imm = (int32_t)off;
        return 0;
    }
    if (sym->st_shndx == SHN_UNDEF || sym->st_shndx >= r->n_secs) {
        bl_set_err(r->err, "elf: program '%s': insn %u of '%s' refers to extern '%s', which is not supported",
                   prog, orig, s->name, sym_name(r, sym));
        return -EINVAL;
    }
    int map = map_index_at(r, sym->st_shndx, 0);
    if (map >= 0 && r->map_secs[map] != r->maps_sec && r->map_secs[map] != r->legacy_maps) {
        /* global data: a pointer into the section's map value, as libbpf
         * relocates it (BPF_PSEUDO_MAP_VALUE, offset = symbol + imm) */
        int64_t off = (int64_t)sym->st_value + in->imm;
        if (off < 0 || (uint64_t)off >= r->obj->maps[map].value_size) {
            bl_set_err(r->err, "elf: program '%s': insn %u of '%s' points %lld bytes into '%s', "
                       "which has %u", prog, orig, s->name, (long long)off,
                       r->secs[sym->st_shndx].name, r->obj->maps[map].value_size);
            return -EINVAL;
        }
        l->insns[i].src = BL_PSEUDO_MAP_VALUE;
        l->insns[i].imm = map;
        l->insns[i + 1].imm = (int32_t)off;
        return 0;
    }
    bl_set_err(r->err, "elf: program '%s': insn %u of '%s' refers to '%s' in section '%s', "
               "which holds no map or global data", prog, orig, s->name, sym_name(r, sym),
               r->secs[sym->st_shndx].name);
    return -EINVAL;
}

static int cmp_line(const void *a, const void *b)
{
    const struct bpflua_line_info *x = a, *y = b;
    return x->insn < y->insn ? -1 : x->insn > y->insn;
}

/* .BTF.ext records sorted by (section, insn) once parsed, so each placed
 * function finds its own by binary search. */
static int cmp_sec_insn(const char *sa, uint32_t ia, const char *sb, uint32_t ib)
{
    int c = strcmp(sa, sb);
    return c ? c : (ia < ib ? -1 : ia > ib);
}

static int cmp_ext_line(const void *a, const void *b)
{
    const struct bl_ext_line *x = a, *y = b;
    return cmp_sec_insn(x->section, x->insn, y->section, y->insn);
}

static int cmp_ext_func(const void *a, const void *b)
{
    const struct bl_ext_func *x = a, *y = b;
    return cmp_sec_insn(x->section, x->insn, y->section, y->insn);
}

static void sort_ext(struct reader *r)
{
    if (r->ext.n_lines > 1)
        qsort(r->ext.lines, r->ext.n_lines, sizeof *r->ext.lines, cmp_ext_line);
    if (r->ext.n_funcs > 1)
        qsort(r->ext.funcs, r->ext.n_funcs, sizeof *r->ext.funcs, cmp_ext_func);
}

/* First line record at or after (sec, insn). */
static size_t ext_line_lower_bound(const struct reader *r, const char *sec, uint32_t insn)
{
    size_t lo = 0, hi = r->ext.n_lines;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct bl_ext_line *e = &r->ext.lines[mid];
        if (cmp_sec_insn(e->section, e->insn, sec, insn) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* line_info records of the placed functions, in output order. Records of
 * files other than `file` (C headers) are dropped: lines[] has no file. */
static int link_lines(struct reader *r, struct link *l, const char *file,
                      struct bpflua_line_info **out, size_t *n_out)
{
    size_t n = 0, cap = 0;
    struct bpflua_line_info *lines = NULL;
    for (uint32_t f = 0; f < l->n_funcs; f++) {
        const struct function *fn = l->placed[f];
        const char *sec = r->secs[fn->sec].name;
        for (size_t k = ext_line_lower_bound(r, sec, fn->start); k < r->ext.n_lines; k++) {
            const struct bl_ext_line *e = &r->ext.lines[k];
            if (strcmp(e->section, sec) != 0 || e->insn >= fn->start + fn->len)
                break;
            if (file && strcmp(e->file, file) != 0)
                continue;
            if (n == cap) {
                cap = cap ? cap * 2 : 64;
                struct bpflua_line_info *nl = realloc(lines, cap * sizeof *nl);
                if (!nl) {
                    free(lines);
                    return -ENOMEM;
                }
                lines = nl;
            }
            lines[n++] = (struct bpflua_line_info){ l->funcs[f].insn + (e->insn - fn->start),
                                                    e->line, e->col };
        }
    }
    if (n > 1)
        qsort(lines, n, sizeof *lines, cmp_line);
    *out = lines;
    *n_out = n;
    return 0;
}

/* Prefer BTF func_info names (bpflua writes sanitized symbol names). */
static const char *btf_func_name(struct reader *r, const struct function *f)
{
    struct bl_ext_func key = { r->secs[f->sec].name, f->start, "" };
    const struct bl_ext_func *e = r->ext.n_funcs
        ? bsearch(&key, r->ext.funcs, r->ext.n_funcs, sizeof key, cmp_ext_func) : NULL;
    return e && e->name[0] ? e->name : f->name;
}

static int link_program(struct reader *r, const struct function *main_fn, const char *file)
{
    struct link l = {0};
    const char *prog = main_fn->name;
    int rc = link_append(r, &l, main_fn);
    for (uint32_t i = 0; !rc && i < l.n; i++) {
        rc = relocate_insn(r, &l, i, prog);
        if (!rc && bl_is_lddw(&l.insns[i]))
            i++;
    }
    struct bpflua_line_info *lines = NULL;
    size_t n_lines = 0;
    if (!rc)
        rc = link_lines(r, &l, file, &lines, &n_lines);
    if (!rc) {
        for (uint32_t f = 0; f < l.n_funcs; f++)
            l.funcs[f].name = btf_func_name(r, l.placed[f]);
        if (strlen(prog) >= BL_NAME_MAX) {
            bl_set_err(r->err, "elf: program name '%s' is too long", prog);
            rc = -EINVAL;
        } else {
            int idx = bpflua_object_add_prog(r->obj, prog, r->secs[main_fn->sec].name, l.insns,
                                             l.n, l.funcs, l.n_funcs, lines, n_lines);
            if (idx < 0) {
                bl_set_err(r->err, "elf: program '%s': %s", prog, strerror(-idx));
                rc = idx;
            }
        }
    } else if (rc == -ENOMEM && r->err && !*r->err) {
        bl_set_err(r->err, "elf: out of memory");
    }
    free(lines);
    free(l.insns);
    free(l.origin_sec);
    free(l.origin_idx);
    free(l.funcs);
    free(l.placed);
    return rc;
}

/* ---- source lines and license -------------------------------------------------- */

/* BTF line_info carries each line's text; rebuild the source from it so
 * disassembly can show lines even without the .lua file. */
static int rebuild_source(struct reader *r, const char *file)
{
    uint32_t max_line = 0;
    for (size_t k = 0; k < r->ext.n_lines; k++)
        if (strcmp(r->ext.lines[k].file, file) == 0 && r->ext.lines[k].line > max_line)
            max_line = r->ext.lines[k].line;
    if (max_line == 0 || max_line > MAX_SRC_LINES)
        return bpflua_object_set_source(r->obj, file, NULL);
    const char **text = calloc(max_line + 1, sizeof *text);
    if (!text)
        return -ENOMEM;
    for (size_t k = 0; k < r->ext.n_lines; k++)
        if (strcmp(r->ext.lines[k].file, file) == 0)
            text[r->ext.lines[k].line] = r->ext.lines[k].text;
    struct bl_strbuf sb = {0};
    int rc = 0;
    for (uint32_t line = 1; line <= max_line && !rc; line++) {
        const char *t = text[line] ? text[line] : "";
        size_t n = strcspn(t, "\n");
        rc = bl_strbuf_append(&sb, t, n);
        if (!rc)
            rc = bl_strbuf_append(&sb, "\n", 1);
    }
    if (!rc)
        rc = bpflua_object_set_source(r->obj, file, sb.buf);
    bl_strbuf_free(&sb);
    free(text);
    return rc;
}

/* initial map contents (vm/elf_init.c), after the maps exist */
static int load_init(struct reader *r)
{
    for (size_t i = 1; i < r->n_secs; i++) {
        const struct section *s = &r->secs[i];
        if (strcmp(s->name, BL_INIT_SECTION) == 0 && s->data)
            return bl_init_decode(r->obj, s->data, s->size, r->err);
    }
    return 0;
}

static int load_license(struct reader *r)
{
    for (size_t i = 1; i < r->n_secs; i++) {
        const struct section *s = &r->secs[i];
        if (strcmp(s->name, "license") != 0 || !s->data)
            continue;
        size_t n = strnlen((const char *)s->data, s->size);
        if (n == s->size || n == 0 || n >= sizeof r->obj->license) {
            bl_set_err(r->err, "elf: malformed license section");
            return -EINVAL;
        }
        return bpflua_object_set_license(r->obj, (const char *)s->data);
    }
    return 0;
}

static int load_btf(struct reader *r)
{
    const struct section *btf = NULL, *ext = NULL;
    for (size_t i = 1; i < r->n_secs; i++) {
        if (!r->secs[i].data)
            continue;
        if (strcmp(r->secs[i].name, ".BTF") == 0)
            btf = &r->secs[i];
        else if (strcmp(r->secs[i].name, ".BTF.ext") == 0)
            ext = &r->secs[i];
    }
    if (btf) {
        r->btf = bl_btf_parse(btf->data, btf->size, r->err);
        if (!r->btf)
            return -EINVAL;
    }
    if (ext)
        return bl_btf_ext_parse(ext->data, ext->size, r->btf, &r->ext, r->err);
    return 0;
}

/* An object whose code is all in .text (PREVAIL's test programs are built
 * without a section attribute): its global functions are the programs, or
 * the function at the start of .text when none is global. Their section
 * ".text" names no type, so verification chooses one. */
static int text_programs(struct reader *r, const char *file)
{
    if (!r->text || r->text >= r->n_secs || !r->secs[r->text].n_insns)
        return 0;
    const struct function *first = NULL;
    int any_global = 0;
    for (size_t i = 0; i < r->n_funcs; i++) {
        const struct function *f = &r->funcs[i];
        if (f->sec != r->text)
            continue;
        any_global |= f->global;
        if (f->start == 0)
            first = f;
    }
    for (size_t i = 0; i < r->n_funcs; i++) {
        const struct function *f = &r->funcs[i];
        if (f->sec != r->text || !(any_global ? f->global : f == first))
            continue;
        r->gen++;
        int rc = link_program(r, f, file);
        if (rc)
            return rc;
    }
    return 0;
}

/* .text functions that no program reached (old clang emitted a global
 * function both inlined into its callers and on its own: prototype-kernel's
 * xdp_ddos01_blacklist): noted so that `verify --section .text` can say
 * that they never run rather than that the section holds nothing */
static int note_uncalled(struct reader *r)
{
    for (size_t i = 0; i < r->n_funcs; i++) {
        const struct function *f = &r->funcs[i];
        if (f->sec != r->text || f->placed_gen || !f->name || strlen(f->name) >= BL_NAME_MAX)
            continue;
        struct bl_func_info *n = realloc(r->obj->uncalled,
                                         (r->obj->n_uncalled + 1) * sizeof *n);
        if (!n)
            return -ENOMEM;
        r->obj->uncalled = n;
        memset(&n[r->obj->n_uncalled], 0, sizeof *n);
        strcpy(n[r->obj->n_uncalled].name, f->name);
        snprintf(n[r->obj->n_uncalled].section, BL_NAME_MAX, "%s", r->secs[f->sec].name);
        r->obj->n_uncalled++;
    }
    return 0;
}

/* ---- the whole object ---------------------------------------------------------- */

static int read_object(struct reader *r)
{
    int rc = load_sections(r);
    if (!rc) rc = load_symbols(r);
    if (!rc) rc = load_code(r);
    if (!rc) rc = load_relocations(r);
    if (!rc) rc = load_btf(r);
    if (!rc) rc = load_license(r);
    if (!rc) rc = collect_functions(r);
    if (!rc) rc = load_maps(r);
    if (!rc) rc = load_init(r);
    if (rc)
        return rc;
    const char *file = r->ext.n_lines ? r->ext.lines[0].file : NULL;
    sort_ext(r);
    /* programs in symbol-table order: the order their author wrote them */
    size_t next_sym = 0;
    r->gen = 1;
    for (;;) {
        const struct function *f = NULL;
        for (size_t i = 0; i < r->n_funcs; i++) {
            const struct function *c = &r->funcs[i];
            if (c->sec != r->text && c->global && c->sym >= next_sym && (!f || c->sym < f->sym))
                f = c;
        }
        if (!f)
            break;
        r->gen++;
        rc = link_program(r, f, file);
        if (rc)
            return rc;
        next_sym = f->sym + 1;
    }
    if (rc)
        return rc;
    if (r->obj->n_progs == 0)
        rc = text_programs(r, file);
    if (rc)
        return rc;
    if ((rc = note_uncalled(r)))
        return rc;
    if (r->obj->n_progs == 0) {
        bl_set_err(r->err, "elf: no programs (no global function in a program section)");
        return -ENOENT;
    }
    if ((rc = load_map_values(r)))
        return rc;
    if (file && file[0])
        rc = rebuild_source(r, file);
    return rc;
}

static void reader_free(struct reader *r)
{
    for (size_t i = 0; i < r->n_secs && r->secs; i++) {
        free(r->secs[i].insns);
        free(r->secs[i].rels);
    }
    free(r->secs);
    free(r->syms);
    free(r->funcs);
    free(r->map_offsets);
    free(r->map_secs);
    free(r->kconfig);
    bl_ext_info_free(&r->ext);
    if (r->btf)
        btf__free(r->btf);
    if (r->elf)
        elf_end(r->elf);
}

/* "elf: msg" becomes "elf: NAME: msg", so the message names the file. */
static void name_error(char **err, const char *name)
{
    if (!err || !*err || !name || !name[0] || strncmp(*err, "elf: ", 5) != 0)
        return;
    char *msg = bl_asprintf("elf: %s: %s", name, *err + 5);
    if (msg) {
        free(*err);
        *err = msg;
    }
}

bpflua_object *bpflua_object_from_elf(const void *buf, size_t len, const char *name, char **err)
{
    if (!buf) {
        bl_set_err(err, "elf: no data");
        return NULL;
    }
    if (len > MAX_ELF_SIZE) {
        bl_set_err(err, "elf: file too large (%zu bytes)", len);
        return NULL;
    }
    if (check_header(buf, len, err)) {
        name_error(err, name);
        return NULL;
    }
    if (elf_version(EV_CURRENT) == EV_NONE) {
        bl_set_err(err, "elf: libelf initialisation failed");
        return NULL;
    }
    /* libelf may convert data in place: give it a private copy */
    char *image = malloc(len);
    struct reader r = { .err = err };
    r.obj = bpflua_object_new();
    if (!image || !r.obj) {
        free(image);
        bpflua_object_free(r.obj);
        bl_set_err(err, "elf: out of memory");
        return NULL;
    }
    memcpy(image, buf, len);
    r.elf = elf_memory(image, len);
    int rc;
    if (!r.elf || elf_kind(r.elf) != ELF_K_ELF) {
        bl_set_err(err, "elf: %s", elf_errmsg(-1));
        rc = -EINVAL;
    } else {
        rc = read_object(&r);
        if (rc == -ENOMEM && err && !*err)
            bl_set_err(err, "elf: out of memory");
    }
    int has_data = 0;
    for (uint32_t i = 0; !rc && i < r.obj->n_maps; i++)
        has_data |= (r.map_secs[i] != r.maps_sec && r.map_secs[i] != r.legacy_maps) ||
                    r.obj->maps[i].spin_lock_off; /* the kernel needs the value's BTF */
    reader_free(&r);
    free(image);
    if (!rc && has_data) {
        /* the kernel engine loads global data (and values with a
         * bpf_spin_lock) from the file as it is (the writer has no
         * .rodata/.data/.bss or value BTF to give libbpf) */
        r.obj->elf_image = malloc(len);
        if (r.obj->elf_image) {
            memcpy(r.obj->elf_image, buf, len);
            r.obj->elf_len = len;
        }
    }
    if (rc) {
        if (err && !*err)
            bl_set_err(err, "elf: %s", strerror(-rc));
        name_error(err, name);
        bpflua_object_free(r.obj);
        return NULL;
    }
    return r.obj;
}

bpflua_object *bpflua_object_open_elf(const char *path, char **err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        bl_set_err(err, "elf: %s: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > MAX_ELF_SIZE) {
        bl_set_err(err, "elf: %s: not a regular file of acceptable size", path);
        close(fd);
        return NULL;
    }
    size_t len = (size_t)st.st_size;
    uint8_t *buf = malloc(len ? len : 1);
    size_t got = 0;
    while (buf && got < len) {
        ssize_t n = read(fd, buf + got, len - got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    if (!buf || got != len) {
        free(buf);
        bl_set_err(err, "elf: %s: read failed", path);
        return NULL;
    }
    bpflua_object *obj = bpflua_object_from_elf(buf, len, path, err);
    free(buf);
    return obj;
}
