// SPDX-License-Identifier: GPL-2.0
/* Stateless twice-NAT by prefix ("network paging") at TC ingress.
 *
 * tc_lan is attached (clsact ingress) to LAN-facing interfaces, tc_wan to WAN-facing ones.
 * Both rewrite source and destination of every IPv4 packet through the page table of their
 * side, or drop it when either address has no page. Everything else (ARP, IPv6, ...) passes.
 *
 * Atomic rule-set replacement: lan_pages / wan_pages hold two generations of pages (the
 * generation is the first 32 bits of the key, always matched in full); config.gen says which
 * one is current. The agent writes the spare generation, then flips config.gen with one map
 * update, so a packet (which reads gen once) sees either the whole old or the whole new rule
 * set. Single-page switches update the current generation in place. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <stddef.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "xlate.h"

#ifndef IPPROTO_UDPLITE
#define IPPROTO_UDPLITE 136
#endif

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, XLATE_MAX_PAGES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct xlate_lpm_key);
	__type(value, struct xlate_page);
} lan_pages SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, XLATE_MAX_PAGES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct xlate_lpm_key);
	__type(value, struct xlate_page);
} wan_pages SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xlate_config);
} config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XC_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

#define IP_SRC_OFF (ETH_HLEN + offsetof(struct iphdr, saddr))
#define IP_DST_OFF (ETH_HLEN + offsetof(struct iphdr, daddr))
#define IP_CSUM_OFF (ETH_HLEN + offsetof(struct iphdr, check))
#define IP_FRAG_OFFSET_MASK 0x1fff

static __always_inline void count(__u32 which)
{
	__u64 *c = bpf_map_lookup_elem(&counters, &which);
	if (c)
		*c += 1; /* per-CPU slot: no atomic needed */
}

static __always_inline __u32 map_host(const struct xlate_page *p, __u32 h)
{
	__u64 mask = xlate_mask(p->bits);
	__u64 x = h & mask;
	__u32 n = p->nsteps;

	/* A bounded loop (the verifier follows it); clang cannot unroll it because of the break. */
	for (int i = 0; i < XLATE_MAX_STEPS; i++) {
		if (i >= n)
			break;
		x = xlate_step_apply(&p->steps[i], x, mask);
	}
	return (__u32)(x & mask);
}

/* New address (network byte order) for addr (network byte order) through page p. */
static __always_inline __u32 translate(const struct xlate_page *p, __u32 addr)
{
	if (p->flags & XLATE_F_PASS)
		return addr;
	__u32 host = bpf_ntohl(addr);
	return bpf_htonl(bpf_ntohl(p->to_base) | map_host(p, host & (__u32)xlate_mask(p->bits)));
}

static __always_inline int rewrite(struct __sk_buff *skb, __u32 off, __u32 from, __u32 to, __u32 l4_off,
				   __u64 l4_flags)
{
	if (from == to)
		return 0;
	if (l4_off && bpf_l4_csum_replace(skb, l4_off, from, to, l4_flags) < 0)
		return -1;
	if (bpf_l3_csum_replace(skb, IP_CSUM_OFF, from, to, sizeof(__u32)) < 0)
		return -1;
	return bpf_skb_store_bytes(skb, off, &to, sizeof(to), 0);
}

static __always_inline int xlate(struct __sk_buff *skb, const int from_wan)
{
	if (skb->protocol != bpf_htons(ETH_P_IP)) {
		count(XC_PASSED_NON_IPV4);
		return TC_ACT_OK;
	}
	struct iphdr iph;
	if (bpf_skb_load_bytes(skb, ETH_HLEN, &iph, sizeof(iph)) < 0 || iph.version != 4 || iph.ihl < 5) {
		count(XC_DROPPED_MALFORMED);
		return TC_ACT_SHOT;
	}

	__u32 zero = 0, gen = 0;
	struct xlate_config *cfg = bpf_map_lookup_elem(&config, &zero);
	if (cfg)
		gen = cfg->gen & 1;
	void *trie = from_wan ? (void *)&wan_pages : (void *)&lan_pages;

	struct xlate_lpm_key key = {.prefixlen = XLATE_GEN_BITS + 32, .gen = gen, .addr = iph.saddr};
	struct xlate_page *sp = bpf_map_lookup_elem(trie, &key);
	if (!sp) {
		count(XC_DROPPED_NO_SRC_RULE);
		return TC_ACT_SHOT;
	}
	key.addr = iph.daddr;
	struct xlate_page *dp = bpf_map_lookup_elem(trie, &key);
	if (!dp) {
		count(XC_DROPPED_NO_DST_RULE);
		return TC_ACT_SHOT;
	}

	__u32 nsrc = translate(sp, iph.saddr);
	__u32 ndst = translate(dp, iph.daddr);

	/* L4 checksum (pseudo-header) only where the L4 header is: first fragment. */
	__u32 l4_off = 0;
	__u64 l4_flags = BPF_F_PSEUDO_HDR | sizeof(__u32);
	if (!(iph.frag_off & bpf_htons(IP_FRAG_OFFSET_MASK))) {
		__u32 l4 = ETH_HLEN + iph.ihl * 4;
		if (iph.protocol == IPPROTO_TCP) {
			l4_off = l4 + offsetof(struct tcphdr, check);
		} else if (iph.protocol == IPPROTO_UDP) {
			l4_off = l4 + offsetof(struct udphdr, check);
			l4_flags |= BPF_F_MARK_MANGLED_0; /* 0 = no checksum: keep 0; a result of 0 -> 0xffff */
		} else if (iph.protocol == IPPROTO_UDPLITE) {
			l4_off = l4 + offsetof(struct udphdr, check);
		}
	}

	if (rewrite(skb, IP_SRC_OFF, iph.saddr, nsrc, l4_off, l4_flags) < 0 ||
	    rewrite(skb, IP_DST_OFF, iph.daddr, ndst, l4_off, l4_flags) < 0) {
		count(XC_DROPPED_MALFORMED);
		return TC_ACT_SHOT;
	}
	count(from_wan ? XC_TRANSLATED_FROM_WAN : XC_TRANSLATED_FROM_LAN);
	return TC_ACT_OK;
}

SEC("tc")
int tc_lan(struct __sk_buff *skb)
{
	return xlate(skb, 0);
}

SEC("tc")
int tc_wan(struct __sk_buff *skb)
{
	return xlate(skb, 1);
}

char LICENSE[] SEC("license") = "GPL";
