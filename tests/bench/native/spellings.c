/* spellings.c - native-C twins of the programs in tests/bench/progs/spellings,
 * survey of other ways to write the bench's loop shapes: each function
 * computes what its program returns, written the same way (the same
 * break, return and bounds), for the JIT's side-by-side ratio
 * (tests/bench/side_spellings.sh). Compiled with clang -O2 like algos.c;
 * keep() is its loop-carried barrier, maps are bpflua's own (stdlib/maps.h)
 * as a C XDP program calls the kernel's. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "algos.h"
#include "core/object.h"
#include "stdlib/maps.h"

static inline uint64_t keep(uint64_t v)
{
    __asm__ volatile("" : "+r"(v));
    return v;
}

static int64_t tri(int64_t seed, int64_t a, int64_t b)
{
    int64_t s = 0;
    for (int64_t i = a; i <= b; i++)
        for (int64_t j = a; j <= i; j++)
            s = (int64_t)keep((uint64_t)(s + ((i * j) ^ seed)));
    return s;
}

static uint64_t fn_nest(const uint8_t *p, size_t len)
{
    if (len < 1)
        return 0;
    int64_t seed = p[0];
    return (uint64_t)(tri(seed, 0, 29) + tri(seed, 10, 39)) & 0xffffff;
}

static uint64_t len_brk(const uint8_t *p, size_t len)
{
    int64_t s = 0, n = (int64_t)len;
    for (int64_t i = 0; i <= 4000; i += 4) {
        if (i + 3 >= n)
            break;
        s = (int64_t)keep((uint64_t)(s ^ (p[i] + p[i + 3] * 3)));
    }
    return (uint64_t)s & 0xffff;
}

static struct bl_map *new_map(uint32_t type, uint32_t entries)
{
    struct bl_map_def d = {.name = "m", .type = type, .key_size = 4, .value_size = 8,
                           .max_entries = entries};
    char *err = NULL;
    struct bl_map *m = bl_map_create(&d, &err);
    if (!m)
        abort();
    return m;
}

static uint64_t get_or0(struct bl_map *m, uint32_t k)
{
    const uint64_t *v = bl_map_lookup(m, &k);
    return v ? *v : 0;
}

static void set(struct bl_map *m, uint32_t k, uint64_t v) { bl_map_update(m, &k, &v, BL_ANY); }

static uint64_t map_hash(const uint8_t *p, size_t len)
{
    static struct bl_map *cnt;
    if (!cnt)
        cnt = new_map(BPFLUA_MAP_HASH, 256);
    int64_t n = (int64_t)len;
    if (n > 128)
        n = 128;
    for (int64_t i = 0; i <= n - 1; i++) {
        uint32_t b = p[i] & 31;
        set(cnt, b, get_or0(cnt, b) + 1);
    }
    uint64_t best = 0;
    for (uint32_t b = 0; b <= 31; b++) {
        uint64_t v = get_or0(cnt, b);
        if ((int64_t)v > (int64_t)best)
            best = v;
        bl_map_delete(cnt, &b);
    }
    return best;
}

static uint64_t map_nest(const uint8_t *p, size_t len)
{
    static struct bl_map *hist;
    if (!hist)
        hist = new_map(BPFLUA_MAP_ARRAY, 64);
    if (len < 16)
        return 0;
    for (uint32_t k = 0; k <= 63; k++)
        set(hist, k, 0);
    for (int64_t i = 0; i <= 15; i++)
        for (int64_t j = i; j <= 15; j++) {
            uint32_t k = (p[i] + p[j]) & 63;
            set(hist, k, get_or0(hist, k) + 1);
        }
    uint64_t best = 0;
    for (uint32_t k = 0; k <= 63; k++) {
        uint64_t v = get_or0(hist, k);
        if ((int64_t)v > (int64_t)best)
            best = v;
    }
    return best;
}

static uint64_t nest2_cond(const uint8_t *p, size_t len)
{
    if (len < 1)
        return 0;
    int64_t seed = p[0], acc = 0, odd = 0;
    for (int64_t i = 1; i <= 24; i++)
        for (int64_t j = 1; j <= i * 2; j++) {
            if ((j & 1) == 1)
                odd = (int64_t)keep((uint64_t)(odd + 1));
            else
                acc = (int64_t)keep((uint64_t)(acc + ((i * j) ^ seed)));
        }
    return (uint64_t)(acc + odd) & 0xffffff;
}

static uint64_t nest3_brk(const uint8_t *p, size_t len)
{
    if (len < 1)
        return 0;
    int64_t seed = p[0], acc = 0;
    for (int64_t i = 0; i <= 15; i++)
        for (int64_t j = 0; j <= 15; j++) {
            if (j > i)
                break;
            for (int64_t k = 0; k <= 3; k++)
                acc = (int64_t)keep((uint64_t)(acc + ((i + j * k) ^ seed)));
        }
    return (uint64_t)acc & 0xffffff;
}

static uint64_t nest3_ret(const uint8_t *p, size_t len)
{
    if (len < 1)
        return 0;
    int64_t seed = p[0], acc = 0;
    for (int64_t i = 0; i <= 15; i++)
        for (int64_t j = 0; j <= i; j++)
            for (int64_t k = j; k <= i; k++) {
                acc = (int64_t)keep((uint64_t)(acc + (i ^ j ^ k ^ seed)));
                if (acc > 0xfffffff)
                    return 1;
            }
    return (uint64_t)acc & 0xffffff;
}

static uint64_t nest3_step3(const uint8_t *p, size_t len)
{
    if (len < 1)
        return 0;
    int64_t seed = p[0], acc = 0;
    for (int64_t i = 45; i >= 0; i -= 3)
        for (int64_t j = 0; j <= i; j += 3)
            for (int64_t k = j; k <= i; k++)
                acc = (int64_t)keep((uint64_t)(acc + (i ^ j ^ k ^ seed)));
    return (uint64_t)acc & 0xffffff;
}

static uint64_t pkt_win(const uint8_t *p, size_t len)
{
    int64_t n = (int64_t)len, acc = 0;
    for (int64_t i = 0; i <= n - 8; i += 8) {
        int64_t w = 0;
        for (int64_t j = i; j <= i + 7; j++)
            w = (int64_t)keep((uint64_t)(w + p[j]));
        acc ^= w * (i + 1);
    }
    return (uint64_t)acc & 0xffffff;
}

static int64_t mix(int64_t i, int64_t seed)
{
    int64_t s = 0;
    for (int64_t j = 0; j <= (i & 3); j++)
        s = (int64_t)keep((uint64_t)(s + (i ^ j ^ seed)));
    return s;
}

static uint64_t short_fn(const uint8_t *p, size_t len)
{
    if (len < 1)
        return 0;
    int64_t seed = p[0], acc = 0;
    for (int64_t i = 0; i <= 199; i++)
        acc += mix(i, seed);
    return (uint64_t)acc & 0xffffff;
}

static uint64_t short_pkt(const uint8_t *p, size_t len)
{
    int64_t acc = 0;
    for (int64_t i = 0; i <= (int64_t)len - 1; i++)
        for (int64_t j = 0; j <= (p[i] & 3); j++)
            acc = (int64_t)keep((uint64_t)(acc + (i ^ j)));
    return (uint64_t)acc & 0xffffff;
}

static uint64_t short_step(const uint8_t *p, size_t len)
{
    if (len < 1)
        return 0;
    int64_t seed = p[0], acc = 0;
    for (int64_t i = 0; i <= 299; i++)
        for (int64_t j = i & 7; j >= 0; j -= 2)
            acc = (int64_t)keep((uint64_t)(acc + (i ^ j ^ seed)));
    return (uint64_t)acc & 0xffffff;
}

static uint64_t sum_ret(const uint8_t *p, size_t len)
{
    int64_t s = 0;
    for (int64_t i = 0; i <= (int64_t)len - 1; i++) {
        int64_t b = p[i];
        if (b == 0 && i > 200)
            return (uint64_t)s & 0xffff;
        s = (int64_t)keep((uint64_t)(s + b * (i & 7)));
    }
    return (uint64_t)(s + 1) & 0xffff;
}

static uint64_t tri_brk(const uint8_t *p, size_t len)
{
    if (len < 1)
        return 0;
    int64_t seed = p[0], acc = 0;
    for (int64_t i = 0; i <= 39; i++)
        for (int64_t j = 0; j <= 39; j++) {
            if (j > i)
                break;
            acc = (int64_t)keep((uint64_t)(acc + ((i * j) ^ seed)));
        }
    return (uint64_t)acc & 0xffffff;
}

static uint64_t tri_step2(const uint8_t *p, size_t len)
{
    if (len < 1)
        return 0;
    int64_t seed = p[0], acc = 0;
    for (int64_t i = 0; i <= 94; i += 2)
        for (int64_t j = i; j >= 0; j -= 2)
            acc = (int64_t)keep((uint64_t)(acc + ((i + j) ^ seed)));
    return (uint64_t)acc & 0xffffff;
}

const struct native_algo native_spellings[] = {
    {"fn_nest", fn_nest},         {"len_brk", len_brk},       {"map_hash", map_hash},
    {"map_nest", map_nest},       {"nest2_cond", nest2_cond}, {"nest3_brk", nest3_brk},
    {"nest3_ret", nest3_ret},     {"nest3_step3", nest3_step3}, {"pkt_win", pkt_win},
    {"short_fn", short_fn},       {"short_pkt", short_pkt},   {"short_step", short_step},
    {"sum_ret", sum_ret},         {"tri_brk", tri_brk},       {"tri_step2", tri_step2},
    {NULL, NULL},
};
