/* kernel_stats.c - what the kernel's verifier spent on each program: its
 * "processed N insns" and "verification time N usec" (log level
 * BPF_LOG_STATS, which prints only these lines). The object is loaded
 * separately from the kernel engine's copy and closed again, so a budget
 * test or benchmark measures a fresh load every time.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "elf_internal.h"
#include "kernel.h"
#include "object.h"
#include "progtype.h"

/* Level 4 still writes some messages before the statistics, and the kernel
 * returns ENOSPC when its log overflows (even though it keeps the tail): a
 * program of 580k processed insns overflowed 256 KiB. The buffers are
 * allocated lazily by the system, so a large size costs nothing unused. */
#define STATS_LOG_SIZE (16u << 20)
#define LOG_LEVEL_STATS 4 /* BPF_LOG_STATS, not in every uapi header */

/* "processed 1547 insns (limit 1000000) ..." and "verification time 812 usec" */
static void parse_stats(const char *log, struct bl_kernel_stat *st)
{
    const char *p = strstr(log, "processed ");
    if (p)
        st->insns = strtoull(p + 10, NULL, 10);
    p = strstr(log, "verification time ");
    if (p)
        st->usec = strtoull(p + 18, NULL, 10);
}

/* libbpf 1.x knows section "xdp" but not "xdp/<name>" (as kernel.c) */
static void set_types(struct bpf_object *bpf)
{
    struct bpf_program *p;
    bpf_object__for_each_program(p, bpf) {
        if (bpf_program__type(p) == BPF_PROG_TYPE_UNSPEC &&
            strncmp(bpf_program__section_name(p), "xdp/", 4) == 0) {
            bpf_program__set_type(p, BPF_PROG_TYPE_XDP);
            bpf_program__set_expected_attach_type(p, BPF_XDP);
        }
    }
}

int bl_kernel_stats(bpflua_object *obj, struct bl_kernel_stat *out, char **err)
{
    if (!obj || !out)
        return -EINVAL;
    memset(out, 0, obj->n_progs * sizeof *out);
    void *image = NULL;
    size_t len = 0;
    char **pnames = NULL, **mnames = NULL;
    int rc = bpflua_object_to_elf(obj, &image, &len, err);
    if (rc) {
        /* what the writer cannot express (global data, legacy objects):
         * each program alone from bpflua's reading, as the kernel engine
         * loads such objects (kernel_direct.c) */
        if (err) {
            free(*err);
            *err = NULL;
        }
        char *log = calloc(1, STATS_LOG_SIZE);
        if (!log) {
            bl_set_err(err, "kernel: out of memory");
            return -ENOMEM;
        }
        rc = bl_kernel_stats_direct(obj, out, log, STATS_LOG_SIZE, LOG_LEVEL_STATS, parse_stats,
                                    err);
        free(log);
        return rc;
    }
    if ((rc = bl_elf_written_names(obj, &pnames, &mnames)) < 0) {
        free(image);
        bl_set_err(err, "kernel: out of memory");
        return rc;
    }
    bl_elf_names_free(mnames, obj->n_maps);
    char **logs = calloc(obj->n_progs ? obj->n_progs : 1, sizeof *logs);
    int nomem = !logs;
    for (uint32_t i = 0; !nomem && i < obj->n_progs; i++)
        nomem = !(logs[i] = calloc(1, STATS_LOG_SIZE));
    if (nomem) {
        for (uint32_t i = 0; logs && i < obj->n_progs; i++)
            free(logs[i]);
        free(logs);
        free(image);
        bl_elf_names_free(pnames, obj->n_progs);
        bl_set_err(err, "kernel: out of memory");
        return -ENOMEM;
    }
    struct bl_strbuf msgs = {0};
    LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = "bpflua");
    bl_libbpf_capture_begin(&msgs);
    struct bpf_object *bpf = bpf_object__open_mem(image, len, &opts);
    rc = bpf ? 0 : (errno ? -errno : -EINVAL);
    if (rc) {
        bl_set_err(err, "kernel: libbpf cannot open the object: %s", strerror(-rc));
    } else {
        set_types(bpf);
        for (uint32_t i = 0; i < obj->n_progs; i++) {
            struct bpf_program *bp = bpf_object__find_program_by_name(bpf, pnames[i]);
            if (!bp)
                continue;
            /* the type bpflua verified it as: its section's, --type, or the
             * one chosen for a section that names none (Cilium's "2/1",
             * OVS's "tail-3"), which libbpf cannot know */
            const struct bl_prog_type *t = obj->progs[i].type;
            if (t && !obj->progs[i].unsupported &&
                bpf_program__type(bp) != (enum bpf_prog_type)t->kernel_type) {
                bpf_program__set_type(bp, (enum bpf_prog_type)t->kernel_type);
                bpf_program__set_expected_attach_type(
                    bp, t->kernel_type == BPF_PROG_TYPE_XDP ? BPF_XDP
                                                            : (enum bpf_attach_type)t->attach_type);
            }
            bpf_program__set_log_level(bp, LOG_LEVEL_STATS);
            bpf_program__set_log_buf(bp, logs[i], STATS_LOG_SIZE);
        }
        rc = bpf_object__load(bpf);
        for (uint32_t i = 0; i < obj->n_progs; i++) {
            struct bpf_program *bp = bpf_object__find_program_by_name(bpf, pnames[i]);
            const char *log = logs[i];
            out[i].loaded = bp && bpf_program__fd(bp) >= 0;
            out[i].verified = log[0] != '\0';
            parse_stats(log, &out[i]);
        }
        if (rc)
            bl_set_err(err, "kernel: load failed: %s", strerror(-rc));
        bpf_object__close(bpf);
    }
    bl_libbpf_capture_end();
    bl_strbuf_free(&msgs);
    for (uint32_t i = 0; i < obj->n_progs; i++)
        free(logs[i]);
    free(logs);
    free(image);
    bl_elf_names_free(pnames, obj->n_progs);
    return rc;
}
