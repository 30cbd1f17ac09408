/* corpus.h - reading the verifier corpus, for test_verifier and
 * test_verifier_kernel (test code only).
 *
 * NAME.data: sections "-- asm", "-- verdict", "-- error", "-- max_insns",
 * "-- max_verified", "-- kernel" (see tests/verifier/README.md).
 * NAME.c: a C XDP program whose opening comment holds "verdict:",
 * "error:" and "kernel:" lines; CMake compiles it to $BPFLUA_BUILD/verifier/NAME.o.
 */
#ifndef BPFLUA_TESTS_CORPUS_H
#define BPFLUA_TESTS_CORPUS_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char corpus_dir[4096];

static void corpus_find_dir(const char *this_file)
{
    const char *src = getenv("BPFLUA_SRC");
    if (src) {
        snprintf(corpus_dir, sizeof corpus_dir, "%s/tests/verifier", src);
        return;
    }
    /* fall back on the test's own location: tests/unit/ -> tests/verifier */
    snprintf(corpus_dir, sizeof corpus_dir, "%s", this_file);
    char *slash = strrchr(corpus_dir, '/');
    if (slash)
        *slash = '\0';
    strncat(corpus_dir, "/../verifier", sizeof corpus_dir - strlen(corpus_dir) - 1);
}

static char *corpus_slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    if (buf)
        buf[n] = '\0';
    fclose(f);
    return buf;
}

/* The text of section `name` of a .data file (malloc'd), or NULL. */
static char *corpus_section(const char *text, const char *name)
{
    char hdr[64];
    snprintf(hdr, sizeof hdr, "-- %s\n", name);
    const char *p = text;
    while ((p = strstr(p, hdr)) && p != text && p[-1] != '\n')
        p++;
    if (!p)
        return NULL;
    p += strlen(hdr);
    const char *e = strstr(p, "\n-- ");
    size_t n = e ? (size_t)(e - p) + 1 : strlen(p);
    char *s = malloc(n + 2);
    memcpy(s, p, n);
    s[n] = '\0';
    if (strcmp(name, "asm") != 0)
        while (n && (s[n - 1] == '\n' || s[n - 1] == ' '))
            s[--n] = '\0';
    return s;
}

/* The value of a "key: value" line in a C case's opening comment. */
static char *corpus_c_field(const char *text, const char *key)
{
    char k[64];
    snprintf(k, sizeof k, "%s: ", key);
    const char *end = strstr(text, "*/");
    const char *p = strstr(text, k);
    if (!p || (end && p > end))
        return NULL;
    p += strlen(k);
    size_t n = strcspn(p, "\n");
    char *s = malloc(n + 1);
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

static int corpus_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names in the corpus ending in `ext` (".data" or ".c"); returns count. */
static int corpus_list(const char *ext, char **names, int max)
{
    DIR *d = opendir(corpus_dir);
    int n = 0;
    struct dirent *de;
    size_t el = strlen(ext);
    if (!d)
        return -1;
    while ((de = readdir(d)) && n < max) {
        size_t l = strlen(de->d_name);
        if (l > el && strcmp(de->d_name + l - el, ext) == 0)
            names[n++] = strdup(de->d_name);
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof *names, corpus_cmp);
    return n;
}

/* $BPFLUA_BUILD/verifier/NAME.o for NAME.c, or 0 if there is no build dir. */
static int corpus_object_path(const char *c_name, char *out, size_t size)
{
    const char *build = getenv("BPFLUA_BUILD");
    if (!build)
        return 0;
    snprintf(out, size, "%s/verifier/%.*s.o", build, (int)(strlen(c_name) - 2), c_name);
    return 1;
}

#endif
