/* helpers_refs.c - helpers whose results the verifier tracks as
 * references the program must give back: ring buffer records reserved in
 * place (bpf_ringbuf_reserve, then submit or discard), sockets from a
 * lookup (released with bpf_sk_release); and bpf_spin_lock/unlock on a
 * map value's struct bpf_spin_lock.
 *
 * The sandbox has no sockets: every lookup finds nothing and returns NULL,
 * as the kernel does for a tuple no socket matches. Programs must handle
 * NULL anyway, so they verify as in the kernel and take their miss path.
 */
#include <stdint.h>

#include "helper_impl.h"
#include "maps.h"

uint64_t bl_helper_ringbuf_reserve(uint64_t map, uint64_t size, uint64_t flags, uint64_t r4,
                                   uint64_t r5, struct bpflua_run_env *env)
{
    return (uint64_t)(uintptr_t)bl_ringbuf_reserve((struct bl_map *)(uintptr_t)map, size, flags);
}

/* flags (BPF_RB_NO_WAKEUP, BPF_RB_FORCE_WAKEUP) only choose when the
 * kernel wakes readers: the sandbox's reader drains after each run */
uint64_t bl_helper_ringbuf_submit(uint64_t sample, uint64_t flags, uint64_t r3, uint64_t r4,
                                  uint64_t r5, struct bpflua_run_env *env)
{
    bl_ringbuf_commit((void *)(uintptr_t)sample, 0);
    return 0;
}

uint64_t bl_helper_ringbuf_discard(uint64_t sample, uint64_t flags, uint64_t r3, uint64_t r4,
                                   uint64_t r5, struct bpflua_run_env *env)
{
    bl_ringbuf_commit((void *)(uintptr_t)sample, 1);
    return 0;
}

/* A test-and-set lock on the value's 4-byte struct bpf_spin_lock. The
 * verifier proves every lock is released on the path that took it, with
 * no call in between, so a holder always lets go. */
uint64_t bl_helper_spin_lock(uint64_t lock, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
                             struct bpflua_run_env *env)
{
    uint32_t *l = (uint32_t *)(uintptr_t)lock;
    while (__atomic_exchange_n(l, 1u, __ATOMIC_ACQUIRE))
        while (__atomic_load_n(l, __ATOMIC_RELAXED))
            __builtin_ia32_pause();
    return 0;
}

uint64_t bl_helper_spin_unlock(uint64_t lock, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
                               struct bpflua_run_env *env)
{
    __atomic_store_n((uint32_t *)(uintptr_t)lock, 0u, __ATOMIC_RELEASE);
    return 0;
}

/* bpf_sk_lookup_tcp/udp, bpf_skc_lookup_tcp: no socket matches */
uint64_t bl_helper_sk_lookup(uint64_t ctx, uint64_t tuple, uint64_t size, uint64_t netns,
                             uint64_t flags, struct bpflua_run_env *env)
{
    return 0;
}

uint64_t bl_helper_sk_release(uint64_t sk, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
                              struct bpflua_run_env *env)
{
    return 0;
}
