/* Shared between the TC program (xlate.bpf.c) and the agent: map layouts and step encoding.
 *
 * Network paging (ICN 2011 §III-IV): a page maps a LAN prefix onto a WAN prefix of the same
 * length. A packet entering from a LAN interface has its source and its destination looked up
 * (longest prefix match) in the LAN-side table and both rewritten; a packet entering from a
 * WAN interface likewise in the WAN-side table (whose entries carry the inverse mapping).
 * No match for either address: the packet is dropped and counted.
 *
 * Host part mapping: h (0 <= h < 2^bits, bits = 32 - prefixlen) goes through up to
 * XLATE_MAX_STEPS steps, every one modulo 2^bits:
 *   XOP_AFFINE        h = h * mul + add
 *   XOP_XORSHIFT      h = h ^ (h >> shift)                       (1 <= shift <= 31)
 *   XOP_XORSHIFT_INV  the inverse of XOP_XORSHIFT with the same shift:
 *                     h = h ^ h>>s ^ h>>2s ^ h>>3s ^ ...  (computed as the product
 *                     (1+S)(1+S^2)(1+S^4)(1+S^8)(1+S^16) of shift operators: 5 fixed rounds)
 * Zero steps = contiguous. The new address is to_base | h'. XLATE_F_PASS = address unchanged.
 * The agent only applies the steps it is given; the orchestrator computes inverses. */
#ifndef WARPLAB_XLATE_H
#define WARPLAB_XLATE_H

#include <linux/types.h>

#define XLATE_MAX_STEPS 8
#define XLATE_MAX_PAGES (1u << 20) /* entries per trie (both generations); BPF_F_NO_PREALLOC */

enum xlate_op {
	XOP_NONE = 0,
	XOP_AFFINE = 1,
	XOP_XORSHIFT = 2,
	XOP_XORSHIFT_INV = 3,
};

struct xlate_step {
	__u32 mul;
	__u32 add;
	__u8 op;    /* enum xlate_op */
	__u8 shift; /* XOP_XORSHIFT, XOP_XORSHIFT_INV */
	__u8 pad[2];
};

/* LPM trie key: prefixlen, then the data matched bit by bit: the generation (always matched
 * in full) and the IPv4 address in network byte order. prefixlen = 32 + the page's length.
 * Two generations live side by side in one trie; config.gen says which one packets use. */
struct xlate_lpm_key {
	__u32 prefixlen;
	__u32 gen; /* 0 or 1 */
	__u32 addr;
};
#define XLATE_GEN_BITS 32

#define XLATE_F_PASS 1u

struct xlate_page {
	__u32 to_base; /* network byte order, host bits zero: base of the page on the other side */
	__u8 bits;     /* host bits, 32 - prefixlen */
	__u8 flags;    /* XLATE_F_* */
	__u8 nsteps;   /* 0..XLATE_MAX_STEPS */
	__u8 pad;
	struct xlate_step steps[XLATE_MAX_STEPS];
};

/* Which generation of the tries packets use. */
struct xlate_config {
	__u32 gen; /* 0 or 1 */
	__u32 pad;
};

enum xlate_counter {
	XC_TRANSLATED_FROM_LAN = 0,
	XC_TRANSLATED_FROM_WAN = 1,
	XC_DROPPED_NO_SRC_RULE = 2,
	XC_DROPPED_NO_DST_RULE = 3,
	XC_DROPPED_MALFORMED = 4, /* truncated IPv4 header, failed checksum update */
	XC_PASSED_NON_IPV4 = 5,
	XC_MAX = 8,
};

/* 2^bits - 1: the host part of a page. */
static inline __attribute__((always_inline)) __u64 xlate_mask(__u32 bits)
{
	return bits >= 32 ? 0xffffffffULL : ((1ULL << bits) - 1);
}

/* One step of the host-part mapping above, on x <= mask. The TC program and the agent's
 * nftables backend both call it, so that the two backends translate alike. */
static inline __attribute__((always_inline)) __u64 xlate_step_apply(const struct xlate_step *s, __u64 x, __u64 mask)
{
	__u32 sh = s->shift;
	switch (s->op) {
	case XOP_AFFINE:
		return (x * (__u64)s->mul + s->add) & mask;
	case XOP_XORSHIFT:
		return sh > 0 && sh < 32 ? x ^ (x >> sh) : x;
	case XOP_XORSHIFT_INV:
		for (int r = 0; r < 5 && sh > 0 && sh < 32; r++, sh <<= 1)
			x ^= x >> sh;
		return x;
	default:
		return x;
	}
}

#endif
