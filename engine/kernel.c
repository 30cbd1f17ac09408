/* kernel.c - the Linux kernel as an engine: the object's ELF image is
 * loaded through libbpf (bpf_object__open_mem + bpf_object__load), so the
 * kernel sees exactly what `bpftool prog load` of `bpflua compile`'s output
 * would give it, and programs run with BPF_PROG_TEST_RUN.
 *
 * A rejection is reported with the verifier's last message and, when the
 * log carries BTF line info ("; <text> @ file:line"), the source line.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "elf_internal.h"
#include "kernel.h"
#include "progtype.h"
#include "object.h"

#define XDP_MIN_PACKET 14
#define MAX_PACKET     (64u << 10)
#define LOG_TAIL_LINES 24

/* what a ring buffer callback needs to log an event */
struct rb_ctx {
    bpflua_object *obj;
    uint32_t map;
    int *keep;
};

struct bl_kernel_obj {
    struct bpf_object *bpf;
    int *prog_fds;      /* by object program index */
    int *map_fds;       /* by object map index */
    uint32_t n_progs, n_maps;
    int own_fds;              /* loaded without libbpf (kernel_direct.c): close the fds */
    struct ring_buffer *rb;   /* every ring buffer map, read after each run */
    struct perf_buffer **pb;  /* by object map index: perf_event_array maps' readers */
    struct rb_ctx *rb_ctx;    /* by object map index */
    int rb_keep;              /* log (1) or count (0) what the next read finds */
    int rb_failed;            /* an event could not be logged */
};

int bl_kernel_available(char **why)
{
    /* r0 = XDP_PASS; exit */
    struct bpf_insn insns[] = {
        { .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 2 },
        { .code = BPF_JMP | BPF_EXIT },
    };
    struct bl_strbuf log = {0};
    bl_libbpf_capture_begin(&log);
    int fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "bpflua_probe", "GPL", insns, 2, NULL);
    bl_libbpf_capture_end();
    bl_strbuf_free(&log);
    if (fd < 0) {
        bl_set_err(why, "kernel: cannot load a BPF program here (bpf(2): %s)", strerror(-fd));
        return 0;
    }
    close(fd);
    return 1;
}

void bl_kernel_close(struct bl_kernel_obj *k)
{
    if (!k)
        return;
    ring_buffer__free(k->rb);
    for (uint32_t i = 0; k->pb && i < k->n_maps; i++)
        perf_buffer__free(k->pb[i]);
    free(k->pb);
    free(k->rb_ctx);
    bpf_object__close(k->bpf);
    if (k->own_fds)
        bl_kernel_close_fds(k->map_fds, k->n_maps, k->prog_fds, k->n_progs);
    free(k->prog_fds);
    free(k->map_fds);
    free(k);
}

/* The verifier log libbpf printed, between its BEGIN/END markers. */
static char *extract_log(const char *all)
{
    const char *b = all ? strstr(all, "-- BEGIN PROG LOAD LOG --") : NULL;
    if (!b)
        return NULL;
    b = strchr(b, '\n');
    if (!b)
        return NULL;
    b++;
    const char *e = strstr(b, "-- END PROG LOAD LOG --");
    size_t n = e ? (size_t)(e - b) : strlen(b);
    return strndup(b, n);
}

/* Last line of `log` that is not empty and not a "processed N insns" or
 * similar statistics line: the verifier's reason. */
static void last_reason(const char *log, char *out, size_t cap)
{
    out[0] = '\0';
    const char *p = log;
    while (p && *p) {
        const char *e = strchr(p, '\n');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n && strncmp(p, "processed ", 10) != 0 && strncmp(p, "verification time", 17) != 0 &&
            strncmp(p, "stack depth", 11) != 0 && strncmp(p, "max_states", 10) != 0 &&
            strncmp(p, "-- END", 6) != 0 && p[0] != ';') {
            if (n >= cap)
                n = cap - 1;
            memcpy(out, p, n);
            out[n] = '\0';
        }
        p = e ? e + 1 : NULL;
        if (strstr(out, "processed") == out)
            out[0] = '\0';
    }
}

/* The last "; <text> @ <file>:<line>" annotation of the log, as
 * "<file>:<line>: <text>". */
static void last_source_line(const char *log, char *out, size_t cap)
{
    out[0] = '\0';
    const char *p = log;
    while (p && *p) {
        const char *e = strchr(p, '\n');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n > 2 && p[0] == ';') {
            const char *at = NULL;
            for (const char *q = p; q + 3 < p + n; q++)
                if (q[0] == ' ' && q[1] == '@' && q[2] == ' ')
                    at = q;
            if (at) {
                const char *text = p + 1;
                while (text < at && *text == ' ')
                    text++;
                snprintf(out, cap, "%.*s: %.*s", (int)(n - (size_t)(at + 3 - p)), at + 3,
                         (int)(at - text), text);
            }
        }
        p = e ? e + 1 : NULL;
    }
}

/* The last n lines of the log: a rejection after a million instructions
 * leaves megabytes of state trace; the end is what explains it. */
static const char *log_tail(const char *log, int n)
{
    const char *p = log + strlen(log);
    while (p > log && p[-1] == '\n')
        p--;
    while (p > log) {
        if (p[-1] == '\n' && --n == 0)
            break;
        p--;
    }
    return p;
}

static char *rejection_message(const char *captured)
{
    char *log = extract_log(captured);
    if (!log) {
        const char *msg = captured && captured[0] ? captured : "unknown error\n";
        size_t n = strlen(msg);
        while (n && msg[n - 1] == '\n')
            n--;
        return bl_asprintf("kernel: load failed: %.*s", (int)n, msg);
    }
    /* libbpf: "libbpf: prog 'NAME': -- BEGIN PROG LOAD LOG --" */
    char prog[BL_NAME_MAX + 8] = "";
    const char *begin = strstr(captured, "-- BEGIN PROG LOAD LOG --");
    const char *line = begin;
    while (line > captured && line[-1] != '\n')
        line--;
    const char *q = strstr(line, "prog '");
    if (q && q < begin) {
        q += 6;
        size_t n = strcspn(q, "'");
        snprintf(prog, sizeof prog, "'%.*s'", (int)(n < BL_NAME_MAX ? n : BL_NAME_MAX), q);
    }
    char reason[256], where[512];
    last_reason(log, reason, sizeof reason);
    last_source_line(log, where, sizeof where);
    const char *tail = log_tail(log, LOG_TAIL_LINES);
    char *msg = where[0]
        ? bl_asprintf("kernel verifier rejected %s: %s (at %s)\n%s%s", prog[0] ? prog : "the program",
                      reason, where, tail != log ? "...\n" : "", tail)
        : bl_asprintf("kernel verifier rejected %s: %s\n%s%s", prog[0] ? prog : "the program",
                      reason, tail != log ? "...\n" : "", tail);
    free(log);
    return msg;
}

/* Each program gets the type bpflua gave it (its section, or --type):
 * libbpf 1.x no longer knows some old section names ("xdp/<name>",
 * "socket1", "classifier/x" ...) and would leave those unloadable. */
static void set_types(struct bpf_object *bpf, const bpflua_object *obj)
{
    struct bpf_program *p;
    bpf_object__for_each_program(p, bpf) {
        const struct bl_prog *bp = NULL;
        for (uint32_t i = 0; i < obj->n_progs && !bp; i++)
            if (strcmp(obj->progs[i].name, bpf_program__name(p)) == 0)
                bp = &obj->progs[i];
        if (!bp || bpf_program__type(p) == (enum bpf_prog_type)bp->type->kernel_type)
            continue;
        bpf_program__set_type(p, (enum bpf_prog_type)bp->type->kernel_type);
        if (bp->type->kernel_type == BPF_PROG_TYPE_XDP)
            bpf_program__set_expected_attach_type(p, BPF_XDP);
        else if (bp->type->kernel_type == BPF_PROG_TYPE_CGROUP_SKB)
            bpf_program__set_expected_attach_type(p, (enum bpf_attach_type)bp->type->attach_type);
    }
}

static int is_percpu(uint32_t type)
{
    return type == BPF_MAP_TYPE_PERCPU_ARRAY || type == BPF_MAP_TYPE_PERCPU_HASH ||
           type == BPF_MAP_TYPE_LRU_PERCPU_HASH;
}

/* 1 if bpflua's own instance of data map i exists (the Lua module wrote or
 * read it, or a sandbox run used it) and so holds the map's contents: its
 * init entries and every change since, which the kernel's map starts with */
static int own_instance(const bpflua_object *obj, uint32_t i)
{
    if (!obj->map_rt || !obj->map_rt[i] || obj->maps[i].rdonly_prog || obj->maps[i].data_init_len)
        return 0;
    switch (obj->maps[i].type) {
    case BPF_MAP_TYPE_HASH: case BPF_MAP_TYPE_ARRAY: case BPF_MAP_TYPE_PERCPU_HASH:
    case BPF_MAP_TYPE_PERCPU_ARRAY: case BPF_MAP_TYPE_LRU_HASH: case BPF_MAP_TYPE_LRU_PERCPU_HASH:
    case BPF_MAP_TYPE_LPM_TRIE:
        return 1;
    default:
        return 0;
    }
}

/* Copies bpflua's own instance of map i into the kernel's map (every CPU's
 * slot of a per-CPU map; arrays: the entries that are not zero). */
static int copy_instance(bpflua_object *obj, struct bl_kernel_obj *k, uint32_t i, char **err)
{
    const struct bl_map_def *d = &obj->maps[i];
    int percpu = is_percpu(d->type), is_array = d->type == BPF_MAP_TYPE_ARRAY ||
                                                d->type == BPF_MAP_TYPE_PERCPU_ARRAY;
    int ncpu = percpu ? bpflua_num_possible_cpus() : 1;
    size_t stride = percpu ? ((size_t)d->value_size + 7) & ~(size_t)7 : d->value_size;
    size_t vlen = (size_t)(ncpu < 1 ? 1 : ncpu) * (stride ? stride : 8);
    unsigned char *cur = calloc(1, d->key_size ? d->key_size : 1);
    unsigned char *next = calloc(1, d->key_size ? d->key_size : 1);
    unsigned char *val = calloc(1, vlen);
    int rc = cur && next && val ? 0 : -ENOMEM;
    uint64_t guard = (uint64_t)d->max_entries + 1;
    int r = rc ? rc : bpflua_map_next_key(obj, i, NULL, next);
    while (rc == 0 && r == 0 && guard-- > 0) {
        memcpy(cur, next, d->key_size);
        rc = percpu ? bpflua_map_lookup_percpu(obj, i, cur, val) : bpflua_map_lookup(obj, i, cur, val);
        if (rc == -ENOENT) {
            rc = 0;
        } else if (rc == 0) {
            int zero = 1;
            for (size_t b = 0; is_array && zero && b < vlen; b++)
                zero = val[b] == 0;
            if (!(is_array && zero) && bpf_map_update_elem(k->map_fds[i], cur, val, BPF_ANY) < 0)
                rc = errno ? -errno : -EIO;
        }
        r = bpflua_map_next_key(obj, i, cur, next);
    }
    if (rc)
        bl_set_err(err, "kernel: map '%s': cannot store its contents: %s", d->name, strerror(-rc));
    free(cur);
    free(next);
    free(val);
    return rc;
}

/* The maps' initial contents, stored once libbpf has created them (per-CPU
 * maps: the value in every CPU's slot, as bpf(2) takes them); a map that
 * bpflua's own instance already holds gets that instance's contents. */
static int place_init(bpflua_object *obj, struct bl_kernel_obj *k, char **err)
{
    for (uint32_t i = 0; i < obj->n_maps; i++) {
        if (own_instance(obj, i)) {
            int rc = copy_instance(obj, k, i, err);
            if (rc)
                return rc;
            continue;
        }
        size_t n = bpflua_map_init_count(obj, i);
        if (!n)
            continue;
        uint32_t vs = obj->maps[i].value_size, stride = (vs + 7) & ~7u;
        int ncpu = is_percpu(obj->maps[i].type) ? libbpf_num_possible_cpus() : 1;
        if (ncpu < 1)
            ncpu = 1;
        unsigned char *buf = calloc((size_t)ncpu, stride ? stride : 8);
        if (!buf) {
            bl_set_err(err, "kernel: out of memory");
            return -ENOMEM;
        }
        for (size_t e = 0; e < n; e++) {
            const void *key, *value;
            int rc = bpflua_map_init_entry(obj, i, e, &key, &value);
            for (int c = 0; rc == 0 && c < ncpu; c++)
                memcpy(buf + (size_t)c * stride, value, vs);
            uint32_t t = obj->maps[i].type, idx;
            if (rc == 0 && vs == 4 && (t == BPF_MAP_TYPE_ARRAY_OF_MAPS ||
                                       t == BPF_MAP_TYPE_HASH_OF_MAPS || t == BPF_MAP_TYPE_PROG_ARRAY)) {
                /* bpflua's values name a map or program of the object: the
                 * kernel takes its fd */
                memcpy(&idx, value, 4);
                int fd = t == BPF_MAP_TYPE_PROG_ARRAY ? (idx < k->n_progs ? k->prog_fds[idx] : -1)
                                                      : (idx < k->n_maps ? k->map_fds[idx] : -1);
                if (fd < 0)
                    rc = -EINVAL;
                memcpy(buf, &fd, 4);
            }
            if (rc == 0 && bpf_map_update_elem(k->map_fds[i], key, buf, BPF_ANY) < 0)
                rc = errno ? -errno : -EIO;
            if (rc < 0) {
                free(buf);
                bl_set_err(err, "kernel: map '%s': cannot store initial entry %zu: %s",
                           obj->maps[i].name, e + 1, strerror(-rc));
                return rc;
            }
        }
        free(buf);
    }
    return 0;
}

/* 1 if map i is only the template of a map of maps */
static int is_template(const bpflua_object *obj, uint32_t i)
{
    for (uint32_t j = 0; j < obj->n_maps; j++)
        if (obj->maps[j].inner_map == i + 1)
            return 1;
    return 0;
}

static int on_event(void *ctx, void *data, size_t size)
{
    struct rb_ctx *c = ctx;
    if (bl_events_add(c->obj, c->map, data, (uint32_t)size, *c->keep) < 0)
        c->obj->kernel->rb_failed = 1;
    return 0;
}

static void on_sample(void *ctx, int cpu, void *data, __u32 size)
{
    on_event(ctx, data, size);
}

/* A perf buffer on every CPU's slot of a perf_event_array map (libbpf's
 * perf_buffer, which fills the slots), as the sandbox's slots start open:
 * bpf_perf_event_output's records reach the run's events. */
static int open_perfbuf(bpflua_object *obj, struct bl_kernel_obj *k, uint32_t i, char **err)
{
    if (!k->pb && !(k->pb = calloc(obj->n_maps, sizeof *k->pb))) {
        bl_set_err(err, "kernel: out of memory");
        return -ENOMEM;
    }
    k->pb[i] = perf_buffer__new(k->map_fds[i], 8, on_sample, NULL, &k->rb_ctx[i], NULL);
    if (!k->pb[i]) {
        int rc = errno ? -errno : -EINVAL;
        bl_set_err(err, "kernel: cannot read perf_event_array '%s': %s", obj->maps[i].name,
                   strerror(-rc));
        return rc;
    }
    return 0;
}

/* The refused emits a compiled program counted in the drops map (the
 * kernel reports none): every CPU's count, then zeros in their place. */
static int take_kernel_drops(bpflua_object *obj, struct bl_kernel_obj *k, int d, uint64_t *n)
{
    int ncpu = libbpf_num_possible_cpus();
    if (ncpu <= 0 || k->map_fds[d] < 0)
        return ncpu <= 0 ? ncpu : 0;
    uint64_t *v = calloc((size_t)ncpu, sizeof *v);
    if (!v)
        return -ENOMEM;
    int rc = 0;
    for (uint32_t key = 0; key < obj->maps[d].max_entries && rc == 0; key++) {
        if (bpf_map_lookup_elem(k->map_fds[d], &key, v) < 0) {
            rc = -errno;
            break;
        }
        for (int c = 0; c < ncpu; c++) {
            *n += v[c];
            v[c] = 0;
        }
        if (bpf_map_update_elem(k->map_fds[d], &key, v, BPF_ANY) < 0)
            rc = -errno;
    }
    free(v);
    return rc;
}

/* One libbpf ring_buffer over every RINGBUF map of the object, a perf
 * buffer per perf_event_array map. */
static int open_ringbufs(bpflua_object *obj, struct bl_kernel_obj *k, char **err)
{
    for (uint32_t i = 0; i < obj->n_maps; i++) {
        int perf = obj->maps[i].type == BPFLUA_MAP_PERF_EVENT_ARRAY;
        if ((obj->maps[i].type != BPFLUA_MAP_RINGBUF && !perf) || k->map_fds[i] < 0)
            continue;
        if (!k->rb_ctx) {
            k->rb_ctx = calloc(obj->n_maps, sizeof *k->rb_ctx);
            if (!k->rb_ctx) {
                bl_set_err(err, "kernel: out of memory");
                return -ENOMEM;
            }
        }
        k->rb_ctx[i] = (struct rb_ctx){ obj, i, &k->rb_keep };
        if (perf) {
            int rc = open_perfbuf(obj, k, i, err);
            if (rc < 0)
                return rc;
            continue;
        }
        int rc = k->rb ? ring_buffer__add(k->rb, k->map_fds[i], on_event, &k->rb_ctx[i]) : 0;
        if (!k->rb) {
            k->rb = ring_buffer__new(k->map_fds[i], on_event, &k->rb_ctx[i], NULL);
            rc = k->rb ? 0 : -errno;
        }
        if (rc < 0) {
            bl_set_err(err, "kernel: cannot read ring buffer '%s': %s", obj->maps[i].name,
                       strerror(-rc));
            return rc;
        }
    }
    return 0;
}

int bl_kernel_load(bpflua_object *obj, char **err)
{
    if (!obj)
        return -EINVAL;
    if (obj->kernel)
        return 0;
    void *image = NULL;
    size_t len = 0;
    int rc = 0;
    if (obj->elf_image) {
        image = malloc(obj->elf_len);
        if (!image) {
            bl_set_err(err, "kernel: out of memory");
            return -ENOMEM;
        }
        memcpy(image, obj->elf_image, obj->elf_len);
        len = obj->elf_len;
    } else {
        rc = bpflua_object_to_elf(obj, &image, &len, err);
    }
    if (rc)
        return rc;
    struct bl_kernel_obj *k = calloc(1, sizeof *k);
    if (k) {
        k->prog_fds = calloc(obj->n_progs ? obj->n_progs : 1, sizeof *k->prog_fds);
        k->map_fds = calloc(obj->n_maps ? obj->n_maps : 1, sizeof *k->map_fds);
    }
    if (!k || !k->prog_fds || !k->map_fds) {
        bl_kernel_close(k);
        free(image);
        bl_set_err(err, "kernel: out of memory");
        return -ENOMEM;
    }
    struct bl_strbuf log = {0};
    LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = "bpflua");
    bl_libbpf_capture_begin(&log);
    k->bpf = bpf_object__open_mem(image, len, &opts);
    rc = k->bpf ? 0 : (errno ? -errno : -EINVAL);
    if (rc && obj->elf_image) {
        /* a file libbpf 1.x will not open (legacy maps, static programs):
         * bpflua creates its maps and loads its programs itself */
        k->bpf = NULL;
        bl_libbpf_capture_end();
        bl_strbuf_free(&log);
        free(image);
        k->n_progs = obj->n_progs;
        k->n_maps = obj->n_maps;
        if ((rc = bl_kernel_load_direct(obj, k->map_fds, k->prog_fds, err)) < 0) {
            bl_kernel_close(k);
            return rc;
        }
        k->own_fds = 1;
        goto loaded;
    }
    if (rc) {
        k->bpf = NULL;
        bl_set_err(err, "kernel: libbpf cannot open the object: %s%s%s", strerror(-rc),
                   log.len ? "\n" : "", log.len ? log.buf : "");
    } else {
        set_types(k->bpf, obj);
        rc = bpf_object__load(k->bpf);
        if (rc) {
            char *msg = rejection_message(log.buf);
            bl_set_err(err, "%s", msg ? msg : "kernel: load failed");
            free(msg);
        }
    }
    bl_libbpf_capture_end();
    bl_strbuf_free(&log);
    free(image);
    if (rc) {
        bl_kernel_close(k);
        return rc < 0 ? rc : -EINVAL;
    }
    /* fds by our indexes: programs and maps carry the names we wrote
     * (names that are not C identifiers are changed by the writer) */
    k->n_progs = obj->n_progs;
    k->n_maps = obj->n_maps;
    uint32_t pi = 0, mi = 0;
    char **pnames = NULL, **mnames = NULL;
    if (!obj->elf_image && bl_elf_written_names(obj, &pnames, &mnames) < 0) {
        bl_kernel_close(k);
        bl_set_err(err, "kernel: out of memory");
        return -ENOMEM;
    }
    for (; pi < obj->n_progs; pi++) {
        struct bpf_program *bp = bpf_object__find_program_by_name(
            k->bpf, pnames ? pnames[pi] : obj->progs[pi].name);
        if (!bp)
            break;
        k->prog_fds[pi] = bpf_program__fd(bp);
    }
    for (; mi < obj->n_maps; mi++) {
        struct bpf_map *bm = bpf_object__find_map_by_name(
            k->bpf, mnames ? mnames[mi] : obj->maps[mi].name);
        if (!bm && is_template(obj, mi)) {
            k->map_fds[mi] = -1; /* an inner map template: no map of its own in the file */
            continue;
        }
        if (!bm)
            break;
        k->map_fds[mi] = bpf_map__fd(bm);
    }
    bl_elf_names_free(pnames, obj->n_progs);
    bl_elf_names_free(mnames, obj->n_maps);
    if (pi != obj->n_progs || mi != obj->n_maps) {
        bl_kernel_close(k);
        bl_set_err(err, "kernel: libbpf loaded %u programs and %u maps, expected %u and %u",
                   pi, mi, obj->n_progs, obj->n_maps);
        return -EPROTO;
    }
loaded:
    rc = place_init(obj, k, err);
    if (rc == 0)
        rc = open_ringbufs(obj, k, err);
    if (rc) {
        bl_kernel_close(k);
        return rc;
    }
    obj->kernel = k;
    obj->kernel_close = bl_kernel_close;
    return 0;
}

int bl_kernel_run(bpflua_object *obj, size_t prog, void *pkt, size_t len,
                  uint64_t repeat, struct bpflua_run_result *res, char **err)
{
    struct bpflua_run_opts ro = { .repeat = repeat };
    return bl_kernel_run_opts(obj, prog, pkt, len, &ro, res, err);
}

/* The __sk_buff a test run starts from: --ctx's fields, then the options */
static void skb_ctx_in(struct __sk_buff *in, const struct bpflua_run_opts *ro)
{
    memset(in, 0, sizeof *in);
    if (ro->ctx && ro->ctx_len)
        memcpy(in, ro->ctx, ro->ctx_len < sizeof *in ? ro->ctx_len : sizeof *in);
    uint32_t ifindex = ro->ifindex ? ro->ifindex : 1;
    if (!in->ifindex || ro->ifindex)
        in->ifindex = ifindex;
    if (!in->ingress_ifindex || ro->ifindex)
        in->ingress_ifindex = ifindex;
    if (ro->mark)
        in->mark = ro->mark;
    if (ro->priority)
        in->priority = ro->priority;
}

int bl_kernel_run_opts(bpflua_object *obj, size_t prog, void *pkt, size_t len,
                       const struct bpflua_run_opts *ro, struct bpflua_run_result *res,
                       char **err)
{
    uint64_t repeat = ro->repeat ? ro->repeat : 1;
    if (!obj || !res || (!pkt && len)) {
        bl_set_err(err, "kernel: bad arguments");
        return -EINVAL;
    }
    if (prog >= obj->n_progs) {
        bl_set_err(err, "kernel: no program %zu", prog);
        return -EINVAL;
    }
    const struct bl_prog_type *t = obj->progs[prog].type;
    if (len < XDP_MIN_PACKET && t->build == BL_BUILD_XDP) {
        bl_set_err(err, "kernel: XDP test runs need a packet of at least %d bytes (got %zu)",
                   XDP_MIN_PACKET, len);
        return -EINVAL;
    }
    if (!t->kernel_test_run && t->build != BL_BUILD_RAW) {
        bl_set_err(err, "kernel: %s programs cannot be test-run", t->name);
        return -ENOTSUP;
    }
    if (len > MAX_PACKET) {
        bl_set_err(err, "kernel: packet too large (%zu bytes)", len);
        return -EINVAL;
    }
    if (repeat > UINT32_MAX) {
        bl_set_err(err, "kernel: repeat count too large");
        return -EINVAL;
    }
    int rc = bl_kernel_load(obj, err);
    if (rc)
        return rc;
    uint8_t *out = malloc(len + 256);
    if (!out) {
        bl_set_err(err, "kernel: out of memory");
        return -ENOMEM;
    }
    /* runs on CPU 0, whose slots of per-CPU maps `bpflua run` shows */
    cpu_set_t old, cpu0;
    int pinned = sched_getaffinity(0, sizeof old, &old) == 0;
    CPU_ZERO(&cpu0);
    CPU_SET(0, &cpu0);
    if (pinned)
        pinned = sched_setaffinity(0, sizeof cpu0, &cpu0) == 0;
    struct bl_kernel_obj *k = obj->kernel;
    struct __sk_buff skb_in, skb_out;
    memset(&skb_out, 0, sizeof skb_out);
    if (t->build == BL_BUILD_SKB)
        skb_ctx_in(&skb_in, ro);
    /* with ring buffers, one run per call so that each run's events are
     * read before the next (the kernel runs `repeat` times back to back) */
    uint64_t calls = (k->rb || k->pb) ? repeat : 1, total_ns = 0;
    for (uint64_t r = 0; r < calls && rc == 0; r++) {
        LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt, .data_size_in = (uint32_t)len,
                    .data_out = out, .data_size_out = (uint32_t)len + 256,
                    .repeat = (k->rb || k->pb) ? 1 : (int)(repeat ? repeat : 1));
        if (t->build == BL_BUILD_SKB) {
            /* a struct __sk_buff in and out: mark, priority, ifindex */
            opts.ctx_in = &skb_in;
            opts.ctx_size_in = sizeof skb_in;
            opts.ctx_out = &skb_out;
            opts.ctx_size_out = sizeof skb_out;
        } else if (t->build == BL_BUILD_RAW) {
            /* tracing types: the context's bytes, no packet */
            opts.data_in = NULL;
            opts.data_size_in = 0;
            opts.data_out = NULL;
            opts.data_size_out = 0;
            opts.ctx_in = ro->ctx;
            opts.ctx_size_in = (uint32_t)ro->ctx_len;
        }
        rc = bpf_prog_test_run_opts(k->prog_fds[prog], &opts);
        if (rc) {
            rc = errno ? -errno : -EIO;
            bl_set_err(err, "kernel: BPF_PROG_TEST_RUN failed: %s", strerror(-rc));
            break;
        }
        /* run r + 1 starts where run r ended, as the kernel's own repeat
         * does: the packet as written, mark, priority and cb[] as set */
        if (opts.data_out)
            memcpy(pkt, out, opts.data_size_out < len ? opts.data_size_out : len);
        if (t->build == BL_BUILD_SKB) {
            skb_in.mark = skb_out.mark;
            skb_in.priority = skb_out.priority;
            memcpy(skb_in.cb, skb_out.cb, sizeof skb_in.cb);
        }
        res->retval = opts.retval;
        total_ns += opts.duration;
        k->rb_keep = r == 0;
        for (uint32_t i = 0; k->pb && i < k->n_maps; i++)
            if (k->pb[i] && perf_buffer__consume(k->pb[i]) < 0)
                k->rb_failed = 1;
        if (k->rb || k->rb_failed) {
            int n = k->rb ? ring_buffer__consume(k->rb) : 0;
            if (n < 0 || k->rb_failed) {
                k->rb_failed = 0;
                rc = n < 0 ? n : -ENOMEM;
                bl_set_err(err, "kernel: cannot read the run's events: %s", strerror(-rc));
            }
        }
    }
    int drops = k->rb ? bl_object_drops_map(obj) : -1;
    if (rc == 0 && drops >= 0) {
        uint64_t n = 0;
        rc = take_kernel_drops(obj, k, drops, &n);
        if (rc < 0)
            bl_set_err(err, "kernel: cannot read the dropped-event count: %s", strerror(-rc));
        obj->events.dropped += n;
    }
    if (pinned)
        sched_setaffinity(0, sizeof old, &old);
    free(out);
    res->ns_per_run = (k->rb || k->pb) ? total_ns / calls : total_ns;
    res->insns = 0;
    if (rc == 0 && t->build == BL_BUILD_SKB) {
        res->mark = skb_out.mark;
        res->priority = skb_out.priority;
    }
    return rc;
}

int bl_kernel_map_fd(bpflua_object *obj, size_t map)
{
    if (!obj || !obj->kernel)
        return -ENOENT;
    if (map >= obj->kernel->n_maps)
        return -EINVAL;
    return obj->kernel->map_fds[map];
}

int bl_kernel_prog_fd(bpflua_object *obj, size_t prog)
{
    if (!obj || !obj->kernel)
        return -ENOENT;
    if (prog >= obj->kernel->n_progs)
        return -EINVAL;
    return obj->kernel->prog_fds[prog];
}
