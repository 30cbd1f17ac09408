/* common.h - what the corpus programs share: kernel UAPI headers, libbpf's
 * helper declarations, and a legacy map definition as pre-libbpf loaders
 * (samples/bpf's bpf_load.c, iproute2, PREVAIL's tests) read it. */
#ifndef CORPUS_COMMON_H
#define CORPUS_COMMON_H
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* a legacy `maps` section entry (struct bpf_map_def of the old headers) */
struct legacy_map {
    unsigned int type, key_size, value_size, max_entries, map_flags;
};
struct legacy_map_inner {
    unsigned int type, key_size, value_size, max_entries, map_flags, inner_map_idx, numa_node;
};
#define LEGACY_MAP __attribute__((section("maps"), used))
/* iproute2's struct bpf_elf_map (tc's loader, Cilium before libbpf): an id
 * other maps of maps name as inner_id, a pinning scope, the slot an inner
 * map takes in its outer map */
struct elf_map {
    unsigned int type, size_key, size_value, max_elem, flags, id, pinning, inner_id, inner_idx;
};

#ifdef UNSAFE
#define BAD(x) x
#define GOOD(x)
#else
#define BAD(x)
#define GOOD(x) x
#endif

/* x86-64's struct pt_regs as kprobes see it (the UAPI header describes
 * another architecture's layout under -target bpf) */
struct x86_regs {
    unsigned long r15, r14, r13, r12, bp, bx, r11, r10, r9, r8, ax, cx, dx, si, di, orig_ax, ip,
        cs, flags, sp, ss;
};

char _license[] SEC("license") = "GPL";
#endif
