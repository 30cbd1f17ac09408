/* helpers_str.c - string and formatting helpers of every program type:
 * snprintf, trace_vprintk, strncmp, strtol, strtoul; and the small ones
 * of newer kernels real programs call: get_ns_current_pid_tgid,
 * get_retval/set_retval (cgroup types), map_lookup_percpu_elem.
 *
 * Formats follow stdlib/printk.c (bl_bprintf): the kernel's conversions,
 * with %s and the %p forms that read memory reading only what the run was
 * given (--mem), an empty string or a zero address elsewhere, as the
 * kernel's failed copy does.
 */
#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "../core/object.h"
#include "helper_impl.h"
#include "maps.h"

#define MAX_BPRINTF_VARARGS 12
#define STRTOX_BASE_MASK 0x1fu

static uint64_t err(int e)
{
    return (uint64_t)(int64_t)-e;
}

/* snprintf(str, str_size, fmt, data, data_len): the length with the NUL */
uint64_t bl_helper_snprintf(uint64_t str, uint64_t str_size, uint64_t fmt, uint64_t data,
                            uint64_t data_len, struct bpflua_run_env *env)
{
    if ((data_len & 7) || data_len > MAX_BPRINTF_VARARGS * 8 || (data_len && !data))
        return err(EINVAL);
    struct bl_strbuf out = {0};
    /* the verifier checked that fmt is a NUL-terminated read-only string */
    int len = bl_bprintf(&out, (const char *)(uintptr_t)fmt, UINT32_MAX,
                         (const uint64_t *)(uintptr_t)data, (uint32_t)(data_len / 8), env);
    if (len >= 0 && str_size) {
        size_t n = (size_t)len < str_size - 1 ? (size_t)len : str_size - 1;
        char *to = (char *)(uintptr_t)str;
        memcpy(to, out.buf ? out.buf : "", n);
        to[n] = '\0';
    }
    bl_strbuf_free(&out);
    return len < 0 ? (uint64_t)(int64_t)len : (uint64_t)len + 1;
}

/* trace_vprintk(fmt, fmt_size, data, data_len): bpf_printk with more than
 * three arguments; the line goes where trace_printk's go */
uint64_t bl_helper_trace_vprintk(uint64_t fmt, uint64_t fmt_size, uint64_t data,
                                 uint64_t data_len, uint64_t r5, struct bpflua_run_env *env)
{
    if ((data_len & 7) || data_len > MAX_BPRINTF_VARARGS * 8 || (data_len && !data))
        return err(EINVAL);
    struct bl_strbuf *trace = env && env->obj ? &env->obj->trace : NULL;
    return (uint64_t)(int64_t)bl_trace_bprintf(trace, (const char *)(uintptr_t)fmt,
                                               (uint32_t)fmt_size,
                                               (const uint64_t *)(uintptr_t)data,
                                               (uint32_t)(data_len / 8), env, 1);
}

/* strncmp(s1, s1_sz, s2): the kernel's strncmp, -1, 0 or 1 */
uint64_t bl_helper_strncmp(uint64_t s1, uint64_t s1_sz, uint64_t s2, uint64_t r4, uint64_t r5,
                           struct bpflua_run_env *env)
{
    const unsigned char *a = (const unsigned char *)(uintptr_t)s1;
    const unsigned char *b = (const unsigned char *)(uintptr_t)s2;
    for (uint64_t i = 0; i < s1_sz; i++) {
        if (a[i] != b[i])
            return a[i] < b[i] ? (uint64_t)-1 : 1;
        if (!a[i])
            break;
    }
    return 0;
}

static int digit_of(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : 99;
}

/* the kernel's __bpf_strtoull: leading spaces, an optional '-', a base
 * prefix when base is 0 or 16; the characters consumed, or -EINVAL (no
 * digit, bad flags) / -ERANGE (overflow) */
static int64_t strtox(const char *buf, uint64_t len, uint64_t flags, uint64_t *res, int *neg)
{
    unsigned base = (unsigned)(flags & STRTOX_BASE_MASK);
    if (!len || (flags & ~(uint64_t)STRTOX_BASE_MASK) ||
        (base != 0 && base != 8 && base != 10 && base != 16))
        return -EINVAL;
    uint64_t i = 0;
    while (i < len && isspace((unsigned char)buf[i]))
        i++;
    *neg = i < len && buf[i] == '-';
    if (*neg)
        i++;
    if (i == len)
        return -EINVAL;
    char s[64];
    uint64_t n = len - i < sizeof s - 1 ? len - i : sizeof s - 1;
    memcpy(s, buf + i, n);
    s[n] = '\0';
    size_t k = 0;
    if (base == 0) {
        if (s[0] == '0')
            base = (tolower((unsigned char)s[1]) == 'x' && isxdigit((unsigned char)s[2])) ? 16 : 8;
        else
            base = 10;
    }
    if (base == 16 && s[0] == '0' && tolower((unsigned char)s[1]) == 'x')
        k = 2;
    uint64_t v = 0;
    size_t digits = 0;
    int over = 0;
    for (; s[k]; k++, digits++) {
        int d = digit_of((unsigned char)s[k]);
        if (d >= (int)base)
            break;
        if (v > (UINT64_MAX - (uint64_t)d) / base)
            over = 1;
        v = v * base + (uint64_t)d;
    }
    if (over)
        return -ERANGE;
    if (!digits)
        return -EINVAL;
    *res = v;
    return (int64_t)(i + k);
}

uint64_t bl_helper_strtol(uint64_t buf, uint64_t len, uint64_t flags, uint64_t res, uint64_t r5,
                          struct bpflua_run_env *env)
{
    uint64_t v = 0;
    int neg = 0;
    int64_t n = strtox((const char *)(uintptr_t)buf, len, flags, &v, &neg);
    if (n < 0)
        return (uint64_t)n;
    if (neg ? v > (uint64_t)INT64_MAX + 1 : v > (uint64_t)INT64_MAX)
        return err(ERANGE);
    int64_t r = neg ? (int64_t)(0 - v) : (int64_t)v;
    memcpy((void *)(uintptr_t)res, &r, 8);
    return (uint64_t)n;
}

uint64_t bl_helper_strtoul(uint64_t buf, uint64_t len, uint64_t flags, uint64_t res, uint64_t r5,
                           struct bpflua_run_env *env)
{
    uint64_t v = 0;
    int neg = 0;
    int64_t n = strtox((const char *)(uintptr_t)buf, len, flags, &v, &neg);
    if (n < 0)
        return (uint64_t)n;
    if (neg)
        return err(EINVAL);
    memcpy((void *)(uintptr_t)res, &v, 8);
    return (uint64_t)n;
}

/* get_ns_current_pid_tgid(dev, ino, nsdata, size): the pid and tgid in
 * the pid namespace (dev, ino) if it is this process's (as stat of
 * /proc/self/ns/pid gives them, dev in the kernel's encoding) */
uint64_t bl_helper_get_ns_current_pid_tgid(uint64_t dev, uint64_t ino, uint64_t nsdata,
                                           uint64_t size, uint64_t r5,
                                           struct bpflua_run_env *env)
{
    struct stat s;
    uint32_t *out = (uint32_t *)(uintptr_t)nsdata;
    if (size == 8 && stat("/proc/self/ns/pid", &s) == 0 &&
        dev == ((uint64_t)major(s.st_dev) << 20 | minor(s.st_dev)) && ino == s.st_ino) {
        out[0] = (uint32_t)gettid();
        out[1] = (uint32_t)getpid();
        return 0;
    }
    memset(out, 0, size);
    return err(EINVAL);
}

/* map_lookup_percpu_elem(map, key, cpu): CPU cpu's slot, NULL past the
 * possible CPUs */
uint64_t bl_helper_map_lookup_percpu_elem(uint64_t map, uint64_t key, uint64_t cpu, uint64_t r4,
                                          uint64_t r5, struct bpflua_run_env *env)
{
    if (cpu >= bl_num_cpus())
        return 0;
    return (uint64_t)(uintptr_t)bl_map_lookup_cpu((struct bl_map *)(uintptr_t)map,
                                                  (const void *)(uintptr_t)key, (uint32_t)cpu);
}
