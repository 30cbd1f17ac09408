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

/* ---- loops as users write them (issue 20): one twin per spelling, the
 * same C loop as the program's, with the same break or return inside ---- */

static uint64_t fold16(uint64_t s)
{
    s = (s & 0xffff) + (s >> 16);
    s = (s & 0xffff) + (s >> 16);
    return ~s & 0xffff;
}

uint64_t native_csum1000_brk(const uint8_t *p, size_t len)
{
    uint64_t s = 0;
    for (int64_t i = 0; i <= 998; i += 2) {
        if (i + 2 > (int64_t)len)
            break;
        s += be16(p + i);
    }
    return fold16(s);
}

uint64_t native_csum1000_len(const uint8_t *p, size_t len)
{
    int64_t n = (int64_t)len;
    if (n > 1000)
        n = 1000;
    uint64_t s = 0;
    for (int64_t i = 0; i <= n - 2; i += 2)
        s += be16(p + i);
    return fold16(s);
}

uint64_t native_csum1000_word(const uint8_t *p, size_t len)
{
    uint64_t s = 0;
    for (int64_t w = 0; w <= 499; w++) {
        if (w * 2 + 2 > (int64_t)len)
            break;
        s += be16(p + w * 2);
    }
    return fold16(s);
}

uint64_t native_zscan_brk(const uint8_t *p, size_t len)
{
    for (int64_t i = 0; i <= 1499; i++) {
        if (i >= (int64_t)len)
            break;
        if (p[i] == 0)
            return (uint64_t)i;
    }
    return 0xffff;
}

uint64_t native_zscan_ret(const uint8_t *p, size_t len)
{
    for (int64_t i = 0; i <= 1499; i++) {
        if (i + 1 > (int64_t)len)
            return 0xffff;
        if (p[i] == 0)
            return (uint64_t)i;
    }
    return 0xffff;
}

uint64_t native_zscan_len(const uint8_t *p, size_t len)
{
    int64_t n = (int64_t)len;
    if (n > 1500)
        n = 1500;
    for (int64_t i = 0; i < n; i++)
        if (p[i] == 0)
            return (uint64_t)i;
    return 0xffff;
}

uint64_t native_sum32_step(const uint8_t *p, size_t len)
{
    uint64_t s = 0;
    for (int64_t off = 0; off <= (int64_t)len - 4; off += 4)
        s += be32(p + off);
    return s & 0xffffffff;
}

uint64_t native_sum32_word(const uint8_t *p, size_t len)
{
    uint64_t s = 0;
    for (int64_t w = 0; w < (int64_t)(len / 4); w++)
        s += be32(p + w * 4);
    return s & 0xffffffff;
}

uint64_t native_sum32_brk(const uint8_t *p, size_t len)
{
    uint64_t s = 0;
    for (int64_t off = 0; off <= 2044; off += 4) {
        if (off + 4 > (int64_t)len)
            break;
        s += be32(p + off);
    }
    return s & 0xffffffff;
}

uint64_t native_lastnz_neg(const uint8_t *p, size_t len)
{
    for (int64_t i = (int64_t)len - 1; i >= 0; i--)
        if (p[i] != 0)
            return (uint64_t)i;
    return 0xffff;
}

uint64_t native_lastnz_rev(const uint8_t *p, size_t len)
{
    int64_t n = (int64_t)len;
    for (int64_t k = 0; k < n; k++) {
        int64_t i = n - 1 - k;
        if (p[i] != 0)
            return (uint64_t)i;
    }
    return 0xffff;
}

uint64_t native_lastnz_brk(const uint8_t *p, size_t len)
{
    uint64_t last = 0xffff;
    for (int64_t i = 2047; i >= 0; i--) {
        if (i < (int64_t)len && p[i] != 0) {
            last = (uint64_t)i;
            break;
        }
    }
    return last;
}

uint64_t native_cmphalf_len(const uint8_t *p, size_t len)
{
    size_t half = len / 2;
    for (size_t i = 0; i < half; i++)
        if (p[i] != p[i + half])
            return i;
    return 0xffff;
}

uint64_t native_cmphalf_brk(const uint8_t *p, size_t len)
{
    int64_t half = (int64_t)(len / 2);
    uint64_t at = 0xffff;
    for (int64_t i = 0; i <= 1023; i++) {
        if (i >= half)
            break;
        if (p[i] != p[half + i]) {
            at = (uint64_t)i;
            break;
        }
    }
    return at;
}

uint64_t native_tri_up(const uint8_t *p, size_t len)
{
    if (len < 1)
        return 0;
    int64_t seed = p[0], acc = 0;
    for (int64_t i = 0; i <= 47; i++)
        for (int64_t j = 0; j <= i; j++)
            acc = (int64_t)keep((uint64_t)(acc + ((i * j) ^ seed)));
    return (uint64_t)acc & 0xffffff;
}

uint64_t native_tri_down(const uint8_t *p, size_t len)
{
    if (len < 1)
        return 0;
    int64_t seed = p[0], acc = 0;
    for (int64_t i = 47; i >= 0; i--)
        for (int64_t j = i; j >= 0; j--)
            acc = (int64_t)keep((uint64_t)(acc + ((i * j) ^ seed)));
    return (uint64_t)acc & 0xffffff;
}

uint64_t native_short_up(const uint8_t *p, size_t len)
{
    if (len < 1)
        return 0;
    int64_t seed = p[0], acc = 0;
    for (int64_t i = 0; i <= 199; i++)
        for (int64_t j = 0; j <= (i & 3); j++)
            acc = (int64_t)keep((uint64_t)(acc + (i ^ j ^ seed)));
    return (uint64_t)acc & 0xffffff;
}

uint64_t native_short_down(const uint8_t *p, size_t len)
{
    if (len < 1)
        return 0;
    int64_t seed = p[0], acc = 0;
    for (int64_t i = 199; i >= 0; i--)
        for (int64_t j = i & 3; j >= 0; j--)
            acc = (int64_t)keep((uint64_t)(acc + (i ^ j ^ seed)));
    return (uint64_t)acc & 0xffffff;
}

uint64_t native_short_ret(const uint8_t *p, size_t len)
{
    if (len < 1)
        return 0;
    int64_t seed = p[0], acc = 0;
    for (int64_t i = 0; i <= 199; i++)
        for (int64_t j = 0; j <= (i & 3); j++) {
            acc = (int64_t)keep((uint64_t)(acc + (i ^ j ^ seed)));
            if (acc > 0xfffffff)
                return 1;
        }
    return (uint64_t)acc & 0xffffff;
}

uint64_t native_nest3_up(const uint8_t *p, size_t len)
{
    if (len < 1)
        return 0;
    int64_t seed = p[0], acc = 0;
    for (int64_t i = 0; i <= 15; i++)
        for (int64_t j = 0; j <= i; j++)
            for (int64_t k = 0; k <= j; k++)
                acc = (int64_t)keep((uint64_t)(acc + (i ^ j ^ k ^ seed)));
    return (uint64_t)acc & 0xffffff;
}

uint64_t native_nest3_down(const uint8_t *p, size_t len)
{
    if (len < 1)
        return 0;
    int64_t seed = p[0], acc = 0;
    for (int64_t i = 15; i >= 0; i--)
        for (int64_t j = i; j >= 0; j--)
            for (int64_t k = j; k >= 0; k--)
                acc = (int64_t)keep((uint64_t)(acc + (i ^ j ^ k ^ seed)));
    return (uint64_t)acc & 0xffffff;
}

uint64_t native_mix32_two(const uint8_t *p, size_t len)
{
    if (len < 1)
        return 0;
    uint64_t acc = p[0];
    for (uint64_t i = 0; i <= 31; i++)
        for (uint64_t j = 0; j <= 31; j++) {
            acc = acc * 31 + (i ^ j);
            acc = acc ^ (acc >> 7);
        }
    return acc & 0xffffff;
}

uint64_t native_mix32_tmp(const uint8_t *p, size_t len)
{
    if (len < 1)
        return 0;
    uint64_t acc = p[0];
    for (uint64_t i = 0; i <= 31; i++)
        for (uint64_t j = 0; j <= 31; j++) {
            uint64_t t = acc * 31 + (i ^ j);
            acc = t ^ (t >> 7);
        }
    return acc & 0xffffff;
}

static __attribute__((noinline)) uint64_t sum_range(const uint8_t *p, int64_t a, int64_t b)
{
    uint64_t s = 0;
    for (int64_t i = a; i < b; i++)
        s += p[i];
    return s;
}

static __attribute__((noinline)) uint64_t sum_upto(const uint8_t *p, int64_t a, int64_t n)
{
    uint64_t s = 0;
    for (int64_t i = a; i <= a + 999; i++) {
        if (i >= n)
            break;
        s += p[i];
    }
    return s;
}

uint64_t native_ranges_fn(const uint8_t *p, size_t len)
{
    int64_t half = (int64_t)(len / 2);
    return (sum_range(p, 0, half) * 3 + sum_range(p, half, (int64_t)len)) & 0xffffff;
}

uint64_t native_ranges_brk(const uint8_t *p, size_t len)
{
    int64_t half = (int64_t)(len / 2);
    return (sum_upto(p, 0, half) * 3 + sum_upto(p, half, (int64_t)len)) & 0xffffff;
}

/* prefix: the program's array map (u32 -> u64, 64 entries), a lookup and
 * an update per access, as a C XDP program calls the helpers */
static struct bl_map *st;

static void st_init(void)
{
    if (!st) {
        struct bl_map_def d = {.name = "st", .type = BPFLUA_MAP_ARRAY, .key_size = 4,
                               .value_size = 8, .max_entries = 64};
        char *err = NULL;
        st = bl_map_create(&d, &err);
        if (!st)
            abort();
    }
}

static uint64_t st_get(uint32_t k)
{
    const uint64_t *v = bl_map_lookup(st, &k);
    return v ? *v : 0;
}

static void st_set(uint32_t k, uint64_t v) { bl_map_update(st, &k, &v, BL_ANY); }

uint64_t native_prefix_map(const uint8_t *p, size_t len)
{
    st_init();
    if (len < 64)
        return 0;
    for (uint32_t i = 0; i < 64; i++)
        st_set(i, p[i]);
    for (uint32_t i = 1; i < 64; i++)
        st_set(i, st_get(i) + st_get(i - 1));
    return st_get(63) & 0xffff;
}

uint64_t native_prefix_acc(const uint8_t *p, size_t len)
{
    st_init();
    if (len < 64)
        return 0;
    uint64_t s = 0;
    for (uint32_t i = 0; i < 64; i++) {
        s += p[i];
        st_set(i, s);
    }
    return st_get(63) & 0xffff;
}

uint64_t native_tcpopts_brk(const uint8_t *p, size_t len)
{
    int64_t opt = 0, n = (int64_t)len;
    uint64_t s = 0;
    for (int k = 1; k <= 1500; k++) {
        if (opt + 2 > n)
            break;
        unsigned kind = p[opt];
        if (kind == 0)
            break;
        if (kind == 1) {
            opt += 1;
        } else {
            unsigned l = p[opt + 1];
            if (l < 2)
                break;
            s += (uint64_t)kind * l;
            opt += l;
        }
    }
    return s & 0xffffff;
}

uint64_t native_tcpopts_ret(const uint8_t *p, size_t len)
{
    int64_t opt = 0, n = (int64_t)len;
    uint64_t s = 0;
    for (int k = 1; k <= 1500; k++) {
        if (opt + 2 > n)
            return s & 0xffffff;
        unsigned kind = p[opt];
        if (kind == 0)
            return s & 0xffffff;
        unsigned l = 1;
        if (kind != 1) {
            l = p[opt + 1];
            if (l < 2)
                return s & 0xffffff;
            s += (uint64_t)kind * l;
        }
        opt += l;
    }
    return s & 0xffffff;
}

/* flows: the compiled program's record key and value as C structs (source
 * order, C alignment: the layout the compiler gives Flow and Stats), the
 * same hash map type, bl_map_lookup and an in-place update or bl_map_update,
 * as a C XDP program does with the kernel's helpers. */
struct flow_key { uint32_t saddr, daddr; uint16_t sport, dport; uint8_t proto; };
struct flow_stats { uint64_t packets, bytes; };
static struct bl_map *flows;

uint64_t native_flows(const uint8_t *p, size_t len)
{
    if (len < 34 || be16(p + 12) != 0x0800)
        return 2;
    if (!flows) {
        struct bl_map_def d = {.name = "flows", .type = BPFLUA_MAP_HASH,
                               .key_size = sizeof(struct flow_key),
                               .value_size = sizeof(struct flow_stats), .max_entries = 4096};
        char *err = NULL;
        flows = bl_map_create(&d, &err);
        if (!flows)
            abort();
    }
    struct flow_key k;
    memset(&k, 0, sizeof k);
    k.saddr = be32(p + 26);
    k.daddr = be32(p + 30);
    k.proto = p[23];
    if ((k.proto == 6 || k.proto == 17) && len >= 38) {
        k.sport = (uint16_t)be16(p + 34);
        k.dport = (uint16_t)be16(p + 36);
    }
    struct flow_stats *s = bl_map_lookup(flows, &k);
    if (s) {
        s->packets++;
        s->bytes += len;
    } else {
        struct flow_stats n = {1, len};
        bl_map_update(flows, &k, &n, BL_ANY);
    }
    return 2;
}

/* (added after the others: a twin's code placed before them moves theirs,
 * and their loops' speed moves with it) */
uint64_t native_nest2_step(const uint8_t *p, size_t len)
{
    if (len < 1)
        return 0;
    int64_t seed = p[0], acc = 0;
    for (int64_t i = 0; i <= 60; i += 2)
        for (int64_t j = i; j <= 90; j += 3)
            acc = (int64_t)keep((uint64_t)(acc + ((i + j) ^ seed)));
    return (uint64_t)acc & 0xffffff;
}

uint64_t native_nest2_affine(const uint8_t *p, size_t len)
{
    if (len < 1)
        return 0;
    int64_t seed = p[0], acc = 0;
    for (int64_t i = 40; i >= 1; i--)
        for (int64_t j = 40 - i; j <= 2 * i; j += 2)
            acc = (int64_t)keep((uint64_t)(acc + ((i * j) ^ seed)));
    return (uint64_t)acc & 0xffffff;
}

const struct native_algo native_algos[] = {
    {"flows", native_flows},
    {"sum1k", native_sum1k},       {"sum1m", native_sum1m},
    {"checksum", native_checksum}, {"scan", native_scan},
    {"nested", native_nested},     {"mapcount", native_mapcount},
    {"parse", native_parse},       {"csum1000_brk", native_csum1000_brk},
    {"csum1000_len", native_csum1000_len},
    {"csum1000_word", native_csum1000_word},
    {"zscan_brk", native_zscan_brk},
    {"zscan_ret", native_zscan_ret},
    {"zscan_len", native_zscan_len},
    {"sum32_step", native_sum32_step},
    {"sum32_word", native_sum32_word},
    {"sum32_brk", native_sum32_brk},
    {"lastnz_neg", native_lastnz_neg},
    {"lastnz_rev", native_lastnz_rev},
    {"lastnz_brk", native_lastnz_brk},
    {"cmphalf_len", native_cmphalf_len},
    {"cmphalf_brk", native_cmphalf_brk},
    {"tri_up", native_tri_up},
    {"tri_down", native_tri_down},
    {"short_up", native_short_up},
    {"short_down", native_short_down},
    {"short_ret", native_short_ret},
    {"nest2_step", native_nest2_step},
    {"nest2_affine", native_nest2_affine},
    {"nest3_up", native_nest3_up},
    {"nest3_down", native_nest3_down},
    {"mix32_two", native_mix32_two},
    {"mix32_tmp", native_mix32_tmp},
    {"ranges_fn", native_ranges_fn},
    {"ranges_brk", native_ranges_brk},
    {"prefix_map", native_prefix_map},
    {"prefix_acc", native_prefix_acc},
    {"tcpopts_brk", native_tcpopts_brk},
    {"tcpopts_ret", native_tcpopts_ret},
    {NULL, NULL},
};
