/* kernel.h - the Linux kernel as an engine and an oracle (libbpf). */
#ifndef BPFLUA_KERNEL_H
#define BPFLUA_KERNEL_H

#include <stddef.h>
#include <stdint.h>

#include "bpflua.h"

struct bl_kernel_obj;

/* 1 if bpf(2) can load programs here; else 0 and *why says why. */
int bl_kernel_available(char **why);
/* Loads obj into the kernel through libbpf (from its ELF image), once. */
int bl_kernel_load(bpflua_object *obj, char **err);
/* BPF_PROG_TEST_RUN of program `prog` on pkt; pkt is updated in place. */
int bl_kernel_run(bpflua_object *obj, size_t prog, void *pkt, size_t len,
                  uint64_t repeat, struct bpflua_run_result *res, char **err);
/* The same with the run's options: the context of skb types (a struct
 * __sk_buff in ctx_in/ctx_out: mark, priority, ifindex) and tracing types
 * (opts->ctx as it is). */
int bl_kernel_run_opts(bpflua_object *obj, size_t prog, void *pkt, size_t len,
                       const struct bpflua_run_opts *opts, struct bpflua_run_result *res,
                       char **err);
void bl_kernel_close(struct bl_kernel_obj *k);
/* engine/kernel_direct.c: creates obj's maps and loads its programs with
 * bpf(2) alone (objects libbpf will not open: legacy maps, static
 * programs); fds by object index, -1 where none. 0, or a negative errno
 * with *err set and nothing left open. */
int bl_kernel_load_direct(const bpflua_object *obj, int *map_fds, int *prog_fds, char **err);
void bl_kernel_close_fds(int *map_fds, uint32_t n_maps, int *prog_fds, uint32_t n_progs);
struct bl_kernel_stat;
/* The same maps, then each program loaded alone at log_level into log
 * (log_size bytes) and closed again; parse fills its entry of out from the
 * log. 0 when every program loaded, else the first refusal's errno with
 * *err set (every program is still tried). */
int bl_kernel_stats_direct(const bpflua_object *obj, struct bl_kernel_stat *out, char *log,
                           uint32_t log_size, uint32_t log_level,
                           void (*parse)(const char *log, struct bl_kernel_stat *st), char **err);

/* The kernel verifier's cost for each program of obj (engine/kernel_stats.c):
 * a fresh load at log level BPF_LOG_STATS, closed again. out has
 * obj->n_progs entries. Returns 0 when every program loaded; else a
 * negative errno, *err set, and out still filled for the programs the
 * kernel verified (a rejected one has loaded = 0 and its insns). */
struct bl_kernel_stat {
    uint64_t insns;     /* "processed N insns" */
    uint64_t usec;      /* "verification time N usec" */
    int verified;       /* the kernel verified it (a stats line exists) */
    int loaded;         /* and accepted it */
};
int bl_kernel_stats(bpflua_object *obj, struct bl_kernel_stat *out, char **err);
/* File descriptors of a loaded object (after bl_kernel_load), owned by the
 * object: the program `prog`'s fd and map `map`'s fd (bpflua indexes), or a
 * negative errno. Used by engine/attach.c (live filters). */
int bl_kernel_prog_fd(bpflua_object *obj, size_t prog);
int bl_kernel_map_fd(bpflua_object *obj, size_t map);

#endif
