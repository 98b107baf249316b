/* wl-watch: the "RARP capture and configuration tool" (ICOIN 2011 §V).
 *
 * Runs in the destination hypervisor's network namespace. When the migrated VM resumes, QEMU
 * announces it with RARP frames carrying its MAC (a restored container or the guest sends a
 * gratuitous ARP instead). wl-watch catches the FIRST such announcement and at once sends one
 * request line to each translator agent (--switch SOCKET LINE, the agents' unix-socket line
 * protocol), then exits: one shot.
 *
 * Fast path: an AF_PACKET socket on the interface with a classic BPF filter (only ARP and RARP
 * frames wake us, truncated to 96 bytes), kernel receive timestamps (SO_TIMESTAMPNS). The agent
 * connections are made at start and held open (the agent serves any number of requests per
 * connection), so the trigger path is recvmsg, compare, one send() per agent, then the answers
 * are collected together (pipelined across agents). The announce event is written after the
 * requests are on their way, so writing the log never delays a switch.
 *
 * Output: one JSON object per line on stdout (one write(2) each), see README.md. Clocks:
 * every *_ns field is CLOCK_REALTIME nanoseconds since the epoch, *_after_ns / rtt_ns are
 * differences. Exit: 0 done (or stopped by SIGTERM/SIGINT), 1 usage/setup/runtime error,
 * 2 --timeout-s expired, 3 a switch failed. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MAX_SWITCHES 32
#define REPLY_MAX 4096
#define LINE_MAX_LEN 2048
#define SNAPLEN 96
#define RECONNECT_MS 500

#define ETH_P_RARP_ 0x8035
#define ETH_P_ARP_ 0x0806

enum kind { K_RARP = 1, K_GARP = 2, K_ARP = 4 };
enum state { S_IDLE, S_WAIT, S_DONE, S_FAILED };

struct sw {
	const char *path, *line;
	char req[LINE_MAX_LEN + 2];
	size_t req_len;
	struct sockaddr_un sa;
	int fd;
	bool down;  /* a held connection could not be made or was lost (reported once) */
	bool retried;
	enum state st;
	int64_t sent_ns, done_ns;
	char reply[REPLY_MAX];
	size_t rlen;
	char err[300];
};

static const char *prog = "wl-watch";
static struct sw sws[MAX_SWITCHES];
static int nsw;
static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static int64_t clock_ns(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---------------------------------------------------------------- JSON lines on stdout */

struct out {
	char s[REPLY_MAX + 3 * LINE_MAX_LEN + 1024];
	size_t n;
};

static void o_raw(struct out *o, const char *p, size_t n)
{
	if (n > sizeof o->s - 2 - o->n)
		n = sizeof o->s - 2 - o->n;
	memcpy(o->s + o->n, p, n);
	o->n += n;
}

__attribute__((format(printf, 2, 3))) static void o_f(struct out *o, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(o->s + o->n, sizeof o->s - 2 - o->n, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->n += (size_t)n < sizeof o->s - 2 - o->n ? (size_t)n : sizeof o->s - 2 - o->n - 1;
}

static void o_str(struct out *o, const char *s)
{
	o_raw(o, "\"", 1);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\') {
			char e[2] = {'\\', (char)*p};
			o_raw(o, e, 2);
		} else if (*p < 0x20) {
			o_f(o, "\\u%04x", *p);
		} else {
			o_raw(o, (const char *)p, 1);
		}
	}
	o_raw(o, "\"", 1);
}

/* Ends the line and writes it with one write(2): a reader never sees half an event. */
static void o_emit(struct out *o)
{
	o->s[o->n++] = '}';
	o->s[o->n++] = '\n';
	for (size_t off = 0; off < o->n;) {
		ssize_t w = write(STDOUT_FILENO, o->s + off, o->n - off);
		if (w > 0)
			off += (size_t)w;
		else if (w < 0 && errno == EINTR)
			continue;
		else
			break; /* stdout gone: nothing better to do than go on */
	}
	o->n = 0;
}

static void o_event(struct out *o, const char *name)
{
	o->n = 0;
	o_f(o, "{\"event\":\"%s\"", name);
}

static void emit_simple(const char *name)
{
	struct out o;
	o_event(&o, name);
	o_emit(&o);
}

static void emit_socket_state(const struct sw *s, const char *event, const char *err)
{
	struct out o;
	o_event(&o, event);
	o_raw(&o, ",\"socket\":", 10);
	o_str(&o, s->path);
	if (err) {
		o_raw(&o, ",\"error\":", 9);
		o_str(&o, err);
	}
	o_emit(&o);
}

__attribute__((format(printf, 1, 2))) static void emit_error(const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	struct out o;
	o_event(&o, "error");
	o_raw(&o, ",\"error\":", 9);
	o_str(&o, msg);
	o_emit(&o);
	fprintf(stderr, "%s: %s\n", prog, msg);
}

/* ---------------------------------------------------------------- agent connections */

/* A connected unix stream socket, or -1 with the reason in err. */
static int sw_connect(struct sw *s, char *err, size_t errlen)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&s->sa, sizeof s->sa) < 0) {
		snprintf(err, errlen, "connect: %s", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static void sw_close(struct sw *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

/* While waiting: (re)connect a connection that is not held; reports down/up changes. */
static void sw_hold(struct sw *s)
{
	char err[256];
	s->fd = sw_connect(s, err, sizeof err);
	if (s->fd < 0 && !s->down) {
		s->down = true;
		emit_socket_state(s, "socket-down", err);
	} else if (s->fd >= 0 && s->down) {
		s->down = false;
		emit_socket_state(s, "socket-up", NULL);
	}
}

/* While waiting, a held connection became readable: the agent closed it (restart, too many
 * connections) or sent something nobody asked for. Either way it is not usable any more. */
static void sw_lost(struct sw *s)
{
	char buf[256], err[300];
	ssize_t r = recv(s->fd, buf, sizeof buf - 1, MSG_DONTWAIT);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r > 0) {
		buf[r] = 0;
		buf[strcspn(buf, "\r\n")] = 0;
		snprintf(err, sizeof err, "agent sent an unrequested line: %s", buf);
	} else {
		snprintf(err, sizeof err, "agent closed the connection%s%s", r < 0 ? ": " : "", r < 0 ? strerror(errno) : "");
	}
	sw_close(s);
	s->down = true;
	emit_socket_state(s, "socket-down", err);
}

/* Trigger path: send the request (connecting first if no connection is held). */
static void sw_send(struct sw *s)
{
	bool fresh = false;
	if (s->fd < 0) {
		s->fd = sw_connect(s, s->err, sizeof s->err);
		if (s->fd < 0) {
			s->st = S_FAILED;
			return;
		}
		fresh = true;
	}
	for (;;) {
		s->sent_ns = clock_ns(CLOCK_REALTIME);
		ssize_t w = send(s->fd, s->req, s->req_len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w == (ssize_t)s->req_len) {
			s->st = S_WAIT;
			s->rlen = 0;
			return;
		}
		int e = w < 0 ? errno : EAGAIN;
		/* a held connection the agent dropped since (restart): one fresh one, same request */
		if (!fresh && !s->retried && (e == EPIPE || e == ECONNRESET || e == ENOTCONN)) {
			s->retried = true;
			fresh = true;
			sw_close(s);
			s->fd = sw_connect(s, s->err, sizeof s->err);
			if (s->fd < 0) {
				s->st = S_FAILED;
				return;
			}
			continue;
		}
		snprintf(s->err, sizeof s->err, "send: %s", w < 0 ? strerror(e) : "partial write (agent not reading)");
		s->st = S_FAILED;
		return;
	}
}

/* Trigger path: the agent's answer for s is readable. */
static void sw_read(struct sw *s)
{
	ssize_t r = recv(s->fd, s->reply + s->rlen, sizeof s->reply - 1 - s->rlen, MSG_DONTWAIT);
	if (r > 0) {
		s->rlen += (size_t)r;
		char *nl = memchr(s->reply, '\n', s->rlen);
		if (nl) {
			s->done_ns = clock_ns(CLOCK_REALTIME);
			*nl = 0;
			if (nl > s->reply && nl[-1] == '\r')
				nl[-1] = 0;
			s->st = S_DONE;
		} else if (s->rlen == sizeof s->reply - 1) {
			snprintf(s->err, sizeof s->err, "answer longer than %d bytes", REPLY_MAX - 1);
			s->st = S_FAILED;
		}
		return;
	}
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	/* closed before answering. A switch replaces the page: sending it again is harmless. */
	if (s->rlen == 0 && !s->retried) {
		s->retried = true;
		sw_close(s);
		sw_send(s);
		return;
	}
	snprintf(s->err, sizeof s->err, "agent closed the connection before answering%s%s", r < 0 ? ": " : "",
		 r < 0 ? strerror(errno) : "");
	s->st = S_FAILED;
}

/* Waits for the answers of every S_WAIT switch in [from, to) until deadline (monotonic ns). */
static void collect(int from, int to, int64_t deadline, int reply_timeout_ms)
{
	for (;;) {
		struct pollfd pf[MAX_SWITCHES];
		int idx[MAX_SWITCHES], n = 0;
		for (int i = from; i < to; i++)
			if (sws[i].st == S_WAIT) {
				pf[n] = (struct pollfd){sws[i].fd, POLLIN, 0};
				idx[n++] = i;
			}
		if (!n)
			return;
		int64_t left = deadline - clock_ns(CLOCK_MONOTONIC);
		int r = left > 0 ? poll(pf, (nfds_t)n, (int)((left + 999999) / 1000000)) : 0;
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			for (int k = 0; k < n; k++) {
				snprintf(sws[idx[k]].err, sizeof sws[idx[k]].err, "no answer within %d ms", reply_timeout_ms);
				sws[idx[k]].st = S_FAILED;
			}
			return;
		}
		for (int k = 0; k < n; k++)
			if (pf[k].revents)
				sw_read(&sws[idx[k]]);
	}
}

/* ---------------------------------------------------------------- frames */

struct announce {
	enum kind kind;
	unsigned op;
	bool has_ip;
	uint8_t ip[4];
	int pkttype;
	int64_t at_ns, seen_ns;
	bool kernel_ts;
};

/* Is this frame the announcement of mac? kinds: the enabled enum kind bits. */
static bool classify(const uint8_t *f, size_t n, const uint8_t mac[6], unsigned kinds, struct announce *a)
{
	if (n < 14)
		return false;
	unsigned type = (unsigned)f[12] << 8 | f[13];
	const uint8_t *p = f + 14; /* ARP/RARP for Ethernet + IPv4: 28 bytes */
	bool arp_ok = n >= 14 + 28 && p[4] == 6 && p[5] == 4 && ((unsigned)p[2] << 8 | p[3]) == 0x0800;
	const uint8_t *sha = p + 8, *spa = p + 14, *tpa = p + 24;
	a->op = arp_ok ? ((unsigned)p[6] << 8 | p[7]) : 0;
	a->has_ip = arp_ok && (spa[0] | spa[1] | spa[2] | spa[3]);
	if (a->has_ip)
		memcpy(a->ip, spa, 4);
	if (type == ETH_P_RARP_) {
		if ((kinds & K_RARP) && (!memcmp(f + 6, mac, 6) || (arp_ok && !memcmp(sha, mac, 6)))) {
			a->kind = K_RARP;
			return true;
		}
		return false;
	}
	if (type != ETH_P_ARP_ || !arp_ok || memcmp(sha, mac, 6))
		return false;
	if ((kinds & K_GARP) && (!memcmp(spa, tpa, 4) || a->op == 2)) {
		a->kind = K_GARP;
		return true;
	}
	if (kinds & K_ARP) {
		a->kind = K_ARP;
		return true;
	}
	return false;
}

static const char *kind_name(enum kind k)
{
	return k == K_RARP ? "rarp" : k == K_GARP ? "garp" : "arp";
}

static void fmt_mac(char *s, const uint8_t m[6])
{
	sprintf(s, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* aa:bb:cc:dd:ee:ff or aa-bb-cc-dd-ee-ff, either case */
static bool parse_mac(const char *t, uint8_t m[6])
{
	if (strlen(t) != 17)
		return false;
	for (int i = 0; i < 6; i++) {
		int hi = hexval(t[3 * i]), lo = hexval(t[3 * i + 1]);
		if (hi < 0 || lo < 0 || (i < 5 && t[3 * i + 2] != t[2]) || (t[2] != ':' && t[2] != '-'))
			return false;
		m[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

/* ---------------------------------------------------------------- the trigger */

static int trigger(const struct announce *a, const char *mac_s, unsigned long long ignored, bool serial,
		   int reply_timeout_ms)
{
	const int64_t deadline = clock_ns(CLOCK_MONOTONIC) + (int64_t)reply_timeout_ms * 1000000;
	/* requests first: the announce event is written while the agents work */
	for (int i = 0; i < nsw && (i == 0 || !serial); i++)
		sw_send(&sws[i]);

	struct out o;
	char ip[INET_ADDRSTRLEN];
	o_event(&o, "announce");
	o_f(&o, ",\"kind\":\"%s\",\"mac\":\"%s\",\"ip\":", kind_name(a->kind), mac_s);
	if (a->has_ip)
		o_f(&o, "\"%s\"", inet_ntop(AF_INET, a->ip, ip, sizeof ip));
	else
		o_raw(&o, "null", 4);
	o_f(&o,
	    ",\"op\":%u,\"direction\":\"%s\",\"at_ns\":%lld,\"seen_ns\":%lld,\"seen_after_ns\":%lld,"
	    "\"kernel_ts\":%s,\"ignored\":%llu",
	    a->op, a->pkttype == PACKET_OUTGOING ? "out" : "in", (long long)a->at_ns, (long long)a->seen_ns,
	    (long long)(a->seen_ns - a->at_ns), a->kernel_ts ? "true" : "false", ignored);
	o_emit(&o);

	if (serial) {
		for (int i = 0; i < nsw; i++) {
			if (i)
				sw_send(&sws[i]);
			collect(i, i + 1, deadline, reply_timeout_ms);
		}
	} else {
		collect(0, nsw, deadline, reply_timeout_ms);
	}

	int failed = 0, ok = 0;
	int64_t last_done = 0;
	for (int i = 0; i < nsw; i++) {
		struct sw *s = &sws[i];
		bool refused = false;
		if (s->st == S_DONE && strncmp(s->reply, "{\"ok\":true", 10))
			refused = true; /* {"ok":false,"error":...}: the agent did not switch */
		size_t rl = strlen(s->reply);
		bool as_json = s->st == S_DONE && rl && s->reply[0] == '{' && s->reply[rl - 1] == '}';
		o_event(&o, s->st == S_DONE && !refused ? "switched" : "switch-failed");
		o_raw(&o, ",\"socket\":", 10);
		o_str(&o, s->path);
		o_raw(&o, ",\"line\":", 8);
		o_str(&o, s->line);
		if (s->st == S_DONE) {
			o_raw(&o, ",\"reply\":", 9);
			if (as_json)
				o_raw(&o, s->reply, rl);
			else
				o_str(&o, s->reply);
			o_f(&o, ",\"sent_ns\":%lld,\"done_ns\":%lld,\"rtt_ns\":%lld,\"done_after_ns\":%lld",
			    (long long)s->sent_ns, (long long)s->done_ns, (long long)(s->done_ns - s->sent_ns),
			    (long long)(s->done_ns - a->at_ns));
		}
		if (s->st != S_DONE || refused) {
			o_raw(&o, ",\"error\":", 9);
			o_str(&o, refused ? "the agent refused the request" : s->err);
			failed++;
		} else {
			ok++;
			if (s->done_ns > last_done)
				last_done = s->done_ns;
		}
		o_f(&o, ",\"retried\":%s", s->retried ? "true" : "false");
		o_emit(&o);
	}
	o_event(&o, "done");
	o_f(&o, ",\"switched\":%d,\"failed\":%d,\"total_ns\":", ok, failed);
	if (ok)
		o_f(&o, "%lld", (long long)(last_done - a->at_ns));
	else
		o_raw(&o, "null", 4);
	o_emit(&o);
	return failed ? 3 : 0;
}

/* ---------------------------------------------------------------- setup */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: wl-watch --iface IF --mac MAC [options]\n"
		"  -i, --iface IF              interface to listen on (bridge, tap or uplink), in this netns\n"
		"  -m, --mac MAC               the VM's MAC (aa:bb:cc:dd:ee:ff); other MACs are ignored\n"
		"  -k, --kinds LIST            what triggers: rarp,garp (default), arp (any ARP from MAC)\n"
		"  -s, --switch SOCKET LINE    on trigger, send LINE to the agent at SOCKET (repeatable, max %d)\n"
		"  -t, --timeout-s N           give up after N seconds, exit 2 (default 0: wait until stopped)\n"
		"  -r, --reply-timeout-ms MS   max wait for the agents' answers (default 2000)\n"
		"  -p, --rt-prio N             run as SCHED_FIFO priority N (1-99): wakes first on a busy host\n"
		"      --connect-late          do not hold agent connections open; connect on trigger\n"
		"      --serial                one agent after the other (default: all requests, then answers)\n"
		"      --first-to ADDR         then report the first IPv4 packet to ADDR arriving here (the new\n"
		"                              path works): event first-packet, or first-packet-timeout\n"
		"      --first-timeout-ms MS   how long to wait for it (default 2000)\n"
		"Output: JSON lines on stdout. Exit: 0 done/stopped, 1 error, 2 timeout, 3 a switch failed.\n",
		MAX_SWITCHES);
}

/* Setup errors: the message on stderr and as an error event, so whoever reads only stdout
 * still finds a last line that says why (exit 1). */
__attribute__((format(printf, 1, 2), noreturn)) static void fail(const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	emit_error("%s", msg);
	exit(1);
}

static unsigned long long number(const char *opt, const char *t, unsigned long long max)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(t, &end, 10);
	if (errno || *end || end == t || v > max || *t == '-')
		fail("%s expects a whole number in [0, %llu], got \"%s\"", opt, max, t);
	return v;
}

static unsigned parse_kinds(const char *t)
{
	unsigned k = 0;
	char buf[128];
	snprintf(buf, sizeof buf, "%s", t);
	for (char *save, *w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		if (!strcmp(w, "rarp"))
			k |= K_RARP;
		else if (!strcmp(w, "garp"))
			k |= K_GARP;
		else if (!strcmp(w, "arp"))
			k |= K_ARP | K_GARP;
		else
			fail("--kinds: unknown kind \"%s\" (rarp, garp, arp)", w);
	}
	if (!k)
		fail("--kinds: empty list (rarp, garp, arp)");
	return k;
}

/* AF_PACKET socket on ifindex with a classic BPF filter and kernel timestamps. The filter
 * is attached before bind: no other frame can be queued in between. */
static int filtered_socket(int ifindex, const char *ifname, struct sock_filter *code, unsigned short len)
{
	struct sock_fprog fprog = {.len = len, .filter = code};
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, 0); /* protocol 0: nothing yet */
	if (fd < 0)
		fail("AF_PACKET socket: %s%s", strerror(errno), errno == EPERM ? " (needs CAP_NET_RAW)" : "");
	int one = 1;
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof fprog) < 0)
		fail("SO_ATTACH_FILTER: %s", strerror(errno));
	if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one) < 0)
		fail("SO_TIMESTAMPNS: %s", strerror(errno));
	struct sockaddr_ll ll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL), .sll_ifindex = ifindex};
	if (bind(fd, (struct sockaddr *)&ll, sizeof ll) < 0)
		fail("bind to %s: %s", ifname, strerror(errno));
	return fd;
}

/* ARP and RARP frames only. */
static int packet_socket(int ifindex, const char *ifname)
{
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12),                 /* ethertype */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_RARP_, 1, 0), /* RARP: accept */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_ARP_, 0, 1),  /* ARP: accept, else drop */
		BPF_STMT(BPF_RET | BPF_K, SNAPLEN),
		BPF_STMT(BPF_RET | BPF_K, 0),
	};
	return filtered_socket(ifindex, ifname, code, sizeof code / sizeof code[0]);
}

/* IPv4 frames to `dst` only (the moved workload's address). */
static int ipv4_socket(int ifindex, const char *ifname, struct in_addr dst)
{
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12),                       /* ethertype */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IP, 0, 3),          /* IPv4, else drop */
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 30),                       /* IPv4 destination */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ntohl(dst.s_addr), 0, 1), /* ours, else drop */
		BPF_STMT(BPF_RET | BPF_K, SNAPLEN),
		BPF_STMT(BPF_RET | BPF_K, 0),
	};
	return filtered_socket(ifindex, ifname, code, sizeof code / sizeof code[0]);
}

/* One received frame with where it came from and its kernel timestamp. */
struct rx {
	uint8_t frame[SNAPLEN + 32];
	struct sockaddr_ll from;
	union {
		char buf[CMSG_SPACE(sizeof(struct timespec)) + 64];
		struct cmsghdr align;
	} ctrl;
	int64_t at_ns;  /* kernel receive time, or CLOCK_REALTIME after recvmsg */
	int64_t seen_ns;
	bool kernel_ts;
};

static ssize_t rx_next(int fd, struct rx *r)
{
	struct iovec iov = {r->frame, sizeof r->frame};
	struct msghdr m = {.msg_name = &r->from, .msg_namelen = sizeof r->from, .msg_iov = &iov, .msg_iovlen = 1,
			   .msg_control = r->ctrl.buf, .msg_controllen = sizeof r->ctrl.buf};
	ssize_t len = recvmsg(fd, &m, MSG_DONTWAIT);
	if (len < 0)
		return len;
	r->seen_ns = r->at_ns = clock_ns(CLOCK_REALTIME);
	r->kernel_ts = false;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
			struct timespec t;
			memcpy(&t, CMSG_DATA(c), sizeof t);
			r->at_ns = (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
			r->kernel_ts = true;
		}
	return len;
}

/* The first packet to the workload that arrives here at or after the announcement: the
 * paper's "first packet on the new path". Earlier or outgoing frames are skipped. */
static void first_packet(int fd, int64_t since_ns, int timeout_ms)
{
	const int64_t deadline = clock_ns(CLOCK_MONOTONIC) + (int64_t)timeout_ms * 1000000;
	struct rx r;
	for (;;) {
		ssize_t len = rx_next(fd, &r);
		if (len < 0 && errno == EAGAIN) {
			int64_t left = deadline - clock_ns(CLOCK_MONOTONIC);
			if (left <= 0 || stop_requested)
				break;
			struct pollfd pf = {fd, POLLIN, 0};
			poll(&pf, 1, (int)(left / 1000000) + 1);
			continue;
		}
		if (len < 0)
			break;
		if (r.from.sll_pkttype == PACKET_OUTGOING || r.at_ns < since_ns)
			continue;
		struct out o;
		o_event(&o, "first-packet");
		o_f(&o, ",\"at_ns\":%lld,\"after_announce_ns\":%lld", (long long)r.at_ns, (long long)(r.at_ns - since_ns));
		o_emit(&o);
		return;
	}
	emit_simple("first-packet-timeout");
}

int main(int argc, char **argv)
{
	const char *iface = NULL, *mac_arg = NULL;
	unsigned kinds = K_RARP | K_GARP;
	unsigned long long timeout_s = 0, reply_timeout_ms = 2000, rt_prio = 0;
	bool connect_late = false, serial = false;
	enum { O_LATE = 256, O_SERIAL, O_FIRST, O_FIRST_TIMEOUT };
	const char *first_to = NULL;
	unsigned long long first_timeout_ms = 2000;
	static const struct option opts[] = {
		{"iface", required_argument, 0, 'i'},
		{"mac", required_argument, 0, 'm'},
		{"kinds", required_argument, 0, 'k'},
		{"switch", required_argument, 0, 's'},
		{"timeout-s", required_argument, 0, 't'},
		{"reply-timeout-ms", required_argument, 0, 'r'},
		{"rt-prio", required_argument, 0, 'p'},
		{"connect-late", no_argument, 0, O_LATE},
		{"serial", no_argument, 0, O_SERIAL},
		{"first-to", required_argument, 0, O_FIRST},
		{"first-timeout-ms", required_argument, 0, O_FIRST_TIMEOUT},
		{"help", no_argument, 0, 'h'},
		{0, 0, 0, 0},
	};
	/* "+": no argument reordering, so --switch can take the word after its SOCKET as LINE */
	for (int o; (o = getopt_long(argc, argv, "+i:m:k:s:t:r:p:h", opts, NULL)) != -1;) {
		switch (o) {
		case 'i': iface = optarg; break;
		case 'm': mac_arg = optarg; break;
		case 'k': kinds = parse_kinds(optarg); break;
		case 's': {
			if (optind >= argc)
				fail("--switch %s: missing LINE (--switch SOCKET LINE)", optarg);
			if (nsw == MAX_SWITCHES)
				fail("at most %d --switch", MAX_SWITCHES);
			struct sw *s = &sws[nsw++];
			s->path = optarg;
			s->line = argv[optind++];
			s->fd = -1;
			if (strlen(s->path) >= sizeof s->sa.sun_path)
				fail("--switch %s: socket path longer than %zu bytes", s->path, sizeof s->sa.sun_path - 1);
			if (!*s->path)
				fail("--switch: empty socket path");
			if (strpbrk(s->line, "\r\n"))
				fail("--switch %s: LINE must be one line (no newline)", s->path);
			if (strlen(s->line) > LINE_MAX_LEN || !*s->line)
				fail("--switch %s: LINE must have 1 to %d bytes", s->path, LINE_MAX_LEN);
			s->sa.sun_family = AF_UNIX;
			strcpy(s->sa.sun_path, s->path);
			s->req_len = (size_t)snprintf(s->req, sizeof s->req, "%s\n", s->line);
			break;
		}
		case 't': timeout_s = number("--timeout-s", optarg, 31ULL * 86400); break;
		case 'r': reply_timeout_ms = number("--reply-timeout-ms", optarg, 3600000); break;
		case 'p': rt_prio = number("--rt-prio", optarg, 99); break;
		case O_LATE: connect_late = true; break;
		case O_SERIAL: serial = true; break;
		case O_FIRST: first_to = optarg; break;
		case O_FIRST_TIMEOUT: first_timeout_ms = number("--first-timeout-ms", optarg, 3600000); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); fail("bad command line (see --help)");
		}
	}
	if (optind < argc)
		fail("unexpected argument \"%s\" (see --help)", argv[optind]);
	if (!iface || !mac_arg) {
		usage(stderr);
		fail("--iface and --mac are required");
	}
	uint8_t mac[6];
	char mac_s[18];
	if (!parse_mac(mac_arg, mac))
		fail("--mac: \"%s\" is not a MAC address like 52:54:00:12:34:56", mac_arg);
	fmt_mac(mac_s, mac);
	if (strlen(iface) >= IF_NAMESIZE)
		fail("--iface: \"%s\" is longer than %d bytes", iface, IF_NAMESIZE - 1);
	int ifindex = (int)if_nametoindex(iface);
	if (!ifindex)
		fail("--iface %s: no such interface in this network namespace", iface);
	if (reply_timeout_ms == 0)
		fail("--reply-timeout-ms must be at least 1");

	signal(SIGPIPE, SIG_IGN);
	/* SIGTERM/SIGINT are blocked except inside ppoll: never half a trigger, never a lost wake-up */
	sigset_t block, waitmask;
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &waitmask);
	sigdelset(&waitmask, SIGTERM);
	sigdelset(&waitmask, SIGINT);
	struct sigaction sa = {.sa_handler = on_stop};
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	if (rt_prio) {
		struct sched_param sp = {.sched_priority = (int)rt_prio};
		if (sched_setscheduler(0, SCHED_FIFO, &sp) < 0) { /* not fatal: it still works, less promptly */
			char msg[160];
			snprintf(msg, sizeof msg, "--rt-prio %llu: sched_setscheduler: %s; running unprioritized", rt_prio,
				 strerror(errno));
			struct out w;
			o_event(&w, "warning");
			o_raw(&w, ",\"message\":", 11);
			o_str(&w, msg);
			o_emit(&w);
			rt_prio = 0;
		}
	}
	int pfd = packet_socket(ifindex, iface);
	struct in_addr first_addr;
	int ffd = -1;
	if (first_to) {
		if (inet_pton(AF_INET, first_to, &first_addr) != 1)
			fail("--first-to: \"%s\" is not an IPv4 address", first_to);
		ffd = ipv4_socket(ifindex, iface, first_addr); /* open now: the first packet may follow the switch at once */
	}
	if (!connect_late)
		for (int i = 0; i < nsw; i++)
			sw_hold(&sws[i]);

	int held = 0;
	for (int i = 0; i < nsw; i++)
		held += sws[i].fd >= 0;
	struct out o;
	o_event(&o, "ready");
	o_raw(&o, ",\"iface\":", 9);
	o_str(&o, iface);
	o_f(&o, ",\"ifindex\":%d,\"mac\":\"%s\",\"kinds\":[", ifindex, mac_s);
	const char *sep = "";
	for (unsigned k = K_RARP; k <= K_ARP; k <<= 1)
		if (kinds & k) {
			o_f(&o, "%s\"%s\"", sep, kind_name((enum kind)k));
			sep = ",";
		}
	o_f(&o, "],\"switches\":%d,\"held\":%d,\"rt_prio\":%llu,\"pid\":%d", nsw, held, rt_prio, (int)getpid());
	o_emit(&o);

	const int64_t end = timeout_s ? clock_ns(CLOCK_MONOTONIC) + (int64_t)timeout_s * 1000000000 : INT64_MAX;
	int64_t next_reconnect = INT64_MAX;
	unsigned long long ignored = 0;
	bool reported_down = false;
	struct rx rx;
	for (;;) {
		if (stop_requested) {
			emit_simple("stopped");
			return 0;
		}
		struct pollfd pf[MAX_SWITCHES + 1];
		int map[MAX_SWITCHES + 1], n = 1;
		pf[0] = (struct pollfd){pfd, POLLIN, 0};
		bool any_down = false;
		for (int i = 0; i < nsw; i++) {
			if (sws[i].fd >= 0) {
				pf[n] = (struct pollfd){sws[i].fd, POLLIN, 0};
				map[n++] = i;
			} else if (!connect_late) {
				any_down = true;
			}
		}
		int64_t now = clock_ns(CLOCK_MONOTONIC);
		if (any_down && next_reconnect == INT64_MAX)
			next_reconnect = now + RECONNECT_MS * 1000000LL;
		int64_t wake = end < next_reconnect ? end : next_reconnect;
		struct timespec ts, *tsp = NULL;
		if (wake != INT64_MAX) {
			int64_t d = wake > now ? wake - now : 0;
			ts = (struct timespec){d / 1000000000, d % 1000000000};
			tsp = &ts;
		}
		int r = ppoll(pf, (nfds_t)n, tsp, &waitmask);
		if (r < 0 && errno != EINTR) {
			emit_error("poll: %s", strerror(errno));
			return 1;
		}
		if (r > 0 && pf[0].revents) {
			for (;;) {
				ssize_t len = rx_next(pfd, &rx);
				if (len < 0) {
					if (errno == EAGAIN || errno == EINTR)
						break;
					if (errno == ENETDOWN) { /* the interface went down; frames resume when it is up */
						if (!if_indextoname((unsigned)ifindex, (char[IF_NAMESIZE]){0})) {
							emit_error("interface %s is gone", iface);
							return 1;
						}
						if (!reported_down) {
							char msg[64];
							struct out w;
							snprintf(msg, sizeof msg, "interface %s is down: no frames until it is up", iface);
							o_event(&w, "warning");
							o_raw(&w, ",\"message\":", 11);
							o_str(&w, msg);
							o_emit(&w);
							reported_down = true;
						}
						break;
					}
					emit_error("recvmsg on %s: %s", iface, strerror(errno));
					return 1;
				}
				reported_down = false;
				struct announce a = {.seen_ns = rx.seen_ns, .at_ns = rx.at_ns, .kernel_ts = rx.kernel_ts,
						     .pkttype = rx.from.sll_pkttype};
				if (!classify(rx.frame, (size_t)len, mac, kinds, &a)) {
					ignored++;
					continue;
				}
				int rc = trigger(&a, mac_s, ignored, serial, (int)reply_timeout_ms);
				if (ffd >= 0)
					first_packet(ffd, a.at_ns, (int)first_timeout_ms);
				return rc;
			}
		}
		for (int k = 1; r > 0 && k < n; k++)
			if (pf[k].revents)
				sw_lost(&sws[map[k]]);
		now = clock_ns(CLOCK_MONOTONIC);
		if (now >= next_reconnect) {
			next_reconnect = INT64_MAX;
			for (int i = 0; i < nsw; i++)
				if (sws[i].fd < 0)
					sw_hold(&sws[i]);
		}
		if (now >= end && !stop_requested) {
			emit_simple("timeout");
			return 2;
		}
	}
}
