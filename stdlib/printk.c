/* printk.c - bpf_trace_printk formatting with the kernel's rules.
 *
 * As kernel/bpf/helpers.c (bpf_bprintf_prepare): the format must hold a NUL
 * within fmt_size, contain only printable ASCII or whitespace, and use at
 * most three conversions from %d %i %u %x %X %c %p %px %pK (with optional
 * l/ll and "[0+- ][width]"), plus %%. Anything else is -EINVAL. The helper
 * returns the formatted length, as the kernel's bstr_printf does. %p is
 * printed unhashed (the kernel hashes it), with the same width.
 *
 * Deliberate difference: %s and the %p extensions that dereference (%pks,
 * %pI4, %pS, %pB...) would read memory through an unchecked pointer or
 * kernel symbols, which the sandbox cannot allow: -EINVAL.
 *
 * bpf_snprintf and bpf_trace_vprintk (bl_bprintf) take up to 12 arguments
 * from an array and also %s, %pks, %pus, %pI4, %pi4, %pI6 and %pi6 as the
 * kernel's bpf_bprintf_prepare: the address is read only where a region
 * the run was given (--mem, as bpf_probe_read) holds it, and otherwise
 * reads as the kernel's failed copy does (an empty string, a zero
 * address).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../core/object.h"
#include "helpers.h"

#define PRINTK_MAX_ARGS 3
#define BPRINTF_MAX_ARGS 12
#define BPRINTF_MAX_STR 512 /* bytes of one %s the kernel copies (its buffer) */
#define PRINTK_MAX_WIDTH 1024
#define PRINTK_LINE_MAX 1023 /* the kernel's 1024-byte buffer, NUL included */

/* One conversion "%[flags][width][l[l]]c" starting at fmt[*pos] == '%'.
 * Appends its text to out and advances *pos past it. */
/* bytes at addr the run was given (bpflua_run_opts.mem), or NULL */
static const unsigned char *given_mem(const struct bpflua_run_env *env, uint64_t addr,
                                      uint64_t len)
{
    for (size_t i = 0; env && i < env->n_mem; i++) {
        const struct bpflua_mem_region *r = &env->mem[i];
        if (addr >= r->addr && addr - r->addr <= r->len && len <= r->len - (addr - r->addr))
            return (const unsigned char *)r->data + (addr - r->addr);
    }
    return NULL;
}

/* %s, %pks, %pus: the string at arg where a given region holds it */
static int format_str(struct bl_strbuf *out, const struct bpflua_run_env *env, uint64_t arg)
{
    size_t n = 0;
    const unsigned char *c;
    while (n < BPRINTF_MAX_STR - 1 && (c = given_mem(env, arg + n, 1)) && *c)
        n++;
    return n ? bl_strbuf_append(out, (const char *)given_mem(env, arg, n), n) : 0;
}

/* %pI4 %pi4 %pI6 %pi6 (the letter and digit at fmt[i + 1], fmt[i + 2]) */
static int format_ip(struct bl_strbuf *out, const struct bpflua_run_env *env, char form,
                     char ver, uint64_t arg)
{
    unsigned char a[16] = {0};
    size_t n = ver == '4' ? 4 : 16;
    const unsigned char *from = given_mem(env, arg, n);
    if (from)
        memcpy(a, from, n);
    if (ver == '4')
        return bl_strbuf_printf(out, form == 'I' ? "%u.%u.%u.%u" : "%03u.%03u.%03u.%03u",
                                a[0], a[1], a[2], a[3]);
    for (size_t k = 0; k < 16; k += 2) {
        int rc = bl_strbuf_printf(out, form == 'I' && k ? ":%02x%02x" : "%02x%02x", a[k],
                                  a[k + 1]);
        if (rc)
            return rc;
    }
    return 0;
}

static int format_one(struct bl_strbuf *out, const char *fmt, size_t *pos, uint64_t arg,
                      const struct bpflua_run_env *env, int deref)
{
    char spec[32];
    size_t n = 0, i = *pos + 1;
    spec[n++] = '%';
    while (fmt[i] == '0' || fmt[i] == '+' || fmt[i] == '-' || fmt[i] == ' ') {
        if (n < 8)
            spec[n++] = fmt[i];
        i++;
    }
    unsigned width = 0;
    if (fmt[i] >= '1' && fmt[i] <= '9') {
        while (fmt[i] >= '0' && fmt[i] <= '9') {
            width = width * 10 + (unsigned)(fmt[i] - '0');
            if (width > PRINTK_MAX_WIDTH)
                return -EINVAL;
            i++;
        }
        n += (size_t)snprintf(spec + n, sizeof spec - n, "%u", width);
    }
    int longs = 0;
    char conv = fmt[i];
    if (deref && conv == 's') {
        *pos = i + 1;
        return format_str(out, env, arg);
    }
    if (deref && conv == 'p' && (fmt[i + 1] == 'k' || fmt[i + 1] == 'u') && fmt[i + 2] == 's') {
        *pos = i + 3;
        return format_str(out, env, arg);
    }
    if (deref && conv == 'p' && (fmt[i + 1] == 'I' || fmt[i + 1] == 'i') &&
        (fmt[i + 2] == '4' || fmt[i + 2] == '6')) {
        *pos = i + 3;
        return format_ip(out, env, fmt[i + 1], fmt[i + 2], arg);
    }
    if (conv == 'p') {
        /* %px and %pK print the value as %p does (the kernel hashes %p and
         * may zero %pK: the same length); the extensions that read memory
         * or symbols (%pI4, %pks, %pS, %pB...) are refused */
        if (fmt[i + 1] == 'x' || fmt[i + 1] == 'K') {
            /* vsprintf swallows the letters and digits after an extension */
            i++;
            while (isalnum((unsigned char)fmt[i + 1]))
                i++;
        } else if (isalnum((unsigned char)fmt[i + 1])) {
            return -EINVAL;
        }
        *pos = i + 1;
        /* as the kernel's pointer_string: 16 zero-padded digits unless a
         * width was given */
        snprintf(spec + n, sizeof spec - n, width ? "llx" : "016llx");
        return bl_strbuf_printf(out, spec, (unsigned long long)arg);
    }
    if (conv == 'c') {
        *pos = i + 1;
        snprintf(spec + n, sizeof spec - n, "c");
        return bl_strbuf_printf(out, spec, (unsigned char)arg);
    }
    while (fmt[i] == 'l' && longs < 2) {
        longs++;
        i++;
    }
    conv = fmt[i];
    if (conv != 'd' && conv != 'i' && conv != 'u' && conv != 'x' && conv != 'X')
        return -EINVAL;
    *pos = i + 1;
    int is_signed = conv == 'd' || conv == 'i';
    snprintf(spec + n, sizeof spec - n, "ll%c", conv);
    /* without l the argument is an int: its low 32 bits */
    if (longs == 0)
        arg = is_signed ? (uint64_t)(int64_t)(int32_t)arg : (uint32_t)arg;
    if (is_signed)
        return bl_strbuf_printf(out, spec, (long long)arg);
    return bl_strbuf_printf(out, spec, (unsigned long long)arg);
}

static int format_all(struct bl_strbuf *out, const char *fmt, uint32_t fmt_size,
                      const uint64_t *args, int max_args, const struct bpflua_run_env *env,
                      int deref)
{
    if (!fmt || fmt_size == 0 || !memchr(fmt, 0, fmt_size))
        return -EINVAL;
    int n_args = 0;
    size_t i = 0;
    while (fmt[i]) {
        unsigned char c = (unsigned char)fmt[i];
        if (!isascii(c) || (!isprint(c) && !isspace(c)))
            return -EINVAL;
        if (c != '%') {
            size_t run = 1;
            while (fmt[i + run] && fmt[i + run] != '%')
                run++;
            /* check the run's characters before copying them */
            for (size_t k = 1; k < run; k++) {
                unsigned char d = (unsigned char)fmt[i + k];
                if (!isascii(d) || (!isprint(d) && !isspace(d)))
                    return -EINVAL;
            }
            int rc = bl_strbuf_append(out, fmt + i, run);
            if (rc)
                return rc;
            i += run;
            continue;
        }
        if (fmt[i + 1] == '%') {
            int rc = bl_strbuf_append(out, "%", 1);
            if (rc)
                return rc;
            i += 2;
            continue;
        }
        if (n_args == max_args)
            return -EINVAL;
        int rc = format_one(out, fmt, &i, args[n_args++], env, deref);
        if (rc)
            return rc;
    }
    return 0;
}

static int format_checked(struct bl_strbuf *out, const char *fmt, uint32_t fmt_size,
                          const uint64_t *args, int max_args, const struct bpflua_run_env *env,
                          int deref)
{
    size_t start = out->len;
    int rc = format_all(out, fmt, fmt_size, args, max_args, env, deref);
    if (rc) {
        out->len = start; /* nothing half-formatted is left behind */
        if (out->buf)
            out->buf[start] = '\0';
        return rc;
    }
    return (int)(out->len - start);
}

int bl_printk_format(struct bl_strbuf *out, const char *fmt, uint32_t fmt_size,
                     const uint64_t args[3])
{
    return format_checked(out, fmt, fmt_size, args, PRINTK_MAX_ARGS, NULL, 0);
}

int bl_bprintf(struct bl_strbuf *out, const char *fmt, uint32_t fmt_size, const uint64_t *args,
               uint32_t n_args, const struct bpflua_run_env *env)
{
    if (n_args > BPRINTF_MAX_ARGS)
        return -EINVAL;
    return format_checked(out, fmt, fmt_size, args, (int)n_args, env, 1);
}

int bl_trace_printk(struct bl_strbuf *trace, const char *fmt, uint32_t fmt_size,
                    const uint64_t args[3])
{
    return bl_trace_bprintf(trace, fmt, fmt_size, args, PRINTK_MAX_ARGS, NULL, 0);
}

int bl_trace_bprintf(struct bl_strbuf *trace, const char *fmt, uint32_t fmt_size,
                     const uint64_t *args, uint32_t n_args, const struct bpflua_run_env *env,
                     int deref)
{
    struct bl_strbuf line = {0};
    int len = deref ? bl_bprintf(&line, fmt, fmt_size, args, n_args, env)
                    : bl_printk_format(&line, fmt, fmt_size, args);
    if (len >= 0 && trace) {
        size_t shown = (size_t)len < PRINTK_LINE_MAX ? (size_t)len : PRINTK_LINE_MAX;
        int rc = bl_strbuf_append(trace, line.buf ? line.buf : "", shown);
        /* one line per call: end it unless the format already did */
        if (!rc && (shown == 0 || line.buf[shown - 1] != '\n'))
            rc = bl_strbuf_append(trace, "\n", 1);
        if (rc)
            len = rc;
    }
    bl_strbuf_free(&line);
    return len;
}
