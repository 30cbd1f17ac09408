/* kernel_direct.c - loading an object into the kernel without libbpf's
 * ELF loader, from bpflua's object model: for objects libbpf 1.x will not
 * open (legacy `maps` definitions, programs without a global symbol) but
 * whose global data the ELF writer cannot express. Each map is created
 * with bpf(2) as libbpf would (global data: a one-element array holding
 * the file's bytes, .rodata read-only to programs and frozen), then each
 * program is loaded with its map references turned into the maps' fds.
 * Programs needing BTF (spin locks, global functions) are not in such
 * objects: those load through libbpf from the file. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "elf_internal.h"
#include "kernel.h"
#include "object.h"
#include "progtype.h"

#define LOG_SIZE (1u << 20)

/* a kernel object name: 15 characters of [A-Za-z0-9_.] */
static void kernel_name(char out[16], const char *name)
{
    size_t n = 0;
    for (; name[n] && n < 15; n++) {
        char c = name[n];
        out[n] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '.' ? c : '_';
    }
    out[n] = '\0';
}

static int create_map(const bpflua_object *obj, uint32_t i, const int *fds, char **err)
{
    const struct bl_map_def *d = &obj->maps[i];
    char name[16];
    kernel_name(name, d->name);
    LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = d->flags);
    uint32_t max = d->max_entries;
    if (d->type == BPF_MAP_TYPE_PERF_EVENT_ARRAY && max == 0)
        max = (uint32_t)libbpf_num_possible_cpus(); /* libbpf's default */
    if (d->rdonly_prog)
        o.map_flags |= BPF_F_RDONLY_PROG;
    if (d->inner_map) {
        if (d->inner_map - 1 >= i || fds[d->inner_map - 1] < 0) {
            bl_set_err(err, "kernel: map '%s': its inner map template comes later", d->name);
            return -EINVAL;
        }
        o.inner_map_fd = fds[d->inner_map - 1];
    }
    int fd = bpf_map_create((enum bpf_map_type)d->type, name, d->key_size, d->value_size, max, &o);
    if (fd < 0) {
        bl_set_err(err, "kernel: cannot create map '%s': %s", d->name, strerror(-fd));
        return fd;
    }
    if (d->data_init || d->rdonly_prog) {
        /* global data: element 0 holds the section's bytes (zeros for .bss) */
        uint8_t *v = calloc(1, d->value_size ? d->value_size : 1);
        uint32_t k = 0;
        int rc = v ? 0 : -ENOMEM;
        if (v && d->data_init)
            memcpy(v, d->data_init, d->data_init_len < d->value_size ? d->data_init_len
                                                                      : d->value_size);
        if (!rc && bpf_map_update_elem(fd, &k, v, 0) < 0)
            rc = -errno;
        if (!rc && d->rdonly_prog && bpf_map_freeze(fd) < 0)
            rc = -errno;
        free(v);
        if (rc) {
            close(fd);
            bl_set_err(err, "kernel: cannot fill map '%s': %s", d->name, strerror(-rc));
            return rc;
        }
    }
    return fd;
}

/* The verifier's last lines, for the error message. */
static const char *log_tail(const char *log, int lines)
{
    const char *p = log + strlen(log);
    while (p > log && p[-1] == '\n')
        p--;
    for (int n = 0; p > log; p--)
        if (p[-1] == '\n' && ++n == lines)
            break;
    return p;
}

static int load_prog_log(const bpflua_object *obj, uint32_t pi, const int *map_fds, char *log,
                         uint32_t log_size, uint32_t log_level, char **err)
{
    const struct bl_prog *p = &obj->progs[pi];
    struct bpf_insn *x = malloc((p->n_insns ? p->n_insns : 1) * sizeof *x);
    if (!x) {
        bl_set_err(err, "kernel: out of memory");
        return -ENOMEM;
    }
    memcpy(x, p->insns, p->n_insns * sizeof *x);
    for (uint32_t i = 0; i < p->n_insns; i++) {
        struct bpf_insn *in = &x[i];
        if (in->code == (BPF_LD | BPF_IMM | BPF_DW) &&
            (in->src_reg == BL_PSEUDO_MAP_FD || in->src_reg == BL_PSEUDO_MAP_VALUE)) {
            if (in->imm < 0 || (uint32_t)in->imm >= obj->n_maps) {
                int bad = in->imm;
                free(x);
                bl_set_err(err, "kernel: program '%s' refers to no map %d", p->name, bad);
                return -EINVAL;
            }
            in->src_reg = in->src_reg == BL_PSEUDO_MAP_FD ? BPF_PSEUDO_MAP_FD : BPF_PSEUDO_MAP_VALUE;
            in->imm = map_fds[in->imm];
        }
    }
    char name[16];
    kernel_name(name, p->name);
    const struct bl_prog_type *t = p->type;
    LIBBPF_OPTS(bpf_prog_load_opts, o, .log_buf = log, .log_size = log_size,
                .log_level = log_level,
                .expected_attach_type = t->kernel_type == BPF_PROG_TYPE_XDP
                                            ? BPF_XDP : (enum bpf_attach_type)t->attach_type);
    log[0] = '\0';
    int fd = bpf_prog_load((enum bpf_prog_type)t->kernel_type, name,
                           obj->license[0] ? obj->license : "GPL", x, p->n_insns, &o);
    free(x);
    if (fd < 0) {
        const char *tail = log_tail(log, 12);
        bl_set_err(err, "kernel verifier rejected '%s': %s%s%s", p->name, strerror(-fd),
                   tail[0] ? "\n" : "", tail);
    }
    return fd;
}

static int load_prog(const bpflua_object *obj, uint32_t pi, const int *map_fds, char *log,
                     char **err)
{
    return load_prog_log(obj, pi, map_fds, log, LOG_SIZE, 1, err);
}

int bl_kernel_load_direct(const bpflua_object *obj, int *map_fds, int *prog_fds, char **err)
{
    for (uint32_t i = 0; i < obj->n_maps; i++)
        map_fds[i] = -1;
    for (uint32_t i = 0; i < obj->n_progs; i++)
        prog_fds[i] = -1;
    int rc = 0;
    for (uint32_t i = 0; i < obj->n_maps && rc >= 0; i++)
        rc = map_fds[i] = create_map(obj, i, map_fds, err);
    char *log = rc >= 0 ? malloc(LOG_SIZE) : NULL;
    if (rc >= 0 && !log) {
        bl_set_err(err, "kernel: out of memory");
        rc = -ENOMEM;
    }
    for (uint32_t i = 0; i < obj->n_progs && rc >= 0; i++)
        rc = prog_fds[i] = load_prog(obj, i, map_fds, log, err);
    free(log);
    if (rc < 0) {
        bl_kernel_close_fds(map_fds, obj->n_maps, prog_fds, obj->n_progs);
        return rc;
    }
    return 0;
}

void bl_kernel_close_fds(int *map_fds, uint32_t n_maps, int *prog_fds, uint32_t n_progs)
{
    for (uint32_t i = 0; map_fds && i < n_maps; i++)
        if (map_fds[i] >= 0) {
            close(map_fds[i]);
            map_fds[i] = -1;
        }
    for (uint32_t i = 0; prog_fds && i < n_progs; i++)
        if (prog_fds[i] >= 0) {
            close(prog_fds[i]);
            prog_fds[i] = -1;
        }
}

int bl_kernel_stats_direct(const bpflua_object *obj, struct bl_kernel_stat *out, char *log,
                           uint32_t log_size, uint32_t log_level,
                           void (*parse)(const char *log, struct bl_kernel_stat *st), char **err)
{
    int *map_fds = calloc(obj->n_maps ? obj->n_maps : 1, sizeof *map_fds);
    if (!map_fds) {
        bl_set_err(err, "kernel: out of memory");
        return -ENOMEM;
    }
    int rc = 0;
    for (uint32_t i = 0; i < obj->n_maps; i++)
        map_fds[i] = -1;
    for (uint32_t i = 0; i < obj->n_maps && rc >= 0; i++)
        rc = map_fds[i] = create_map(obj, i, map_fds, err);
    int first = 0; /* the first refusal, returned after every program was tried */
    for (uint32_t i = 0; rc >= 0 && i < obj->n_progs; i++) {
        char *why = NULL;
        log[0] = '\0';
        int fd = load_prog_log(obj, i, map_fds, log, log_size, log_level, &why);
        out[i].loaded = fd >= 0;
        out[i].verified = log[0] != '\0';
        parse(log, &out[i]);
        if (fd >= 0)
            close(fd);
        else if (!first) {
            first = fd;
            bl_set_err(err, "%s", why ? why : "kernel: load failed");
        }
        free(why);
    }
    bl_kernel_close_fds(map_fds, obj->n_maps, NULL, 0);
    free(map_fds);
    return rc < 0 ? rc : first;
}
