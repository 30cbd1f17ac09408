/* elf_log.c - libbpf prints warnings to stderr by default; the engine must
 * not print, so while it calls libbpf the messages are captured and become
 * part of the error it returns. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <bpf/libbpf.h>

#include "elf_internal.h"

static struct bl_strbuf *capture_sb;
static libbpf_print_fn_t saved_print;
static int capture_depth;

static int capture_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
    if (!capture_sb || level == LIBBPF_DEBUG)
        return 0;
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n <= 0)
        return 0;
    char *buf = malloc((size_t)n + 1);
    if (!buf)
        return 0;
    vsnprintf(buf, (size_t)n + 1, fmt, ap);
    bl_strbuf_append(capture_sb, buf, (size_t)n);
    free(buf);
    return n;
}

void bl_libbpf_capture_begin(struct bl_strbuf *sb)
{
    if (capture_depth++ == 0) {
        capture_sb = sb;
        saved_print = libbpf_set_print(capture_print);
    }
}

void bl_libbpf_capture_end(void)
{
    if (capture_depth > 0 && --capture_depth == 0) {
        libbpf_set_print(saved_print);
        capture_sb = NULL;
    }
}
