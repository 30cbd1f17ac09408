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

static struct bl_map *new_map_v(uint32_t type, uint32_t entries, uint32_t value_size)
{
    struct bl_map_def d = {.name = "m", .type = type, .key_size = 4, .value_size = value_size,
                           .max_entries = entries};
    char *err = NULL;
    struct bl_map *m = bl_map_create(&d, &err);
    if (!m)
        abort();
    return m;
}

static struct bl_map *new_map(uint32_t type, uint32_t entries)
{
    return new_map_v(type, entries, 8);
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

/* ---- session 11: more spellings (the tcp_* ones run on a packet of options) ---- */

static uint64_t tcp_for(const uint8_t *p, size_t len)
{
    int64_t opt = 0, n = 0, mss = 0, l = (int64_t)len;
    for (int k = 1; k <= 1500; k++) {
        if (opt >= l - 1)
            break;
        int64_t kind = p[opt], ol = 1;
        if (kind == 0)
            break;
        if (kind != 1) {
            ol = p[opt + 1];
            if (ol < 2)
                break;
            if (kind == 2 && ol == 4) {
                if (opt + 2 >= l)
                    return 0;                  /* (the program's out-of-bounds read) */
                mss += p[opt + 2];
            }
        }
        n++;
        opt += ol;
    }
    return (uint64_t)(n * 4096 + mss) & 0xffffff;
}

static int64_t find_opt(const uint8_t *p, int64_t n, int64_t start, int64_t want)
{
    int64_t opt = start;
    for (int k = 1; k <= 1500; k++) {
        if (opt + 2 > n)
            return 0;
        int64_t kind = p[opt];
        if (kind == want)
            return opt;
        if (kind == 0)
            return 0;
        if (kind == 1) {
            opt += 1;
        } else {
            int64_t ol = p[opt + 1];
            if (ol < 2)
                return 0;
            opt += ol;
        }
    }
    return 0;
}

static uint64_t tcp_find(const uint8_t *p, size_t len)
{
    int64_t n = (int64_t)len;
    return (uint64_t)(find_opt(p, n, 0, 31) + find_opt(p, n, 0, 3) * 65536) & 0xffffffff;
}

static uint64_t rec_stats(const uint8_t *p, size_t len)
{
    static struct bl_map *stats;
    if (!stats)
        stats = new_map_v(BPFLUA_MAP_ARRAY, 4, 24);
    uint32_t k = 0;
    uint64_t *st = bl_map_lookup(stats, &k);   /* bytes, zeros, high */
    if (!st)
        return 0;
    st[0] = st[1] = st[2] = 0;
    for (int64_t i = 0; i <= (int64_t)len - 1; i++) {
        uint64_t b = p[i];
        st[0] += b;
        if (b == 0)
            st[1]++;
        else if (b >= 128)
            st[2]++;
    }
    return (st[0] + st[1] * 7 + st[2] * 3) & 0xffffff;
}

static uint64_t map_cols(const uint8_t *p, size_t len)
{
    static struct bl_map *col;
    if (!col)
        col = new_map(BPFLUA_MAP_ARRAY, 8);
    if (len < 128)
        return 0;
    for (uint32_t c = 0; c <= 7; c++)
        set(col, c, 0);
    for (int64_t r = 0; r <= 15; r++)
        for (uint32_t c = 0; c <= 7; c++)
            set(col, c, get_or0(col, c) + p[r * 8 + c]);
    uint64_t best = 0;
    for (uint32_t c = 0; c <= 7; c++) {
        uint64_t v = get_or0(col, c);
        if ((int64_t)v > (int64_t)best)
            best = v;
    }
    return best;
}

static uint64_t pair_ret(const uint8_t *p, size_t len)
{
    if (len < 66)
        return 0;
    for (int64_t i = 0; i <= 61; i++) {
        unsigned w = (unsigned)p[i] << 8 | p[i + 1];
        for (int64_t j = i + 2; j <= 63; j++)
            if (((unsigned)p[j] << 8 | p[j + 1]) == w)
                return (uint64_t)(i * 256 + j);
    }
    return 1;
}

static uint64_t fletch_ge(const uint8_t *p, size_t len)
{
    int64_t a = 0, b = 0, n = (int64_t)len;
    for (int64_t i = 0; i <= 1499; i++) {
        if (i >= n)
            break;
        a += p[i];
        b = (int64_t)keep((uint64_t)(b + a));
    }
    return (uint64_t)((b & 0xff) << 8 | (a & 0xff));
}

static uint64_t words_lt(const uint8_t *p, size_t len)
{
    int64_t s = 0, n = (int64_t)len;
    for (int64_t i = 0; i <= 1998; i += 2) {
        if (n - i < 2)
            break;
        s = (int64_t)keep((uint64_t)(s + ((int64_t)p[i] << 8 | p[i + 1])));
    }
    s = (s & 0xffff) + (int64_t)((uint64_t)s >> 16);
    return (uint64_t)s & 0xffff;
}

static uint64_t be32_at(const uint8_t *p)
{
    return (uint64_t)p[0] << 24 | (uint64_t)p[1] << 16 | (uint64_t)p[2] << 8 | p[3];
}

static uint64_t step4_down(const uint8_t *p, size_t len)
{
    uint64_t s = 0, n = 0;
    for (int64_t i = (int64_t)len - 4; i >= 0; i -= 4) {
        s = keep(s ^ be32_at(p + i));
        n++;
    }
    return (s ^ n) & 0xffffffff;
}

static uint64_t step4_up(const uint8_t *p, size_t len)
{
    int64_t acc = 0, n = (int64_t)len;
    for (int64_t off = 0; off <= 1496; off += 4) {
        if (off + 4 > n)
            break;
        uint64_t w = (uint64_t)p[off] | (uint64_t)p[off + 1] << 8 | (uint64_t)p[off + 2] << 16 |
                     (uint64_t)p[off + 3] << 24;
        acc = (int64_t)keep((uint64_t)acc + (w ^ (uint64_t)off));
    }
    return (uint64_t)acc & 0xffffffff;
}

static uint64_t off_while(const uint8_t *p, size_t len)
{
    int64_t off = 0, n = (int64_t)len;
    uint64_t s = 0;
    for (int k = 1; k <= 1000; k++) {
        if (off + 4 > n)
            break;
        s = keep(s + (be32_at(p + off) ^ (uint64_t)off));
        off += 4;
    }
    return s & 0xffffffff;
}

static uint64_t rec_local(const uint8_t *p, size_t len)
{
    struct {
        uint32_t lo, hi;
        uint64_t n;
    } a = {0, 0, 0};
    for (int64_t i = 0; i <= (int64_t)len - 1; i++) {
        uint32_t b = p[i];
        if (b < 128)
            a.lo = (uint32_t)keep(a.lo + b);
        else
            a.hi = (uint32_t)keep(a.hi + b);
        a.n++;
    }
    return ((uint64_t)a.lo + (uint64_t)a.hi * 3 + a.n) & 0xffffff;
}

static int64_t sum_words(const uint8_t *p, int64_t off, int64_t stop)
{
    int64_t s = 0;
    for (int k = 1; k <= 1000; k++) {
        if (off + 2 > stop)
            break;
        s = (int64_t)keep((uint64_t)(s + ((int64_t)p[off] << 8 | p[off + 1])));
        off += 2;
    }
    return s;
}

static uint64_t fn_words(const uint8_t *p, size_t len)
{
    int64_t n = (int64_t)len;
    return (uint64_t)(sum_words(p, 0, n) * 3 + sum_words(p, 1, n)) & 0xffffff;
}

static uint64_t tri_gt(const uint8_t *p, size_t len)
{
    if (len < 32)
        return 0;
    int64_t acc = 0;
    for (int64_t i = 0; i <= 31; i++) {
        int64_t a = p[i];
        for (int64_t j = i; j <= 31; j++) {
            if (i + j > 40)
                break;
            acc = (int64_t)keep((uint64_t)(acc + (a ^ p[j]) * (j - i + 1)));
        }
    }
    return (uint64_t)acc & 0xffffff;
}


const struct native_algo native_spellings[] = {
    {"fn_nest", fn_nest},         {"len_brk", len_brk},       {"map_hash", map_hash},
    {"map_nest", map_nest},       {"nest2_cond", nest2_cond}, {"nest3_brk", nest3_brk},
    {"nest3_ret", nest3_ret},     {"nest3_step3", nest3_step3}, {"pkt_win", pkt_win},
    {"short_fn", short_fn},       {"short_pkt", short_pkt},   {"short_step", short_step},
    {"sum_ret", sum_ret},         {"tri_brk", tri_brk},       {"tri_step2", tri_step2},
    {"tcp_for", tcp_for},         {"tcp_find", tcp_find},     {"rec_stats", rec_stats},
    {"map_cols", map_cols},       {"pair_ret", pair_ret},     {"fletch_ge", fletch_ge},
    {"words_lt", words_lt},       {"step4_down", step4_down}, {"step4_up", step4_up},
    {"tri_gt", tri_gt},           {"off_while", off_while},   {"rec_local", rec_local},
    {"fn_words", fn_words},
    {NULL, NULL},
};
