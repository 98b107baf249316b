/* Rule lines: parsing, validation, canonical text, and the in-memory rule set. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"

#define MAX_TOKENS (8 + 2 * XLATE_MAX_STEPS + 4)

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

int parse_cidr(const char *s, uint32_t *addr, uint8_t *plen, char *err, size_t errlen)
{
	char buf[64];
	if (strlen(s) >= sizeof buf)
		return fail(err, errlen, "bad prefix \"%.40s…\"", s);
	strcpy(buf, s);
	unsigned long len = 32;
	char *slash = strchr(buf, '/');
	if (slash) {
		char *end;
		*slash = 0;
		errno = 0;
		len = strtoul(slash + 1, &end, 10);
		if (errno || *end || end == slash + 1 || len > 32)
			return fail(err, errlen, "bad prefix length in \"%s\"", s);
	}
	struct in_addr a;
	if (inet_pton(AF_INET, buf, &a) != 1)
		return fail(err, errlen, "bad IPv4 address in \"%s\"", s);
	uint32_t h = ntohl(a.s_addr);
	if (h & (uint32_t)xlate_mask(32 - (unsigned)len))
		return fail(err, errlen, "prefix \"%s\" has host bits set", s);
	*addr = h;
	*plen = (uint8_t)len;
	return 0;
}

static void fmt_cidr(char *out, size_t n, uint32_t addr, uint8_t plen)
{
	snprintf(out, n, "%u.%u.%u.%u/%u", addr >> 24, (addr >> 16) & 255, (addr >> 8) & 255, addr & 255, plen);
}

static int parse_u32(const char *s, uint32_t *out)
{
	char *end;
	if (!*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end || v > 0xffffffffull)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* "affine:MUL:ADD" | "xorshift:S" | "xorshift-inv:S" */
static int parse_step(const char *tok, unsigned bits, struct xlate_step *st, char *err, size_t errlen)
{
	char buf[96];
	if (strlen(tok) >= sizeof buf)
		return fail(err, errlen, "bad step \"%.40s…\"", tok);
	strcpy(buf, tok);
	char *colon = strchr(buf, ':');
	if (!colon)
		return fail(err, errlen, "bad step \"%s\" (expected affine:MUL:ADD, xorshift:S or xorshift-inv:S)", tok);
	*colon = 0;
	char *args = colon + 1;
	memset(st, 0, sizeof *st);
	if (!strcmp(buf, "affine")) {
		char *c2 = strchr(args, ':');
		if (!c2)
			return fail(err, errlen, "bad step \"%s\" (expected affine:MUL:ADD)", tok);
		*c2 = 0;
		if (parse_u32(args, &st->mul) || parse_u32(c2 + 1, &st->add))
			return fail(err, errlen, "bad numbers in step \"%s\" (decimal, 0..4294967295)", tok);
		if (bits > 0 && !(st->mul & 1))
			return fail(err, errlen, "step \"%s\": the multiplier must be odd to be invertible modulo 2^%u", tok, bits);
		st->op = XOP_AFFINE;
		return 0;
	}
	bool inv = !strcmp(buf, "xorshift-inv");
	if (inv || !strcmp(buf, "xorshift")) {
		uint32_t s;
		if (parse_u32(args, &s) || s < 1 || s > 31)
			return fail(err, errlen, "bad shift in step \"%s\" (1..31)", tok);
		st->op = inv ? XOP_XORSHIFT_INV : XOP_XORSHIFT;
		st->shift = (uint8_t)s;
		return 0;
	}
	return fail(err, errlen, "unknown step \"%s\" (expected affine:MUL:ADD, xorshift:S or xorshift-inv:S)", tok);
}

uint32_t steps_apply(const struct xlate_step *s, unsigned n, uint32_t h, unsigned bits)
{
	uint64_t mask = xlate_mask(bits), x = h & mask;
	for (unsigned i = 0; i < n; i++)
		x = xlate_step_apply(&s[i], x, mask);
	return (uint32_t)(x & mask);
}

static void fmt_steps(char **p, char *end, const struct xlate_step *s, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		int w = 0;
		if (s[i].op == XOP_AFFINE)
			w = snprintf(*p, (size_t)(end - *p), " affine:%u:%u", s[i].mul, s[i].add);
		else
			w = snprintf(*p, (size_t)(end - *p), " %s:%u", s[i].op == XOP_XORSHIFT ? "xorshift" : "xorshift-inv",
				     s[i].shift);
		if (w > 0 && w < end - *p)
			*p += w;
	}
}

static char *canonical_text(const struct rule *r)
{
	char buf[1024], lan[24], wan[24];
	char *p = buf, *end = buf + sizeof buf;
	fmt_cidr(lan, sizeof lan, r->lan, r->plen);
	if (r->kind == RULE_PASS) {
		snprintf(buf, sizeof buf, "page %s pass", lan);
		return strdup(buf);
	}
	fmt_cidr(wan, sizeof wan, r->wan, r->plen);
	p += snprintf(p, (size_t)(end - p), "page %s wan %s", lan, wan);
	if (!r->nfwd && !r->ninv) {
		snprintf(p, (size_t)(end - p), " contiguous");
	} else {
		p += snprintf(p, (size_t)(end - p), " steps");
		fmt_steps(&p, end, r->fwd, r->nfwd);
		p += snprintf(p, (size_t)(end - p), " /");
		fmt_steps(&p, end, r->inv, r->ninv);
	}
	return strdup(buf);
}

/* inv(fwd(h)) == h over the whole page (<= 4096 addresses) or over 4096 samples of it. */
static int check_inverse(const struct rule *r, char *err, size_t errlen)
{
	unsigned bits = rule_bits(r);
	uint64_t size = 1ull << bits, samples = size <= 4096 ? size : 4096;
	uint32_t lcg = 0x12345678u ^ r->lan;
	for (uint64_t i = 0; i < samples; i++) {
		uint32_t h;
		if (size <= 4096)
			h = (uint32_t)i;
		else if (i == 0)
			h = 0;
		else if (i == 1)
			h = (uint32_t)(size - 1);
		else
			h = (lcg = lcg * 1664525u + 1013904223u) & (uint32_t)(size - 1);
		uint32_t f = steps_apply(r->fwd, r->nfwd, h, bits);
		uint32_t back = steps_apply(r->inv, r->ninv, f, bits);
		if (back != h)
			return fail(err, errlen,
				    "the inverse steps do not undo the forward steps: host part %u -> %u -> %u (page of %u host bits)",
				    h, f, back, bits);
	}
	return 0;
}

struct rule *rule_parse(const char *line, char *err, size_t errlen)
{
	char buf[2048];
	char *tok[MAX_TOKENS];
	int n = 0;
	if (strlen(line) >= sizeof buf) {
		fail(err, errlen, "rule line too long");
		return NULL;
	}
	strcpy(buf, line);
	for (char *save, *t = strtok_r(buf, " \t\r\n", &save); t; t = strtok_r(NULL, " \t\r\n", &save)) {
		if (n == MAX_TOKENS) {
			fail(err, errlen, "too many words in rule (at most %d steps per direction)", XLATE_MAX_STEPS);
			return NULL;
		}
		tok[n++] = t;
	}
	if (n < 3 || strcmp(tok[0], "page")) {
		fail(err, errlen, "bad rule \"%s\" (expected: page LAN-CIDR pass | page LAN-CIDR wan WAN-CIDR contiguous | "
				  "page LAN-CIDR wan WAN-CIDR steps FWD… / INV…)", line);
		return NULL;
	}
	struct rule *r = calloc(1, sizeof *r);
	if (!r) {
		fail(err, errlen, "out of memory");
		return NULL;
	}
	char e2[ERRLEN];
	if (parse_cidr(tok[1], &r->lan, &r->plen, e2, sizeof e2)) {
		fail(err, errlen, "LAN side: %s", e2);
		goto bad;
	}
	if (!strcmp(tok[2], "pass")) {
		if (n != 3) {
			fail(err, errlen, "unexpected \"%s\" after pass", tok[3]);
			goto bad;
		}
		r->kind = RULE_PASS;
		r->wan = r->lan;
	} else if (!strcmp(tok[2], "wan")) {
		uint8_t wplen;
		if (n < 5) {
			fail(err, errlen, "expected: page LAN-CIDR wan WAN-CIDR contiguous|steps …");
			goto bad;
		}
		if (parse_cidr(tok[3], &r->wan, &wplen, e2, sizeof e2)) {
			fail(err, errlen, "WAN side: %s", e2);
			goto bad;
		}
		if (wplen != r->plen) {
			fail(err, errlen, "prefix lengths differ: LAN /%u, WAN /%u (a page has the same size on both sides)",
			     r->plen, wplen);
			goto bad;
		}
		r->kind = RULE_MAP;
		if (!strcmp(tok[4], "contiguous")) {
			if (n != 5) {
				fail(err, errlen, "unexpected \"%s\" after contiguous", tok[5]);
				goto bad;
			}
		} else if (!strcmp(tok[4], "steps")) {
			int i = 5;
			bool slash = false;
			for (; i < n; i++) {
				if (!strcmp(tok[i], "/")) {
					if (slash) {
						fail(err, errlen, "two \"/\" in steps");
						goto bad;
					}
					slash = true;
					continue;
				}
				struct xlate_step *list = slash ? r->inv : r->fwd;
				uint8_t *cnt = slash ? &r->ninv : &r->nfwd;
				if (*cnt == XLATE_MAX_STEPS) {
					fail(err, errlen, "more than %d steps in one direction", XLATE_MAX_STEPS);
					goto bad;
				}
				if (parse_step(tok[i], rule_bits(r), &list[*cnt], err, errlen))
					goto bad;
				(*cnt)++;
			}
			if (!slash) {
				fail(err, errlen, "steps need \"FORWARD-STEPS / INVERSE-STEPS\"");
				goto bad;
			}
			if (check_inverse(r, err, errlen))
				goto bad;
		} else {
			fail(err, errlen, "unknown mapping \"%s\" (expected contiguous or steps)", tok[4]);
			goto bad;
		}
	} else {
		fail(err, errlen, "expected \"pass\" or \"wan\" after the LAN prefix, got \"%s\"", tok[2]);
		goto bad;
	}
	r->text = canonical_text(r);
	if (!r->text) {
		fail(err, errlen, "out of memory");
		goto bad;
	}
	return r;
bad:
	free(r);
	return NULL;
}

void rule_free(struct rule *r)
{
	if (r) {
		free(r->text);
		free(r);
	}
}

void rule_to_page(const struct rule *r, bool from_lan, struct xlate_page *out)
{
	memset(out, 0, sizeof *out);
	out->bits = rule_bits(r);
	if (r->kind == RULE_PASS) {
		out->flags = XLATE_F_PASS;
		out->to_base = htonl(r->lan);
		return;
	}
	out->to_base = htonl(from_lan ? r->wan : r->lan);
	const struct xlate_step *s = from_lan ? r->fwd : r->inv;
	unsigned n = from_lan ? r->nfwd : r->ninv;
	out->nsteps = (uint8_t)n;
	memcpy(out->steps, s, n * sizeof *s);
}

/* ---- rule set: insertion-ordered list + two chained hash tables ---- */

static size_t hash_key(uint32_t addr, uint8_t plen, size_t nb)
{
	uint64_t k = ((uint64_t)plen << 32 | addr) * 0x9e3779b97f4a7c15ull;
	return (size_t)(k >> 32) & (nb - 1);
}

void ruleset_init(struct ruleset *rs) { memset(rs, 0, sizeof *rs); }

void ruleset_free(struct ruleset *rs)
{
	for (struct rule *r = rs->head, *nx; r; r = nx) {
		nx = r->next;
		rule_free(r);
	}
	free(rs->lan_buckets);
	free(rs->wan_buckets);
	ruleset_init(rs);
}

struct rule *ruleset_find_lan(const struct ruleset *rs, uint32_t addr, uint8_t plen)
{
	if (!rs->nbuckets)
		return NULL;
	for (struct rule *r = rs->lan_buckets[hash_key(addr, plen, rs->nbuckets)]; r; r = r->lan_chain)
		if (r->lan == addr && r->plen == plen)
			return r;
	return NULL;
}

struct rule *ruleset_find_wan(const struct ruleset *rs, uint32_t addr, uint8_t plen)
{
	if (!rs->nbuckets)
		return NULL;
	for (struct rule *r = rs->wan_buckets[hash_key(addr, plen, rs->nbuckets)]; r; r = r->wan_chain)
		if (r->wan == addr && r->plen == plen)
			return r;
	return NULL;
}

static void hash_insert(struct ruleset *rs, struct rule *r)
{
	size_t l = hash_key(r->lan, r->plen, rs->nbuckets), w = hash_key(r->wan, r->plen, rs->nbuckets);
	r->lan_chain = rs->lan_buckets[l];
	rs->lan_buckets[l] = r;
	r->wan_chain = rs->wan_buckets[w];
	rs->wan_buckets[w] = r;
}

static void hash_remove(struct ruleset *rs, struct rule *r)
{
	struct rule **pp = &rs->lan_buckets[hash_key(r->lan, r->plen, rs->nbuckets)];
	while (*pp && *pp != r)
		pp = &(*pp)->lan_chain;
	if (*pp)
		*pp = r->lan_chain;
	pp = &rs->wan_buckets[hash_key(r->wan, r->plen, rs->nbuckets)];
	while (*pp && *pp != r)
		pp = &(*pp)->wan_chain;
	if (*pp)
		*pp = r->wan_chain;
	r->lan_chain = r->wan_chain = NULL;
}

static int grow(struct ruleset *rs)
{
	if (rs->count + 1 <= rs->nbuckets)
		return 0;
	size_t nb = rs->nbuckets ? rs->nbuckets * 4 : 64;
	struct rule **l = calloc(nb, sizeof *l), **w = calloc(nb, sizeof *w);
	if (!l || !w) {
		free(l);
		free(w);
		return -1;
	}
	free(rs->lan_buckets);
	free(rs->wan_buckets);
	rs->lan_buckets = l;
	rs->wan_buckets = w;
	rs->nbuckets = nb;
	for (struct rule *r = rs->head; r; r = r->next)
		hash_insert(rs, r);
	return 0;
}

static int check_free(const struct ruleset *rs, const struct rule *r, const struct rule *except, char *err,
		      size_t errlen)
{
	struct rule *o = ruleset_find_lan(rs, r->lan, r->plen);
	if (o && o != except)
		return fail(err, errlen, "LAN prefix of \"%s\" is already used by \"%s\"", r->text, o->text);
	o = ruleset_find_wan(rs, r->wan, r->plen);
	if (o && o != except)
		return fail(err, errlen, "WAN prefix of \"%s\" is already used by \"%s\"", r->text, o->text);
	return 0;
}

int ruleset_add(struct ruleset *rs, struct rule *r, char *err, size_t errlen)
{
	if (check_free(rs, r, NULL, err, errlen))
		return -1;
	if (grow(rs))
		return fail(err, errlen, "out of memory");
	r->prev = rs->tail;
	r->next = NULL;
	if (rs->tail)
		rs->tail->next = r;
	else
		rs->head = r;
	rs->tail = r;
	rs->count++;
	hash_insert(rs, r);
	return 0;
}

int ruleset_replace(struct ruleset *rs, struct rule *old, struct rule *r, char *err, size_t errlen)
{
	if (check_free(rs, r, old, err, errlen))
		return -1;
	hash_remove(rs, old);
	r->prev = old->prev;
	r->next = old->next;
	if (r->prev)
		r->prev->next = r;
	else
		rs->head = r;
	if (r->next)
		r->next->prev = r;
	else
		rs->tail = r;
	old->prev = old->next = NULL;
	hash_insert(rs, r);
	return 0;
}

void ruleset_unlink(struct ruleset *rs, struct rule *r)
{
	hash_remove(rs, r);
	if (r->prev)
		r->prev->next = r->next;
	else
		rs->head = r->next;
	if (r->next)
		r->next->prev = r->prev;
	else
		rs->tail = r->prev;
	r->prev = r->next = NULL;
	rs->count--;
}
