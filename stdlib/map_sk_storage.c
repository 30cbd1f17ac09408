/* map_sk_storage.c - BPF_MAP_TYPE_SK_STORAGE.
 *
 * In the kernel the values live in the sockets: bpf_sk_storage_get(map,
 * sk, value, flags) finds sk's value of the map, or with
 * BPF_SK_STORAGE_GET_F_CREATE makes it (from value, or zeroed), and the
 * socket's storage goes when the socket does (net/core/bpf_sk_storage.c).
 * The sandbox's sockets are the ones a run's context holds (skb->sk), alive
 * for one bpflua_run, as the kernel's BPF_PROG_TEST_RUN makes a socket for
 * one test run: the values are kept by the socket's address in a small hash
 * and dropped after each run (bl_sk_storage_clear). From userspace the key
 * is a socket's fd, which names no sandbox socket: lookups find nothing,
 * updates and deletes fail with -EBADF, and there is no next_key
 * (-EOPNOTSUPP), as the kernel has none.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "map_impl.h"

#define SK_STORAGE_MAX_VALUE 65000 /* about U16_MAX less the kernel's element header */
#define SANDBOX_SOCKETS 64         /* sockets with storage at once (one per run in practice) */
#define F_NO_PREALLOC 1u           /* BPF_F_NO_PREALLOC: required, as by the kernel */
#define F_CLONE (1u << 9)          /* BPF_F_CLONE: a listener's storage goes to its children */
#define GET_F_CREATE 1u            /* BPF_SK_STORAGE_GET_F_CREATE */

struct sk_map {
    struct bl_map map;
    struct bl_map *by_sock; /* hash: socket address (u64) -> value */
};

static struct sk_map *as_sk(struct bl_map *m)
{
    return (struct sk_map *)m;
}

static void *sk_lookup(struct bl_map *m, const void *key, int touch)
{
    return NULL;
}

static int sk_update(struct bl_map *m, const void *key, const void *value, uint64_t flags)
{
    return -EBADF;
}

static int sk_delete(struct bl_map *m, const void *key)
{
    return -EBADF;
}

static int sk_next_key(struct bl_map *m, const void *key, void *next_key)
{
    return -EOPNOTSUPP;
}

static void sk_free(struct bl_map *m)
{
    bl_map_free(as_sk(m)->by_sock);
    free(m);
}

static const struct bl_map_ops sk_ops = {
    sk_lookup, sk_update, sk_delete, sk_next_key, NULL, sk_free, NULL,
};

int bl_sk_storage_check(const struct bl_map_def *d, char **err)
{
    if (d->key_size != 4) {
        bl_set_err(err, "map '%s': sk_storage keys are 4 bytes (a socket's fd), not %u", d->name,
                   d->key_size);
        return -EINVAL;
    }
    if (d->value_size == 0 || d->value_size > SK_STORAGE_MAX_VALUE) {
        bl_set_err(err, "map '%s': sk_storage values are 1 to %u bytes, not %u", d->name,
                   SK_STORAGE_MAX_VALUE, d->value_size);
        return -EINVAL;
    }
    if (d->max_entries) {
        bl_set_err(err, "map '%s': sk_storage has max_entries 0 (a value per socket), not %u",
                   d->name, d->max_entries);
        return -EINVAL;
    }
    if (!(d->flags & F_NO_PREALLOC) || (d->flags & ~(F_NO_PREALLOC | F_CLONE))) {
        bl_set_err(err, "map '%s': sk_storage map flags must be BPF_F_NO_PREALLOC (0x1), maybe "
                   "with BPF_F_CLONE, not 0x%x", d->name, d->flags);
        return -EINVAL;
    }
    return 0;
}

struct bl_map *bl_sk_storage_create(const struct bl_map_def *d, char **err)
{
    struct sk_map *s = calloc(1, sizeof *s);
    if (!s) {
        bl_set_err(err, "map '%s': out of memory", d->name);
        return NULL;
    }
    struct bl_map_def h = *d;
    h.type = BPFLUA_MAP_HASH;
    h.key_size = 8;
    h.max_entries = SANDBOX_SOCKETS;
    h.flags = 0;
    if (!(s->by_sock = bl_hash_create(&h, err))) {
        free(s);
        return NULL;
    }
    s->map.def = *d;
    s->map.ops = &sk_ops;
    s->map.ncpus = 1;
    return &s->map;
}

void *bl_sk_storage_get(struct bl_map *m, uint64_t sk, const void *init, uint64_t flags)
{
    if (!m || m->def.type != BPFLUA_MAP_SK_STORAGE || !sk || (flags & ~(uint64_t)GET_F_CREATE))
        return NULL;
    struct bl_map *h = as_sk(m)->by_sock;
    void *v = h->ops->lookup(h, &sk, 1);
    if (v || !(flags & GET_F_CREATE))
        return v;
    if (init) {
        if (h->ops->update(h, &sk, init, BL_NOEXIST))
            return NULL;
    } else {
        void *zero = calloc(1, m->def.value_size);
        int rc = zero ? h->ops->update(h, &sk, zero, BL_NOEXIST) : -ENOMEM;
        free(zero);
        if (rc)
            return NULL;
    }
    return h->ops->lookup(h, &sk, 1);
}

int bl_sk_storage_delete(struct bl_map *m, uint64_t sk)
{
    if (!m || m->def.type != BPFLUA_MAP_SK_STORAGE)
        return -EINVAL;
    struct bl_map *h = as_sk(m)->by_sock;
    return h->ops->delete(h, &sk);
}

void bl_sk_storage_clear(struct bl_map *m)
{
    if (!m || m->def.type != BPFLUA_MAP_SK_STORAGE)
        return;
    struct bl_map *h = as_sk(m)->by_sock;
    uint64_t key;
    while (h->ops->next_key(h, NULL, &key) == 0)
        h->ops->delete(h, &key);
}
