/* elf_internal.h - shared pieces of the ELF reader, the ELF writer and the
 * BTF code: the on-disk layout of .BTF.ext (libbpf 1.1 has no public
 * writer or record accessors for it) and the helpers between files.
 *
 * .BTF.ext layout (as the kernel's struct btf_ext_header describes it):
 *
 *   header { magic 0xeB9F, version 1, flags 0, hdr_len,
 *            func_info_off, func_info_len, line_info_off, line_info_len }
 *   func_info (at hdr_len + func_info_off):
 *       u32 rec_size, then per ELF section:
 *       { u32 sec_name_off (into .BTF strings), u32 num_info, records }
 *   line_info: the same, with line records.
 *
 * In an ELF object insn_off is a byte offset within the section; the kernel
 * receives instruction indexes after libbpf has linked the program.
 */
#ifndef BPFLUA_ELF_INTERNAL_H
#define BPFLUA_ELF_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "object.h"

#define BL_BTF_EXT_MAGIC 0xeB9F

struct bl_btf_ext_header {
    uint16_t magic;
    uint8_t version;
    uint8_t flags;
    uint32_t hdr_len;
    uint32_t func_info_off;
    uint32_t func_info_len;
    uint32_t line_info_off;
    uint32_t line_info_len;
};

struct bl_btf_func_rec { uint32_t insn_off, type_id; };
struct bl_btf_line_rec { uint32_t insn_off, file_name_off, line_off, line_col; };

#define BL_LINE_NUM(line_col) ((line_col) >> 10)
#define BL_LINE_COL(line_col) ((line_col) & 0x3ff)
#define BL_LINE_COL_MAKE(line, col) (((line) << 10) | ((col) > 0x3ff ? 0x3ff : (col)))

/* The BTF typedef naming a ring buffer's event type: PREFIX + map name. */
#define BL_BTF_EVENT_PREFIX "__bpflua_event__"
/* The section of initial map contents (vm/elf_init.c). */
#define BL_INIT_SECTION ".bpflua.init"

/* ---- reading (vm/elf_btf.c) ---------------------------------------------- */

struct btf;

/* One line_info record of an ELF object, strings resolved through .BTF. */
struct bl_ext_line {
    const char *section;   /* ELF section name */
    uint32_t insn;         /* instruction index within that section */
    uint32_t line, col;
    const char *file;      /* may be "" */
    const char *text;      /* the source line, may be "" */
};

struct bl_ext_func {
    const char *section;
    uint32_t insn;
    const char *name;      /* BTF FUNC name, or "" */
};

struct bl_ext_info {
    struct bl_ext_func *funcs;
    size_t n_funcs;
    struct bl_ext_line *lines;
    size_t n_lines;
};

/* Parses .BTF (libbpf), with libbpf's warnings captured into *err. */
struct btf *bl_btf_parse(const void *data, size_t len, char **err);
/* Parses .BTF.ext records, every offset and count checked. */
int bl_btf_ext_parse(const void *data, size_t len, const struct btf *btf,
                     struct bl_ext_info *out, char **err);
void bl_ext_info_free(struct bl_ext_info *info);

/* A map definition read from the .maps DATASEC variable named def->name
 * (filled by the caller; `offset` in .maps is only for messages). */
/* inner (may be NULL): a map of maps' inner template from its `values`
 * member (inner->type 0 if there is none) */
int bl_btf_map_def(const struct btf *btf, uint32_t offset, struct bl_map_def *def,
                   struct bl_map_def *inner, char **err);

/* Version 1 data of a map read with bl_btf_map_def: a record key/value
 * (a struct of integer members becomes a record of obj) and the ringbuf
 * event marker. Leaves integers and other types alone. */
/* The byte offset of the `values` member in map `map`'s .maps definition
 * (its initial slots), or -ENOENT. */
int bl_btf_map_values_off(const struct btf *btf, const char *map, uint32_t *off);
int bl_btf_map_records(const struct btf *btf, bpflua_object *obj, struct bl_map_def *def,
                       char **err);

/* ---- .bpflua.init (vm/elf_init.c) ---------------------------------------- */

/* The section's bytes for obj's initial contents (malloc'd; *len 0 and
 * *buf NULL when no map has any). */
int bl_init_encode(const bpflua_object *obj, const char *const *map_names, void **buf,
                   size_t *len);
/* Adds the entries of a .bpflua.init section to obj's maps (by name). */
int bl_init_decode(bpflua_object *obj, const void *data, size_t len, char **err);

/* ---- libbpf message capture (vm/elf_log.c) -------------------------------- */

/* Between begin and end, libbpf's messages are appended to sb instead of
 * being printed (only the command prints). Not reentrant. */
void bl_libbpf_capture_begin(struct bl_strbuf *sb);
void bl_libbpf_capture_end(void);

/* ---- writing (vm/btf_write.c) --------------------------------------------- */

/* One function as the writer places it in an ELF section. */
struct bl_placed_func {
    const char *section;   /* "xdp", ".text", ... */
    uint32_t sec_insn;     /* first instruction within the section */
    uint32_t n_insns;
    const char *name;      /* sanitized symbol name */
    int is_main;           /* the program itself (global) or a subprogram */
    const struct bl_prog *prog;
    uint32_t prog_insn;    /* first instruction within prog */
};

struct bl_btf_image {
    void *btf;     size_t btf_len;
    void *ext;     size_t ext_len;
    uint32_t *map_sizes;      /* bytes of each map's .maps definition */
};

/* Builds .BTF (libbpf btf__ API) and .BTF.ext for the placed functions
 * and the object's maps. Maps occupy .maps in index order, map i at
 * offset sum(map_sizes[0..i)), named map_names[i] (sanitized, as its
 * ELF symbol: libbpf matches the two by name). The license string is the
 * VAR license_name in DATASEC "license" (the static linker wants BTF for
 * every global symbol). */
int bl_btf_build(const bpflua_object *obj, const struct bl_placed_func *funcs, size_t n_funcs,
                 const char *const *map_names, const char *license_name,
                 struct bl_btf_image *img, char **err);
void bl_btf_image_free(struct bl_btf_image *img);

/* elf_write.c: the symbol names bpflua_object_to_elf gives each program
 * (its main function) and map: C identifiers, unique across programs and
 * maps (a program named like a map becomes NAME__2). Free with
 * bl_elf_names_free. */
int bl_elf_written_names(const bpflua_object *obj, char ***progs, char ***maps);
void bl_elf_names_free(char **names, size_t n);

#endif
