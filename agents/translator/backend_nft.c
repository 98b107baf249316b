/* nftables backend: one table "ip warplab_xlate", stateless payload rewrites, one nft -f
 * transaction per change (flush the chains + add every rule again: atomic; named counters
 * survive). Fine for a few pages; for many pages or sub-ms switches use the ebpf backend.
 *
 *   chain prerouting (filter, prerouting, priority -300 = raw: before conntrack)
 *     iifname "lo" accept ; notrack ; iifname {LAN…} goto lan_src ; [iifname {WAN…}] goto wan_src
 *   chain lan_src   one rule per page, longest prefix first: match saddr, rewrite, goto lan_dst;
 *                   then: counter dropped_no_src_rule drop
 *   chain lan_dst   same on daddr, each ending "counter translated_from_lan accept";
 *                   then: counter dropped_no_dst_rule drop
 *   chain wan_src / wan_dst   the same with the WAN prefixes and inverse mappings
 * nft recomputes the IPv4 header checksum and, for ip saddr/daddr, the TCP/UDP pseudo-header
 * checksum (skipping UDP checksum 0 and non-first fragments). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent.h"

#define TABLE "warplab_xlate"
#define NFT_MAX_ENUM_BITS 12 /* 4096 addresses per page for step mappings */

static struct agent_cfg *C;

/* ---- growable string ---- */
struct sb {
	char *s;
	size_t len, cap;
	bool oom;
};

static void sb_printf(struct sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(struct sb *b, const char *fmt, ...)
{
	if (b->oom)
		return;
	for (;;) {
		va_list ap;
		va_start(ap, fmt);
		size_t room = b->cap - b->len;
		int n = vsnprintf(b->s ? b->s + b->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = true;
			return;
		}
		if ((size_t)n < room) {
			b->len += (size_t)n;
			return;
		}
		size_t nc = (b->cap ? b->cap * 2 : 4096) + (size_t)n;
		char *ns = realloc(b->s, nc);
		if (!ns) {
			b->oom = true;
			return;
		}
		b->s = ns;
		b->cap = nc;
	}
}

/* ---- running nft ---- */

/* Runs nft ARGS… with `in` on stdin; collects stdout/stderr; returns the exit status. */
static int run_nft(const char *const args[], const char *in, size_t inlen, struct sb *out, struct sb *errout,
		   uint64_t *us)
{
	int pin[2], pout[2], perr[2];
	if (pipe2(pin, O_CLOEXEC) || pipe2(pout, O_CLOEXEC) || pipe2(perr, O_CLOEXEC))
		return -1;
	uint64_t t0 = now_us();
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		dup2(pin[0], 0);
		dup2(pout[1], 1);
		dup2(perr[1], 2);
		char *argv[16];
		int n = 0;
		argv[n++] = (char *)"nft";
		for (int i = 0; args[i] && n < 15; i++)
			argv[n++] = (char *)args[i];
		argv[n] = NULL;
		execvp("nft", argv);
		execv("/usr/sbin/nft", argv); /* PATH without sbin */
		execv("/sbin/nft", argv);
		dprintf(2, "cannot run nft: %s\n", strerror(errno));
		_exit(127);
	}
	close(pin[0]);
	close(pout[1]);
	close(perr[1]);
	size_t off = 0;
	if (!in || !inlen) {
		close(pin[1]);
		pin[1] = -1;
	} else {
		fcntl(pin[1], F_SETFL, O_NONBLOCK);
	}
	int open_out = 2;
	while (open_out > 0 || pin[1] >= 0) {
		struct pollfd p[3] = {{pout[0], POLLIN, 0}, {perr[0], POLLIN, 0}, {pin[1], POLLOUT, 0}};
		if (poll(p, 3, 30000) <= 0)
			break;
		for (int i = 0; i < 2; i++) {
			if (p[i].fd >= 0 && (p[i].revents & (POLLIN | POLLHUP | POLLERR))) {
				char buf[8192];
				ssize_t r = read(p[i].fd, buf, sizeof buf);
				if (r > 0) {
					sb_printf(i == 0 ? out : errout, "%.*s", (int)r, buf);
				} else if (r == 0 || errno != EINTR) {
					close(p[i].fd);
					if (i == 0)
						pout[0] = -1;
					else
						perr[0] = -1;
					open_out--;
				}
			}
		}
		if (pin[1] >= 0 && (p[2].revents & (POLLOUT | POLLERR | POLLHUP))) {
			ssize_t w = write(pin[1], in + off, inlen - off);
			if (w > 0)
				off += (size_t)w;
			if ((w < 0 && errno != EAGAIN && errno != EINTR) || off == inlen) {
				close(pin[1]);
				pin[1] = -1;
			}
		}
	}
	if (pout[0] >= 0)
		close(pout[0]);
	if (perr[0] >= 0)
		close(perr[0]);
	if (pin[1] >= 0)
		close(pin[1]);
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (us)
		*us = now_us() - t0;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void set_nft_error(char *err, size_t errlen, const char *what, struct sb *e)
{
	/* First line of nft's message is enough ("/dev/stdin:12:40-45: Error: …"). */
	const char *m = e->s ? e->s : "";
	size_t l = strcspn(m, "\n");
	snprintf(err, errlen, "%s: %.*s", what, (int)(l > 300 ? 300 : l), m);
}

/* ---- rule generation ---- */

static void ip4(char *out, size_t n, uint32_t a)
{
	snprintf(out, n, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

static void match(struct sb *b, const char *field, uint32_t addr, uint8_t plen)
{
	char a[20];
	ip4(a, sizeof a, addr);
	if (plen == 32)
		sb_printf(b, "ip %s %s", field, a);
	else if (plen > 0)
		sb_printf(b, "ip %s %s/%u", field, a, plen);
	/* /0: no match needed */
}

/* Rewrite of `field` for a packet matched by the page of r on side from_lan. */
static void rewrite(struct sb *b, const char *field, const struct rule *r, bool from_lan)
{
	if (r->kind == RULE_PASS)
		return;
	unsigned bits = rule_bits(r);
	uint32_t from = from_lan ? r->lan : r->wan, to = from_lan ? r->wan : r->lan;
	const struct xlate_step *st = from_lan ? r->fwd : r->inv;
	unsigned n = from_lan ? r->nfwd : r->ninv;
	char a[20], m[20];
	if (n == 0) {
		if (bits == 0) {
			ip4(a, sizeof a, to);
			sb_printf(b, " ip %s set %s", field, a);
		} else if (bits < 32 || to != 0) {
			ip4(a, sizeof a, to);
			ip4(m, sizeof m, (uint32_t)((1ull << bits) - 1));
			sb_printf(b, " ip %s set ip %s & %s | %s", field, field, m, a);
		}
		return;
	}
	sb_printf(b, " ip %s set ip %s map { ", field, field);
	for (uint32_t h = 0; h < (1u << bits); h++) {
		ip4(a, sizeof a, from | h);
		ip4(m, sizeof m, to | steps_apply(st, n, h, bits));
		sb_printf(b, "%s%s : %s", h ? ", " : "", a, m);
	}
	sb_printf(b, " }");
}

static int by_plen_desc(const void *x, const void *y)
{
	const struct rule *a = *(const struct rule *const *)x, *b = *(const struct rule *const *)y;
	return (int)b->plen - (int)a->plen;
}

static int generate(const struct ruleset *rs, struct sb *b, char *err, size_t errlen)
{
	const struct rule **v = calloc(rs->count + 1, sizeof *v);
	if (!v)
		return snprintf(err, errlen, "out of memory"), -1;
	size_t n = 0;
	for (const struct rule *r = rs->head; r; r = r->next) {
		if (r->kind == RULE_MAP && (r->nfwd || r->ninv) && rule_bits(r) > NFT_MAX_ENUM_BITS) {
			snprintf(err, errlen,
				 "\"%s\": a non-contiguous mapping of a page of %llu addresses would need one nft map "
				 "element per address; the nftables backend takes at most %u (/%d): use --backend ebpf",
				 r->text, 1ull << rule_bits(r), 1u << NFT_MAX_ENUM_BITS, 32 - NFT_MAX_ENUM_BITS);
			free(v);
			return -1;
		}
		v[n++] = r;
	}
	qsort(v, n, sizeof *v, by_plen_desc);

	sb_printf(b, "table ip " TABLE " {\n\tcomment \"warplab xlate-agent mark=%s\"\n", C->mark);
	for (int i = 0; i < XC_MAX; i++)
		if (counter_names[i] && i <= XC_DROPPED_NO_DST_RULE)
			sb_printf(b, "\tcounter %s { }\n", counter_names[i]);
	sb_printf(b, "\tchain prerouting { type filter hook prerouting priority -300; policy accept; }\n");
	static const char *const chains[] = {"lan_src", "lan_dst", "wan_src", "wan_dst"};
	for (int i = 0; i < 4; i++)
		sb_printf(b, "\tchain %s { }\n", chains[i]);
	sb_printf(b, "}\nflush chain ip " TABLE " prerouting\n");
	for (int i = 0; i < 4; i++)
		sb_printf(b, "flush chain ip " TABLE " %s\n", chains[i]);

	const char *pre = "add rule ip " TABLE;
	sb_printf(b, "%s prerouting iifname \"lo\" accept\n%s prerouting notrack\n", pre, pre);
	for (int role = ROLE_LAN; role <= ROLE_WAN; role++) {
		int cnt = 0;
		for (int i = 0; i < C->nifs; i++)
			if (C->ifs[i].role == (enum if_role)role)
				cnt++;
		if (role == ROLE_WAN && C->wan_all_others) {
			sb_printf(b, "%s prerouting goto wan_src\n", pre);
			continue;
		}
		if (!cnt)
			continue;
		sb_printf(b, "%s prerouting iifname { ", pre);
		for (int i = 0, k = 0; i < C->nifs; i++)
			if (C->ifs[i].role == (enum if_role)role)
				sb_printf(b, "%s\"%s\"", k++ ? ", " : "", C->ifs[i].name);
		sb_printf(b, " } goto %s\n", role == ROLE_LAN ? "lan_src" : "wan_src");
	}
	for (int side = 0; side < 2; side++) {
		bool from_lan = side == 0;
		const char *s = from_lan ? "lan" : "wan";
		for (size_t i = 0; i < n; i++) {
			const struct rule *r = v[i];
			sb_printf(b, "%s %s_src ", pre, s);
			match(b, "saddr", from_lan ? r->lan : r->wan, r->plen);
			rewrite(b, "saddr", r, from_lan);
			sb_printf(b, " goto %s_dst\n", s);
		}
		sb_printf(b, "%s %s_src counter name \"dropped_no_src_rule\" drop\n", pre, s);
		for (size_t i = 0; i < n; i++) {
			const struct rule *r = v[i];
			sb_printf(b, "%s %s_dst ", pre, s);
			match(b, "daddr", from_lan ? r->lan : r->wan, r->plen);
			rewrite(b, "daddr", r, from_lan);
			sb_printf(b, " counter name \"translated_from_%s\" accept\n", s);
		}
		sb_printf(b, "%s %s_dst counter name \"dropped_no_dst_rule\" drop\n", pre, s);
	}
	free(v);
	if (b->oom)
		return snprintf(err, errlen, "out of memory"), -1;
	return 0;
}

static int nft_install(const struct ruleset *rs, uint64_t *kernel_us, char *err, size_t errlen)
{
	struct sb text = {0}, out = {0}, e = {0};
	if (generate(rs, &text, err, errlen)) {
		free(text.s);
		return -1;
	}
	static const char *const args[] = {"-f", "-", NULL};
	int st = run_nft(args, text.s, text.len, &out, &e, kernel_us);
	if (st != 0) {
		set_nft_error(err, errlen, "nft -f rejected the rule set", &e);
		logmsg("nft failed (exit %d); its input was:\n%s", st, text.s ? text.s : "");
	}
	free(text.s);
	free(out.s);
	free(e.s);
	return st == 0 ? 0 : -1;
}

/* A switch rewrites the whole table in one transaction (rule positions depend on prefix
 * lengths, and a few pages is what this backend is for). */
static int nft_switch(const struct ruleset *rs, const struct rule *old, const struct rule *nw, uint64_t *kernel_us,
		      char *err, size_t errlen)
{
	(void)old;
	(void)nw;
	return nft_install(rs, kernel_us, err, errlen);
}

static int nft_apply(const struct ruleset *old, const struct ruleset *rs, uint64_t *kernel_us, char *err,
		     size_t errlen)
{
	(void)old;
	return nft_install(rs, kernel_us, err, errlen);
}

static int nft_counters(uint64_t out[XC_MAX], char *err, size_t errlen)
{
	static const char *const args[] = {"list", "counters", "table", "ip", TABLE, NULL};
	struct sb o = {0}, e = {0};
	memset(out, 0, sizeof(uint64_t) * XC_MAX);
	int st = run_nft(args, NULL, 0, &o, &e, NULL);
	if (st != 0) {
		set_nft_error(err, errlen, "nft list counters", &e);
		free(o.s);
		free(e.s);
		return -1;
	}
	int cur = -1;
	for (char *save, *l = strtok_r(o.s ? o.s : (char[]){0}, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char name[64];
		unsigned long long p, by;
		if (sscanf(l, " counter %63s {", name) == 1) {
			cur = -1;
			for (int i = 0; i < XC_MAX; i++)
				if (counter_names[i] && !strcmp(counter_names[i], name))
					cur = i;
		} else if (cur >= 0 && sscanf(l, " packets %llu bytes %llu", &p, &by) == 2) {
			out[cur] = p;
		}
	}
	free(o.s);
	free(e.s);
	return 0;
}

/* Is there a table, and is it ours? 1 = ours, 0 = absent, -1 = someone else's. */
static int table_state(const char *mark, struct sb *listing)
{
	static const char *const args[] = {"list", "table", "ip", TABLE, NULL};
	struct sb e = {0};
	int st = run_nft(args, NULL, 0, listing, &e, NULL);
	free(e.s);
	if (st != 0)
		return 0;
	char want[256];
	snprintf(want, sizeof want, "comment \"warplab xlate-agent mark=%s\"", mark);
	return listing->s && strstr(listing->s, want) ? 1 : -1;
}

static int nft_start(struct agent_cfg *cfg, struct ruleset *rs, char *err, size_t errlen)
{
	C = cfg;
	struct sb l = {0};
	int ts = table_state(cfg->mark, &l);
	free(l.s);
	if (ts < 0) {
		snprintf(err, errlen, "table ip " TABLE " exists but is not marked \"%s\": not touching it", cfg->mark);
		return -1;
	}
	/* Re-installing the persisted rules is harmless when they are already there (one
	 * transaction, counters kept) and repairs a table left behind by an agent that died mid-change. */
	uint64_t us;
	if (nft_install(rs, &us, err, errlen))
		return -1;
	logmsg("%s table ip " TABLE " with %zu pages (%llu us)", ts ? "re-installed" : "created", rs->count,
	       (unsigned long long)us);
	return 0;
}

static int nft_cleanup(struct agent_cfg *cfg, char *err, size_t errlen)
{
	C = cfg;
	struct sb l = {0}, o = {0}, e = {0};
	int ts = table_state(cfg->mark, &l);
	free(l.s);
	if (ts == 0) {
		logmsg("cleanup: no table ip " TABLE);
		return 0;
	}
	if (ts < 0) {
		snprintf(err, errlen, "table ip " TABLE " is not marked \"%s\": not deleting it", cfg->mark);
		return -1;
	}
	static const char *const args[] = {"delete", "table", "ip", TABLE, NULL};
	int st = run_nft(args, NULL, 0, &o, &e, NULL);
	if (st)
		set_nft_error(err, errlen, "nft delete table", &e);
	else
		logmsg("cleanup: deleted table ip " TABLE);
	free(o.s);
	free(e.s);
	return st ? -1 : 0;
}

const struct backend backend_nft = {
	.name = "nftables",
	.start = nft_start,
	.apply = nft_apply,
	.switch_page = nft_switch,
	.counters = nft_counters,
	.cleanup = nft_cleanup,
};
