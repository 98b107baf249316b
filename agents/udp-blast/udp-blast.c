/* udp-blast: traffic for the translator benchmark (orchestrator/bench/translator.ts).
 *
 *   udp-blast send ADDR PORT SECONDS [PAYLOAD]   small UDP datagrams as fast as possible
 *                                                (sendmmsg, 64 per call; payload 18 bytes =
 *                                                a 64-byte Ethernet frame)
 *   udp-blast sink PORT SECONDS                  counts datagrams (recvmmsg)
 *   udp-blast tcp-send ADDR PORT SECONDS         one TCP connection, 64 KiB writes
 *   udp-blast tcp-sink PORT SECONDS              accepts one connection, counts bytes
 *   udp-blast probe ADDR PORT SECONDS INTERVAL_US  paced stream: {seq, CLOCK_MONOTONIC ns}
 *   udp-blast watch PORT SECONDS                 one line per change of source address
 *
 * Every mode ends with one JSON line on stdout; `watch` also prints a line, flushed at once,
 * each time the source address of the probe stream changes:
 *   {"t_ns":ARRIVAL,"src":"A.B.C.D","seq":N,"sent_ns":SENT}
 * Times are CLOCK_MONOTONIC (the clock Node's process.hrtime uses; shared by every network
 * namespace). Sinks time their traffic from the first to the last packet or byte, so a sender
 * that starts a little early or late does not skew the rate; they stop after SECONDS, or
 * 500 ms after the traffic stopped. cpu_ns is this process's CPU time
 * (CLOCK_PROCESS_CPUTIME_ID), which includes the softirq work the kernel did in its context.
 * SIGTERM/SIGINT end any mode early, still printing the summary. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
#define MAXPKT 2048

static const char *prog = "udp-blast";
static volatile sig_atomic_t stop;

static void on_signal(int s)
{
	(void)s;
	stop = 1;
}

static void die(const char *what)
{
	fprintf(stderr, "%s: %s: %s\n", prog, what, strerror(errno));
	exit(1);
}

static void usage(void)
{
	fprintf(stderr, "usage: %s send ADDR PORT SECONDS [PAYLOAD] | sink PORT SECONDS | tcp-send ADDR PORT SECONDS |\n"
			"       tcp-sink PORT SECONDS | probe ADDR PORT SECONDS INTERVAL_US | watch PORT SECONDS\n",
		prog);
	exit(2);
}

static unsigned long num(const char *what, const char *s, unsigned long min, unsigned long max)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max) {
		fprintf(stderr, "%s: %s expects a whole number in [%lu, %lu], got \"%s\"\n", prog, what, min, max, s);
		exit(2);
	}
	return v;
}

static uint64_t now_ns(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
static uint64_t mono(void) { return now_ns(CLOCK_MONOTONIC); }
static uint64_t cpu(void) { return now_ns(CLOCK_PROCESS_CPUTIME_ID); }

static struct sockaddr_in addr_of(const char *host, const char *port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)num("PORT", port, 1, 65535))};
	if (inet_pton(AF_INET, host, &a.sin_addr) != 1) {
		fprintf(stderr, "%s: \"%s\" is not a numeric IPv4 address\n", prog, host);
		exit(2);
	}
	return a;
}

static int bound_socket(int type, const char *port)
{
	int fd = socket(AF_INET, type, 0), one = 1, big = 8 << 20;
	if (fd < 0)
		die("socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	/* Root may exceed rmem_max (FORCE); otherwise take what the sysctl allows. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
	struct sockaddr_in a = addr_of("0.0.0.0", port);
	if (bind(fd, (struct sockaddr *)&a, sizeof a))
		die("bind");
	return fd;
}

/* Waits for the socket to be readable until the deadline, at most 100 ms; 1 = readable. */
static int wait_readable(int fd, uint64_t deadline)
{
	uint64_t t = mono();
	if (t >= deadline)
		return 0;
	uint64_t ms = (deadline - t) / 1000000 + 1;
	struct pollfd p = {.fd = fd, .events = POLLIN};
	int r = poll(&p, 1, (int)(ms > 100 ? 100 : ms));
	if (r < 0 && errno != EINTR)
		die("poll");
	return r > 0;
}

static int send_udp(char **a, int n)
{
	if (n < 3 || n > 4)
		usage();
	struct sockaddr_in to = addr_of(a[0], a[1]);
	uint64_t secs = num("SECONDS", a[2], 1, 3600), size = n == 4 ? num("PAYLOAD", a[3], 1, 1472) : 18;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		die("socket");
	if (connect(fd, (struct sockaddr *)&to, sizeof to))
		die("connect");
	static char buf[MAXPKT];
	struct iovec iov[BATCH];
	struct mmsghdr m[BATCH];
	memset(m, 0, sizeof m);
	for (int i = 0; i < BATCH; i++) {
		iov[i] = (struct iovec){.iov_base = buf, .iov_len = size};
		m[i].msg_hdr.msg_iov = &iov[i];
		m[i].msg_hdr.msg_iovlen = 1;
	}
	uint64_t sent = 0, errors = 0, c0 = cpu(), t0 = mono(), end = t0 + secs * 1000000000ull, t = t0;
	while (!stop && (t = mono()) < end) {
		int r = sendmmsg(fd, m, BATCH, 0);
		if (r > 0)
			sent += (uint64_t)r;
		else if (errno != EINTR) /* ECONNREFUSED from an ICMP error, ENOBUFS: keep going */
			errors++;
	}
	printf("{\"mode\":\"send\",\"packets\":%llu,\"errors\":%llu,\"seconds\":%.6f,\"cpu_ns\":%llu}\n", (unsigned long long)sent,
	       (unsigned long long)errors, (double)(t - t0) / 1e9, (unsigned long long)(cpu() - c0));
	return 0;
}

static int sink_udp(char **a, int n)
{
	if (n != 2)
		usage();
	int fd = bound_socket(SOCK_DGRAM, a[0]);
	uint64_t secs = num("SECONDS", a[1], 1, 3600);
	static char bufs[BATCH][MAXPKT];
	struct iovec iov[BATCH];
	struct mmsghdr m[BATCH];
	memset(m, 0, sizeof m);
	for (int i = 0; i < BATCH; i++) {
		iov[i] = (struct iovec){.iov_base = bufs[i], .iov_len = MAXPKT};
		m[i].msg_hdr.msg_iov = &iov[i];
		m[i].msg_hdr.msg_iovlen = 1;
	}
	uint64_t pkts = 0, bytes = 0, first = 0, last = 0, first_batch = 0, c0 = cpu(), end = mono() + secs * 1000000000ull;
	while (!stop && !(pkts && mono() - last > 500000000ull)) {
		if (!wait_readable(fd, end)) {
			if (mono() >= end)
				break;
			continue;
		}
		int r = recvmmsg(fd, m, BATCH, MSG_DONTWAIT, NULL);
		if (r <= 0)
			continue;
		uint64_t t = mono();
		if (!pkts) {
			first = t;
			first_batch = (uint64_t)r;
		}
		last = t;
		pkts += (uint64_t)r;
		for (int i = 0; i < r; i++)
			bytes += m[i].msg_len;
	}
	/* The first batch arrived before `first`: the rate counts the packets after it. */
	double s = (double)(last - first) / 1e9;
	printf("{\"mode\":\"sink\",\"packets\":%llu,\"bytes\":%llu,\"seconds\":%.6f,\"pps\":%.0f,\"cpu_ns\":%llu}\n",
	       (unsigned long long)pkts, (unsigned long long)bytes, s, s > 0 ? (double)(pkts - first_batch) / s : 0.0,
	       (unsigned long long)(cpu() - c0));
	return 0;
}

static int send_tcp(char **a, int n)
{
	if (n != 3)
		usage();
	struct sockaddr_in to = addr_of(a[0], a[1]);
	uint64_t secs = num("SECONDS", a[2], 1, 3600);
	int fd = -1;
	uint64_t give_up = mono() + 2000000000ull;
	for (;;) { /* the sink may still be starting */
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd < 0)
			die("socket");
		if (!connect(fd, (struct sockaddr *)&to, sizeof to))
			break;
		if (mono() > give_up || stop)
			die("connect");
		close(fd);
		usleep(20000);
	}
	/* A slow path must not hold a blocking write past the deadline. */
	struct timeval tv = {.tv_sec = 0, .tv_usec = 100000};
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	static char buf[65536];
	uint64_t bytes = 0, c0 = cpu(), t0 = mono(), end = t0 + secs * 1000000000ull, t = t0;
	while (!stop && (t = mono()) < end) {
		ssize_t w = write(fd, buf, sizeof buf);
		if (w > 0)
			bytes += (uint64_t)w;
		else if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)
			die("write");
	}
	close(fd);
	printf("{\"mode\":\"tcp-send\",\"bytes\":%llu,\"seconds\":%.6f,\"cpu_ns\":%llu}\n", (unsigned long long)bytes,
	       (double)(t - t0) / 1e9, (unsigned long long)(cpu() - c0));
	return 0;
}

static int sink_tcp(char **a, int n)
{
	if (n != 2)
		usage();
	int l = bound_socket(SOCK_STREAM, a[0]);
	uint64_t secs = num("SECONDS", a[1], 1, 3600), end = mono() + secs * 1000000000ull;
	if (listen(l, 1))
		die("listen");
	uint64_t bytes = 0, first = 0, last = 0, c0 = cpu();
	int fd = -1;
	while (!stop && fd < 0 && mono() < end)
		if (wait_readable(l, end))
			fd = accept(l, NULL, NULL);
	static char buf[1 << 18];
	while (fd >= 0 && !stop && mono() < end) {
		if (!wait_readable(fd, end))
			continue;
		ssize_t r = read(fd, buf, sizeof buf);
		if (r <= 0)
			break;
		uint64_t t = mono();
		if (!bytes)
			first = t;
		last = t;
		bytes += (uint64_t)r;
	}
	printf("{\"mode\":\"tcp-sink\",\"bytes\":%llu,\"seconds\":%.6f,\"cpu_ns\":%llu}\n", (unsigned long long)bytes,
	       (double)(last - first) / 1e9, (unsigned long long)(cpu() - c0));
	return 0;
}

struct probe {
	uint64_t seq, sent_ns;
};

static int probe(char **a, int n)
{
	if (n != 4)
		usage();
	struct sockaddr_in to = addr_of(a[0], a[1]);
	uint64_t secs = num("SECONDS", a[2], 1, 3600), iv = num("INTERVAL_US", a[3], 10, 1000000) * 1000;
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0); /* wake on time, not up to 50 µs late */
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		die("socket");
	if (connect(fd, (struct sockaddr *)&to, sizeof to))
		die("connect");
	uint64_t t0 = mono(), end = t0 + secs * 1000000000ull, next = t0, seq = 0, late = 0;
	while (!stop) {
		struct timespec ts = {.tv_sec = (time_t)(next / 1000000000ull), .tv_nsec = (long)(next % 1000000000ull)};
		if (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
			continue;
		uint64_t t = mono();
		if (t >= end)
			break;
		struct probe p = {.seq = seq++, .sent_ns = t};
		if (send(fd, &p, sizeof p, 0) < 0 && errno != ECONNREFUSED && errno != EINTR)
			die("send");
		next += iv;
		if (next < t) { /* woke up late: skip the slots already past */
			late += (t - next) / iv + 1;
			next += ((t - next) / iv + 1) * iv;
		}
	}
	printf("{\"mode\":\"probe\",\"packets\":%llu,\"skipped_slots\":%llu}\n", (unsigned long long)seq, (unsigned long long)late);
	return 0;
}

static int watch(char **a, int n)
{
	if (n != 2)
		usage();
	int fd = bound_socket(SOCK_DGRAM, a[0]);
	uint64_t secs = num("SECONDS", a[1], 1, 3600), end = mono() + secs * 1000000000ull, pkts = 0, changes = 0;
	struct in_addr prev = {0};
	setvbuf(stdout, NULL, _IOLBF, 0);
	while (!stop && mono() < end) {
		if (!wait_readable(fd, end))
			continue;
		struct probe p = {0, 0};
		struct sockaddr_in from;
		socklen_t fl = sizeof from;
		ssize_t r = recvfrom(fd, &p, sizeof p, MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
		if (r < 0)
			continue;
		uint64_t t = mono();
		pkts++;
		if (from.sin_addr.s_addr != prev.s_addr) {
			char s[INET_ADDRSTRLEN];
			inet_ntop(AF_INET, &from.sin_addr, s, sizeof s);
			printf("{\"t_ns\":%llu,\"src\":\"%s\",\"seq\":%llu,\"sent_ns\":%llu}\n", (unsigned long long)t, s,
			       (unsigned long long)p.seq, (unsigned long long)p.sent_ns);
			prev = from.sin_addr;
			changes++;
		}
	}
	printf("{\"mode\":\"watch\",\"packets\":%llu,\"changes\":%llu}\n", (unsigned long long)pkts, (unsigned long long)changes);
	return 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal; /* no SA_RESTART: blocking calls return EINTR */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (argc < 2)
		usage();
	const char *m = argv[1];
	char **a = argv + 2;
	int n = argc - 2;
	if (!strcmp(m, "send"))
		return send_udp(a, n);
	if (!strcmp(m, "sink"))
		return sink_udp(a, n);
	if (!strcmp(m, "tcp-send"))
		return send_tcp(a, n);
	if (!strcmp(m, "tcp-sink"))
		return sink_tcp(a, n);
	if (!strcmp(m, "probe"))
		return probe(a, n);
	if (!strcmp(m, "watch"))
		return watch(a, n);
	usage();
}
