/* attach_cmd.c - `bpflua attach` (a live filter with a refreshing view of
 * its maps) and `bpflua detach`.
 *
 * The program is detached on every way out: normal end (--count), Ctrl-C,
 * SIGTERM, SIGHUP, a broken pipe, an error, exit() (atexit) and, best
 * effort, fatal signals. Only --pin leaves it attached, on purpose.
 */
#include "attach_cmd.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <lauxlib.h>

#include "attach.h"
#include "attach_events.h"
#include "bl_lua.h"
#include "object.h"

static const char attach_help[] =
    "usage: bpflua attach FILTER.lua|FILTER.o --dev IFACE [options]\n"
    "\n"
    "Loads the filter into the kernel, attaches it to IFACE (an XDP program, or a\n"
    "tc program on the clsact qdisc) and shows its maps live (counters per key\n"
    "and rates per second) and its events until Ctrl-C. The program is detached\n"
    "when bpflua ends, whatever the reason, unless --pin is given.\n"
    "\n"
    "options:\n"
    "  --dev IFACE        the interface to attach to (required)\n"
    "  --prog NAME        the program to attach (default: the first XDP program,\n"
    "                     else the first tc program)\n"
    "  --mode skb|native  generic XDP (default, any device) or driver XDP\n"
    "  --ingress          a tc program on the interface's ingress (the default)\n"
    "  --egress           a tc program on its egress\n"
    "  --interval SEC     refresh period in seconds (default 1; fractions allowed)\n"
    "  --json             one JSON line per interval instead of the live view\n"
    "  --count N          stop (and detach) after N intervals\n"
    "  --pin PATH         pin the program at PATH (and its maps at PATH_<map>) on a\n"
    "                     bpffs and leave it attached; returns at once unless\n"
    "                     --count is given. Remove with\n"
    "                     `bpflua detach --dev IFACE --pin PATH`.\n"
    "  -h, --help         this text\n"
    "\n"
    "JSON lines: {\"interval\":N,\"elapsed\":S,\"dev\":..,\"prog\":..,\"prog_id\":..,\n"
    "  \"mode\":..,\"maps\":{\"NAME\":{\"type\":..,\"entries\":[{\"key\":K,\"value\":V,\n"
    "  \"rate\":R}],\"truncated\":0}}}  (array maps list their nonzero entries)\n";

static const char detach_help[] =
    "usage: bpflua detach --dev IFACE [--pin PATH]\n"
    "\n"
    "Removes the XDP program attached to IFACE (in any mode) and bpflua's tc\n"
    "programs on its ingress and egress, such as one left attached by\n"
    "`bpflua attach --pin`. With --pin, also removes the pins that\n"
    "`bpflua attach --pin PATH` made.\n";

/* ---- signals ---------------------------------------------------------------------- */

static volatile sig_atomic_t g_stop;
static volatile sig_atomic_t g_stop_sig;
static struct sigaction g_old_fatal[32];
static const int g_fatal_sigs[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };

static void on_stop(int sig)
{
    g_stop = 1;
    g_stop_sig = sig;
}

static void on_fatal(int sig)
{
    bl_attach_emergency_detach();
    if (sig < 32)
        sigaction(sig, &g_old_fatal[sig], NULL);
    raise(sig);
}

static void at_exit_detach(void)
{
    bl_attach_emergency_detach();
}

static void install_signals(void)
{
    static int done;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_stop; /* no SA_RESTART: sleeps end at once */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGPIPE, &sa, NULL);
    sa.sa_handler = on_fatal;
    sa.sa_flags = SA_NODEFER;
    for (size_t i = 0; i < sizeof g_fatal_sigs / sizeof g_fatal_sigs[0]; i++)
        sigaction(g_fatal_sigs[i], &sa, &g_old_fatal[g_fatal_sigs[i]]);
    if (!done++)
        atexit(at_exit_detach);
}

static void restore_signals(void)
{
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    signal(SIGPIPE, SIG_DFL);
    for (size_t i = 0; i < sizeof g_fatal_sigs / sizeof g_fatal_sigs[0]; i++)
        sigaction(g_fatal_sigs[i], &g_old_fatal[g_fatal_sigs[i]], NULL);
}

/* ---- snapshots of the maps --------------------------------------------------------- */

#define MAX_ENTRIES 65536

struct entry {
    unsigned char *key;
    int64_t value;
    unsigned char *raw;  /* value bytes when the value is not an integer */
    double rate;
};

struct snap {
    struct entry *e;
    size_t n;
    size_t truncated;
    uint32_t key_size;
};

static void snap_free(struct snap *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->e[i].key);
        free(s->e[i].raw);
    }
    free(s->e);
    memset(s, 0, sizeof *s);
}

static uint32_t g_sort_key_size;

static int cmp_key(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;
    /* little-endian integers compare by their bytes from the top */
    for (uint32_t i = g_sort_key_size; i-- > 0;)
        if (x->key[i] != y->key[i])
            return x->key[i] < y->key[i] ? -1 : 1;
    return 0;
}

static int cmp_value_desc(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;
    if (x->value != y->value)
        return x->value > y->value ? -1 : 1;
    return cmp_key(a, b);
}

/* The object the maps' records and LPM keys come from (set by live_loop):
 * such keys and values are shown as --dump-maps shows them. */
static const bpflua_object *g_layouts;

/* the layouts of map m's keys and values; 0 when the object does not
 * describe the map as the kernel has it */
static int map_layouts(const struct bl_attach_map_info *m, struct bl_vlayout *kl,
                       struct bl_vlayout *vl)
{
    struct bpflua_map_spec spec;
    int mi = g_layouts ? bpflua_map_find(g_layouts, m->name) : -1;
    if (mi < 0 || bpflua_map_spec(g_layouts, (size_t)mi, &spec) != 0 ||
        spec.key_size != m->key_size || spec.value_size != m->value_size)
        return 0;
    bl_key_layout(g_layouts, &spec, kl);
    bl_value_layout(g_layouts, &spec, vl);
    return 1;
}

static int value_is_int(const struct bl_attach_map_info *m)
{
    struct bl_vlayout kl, vl;
    if (map_layouts(m, &kl, &vl) && vl.kind == BL_V_RECORD)
        return 0;
    return m->value_size == 1 || m->value_size == 2 || m->value_size == 4 ||
           m->value_size == 8;
}

static int key_is_int(const struct bl_attach_map_info *m)
{
    struct bl_vlayout kl, vl;
    if (map_layouts(m, &kl, &vl) && (kl.kind == BL_V_RECORD || kl.kind == BL_V_LPM))
        return 0;
    return m->key_size == 1 || m->key_size == 2 || m->key_size == 4 || m->key_size == 8;
}

static int all_zero(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

/* Reads map i into s (sorted by key). */
static int snap_take(const struct bl_attachment *a, size_t i, struct snap *s, char **err)
{
    const struct bl_attach_map_info *m = bl_attachment_map(a, i);
    memset(s, 0, sizeof *s);
    s->key_size = m->key_size;
    if (m->type == 27 /* ringbuf */ || m->key_size == 0)
        return 0;
    size_t vbuf = bl_attachment_map_value_buf(a, i);
    unsigned char *cur = calloc(1, m->key_size), *next = calloc(1, m->key_size);
    unsigned char *val = calloc(1, vbuf ? vbuf : 1);
    size_t cap = 0;
    int first = 1, r = 0;
    if (!cur || !next || !val) {
        r = -ENOMEM;
        goto out;
    }
    int is_array = m->type == 2 /* array */ || m->type == 6 /* percpu array */;
    for (;;) {
        r = bl_attachment_map_next_key(a, i, first ? NULL : cur, next);
        if (r == -ENOENT) {
            r = 0;
            break;
        }
        if (r < 0) {
            bl_set_err(err, "reading map %s: %s", m->name, strerror(-r));
            break;
        }
        first = 0;
        memcpy(cur, next, m->key_size);
        r = bl_attachment_map_lookup(a, i, cur, val);
        if (r == -ENOENT) { /* deleted meanwhile */
            r = 0;
            continue;
        }
        if (r < 0) {
            bl_set_err(err, "reading map %s: %s", m->name, strerror(-r));
            break;
        }
        if (is_array && all_zero(val, vbuf))
            continue;
        if (s->n == MAX_ENTRIES) {
            s->truncated++;
            continue;
        }
        if (s->n == cap) {
            size_t nc = cap ? cap * 2 : 64;
            struct entry *ne = realloc(s->e, nc * sizeof *ne);
            if (!ne) {
                r = -ENOMEM;
                break;
            }
            s->e = ne;
            cap = nc;
        }
        struct entry *e = &s->e[s->n];
        memset(e, 0, sizeof *e);
        e->key = malloc(m->key_size);
        if (!e->key) {
            r = -ENOMEM;
            break;
        }
        memcpy(e->key, cur, m->key_size);
        s->n++;
        if (value_is_int(m)) {
            e->value = bl_attach_value_as_int(m, val);
        } else {
            e->raw = malloc(m->value_size);
            if (e->raw)
                memcpy(e->raw, val, m->value_size);
        }
    }
out:
    if (r == -ENOMEM)
        bl_set_err(err, "out of memory reading map %s", m->name);
    free(cur);
    free(next);
    free(val);
    if (r == 0 && s->n) {
        g_sort_key_size = s->key_size;
        qsort(s->e, s->n, sizeof *s->e, cmp_key);
    }
    return r;
}

static void snap_rates(struct snap *now, const struct snap *prev, double dt)
{
    g_sort_key_size = now->key_size;
    for (size_t i = 0; i < now->n; i++) {
        struct entry *e = &now->e[i];
        const struct entry *p = prev->n ? bsearch(e, prev->e, prev->n, sizeof *e, cmp_key) : NULL;
        int64_t before = p ? p->value : 0;
        e->rate = dt > 0 ? (double)(e->value - before) / dt : 0;
    }
}

/* ---- formatting ------------------------------------------------------------------------- */

static const char *map_type_name(uint32_t t)
{
    const char *name = bl_map_type_name(t);
    return name ? name : "other";
}

/* Keys and values as text: integers for 1/2/4/8-byte fields, else hex. */
#define TEXT_MAX (2 * 512 + 8)

static void fmt_hex(char *out, const unsigned char *p, size_t n, int quoted)
{
    char *o = out;
    if (quoted)
        *o++ = '"';
    *o++ = '0';
    *o++ = 'x';
    for (size_t i = 0; i < n && i < 512; i++)
        o += sprintf(o, "%02x", p[i]);
    if (quoted)
        *o++ = '"';
    *o = '\0';
}

/* a record or LPM key as --dump-maps prints it (JSON: an object or a
 * string); 0 when the layout does not say */
static int fmt_layout(char *out, const struct bl_vlayout *l, const void *buf, int json)
{
    if (l->kind != BL_V_RECORD && l->kind != BL_V_LPM)
        return 0;
    struct bl_text t = {0};
    int rc = json ? bl_vjson(&t, l, buf) : bl_vtext(&t, l, buf);
    if (rc == 0 && t.buf)
        snprintf(out, TEXT_MAX, "%s", t.buf);
    free(t.buf);
    return rc == 0 && t.buf;
}

static void fmt_key(char *out, const struct bl_attach_map_info *m, const unsigned char *k,
                    int json)
{
    struct bl_vlayout kl, vl;
    if (map_layouts(m, &kl, &vl) && fmt_layout(out, &kl, k, json))
        return;
    if (!key_is_int(m)) {
        fmt_hex(out, k, m->key_size, json);
        return;
    }
    uint64_t v = 0;
    memcpy(&v, k, m->key_size);
    if (m->key_signed) {
        int64_t s = m->key_size == 1 ? (int8_t)v : m->key_size == 2 ? (int16_t)v
                  : m->key_size == 4 ? (int32_t)v : (int64_t)v;
        snprintf(out, TEXT_MAX, "%lld", (long long)s);
    } else {
        snprintf(out, TEXT_MAX, "%llu", (unsigned long long)v);
    }
}

static void fmt_value(char *out, const struct bl_attach_map_info *m, const struct entry *e,
                      int json)
{
    struct bl_vlayout kl, vl;
    if (e->raw && map_layouts(m, &kl, &vl) && fmt_layout(out, &vl, e->raw, json))
        return;
    if (!value_is_int(m)) {
        if (e->raw)
            fmt_hex(out, e->raw, m->value_size, json);
        else
            snprintf(out, TEXT_MAX, json ? "null" : "?");
        return;
    }
    if (m->value_signed || m->value_size < 8)
        snprintf(out, TEXT_MAX, "%lld", (long long)e->value);
    else
        snprintf(out, TEXT_MAX, "%llu", (unsigned long long)e->value);
}

#define RECENT 8

struct ev_out {
    FILE *f;
    int json, tty;
    char recent[RECENT][256]; /* the terminal view shows the last few */
    unsigned long n;
};

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static void print_json(FILE *f, const struct bl_attachment *a, const struct snap *snaps,
                       unsigned long interval, double elapsed, const struct bl_event_reader *ev)
{
    fprintf(f, "{\"interval\":%lu,\"elapsed\":%.3f,\"dev\":", interval, elapsed);
    json_str(f, bl_attachment_ifname(a));
    fputs(",\"prog\":", f);
    json_str(f, bl_attachment_prog_name(a));
    fprintf(f, ",\"prog_id\":%u,\"mode\":\"%s\",\"attached\":%s,\"maps\":{",
            bl_attachment_prog_id(a), bl_attach_mode_name(bl_attachment_mode(a)),
            bl_attachment_is_attached(a) ? "true" : "false");
    for (size_t i = 0, shown = 0; i < bl_attachment_map_count(a); i++) {
        const struct bl_attach_map_info *m = bl_attachment_map(a, i);
        if (bpflua_map_is_internal(m->name))
            continue; /* bpflua's own (its counts show under "events") */
        if (shown++)
            fputc(',', f);
        json_str(f, m->name);
        fprintf(f, ":{\"type\":\"%s\",\"entries\":[", map_type_name(m->type));
        for (size_t j = 0; j < snaps[i].n; j++) {
            const struct entry *e = &snaps[i].e[j];
            char kt[TEXT_MAX], vt[TEXT_MAX];
            fmt_key(kt, m, e->key, 1);
            fmt_value(vt, m, e, 1);
            fprintf(f, "%s{\"key\":%s,\"value\":%s", j ? "," : "", kt, vt);
            if (value_is_int(m))
                fprintf(f, ",\"rate\":%.3f", e->rate);
            fputc('}', f);
        }
        fprintf(f, "],\"truncated\":%zu}", snaps[i].truncated);
    }
    fputs("},\"events\":{", f);
    for (size_t i = 0; i < bl_event_reader_count(ev); i++) {
        fputs(i ? "," : "", f);
        json_str(f, bl_event_reader_name(ev, i));
        fprintf(f, ":{\"received\":%llu", (unsigned long long)bl_event_reader_received(ev, i));
        uint64_t dropped;
        if (bl_event_reader_dropped(ev, i, &dropped) > 0)
            fprintf(f, ",\"dropped\":%llu", (unsigned long long)dropped);
        fputc('}', f);
    }
    fputs("}}\n", f);
}

static int term_rows(void)
{
    struct winsize ws;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0)
        return ws.ws_row;
    return 24;
}

static void fmt_rate(char *buf, size_t n, double r)
{
    double a = fabs(r);
    if (a >= 1e9)
        snprintf(buf, n, "%.2fG/s", r / 1e9);
    else if (a >= 1e6)
        snprintf(buf, n, "%.2fM/s", r / 1e6);
    else if (a >= 1e4)
        snprintf(buf, n, "%.1fk/s", r / 1e3);
    else
        snprintf(buf, n, "%.1f/s", r);
}

static void print_view(FILE *f, const struct bl_attachment *a, struct snap *snaps,
                       unsigned long interval, double elapsed, int tty,
                       const struct bl_event_reader *ev, const struct ev_out *eo)
{
    int rows = tty ? term_rows() : 1 << 30;
    size_t nmaps = bl_attachment_map_count(a);
    if (tty)
        fputs("\033[H\033[2J", f);
    fprintf(f, "bpflua attach: %s (id %u) on %s, %s mode  |  %.1fs, refresh %lu%s\n",
            bl_attachment_prog_name(a), bl_attachment_prog_id(a), bl_attachment_ifname(a),
            bl_attach_mode_name(bl_attachment_mode(a)), elapsed, interval,
            tty ? "  |  Ctrl-C detaches" : "");
    if (nmaps == 0) {
        fputs("  (the program has no maps)\n", f);
        return;
    }
    /* rows per map: what is left, shared evenly */
    int budget = rows - 1 - (int)nmaps * 2;
    int per_map = nmaps ? budget / (int)nmaps : 0;
    if (per_map < 3)
        per_map = 3;
    for (size_t i = 0; i < nmaps; i++) {
        const struct bl_attach_map_info *m = bl_attachment_map(a, i);
        struct snap *s = &snaps[i];
        if (bpflua_map_is_internal(m->name))
            continue;
        fprintf(f, "\n%s (%s, %zu %s)\n", m->name, map_type_name(m->type), s->n,
                m->type == 2 || m->type == 6 ? "nonzero" : "entries");
        if (m->type == 27) {
            for (size_t k = 0; k < bl_event_reader_count(ev); k++)
                if (!strcmp(bl_event_reader_name(ev, k), m->name)) {
                    uint64_t dropped;
                    fprintf(f, "  %llu events received",
                            (unsigned long long)bl_event_reader_received(ev, k));
                    if (bl_event_reader_dropped(ev, k, &dropped) > 0)
                        fprintf(f, ", %llu dropped (buffer full)", (unsigned long long)dropped);
                    fputc('\n', f);
                }
            /* on a terminal the view is redrawn: the last events go with it */
            for (unsigned long k = eo->n > RECENT ? eo->n - RECENT : 0; tty && k < eo->n; k++)
                if (!strncmp(eo->recent[k % RECENT] + 6, m->name, strlen(m->name)))
                    fprintf(f, "  %s\n", eo->recent[k % RECENT]);
            continue;
        }
        size_t show = s->n;
        if (tty && show > (size_t)per_map) {
            show = (size_t)per_map - 1;
            g_sort_key_size = s->key_size;
            qsort(s->e, s->n, sizeof *s->e, cmp_value_desc); /* the top ones */
        }
        int kw = 3, vw = 5;
        char kt[TEXT_MAX], vt[TEXT_MAX];
        for (size_t j = 0; j < show; j++) {
            fmt_key(kt, m, s->e[j].key, 0);
            fmt_value(vt, m, &s->e[j], 0);
            if ((int)strlen(kt) > kw)
                kw = (int)strlen(kt);
            if ((int)strlen(vt) > vw)
                vw = (int)strlen(vt);
        }
        if (show)
            fprintf(f, "  %*s  %*s%s\n", kw, "key", vw, "value",
                    value_is_int(m) ? "        rate" : "");
        for (size_t j = 0; j < show; j++) {
            const struct entry *e = &s->e[j];
            fmt_key(kt, m, e->key, 0);
            fmt_value(vt, m, e, 0);
            fprintf(f, "  %*s  %*s", kw, kt, vw, vt);
            if (value_is_int(m)) {
                char r[32];
                fmt_rate(r, sizeof r, e->rate);
                fprintf(f, "  %10s", r);
            }
            fputc('\n', f);
        }
        if (show < s->n || s->truncated)
            fprintf(f, "  ... %zu more\n", s->n - show + s->truncated);
        else if (!s->n)
            fputs("  (empty)\n", f);
    }
}

/* ---- the live loop ------------------------------------------------------------------------ */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Sleeps until t, delivering events as they come. */
static void sleep_until(double t, struct bl_event_reader *ev)
{
    while (!g_stop) {
        double left = t - now_s();
        if (left <= 0)
            return;
        if (left > 0.1)
            left = 0.1;
        if (bl_event_reader_count(ev)) {
            int ms = (int)(left * 1000);
            bl_event_reader_poll(ev, ms > 0 ? ms : 1);
            continue;
        }
        struct timespec ts = { (time_t)left, (long)((left - (double)(time_t)left) * 1e9) };
        nanosleep(&ts, NULL);
    }
}

/* ---- events, as they come ------------------------------------------------------------ */

static int print_event(void *ud, const char *map, const struct bl_vlayout *l, const void *data)
{
    struct ev_out *o = ud;
    struct bl_text t = {0};
    int rc = o->json ? bl_vjson(&t, l, data) : bl_vtext(&t, l, data);
    if (rc == 0 && o->json) {
        fputs("{\"event\":", o->f);
        json_str(o->f, map);
        fprintf(o->f, ",\"value\":%s}\n", t.buf ? t.buf : "null");
        fflush(o->f);
    } else if (rc == 0) {
        char line[256];
        snprintf(line, sizeof line, "event=%s %s%s", map, l->kind == BL_V_RECORD ? "" : "value=",
                 t.buf ? t.buf : "");
        if (o->tty) {
            memcpy(o->recent[o->n % RECENT], line, sizeof line);
        } else {
            fprintf(o->f, "%s\n", line);
            fflush(o->f);
        }
    }
    o->n++;
    free(t.buf);
    return 0;
}

/* Shows the maps until stopped or `count` intervals (0: no limit). */
static int live_loop(struct bl_attachment *a, const bpflua_object *layouts, double interval,
                     unsigned long count, int json)
{
    FILE *f = stdout;
    int tty = !json && isatty(STDOUT_FILENO);
    size_t nmaps = bl_attachment_map_count(a);
    g_layouts = layouts;
    struct ev_out *eo = calloc(1, sizeof *eo);
    char *everr = NULL;
    struct bl_event_reader *ev = eo ? bl_event_reader_new(a, layouts, print_event, eo, &everr) : NULL;
    if (!ev) {
        fprintf(stderr, "bpflua attach: %s\n", everr ? everr : "out of memory");
        free(everr);
        free(eo);
        return 1;
    }
    eo->f = f;
    eo->json = json;
    eo->tty = tty;
    struct snap *prev = calloc(nmaps ? nmaps : 1, sizeof *prev);
    struct snap *cur = calloc(nmaps ? nmaps : 1, sizeof *cur);
    int status = 0;
    if (!prev || !cur) {
        fprintf(stderr, "bpflua attach: out of memory\n");
        free(prev);
        free(cur);
        return 1;
    }
    /* the maps as they were when attached: rates start from there */
    for (size_t i = 0; i < nmaps; i++) {
        char *err = NULL;
        if (snap_take(a, i, &prev[i], &err) < 0) {
            fprintf(stderr, "bpflua attach: %s\n", err ? err : "cannot read a map");
            free(err);
            status = 1;
            goto out;
        }
    }
    double start = now_s(), last = start;
    for (unsigned long n = 1; !g_stop && (!count || n <= count); n++) {
        sleep_until(start + interval * (double)n, ev);
        if (g_stop)
            break;
        double t = now_s();
        char *cerr = NULL;
        if (bl_attachment_check(a, &cerr) < 0) {
            fprintf(stderr, "bpflua attach: %s\n", cerr ? cerr : "no longer attached");
            free(cerr);
            status = 1;
            goto out;
        }
        for (size_t i = 0; i < nmaps; i++) {
            char *err = NULL;
            if (snap_take(a, i, &cur[i], &err) < 0) {
                fprintf(stderr, "bpflua attach: %s\n", err ? err : "cannot read a map");
                free(err);
                status = 1;
                goto out;
            }
            snap_rates(&cur[i], &prev[i], t - last);
        }
        bl_event_reader_poll(ev, 0);
        if (json)
            print_json(f, a, cur, n, t - start, ev);
        else
            print_view(f, a, cur, n, t - start, tty, ev, eo);
        if (fflush(f) == EOF || ferror(f)) {
            status = g_stop ? 0 : 1; /* a closed pipe ends the view */
            break;
        }
        for (size_t i = 0; i < nmaps; i++) {
            snap_free(&prev[i]);
            prev[i] = cur[i];
            g_sort_key_size = prev[i].key_size;
            if (prev[i].n)
                qsort(prev[i].e, prev[i].n, sizeof *prev[i].e, cmp_key);
            memset(&cur[i], 0, sizeof cur[i]);
        }
        last = t;
    }
out:
    for (size_t i = 0; i < nmaps; i++) {
        snap_free(&prev[i]);
        snap_free(&cur[i]);
    }
    free(prev);
    free(cur);
    bl_event_reader_poll(ev, 0); /* what came in last */
    bl_event_reader_free(ev);
    free(eo);
    return status;
}

/* ---- argument parsing ------------------------------------------------------------------- */

/* --name VALUE or --name=VALUE; advances *i. 1 if matched, -1 if the value is missing. */
static int opt_value(int argc, char **argv, int *i, const char *name, const char **out)
{
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n) != 0)
        return 0;
    if (a[n] == '=') {
        *out = a + n + 1;
        return 1;
    }
    if (a[n] != '\0')
        return 0;
    if (*i + 1 >= argc)
        return -1;
    *out = argv[++*i];
    return 1;
}

/* ELF files go to libbpf as they are; anything else (.lua, .asm) is
 * opened by the command's bl_open_any into a bpflua object. */
static int is_elf(const char *path)
{
    unsigned char m[4] = {0};
    FILE *f = fopen(path, "rb");
    if (!f)
        return 1; /* let libbpf report the error */
    size_t n = fread(m, 1, 4, f);
    fclose(f);
    return n == 4 && !memcmp(m, "\177ELF", 4);
}

int bl_cmd_attach(lua_State *L, int argc, char **argv)
{
    const char *file = NULL, *dev = NULL, *prog = NULL, *mode_s = "skb", *pin = NULL;
    const char *interval_s = NULL, *count_s = NULL, *tc_dir = NULL;
    int json = 0, mode_given = 0;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        int r;
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(attach_help, stdout);
            return 0;
        } else if (!strcmp(argv[i], "--json")) {
            json = 1;
        } else if (!strcmp(argv[i], "--ingress") || !strcmp(argv[i], "--egress")) {
            if (tc_dir && strcmp(tc_dir, argv[i] + 2)) {
                fprintf(stderr, "bpflua attach: give one of --ingress and --egress\n");
                return 2;
            }
            tc_dir = argv[i] + 2;
        } else if ((r = opt_value(argc, argv, &i, "--dev", &v)) != 0) {
            if (r < 0)
                goto missing;
            dev = v;
        } else if ((r = opt_value(argc, argv, &i, "--prog", &v)) != 0) {
            if (r < 0)
                goto missing;
            prog = v;
        } else if ((r = opt_value(argc, argv, &i, "--mode", &v)) != 0) {
            if (r < 0)
                goto missing;
            mode_s = v;
            mode_given = 1;
        } else if ((r = opt_value(argc, argv, &i, "--interval", &v)) != 0) {
            if (r < 0)
                goto missing;
            interval_s = v;
        } else if ((r = opt_value(argc, argv, &i, "--count", &v)) != 0) {
            if (r < 0)
                goto missing;
            count_s = v;
        } else if ((r = opt_value(argc, argv, &i, "--pin", &v)) != 0) {
            if (r < 0)
                goto missing;
            pin = v;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "bpflua attach: unknown option %s (see bpflua attach --help)\n",
                    argv[i]);
            return 2;
        } else if (!file) {
            file = argv[i];
        } else {
            fprintf(stderr, "bpflua attach: one filter at a time (got %s and %s)\n", file,
                    argv[i]);
            return 2;
        }
        continue;
    missing:
        fprintf(stderr, "bpflua attach: %s needs a value\n", argv[i]);
        return 2;
    }
    if (!file || !dev) {
        fprintf(stderr, "bpflua attach: %s\n%s", !file ? "no filter given" : "--dev IFACE is required",
                attach_help);
        return 2;
    }
    char *err = NULL;
    enum bl_attach_mode mode;
    if (bl_attach_parse_mode(mode_s, &mode, &err) < 0 || mode > BL_ATTACH_NATIVE) {
        fprintf(stderr, "bpflua attach: %s\n",
                err ? err : "unknown attach mode: use skb or native (tc programs take "
                            "--ingress or --egress)");
        free(err);
        return 2;
    }
    if (tc_dir && mode_given) {
        fprintf(stderr, "bpflua attach: --mode is for XDP programs, --%s for tc programs\n",
                tc_dir);
        return 2;
    }
    if (tc_dir)
        mode = tc_dir[0] == 'i' ? BL_ATTACH_TC_INGRESS : BL_ATTACH_TC_EGRESS;
    double interval = 1.0;
    if (interval_s) {
        char *end;
        interval = strtod(interval_s, &end);
        if (*end || !(interval >= 0.01) || interval > 86400) {
            fprintf(stderr, "bpflua attach: bad --interval '%s' (seconds, at least 0.01)\n",
                    interval_s);
            return 2;
        }
    }
    unsigned long count = 0;
    if (count_s) {
        char *end;
        errno = 0;
        count = strtoul(count_s, &end, 10);
        if (*end || errno || count == 0 || count_s[0] == '-') {
            fprintf(stderr, "bpflua attach: bad --count '%s' (a number of intervals, >= 1)\n",
                    count_s);
            return 2;
        }
    }
    /* the interface first: the most common mistake, and it needs no BPF */
    int ifindex = bl_attach_ifindex(dev, &err);
    if (ifindex < 0) {
        fprintf(stderr, "bpflua attach: %s\n", err);
        free(err);
        return 1;
    }

    install_signals();
    g_stop = 0;
    struct bl_attachment *a = NULL;
    bpflua_object *obj = NULL, *layouts = NULL;
    int r;
    if (!is_elf(file)) {
        if (!L) {
            fprintf(stderr, "bpflua attach: cannot compile %s here; run `bpflua compile %s "
                    "-o FILE.o` and attach FILE.o\n", file, file);
            restore_signals();
            return 2;
        }
        int st = 2;
        obj = bl_open_any(L, file, &err, &st);
        if (!obj) {
            fprintf(stderr, "%s\n", err ? err : "cannot compile");
            free(err);
            restore_signals();
            return 1;
        }
        int pi = 0;
        if (prog) {
            pi = bpflua_prog_find(obj, prog);
            if (pi < 0) {
                fprintf(stderr, "bpflua attach: %s has no program named '%s'\n", file, prog);
                bpflua_object_free(obj);
                restore_signals();
                return 1;
            }
        } else {
            /* the first XDP program (the first tc program with --ingress/--egress
             * or when there is no XDP program) */
            int xdp = -1, tc = -1;
            for (size_t k = 0; k < bpflua_prog_count(obj); k++) {
                const char *sec = bpflua_prog_section(obj, k);
                if (sec && !strncmp(sec, "xdp", 3) && xdp < 0)
                    xdp = (int)k;
                if (sec && !strcmp(sec, "tc") && tc < 0)
                    tc = (int)k;
            }
            pi = tc >= 0 && (tc_dir || xdp < 0) ? tc : xdp >= 0 ? xdp : 0;
        }
        r = bl_attach(obj, (size_t)pi, dev, mode, &a, &err);
    } else {
        r = bl_attach_elf_file(file, prog, dev, mode, &a, &err);
        /* bpflua's own reading of the file, for the event records' fields */
        if (r == 0)
            layouts = bpflua_object_open_elf(file, NULL);
    }
    if (!layouts)
        layouts = obj;
    else
        obj = layouts; /* freed with the rest */
    if (r < 0) {
        fprintf(stderr, "bpflua attach: %s\n", err ? err : strerror(-r));
        free(err);
        bpflua_object_free(obj);
        restore_signals();
        return 1;
    }
    fprintf(stderr, "bpflua attach: %s (id %u) attached to %s in %s mode%s\n",
            bl_attachment_prog_name(a), bl_attachment_prog_id(a), dev,
            bl_attach_mode_name(bl_attachment_mode(a)), pin ? "" : "; Ctrl-C detaches");
    int status = 0;
    if (pin) {
        if (bl_attachment_pin(a, pin, &err) < 0) {
            fprintf(stderr, "bpflua attach: %s; detaching\n", err);
            free(err);
            bl_attachment_free(a);
            bpflua_object_free(obj);
            restore_signals();
            return 1;
        }
        fprintf(stderr, "bpflua attach: pinned at %s; it stays attached: remove it with "
                "`bpflua detach --dev %s --pin %s`\n", pin, dev, pin);
    }
    if (!pin || count)
        status = live_loop(a, layouts, interval, count, json);
    if (!pin) {
        int was_attached = bl_attachment_is_attached(a);
        if (!was_attached) {
            /* taken away from under us: reported by the loop */
        } else if (bl_detach(a, &err) < 0) {
            fprintf(stderr, "bpflua attach: %s\n", err);
            free(err);
            status = 1;
        } else {
            fprintf(stderr, "bpflua attach: detached from %s%s\n", dev,
                    g_stop_sig == SIGINT ? " (interrupted)" : g_stop_sig == SIGTERM ? " (terminated)" : "");
        }
    }
    bl_attachment_free(a);
    bpflua_object_free(obj);
    restore_signals();
    return status;
}

int bl_cmd_detach(lua_State *L, int argc, char **argv)
{
    (void)L;
    const char *dev = NULL, *pin = NULL;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        int r;
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(detach_help, stdout);
            return 0;
        } else if ((r = opt_value(argc, argv, &i, "--dev", &v)) != 0) {
            if (r < 0)
                goto missing;
            dev = v;
        } else if ((r = opt_value(argc, argv, &i, "--pin", &v)) != 0) {
            if (r < 0)
                goto missing;
            pin = v;
        } else if (argv[i][0] != '-' && !dev) {
            dev = argv[i];
        } else {
            fprintf(stderr, "bpflua detach: unexpected argument %s (see bpflua detach --help)\n",
                    argv[i]);
            return 2;
        }
        continue;
    missing:
        fprintf(stderr, "bpflua detach: %s needs a value\n", argv[i]);
        return 2;
    }
    if (!dev) {
        fprintf(stderr, "bpflua detach: --dev IFACE is required\n%s", detach_help);
        return 2;
    }
    char *err = NULL;
    if (bl_detach_dev(dev, pin, &err) < 0) {
        fprintf(stderr, "bpflua detach: %s\n", err ? err : "failed");
        free(err);
        return 1;
    }
    fprintf(stderr, "bpflua detach: removed bpflua's programs from %s%s%s\n", dev,
            pin ? " and the pins at " : "", pin ? pin : "");
    return 0;
}
