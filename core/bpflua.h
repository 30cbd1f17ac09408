/* bpflua.h - the public C API of the bpflua engine.
 *
 * An object is what one source file or one ELF file holds: programs, the
 * maps they share, a license, and (optionally) the source text that line
 * info points into. Programs are addressed by index within their object.
 *
 * Conventions (as libbpf): functions returning int give 0 or a negative
 * errno; functions returning a pointer give NULL on failure. Where a
 * `char **err` is taken, a failure stores a malloc'd, human-readable
 * message there (free() it); `err` may be NULL. Nothing here prints or
 * exits: only the command-line host does.
 */
#ifndef BPFLUA_H
#define BPFLUA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BPFLUA_VERSION "0.1.0"

typedef struct bpflua_object bpflua_object;

enum bpflua_engine {
    BPFLUA_ENGINE_DEFAULT = 0, /* the JIT on x86-64, else the interpreter */
    BPFLUA_ENGINE_INTERP,
    BPFLUA_ENGINE_JIT,
    BPFLUA_ENGINE_KERNEL,      /* libbpf load + BPF_PROG_TEST_RUN */
};

/* Kernel map type ids (enum bpf_map_type). */
enum bpflua_map_type {
    BPFLUA_MAP_HASH = 1,
    BPFLUA_MAP_ARRAY = 2,
    BPFLUA_MAP_PROG_ARRAY = 3,
    BPFLUA_MAP_PERF_EVENT_ARRAY = 4,
    BPFLUA_MAP_PERCPU_HASH = 5,
    BPFLUA_MAP_PERCPU_ARRAY = 6,
    BPFLUA_MAP_LRU_HASH = 9,
    BPFLUA_MAP_LRU_PERCPU_HASH = 10,
    BPFLUA_MAP_LPM_TRIE = 11,     /* key { u32 prefixlen; u8 data[key_size - 4] }, BPF_F_NO_PREALLOC */
    BPFLUA_MAP_STACK_TRACE = 7,
    BPFLUA_MAP_CGROUP_ARRAY = 8,
    BPFLUA_MAP_SOCKMAP = 15,
    BPFLUA_MAP_SOCKHASH = 18,
    BPFLUA_MAP_CGROUP_STORAGE = 19, /* one value per cgroup: bpf_get_local_storage */
    BPFLUA_MAP_PERCPU_CGROUP_STORAGE = 21,
    BPFLUA_MAP_SK_STORAGE = 24,   /* a value per socket: bpf_sk_storage_get/delete */
    BPFLUA_MAP_ARRAY_OF_MAPS = 12,
    BPFLUA_MAP_HASH_OF_MAPS = 13,
    BPFLUA_MAP_DEVMAP = 14,
    BPFLUA_MAP_CPUMAP = 16,
    BPFLUA_MAP_XSKMAP = 17,
    BPFLUA_MAP_QUEUE = 22,
    BPFLUA_MAP_STACK = 23,
    BPFLUA_MAP_DEVMAP_HASH = 25,
    BPFLUA_MAP_RINGBUF = 27,
};

/* What a ring buffer's events are (bpflua_map_spec.event_type). */
enum bpflua_event_type {
    BPFLUA_EVENT_RAW = 0,     /* unknown: bytes (objects from other compilers) */
    BPFLUA_EVENT_INT = 1,     /* 8-byte integers (emit of an integer: a u64) */
    BPFLUA_EVENT_RECORD = 2,  /* the record value_record names */
};

struct bpflua_map_spec {
    const char *name;
    uint32_t type;           /* enum bpflua_map_type */
    uint32_t key_size;       /* bytes; 4 for arrays, 0 for ringbuf */
    uint32_t value_size;     /* bytes; 0 for ringbuf */
    uint32_t max_entries;    /* for ringbuf: the buffer size in bytes */
    uint32_t flags;
    int key_signed;          /* read keys back sign-extended (i8..i64) */
    int value_signed;
    /* version 1 (zero for integer keys and values): */
    uint32_t key_record;     /* 1 + record index when the key is a record, else 0 */
    uint32_t value_record;   /* the same for the value; a ringbuf's event record */
    uint32_t event_type;     /* ringbuf: enum bpflua_event_type */
    /* global data (.rodata, .data, .bss as libbpf maps them): an array of
     * one element whose value starts as init[0..init_len) (the rest zero) */
    const void *init;
    uint32_t init_len;
    int rdonly_prog;         /* programs may not write it (.rodata: libbpf freezes it) */
    uint32_t inner_map;      /* array/hash of maps: 1 + index of the map inner maps
                                look like (legacy inner_map_idx), 0 none */
};

/* A record type (a C struct of integer fields; LANGUAGE.md "Records"). */
struct bpflua_field {
    const char *name;
    uint32_t offset;         /* bytes from the record's start */
    uint32_t size;           /* 1, 2, 4 or 8 */
    int is_signed;           /* i8..i64: read back sign-extended */
};

/* section: the ELF section a subprogram came from when not the program's
 * own (".text"), else NULL */
struct bpflua_func_info { uint32_t insn; const char *name; const char *section; };
struct bpflua_line_info { uint32_t insn; uint32_t line; uint32_t col; };

/* ---- objects ---------------------------------------------------------- */

bpflua_object *bpflua_object_new(void);
void bpflua_object_free(bpflua_object *obj);

int bpflua_object_set_license(bpflua_object *obj, const char *license);
const char *bpflua_object_license(const bpflua_object *obj);
/* The source file that line info refers to (name, and its text if known). */
int bpflua_object_set_source(bpflua_object *obj, const char *name, const char *text);
const char *bpflua_object_source_name(const bpflua_object *obj);
/* Line `line` (1-based) of the source text, without its newline, or NULL. */
const char *bpflua_object_source_line(const bpflua_object *obj, uint32_t line, size_t *len);

/* Adds a map; returns its index (>= 0) or a negative errno. A key_record
 * or value_record must name a record of the object whose size is the
 * key_size / value_size. */
int bpflua_object_add_map(bpflua_object *obj, const struct bpflua_map_spec *spec);

/* ---- records and initial map contents (vm/records.c, docs/internals.md) -- */

/* Adds a record type: size bytes (1..65535), fields inside it, each 1, 2, 4
 * or 8 bytes, names unique. Returns its index (>= 0) or a negative errno
 * (the reason in bpflua_object_error()). Map specs refer to it as index+1. */
int bpflua_object_add_record(bpflua_object *obj, const char *name, uint32_t size,
                             const struct bpflua_field *fields, size_t n_fields);
size_t bpflua_record_count(const bpflua_object *obj);
/* The record's name (NULL if rec is out of range), its size and field count. */
const char *bpflua_record_info(const bpflua_object *obj, size_t rec, uint32_t *size,
                               size_t *n_fields);
/* Field i of record rec, in declaration order; -ENOENT when out of range.
 * out->name stays valid while obj lives. */
int bpflua_record_field(const bpflua_object *obj, size_t rec, size_t i,
                        struct bpflua_field *out);

/* Initial contents (`init = {...}`): appends the entry key -> value to map
 * `map` (key_size and value_size bytes, as the kernel takes them: an LPM
 * key is { u32 prefixlen; u8 addr[4] }). Whoever creates the map instance
 * (every engine, the kernel loader) stores the entries, in order, right
 * after creating it; per-CPU maps get the value in every CPU's slot. */
int bpflua_map_add_init(bpflua_object *obj, size_t map, const void *key, const void *value);
size_t bpflua_map_init_count(const bpflua_object *obj, size_t map);
/* Entry i of the map's initial contents; -ENOENT when out of range. */
int bpflua_map_init_entry(const bpflua_object *obj, size_t map, size_t i,
                          const void **key, const void **value);

/* Adds a program. `insns` are n_insns 8-byte slots in RFC 9669 layout
 * (little endian), subprograms appended after the main function; map
 * references are lddw with src_reg 1 (BPF_PSEUDO_MAP_FD) and imm = map
 * index; callbacks are lddw with src_reg 4 (BPF_PSEUDO_FUNC), calls to
 * subprograms are call with src_reg 1, both pc-relative as in the kernel.
 * funcs[] names each function start (funcs[0].insn == 0); lines[] is sorted
 * by insn. Returns the program's index or a negative errno. */
int bpflua_object_add_prog(bpflua_object *obj, const char *name, const char *section,
                           const void *insns, size_t n_insns,
                           const struct bpflua_func_info *funcs, size_t n_funcs,
                           const struct bpflua_line_info *lines, size_t n_lines);

/* Limits: at most 1,000,000 instructions per program, 4096 programs and
 * 1024 maps per object, 256 MiB per map and 1 GiB for all maps of an
 * object (declared sizes). Beyond them add_prog / add_map return -E2BIG.
 * The reason of the last add_prog / add_map failure, as a sentence
 * ("" if none): */
const char *bpflua_object_error(const bpflua_object *obj);

size_t bpflua_prog_count(const bpflua_object *obj);
const char *bpflua_prog_name(const bpflua_object *obj, size_t prog);
const char *bpflua_prog_section(const bpflua_object *obj, size_t prog);
/* The program's type ("xdp", "sched_cls", "kprobe", ...: core/progtype.h),
 * chosen from its section name as libbpf does (a section no type claims is
 * "xdp"); set_type overrides it (-EINVAL for an unknown type name) and
 * drops any verification result. */
const char *bpflua_prog_type(const bpflua_object *obj, size_t prog);
int bpflua_prog_set_type(bpflua_object *obj, size_t prog, const char *type);
/* 1 when the program's section names no type, so verification chose it
 * (the first of xdp, sched_cls, kprobe that accepts the program). */
int bpflua_prog_type_guessed(const bpflua_object *obj, size_t prog);
/* Index of the program called `name`, or -1. */
int bpflua_prog_find(const bpflua_object *obj, const char *name);
/* The program's instructions (8-byte slots), valid while obj lives. */
const void *bpflua_prog_insns(const bpflua_object *obj, size_t prog, size_t *n_insns);

/* ---- ELF (vm/elf_read.c, vm/elf_write.c) ------------------------------- */

bpflua_object *bpflua_object_open_elf(const char *path, char **err);
bpflua_object *bpflua_object_from_elf(const void *buf, size_t len, const char *name, char **err);
/* Serialises obj to an ELF image in *buf (malloc'd, caller frees). */
int bpflua_object_to_elf(bpflua_object *obj, void **buf, size_t *len, char **err);
int bpflua_object_write_elf(bpflua_object *obj, const char *path, char **err);

/* ---- assembler / disassembler (bpf_conformance text form) --------------- */

/* Assembles text into a one-program object named `name`. */
bpflua_object *bpflua_object_from_asm(const char *text, const char *name, char **err);
/* Disassembly of a program, one instruction per line, malloc'd. With
 * with_source and line info, the source lines are interleaved as comments. */
char *bpflua_disasm(const bpflua_object *obj, size_t prog, int with_source);

/* ---- verifier (vm/verifier*.c) ----------------------------------------- */

struct bpflua_verify_info {
    int accepted;
    uint64_t max_insns;       /* proven bound on instructions per run */
    uint32_t verified_insns;  /* instructions the verifier processed */
    uint64_t verify_ns;       /* wall time spent verifying */
};

/* Verifies a program. Returns 0 if accepted, -EACCES if rejected (the
 * reason in *err as "error: <msg> at insn <i>[ (file:line)]"), another
 * negative errno on misuse. With log_level > 0, *log receives the state
 * trace (malloc'd); log may be NULL. Results are cached in the object. */
int bpflua_verify(bpflua_object *obj, size_t prog, int log_level,
                  struct bpflua_verify_info *info, char **err, char **log);

/* ---- running ------------------------------------------------------------ */

/* Memory a run may read with bpf_probe_read*: len bytes at data, seen by
 * the program at address addr (a kernel address in a tracing context). */
struct bpflua_mem_region {
    uint64_t addr;
    const void *data;
    size_t len;
};

struct bpflua_run_opts {
    enum bpflua_engine engine;
    uint64_t repeat;          /* runs; 0 means 1. Maps persist across runs. */
    uint64_t max_insns;       /* 0: no limit beyond the verifier's bound */
    uint32_t cpu;             /* the CPU the run is on: per-CPU map slots and
                                 bpf_get_smp_processor_id (< bpflua_num_possible_cpus()) */
    const struct bpflua_mem_region *mem; /* what probe_read may read; else -EFAULT */
    size_t n_mem;
    int guard;                /* guard pages around the packet and the interpreter's
                                 stack frames (core/guard.h): 1 on, -1 off, 0 the default
                                 (on in sanitizer builds or with BPFLUA_GUARD=1) */
    /* the context (core/progtype.h says how each type builds it) */
    const void *ctx;          /* bytes in the program's view (--ctx FILE): tracing types get
                                 them as they are, skb types take the fields the kernel's
                                 test run takes from a struct __sk_buff */
    size_t ctx_len;
    uint32_t mark, priority;  /* skb types: __sk_buff fields (0: from ctx, else 0) */
    uint32_t ifindex;         /* skb: ifindex and ingress_ifindex; xdp: ingress_ifindex (0 = 1) */
};

struct bpflua_run_result {
    uint64_t retval;          /* R0 at exit (XDP: the verdict) */
    uint64_t ns_per_run;      /* the runs alone: steady state with repeat > 1 */
    uint64_t setup_ns;        /* before the first run: verification, linking, JIT
                                 compile or kernel load, guard pages (0 when done) */
    uint64_t insns;           /* instructions executed by the last run (interp only, else 0) */
    uint32_t tail_calls;      /* bpf_tail_calls taken by the last run */
    int64_t redirect_key;     /* bpf_redirect_map's key when it returned XDP_REDIRECT, else -1 */
    uint32_t mark, priority;  /* skb types: the __sk_buff fields after the run */
};

/* Runs a verified program (it is verified first if it has not been; a
 * rejected program is refused with -EACCES) on the context its type builds:
 * XDP and skb types over pkt[0..len) (which the program may rewrite in
 * place), tracing types from opts->ctx. */
int bpflua_run(bpflua_object *obj, size_t prog, void *pkt, size_t len,
               const struct bpflua_run_opts *opts, struct bpflua_run_result *res,
               char **err);

/* Text printed by bpf_trace_printk during runs, one line per call. */
const char *bpflua_trace_output(const bpflua_object *obj);
void bpflua_trace_clear(bpflua_object *obj);

/* Events (ring buffer records) of the last bpflua_run, in the order they
 * were emitted: the records of its first run only (each run's are drained
 * after it, so a full buffer is one run's). bpflua_run clears them first. */
struct bpflua_event {
    uint32_t map;             /* the ring buffer's (or perf_event_array's) map index */
    uint32_t size;            /* bytes */
    const void *data;         /* valid until the next run or clear */
};
size_t bpflua_event_count(const bpflua_object *obj);
int bpflua_event_get(const bpflua_object *obj, size_t i, struct bpflua_event *out);
/* Events of the runs after the first (--repeat): counted, not kept. */
uint64_t bpflua_events_unshown(const bpflua_object *obj);
/* Emits refused because the buffer was full (interpreter and JIT; the
 * kernel does not report them). */
uint64_t bpflua_events_dropped(const bpflua_object *obj);
void bpflua_events_clear(bpflua_object *obj);

/* ---- maps (stdlib/maps*.c) ---------------------------------------------- */

size_t bpflua_map_count(const bpflua_object *obj);
int bpflua_map_find(const bpflua_object *obj, const char *name);
/* 1 for bpflua's own maps (names starting "__bpflua", e.g. the count of
 * dropped events a compiled program keeps): listings leave them out. */
int bpflua_map_is_internal(const char *name);
int bpflua_map_spec(const bpflua_object *obj, size_t map, struct bpflua_map_spec *out);
int bpflua_map_lookup(bpflua_object *obj, size_t map, const void *key, void *value);
int bpflua_map_update(bpflua_object *obj, size_t map, const void *key, const void *value,
                      uint64_t flags);
int bpflua_map_delete(bpflua_object *obj, size_t map, const void *key);
/* key == NULL: first key. Returns -ENOENT after the last one. */
int bpflua_map_next_key(bpflua_object *obj, size_t map, const void *key, void *next_key);
/* Per-CPU maps (percpu_array, percpu_hash, lru_percpu_hash) hold one slot
 * per possible CPU, as the kernel's: bpflua_num_possible_cpus() of them
 * (libbpf_num_possible_cpus()). Programs see the slot of the CPU they run
 * on (bpflua_run_opts.cpu). On these maps bpflua_map_lookup gives CPU 0's
 * slot and bpflua_map_update writes the value into every CPU's slot;
 * _percpu reads or writes all slots in the kernel's bpf(2) layout (each
 * slot round8(value_size) bytes, n_cpus of them); _cpu one CPU's slot
 * (update_cpu as a program on that CPU: a new element's other slots are
 * zeroed). -EINVAL for other map types (lookup_cpu: any map, CPU 0). */
int bpflua_num_possible_cpus(void);
int bpflua_map_lookup_percpu(bpflua_object *obj, size_t map, const void *key, void *values);
int bpflua_map_update_percpu(bpflua_object *obj, size_t map, const void *key,
                             const void *values, uint64_t flags);
int bpflua_map_lookup_cpu(bpflua_object *obj, size_t map, const void *key, uint32_t cpu,
                          void *value);
int bpflua_map_update_cpu(bpflua_object *obj, size_t map, const void *key, uint32_t cpu,
                          const void *value, uint64_t flags);
/* Queue and stack maps: takes the next value (-ENOENT when empty). */
int bpflua_map_pop(bpflua_object *obj, size_t map, void *value);
/* Ring buffer (and perf_event_array: the records bpf_perf_event_output
 * wrote, every CPU's): pops the oldest record into buf; returns its size,
 * 0 if empty. */
int bpflua_ringbuf_pop(bpflua_object *obj, size_t map, void *buf, size_t cap);

/* ---- helpers ------------------------------------------------------------- */

/* Argument and return kinds the verifier checks helper calls against. */
enum bpflua_arg_type {
    BPFLUA_ARG_NONE = 0,         /* unused argument */
    BPFLUA_ARG_ANYTHING,         /* any initialised scalar */
    BPFLUA_ARG_CONST_MAP_PTR,    /* a map (lddw pseudo map) */
    BPFLUA_ARG_PTR_TO_MAP_KEY,   /* initialised memory of the map's key_size */
    BPFLUA_ARG_PTR_TO_MAP_VALUE, /* initialised memory of the map's value_size */
    BPFLUA_ARG_PTR_TO_MEM,       /* readable memory; size in the next argument */
    BPFLUA_ARG_CONST_SIZE,       /* known-bounded size > 0 of the previous memory */
    BPFLUA_ARG_CONST_SIZE_OR_ZERO,
    BPFLUA_ARG_PTR_TO_FUNC,      /* a callback (lddw pseudo func) */
    BPFLUA_ARG_PTR_TO_STACK_OR_NULL, /* bpf_loop/for_each ctx */
    BPFLUA_ARG_PTR_TO_CTX,
    BPFLUA_ARG_PTR_TO_UNINIT_MEM,    /* memory the helper writes; size in the next argument */
    BPFLUA_ARG_PTR_TO_UNINIT_MAP_VALUE, /* the map's value_size, written by the helper */
    BPFLUA_ARG_PTR_TO_MEM_OR_NULL,   /* readable memory or NULL (then its size is 0) */
    /* kinds of the built-in helpers only (bpflua_register_helper refuses them) */
    BPFLUA_ARG_CONST_ALLOC_SIZE_OR_ZERO, /* a known constant size of memory the helper allocates */
    BPFLUA_ARG_PTR_TO_ALLOC_MEM_RELEASE, /* a ring buffer record, released by the call */
    BPFLUA_ARG_PTR_TO_SOCK_RELEASE,  /* a socket from a lookup, released by the call */
    BPFLUA_ARG_PTR_TO_SPIN_LOCK,     /* the struct bpf_spin_lock of a map value */
    BPFLUA_ARG_PTR_TO_CONST_STR,     /* a NUL-terminated string in a read-only map value */
    BPFLUA_ARG_PTR_TO_INT,           /* 4 initialised, aligned bytes the helper may rewrite */
    BPFLUA_ARG_PTR_TO_LONG,          /* 8 aligned bytes the helper writes */
    BPFLUA_ARG_PTR_TO_UNINIT_MEM_OR_NULL, /* memory the helper writes, or NULL (size 0) */
    BPFLUA_ARG_PTR_TO_SOCK_COMMON,   /* a socket (sock_common, sock or tcp_sock), not NULL */
    BPFLUA_ARG_PTR_TO_SOCK_COMMON_OR_NULL,
    BPFLUA_ARG_PTR_TO_MAP_VALUE_OR_NULL, /* NULL, or initialised memory of the map's value_size */
};

enum bpflua_ret_type {
    BPFLUA_RET_INTEGER = 0,
    BPFLUA_RET_VOID,
    BPFLUA_RET_PTR_TO_MAP_VALUE_OR_NULL,
    /* built-in helpers only: the result is a reference the program must release */
    BPFLUA_RET_PTR_TO_ALLOC_MEM_OR_NULL, /* ring buffer record of the size argument */
    BPFLUA_RET_PTR_TO_SOCKET_OR_NULL,    /* struct bpf_sock */
    BPFLUA_RET_PTR_TO_SOCK_COMMON_OR_NULL,
    /* views of a socket argument (sk_fullsock, tcp_sock, get_listener_sock):
     * no new reference; sk_fullsock's and tcp_sock's result belongs to the
     * argument's (released with it) */
    BPFLUA_RET_PTR_TO_FULLSOCK_OR_NULL,
    BPFLUA_RET_PTR_TO_TCP_SOCK_OR_NULL,
    BPFLUA_RET_PTR_TO_LISTENER_OR_NULL,
};

struct bpflua_run_env; /* opaque to helpers; passed through */

typedef uint64_t (*bpflua_helper_fn)(uint64_t r1, uint64_t r2, uint64_t r3,
                                     uint64_t r4, uint64_t r5,
                                     struct bpflua_run_env *env);

struct bpflua_helper {
    uint32_t id;
    const char *name;
    bpflua_helper_fn fn;
    enum bpflua_ret_type ret;
    enum bpflua_arg_type args[5];
};

/* Registers (or replaces) a helper for every object created afterwards.
 * Built-in ids may not be replaced (-EEXIST). */
int bpflua_register_helper(const struct bpflua_helper *helper);

/* ---- conformance (engine/conformance.c) -------------------------------------- */

/* Runs one bpf_conformance .data file; prints one line per failure to
 * `out` (a FILE *). Returns 0 if it passed, 1 if it failed, 2 if unreadable. */
int bpflua_conformance_file(const char *path, enum bpflua_engine engine, void *out);

#ifdef __cplusplus
}
#endif

#endif
