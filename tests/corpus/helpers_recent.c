/* helpers_recent.c - helpers of newer kernels that Cilium, Falco and
 * libbpf-era tools call: bpf_snprintf (BPF_SNPRINTF), bpf_trace_vprintk
 * (bpf_printk with more than three arguments), bpf_strncmp, bpf_strtol,
 * bpf_strtoul, bpf_check_mtu (tc and XDP), bpf_csum_level,
 * bpf_get_hash_recalc / set_hash / set_hash_invalid,
 * bpf_map_lookup_percpu_elem, bpf_get_ns_current_pid_tgid. Each packet
 * program folds the helpers' answers into its verdict: tests/cli/helpers_more.sh
 * runs them in the interpreter, the JIT and the kernel and compares.
 * unsafe: tc/str tc/mtu xdp/mtu tc/percpu kprobe/ns
 */
#include "common.h"

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u64);
} pcpu SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u64);
} plain SEC(".maps");

static const char want[] = "7:-3:ff:ok";

/* formats four numbers, compares the text, parses numbers back */
SEC("tc/str")
int strs(struct __sk_buff *skb)
{
    char out[32];
    __u64 args[4] = { 7, (__u64)-3, 255, 0 };
    static const char fmt[] = "%d:%d:%x:ok";
#ifdef UNSAFE
    char sfmt[] = "%d:%d:%x:ok"; /* the format must be a read-only string */
    long n = bpf_snprintf(out, sizeof out, sfmt, args, 24);
#else
    long n = bpf_snprintf(out, sizeof out, fmt, args, 24);
#endif
    int r = 0;
    r |= (n == 11);                                     /* the length with its NUL */
    r |= (bpf_strncmp(out, sizeof out, want) == 0) << 1;
    r |= (bpf_strncmp(out, 4, "7:-4") < 0) << 2;
    char small[4];
    r |= (bpf_snprintf(small, sizeof small, fmt, args, 24) == 11 && small[3] == 0 &&
          small[2] == '-') << 3;
    char num[] = "  -42xyz";
    long v = 0;
    r |= (bpf_strtol(num, sizeof num - 1, 0, &v) == 5 && v == -42) << 4;
    char hex[] = "0x1f";
    unsigned long u = 0;
    r |= (bpf_strtoul(hex, 4, 0, &u) == 4 && u == 31) << 5;
    r |= (bpf_strtoul(num, sizeof num - 1, 10, &u) == -22) << 6;
    r |= (bpf_strtol(hex, 4, 3, &v) == -22) << 7;              /* base 3 */
    char big[] = "99999999999999999999";
    r |= (bpf_strtoul(big, sizeof big - 1, 10, &u) == -34) << 8; /* -ERANGE */
    r |= (bpf_printk("%d %d %d %d", 1, 2, 3, 4) == 7) << 9;   /* trace_vprintk */
    return r;
}

/* check_mtu on the loopback device of a test run, csum_level, hashes */
SEC("tc/mtu")
int mtu(struct __sk_buff *skb)
{
    __u32 m = 0;
    int r = 0;
#ifdef UNSAFE
    static const __u32 fixed = 0;
    r |= bpf_check_mtu(skb, 0, (__u32 *)&fixed, 0, 0); /* mtu_len is written: not .rodata */
#endif
    r |= (bpf_check_mtu(skb, 0, &m, 0, 0) == BPF_MTU_CHK_RET_SUCCESS && m == 65536);
    m = 0;
    r |= (bpf_check_mtu(skb, 0, &m, 70000, 0) == BPF_MTU_CHK_RET_FRAG_NEEDED) << 1;
    m = 1500;
    r |= (bpf_check_mtu(skb, 0, &m, 0, 0) == 0 && m == 65536) << 2;
    r |= (bpf_check_mtu(skb, 0, &m, 0, 2) == -22) << 3;
    r |= (bpf_check_mtu(skb, 0x7ffffff0, &m, 0, 0) == -19) << 4; /* no such device */
    r |= (bpf_csum_level(skb, BPF_CSUM_LEVEL_QUERY) == -13) << 5; /* -EACCES */
    r |= (bpf_csum_level(skb, BPF_CSUM_LEVEL_RESET) == 0) << 6;
    __u32 h = bpf_get_hash_recalc(skb);
    r |= (h != 0 && h == skb->hash) << 7;
    bpf_set_hash(skb, 77);
    r |= (skb->hash == 77) << 8;
    bpf_set_hash_invalid(skb);
    r |= (skb->hash == 0) << 9;
    return r;
}

SEC("xdp/mtu")
int xdp_mtu(struct xdp_md *ctx)
{
    __u32 m = 0;
    int r = 0;
    r |= (bpf_check_mtu(ctx, 0, &m, 0, 0) == 0 && m == 65536);
    m = 0;
    r |= (bpf_check_mtu(ctx, 0, &m, 70000, 0) == BPF_MTU_CHK_RET_FRAG_NEEDED) << 1;
    r |= (bpf_check_mtu(ctx, 0, &m, 0, BPF_MTU_CHK_SEGS) == -22) << 2;
#ifdef UNSAFE
    char odd[12] = {};
    r |= bpf_check_mtu(ctx, 0, (__u32 *)&odd[1], 0, 0); /* misaligned */
#endif
    return r + 1; /* XDP_DROP + bits: the test reads the value */
}

SEC("tc/percpu")
int percpu(struct __sk_buff *skb)
{
    __u32 k = 0;
    __u64 *v = bpf_map_lookup_percpu_elem(&pcpu, &k, 0);
    int r = 0;
    if (v) {
        *v += 5;
        r |= 1;
    }
    r |= (bpf_map_lookup_percpu_elem(&pcpu, &k, 0x7fffffff) == 0) << 1;
#ifdef UNSAFE
    r |= bpf_map_lookup_percpu_elem(&plain, &k, 0) != 0; /* not a per-CPU map */
#endif
    return r;
}

SEC("kprobe/ns")
int ns(struct x86_regs *regs)
{
    struct bpf_pidns_info info;
    long rc = bpf_get_ns_current_pid_tgid(regs->di, regs->si, &info, sizeof info);
#ifdef UNSAFE
    char out[8];
    long n = bpf_snprintf(out, sizeof out, "%d %d", (__u64 *)&info, 8); /* 2 conversions, 1 value */
    return rc + n;
#endif
    if (rc == 0)
        return info.tgid && info.pid ? 1 : 3;
    return rc == -22 && info.tgid == 0 ? 2 : 4;
}

/* %s and %pI4 read the addresses in di and si where the run was given
 * memory (bpflua run --mem), as the kernel reads kernel memory */
SEC("kprobe/fmt")
int fmt(struct x86_regs *regs)
{
    char out[48];
    __u64 a[3] = { regs->di, regs->si, 5 };
    long n = bpf_snprintf(out, sizeof out, "%s|%pI4|%d", a, sizeof a);
    bpf_printk("%s|%pI4|%d|%ld", regs->di, regs->si, 5, n);
    return n;
}
