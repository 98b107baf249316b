/* xlate-agent: the resident translator controller of an edge router (network paging,
 * ICN 2011 §III-IV). Runs in the router's network namespace, owns the kernel data plane
 * (ebpf: TC programs + LPM tries; nftables: one table) and takes orders on a Unix socket.
 *
 *   xlate-agent --socket PATH --state DIR --backend ebpf|nftables --mark MARK
 *               --lan-if IF [--lan-if IF…] [--wan-if IF…] [--bpf-object PATH]
 *   xlate-agent --cleanup --state DIR [--backend …] [--mark MARK]
 *
 * Protocol (one request per line, one JSON line per response; see README.md):
 *   apply / <rule lines> / end     replace the whole rule set atomically
 *   switch <lan-cidr> <rule-rest>  replace or add one page
 *   remove <lan-cidr>              delete one page
 *   counters | rules | health
 *
 * The kernel keeps translating when the agent dies; a restarted agent picks up the pinned
 * maps / the nft table and the rules persisted in DIR. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "agent.h"

const char *const counter_names[XC_MAX] = {
	[XC_TRANSLATED_FROM_LAN] = "translated_from_lan", [XC_TRANSLATED_FROM_WAN] = "translated_from_wan",
	[XC_DROPPED_NO_SRC_RULE] = "dropped_no_src_rule", [XC_DROPPED_NO_DST_RULE] = "dropped_no_dst_rule",
	[XC_DROPPED_MALFORMED] = "dropped_malformed",     [XC_PASSED_NON_IPV4] = "passed_non_ipv4",
};

#define MAX_CLIENTS 64
#define MAX_LINE (1 << 20)

static volatile sig_atomic_t stop_requested;
static char since[40];

/* ---------------------------------------------------------------- utilities */

static void iso_now(char *out, size_t n)
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	size_t l = strftime(out, n, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + l, n - l, ".%03ldZ", ts.tv_nsec / 1000000);
}

void logmsg(const char *fmt, ...)
{
	char buf[8192], t[40];
	iso_now(t, sizeof t);
	int n = snprintf(buf, sizeof buf, "%s " AGENT_NAME "[%d]: ", t, (int)getpid());
	va_list ap;
	va_start(ap, fmt);
	int m = vsnprintf(buf + n, sizeof buf - (size_t)n - 1, fmt, ap);
	va_end(ap);
	size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
	if (len > sizeof buf - 2)
		len = sizeof buf - 2;
	buf[len++] = '\n';
	ssize_t w = write(2, buf, len);
	(void)w;
}

uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int libbpf_quiet;

static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG || libbpf_quiet > 0)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* JSON string body (no quotes) into a growable buffer. */
struct out {
	char *s;
	size_t len, cap;
};

static void out_raw(struct out *o, const char *p, size_t n)
{
	if (o->len + n + 1 > o->cap) {
		size_t nc = (o->cap ? o->cap * 2 : 1024) + n;
		char *ns = realloc(o->s, nc);
		if (!ns)
			return;
		o->s = ns;
		o->cap = nc;
	}
	memcpy(o->s + o->len, p, n);
	o->len += n;
	o->s[o->len] = 0;
}

static void out_f(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out_f(struct out *o, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n > 0)
		out_raw(o, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

static void out_json_str(struct out *o, const char *s)
{
	out_raw(o, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			char e[2] = {'\\', (char)c};
			out_raw(o, e, 2);
		} else if (c < 0x20) {
			char e[8];
			snprintf(e, sizeof e, "\\u%04x", c);
			out_raw(o, e, 6);
		} else {
			out_raw(o, (const char *)&c, 1);
		}
	}
	out_raw(o, "\"", 1);
}

static void out_error(struct out *o, const char *msg)
{
	out_f(o, "{\"ok\":false,\"error\":");
	out_json_str(o, msg);
	out_f(o, "}");
}

/* ---------------------------------------------------------------- agent state */

static struct agent_cfg cfg;
static const struct backend *B;
static struct ruleset rules;

static const struct backend *backend_by_name(const char *n)
{
	if (!strcmp(n, "ebpf"))
		return &backend_ebpf;
	if (!strcmp(n, "nftables") || !strcmp(n, "nft"))
		return &backend_nft;
	return NULL;
}

static unsigned long long netns_inode(void)
{
	struct stat st;
	return stat("/proc/self/ns/net", &st) == 0 ? (unsigned long long)st.st_ino : 0;
}

/* DIR/agent.state: what --cleanup needs (and what a restarted agent keeps: created_qdisc). */
static int write_agent_state(const char *socket_path, char *err, size_t errlen)
{
	struct out o = {0};
	out_f(&o, "backend=%s\nmark=%s\nnetns=%llu\npid=%d\n", B->name, cfg.mark, netns_inode(), (int)getpid());
	out_f(&o, "socket=%s\nwan_all_others=%d\n", socket_path ? socket_path : "", cfg.wan_all_others);
	for (int i = 0; i < cfg.nifs; i++)
		out_f(&o, "if=%s %d %s %d\n", cfg.ifs[i].name, cfg.ifs[i].ifindex,
		      cfg.ifs[i].role == ROLE_LAN ? "lan" : "wan", cfg.ifs[i].created_qdisc);
	char path[4200];
	snprintf(path, sizeof path, "%s/agent.state", cfg.state_dir);
	int rc = write_file_atomic(path, o.s ? o.s : "", o.len, err, errlen);
	free(o.s);
	return rc;
}

struct prev_state {
	char backend[32], mark[256], socket[4096];
	unsigned long long netns;
	int pid;
	bool wan_all_others;
	struct iface ifs[MAX_IFS];
	int nifs;
	bool present;
};

static void read_agent_state(const char *dir, struct prev_state *ps)
{
	char path[4200], line[4200];
	memset(ps, 0, sizeof *ps);
	snprintf(path, sizeof path, "%s/agent.state", dir);
	FILE *f = fopen(path, "re");
	if (!f)
		return;
	ps->present = true;
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = 0;
		char *eq = strchr(line, '=');
		if (!eq)
			continue;
		*eq = 0;
		const char *k = line, *v = eq + 1;
		if (!strcmp(k, "backend"))
			snprintf(ps->backend, sizeof ps->backend, "%s", v);
		else if (!strcmp(k, "mark"))
			snprintf(ps->mark, sizeof ps->mark, "%s", v);
		else if (!strcmp(k, "socket"))
			snprintf(ps->socket, sizeof ps->socket, "%s", v);
		else if (!strcmp(k, "netns"))
			ps->netns = strtoull(v, NULL, 10);
		else if (!strcmp(k, "pid"))
			ps->pid = atoi(v);
		else if (!strcmp(k, "wan_all_others"))
			ps->wan_all_others = atoi(v) != 0;
		else if (!strcmp(k, "if") && ps->nifs < MAX_IFS) {
			struct iface *ifc = &ps->ifs[ps->nifs];
			char role[8];
			int created = 0;
			if (sscanf(v, "%31s %d %7s %d", ifc->name, &ifc->ifindex, role, &created) == 4) {
				ifc->role = !strcmp(role, "lan") ? ROLE_LAN : ROLE_WAN;
				ifc->created_qdisc = created != 0;
				ps->nifs++;
			}
		}
	}
	fclose(f);
}

/* ---------------------------------------------------------------- commands */

struct client {
	int fd;
	char *buf;
	size_t len, cap;
	bool in_apply;
	struct ruleset pending; /* rules collected by apply */
	char apply_err[ERRLEN + 64];
	int apply_line;
};

static void do_apply_end(struct client *c, struct out *o)
{
	char err[ERRLEN];
	uint64_t us = 0;
	c->in_apply = false;
	if (c->apply_err[0]) {
		out_error(o, c->apply_err);
		logmsg("apply rejected: %s", c->apply_err);
		ruleset_free(&c->pending);
		return;
	}
	if (B->apply(&rules, &c->pending, &us, err, sizeof err)) {
		out_error(o, err);
		logmsg("apply failed: %s", err);
		ruleset_free(&c->pending);
		return;
	}
	ruleset_free(&rules);
	rules = c->pending;
	ruleset_init(&c->pending);
	if (store_write_base(cfg.state_dir, &rules, err, sizeof err)) {
		char msg[ERRLEN + 64];
		snprintf(msg, sizeof msg, "applied in the kernel but not persisted: %s", err);
		out_error(o, msg);
		logmsg("%s", msg);
		return;
	}
	out_f(o, "{\"ok\":true,\"kernel_us\":%llu,\"pages\":%zu}", (unsigned long long)us, rules.count);
	logmsg("apply: %zu pages, kernel %llu us", rules.count, (unsigned long long)us);
}

static void apply_line(struct client *c, const char *line)
{
	c->apply_line++;
	if (c->apply_err[0] || !*line || *line == '#')
		return;
	char err[ERRLEN];
	struct rule *r = rule_parse(line, err, sizeof err);
	if (!r || ruleset_add(&c->pending, r, err, sizeof err)) {
		snprintf(c->apply_err, sizeof c->apply_err, "rule line %d: %s", c->apply_line, err);
		rule_free(r);
	}
}

static void do_switch(const char *args, bool remove, struct out *o)
{
	char err[ERRLEN], cidr[64], line[2300];
	size_t n = strcspn(args, " \t");
	if (n == 0 || n >= sizeof cidr) {
		out_error(o, remove ? "usage: remove <lan-cidr>" : "usage: switch <lan-cidr> pass | wan <wan-cidr> contiguous|steps …");
		return;
	}
	memcpy(cidr, args, n);
	cidr[n] = 0;
	uint32_t addr;
	uint8_t plen;
	if (parse_cidr(cidr, &addr, &plen, err, sizeof err)) {
		out_error(o, err);
		return;
	}
	struct rule *old = ruleset_find_lan(&rules, addr, plen), *nw = NULL;
	uint64_t us = 0;
	if (remove) {
		if (!old) {
			snprintf(err, sizeof err, "no page with LAN prefix %s", cidr);
			out_error(o, err);
			return;
		}
		ruleset_unlink(&rules, old);
		if (B->switch_page(&rules, old, NULL, &us, err, sizeof err)) {
			char e2[ERRLEN];
			ruleset_add(&rules, old, e2, sizeof e2);
			out_error(o, err);
			logmsg("remove %s failed: %s", cidr, err);
			return;
		}
		snprintf(line, sizeof line, "remove %s", old->text + 5);
		line[7 + strcspn(line + 7, " ")] = 0;
	} else {
		snprintf(line, sizeof line, "page %s", args);
		nw = rule_parse(line, err, sizeof err);
		if (!nw) {
			out_error(o, err);
			return;
		}
		int rc = old ? ruleset_replace(&rules, old, nw, err, sizeof err) : ruleset_add(&rules, nw, err, sizeof err);
		if (rc) {
			rule_free(nw);
			out_error(o, err);
			return;
		}
		if (B->switch_page(&rules, old, nw, &us, err, sizeof err)) {
			char e2[ERRLEN];
			if (old)
				ruleset_replace(&rules, nw, old, e2, sizeof e2);
			else
				ruleset_unlink(&rules, nw);
			rule_free(nw);
			out_error(o, err);
			logmsg("switch %s failed: %s", cidr, err);
			return;
		}
		snprintf(line, sizeof line, "switch %s", nw->text + 5);
	}
	char perr[ERRLEN];
	int prc = store_journal(cfg.state_dir, &rules, line, perr, sizeof perr);
	logmsg("%s: %s -> %s, kernel %llu us", remove ? "remove" : "switch", old ? old->text : "(new page)",
	       nw ? nw->text : "(removed)", (unsigned long long)us);
	rule_free(old);
	if (prc) {
		char msg[ERRLEN + 64];
		snprintf(msg, sizeof msg, "changed in the kernel but not persisted: %s", perr);
		out_error(o, msg);
		logmsg("%s", msg);
		return;
	}
	out_f(o, "{\"ok\":true,\"kernel_us\":%llu}", (unsigned long long)us);
}

static void do_counters(struct out *o)
{
	uint64_t v[XC_MAX];
	char err[ERRLEN];
	if (B->counters(v, err, sizeof err)) {
		out_error(o, err);
		return;
	}
	out_f(o, "{\"ok\":true");
	int last = B == &backend_ebpf ? XC_PASSED_NON_IPV4 : XC_DROPPED_NO_DST_RULE;
	for (int i = 0; i <= last; i++)
		out_f(o, ",\"%s\":%llu", counter_names[i], (unsigned long long)v[i]);
	out_f(o, "}");
}

static void do_rules(struct out *o)
{
	out_f(o, "{\"ok\":true,\"rules\":[");
	for (const struct rule *r = rules.head; r; r = r->next) {
		if (r != rules.head)
			out_raw(o, ",", 1);
		out_json_str(o, r->text);
	}
	out_f(o, "]}");
}

static void do_health(struct out *o)
{
	out_f(o, "{\"ok\":true,\"backend\":\"%s\",\"pid\":%d,\"pages\":%zu,\"since\":\"%s\",\"mark\":", B->name,
	      (int)getpid(), rules.count, since);
	out_json_str(o, cfg.mark);
	out_f(o, ",\"interfaces\":[");
	for (int i = 0; i < cfg.nifs; i++)
		out_f(o, "%s{\"name\":\"%s\",\"role\":\"%s\"}", i ? "," : "", cfg.ifs[i].name,
		      cfg.ifs[i].role == ROLE_LAN ? "lan" : "wan");
	out_f(o, "]}");
}

/* One line from a client; appends the response (if any) to o. */
static void handle_line(struct client *c, char *line, struct out *o)
{
	size_t l = strlen(line);
	while (l && (line[l - 1] == '\r' || line[l - 1] == ' ' || line[l - 1] == '\t'))
		line[--l] = 0;
	while (*line == ' ' || *line == '\t')
		line++;
	if (c->in_apply) {
		if (!strcmp(line, "end"))
			do_apply_end(c, o);
		else
			apply_line(c, line);
		goto done;
	}
	size_t cl = strcspn(line, " \t");
	char *args = line + cl + strspn(line + cl, " \t");
	if (!*line)
		goto done;
	if (cl == 5 && !strncmp(line, "apply", 5) && !*args) {
		c->in_apply = true;
		c->apply_err[0] = 0;
		c->apply_line = 0;
		ruleset_free(&c->pending);
	} else if (cl == 6 && !strncmp(line, "switch", 6)) {
		do_switch(args, false, o);
	} else if (cl == 6 && !strncmp(line, "remove", 6)) {
		do_switch(args, true, o);
	} else if (!strcmp(line, "counters")) {
		do_counters(o);
	} else if (!strcmp(line, "rules")) {
		do_rules(o);
	} else if (!strcmp(line, "health")) {
		do_health(o);
	} else {
		char e[300];
		snprintf(e, sizeof e, "unknown request \"%.*s\" (apply, switch, remove, counters, rules, health)",
			 (int)(cl > 40 ? 40 : cl), line);
		out_error(o, e);
	}
done:
	if (o->len && o->s[o->len - 1] != '\n')
		out_raw(o, "\n", 1);
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w > 0) {
			p += w;
			n -= (size_t)w;
		} else if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
			struct pollfd pf = {fd, POLLOUT, 0};
			if (poll(&pf, 1, 5000) <= 0)
				return -1; /* the client does not read: give up on it */
		} else {
			return -1;
		}
	}
	return 0;
}

/* Reads what is there; returns -1 when the client is gone. */
static int client_read(struct client *c)
{
	for (;;) {
		if (c->cap - c->len < 65536) {
			size_t nc = c->cap ? c->cap * 2 : 131072;
			char *nb = realloc(c->buf, nc);
			if (!nb)
				return -1;
			c->buf = nb;
			c->cap = nc;
		}
		ssize_t r = read(c->fd, c->buf + c->len, c->cap - c->len - 1);
		if (r == 0)
			return -1;
		if (r < 0)
			return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
		size_t start = c->len;
		c->len += (size_t)r;
		struct out o = {0};
		size_t consumed = 0;
		for (char *nl; (nl = memchr(c->buf + (start > consumed ? start : consumed), '\n',
					    c->len - (start > consumed ? start : consumed)));) {
			*nl = 0;
			handle_line(c, c->buf + consumed, &o);
			consumed = (size_t)(nl - c->buf) + 1;
		}
		if (consumed) {
			memmove(c->buf, c->buf + consumed, c->len - consumed);
			c->len -= consumed;
		}
		if (o.len && write_all(c->fd, o.s, o.len)) {
			free(o.s);
			return -1;
		}
		free(o.s);
		if (c->len > MAX_LINE) {
			const char *e = "{\"ok\":false,\"error\":\"line too long\"}\n";
			write_all(c->fd, e, strlen(e));
			return -1;
		}
	}
}

/* ---------------------------------------------------------------- setup */

static int listen_socket(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof sa.sun_path) {
		logmsg("socket path too long (max %zu bytes): %s", sizeof sa.sun_path - 1, path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	/* A live agent on this path? Then refuse; a stale socket file: remove it. */
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0) {
		logmsg("another agent answers on %s", path);
		close(fd);
		return -1;
	}
	close(fd);
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	mode_t old = umask(0177);
	int rc = bind(fd, (struct sockaddr *)&sa, sizeof sa);
	umask(old);
	if (rc || chmod(path, 0600) || listen(fd, 16)) {
		logmsg("cannot listen on %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int add_iface(const char *name, enum if_role role)
{
	for (int i = 0; i < cfg.nifs; i++)
		if (!strcmp(cfg.ifs[i].name, name)) {
			logmsg("interface %s given twice", name);
			return -1;
		}
	if (cfg.nifs == MAX_IFS || strlen(name) >= sizeof cfg.ifs[0].name) {
		logmsg("too many interfaces or name too long: %s", name);
		return -1;
	}
	struct iface *ifc = &cfg.ifs[cfg.nifs];
	snprintf(ifc->name, sizeof ifc->name, "%s", name);
	ifc->role = role;
	ifc->ifindex = (int)if_nametoindex(name);
	if (!ifc->ifindex) {
		logmsg("no interface %s in this network namespace", name);
		return -1;
	}
	cfg.nifs++;
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: " AGENT_NAME " --socket PATH --state DIR --backend ebpf|nftables --mark MARK\n"
		   "                   --lan-if IF [--lan-if IF…] [--wan-if IF…] [--bpf-object PATH]\n"
		   "       " AGENT_NAME " --cleanup --state DIR [--backend ebpf|nftables] [--mark MARK]\n"
		   "Interfaces not given as LAN are WAN; without --wan-if every other non-lo interface\n"
		   "present at start is WAN. Requests on the socket: apply…end, switch, remove, counters,\n"
		   "rules, health (one per line; one JSON line back).\n");
}

static int lock_state(void)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/agent.lock", cfg.state_dir);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB)) {
		logmsg("another agent holds %s", path);
		return -1;
	}
	return fd;
}

static bool is_our_agent(int pid, const char *state_dir)
{
	char path[64], buf[8192];
	snprintf(path, sizeof path, "/proc/%d/cmdline", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = 0;
	bool name = strstr(buf, AGENT_NAME) != NULL, state = false, cleanup = false;
	for (char *p = buf; p < buf + n; p += strlen(p) + 1) {
		if (!strcmp(p, "--state") && p + strlen(p) + 1 < buf + n && !strcmp(p + strlen(p) + 1, state_dir))
			state = true;
		if (!strcmp(p, "--cleanup"))
			cleanup = true;
	}
	return name && state && !cleanup;
}

static int do_cleanup(const char *backend_name, const char *mark)
{
	struct prev_state ps;
	read_agent_state(cfg.state_dir, &ps);
	if (!backend_name)
		backend_name = ps.present ? ps.backend : NULL;
	if (!backend_name) {
		logmsg("cleanup: no %s/agent.state and no --backend: nothing known to clean", cfg.state_dir);
		return 0;
	}
	B = backend_by_name(backend_name);
	if (!B) {
		logmsg("unknown backend %s", backend_name);
		return 2;
	}
	cfg.mark = mark ? mark : ps.mark;
	memcpy(cfg.ifs, ps.ifs, sizeof cfg.ifs);
	cfg.nifs = ps.nifs;
	cfg.wan_all_others = ps.wan_all_others;
	if (ps.pid > 0 && ps.pid != getpid() && is_our_agent(ps.pid, cfg.state_dir)) {
		logmsg("cleanup: stopping the agent (pid %d)", ps.pid);
		kill(ps.pid, SIGTERM);
		for (int i = 0; i < 200 && kill(ps.pid, 0) == 0 && is_our_agent(ps.pid, cfg.state_dir); i++)
			usleep(10000);
	}
	bool same_ns = !ps.present || ps.netns == netns_inode();
	int rc = 0;
	char err[ERRLEN];
	if (!same_ns) {
		logmsg("cleanup: not in the agent's network namespace (recorded netns %llu, here %llu): leaving "
		       "tc/nft alone (deleting the namespace removes them)",
		       ps.netns, netns_inode());
		cfg.nifs = 0;
	}
	if ((same_ns || B == &backend_ebpf) && B->cleanup(&cfg, err, sizeof err)) {
		logmsg("cleanup: %s", err);
		rc = 1;
	}
	char path[4200];
	if (ps.socket[0]) {
		struct stat st;
		if (lstat(ps.socket, &st) == 0 && S_ISSOCK(st.st_mode))
			unlink(ps.socket);
	}
	static const char *const files[] = {"rules", "rules.journal", "agent.state", "agent.lock"};
	for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
		snprintf(path, sizeof path, "%s/%s", cfg.state_dir, files[i]);
		unlink(path);
	}
	if (rmdir(cfg.state_dir) == 0)
		logmsg("cleanup: removed %s", cfg.state_dir);
	else if (errno != ENOENT)
		logmsg("cleanup: left %s (%s)", cfg.state_dir, strerror(errno));
	return rc;
}

int main(int argc, char **argv)
{
	const char *socket_path = NULL, *backend_name = NULL, *mark = NULL;
	const char *lan_ifs[MAX_IFS], *wan_ifs[MAX_IFS];
	int nlan = 0, nwan = 0;
	bool cleanup = false;
	static const struct option opts[] = {
		{"socket", required_argument, 0, 's'},  {"state", required_argument, 0, 'd'},
		{"backend", required_argument, 0, 'b'}, {"mark", required_argument, 0, 'm'},
		{"lan-if", required_argument, 0, 'l'},  {"wan-if", required_argument, 0, 'w'},
		{"bpf-object", required_argument, 0, 'o'}, {"cleanup", no_argument, 0, 'C'},
		{"help", no_argument, 0, 'h'},          {0, 0, 0, 0},
	};
	for (int o; (o = getopt_long(argc, argv, "s:d:b:m:l:w:o:Ch", opts, NULL)) != -1;) {
		switch (o) {
		case 's': socket_path = optarg; break;
		case 'd': cfg.state_dir = optarg; break;
		case 'b': backend_name = optarg; break;
		case 'm': mark = optarg; break;
		case 'l':
			if (nlan < MAX_IFS)
				lan_ifs[nlan++] = optarg;
			break;
		case 'w':
			if (nwan < MAX_IFS)
				wan_ifs[nwan++] = optarg;
			break;
		case 'o': cfg.bpf_object = optarg; break;
		case 'C': cleanup = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc || !cfg.state_dir) {
		usage(stderr);
		return 2;
	}
	libbpf_set_print(libbpf_log);
	signal(SIGPIPE, SIG_IGN);
	if (cleanup)
		return do_cleanup(backend_name, mark);

	if (!socket_path || !backend_name || !mark || !nlan) {
		usage(stderr);
		return 2;
	}
	if (strchr(mark, '"') || strchr(mark, '\n') || strlen(mark) > 200) {
		logmsg("--mark must not contain quotes or newlines (max 200 bytes)");
		return 2;
	}
	cfg.mark = mark;
	B = backend_by_name(backend_name);
	if (!B) {
		logmsg("unknown backend \"%s\" (ebpf or nftables)", backend_name);
		return 2;
	}
	for (int i = 0; i < nlan; i++)
		if (add_iface(lan_ifs[i], ROLE_LAN))
			return 2;
	for (int i = 0; i < nwan; i++)
		if (add_iface(wan_ifs[i], ROLE_WAN))
			return 2;
	if (!nwan) {
		cfg.wan_all_others = true;
		struct if_nameindex *ni = if_nameindex();
		for (struct if_nameindex *p = ni; p && p->if_index; p++) {
			bool known = !strcmp(p->if_name, "lo");
			for (int i = 0; i < cfg.nifs; i++)
				known |= !strcmp(cfg.ifs[i].name, p->if_name);
			if (!known && add_iface(p->if_name, ROLE_WAN))
				return 2;
		}
		if_freenameindex(ni);
	}

	if (mkdir(cfg.state_dir, 0700) && errno != EEXIST) {
		logmsg("cannot create %s: %s", cfg.state_dir, strerror(errno));
		return 1;
	}
	if (lock_state() < 0)
		return 1;
	struct prev_state ps;
	read_agent_state(cfg.state_dir, &ps);
	if (ps.present && strcmp(ps.backend, B->name)) {
		logmsg("%s holds %s state: run " AGENT_NAME " --cleanup --state %s first", cfg.state_dir, ps.backend,
		       cfg.state_dir);
		return 1;
	}
	for (int i = 0; i < cfg.nifs; i++) /* keep "we created clsact" across restarts */
		for (int j = 0; j < ps.nifs; j++)
			if (!strcmp(ps.ifs[j].name, cfg.ifs[i].name) && ps.ifs[j].ifindex == cfg.ifs[i].ifindex &&
			    ps.netns == netns_inode())
				cfg.ifs[i].created_qdisc = ps.ifs[j].created_qdisc;

	char err[ERRLEN];
	iso_now(since, sizeof since);
	ruleset_init(&rules);
	if (store_load(cfg.state_dir, &rules, err, sizeof err)) {
		logmsg("cannot load persisted rules: %s", err);
		return 1;
	}
	if (write_agent_state(socket_path, err, sizeof err)) { /* early, so --cleanup works if start fails */
		logmsg("%s", err);
		return 1;
	}
	if (B->start(&cfg, &rules, err, sizeof err)) {
		logmsg("%s backend: %s", B->name, err);
		write_agent_state(socket_path, err, sizeof err);
		return 1;
	}
	if (write_agent_state(socket_path, err, sizeof err)) {
		logmsg("%s", err);
		return 1;
	}
	int lfd = listen_socket(socket_path);
	if (lfd < 0)
		return 1;

	struct sigaction sa = {.sa_handler = on_stop};
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	logmsg("ready: backend %s, %zu pages, %d interfaces, socket %s, state %s", B->name, rules.count, cfg.nifs,
	       socket_path, cfg.state_dir);

	struct client clients[MAX_CLIENTS];
	int nc = 0;
	uint64_t last_request_us = now_us();
	while (!stop_requested) {
		struct pollfd pf[MAX_CLIENTS + 1];
		pf[0] = (struct pollfd){lfd, POLLIN, 0};
		for (int i = 0; i < nc; i++)
			pf[i + 1] = (struct pollfd){clients[i].fd, POLLIN, 0};
		bool idle_work = B->idle_pending && B->idle_pending();
		int timeout = -1;
		if (idle_work) {
			uint64_t quiet_ms = (now_us() - last_request_us) / 1000;
			timeout = quiet_ms >= IDLE_MS ? 0 : IDLE_MS - (int)quiet_ms;
		}
		int n = poll(pf, (nfds_t)nc + 1, timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			logmsg("poll: %s", strerror(errno));
			break;
		}
		if (n == 0 && idle_work) {
			B->idle();
			continue;
		}
		for (int i = nc - 1; i >= 0; i--) {
			if (!pf[i + 1].revents)
				continue;
			last_request_us = now_us();
			if (client_read(&clients[i]) < 0) {
				close(clients[i].fd);
				free(clients[i].buf);
				ruleset_free(&clients[i].pending);
				clients[i] = clients[--nc];
			}
		}
		if (pf[0].revents & POLLIN) {
			int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
			if (fd >= 0 && nc == MAX_CLIENTS) {
				const char *e = "{\"ok\":false,\"error\":\"too many connections\"}\n";
				write_all(fd, e, strlen(e));
				close(fd);
			} else if (fd >= 0) {
				memset(&clients[nc], 0, sizeof clients[nc]);
				clients[nc].fd = fd;
				ruleset_init(&clients[nc].pending);
				nc++;
			}
		}
	}
	logmsg("stopping (signal); the kernel keeps translating with %zu pages", rules.count);
	unlink(socket_path);
	return 0;
}
