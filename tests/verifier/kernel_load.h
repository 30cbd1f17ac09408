/* kernel_load.h - load a bpflua program straight into the running kernel
 * with libbpf's low-level API, for the verifier's differential test and
 * benchmark. Maps are created with bpf_map_create and their fds patched
 * into the lddw immediates (src_reg stays BPF_PSEUDO_MAP_FD/VALUE); calls
 * and callbacks are already in the kernel's encoding. Test code only. */
#ifndef BPFLUA_TESTS_KERNEL_LOAD_H
#define BPFLUA_TESTS_KERNEL_LOAD_H

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <errno.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vm/object.h"

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

/* Returns 0 with *out filled, or a negative errno if the maps could not be
 * created. log_size 0: no log. */
static int kernel_load_prog(bpflua_object *obj, size_t prog, size_t log_size, struct kload *out)
{
    struct bl_prog *p = bl_object_prog(obj, prog);
    int fds[64];
    uint32_t n_maps = obj->n_maps < 64 ? obj->n_maps : 64;
    memset(out, 0, sizeof *out);
    if (!p)
        return -EINVAL;
    for (uint32_t m = 0; m < n_maps; m++) {
        const struct bl_map_def *d = &obj->maps[m];
        fds[m] = bpf_map_create((enum bpf_map_type)d->type, NULL, d->key_size, d->value_size,
                                d->max_entries, NULL);
        if (fds[m] < 0) {
            int e = fds[m];
            while (m--)
                close(fds[m]);
            return e;
        }
    }
    struct bl_insn *insns = malloc(p->n_insns * sizeof *insns);
    if (!insns)
        return -ENOMEM;
    memcpy(insns, p->insns, p->n_insns * sizeof *insns);
    for (uint32_t i = 0; i + 1 < p->n_insns; i++)
        if (bl_is_lddw(&insns[i]) && (insns[i].src == BL_PSEUDO_MAP_FD ||
                                      insns[i].src == BL_PSEUDO_MAP_VALUE) &&
            insns[i].imm >= 0 && (uint32_t)insns[i].imm < n_maps)
            insns[i].imm = fds[insns[i].imm];
    LIBBPF_OPTS(bpf_prog_load_opts, opts);
    struct bpf_func_info *fi;
    uint32_t n_fi;
    int btf_fd = kernel_btf_for(p, &fi, &n_fi);
    if (btf_fd >= 0) {
        opts.prog_btf_fd = (uint32_t)btf_fd;
        opts.func_info = fi;
        opts.func_info_cnt = n_fi;
        opts.func_info_rec_size = sizeof *fi;
    }
    if (log_size) {
        out->log = calloc(1, log_size);
        opts.log_buf = out->log;
        opts.log_size = (uint32_t)log_size;
        opts.log_level = 1;
    }
    uint64_t t0 = kload_now_ns();
    int fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "bl_verify", "GPL", (const struct bpf_insn *)insns,
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
    free(insns);
    free(fi);
    if (btf_fd >= 0)
        close(btf_fd);
    for (uint32_t m = 0; m < n_maps; m++)
        close(fds[m]);
    return 0;
}

#endif
