/* util.c - reading files and hex, and opening any kind of program file. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bl_lua.h"

static void set_err(char **err, char *msg)
{
    if (err) {
        free(*err);
        *err = msg;
    } else {
        free(msg);
    }
}

static char *dupf(const char *fmt, const char *a, const char *b)
{
    size_t n = strlen(fmt) + strlen(a) + (b ? strlen(b) : 0) + 1;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, fmt, a, b ? b : "");
    return s;
}

char *bl_read_file(const char *path, size_t *len, char **err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        set_err(err, dupf("cannot open %s: %s", path, strerror(errno)));
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(f);
        set_err(err, dupf("cannot read %s: %s", path, "is a directory"));
        return NULL;
    }
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (n < cap) {
            if (ferror(f)) {
                free(buf);
                fclose(f);
                set_err(err, dupf("cannot read %s: %s", path, strerror(EIO)));
                return NULL;
            }
            break;
        }
        cap *= 2;
        char *nb = realloc(buf, cap + 1);
        if (!nb) {
            free(buf);
            buf = NULL;
        } else {
            buf = nb;
        }
    }
    fclose(f);
    if (!buf) {
        set_err(err, dupf("cannot read %s: %s", path, "out of memory"));
        return NULL;
    }
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int bl_hex_decode(const char *hex, unsigned char **out, size_t *len, char **err)
{
    size_t n = strlen(hex);
    unsigned char *buf = malloc(n / 2 + 1);
    if (!buf) {
        set_err(err, strdup("out of memory"));
        return -1;
    }
    size_t k = 0;
    int hi = -1;
    const char *p = hex;
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
        p += 2;
    for (; *p; p++) {
        if (*p == ' ' || *p == ':' || *p == '\t' || *p == '\n' || *p == '-' || *p == '_') {
            if (hi >= 0) {
                free(buf);
                set_err(err, dupf("bad hex '%s': odd digit before a separator%s", hex, NULL));
                return -1;
            }
            continue;
        }
        int v = hexval((unsigned char)*p);
        if (v < 0) {
            free(buf);
            char c[2] = {*p, 0};
            set_err(err, dupf("bad hex: '%s' is not a hex digit%s", c, NULL));
            return -1;
        }
        if (hi < 0) {
            hi = v;
        } else {
            buf[k++] = (unsigned char)(hi << 4 | v);
            hi = -1;
        }
    }
    if (hi >= 0) {
        free(buf);
        set_err(err, dupf("bad hex '%s': odd number of digits%s", hex, NULL));
        return -1;
    }
    *out = buf;
    *len = k;
    return 0;
}

int bl_has_suffix(const char *path, const char *suffix)
{
    size_t a = strlen(path), b = strlen(suffix);
    return a >= b && strcmp(path + a - b, suffix) == 0;
}

bpflua_object *bl_open_any(lua_State *L, const char *path, char **err, int *status)
{
    size_t len;
    *status = 2;
    char *buf = bl_read_file(path, &len, err);
    if (!buf)
        return NULL;
    bpflua_object *obj = NULL;
    if (len >= 4 && memcmp(buf, "\177ELF", 4) == 0) {
        obj = bpflua_object_from_elf(buf, len, path, err);
        if (!obj && err && !*err)
            *err = dupf("%s: not a valid eBPF ELF object%s", path, NULL);
    } else if (bl_has_suffix(path, ".lua")) {
        if (memchr(buf, '\0', len)) {
            set_err(err, dupf("%s: not a text file%s", path, NULL));
        } else {
            obj = bl_lua_compile(L, buf, len, path, err);
            if (!obj)
                *status = 1;
        }
    } else if (bl_has_suffix(path, ".asm") || bl_has_suffix(path, ".s")) {
        obj = bpflua_object_from_asm(buf, path, err);
        if (!obj)
            *status = 1;
    } else {
        set_err(err, dupf("%s: not an ELF object and not a .lua source%s", path, NULL));
    }
    free(buf);
    return obj;
}
