#ifndef BENCH_ALGOS_H
#define BENCH_ALGOS_H
#include <stddef.h>
#include <stdint.h>
struct native_algo {
    const char *name;
    uint64_t (*fn)(const uint8_t *p, size_t len);
};
extern const struct native_algo native_algos[];
/* tests/bench/progs/spellings/NAME.lua's twins (spellings.c) */
extern const struct native_algo native_spellings[];
#endif
