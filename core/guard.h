/* guard.h - guard-page memory: regions bracketed by PROT_NONE pages.
 *
 * A verified program cannot reach outside the memory it was given; if a
 * verifier bug ever let one, guarded memory makes the escaping access fault
 * at once (SIGSEGV) instead of silently reading or writing the host's
 * neighbouring memory. Each element of a guarded allocation gets its own
 * run of pages with a PROT_NONE page below and above:
 *
 *     [guard][ slack | element 0 ][guard][ slack | element 1 ][guard] ...   BL_GUARD_END
 *     [guard][ element 0 | slack ][guard][ element 1 | slack ][guard] ...   BL_GUARD_START
 *
 * With BL_GUARD_END an element's last byte is the last byte before a guard
 * page (a read one byte past the end faults); with BL_GUARD_START its first
 * byte follows a guard page (a read one byte below the start faults). The
 * slack on the other side (less than a page) belongs to the allocation
 * alone: it holds a fill pattern and no host data, is poisoned for
 * AddressSanitizer in sanitizer builds, and bl_guard_check() reports any
 * write into it.
 *
 * Map values use it too (stdlib/map_values.c: maps created in guarded mode).
 *
 * Guarded mode is on by default in sanitizer builds (ASan: the test and
 * fuzz builds) and is switched with the environment variable BPFLUA_GUARD
 * (1 on, 0 off) or per run with bpflua_run_opts.guard.
 */
#ifndef BPFLUA_GUARD_H
#define BPFLUA_GUARD_H

#include <stddef.h>
#include <stdint.h>

/* AddressSanitizer poisoning of the slack and canaries (no-ops without
 * ASan), for guard.c and stdlib/map_values.c */
#if defined(__SANITIZE_ADDRESS__)
#define BL_GUARD_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BL_GUARD_ASAN 1
#endif
#endif

#ifdef BL_GUARD_ASAN
#include <sanitizer/asan_interface.h>
#define BL_POISON(p, n) __asan_poison_memory_region((p), (n))
#define BL_UNPOISON(p, n) __asan_unpoison_memory_region((p), (n))
#define BL_NO_ASAN __attribute__((no_sanitize_address))
#else
#define BL_POISON(p, n) ((void)(p), (void)(n))
#define BL_UNPOISON(p, n) ((void)(p), (void)(n))
#define BL_NO_ASAN
#endif

enum bl_guard_align {
    BL_GUARD_END = 0,   /* the element's end abuts the guard page above */
    BL_GUARD_START = 1, /* the element's start follows the guard page below */
};

struct bl_guard {
    void *map;          /* the whole mapping (guards included) */
    size_t map_len;
    uint8_t *mem;       /* element 0 */
    size_t size;        /* bytes per element */
    size_t stride;      /* element i is at mem + i * stride */
    size_t n;           /* elements */
    int align;          /* enum bl_guard_align */
    int reg;            /* registry slot, -1 if not registered */
};

/* Maps n elements of size bytes each (size may be 0), zero-filled, each in
 * its own guarded page run. 0, or -ENOMEM / -EINVAL (g zeroed). */
int bl_guard_alloc(struct bl_guard *g, size_t size, size_t n, enum bl_guard_align align);
/* Unmaps (g may be zeroed or already freed). */
void bl_guard_free(struct bl_guard *g);
/* Element i (NULL when out of range). */
static inline void *bl_guard_elem(const struct bl_guard *g, size_t i)
{
    return i < g->n ? g->mem + i * g->stride : NULL;
}
/* 0 if every element's slack still holds the fill pattern, else -EFAULT
 * (something wrote outside its element); restores the pattern. */
int bl_guard_check(struct bl_guard *g);
/* The same for elements [first, first + count) only. */
int bl_guard_check_elems(struct bl_guard *g, size_t first, size_t count);

/* Convenience for a single region: a pointer whose [p, p+size) ends at a
 * guard page (BL_GUARD_END) or starts after one (BL_GUARD_START); NULL on
 * failure. bl_guard_free_ptr takes the same size and align. */
void *bl_guard_malloc(size_t size, enum bl_guard_align align);
void bl_guard_free_ptr(void *p, size_t size, enum bl_guard_align align);

/* 1 if guarded mode is on by default: BPFLUA_GUARD=1/0 in the environment,
 * else 1 in sanitizer builds and 0 in release builds. */
int bl_guard_default(void);
/* Overrides the default for the rest of the process (tests): 1 on, 0 off,
 * -1 back to the environment and build. */
void bl_guard_set_default(int on);
/* Resolves a run option: opt > 0 on, opt < 0 off, 0 the default. */
static inline int bl_guard_wanted(int opt)
{
    return opt > 0 ? 1 : opt < 0 ? 0 : bl_guard_default();
}

/* 1 if addr lies in a guard page of a live allocation. Async-signal-safe:
 * for SIGSEGV handlers that tell a guard hit from another fault. */
int bl_guard_is_guard_addr(const void *addr);

size_t bl_guard_page_size(void);

#endif
