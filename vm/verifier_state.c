/* verifier_state.c - creating, copying and comparing abstract states.
 *
 * Pruning rests on subsumption: an explored state `old` at an insn was
 * proven safe for everything that follows, so a new state `cur` there needs
 * no further work when every concrete machine state cur describes is also
 * described by old. vf_regsafe() and vf_slot_safe() decide that per register and
 * per stack slot; ids (null-check and packet-range groups, linked scalars)
 * must correspond one-to-one, checked through a small id map. */
#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <pthread.h>
#include <sys/mman.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "verifier_state.h"

const struct bl_slot bl_invalid_slot;
const struct bl_reg bl_reg_not_init;
const struct bl_reg bl_reg_unknown = {
    .type = REG_SCALAR, .var = { 0, UINT64_MAX }, .smin = INT64_MIN, .smax = INT64_MAX,
    .umin = 0, .umax = UINT64_MAX, .s32min = INT32_MIN, .s32max = INT32_MAX, .u32min = 0,
    .u32max = UINT32_MAX,
};

/* ---- the arena ------------------------------------------------------------ */

/* Under AddressSanitizer a block on a free list is poisoned (but for the
 * link word), so a use after vf_vstate_free/vf_frame_free is still reported as
 * it was with malloc. */
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define ARENA_FIRST_CHUNK (16u << 10)
#define ARENA_MAX_CHUNK (1u << 20)
#define ARENA_MAP_MIN (256u << 10)

static size_t align16(size_t n)
{
    return (n + 15) & ~(size_t)15;
}

/* Chunks outlive their verification in a small process-wide cache, up to
 * ARENA_CACHE_MAX bytes: the next verification takes them back instead of
 * asking malloc, which for blocks this size hands out fresh pages from the
 * kernel (a page fault each, zeroed) and returns them at free. The kernel's
 * own verifier allocates from warm slab caches in the same way. */
#define ARENA_CACHE_MAX (16u << 20)

/* An array, most recent last, rather than a list through the chunks:
 * LeakSanitizer scans static memory but not the mmap'd chunks such a list
 * runs through, and reported the malloc'd chunks behind them as leaks. */
#define ARENA_CACHE_SLOTS (ARENA_CACHE_MAX / ARENA_FIRST_CHUNK)

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct bl_arena_chunk *cache[ARENA_CACHE_SLOTS];
static size_t n_cached, cache_bytes;

static struct bl_arena_chunk *chunk_get(size_t want)
{
    struct bl_arena_chunk *c = NULL;
    pthread_mutex_lock(&cache_lock);
    for (size_t k = n_cached; k-- > 0;)
        if (cache[k]->size >= want) {
            c = cache[k];
            memmove(&cache[k], &cache[k + 1], (n_cached - k - 1) * sizeof *cache);
            n_cached--;
            cache_bytes -= c->size;
            break;
        }
    pthread_mutex_unlock(&cache_lock);
    if (c) {
        UNPOISON(c->data, c->size);
        return c;
    }
    if (want >= ARENA_MAP_MIN) {
        /* Big chunks straight from the kernel, populated in one call: a
         * first verification in a fresh process would otherwise take a
         * page fault for every 4 KiB it touches. */
        void *m = mmap(NULL, sizeof *c + want, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
        if (m == MAP_FAILED)
            return NULL;
        c = m;
        c->mapped = 1;
    } else {
        c = malloc(sizeof *c + want);
        if (!c)
            return NULL;
        c->mapped = 0;
    }
    c->size = want;
    return c;
}

static void chunk_free(struct bl_arena_chunk *c)
{
    if (c && c->mapped)
        munmap(c, sizeof *c + c->size);
    else
        free(c);
}

static void chunk_put(struct bl_arena_chunk *c)
{
    pthread_mutex_lock(&cache_lock);
    if (n_cached < ARENA_CACHE_SLOTS && cache_bytes + c->size <= ARENA_CACHE_MAX) {
        POISON(c->data, c->size); /* unused until handed out again */
        cache[n_cached++] = c;
        cache_bytes += c->size;
        c = NULL;
    }
    pthread_mutex_unlock(&cache_lock);
    chunk_free(c);
}

void vf_arena_trim_cache(void)
{
    pthread_mutex_lock(&cache_lock);
    while (n_cached) {
        struct bl_arena_chunk *c = cache[--n_cached];
        UNPOISON(c->data, c->size);
        chunk_free(c);
    }
    cache_bytes = 0;
    pthread_mutex_unlock(&cache_lock);
}

size_t vf_arena_cached_bytes(void)
{
    pthread_mutex_lock(&cache_lock);
    size_t n = cache_bytes;
    pthread_mutex_unlock(&cache_lock);
    return n;
}

void *vf_arena_alloc_slow(struct bl_arena *a, size_t size)
{
    size = align16(size);
    if ((size_t)(a->end - a->cur) < size) {
        /* chunks double up to 1 MiB: small programs stay small, big ones
         * make few calls to malloc */
        size_t cs = a->chunks ? a->chunks->size * 2 : ARENA_FIRST_CHUNK;
        if (cs > ARENA_MAX_CHUNK)
            cs = ARENA_MAX_CHUNK;
        if (cs < size)
            cs = size;
        struct bl_arena_chunk *c = chunk_get(cs);
        if (!c)
            return NULL;
        c->next = a->chunks;
        a->chunks = c;
        a->cur = c->data;
        a->end = c->data + c->size;
        a->chunk_bytes += c->size;
    }
    void *p = a->cur;
    a->cur += size;
    a->n_alloc++;
    return p;
}

void *vf_arena_calloc(struct bl_arena *a, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    void *p = vf_arena_alloc(a, n * size);
    if (p)
        memset(p, 0, n * size);
    return p;
}

int vf_arena_tables(struct bl_arena *a, int zero, int n, void **tabs[], const size_t bytes[])
{
    size_t total = 0;
    for (int i = 0; i < n; i++) {
        if (bytes[i] > SIZE_MAX / 2 - total)
            return -ENOMEM;
        total += align16(bytes[i]);
    }
    unsigned char *p = zero ? vf_arena_calloc(a, 1, total) : vf_arena_alloc(a, total);
    if (!p)
        return -ENOMEM;
    for (int i = 0; i < n; i++) {
        *tabs[i] = p;
        p += align16(bytes[i]);
    }
    return 0;
}

void vf_arena_release(struct bl_arena *a)
{
    struct bl_arena_chunk *c = a->chunks;
    while (c) {
        struct bl_arena_chunk *next = c->next;
        chunk_put(c);
        c = next;
    }
    memset(a, 0, offsetof(struct bl_arena, free_pending)); /* pending_hi = 0: the rest unused */
}

/* A free block's first word links the list. */
static void *pop_free(struct bl_arena *a, void **list, size_t size)
{
    void *p = *list;
    if (p) {
        *list = *(void **)p;
        UNPOISON(p, size);
        a->n_alloc++;
        a->n_reused++;
    }
    return p;
}

static void push_free(void **list, void *p, size_t size)
{
    *(void **)p = *list;
    *list = p;
    POISON((char *)p + sizeof(void *), size - sizeof(void *));
}

static size_t frame_size(uint16_t n_slots)
{
    return sizeof(struct bl_frame) + n_slots * sizeof(struct bl_slot);
}

static struct bl_frame *frame_alloc(struct bl_venv *env, uint16_t n_slots)
{
    struct bl_frame *f = pop_free(&env->arena, &env->arena.free_frames[n_slots], frame_size(n_slots));
    return f ? f : vf_arena_alloc(&env->arena, frame_size(n_slots));
}

void vf_frame_free(struct bl_venv *env, struct bl_frame *f)
{
    if (f)
        push_free(&env->arena.free_frames[f->n_slots], f, frame_size(f->n_slots));
}

struct bl_frame *vf_frame_new(struct bl_venv *env)
{
    struct bl_frame *f = frame_alloc(env, 0);
    if (f) {
        memset(f, 0, sizeof *f);
        f->cb_entry = -1;
    }
    return f;
}

static struct bl_frame *frame_copy(struct bl_venv *env, const struct bl_frame *f)
{
    struct bl_frame *c = frame_alloc(env, f->n_slots);
    if (c)
        memcpy(c, f, frame_size(f->n_slots));
    return c;
}

int vf_frame_reserve(struct bl_venv *env, struct bl_vstate *st, int fi, int n)
{
    struct bl_frame *f = st->frames[fi];
    if (n <= f->n_slots)
        return 0;
    /* growing again: four slots at a time. A function that writes its
     * stack deeper slot by slot (filling a key or a struct) copied its
     * frame at each slot; one that writes a slot or two does not pay for
     * more. The slots added are unwritten, which every reader takes as it
     * takes those past n_slots. */
    if (f->n_slots)
        n = (n + 3) & ~3;
    if (n > BL_STACK_SLOTS)
        n = BL_STACK_SLOTS;
    struct bl_frame *g = frame_alloc(env, (uint16_t)n);
    if (!g)
        return -ENOMEM;
    memcpy(g, f, frame_size(f->n_slots));
    memset(&g->stack[f->n_slots], 0, (size_t)(n - f->n_slots) * sizeof(struct bl_slot));
    g->n_slots = (uint16_t)n;
    vf_frame_free(env, f);
    st->frames[fi] = g;
    return 0;
}

struct bl_vstate *vf_vstate_new(struct bl_venv *env)
{
    struct bl_vstate *st = pop_free(&env->arena, &env->arena.free_vstates, sizeof *st);
    if (!st)
        st = vf_arena_alloc(&env->arena, sizeof *st);
    if (st)
        memset(st, 0, sizeof *st);
    return st;
}

void vf_vstate_free(struct bl_venv *env, struct bl_vstate *st)
{
    if (!st)
        return;
    /* the frames' push_free inline: a call per frame slot was the
     * commonest call of a verification */
    for (int i = 0; i < BL_MAX_CALL_DEPTH; i++) {
        struct bl_frame *f = st->frames[i];
        if (f)
            push_free(&env->arena.free_frames[f->n_slots], f, frame_size(f->n_slots));
    }
    push_free(&env->arena.free_vstates, st, sizeof *st);
}

struct bl_vstate *vf_vstate_copy(struct bl_venv *env, const struct bl_vstate *st)
{
    struct bl_vstate *c = vf_vstate_new(env);
    if (!c)
        return NULL;
    c->curframe = st->curframe;
    c->insn = st->insn;
    c->lock = st->lock;
    c->n_refs = st->n_refs;
    memcpy(c->refs, st->refs, st->n_refs * sizeof st->refs[0]);
    for (int i = 0; i <= st->curframe; i++) {
        c->frames[i] = frame_copy(env, st->frames[i]);
        if (!c->frames[i]) {
            vf_vstate_free(env, c);
            return NULL;
        }
    }
    return c;
}

/* ---- subsumption --------------------------------------------------------- */

#define IDMAP_MAX 64

struct idmap {
    uint32_t old[IDMAP_MAX], cur[IDMAP_MAX];
    int n;
};

/* old_id must always meet the same cur_id (and no other old id may). */
static int check_ids(struct idmap *m, uint32_t old_id, uint32_t cur_id)
{
    if (!old_id)
        return 1;
    if (!cur_id)
        return 0;
    for (int i = 0; i < m->n; i++) {
        if (m->old[i] == old_id)
            return m->cur[i] == cur_id;
        if (m->cur[i] == cur_id)
            return 0;
    }
    if (m->n == IDMAP_MAX)
        return 0;
    m->old[m->n] = old_id;
    m->cur[m->n++] = cur_id;
    return 1;
}

static inline __attribute__((always_inline)) int range_within(const struct bl_reg *old,
                                                             const struct bl_reg *cur)
{
    return old->umin <= cur->umin && cur->umax <= old->umax &&
           old->smin <= cur->smin && cur->smax <= old->smax &&
           old->u32min <= cur->u32min && cur->u32max <= old->u32max &&
           old->s32min <= cur->s32min && cur->s32max <= old->s32max &&
           tnum_in(old->var, cur->var);
}

static int regsafe_ids(const struct bl_reg *old, const struct bl_reg *cur, struct idmap *m)
{
    if (old->type == REG_NOT_INIT)
        return 1; /* old never read it, or it would have been rejected */
    if (old->type != cur->type)
        return 0;
    switch (old->type) {
    case REG_SCALAR:
        if (old->range == BL_PKT_LEN && cur->range != BL_PKT_LEN)
            return 0; /* old may prove packet bytes from it; cur could not */
        /* linked scalars: the same links, with the same deltas */
        return range_within(old, cur) &&
               (!old->id || (old->off == cur->off && check_ids(m, old->id, cur->id)));
    case REG_PTR_TO_FUNC:
    case REG_CONST_PTR_TO_MAP:
        return old->map == cur->map;
    case REG_PTR_TO_PACKET:
    case REG_PTR_TO_PACKET_META:
        if (cur->range < old->range)
            return 0;
        /* fall through */
    default:
        if ((old->type == REG_PTR_TO_MEM || old->type == REG_PTR_TO_MEM_OR_NULL) &&
            old->range != cur->range)
            return 0;
        return old->off == cur->off && old->map == cur->map &&
               old->frameno == cur->frameno && range_within(old, cur) &&
               check_ids(m, old->id, cur->id) && check_ids(m, old->ref, cur->ref);
    }
}

int vf_regsafe(const struct bl_reg *old, const struct bl_reg *cur)
{
    struct idmap m;
    m.n = 0; /* the arrays are read below n only: no 512-byte clear per call */
    return regsafe_ids(old, cur, &m);
}

static int slot_safe_ids(const struct bl_slot *old, const struct bl_slot *cur, struct idmap *m)
{
    if (old->bytes[0] == SLOT_SPILL) {
        if (cur->bytes[0] != SLOT_SPILL)
            return 0;
        return regsafe_ids(&old->spilled, &cur->spilled, m);
    }
    int b = 0;
    if (old->bytes[0] == SLOT_NARROW) {
        /* a narrow spill: cur holds one at least as long, within old's
         * range (the low bytes of numbers within old's are within old's
         * low bytes) */
        for (; b < 8 && old->bytes[b] == SLOT_NARROW; b++)
            if (cur->bytes[b] != SLOT_NARROW)
                return 0;
        if (!regsafe_ids(&old->spilled, &cur->spilled, m))
            return 0;
    }
    for (; b < 8; b++) {
        switch (old->bytes[b]) {
        case SLOT_INVALID:
            break;
        case SLOT_ZERO:
            if (cur->bytes[b] != SLOT_ZERO)
                return 0;
            break;
        default: /* MISC (or a stray NARROW byte): any initialised non-pointer data */
            if (cur->bytes[b] == SLOT_INVALID)
                return 0;
            if (cur->bytes[b] == SLOT_SPILL && cur->spilled.type != REG_SCALAR)
                return 0;
        }
    }
    return 1;
}

int vf_slot_safe(const struct bl_slot *old, const struct bl_slot *cur)
{
    struct idmap m;
    m.n = 0; /* the arrays are read below n only: no 512-byte clear per call */
    return slot_safe_ids(old, cur, &m);
}

/* ---- explored states, compact ------------------------------------------- */

/* A stored frame's slots are pointers: a slot equal (byte for byte) to
 * the one last stored at the same depth and index is shared, not copied.
 * A spill that stays put across many states is then kept once, which for
 * stack-heavy programs is most of the explored states' memory and of the
 * cache misses when they are compared. Sharing identical bytes changes
 * nothing about what is compared. */
static const struct bl_slot *const *cframe_slots(const struct bl_cframe *c)
{
    return (const struct bl_slot *const *)(const void *)&c->regs[c->n_regs];
}

static uint64_t slot_bytes(const struct bl_slot *sl)
{
    uint64_t w;
    memcpy(&w, sl->bytes, 8);
    return w;
}

/* eight bytes of initialised data: what a dead slot is widened to
 * (vf_clean_dead_regs), so the commonest slot of a stored state */
static const struct bl_slot misc_slot = {
    .bytes = { SLOT_MISC, SLOT_MISC, SLOT_MISC, SLOT_MISC, SLOT_MISC, SLOT_MISC, SLOT_MISC,
               SLOT_MISC },
};

/* a and b byte for byte the same: word by word, inline (memcmp was a
 * twentieth of the time: a call per spilled slot of every comparison and
 * every stored state, and its 32-byte loads of a slot just written in
 * smaller stores waited on store forwarding) */
_Static_assert(sizeof(struct bl_slot) % 8 == 0, "a slot is whole words");
static inline int slot_identical(const struct bl_slot *a, const struct bl_slot *b)
{
    const unsigned char *p = (const unsigned char *)a, *q = (const unsigned char *)b;
    for (size_t k = 0; k < sizeof *a; k += 8) {
        uint64_t u, v;
        memcpy(&u, p + k, 8);
        memcpy(&v, q + k, 8);
        if (u != v)
            return 0;
    }
    return 1;
}

/* The stored copy of slot i at frame depth f. */
static const struct bl_slot *intern_slot(struct bl_venv *env, int f, int i, const struct bl_slot *sl,
                                         int exact)
{
    /* a stored slot's register is read only when its first byte says
     * spill (compare, widen): any slot of unwritten or initialised bytes
     * alone can be the one shared copy */
    uint64_t w = slot_bytes(sl);
    if (!exact && w == 0) /* SLOT_INVALID bytes */
        return &bl_invalid_slot;
    if (!exact && w == slot_bytes(&misc_slot))
        return &misc_slot;
    const struct bl_slot *last = i < env->last_slot_n[f] ? env->last_slot[f][i] : NULL;
    /* the same bytes, none a spill: its register is never read (see above) */
    if (last && slot_bytes(last) == w &&
        ((!exact && sl->bytes[0] != SLOT_SPILL && sl->bytes[0] != SLOT_NARROW) ||
         slot_identical(last, sl)))
        return last;
    struct bl_slot *c = vf_arena_alloc(&env->arena, sizeof *c);
    if (!c)
        return NULL;
    memcpy(c, sl, sizeof *c);
    while (env->last_slot_n[f] < i)
        env->last_slot[f][env->last_slot_n[f]++] = NULL;
    env->last_slot[f][i] = c;
    if (env->last_slot_n[f] == i)
        env->last_slot_n[f]++;
    return c;
}

/* Which registers of frame f are stored with their value (*keep) and which
 * only as "a scalar" (*any): in the current frame, a scalar outside
 * vlive[insn] is compared by its type alone (vf_states_equal below), so its
 * range would never be read. NOT_INIT registers are not stored at all: an
 * old NOT_INIT register matches anything. */
static void cframe_masks(const struct bl_frame *f, uint16_t vlive, uint16_t *keep, uint16_t *any)
{
    *keep = *any = 0;
    for (int i = 0; i < BL_NREGS; i++) {
        uint8_t t = f->regs[i].type;
        if (t == REG_NOT_INIT)
            continue;
        if (t == REG_SCALAR && !(vlive & (1u << i)))
            *any |= (uint16_t)(1u << i);
        else
            *keep |= (uint16_t)(1u << i);
    }
}

static size_t cframe_size(int n_regs, int n_slots)
{
    return align16(sizeof(struct bl_cframe) + (size_t)n_regs * sizeof(struct bl_reg) +
                   (size_t)n_slots * sizeof(struct bl_slot *));
}

/* Builds the compact form of st into memory from the arena (or, for a
 * pending state, its free list). pending: keep every register with its
 * value and every slot exactly. */
static struct bl_seen_state *compact_state(struct bl_venv *env, const struct bl_vstate *st, int pending)
{
    uint16_t keep[BL_MAX_CALL_DEPTH], any[BL_MAX_CALL_DEPTH];
    size_t total = align16(sizeof(struct bl_seen_state));
    for (int f = 0; f <= st->curframe; f++) {
        uint16_t vlive = pending ? 0xffff : f == st->curframe ? env->vlive[st->insn] : 0xffff;
        cframe_masks(st->frames[f], vlive, &keep[f], &any[f]);
        int n_keep = 0;
        for (uint16_t k = keep[f]; k; k &= (uint16_t)(k - 1))
            n_keep++;
        total += cframe_size(n_keep, st->frames[f]->n_slots);
    }
    size_t refs_at = total;
    total += align16(st->n_refs * sizeof st->refs[0]);
    unsigned char *p = NULL;
    size_t cls = total / 16;
    if (pending && cls < env->arena.pending_hi)
        p = pop_free(&env->arena, &env->arena.free_pending[cls], total);
    if (!p)
        p = vf_arena_alloc(&env->arena, total);
    if (!p)
        return NULL;
    struct bl_seen_state *s = (struct bl_seen_state *)(void *)p;
    s->next = NULL;
    for (int f = st->curframe + 1; f < BL_MAX_CALL_DEPTH; f++)
        s->frames[f] = NULL;
    s->curframe = st->curframe;
    s->insn = st->insn;
    s->size = (uint32_t)total;
    s->lock = st->lock;
    s->n_refs = st->n_refs;
    s->refs = NULL;
    if (st->n_refs) {
        s->refs = (struct bl_vref *)(void *)(p + refs_at);
        memcpy(s->refs, st->refs, st->n_refs * sizeof st->refs[0]);
    }
    p += align16(sizeof *s);
    for (int f = 0; f <= st->curframe; f++) {
        const struct bl_frame *fr = st->frames[f];
        struct bl_cframe *c = (struct bl_cframe *)(void *)p;
        c->callsite = fr->callsite;
        c->subprog = fr->subprog;
        c->cb_entry = fr->cb_entry;
        c->is_callback = fr->is_callback;
        c->reg_mask = keep[f];
        c->any_scalar = any[f];
        c->n_slots = fr->n_slots;
        c->n_regs = 0;
        for (int i = 0; i < BL_NREGS; i++)
            if (keep[f] & (1u << i))
                c->regs[c->n_regs++] = fr->regs[i];
        const struct bl_slot **slots = (const struct bl_slot **)(void *)&c->regs[c->n_regs];
        for (int i = 0; i < fr->n_slots; i++)
            if (!(slots[i] = intern_slot(env, f, i, &fr->stack[i], pending)))
                return NULL;
        s->frames[f] = c;
        p += cframe_size(c->n_regs, c->n_slots);
    }
    return s;
}

struct bl_seen_state *vf_seen_state_new(struct bl_venv *env, const struct bl_vstate *st)
{
    return compact_state(env, st, 0);
}

/* Lossless: every register not stored is NOT_INIT, which is all zero
 * (mark_reg_not_init, vf_frame_new), and every slot is stored, exactly. */
struct bl_seen_state *vf_pending_new(struct bl_venv *env, const struct bl_vstate *st)
{
    return compact_state(env, st, 1);
}

struct bl_vstate *vf_pending_take(struct bl_venv *env, struct bl_seen_state *p)
{
    struct bl_vstate *st = vf_vstate_new(env);
    if (!st)
        return NULL;
    st->curframe = p->curframe;
    st->insn = p->insn;
    st->lock = p->lock;
    st->n_refs = p->n_refs;
    if (p->n_refs)
        memcpy(st->refs, p->refs, p->n_refs * sizeof st->refs[0]);
    for (int f = 0; f <= p->curframe; f++) {
        const struct bl_cframe *c = p->frames[f];
        struct bl_frame *fr = frame_alloc(env, c->n_slots);
        if (!fr) {
            vf_vstate_free(env, st);
            return NULL;
        }
        fr->callsite = c->callsite;
        fr->subprog = c->subprog;
        fr->cb_entry = c->cb_entry;
        fr->is_callback = c->is_callback;
        fr->n_slots = c->n_slots;
        int k = 0;
        for (int i = 0; i < BL_NREGS; i++) {
            if (c->reg_mask & (1u << i))
                fr->regs[i] = c->regs[k++];
            else
                mark_reg_not_init(&fr->regs[i]);
        }
        const struct bl_slot *const *slots = cframe_slots(c);
        fr->may_widen = 0;
        for (int i = 0; i < c->n_slots; i++) {
            fr->stack[i] = *slots[i];
            if (vf_slot_may_widen(&fr->stack[i]))
                fr->may_widen |= 1ull << i;
        }
        st->frames[f] = fr;
    }
    size_t cls = p->size / 16;
    if (cls < ARENA_PENDING_CLASSES) {
        struct bl_arena *a = &env->arena;
        while (a->pending_hi <= cls)
            a->free_pending[a->pending_hi++] = NULL;
        push_free(&a->free_pending[cls], p, p->size);
    }
    return st;
}

/* A cheap yes for the common case of a slot nobody touched since old was
 * stored: byte for byte the same and no id to pair, for which
 * slot_safe_ids() would answer yes as well (an identical register is
 * within its own bounds; an id of 0 adds nothing to the id map) without
 * looking at it field by field. Anything else takes the full check. */
static int slot_same_no_id(const struct bl_slot *a, const struct bl_slot *b)
{
    /* the id test first: spilled numbers linked to a register (most, since
     * spills keep their link) skip the 96-byte compare */
    if ((a->bytes[0] == SLOT_SPILL || a->bytes[0] == SLOT_NARROW) &&
        (a->spilled.id != 0 || a->spilled.ref != 0))
        return 0;
    if (!slot_identical(a, b))
        return 0;
    if (a->bytes[0] == SLOT_SPILL || a->bytes[0] == SLOT_NARROW)
        return 1;
    return memchr(a->bytes, SLOT_SPILL, sizeof a->bytes) == NULL;
}

_Static_assert(SLOT_INVALID == 0 && SLOT_MISC == 1 && SLOT_ZERO == 2 && SLOT_SPILL == 3 &&
                   SLOT_NARROW == 7,
               "vf_states_equal finds SLOT_SPILL and SLOT_NARROW bytes as the ones with both "
               "low bits set");

int vf_states_equal(struct bl_venv *env, const struct bl_seen_state *old,
                    const struct bl_vstate *cur)
{
    struct idmap m;
    m.n = 0; /* the arrays are read below n only: no 512-byte clear per call */
    if (old->curframe != cur->curframe)
        return 0;
    /* the same references held (ids paired as the registers' are) and the same lock */
    if (old->n_refs != cur->n_refs || old->lock.map != cur->lock.map ||
        !check_ids(&m, old->lock.id, cur->lock.id))
        return 0;
    for (uint32_t i = 0; i < old->n_refs; i++)
        if (!check_ids(&m, old->refs[i].id, cur->refs[i].id))
            return 0;
    for (int f = 0; f <= old->curframe; f++) {
        const struct bl_cframe *a = old->frames[f];
        const struct bl_frame *b = cur->frames[f];
        if (a->callsite != b->callsite || a->cb_entry != b->cb_entry ||
            a->subprog != b->subprog)
            return 0;
        /* in the current frame, scalars whose value no longer matters are
         * equal: old keeps those as any_scalar (cframe_masks, same insn so
         * the same vlive); every register it keeps in regs[] is compared */
        int k = 0;
        for (int i = 0; i < BL_NREGS; i++) {
            uint16_t bit = (uint16_t)(1u << i);
            if (a->any_scalar & bit) {
                /* old: a scalar outside vlive (same insn, same frame, so
                 * the same vlive): equal to any scalar, unlike anything else */
                if (b->regs[i].type != REG_SCALAR)
                    return 0;
                continue;
            }
            if (!(a->reg_mask & bit))
                continue; /* old NOT_INIT: never read, or it would have been rejected */
            if (!regsafe_ids(&a->regs[k++], &b->regs[i], &m))
                return 0;
        }
        /* old's slots past its n_slots are unwritten, as are the ones it
         * stored as bl_invalid_slot: safe against anything. An old slot
         * that is no spill is judged by its bytes alone (slot_safe_ids
         * pairs no id there), without the byte-for-byte look first. */
        const struct bl_slot *const *olds = cframe_slots(a);
        for (int s = 0; s < a->n_slots; s++) {
            const struct bl_slot *os = olds[s], *cs;
            if (os == &bl_invalid_slot)
                continue;
            cs = frame_slot(b, s);
            if (os->bytes[0] != SLOT_SPILL) {
                uint64_t ow, cw;
                memcpy(&ow, os->bytes, 8);
                memcpy(&cw, cs->bytes, 8);
                /* the same bytes, none of them SLOT_SPILL (3) or SLOT_NARROW (7): safe */
                if (ow == cw && !(ow & (ow >> 1) & 0x0101010101010101ull))
                    continue;
                if (!slot_safe_ids(os, cs, &m))
                    return 0;
            } else if (!slot_same_no_id(os, cs) && !slot_safe_ids(os, cs, &m)) {
                return 0;
            }
        }
    }
    return 1;
}

/* A slot's scalar contents become "some initialised bytes": a spilled
 * scalar or known zeros read back as an unknown scalar. Pointers and
 * unwritten bytes stay as they are. Used where a value may be forgotten
 * (a dead slot at a prune point) and where it must be (a slot a loop
 * iteration may rewrite: any part of a spilled number may change, a
 * 4-byte counter in a u64 slot). */
void vf_widen_slot_rest(struct bl_slot *sl)
{
    /* unwritten, or already just initialised bytes: vf_widen_slot */
    if (sl->bytes[0] == SLOT_SPILL) {
        if (sl->spilled.type != REG_SCALAR)
            return;
        sl->spilled = bl_reg_not_init;
        memset(sl->bytes, SLOT_MISC, sizeof sl->bytes);
        return;
    }
    if (sl->bytes[0] == SLOT_NARROW)
        sl->spilled = bl_reg_not_init;
    for (int b = 0; b < 8; b++)
        if (sl->bytes[b] == SLOT_ZERO || sl->bytes[b] == SLOT_NARROW)
            sl->bytes[b] = SLOT_MISC;
}

/* The slots of f outside slive (no check can read their value) widened */
static void widen_dead_slots(struct bl_frame *f, uint64_t slive)
{
#ifndef NDEBUG
    for (int i = 0; i < f->n_slots; i++) /* the promise of a clear may_widen bit */
        assert((f->may_widen >> i & 1) || !vf_slot_may_widen(&f->stack[i]));
#endif
    uint64_t drop = ~slive & f->may_widen;
    if (f->n_slots < 64)
        drop &= (1ull << f->n_slots) - 1;
    for (; drop; drop &= drop - 1) {
        int i = __builtin_ctzll(drop);
        vf_widen_slot(&f->stack[i]);
        if (!vf_slot_may_widen(&f->stack[i])) /* plain bytes now (a pointer's spill stays) */
            f->may_widen &= ~(1ull << i);
    }
}

/* The frames of the callers, inside a BPF-to-BPF call: each waits at its
 * call site c, and what of it the rest of the program can read is what is
 * live after the call: R6-R9 as live[c + 1] and flive[c + 1] say (R0 is
 * the callee's on return, R1-R5 were lost at the call), its stack slots as
 * slive[c] says (every slot when the call is passed a pointer into this
 * frame: the callee may read them). The kernel gets the same from its
 * liveness and precision marks, which reach the callers' frames. Not
 * inside a callback: its exits are compared with the caller frames'
 * snapshot (exit_subsumed), which forgetting there would only widen. */
static void clean_caller_frames(struct bl_venv *env, struct bl_vstate *st)
{
    for (int fi = 1; fi <= st->curframe; fi++)
        if (st->frames[fi]->is_callback)
            return;
    for (int fi = 0; fi < st->curframe; fi++) {
        struct bl_frame *f = st->frames[fi];
        uint32_t c = st->frames[fi + 1]->callsite;
        uint16_t live = env->live[c + 1], keep = env->flive[c + 1];
        for (int i = 0; i < BL_NREGS; i++) {
            struct bl_reg *r = &f->regs[i];
            if (i == BL_R10 || r->type == REG_NOT_INIT)
                continue;
            if (i < BL_R6 || !(live & (1u << i)))
                mark_reg_not_init(r);
            else if (r->type == REG_SCALAR && !(keep & (1u << i)))
                mark_reg_unknown(r);
        }
        widen_dead_slots(f, env->slive[c]);
    }
}

/* Dead registers become NOT_INIT; live scalars and stack slots of the
 * current frame whose value no check can read from here (flive, slive:
 * vf_compute_forget) become unknown. Forgetting only widens the state,
 * so it is sound whatever those tables say; it lets states that differ
 * in such values (a counter, a hash, a flag stored to skb->cb) prune one
 * another, as the kernel's precision tracking does. */
/* A scalar id that no other register or spilled number of the state
 * shares links nothing: dropped (with its delta), as the kernel's
 * clear_singular_ids, so that it does not keep apart states that differ
 * only in such ids (a number spilled and linked to a register that has
 * since been overwritten, vf_check_store). Optional: with more ids than
 * fit the table nothing is dropped. */
#define SINGULAR_MAX 64
/* runs the code given on each scalar with an id: registers, and spilled numbers in
 * the slots may_widen marks (every spill, whole or narrow, is there) */
#define FOR_SCALAR_IDS(st, r, ...)                                                             \
    for (int fi_ = 0; fi_ <= (st)->curframe; fi_++) {                                           \
        struct bl_frame *f_ = (st)->frames[fi_];                                                \
        for (int i_ = 0; i_ < BL_NREGS; i_++) {                                                 \
            struct bl_reg *r = &f_->regs[i_];                                                   \
            if (r->type == REG_SCALAR && r->id)                                                 \
                __VA_ARGS__                                                                     \
        }                                                                                       \
        uint64_t w_ = f_->may_widen;                                                            \
        if (f_->n_slots < 64)                                                                   \
            w_ &= (1ull << f_->n_slots) - 1;                                                    \
        while (w_) {                                                                            \
            struct bl_slot *sl_ = &f_->stack[__builtin_ctzll(w_)];                              \
            w_ &= w_ - 1;                                                                       \
            struct bl_reg *r = &sl_->spilled;                                                   \
            if ((sl_->bytes[0] == SLOT_SPILL || sl_->bytes[0] == SLOT_NARROW) &&                \
                r->type == REG_SCALAR && r->id)                                                 \
                __VA_ARGS__                                                                     \
        }                                                                                       \
    }

static void clear_singular_ids(struct bl_vstate *st)
{
    /* only where some spilled number carries an id (the links that go
     * singular: a spill linked to a register since overwritten); most
     * states have none, and then nothing else is looked at */
    int linked = 0;
    for (int fi = 0; fi <= st->curframe && !linked; fi++) {
        const struct bl_frame *f = st->frames[fi];
        uint64_t w = f->may_widen;
        if (f->n_slots < 64)
            w &= (1ull << f->n_slots) - 1;
        for (; w && !linked; w &= w - 1) {
            const struct bl_slot *sl = &f->stack[__builtin_ctzll(w)];
            linked = (sl->bytes[0] == SLOT_SPILL || sl->bytes[0] == SLOT_NARROW) &&
                     sl->spilled.type == REG_SCALAR && sl->spilled.id;
        }
    }
    if (!linked)
        return;
    uint32_t ids[SINGULAR_MAX];
    uint8_t cnt[SINGULAR_MAX];
    int n = 0, overflow = 0;
    FOR_SCALAR_IDS(st, r, {
        int k = 0;
        while (k < n && ids[k] != r->id)
            k++;
        if (k == n) {
            if (n == SINGULAR_MAX) {
                overflow = 1;
                continue;
            }
            ids[n] = r->id;
            cnt[n++] = 0;
        }
        if (cnt[k] < 2)
            cnt[k]++;
    })
    if (overflow)
        return;
    int any = 0;
    for (int k = 0; k < n; k++)
        any |= cnt[k] == 1;
    if (!any)
        return;
    FOR_SCALAR_IDS(st, r, {
        for (int k = 0; k < n; k++)
            if (ids[k] == r->id) {
                if (cnt[k] == 1)
                    r->id = 0, r->off = 0;
                break;
            }
    })
}
#undef FOR_SCALAR_IDS

void vf_clean_dead_regs(struct bl_venv *env, struct bl_vstate *st, uint32_t insn)
{
    struct bl_frame *f = cur_frame(st);
    uint16_t live = env->live[insn], keep = env->flive[insn];
    for (int i = 0; i < BL_NREGS; i++) {
        struct bl_reg *r = &f->regs[i];
        if (!(live & (1u << i))) {
            if (r->type != REG_NOT_INIT)
                mark_reg_not_init(r);
        } else if (r->type == REG_SCALAR && !(keep & (1u << i)) && i != BL_R10) {
            mark_reg_unknown(r);
        }
    }
    widen_dead_slots(f, env->slive[insn]);
    if (st->curframe)
        clean_caller_frames(env, st);
    clear_singular_ids(st);
}

/* ---- widening ------------------------------------------------------------ */

/* Interval widening: a bound that moved past old's goes to its extreme, so
 * that sums growing along a chain of branches stop producing new states. */
static void reg_widen_bounds(const struct bl_reg *old, struct bl_reg *cur)
{
    cur->var = tnum_in(old->var, cur->var) ? old->var : tnum_unknown;
    if (cur->umin < old->umin) cur->umin = 0;
    else cur->umin = old->umin;
    if (cur->umax > old->umax) cur->umax = UINT64_MAX;
    else cur->umax = old->umax;
    if (cur->smin < old->smin) cur->smin = INT64_MIN;
    else cur->smin = old->smin;
    if (cur->smax > old->smax) cur->smax = INT64_MAX;
    else cur->smax = old->smax;
    if (cur->u32min < old->u32min) cur->u32min = 0;
    else cur->u32min = old->u32min;
    if (cur->u32max > old->u32max) cur->u32max = UINT32_MAX;
    else cur->u32max = old->u32max;
    if (cur->s32min < old->s32min) cur->s32min = INT32_MIN;
    else cur->s32min = old->s32min;
    if (cur->s32max > old->s32max) cur->s32max = INT32_MAX;
    else cur->s32max = old->s32max;
    cur->id = 0;
    cur->off = 0;
    vf_reg_bounds_sync(cur);
}

static void widen_reg(const struct bl_reg *old, struct bl_reg *cur)
{
    if (old->type != cur->type || vf_regsafe(old, cur))
        return;
    if (cur->type == REG_SCALAR) {
        reg_widen_bounds(old, cur);
    } else if ((cur->type == REG_PTR_TO_PACKET || cur->type == REG_PTR_TO_PACKET_META) &&
               old->off == cur->off && old->id == cur->id &&
               tnum_equals_const(old->var, 0) && tnum_equals_const(cur->var, 0)) {
        if (old->range < cur->range)
            cur->range = old->range;
    }
}

void vf_widen_state(const struct bl_seen_state *old, struct bl_vstate *cur)
{
    if (old->curframe != cur->curframe)
        return;
    for (int f = 0; f <= cur->curframe; f++) {
        const struct bl_cframe *a = old->frames[f];
        struct bl_frame *b = cur->frames[f];
        if (a->callsite != b->callsite || a->cb_entry != b->cb_entry)
            return;
        /* Registers old keeps only as "a scalar" have no bounds to widen
         * towards and are left as they are: widening is an optional
         * over-approximation (less of it is just as sound), and their
         * values cannot decide a check from here on. */
        int k = 0;
        for (int i = 0; i < BL_NREGS; i++)
            if (a->reg_mask & (1u << i))
                widen_reg(&a->regs[k++], &b->regs[i]);
        const struct bl_slot *const *as = cframe_slots(a);
        for (int s = 0; s < a->n_slots && s < b->n_slots; s++) {
            uint8_t ot = as[s]->bytes[0], ct = b->stack[s].bytes[0];
            if ((ot == SLOT_SPILL && ct == SLOT_SPILL) || (ot == SLOT_NARROW && ct == SLOT_NARROW))
                widen_reg(&as[s]->spilled, &b->stack[s].spilled);
            else if (ct == SLOT_NARROW) /* old has plain bytes there */
                vf_slot_drop_narrow(&b->stack[s]);
        }
    }
}
