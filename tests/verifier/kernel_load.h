/* kernel_load.h - load a bpflua program straight into the running kernel
 * with libbpf's low-level API, for the verifier's differential test and
 * benchmark. Maps are created with bpf_map_create and their fds patched
 * into the lddw immediates (src_reg stays BPF_PSEUDO_MAP_FD/VALUE); calls
 * and callbacks are already in the kernel's encoding. Test code only. */
#ifndef BPFLUA_TESTS_KERNEL_LOAD_H
#define BPFLUA_TESTS_KERNEL_LOAD_H

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/object.h"

struct kload {
    int accepted;
    int err;                 /* negative errno from bpf_prog_load */
    uint64_t ns;             /* wall time of the BPF_PROG_LOAD call */
    uint32_t verified_insns; /* the kernel's count (accepted programs) */
    char *log;               /* malloc'd verifier log when asked for */
};

static uint64_t kload_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The kernel wants BTF func_info for every subprogram once there is more
 * than one (bpf_loop callbacks): minimal BTF, one static `int f(void)` per
 * function start. Returns the BTF fd (or -1 when not needed). */
static int kernel_btf_for(const struct bl_prog *p, struct bpf_func_info **fi, uint32_t *n_fi)
{
    uint8_t *start = calloc(p->n_insns + 1, 1);
    uint32_t n = 0;
    *fi = NULL;
    *n_fi = 0;
    if (!start)
        return -1;
    start[0] = 1;
    for (uint32_t i = 0; i < p->n_insns; i++) {
        const struct bl_insn *in = &p->insns[i];
        int64_t t = -1;
        if (in->code == (BL_JMP | BL_CALL) && in->src == BL_PSEUDO_CALL)
            t = (int64_t)i + in->imm + 1;
        if (bl_is_lddw(in) && in->src == BL_PSEUDO_FUNC)
            t = (int64_t)i + in->imm + 1;
        if (t >= 0 && t < p->n_insns)
            start[t] = 1;
    }
    for (uint32_t i = 0; i < p->n_insns; i++)
        n += start[i];
    if (n < 2) {
        free(start);
        return -1;
    }
    struct btf *btf = btf__new_empty();
    int int_id = btf__add_int(btf, "int", 4, BTF_INT_SIGNED);
    int proto = btf__add_func_proto(btf, int_id);
    *fi = calloc(n, sizeof **fi);
    for (uint32_t i = 0, k = 0; i < p->n_insns; i++) {
        if (!start[i])
            continue;
        char name[32];
        snprintf(name, sizeof name, "f%u", i);
        (*fi)[k].insn_off = i;
        (*fi)[k++].type_id = (uint32_t)btf__add_func(btf, name, i ? BTF_FUNC_STATIC : BTF_FUNC_GLOBAL, proto);
    }
    *n_fi = n;
    uint32_t size;
    const void *raw = btf__raw_data(btf, &size);
    int fd = bpf_btf_load(raw, size, NULL);
    btf__free(btf);
    free(start);
    return fd;
}

/* What a load needs besides the program: its maps created, a copy of its
 * instructions with their fds patched in, and the BTF func_info. */
struct kprep {
    struct bl_insn *insns;
    int fds[64];
    uint32_t n_maps;
    int btf_fd; /* -1: no BTF needed */
    struct bpf_func_info *fi;
    uint32_t n_fi;
};

/* Returns 0 with *k ready (release it with kernel_release), or a negative
 * errno if the maps could not be created. */
static int kernel_prepare(bpflua_object *obj, const struct bl_prog *p, struct kprep *k)
{
    memset(k, 0, sizeof *k);
    k->btf_fd = -1;
    uint32_t n_maps = obj->n_maps < 64 ? obj->n_maps : 64;
    for (uint32_t m = 0; m < n_maps; m++)
        k->fds[m] = -1;
    /* two rounds: maps of maps after every inner template */
    for (uint32_t round = 0; round < 2; round++)
    for (uint32_t m = 0; m < n_maps; m++) {
        const struct bl_map_def *d = &obj->maps[m];
        if ((d->inner_map != 0) != (round == 1))
            continue;
        /* .rodata is read-only to programs, as libbpf creates it; a map of
         * maps gets its inner template's fd */
        LIBBPF_OPTS(bpf_map_create_opts, mo, .map_flags = d->flags | (d->rdonly_prog ? BPF_F_RDONLY_PROG : 0));
        if (d->inner_map && d->inner_map - 1 < n_maps)
            mo.inner_map_fd = (uint32_t)k->fds[d->inner_map - 1];
        uint32_t entries = d->max_entries;
        if (!entries && d->type == BPF_MAP_TYPE_PERF_EVENT_ARRAY)
            entries = (uint32_t)libbpf_num_possible_cpus();
        k->fds[m] = bpf_map_create((enum bpf_map_type)d->type, NULL, d->key_size, d->value_size,
                                   entries, &mo);
        if (k->fds[m] < 0) {
            int e = k->fds[m];
            for (uint32_t c = 0; c < n_maps; c++)
                if (k->fds[c] >= 0)
                    close(k->fds[c]);
            return e;
        }
    }
    k->n_maps = n_maps;
    k->insns = malloc(p->n_insns * sizeof *k->insns);
    if (!k->insns) {
        for (uint32_t m = 0; m < n_maps; m++)
            close(k->fds[m]);
        return -ENOMEM;
    }
    memcpy(k->insns, p->insns, p->n_insns * sizeof *k->insns);
    for (uint32_t i = 0; i + 1 < p->n_insns; i++)
        if (bl_is_lddw(&k->insns[i]) && (k->insns[i].src == BL_PSEUDO_MAP_FD ||
                                         k->insns[i].src == BL_PSEUDO_MAP_VALUE) &&
            k->insns[i].imm >= 0 && (uint32_t)k->insns[i].imm < n_maps)
            k->insns[i].imm = k->fds[k->insns[i].imm];
    k->btf_fd = kernel_btf_for(p, &k->fi, &k->n_fi);
    return 0;
}

static void kernel_prep_opts(const struct kprep *k, struct bpf_prog_load_opts *opts)
{
    if (k->btf_fd >= 0) {
        opts->prog_btf_fd = (uint32_t)k->btf_fd;
        opts->func_info = k->fi;
        opts->func_info_cnt = k->n_fi;
        opts->func_info_rec_size = sizeof *k->fi;
    }
}

static void kernel_release(struct kprep *k)
{
    free(k->insns);
    free(k->fi);
    if (k->btf_fd >= 0)
        close(k->btf_fd);
    for (uint32_t m = 0; m < k->n_maps; m++)
        close(k->fds[m]);
}

/* Returns 0 with *out filled, or a negative errno if the maps could not be
 * created. log_size 0: no log. */
static int kernel_load_prog_as(bpflua_object *obj, size_t prog, size_t log_size, struct kload *out,
                               enum bpf_prog_type type, enum bpf_attach_type attach)
{
    struct bl_prog *p = bl_object_prog(obj, prog);
    struct kprep k;
    memset(out, 0, sizeof *out);
    if (!p)
        return -EINVAL;
    int e = kernel_prepare(obj, p, &k);
    if (e)
        return e;
    LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = attach);
    kernel_prep_opts(&k, &opts);
    if (log_size) {
        out->log = calloc(1, log_size);
        opts.log_buf = out->log;
        opts.log_size = (uint32_t)log_size;
        opts.log_level = 1;
    }
    uint64_t t0 = kload_now_ns();
    int fd = bpf_prog_load(type, "bl_verify", "GPL", (const struct bpf_insn *)k.insns,
                           p->n_insns, &opts);
    out->ns = kload_now_ns() - t0;
    if (fd >= 0) {
        struct bpf_prog_info info;
        uint32_t len = sizeof info;
        memset(&info, 0, sizeof info);
        if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0)
            out->verified_insns = info.verified_insns;
        out->accepted = 1;
        close(fd);
    } else {
        out->err = fd;
    }
    kernel_release(&k);
    return 0;
}

/* 1 if the running kernel lets a program of kernel type `type` (expected
 * attach type `attach`) call helper `id`: a three-instruction program
 * calling it is loaded; "cannot use helper", "unknown func", "invalid
 * func" or "might sleep" mean no, anything else (loaded, or an argument
 * error) yes. */
static int kernel_allows_helper(uint32_t type, uint32_t attach, int id)
{
    static char log[1 << 16];
    struct bpf_insn insns[] = {
        { .code = BPF_JMP | BPF_CALL, .imm = id },
        { .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 0 },
        { .code = BPF_JMP | BPF_EXIT },
    };
    LIBBPF_OPTS(bpf_prog_load_opts, o, .expected_attach_type = (enum bpf_attach_type)attach,
                .log_buf = log, .log_size = sizeof log, .log_level = 1);
    log[0] = 0;
    int fd = bpf_prog_load((enum bpf_prog_type)type, NULL, "GPL", insns, 3, &o);
    if (fd >= 0) {
        close(fd);
        return 1;
    }
    return !strstr(log, "cannot use helper") && !strstr(log, "unknown func") &&
           !strstr(log, "invalid func") && !strstr(log, "might sleep");
}

static int kernel_load_prog(bpflua_object *obj, size_t prog, size_t log_size, struct kload *out)
{
    return kernel_load_prog_as(obj, prog, log_size, out, BPF_PROG_TYPE_XDP, 0);
}

#endif
