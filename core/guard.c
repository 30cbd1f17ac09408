/* guard.c - guard-page memory (see guard.h). */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "guard.h"

#define FILL 0xa5
#define REG_SLOTS 256

/* live mappings, for bl_guard_is_guard_addr (read without locks) */
static struct {
    _Atomic uintptr_t base;
    _Atomic size_t len;
    _Atomic size_t period;   /* pages per element + its guard page */
} reg[REG_SLOTS];
static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;

/* the fill pattern, for memcmp (slack is always shorter than a page; pages
 * of up to 64 KiB are covered) */
static uint8_t fill_page[65536];
static pthread_once_t fill_once = PTHREAD_ONCE_INIT;
static void fill_init(void)
{
    memset(fill_page, FILL, sizeof fill_page);
}

size_t bl_guard_page_size(void)
{
    static _Atomic size_t page;
    size_t p = atomic_load_explicit(&page, memory_order_relaxed);
    if (!p) {
        long v = sysconf(_SC_PAGESIZE);
        p = v > 0 ? (size_t)v : 4096;
        atomic_store_explicit(&page, p, memory_order_relaxed);
    }
    return p;
}

static size_t pages_per_elem(size_t size, size_t page)
{
    size_t k = (size + page - 1) / page;
    return k ? k : 1;
}

/* slack of element i: [*lo, *lo + *len) */
static void slack_of(const struct bl_guard *g, size_t i, uint8_t **lo, size_t *len)
{
    size_t page = bl_guard_page_size();
    size_t run = pages_per_elem(g->size, page) * page;
    uint8_t *first = (uint8_t *)g->map + page + i * g->stride;
    *len = run - g->size;
    *lo = g->align == BL_GUARD_START ? first + g->size : first;
}

int bl_guard_alloc(struct bl_guard *g, size_t size, size_t n, enum bl_guard_align align)
{
    memset(g, 0, sizeof *g);
    g->reg = -1;
    if (n == 0 || (align != BL_GUARD_END && align != BL_GUARD_START))
        return -EINVAL;
    size_t page = bl_guard_page_size();
    size_t k = pages_per_elem(size, page);
    if (size > SIZE_MAX / 4 || n > SIZE_MAX / 4 / ((k + 1) * page))
        return -ENOMEM;
    size_t stride = (k + 1) * page;
    size_t len = page + n * stride;
    void *map = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (map == MAP_FAILED)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        uint8_t *first = (uint8_t *)map + page + i * stride;
        if (mprotect(first, k * page, PROT_READ | PROT_WRITE) != 0) {
            munmap(map, len);
            return -ENOMEM;
        }
    }
    g->map = map;
    g->map_len = len;
    g->size = size;
    g->stride = stride;
    g->n = n;
    g->align = align;
    g->mem = (uint8_t *)map + page + (align == BL_GUARD_END ? k * page - size : 0);
    for (size_t i = 0; i < n; i++) {
        uint8_t *lo;
        size_t sl;
        slack_of(g, i, &lo, &sl);
        memset(lo, FILL, sl);
        BL_POISON(lo, sl);
    }
    pthread_mutex_lock(&reg_lock);
    for (int s = 0; s < REG_SLOTS; s++) {
        if (atomic_load(&reg[s].base) == 0) {
            atomic_store(&reg[s].len, len);
            atomic_store(&reg[s].period, k + 1);
            atomic_store(&reg[s].base, (uintptr_t)map);
            g->reg = s;
            break;
        }
    }
    pthread_mutex_unlock(&reg_lock);
    return 0;
}

void bl_guard_free(struct bl_guard *g)
{
    if (!g || !g->map)
        return;
    if (g->reg >= 0) {
        pthread_mutex_lock(&reg_lock);
        atomic_store(&reg[g->reg].base, 0);
        pthread_mutex_unlock(&reg_lock);
    }
    for (size_t i = 0; i < g->n; i++) {
        uint8_t *lo;
        size_t sl;
        slack_of(g, i, &lo, &sl);
        BL_UNPOISON(lo, sl); /* the shadow outlives the mapping */
    }
    munmap(g->map, g->map_len);
    memset(g, 0, sizeof *g);
    g->reg = -1;
}

int bl_guard_check_elems(struct bl_guard *g, size_t first, size_t count)
{
    int rc = 0;
    pthread_once(&fill_once, fill_init);
    for (size_t i = first; g && g->map && i < g->n && i - first < count; i++) {
        uint8_t *lo;
        size_t sl;
        slack_of(g, i, &lo, &sl);
        BL_UNPOISON(lo, sl);
        for (size_t off = 0; off < sl; off += sizeof fill_page) {
            size_t c = sl - off < sizeof fill_page ? sl - off : sizeof fill_page;
            if (memcmp(lo + off, fill_page, c) != 0) {
                rc = -EFAULT;
                memset(lo, FILL, sl);
                break;
            }
        }
        BL_POISON(lo, sl);
    }
    return rc;
}

int bl_guard_check(struct bl_guard *g)
{
    return bl_guard_check_elems(g, 0, SIZE_MAX);
}

void *bl_guard_malloc(size_t size, enum bl_guard_align align)
{
    struct bl_guard g;
    return bl_guard_alloc(&g, size, 1, align) == 0 ? g.mem : NULL;
}

void bl_guard_free_ptr(void *p, size_t size, enum bl_guard_align align)
{
    if (!p)
        return;
    size_t page = bl_guard_page_size();
    size_t k = pages_per_elem(size, page);
    uint8_t *first = (uint8_t *)p - (align == BL_GUARD_END ? k * page - size : 0);
    struct bl_guard g = {
        .map = first - page, .map_len = page + (k + 1) * page, .mem = p, .size = size,
        .stride = (k + 1) * page, .n = 1, .align = align, .reg = -1,
    };
    for (int s = 0; s < REG_SLOTS; s++)
        if (atomic_load(&reg[s].base) == (uintptr_t)g.map)
            g.reg = s;
    bl_guard_free(&g);
}

static _Atomic int cached_default = -1;

void bl_guard_set_default(int on)
{
    atomic_store_explicit(&cached_default, on < 0 ? -1 : on != 0, memory_order_relaxed);
}

int bl_guard_default(void)
{
    int v = atomic_load_explicit(&cached_default, memory_order_relaxed);
    if (v < 0) {
        const char *e = getenv("BPFLUA_GUARD");
        if (e && *e)
            v = strcmp(e, "0") != 0;
        else
#ifdef BL_GUARD_ASAN
            v = 1;
#else
            v = 0;
#endif
        atomic_store_explicit(&cached_default, v, memory_order_relaxed);
    }
    return v;
}

int bl_guard_is_guard_addr(const void *addr)
{
    uintptr_t a = (uintptr_t)addr;
    size_t page = bl_guard_page_size();
    for (int s = 0; s < REG_SLOTS; s++) {
        uintptr_t base = atomic_load_explicit(&reg[s].base, memory_order_acquire);
        if (!base || a < base)
            continue;
        size_t len = atomic_load_explicit(&reg[s].len, memory_order_relaxed);
        size_t period = atomic_load_explicit(&reg[s].period, memory_order_relaxed);
        if (a - base >= len || !period)
            continue;
        if (((a - base) / page) % period == 0)
            return 1;
    }
    return 0;
}
