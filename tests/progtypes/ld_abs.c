/* ld_abs.c - a socket filter with the legacy packet loads (LD_ABS/LD_IND)
 * as samples/bpf wrote them: big-endian loads relative to the network
 * header, and a load past the end ending the program with 0. */
#include <linux/bpf.h>
#define SEC(x) __attribute__((section(x), used))

unsigned long long load_byte(void *skb, unsigned long long off) asm("llvm.bpf.load.byte");
unsigned long long load_half(void *skb, unsigned long long off) asm("llvm.bpf.load.half");
unsigned long long load_word(void *skb, unsigned long long off) asm("llvm.bpf.load.word");

SEC("socket")
int ip_proto(struct __sk_buff *skb)
{
    unsigned int ihl = (load_byte(skb, 0) & 0xf) * 4;  /* IPv4 header length */
    unsigned int proto = load_byte(skb, 9);
    unsigned int dport = load_half(skb, ihl + 2);       /* LD_IND */
    unsigned int saddr = load_word(skb, 12);
    return (proto << 24) ^ (dport << 8) ^ (saddr & 0xff) ^ skb->len;
}

/* reads past the end of short packets: the kernel's answer is 0 */
SEC("socket")
int far_load(struct __sk_buff *skb)
{
    return load_word(skb, 60) + 1;
}

SEC("classifier")
int tc_ld(struct __sk_buff *skb)
{
    return load_half(skb, 12) == 0x0800 ? 1 : 2;  /* tc sees the Ethernet header */
}

char _license[] SEC("license") = "GPL";
