/* type_trace.c - tracing types: kprobe (struct pt_regs), tracepoint (the
 * event's record), raw_tracepoint (u64 args[]), perf_event (struct
 * bpf_perf_event_data). Their context is plain bytes: one field covering
 * what may be read, at any aligned size, and sb_off = off (no rewrite);
 * a run gets the bytes from --ctx FILE. */
#include "progtype.h"

#define RAW(lo, size) { { "bytes", lo, size, BL_SZ_ANY, 0, BL_CTX_SCALAR, 8, lo } }
#define N(a) (uint32_t)(sizeof a / sizeof a[0])

/* what kprobes, tracepoints and perf events may call beyond the base set,
 * probed on 6.18 as core/progtype.c says; the last two (56
 * perf_prog_read_value, 119 read_branch_records) are perf_event's alone */
static const uint32_t trace_helpers[] = {
    4, 27, 45, 67, 173, 174, 56, 119
};

/* allowed where the kernel is configured for them (core/progtype.h):
 * probe_write_user (36, off under lockdown) in every tracing type, and
 * override_return (58, CONFIG_BPF_KPROBE_OVERRIDE) for kprobes */
static const uint32_t kprobe_config_helpers[] = { 36, 58 };
static const uint32_t trace_config_helpers[] = { 36 };
#define CONFIG(a) .config_helpers = a, .n_config_helpers = N(a)

#define PT_REGS_SIZE 168 /* x86-64 */
static const struct bl_ctx_field kprobe_fields[] = RAW(0, PT_REGS_SIZE);
static const char *const kprobe_sections[] = {
    "kprobe*", "kretprobe*", "uprobe*", "uretprobe*", "ksyscall*", "kretsyscall*", "usdt*", NULL
};
const struct bl_prog_type bl_type_kprobe = {
    .name = "kprobe", .kernel_type = 2, .sections = kprobe_sections, .ctx_size = PT_REGS_SIZE,
    .fields = kprobe_fields, .n_fields = 1, .helpers = trace_helpers,
    .n_helpers = N(trace_helpers) - 2, .build = BL_BUILD_RAW, .sb_ctx_size = PT_REGS_SIZE,
    CONFIG(kprobe_config_helpers),
};

/* the kernel checks the record's size when attaching; at load any offset
 * past the 8 common bytes and below PERF_MAX_TRACE_SIZE (2048) reads */
static const struct bl_ctx_field tp_fields[] = RAW(8, 2040);
static const char *const tp_sections[] = { "tracepoint*", "tp/*", NULL };
const struct bl_prog_type bl_type_tracepoint = {
    .name = "tracepoint", .kernel_type = 5, .sections = tp_sections, .ctx_size = 2048,
    .fields = tp_fields, .n_fields = 1, .helpers = trace_helpers,
    .n_helpers = N(trace_helpers) - 2, .build = BL_BUILD_RAW, .sb_ctx_size = 2048,
    CONFIG(trace_config_helpers),
};

/* u64 args[MAX_BPF_FUNC_ARGS] */
static const struct bl_ctx_field raw_tp_fields[] = RAW(0, 96);
static const char *const raw_tp_sections[] = { "raw_tracepoint*", "raw_tp*", NULL };
const struct bl_prog_type bl_type_raw_tracepoint = {
    .name = "raw_tracepoint", .kernel_type = 17, .sections = raw_tp_sections, .ctx_size = 96,
    .fields = raw_tp_fields, .n_fields = 1, .helpers = trace_helpers,
    .n_helpers = N(trace_helpers) - 2, .build = BL_BUILD_RAW, .sb_ctx_size = 96,
    CONFIG(trace_config_helpers),
};

/* struct bpf_perf_event_data: pt_regs, sample_period, addr */
static const struct bl_ctx_field perf_fields[] = RAW(0, PT_REGS_SIZE + 16);
static const char *const perf_sections[] = { "perf_event*", NULL };
const struct bl_prog_type bl_type_perf_event = {
    .name = "perf_event", .kernel_type = 7, .sections = perf_sections,
    .ctx_size = PT_REGS_SIZE + 16, .fields = perf_fields, .n_fields = 1,
    .helpers = trace_helpers, .n_helpers = N(trace_helpers), .build = BL_BUILD_RAW,
    .sb_ctx_size = PT_REGS_SIZE + 16, CONFIG(trace_config_helpers),
};
