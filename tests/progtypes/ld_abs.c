/* ld_abs.c - a socket filter with the legacy packet loads (LD_ABS/LD_IND)
 * as samples/bpf wrote them: big-endian loads relative to the network
 * header, and a load past the end ending the program with 0; offsets
 * relative to the MAC and network headers (SKF_LL_OFF, SKF_NET_OFF: the
 * way Suricata's filters read the IP header), and an LD_IND whose
 * register holds more than 32 bits (the kernel takes the offset as an
 * int). */
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

#define LL_OFF (-0x200000) /* SKF_LL_OFF */
#define NET_OFF (-0x100000) /* SKF_NET_OFF */

/* the EtherType through the MAC header, the protocol through the
 * network header, a port through both at a register offset */
SEC("socket")
int neg_offsets(struct __sk_buff *skb)
{
    unsigned int type = load_half(skb, LL_OFF + 12);
    unsigned int proto = load_byte(skb, NET_OFF + 9);
    unsigned int nh = skb->cb[0] + LL_OFF + 14; /* cb[0] is 0: the IP header */
    unsigned int port = load_half(skb, nh + 22);
    return (type << 16) ^ (proto << 8) ^ port;
}

/* below the MAC header: the kernel's load fails, the program returns 0 */
SEC("socket")
int below_mac(struct __sk_buff *skb)
{
    return load_byte(skb, LL_OFF - 1) + 1;
}

/* tc sees the Ethernet header at data: SKF_NET_OFF is 14 bytes on */
SEC("classifier")
int tc_net_off(struct __sk_buff *skb)
{
    return load_byte(skb, NET_OFF + 9) + (load_half(skb, LL_OFF + 12) == 0x0800 ? 1000 : 0);
}

/* LD_IND's register plus imm, cut to 32 bits: byte 9 */
SEC("socket")
int wide_ind(struct __sk_buff *skb)
{
    unsigned long long off = ((unsigned long long)skb->len << 32) | 9;
    return load_byte(skb, off) + 1;
}

char _license[] SEC("license") = "GPL";
