/* attach.c - live filters: attach a program to a network interface (XDP)
 * and read its maps from the kernel while it runs.
 *
 * bpflua objects are loaded through the kernel loader of engine/kernel.h
 * (bl_kernel_load, then bl_kernel_prog_fd/bl_kernel_map_fd; the fds are
 * dup'd so the attachment outlives nothing it needs); ELF files are opened
 * with libbpf directly. Attaching is bpf_xdp_attach with XDP_FLAGS_UPDATE_IF_NOEXIST,
 * detaching is bpf_xdp_detach with XDP_FLAGS_REPLACE so that only our own
 * program is ever removed.
 */
#include "attach.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <net/if.h>
#include <linux/if_link.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "attach_tc.h"
#include "kernel.h"
#include "object.h"


struct bl_attach_map {
    struct bl_attach_map_info info;
    char name[BL_NAME_MAX];
};

struct bl_attachment {
    char ifname[IF_NAMESIZE];
    int ifindex;
    enum bl_attach_mode mode;
    char prog_name[BL_NAME_MAX];
    int prog_fd;                 /* ours (dup'd or owned through lobj) */
    uint32_t prog_id;
    struct bpf_object *lobj;     /* when we loaded it with libbpf */
    const bpflua_object *owner;  /* bl_attach's object, for bl_attachment_for_object */
    struct bl_attach_map *maps;
    size_t n_maps;
    int attached;
    int pinned;
    int slot;                    /* in the emergency table, or -1 */
    struct bl_tc_state tc;       /* tc modes */
};

static int is_tc_mode(enum bl_attach_mode m)
{
    return m == BL_ATTACH_TC_INGRESS || m == BL_ATTACH_TC_EGRESS;
}

static int is_tc_section(const char *sec)
{
    return !strcmp(sec, "tc") || !strncmp(sec, "tc/", 3) || !strncmp(sec, "classifier", 10);
}

/* ---- emergency detach table (read from signal handlers) ------------------- */

#define BL_ATTACH_SLOTS 64

static struct {
    volatile sig_atomic_t active;
    int ifindex;
    uint32_t flags;
    int prog_fd;
    int is_tc;
    struct bl_tc_state tc;
} g_slots[BL_ATTACH_SLOTS];

/* live attachments made by bl_attach, for bl_attachment_for_object */
static struct bl_attachment *g_by_object[BL_ATTACH_SLOTS];

static uint32_t mode_flag(enum bl_attach_mode m)
{
    return m == BL_ATTACH_NATIVE ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE;
}

static void slot_add(struct bl_attachment *a)
{
    a->slot = -1;
    for (int i = 0; i < BL_ATTACH_SLOTS; i++) {
        if (!g_slots[i].active) {
            g_slots[i].ifindex = a->ifindex;
            g_slots[i].flags = mode_flag(a->mode);
            g_slots[i].prog_fd = a->prog_fd;
            g_slots[i].is_tc = is_tc_mode(a->mode);
            g_slots[i].tc = a->tc;
            g_slots[i].active = 1;
            a->slot = i;
            return;
        }
    }
}

static void slot_remove(struct bl_attachment *a)
{
    if (a->slot >= 0)
        g_slots[a->slot].active = 0;
    a->slot = -1;
}

void bl_attach_emergency_detach(void)
{
    for (int i = 0; i < BL_ATTACH_SLOTS; i++) {
        if (!g_slots[i].active)
            continue;
        g_slots[i].active = 0;
        if (g_slots[i].is_tc) {
            bl_tc_detach(&g_slots[i].tc);
            continue;
        }
        LIBBPF_OPTS(bpf_xdp_attach_opts, o, .old_prog_fd = g_slots[i].prog_fd);
        bpf_xdp_detach(g_slots[i].ifindex, g_slots[i].flags | XDP_FLAGS_REPLACE, &o);
    }
}

/* ---- libbpf messages, captured for error reports --------------------------- */

static struct bl_strbuf g_log;
static libbpf_print_fn_t g_prev_print;
static int g_capturing;

static int capture_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
    if (level == LIBBPF_DEBUG)
        return 0;
    char line[1024];
    int n = vsnprintf(line, sizeof line, fmt, ap);
    if (n > 0)
        bl_strbuf_append(&g_log, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
    return n;
}

static void capture_begin(void)
{
    if (g_capturing++)
        return;
    bl_strbuf_free(&g_log);
    g_prev_print = libbpf_set_print(capture_print);
}

static void capture_end(void)
{
    if (--g_capturing)
        return;
    libbpf_set_print(g_prev_print);
}

/* The captured libbpf output (trimmed to its last 3000 bytes), or "". */
static const char *captured(void)
{
    if (!g_log.buf)
        return "";
    if (g_log.len > 3000)
        return g_log.buf + g_log.len - 3000;
    return g_log.buf;
}

/* ---- errors ---------------------------------------------------------------------- */

static int load_error(int e, const char *what, char **err)
{
    if (e < 0)
        e = -e;
    const char *log = captured();
    if (e == EPERM || e == EACCES) {
        if (geteuid() != 0)
            bl_set_err(err, "%s: permission denied: loading BPF programs needs root "
                       "(or CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN)", what);
        else
            bl_set_err(err, "%s: the kernel refused the program (%s)%s%s", what, strerror(e),
                       *log ? "\n" : "", log);
    } else if (e == ENOSYS) {
        bl_set_err(err, "%s: this kernel has no BPF support (bpf(2): %s)", what, strerror(e));
    } else {
        bl_set_err(err, "%s: %s%s%s", what, strerror(e), *log ? "\n" : "", log);
    }
    return -e;
}

static int attach_error(int e, const char *ifname, enum bl_attach_mode mode, char **err)
{
    if (e < 0)
        e = -e;
    const char *log = captured();
    if (e == EBUSY || e == EEXIST)
        bl_set_err(err, "interface %s already has an XDP program; detach it with "
                   "`bpflua detach --dev %s`", ifname, ifname);
    else if (e == EPERM || e == EACCES)
        bl_set_err(err, "attaching to %s: permission denied: run as root (or with "
                   "CAP_BPF and CAP_NET_ADMIN)", ifname);
    else if (e == ENODEV)
        bl_set_err(err, "attaching to %s: no such interface", ifname);
    else if (mode == BL_ATTACH_NATIVE && (e == EOPNOTSUPP || e == EINVAL))
        bl_set_err(err, "attaching to %s in native mode failed (%s): the driver may not "
                   "support native XDP (or the MTU is too large); try --mode skb%s%s",
                   ifname, strerror(e), *log ? "\n" : "", log);
    else
        bl_set_err(err, "attaching to %s: %s%s%s", ifname, strerror(e), *log ? "\n" : "", log);
    return -e;
}

/* ---- small public helpers ------------------------------------------------------- */

int bl_attach_parse_mode(const char *s, enum bl_attach_mode *out, char **err)
{
    if (s && (!strcmp(s, "skb") || !strcmp(s, "generic"))) {
        *out = BL_ATTACH_SKB;
        return 0;
    }
    if (s && (!strcmp(s, "native") || !strcmp(s, "drv") || !strcmp(s, "driver"))) {
        *out = BL_ATTACH_NATIVE;
        return 0;
    }
    if (s && (!strcmp(s, "ingress") || !strcmp(s, "egress"))) {
        *out = s[0] == 'i' ? BL_ATTACH_TC_INGRESS : BL_ATTACH_TC_EGRESS;
        return 0;
    }
    bl_set_err(err, "unknown attach mode '%s': use skb or native", s ? s : "(null)");
    return -EINVAL;
}

const char *bl_attach_mode_name(enum bl_attach_mode mode)
{
    switch (mode) {
    case BL_ATTACH_NATIVE: return "native";
    case BL_ATTACH_TC_INGRESS: return "tc ingress";
    case BL_ATTACH_TC_EGRESS: return "tc egress";
    default: return "skb";
    }
}

/* The mode a program of section `sec` is attached in, or -EINVAL. */
static int fit_mode(const char *name, const char *sec, enum bl_attach_mode *mode, char **err)
{
    int tc = is_tc_section(sec);
    if (tc && *mode == BL_ATTACH_SKB)
        *mode = BL_ATTACH_TC_INGRESS;
    if (tc && *mode == BL_ATTACH_NATIVE) {
        bl_set_err(err, "program '%s' is a tc program: attach it with --ingress or --egress, "
                   "not --mode native", name);
        return -EINVAL;
    }
    if (!tc && is_tc_mode(*mode)) {
        bl_set_err(err, "program '%s' is not a tc program (section '%s'): --ingress and "
                   "--egress are for tc programs", name, sec);
        return -EINVAL;
    }
    return 0;
}

int bl_attach_ifindex(const char *ifname, char **err)
{
    if (!ifname || !*ifname) {
        bl_set_err(err, "no interface given (--dev IFACE)");
        return -EINVAL;
    }
    if (strlen(ifname) >= IF_NAMESIZE) {
        bl_set_err(err, "interface name '%s' is too long (at most %d characters)",
                   ifname, IF_NAMESIZE - 1);
        return -EINVAL;
    }
    errno = 0;
    unsigned idx = if_nametoindex(ifname);
    if (!idx) {
        int e = errno ? errno : ENODEV;
        if (e == ENXIO || e == ENODEV)
            bl_set_err(err, "no such interface: %s (see `ip link`)", ifname);
        else
            bl_set_err(err, "interface %s: %s", ifname, strerror(e));
        return -ENODEV;
    }
    return (int)idx;
}

/* Refuses early (before loading) when the interface already has a program. */
static int check_free(int ifindex, const char *ifname, char **err)
{
    LIBBPF_OPTS(bpf_xdp_query_opts, q);
    if (bpf_xdp_query(ifindex, 0, &q) == 0 && q.attach_mode != 0 /* XDP_ATTACHED_NONE */) {
        bl_set_err(err, "interface %s already has an XDP program (id %u); detach it with "
                   "`bpflua detach --dev %s`", ifname,
                   q.prog_id ? q.prog_id : q.skb_prog_id ? q.skb_prog_id : q.drv_prog_id,
                   ifname);
        return -EBUSY;
    }
    return 0;
}

static int is_percpu(uint32_t type)
{
    return type == BPF_MAP_TYPE_PERCPU_ARRAY || type == BPF_MAP_TYPE_PERCPU_HASH ||
           type == BPF_MAP_TYPE_LRU_PERCPU_HASH;
}

static void set_map(struct bl_attach_map *m, const char *name, uint32_t type, uint32_t ks,
                    uint32_t vs, uint32_t max, int ksg, int vsg, int fd)
{
    snprintf(m->name, sizeof m->name, "%s", name);
    m->info.name = m->name;
    m->info.type = type;
    m->info.key_size = ks;
    m->info.value_size = vs;
    m->info.max_entries = max;
    m->info.key_signed = ksg;
    m->info.value_signed = vsg;
    m->info.fd = fd;
    m->info.percpu = is_percpu(type);
    m->info.n_cpus = 1;
    m->info.value_stride = vs;
    if (m->info.percpu) {
        int n = libbpf_num_possible_cpus();
        m->info.n_cpus = n > 0 ? (uint32_t)n : 1;
        m->info.value_stride = (vs + 7) & ~7u;
    }
}

static struct bl_attachment *attachment_new(const char *ifname, int ifindex,
                                            enum bl_attach_mode mode)
{
    struct bl_attachment *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    snprintf(a->ifname, sizeof a->ifname, "%s", ifname);
    a->ifindex = ifindex;
    a->mode = mode;
    a->prog_fd = -1;
    a->slot = -1;
    return a;
}

/* Attaches a->prog_fd; fills prog_id. */
static int do_attach(struct bl_attachment *a, char **err)
{
    if (is_tc_mode(a->mode)) {
        char *terr = NULL;
        int r = bl_tc_attach(&a->tc, a->ifindex, a->mode == BL_ATTACH_TC_EGRESS, a->prog_fd,
                             &terr);
        if (r < 0) {
            if (r == -EPERM || r == -EACCES)
                bl_set_err(err, "attaching to %s: permission denied: run as root (or with "
                           "CAP_BPF and CAP_NET_ADMIN)", a->ifname);
            else
                bl_set_err(err, "attaching to %s: %s", a->ifname, terr ? terr : strerror(-r));
            free(terr);
            return r;
        }
        a->attached = 1;
        a->prog_id = a->tc.prog_id;
        slot_add(a);
        return 0;
    }
    uint32_t flags = mode_flag(a->mode) | XDP_FLAGS_UPDATE_IF_NOEXIST;
    capture_begin();
    int r = bpf_xdp_attach(a->ifindex, a->prog_fd, flags, NULL);
    if (r < 0) {
        r = attach_error(r, a->ifname, a->mode, err);
        capture_end();
        return r;
    }
    capture_end();
    a->attached = 1;
    slot_add(a);
    struct bpf_prog_info info;
    uint32_t len = sizeof info;
    memset(&info, 0, sizeof info);
    if (bpf_obj_get_info_by_fd(a->prog_fd, &info, &len) == 0)
        a->prog_id = info.id;
    return 0;
}

/* ---- loading with libbpf ---------------------------------------------------------- */

/* Takes ownership of lobj (opened, not loaded). */
static int load_libbpf(struct bl_attachment *a, struct bpf_object *lobj, const char *what,
                       const char *prog_name, char **err)
{
    a->lobj = lobj;
    struct bpf_program *want = NULL, *p;
    if (prog_name) {
        want = bpf_object__find_program_by_name(lobj, prog_name);
        if (!want) {
            struct bl_strbuf names = {0};
            bpf_object__for_each_program(p, lobj)
                bl_strbuf_printf(&names, "%s%s", names.len ? ", " : "", bpf_program__name(p));
            bl_set_err(err, "%s: no program named '%s' (it has: %s)", what, prog_name,
                       names.buf ? names.buf : "none");
            bl_strbuf_free(&names);
            return -ENOENT;
        }
    } else {
        /* the first XDP program, else the first tc program, else an untyped one */
        enum bpf_prog_type order[] = { BPF_PROG_TYPE_XDP, BPF_PROG_TYPE_SCHED_CLS,
                                       BPF_PROG_TYPE_UNSPEC };
        for (size_t k = 0; k < 3 && !want; k++)
            bpf_object__for_each_program(p, lobj) {
                if (bpf_program__type(p) == order[k]) {
                    want = p;
                    break;
                }
            }
        if (!want) {
            bl_set_err(err, "%s: no XDP or tc program in this object", what);
            return -ENOENT;
        }
    }
    bpf_object__for_each_program(p, lobj)
        bpf_program__set_autoload(p, p == want);
    enum bpf_prog_type type = bpf_program__type(want);
    if (type == BPF_PROG_TYPE_UNSPEC) {
        type = is_tc_mode(a->mode) ? BPF_PROG_TYPE_SCHED_CLS : BPF_PROG_TYPE_XDP;
        bpf_program__set_type(want, type);
    }
    if (type != BPF_PROG_TYPE_XDP && type != BPF_PROG_TYPE_SCHED_CLS) {
        bl_set_err(err, "%s: program '%s' is not an XDP or tc program (section '%s')", what,
                   bpf_program__name(want), bpf_program__section_name(want));
        return -EINVAL;
    }
    int r = fit_mode(bpf_program__name(want), type == BPF_PROG_TYPE_SCHED_CLS ? "tc" : "xdp",
                     &a->mode, err);
    if (r == 0 && !is_tc_mode(a->mode))
        r = check_free(a->ifindex, a->ifname, err);
    if (r < 0)
        return r;
    capture_begin();
    r = bpf_object__load(lobj);
    if (r < 0) {
        r = load_error(r, what, err);
        capture_end();
        return r;
    }
    capture_end();
    snprintf(a->prog_name, sizeof a->prog_name, "%s", bpf_program__name(want));
    a->prog_fd = bpf_program__fd(want);

    struct bpf_map *m;
    size_t n = 0;
    bpf_object__for_each_map(m, lobj)
        n++;
    a->maps = calloc(n ? n : 1, sizeof *a->maps);
    if (!a->maps) {
        bl_set_err(err, "out of memory");
        return -ENOMEM;
    }
    bpf_object__for_each_map(m, lobj) {
        if (bpf_map__is_internal(m))
            continue;
        set_map(&a->maps[a->n_maps++], bpf_map__name(m), bpf_map__type(m),
                bpf_map__key_size(m), bpf_map__value_size(m), bpf_map__max_entries(m), 0, 0,
                bpf_map__fd(m));
    }
    return 0;
}

static void attachment_close(struct bl_attachment *a)
{
    if (a->lobj) {
        bpf_object__close(a->lobj);
    } else {
        if (a->prog_fd >= 0)
            close(a->prog_fd);
        for (size_t i = 0; i < a->n_maps; i++)
            if (a->maps[i].info.fd >= 0)
                close(a->maps[i].info.fd);
    }
    for (int i = 0; i < BL_ATTACH_SLOTS; i++)
        if (g_by_object[i] == a)
            g_by_object[i] = NULL;
    free(a->maps);
    free(a);
}

/* The checks both ways of attaching start with: a valid mode, an existing
 * interface and, for XDP, no XDP program on it yet. Returns its ifindex. */
static int attach_target(const char *ifname, enum bl_attach_mode mode, int check, char **err)
{
    if (mode != BL_ATTACH_SKB && mode != BL_ATTACH_NATIVE && !is_tc_mode(mode)) {
        bl_set_err(err, "bad attach mode %d", (int)mode);
        return -EINVAL;
    }
    int ifindex = bl_attach_ifindex(ifname, err);
    if (ifindex < 0)
        return ifindex;
    int r = check && !is_tc_mode(mode) ? check_free(ifindex, ifname, err) : 0;
    return r < 0 ? r : ifindex;
}

int bl_attach_elf_file(const char *path, const char *prog_name, const char *ifname,
                       enum bl_attach_mode mode, struct bl_attachment **out, char **err)
{
    *out = NULL;
    /* the program's type decides the mode: checked once it is known */
    int ifindex = attach_target(ifname, mode, 0, err);
    if (ifindex < 0)
        return ifindex;
    capture_begin();
    struct bpf_object *lobj = bpf_object__open_file(path, NULL);
    if (!lobj) {
        int e = errno;
        const char *log = captured();
        bl_set_err(err, "%s: cannot open as a BPF object: %s%s%s", path, strerror(e),
                   *log ? "\n" : "", log);
        capture_end();
        return -e;
    }
    capture_end();
    struct bl_attachment *a = attachment_new(ifname, ifindex, mode);
    if (!a) {
        bpf_object__close(lobj);
        bl_set_err(err, "out of memory");
        return -ENOMEM;
    }
    int r = load_libbpf(a, lobj, path, prog_name, err);
    if (r == 0)
        r = do_attach(a, err);
    if (r < 0) {
        attachment_close(a);
        return r;
    }
    *out = a;
    return 0;
}

/* ---- bpflua objects ------------------------------------------------------------------ */

static int dup_fd(int fd)
{
    return fd < 0 ? fd : fcntl(fd, F_DUPFD_CLOEXEC, 3);
}

static int load_kernel_loader(struct bl_attachment *a, bpflua_object *obj, size_t prog,
                              char **err)
{
    const char *sec = obj->progs[prog].section;
    if (strncmp(sec, "xdp", 3) != 0 && !is_tc_section(sec)) {
        bl_set_err(err, "program '%s' is not an XDP or tc program (section '%s')",
                   obj->progs[prog].name, sec);
        return -EINVAL;
    }
    char *kerr = NULL;
    int r = bl_kernel_load(obj, &kerr);
    if (r < 0) {
        if ((r == -EPERM || r == -EACCES) && geteuid() != 0) {
            free(kerr);
            return load_error(r, obj->progs[prog].name, err);
        }
        if (err)
            *err = kerr;
        else
            free(kerr);
        return r;
    }
    int fd = bl_kernel_prog_fd(obj, prog);
    if (fd < 0) {
        bl_set_err(err, "program %zu has no kernel fd (%s)", prog, strerror(-fd));
        return fd;
    }
    a->prog_fd = dup_fd(fd);
    if (a->prog_fd < 0) {
        bl_set_err(err, "dup: %s", strerror(errno));
        return -errno;
    }
    a->maps = calloc(obj->n_maps ? obj->n_maps : 1, sizeof *a->maps);
    if (!a->maps) {
        bl_set_err(err, "out of memory");
        return -ENOMEM;
    }
    for (uint32_t i = 0; i < obj->n_maps; i++) {
        const struct bl_map_def *d = &obj->maps[i];
        int mfd = bl_kernel_map_fd(obj, i);
        set_map(&a->maps[a->n_maps++], d->name, d->type, d->key_size, d->value_size,
                d->max_entries, d->key_signed, d->value_signed, dup_fd(mfd));
    }
    return 0;
}

int bl_attach(bpflua_object *obj, size_t prog, const char *ifname, enum bl_attach_mode mode,
              struct bl_attachment **out, char **err)
{
    *out = NULL;
    if (!obj || prog >= obj->n_progs) {
        bl_set_err(err, "no program %zu in this object", prog);
        return -EINVAL;
    }
    int r = fit_mode(obj->progs[prog].name, obj->progs[prog].section, &mode, err);
    if (r < 0)
        return r;
    int ifindex = attach_target(ifname, mode, 1, err);
    if (ifindex < 0)
        return ifindex;
    struct bl_attachment *a = attachment_new(ifname, ifindex, mode);
    if (!a) {
        bl_set_err(err, "out of memory");
        return -ENOMEM;
    }
    snprintf(a->prog_name, sizeof a->prog_name, "%s", obj->progs[prog].name);
    r = load_kernel_loader(a, obj, prog, err);
    if (r == 0)
        r = do_attach(a, err);
    if (r < 0) {
        attachment_close(a);
        return r;
    }
    a->owner = obj;
    for (int i = 0; i < BL_ATTACH_SLOTS; i++) {
        if (!g_by_object[i]) {
            g_by_object[i] = a;
            break;
        }
    }
    *out = a;
    return 0;
}

struct bl_attachment *bl_attachment_for_object(const bpflua_object *obj)
{
    for (int i = BL_ATTACH_SLOTS - 1; i >= 0; i--)
        if (g_by_object[i] && g_by_object[i]->owner == obj && g_by_object[i]->attached)
            return g_by_object[i];
    return NULL;
}

/* ---- detaching and pinning -------------------------------------------------------------- */

int bl_detach(struct bl_attachment *a, char **err)
{
    if (!a || !a->attached)
        return 0;
    if (is_tc_mode(a->mode)) {
        slot_remove(a);
        a->attached = 0;
        int r = bl_tc_detach(&a->tc);
        if (r < 0 && r != -ENODEV) {
            bl_set_err(err, "detaching from %s: %s", a->ifname, strerror(-r));
            return r;
        }
        return 0;
    }
    LIBBPF_OPTS(bpf_xdp_attach_opts, o, .old_prog_fd = a->prog_fd);
    slot_remove(a);
    a->attached = 0;
    int r = bpf_xdp_detach(a->ifindex, mode_flag(a->mode) | XDP_FLAGS_REPLACE, &o);
    if (r < 0 && r != -ENODEV) {
        if (r == -EEXIST)
            bl_set_err(err, "%s: our program is no longer the one attached; left as is",
                       a->ifname);
        else
            bl_set_err(err, "detaching from %s: %s", a->ifname, strerror(-r));
        return r;
    }
    return 0;
}

int bl_attachment_check(struct bl_attachment *a, char **err)
{
    if (!a->attached) {
        bl_set_err(err, "not attached");
        return -ESRCH;
    }
    errno = 0;
    if (if_nametoindex(a->ifname) != (unsigned)a->ifindex) {
        /* the index may have been reused under our name: check by index */
        char name[IF_NAMESIZE];
        if (!if_indextoname((unsigned)a->ifindex, name)) {
            slot_remove(a);
            a->attached = 0;
            bl_set_err(err, "interface %s is gone", a->ifname);
            return -ENODEV;
        }
    }
    if (is_tc_mode(a->mode)) {
        uint32_t id = 0;
        int r = bl_tc_prog_id(a->ifindex, a->mode == BL_ATTACH_TC_EGRESS, &id);
        if (r == -ENODEV) {
            slot_remove(a);
            a->attached = 0;
            a->tc.attached = 0;
            bl_set_err(err, "interface %s is gone", a->ifname);
            return -ENODEV;
        }
        if (r < 0 && r != -ENOENT && r != -EINVAL)
            return 0; /* cannot tell */
        if (r < 0 || id != a->prog_id) {
            slot_remove(a);
            a->attached = 0;
            a->tc.attached = 0; /* what is there now is not ours to remove */
            if (r == 0)
                bl_set_err(err, "%s's tc hook now has another bpflua program (id %u): ours "
                           "(id %u) was replaced", a->ifname, id, a->prog_id);
            else
                bl_set_err(err, "our tc program (id %u) was detached from %s by someone else",
                           a->prog_id, a->ifname);
            return -ESRCH;
        }
        return 0;
    }
    LIBBPF_OPTS(bpf_xdp_query_opts, q);
    int r = bpf_xdp_query(a->ifindex, 0, &q);
    if (r == -ENODEV) {
        slot_remove(a);
        a->attached = 0;
        bl_set_err(err, "interface %s is gone", a->ifname);
        return -ENODEV;
    }
    if (r < 0)
        return 0; /* cannot tell: assume it is still there */
    uint32_t id = a->mode == BL_ATTACH_NATIVE ? q.drv_prog_id : q.skb_prog_id;
    if (!id && q.prog_id && q.attach_mode != 4 /* XDP_ATTACHED_MULTI */)
        id = q.prog_id;
    if (id != a->prog_id) {
        slot_remove(a);
        a->attached = 0;
        if (id)
            bl_set_err(err, "%s now has another XDP program (id %u): ours (id %u) was "
                       "replaced", a->ifname, id, a->prog_id);
        else
            bl_set_err(err, "our program (id %u) was detached from %s by someone else",
                       a->prog_id, a->ifname);
        return -ESRCH;
    }
    return 0;
}

void bl_attachment_free(struct bl_attachment *a)
{
    if (!a)
        return;
    if (!a->pinned)
        bl_detach(a, NULL);
    else
        slot_remove(a);
    attachment_close(a);
}

static int pin_one(int fd, const char *path, char **err)
{
    int r = bpf_obj_pin(fd, path);
    if (r < 0) {
        if (r == -EPERM || r == -EINVAL || r == -ENOENT)
            bl_set_err(err, "cannot pin at %s: %s (the path must be on a mounted bpffs, "
                       "e.g. mount -t bpf bpf /sys/fs/bpf)", path, strerror(-r));
        else
            bl_set_err(err, "cannot pin at %s: %s", path, strerror(-r));
    }
    return r;
}

int bl_attachment_pin(struct bl_attachment *a, const char *path, char **err)
{
    if (!a->attached) {
        bl_set_err(err, "not attached");
        return -EINVAL;
    }
    int r = pin_one(a->prog_fd, path, err);
    if (r < 0)
        return r;
    for (size_t i = 0; i < a->n_maps; i++) {
        char mp[PATH_MAX];
        if (snprintf(mp, sizeof mp, "%s_%s", path, a->maps[i].name) >= (int)sizeof mp)
            continue;
        r = pin_one(a->maps[i].info.fd, mp, err);
        if (r < 0) {
            for (size_t j = 0; j < i; j++) {
                snprintf(mp, sizeof mp, "%s_%s", path, a->maps[j].name);
                unlink(mp);
            }
            unlink(path);
            return r;
        }
    }
    a->pinned = 1;
    slot_remove(a);
    return 0;
}

static uint32_t fd_id(int fd)
{
    struct bpf_prog_info info; /* id is the first field of both info structs */
    uint32_t len = sizeof info;
    memset(&info, 0, sizeof info);
    if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0)
        return 0;
    return info.id;
}

/* Removes the pins bl_attachment_pin made at path (program and its maps). */
static int unpin(const char *path, char **err)
{
    int fd = bpf_obj_get(path);
    if (fd < 0) {
        bl_set_err(err, "nothing pinned at %s: %s", path, strerror(-fd));
        return fd;
    }
    uint32_t map_ids[64];
    struct bpf_prog_info info;
    uint32_t len = sizeof info;
    memset(&info, 0, sizeof info);
    info.nr_map_ids = 64;
    info.map_ids = (uint64_t)(uintptr_t)map_ids;
    int r = bpf_obj_get_info_by_fd(fd, &info, &len);
    close(fd);
    if (r == 0) {
        uint32_t n = info.nr_map_ids < 64 ? info.nr_map_ids : 64;
        for (uint32_t i = 0; i < n; i++) {
            int mfd = bpf_map_get_fd_by_id(map_ids[i]);
            if (mfd < 0)
                continue;
            struct bpf_map_info mi;
            uint32_t ml = sizeof mi;
            memset(&mi, 0, sizeof mi);
            if (bpf_obj_get_info_by_fd(mfd, &mi, &ml) == 0) {
                char mp[PATH_MAX];
                if (snprintf(mp, sizeof mp, "%s_%s", path, mi.name) < (int)sizeof mp) {
                    int pfd = bpf_obj_get(mp);
                    if (pfd >= 0) {
                        if (fd_id(pfd) == mi.id)
                            unlink(mp);
                        close(pfd);
                    }
                }
            }
            close(mfd);
        }
    }
    if (unlink(path) < 0) {
        bl_set_err(err, "cannot remove %s: %s", path, strerror(errno));
        return -errno;
    }
    return 0;
}

int bl_detach_dev(const char *ifname, const char *pin_path, char **err)
{
    int ifindex = bl_attach_ifindex(ifname, err);
    if (ifindex < 0)
        return ifindex;
    LIBBPF_OPTS(bpf_xdp_query_opts, q);
    int r = bpf_xdp_query(ifindex, 0, &q);
    if (r < 0) {
        bl_set_err(err, "cannot query %s: %s", ifname, strerror(-r));
        return r;
    }
    int found = 0;
    struct { uint32_t id; uint32_t flag; } modes[] = {
        { q.skb_prog_id, XDP_FLAGS_SKB_MODE },
        { q.drv_prog_id, XDP_FLAGS_DRV_MODE },
        { q.hw_prog_id, XDP_FLAGS_HW_MODE },
    };
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        if (!modes[i].id)
            continue;
        found = 1;
        r = bpf_xdp_detach(ifindex, modes[i].flag, NULL);
        if (r < 0) {
            if (r == -EBUSY)
                bl_set_err(err, "the XDP program on %s (id %u) is held by a bpf_link; remove "
                           "the link (its pin, or the process holding it) instead", ifname,
                           modes[i].id);
            else if (r == -EPERM || r == -EACCES)
                bl_set_err(err, "detaching from %s: permission denied: run as root (or "
                           "with CAP_NET_ADMIN)", ifname);
            else
                bl_set_err(err, "detaching from %s: %s", ifname, strerror(-r));
            return r;
        }
    }
    if (pin_path) {
        r = unpin(pin_path, err);
        if (r < 0)
            return r;
    }
    int tc_found = 0;
    r = bl_tc_detach_dev(ifindex, &tc_found);
    if (r < 0 && r != -ENODEV) {
        if (r == -EPERM || r == -EACCES)
            bl_set_err(err, "detaching from %s: permission denied: run as root (or with "
                       "CAP_NET_ADMIN)", ifname);
        else
            bl_set_err(err, "removing the tc filters of %s: %s", ifname, strerror(-r));
        return r;
    }
    if (!found && !tc_found && !pin_path) {
        bl_set_err(err, "interface %s has no XDP program attached (nor a bpflua tc program)",
                   ifname);
        return -ENOENT;
    }
    return 0;
}

/* ---- accessors ------------------------------------------------------------------------------ */

const char *bl_attachment_ifname(const struct bl_attachment *a) { return a->ifname; }
int bl_attachment_ifindex(const struct bl_attachment *a) { return a->ifindex; }
enum bl_attach_mode bl_attachment_mode(const struct bl_attachment *a) { return a->mode; }
const char *bl_attachment_prog_name(const struct bl_attachment *a) { return a->prog_name; }
uint32_t bl_attachment_prog_id(const struct bl_attachment *a) { return a->prog_id; }
int bl_attachment_prog_fd(const struct bl_attachment *a) { return a->prog_fd; }
int bl_attachment_is_attached(const struct bl_attachment *a) { return a->attached; }

size_t bl_attachment_map_count(const struct bl_attachment *a) { return a->n_maps; }

const struct bl_attach_map_info *bl_attachment_map(const struct bl_attachment *a, size_t i)
{
    return i < a->n_maps ? &a->maps[i].info : NULL;
}

int bl_attachment_map_find(const struct bl_attachment *a, const char *name)
{
    for (size_t i = 0; i < a->n_maps; i++)
        if (!strcmp(a->maps[i].name, name))
            return (int)i;
    return -1;
}

size_t bl_attachment_map_value_buf(const struct bl_attachment *a, size_t i)
{
    if (i >= a->n_maps)
        return 0;
    const struct bl_attach_map_info *m = &a->maps[i].info;
    return (size_t)m->n_cpus * (m->percpu ? m->value_stride : m->value_size);
}

int bl_attachment_map_next_key(const struct bl_attachment *a, size_t i, const void *key,
                               void *next_key)
{
    if (i >= a->n_maps)
        return -EINVAL;
    if (a->maps[i].info.type == BPF_MAP_TYPE_RINGBUF)
        return -ENOENT;
    int r = bpf_map_get_next_key(a->maps[i].info.fd, key, next_key);
    return r < 0 ? (errno ? -errno : r) : 0;
}

int bl_attachment_map_lookup(const struct bl_attachment *a, size_t i, const void *key,
                             void *value)
{
    if (i >= a->n_maps)
        return -EINVAL;
    if (a->maps[i].info.type == BPF_MAP_TYPE_RINGBUF)
        return -ENOENT;
    int r = bpf_map_lookup_elem(a->maps[i].info.fd, key, value);
    return r < 0 ? (errno ? -errno : r) : 0;
}

static int64_t read_int(const unsigned char *p, uint32_t size, int is_signed)
{
    switch (size) {
    case 1: { uint8_t v; memcpy(&v, p, 1); return is_signed ? (int64_t)(int8_t)v : v; }
    case 2: { uint16_t v; memcpy(&v, p, 2); return is_signed ? (int64_t)(int16_t)v : v; }
    case 4: { uint32_t v; memcpy(&v, p, 4); return is_signed ? (int64_t)(int32_t)v : v; }
    default: {
        uint64_t v = 0;
        memcpy(&v, p, size < 8 ? size : 8);
        return (int64_t)v;
    }
    }
}

int64_t bl_attach_value_as_int(const struct bl_attach_map_info *m, const void *value)
{
    const unsigned char *p = value;
    uint64_t sum = 0;
    for (uint32_t c = 0; c < m->n_cpus; c++)
        sum += (uint64_t)read_int(p + (size_t)c * m->value_stride, m->value_size,
                                  m->value_signed);
    return (int64_t)sum;
}
