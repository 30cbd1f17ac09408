/* Sections of program types bpflua does not support (BTF-attached
 * tracing, LSM): `bpflua verify` must say so, not crash or guess.
 * unsupported: all
 */
#include "common.h"

SEC("fentry/do_nanosleep")
int on_entry(void *ctx) { return 0; }

SEC("tp_btf/sched_switch")
int on_switch(void *ctx) { return 0; }

SEC("lsm/file_open")
int on_open(void *ctx) { return 0; }
