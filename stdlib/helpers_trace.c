/* helpers_trace.c - helpers about the current task, time and memory:
 * get_current_pid_tgid/uid_gid/comm, probe_read and its _kernel, _user
 * and _str forms, ktime_get_boot_ns, get_numa_node_id, csum_diff.
 *
 * The current task is the process running bpflua, as it is the process
 * calling BPF_PROG_TEST_RUN in the kernel. probe_read reads only memory
 * the run was given (bpflua_run_opts.mem, at the addresses the program
 * sees); any other address fails with -EFAULT and a zeroed destination,
 * as a probe_read of an unmapped address does in the kernel.
 */
#include <errno.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "helper_impl.h"
#include "maps.h"

uint64_t bl_helper_get_current_pid_tgid(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
                                        uint64_t r5, struct bpflua_run_env *env)
{
    return (uint64_t)(uint32_t)getpid() << 32 | (uint32_t)gettid();
}

uint64_t bl_helper_get_current_uid_gid(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
                                       uint64_t r5, struct bpflua_run_env *env)
{
    return (uint64_t)(uint32_t)getgid() << 32 | (uint32_t)getuid();
}

uint64_t bl_helper_get_current_comm(uint64_t buf, uint64_t size, uint64_t r3, uint64_t r4,
                                    uint64_t r5, struct bpflua_run_env *env)
{
    char comm[17] = {0};
    char *dst = (char *)(uintptr_t)buf;
    prctl(PR_GET_NAME, comm, 0, 0, 0);
    if (!size)
        return 0;
    memset(dst, 0, size);
    size_t n = strlen(comm);
    memcpy(dst, comm, n < size ? n : size - 1);
    return 0;
}

/* host address of [addr, addr + len) if a region the run was given holds
 * all of it, else NULL */
static const unsigned char *given(const struct bpflua_run_env *env, uint64_t addr, uint64_t len)
{
    for (size_t i = 0; env && i < env->n_mem; i++) {
        const struct bpflua_mem_region *r = &env->mem[i];
        if (addr >= r->addr && addr - r->addr <= r->len && len <= r->len - (addr - r->addr))
            return (const unsigned char *)r->data + (addr - r->addr);
    }
    return NULL;
}

uint64_t bl_helper_probe_read(uint64_t dst, uint64_t size, uint64_t src, uint64_t r4,
                              uint64_t r5, struct bpflua_run_env *env)
{
    const unsigned char *from = given(env, src, size);
    if (!size)
        return 0;
    if (!from) {
        memset((void *)(uintptr_t)dst, 0, size);
        return (uint64_t)(int64_t)-EFAULT;
    }
    memcpy((void *)(uintptr_t)dst, from, size);
    return 0;
}

/* up to size - 1 bytes and a NUL; the length with the NUL */
uint64_t bl_helper_probe_read_str(uint64_t dst, uint64_t size, uint64_t src, uint64_t r4,
                                  uint64_t r5, struct bpflua_run_env *env)
{
    char *to = (char *)(uintptr_t)dst;
    if (!size)
        return 0;
    for (uint64_t i = 0; i < size; i++) {
        const unsigned char *c = given(env, src + i, 1);
        if (!c) {
            memset(to, 0, size);
            return (uint64_t)(int64_t)-EFAULT;
        }
        to[i] = i == size - 1 ? 0 : (char)*c;
        if (!to[i])
            return i + 1;
    }
    return size;
}

uint64_t bl_helper_ktime_get_boot_ns(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
                                     uint64_t r5, struct bpflua_run_env *env)
{
    struct timespec ts;
    clock_gettime(CLOCK_BOOTTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* jiffies at the HZ of Debian's kernels (250), from the monotonic clock:
 * the kernel's counter also starts 5 minutes before 0 (INITIAL_JIFFIES),
 * which a program can only see as a difference between two reads */
uint64_t bl_helper_jiffies64(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
                             struct bpflua_run_env *env)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 250u + (uint64_t)ts.tv_nsec / 4000000u;
}

uint64_t bl_helper_ktime_get_coarse_ns(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
                                       uint64_t r5, struct bpflua_run_env *env)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t bl_helper_get_numa_node_id(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
                                    uint64_t r5, struct bpflua_run_env *env)
{
    return 0; /* the sandbox is one node */
}

/* one's-complement sum of 32-bit words (as stored); bpf_csum_diff folds
 * it to 16 bits (not inverted), as Linux 6.18 does on every architecture */
static uint64_t add_words(uint64_t acc, const unsigned char *p, uint64_t n, int invert)
{
    for (uint64_t i = 0; i < n; i += 4) {
        uint32_t w;
        memcpy(&w, p + i, 4);
        acc += invert ? (uint32_t)~w : w;
    }
    return acc;
}

uint64_t bl_helper_csum_diff(uint64_t from, uint64_t from_size, uint64_t to, uint64_t to_size,
                             uint64_t seed, struct bpflua_run_env *env)
{
    if (((from_size | to_size) & 3) || from_size + to_size > 512)
        return (uint64_t)(int64_t)-EINVAL;
    uint64_t acc = (uint32_t)seed;
    acc = add_words(acc, (const unsigned char *)(uintptr_t)from, from_size, 1);
    acc = add_words(acc, (const unsigned char *)(uintptr_t)to, to_size, 0);
    while (acc >> 16) /* 6.18 folds the sum to 16 bits on every architecture */
        acc = (acc & 0xffffu) + (acc >> 16);
    return acc;
}

/* perf_event_array slots hold no counters in the sandbox (only the
 * reader's output events): reading one is -EINVAL, as the kernel says of
 * an event it cannot read; _value zeroes its buffer */
uint64_t bl_helper_perf_event_read(uint64_t map, uint64_t flags, uint64_t r3, uint64_t r4,
                                   uint64_t r5, struct bpflua_run_env *env)
{
    return (uint64_t)(int64_t)-EINVAL;
}

uint64_t bl_helper_perf_event_read_value(uint64_t map, uint64_t flags, uint64_t buf,
                                         uint64_t size, uint64_t r5, struct bpflua_run_env *env)
{
    memset((void *)(uintptr_t)buf, 0, size);
    return (uint64_t)(int64_t)-EINVAL;
}

/* no stack to walk: a zeroed buffer and -EFAULT, as get_stackid */
uint64_t bl_helper_get_stack(uint64_t ctx, uint64_t buf, uint64_t size, uint64_t flags,
                             uint64_t r5, struct bpflua_run_env *env)
{
    memset((void *)(uintptr_t)buf, 0, size);
    return (uint64_t)(int64_t)-EFAULT;
}

/* the sandbox gives a run no user memory to write */
uint64_t bl_helper_probe_write_user(uint64_t dst, uint64_t src, uint64_t size, uint64_t r4,
                                    uint64_t r5, struct bpflua_run_env *env)
{
    return (uint64_t)(int64_t)-EFAULT;
}

uint64_t bl_helper_ktime_get_tai_ns(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
                                    uint64_t r5, struct bpflua_run_env *env)
{
    struct timespec ts;
    clock_gettime(CLOCK_TAI, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t bl_helper_ringbuf_query(uint64_t map, uint64_t flags, uint64_t r3, uint64_t r4,
                                 uint64_t r5, struct bpflua_run_env *env)
{
    return bl_ringbuf_query((struct bl_map *)(uintptr_t)map, flags);
}
