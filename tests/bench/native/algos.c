/* algos.c - the benchmark algorithms as plain C, for the "native" column.
 *
 * Each function does what the matching program in tests/bench/progs/
 * does, on the same packet, and returns the same value. Compiled with
 * clang -O2. The loop-carried `keep()` barrier stops clang from replacing a
 * counted sum with its closed form, which would measure algebra, not loops.
 *
 * Same algorithm, same data structure: where a program uses a map, its twin
 * calls the same map code (bpflua's stdlib, linked in) where a C XDP
 * program would call the kernel's map helpers. mapcount's twin used to
 * count in a private 2048-slot open-addressing array, which measured the
 * difference between that array and a BPF_MAP_TYPE_HASH, not the JIT (lead's
 * decision, docs/jit.md "Benchmarks"). parse's twin, for the same reason,
 * counts in an array map like the program's `seen` (BPF_MAP_TYPE_ARRAY,
 * u32 -> u64, 8 entries) with bl_map_lookup / bl_map_update, where it used
 * to count in a plain C array (the JIT inlines those two helpers on array
 * maps, as the kernel's JIT does; a C XDP program calls them).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "algos.h"
#include "stdlib/maps.h"
#include "core/object.h"

static inline uint64_t keep(uint64_t v)
{
    __asm__ volatile("" : "+r"(v));
    return v;
}

static unsigned be16(const uint8_t *p) { return (unsigned)p[0] << 8 | p[1]; }
static uint32_t be32(const uint8_t *p) { return (uint32_t)be16(p) << 16 | be16(p + 2); }

uint64_t native_sum1k(const uint8_t *p, size_t len)
{
    if (len < 16)
        return 0;
    uint64_t n = be16(p + 14), s = 0;
    for (uint64_t i = 0; i < n; i++)
        s = keep(s + i);
    return s & 0x7fffffff;
}

uint64_t native_sum1m(const uint8_t *p, size_t len)
{
    if (len < 18)
        return 0;
    uint64_t n = be32(p + 14), s = 0;
    for (uint64_t i = 0; i < n; i++)
        s = keep(s + i);
    return s & 0x7fffffff;
}

uint64_t native_checksum(const uint8_t *p, size_t len)
{
    uint64_t s = 0;
    for (size_t i = 0; i < len / 2; i++)
        s += be16(p + 2 * i);
    s = (s & 0xffff) + (s >> 16);
    s = (s & 0xffff) + (s >> 16);
    return ~s & 0xffff;
}

uint64_t native_scan(const uint8_t *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (p[i] == 0)
            return i;
    return 0xffff;
}

uint64_t native_nested(const uint8_t *p, size_t len)
{
    if (len < 1)
        return 0;
    int64_t seed = p[0], acc = 0;
    for (int64_t i = 0; i < 32; i++)
        for (int64_t j = 0; j < 32; j++)
            acc = (int64_t)keep((uint64_t)(acc + ((i * j) ^ seed)));
    return (uint64_t)acc & 0xffffff;
}

/* mapcount: the same hash map the program uses. The program's
 * `counts[k] = (counts[k] or 0) + 1` is a bpf_map_lookup_elem and a
 * bpf_map_update_elem on a BPF_MAP_TYPE_HASH (u32 -> u64, 1024 entries);
 * a C XDP program does the same two helper calls, which here are bpflua's
 * own map functions (stdlib/maps.h: the code the JIT's map helpers call),
 * on a map created once and kept across runs, as the program's map is. */
static struct bl_map *counts;

uint64_t native_mapcount(const uint8_t *p, size_t len)
{
    if (len < 64)
        return 0;
    if (!counts) {
        struct bl_map_def d = {.name = "counts", .type = BPFLUA_MAP_HASH, .key_size = 4,
                               .value_size = 8, .max_entries = 1024};
        char *err = NULL;
        counts = bl_map_create(&d, &err);
        if (!counts)
            abort();
    }
    for (int i = 0; i < 64; i++) {
        uint32_t k = p[i];
        const uint64_t *old = bl_map_lookup(counts, &k);
        uint64_t v = (old ? *old : 0) + 1;
        bl_map_update(counts, &k, &v, BL_ANY);
    }
    return 2;
}

/* parse: `seen[k] = (seen[k] or 0) + 1` on the program's kind of map, an
 * array of 8 u64 created once and kept across runs: a lookup and an
 * update, as the program does them */
static struct bl_map *seen;

static void count(uint32_t k)
{
    const uint64_t *old = bl_map_lookup(seen, &k);
    uint64_t v = (old ? *old : 0) + 1;
    bl_map_update(seen, &k, &v, BL_ANY);
}

uint64_t native_parse(const uint8_t *p, size_t len)
{
    if (!seen) {
        struct bl_map_def d = {.name = "seen", .type = BPFLUA_MAP_ARRAY, .key_size = 4,
                               .value_size = 8, .max_entries = 8};
        char *err = NULL;
        seen = bl_map_create(&d, &err);
        if (!seen)
            abort();
    }
    if (len < 14)
        return 0;
    size_t off = 12;
    unsigned proto = be16(p + off);
    if (proto == 0x8100) {
        if (len < 18)
            return 1;
        off = 16;
        proto = be16(p + off);
    }
    off += 2;
    unsigned l4;
    if (proto == 0x0800) {
        if (off + 20 > len)
            return 1;
        l4 = p[off + 9];
        off += (p[off] & 0x0f) * 4;
    } else if (proto == 0x86dd) {
        if (off + 40 > len)
            return 1;
        l4 = p[off + 6];
        off += 40;
    } else {
        count(0);
        return 2;
    }
    if (l4 != 6 && l4 != 17) {
        count(1);
        return 2;
    }
    if (off + 4 > len)
        return 1;
    unsigned dport = be16(p + off + 2);
    if (dport == 23 || dport == 445) {
        count(2);
        return 1;
    }
    count(3);
    return 2;
}

const struct native_algo native_algos[] = {
    {"sum1k", native_sum1k},       {"sum1m", native_sum1m},
    {"checksum", native_checksum}, {"scan", native_scan},
    {"nested", native_nested},     {"mapcount", native_mapcount},
    {"parse", native_parse},       {NULL, NULL},
};
