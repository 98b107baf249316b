/* udp-recv: records every probe datagram as one fixed-size record (see probe.h).
 *
 * Receive times come from the kernel (SO_TIMESTAMPNS), so a busy receiver does not add
 * its own scheduling delay to the gaps. recvmmsg drains bursts in one call. The log goes
 * to a file or stdout (so any Shell can carry it back), flushed every --flush-ms and on
 * exit; SIGTERM/SIGINT end it cleanly. The kernel drops datagrams whose UDP checksum is
 * wrong before they reach us; datagrams without the probe's magic are counted, not logged.
 * Prints "udp-recv: listening on ADDR port N" on stderr when ready, one JSON line of
 * counters on stderr at exit.
 *
 * --reflect-port PORT also sends every valid probe datagram back unchanged, from the same
 * socket, to (its source address, PORT): an echo for a "client -> workload -> client"
 * stream whose arrival times are measured on the client, because a VM's own clock is not
 * trustworthy across a migration. Logging goes on as before (--out /dev/null only
 * reflects). Reflecting never blocks the receive loop: a datagram the socket cannot take
 * at once is counted in reflectErrors and dropped, as the network would. */
#define _GNU_SOURCE /* recvmmsg, htobe64 */
#include <getopt.h>
#include <sys/time.h>
#include <unistd.h>

#include "common.h"
#include "probe.h"

#define BATCH 64

static const char *prog = "udp-recv";

static void usage(FILE *f)
{
	fprintf(f, "usage: udp-recv [options]\n"
		   "  -b, --bind ADDR         local address (default 0.0.0.0; numeric IPv4 or IPv6)\n"
		   "  -p, --port PORT         UDP port (default 0: any free port, printed when ready)\n"
		   "  -o, --out FILE          binary log (default - = stdout)\n"
		   "  -d, --duration SECONDS  stop after this long (default 3600; 0 = only --count)\n"
		   "  -c, --count N           stop after N datagrams (default 0 = only --duration)\n"
		   "  -f, --flush-ms MS       flush the log at least this often (default 200)\n"
		   "  -r, --reflect-port PORT also send every probe back unchanged to its source\n"
		   "                          address, this port (default 0: no reflection)\n");
}

int main(int argc, char **argv)
{
	const char *bind_addr = "0.0.0.0", *out_path = "-";
	unsigned port = 0, reflect_port = 0;
	unsigned long long duration_s = 3600, count = 0, flush_ms = 200;
	static const struct option opts[] = {
		{"bind", required_argument, 0, 'b'},     {"port", required_argument, 0, 'p'},
		{"out", required_argument, 0, 'o'},      {"duration", required_argument, 0, 'd'},
		{"count", required_argument, 0, 'c'},    {"flush-ms", required_argument, 0, 'f'},
		{"reflect-port", required_argument, 0, 'r'}, {"help", no_argument, 0, 'h'},
		{0, 0, 0, 0},
	};
	for (int o; (o = getopt_long(argc, argv, "b:p:o:d:c:f:r:h", opts, NULL)) != -1;) {
		switch (o) {
		case 'b': bind_addr = optarg; break;
		case 'p': port = parse_number(prog, "--port", optarg, 0, 65535); break;
		case 'o': out_path = optarg; break;
		case 'd': duration_s = parse_number(prog, "--duration", optarg, 0, 31 * 86400); break;
		case 'c': count = parse_number(prog, "--count", optarg, 0, UINT64_MAX); break;
		case 'f': flush_ms = parse_number(prog, "--flush-ms", optarg, 1, 60000); break;
		case 'r': reflect_port = parse_number(prog, "--reflect-port", optarg, 1, 65535); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!duration_s && !count) {
		fprintf(stderr, "%s: give --duration or --count: the receiver must not run forever\n", prog);
		return 2;
	}

	FILE *out = strcmp(out_path, "-") ? fopen(out_path, "wb") : stdout;
	if (!out) die(prog, out_path);
	setvbuf(out, NULL, _IOFBF, 1 << 20);

	struct sockaddr_storage local;
	socklen_t local_len = parse_address(prog, bind_addr, port, &local);
	int fd = socket(local.ss_family, SOCK_DGRAM, 0);
	if (fd < 0) die(prog, "socket");
	int one = 1, rcvbuf = 4 << 20;
	if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one) < 0) die(prog, "SO_TIMESTAMPNS");
	/* a deep queue rides out a stalled receiver; FORCE needs root, so fall back quietly */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
	/* wake up regularly to flush and to check the deadline even when nothing arrives */
	struct timeval wake = {.tv_sec = 0, .tv_usec = (flush_ms < 100 ? flush_ms : 100) * 1000};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wake, sizeof wake);
	if (bind(fd, (struct sockaddr *)&local, local_len) < 0) die(prog, "bind");
	if (getsockname(fd, (struct sockaddr *)&local, &local_len) < 0) die(prog, "getsockname");
	install_stop_handlers();

	struct log_header header = {.magic = LOG_MAGIC,
				    .record_size = htole32(sizeof(struct log_record)),
				    .flags = htole32(LOG_FLAG_KERNEL_TIMESTAMPS),
				    .started_ns = (int64_t)htole64(clock_ns(CLOCK_REALTIME))};
	if (fwrite(&header, sizeof header, 1, out) != 1 || fflush(out)) die(prog, "write log");
	unsigned bound_port = ntohs(local.ss_family == AF_INET ? ((struct sockaddr_in *)&local)->sin_port
							       : ((struct sockaddr_in6 *)&local)->sin6_port);
	if (reflect_port)
		fprintf(stderr, "udp-recv: listening on %s port %u, reflecting to port %u\n", bind_addr, bound_port,
			reflect_port);
	else
		fprintf(stderr, "udp-recv: listening on %s port %u\n", bind_addr, bound_port);

	static unsigned char bufs[BATCH][2048];
	static unsigned char ctrl[BATCH][CMSG_SPACE(sizeof(struct timespec))];
	static struct sockaddr_storage peers[BATCH];
	struct mmsghdr msgs[BATCH], echoes[BATCH];
	struct iovec iov[BATCH], echo_iov[BATCH];
	const int64_t started_mono = clock_ns(CLOCK_MONOTONIC);
	const int64_t end_mono = duration_s ? started_mono + (int64_t)duration_s * 1000000000 : INT64_MAX;
	const int64_t flush_ns = (int64_t)flush_ms * 1000000;
	int64_t next_flush = started_mono + flush_ns;
	uint64_t logged = 0, foreign = 0, user_timestamps = 0, reflected = 0, reflect_errors = 0;

	while (!stop_requested && (!count || logged < count)) {
		for (int i = 0; i < BATCH; i++) {
			iov[i] = (struct iovec){.iov_base = bufs[i], .iov_len = sizeof bufs[i]};
			msgs[i].msg_hdr = (struct msghdr){.msg_name = &peers[i], .msg_namelen = sizeof peers[i],
							   .msg_iov = &iov[i], .msg_iovlen = 1,
							   .msg_control = ctrl[i], .msg_controllen = sizeof ctrl[i]};
		}
		int n = recvmmsg(fd, msgs, BATCH, MSG_WAITFORONE, NULL);
		if (n < 0 && errno != EAGAIN && errno != EINTR) die(prog, "recvmmsg");
		int64_t fallback_rt = clock_ns(CLOCK_REALTIME);
		int echo_n = 0;
		for (int i = 0; i < n && (!count || logged < count); i++) {
			const struct probe_packet *p = (const struct probe_packet *)bufs[i];
			if (msgs[i].msg_len < sizeof *p || ntohl(p->magic) != PROBE_MAGIC || ntohs(p->version) != PROBE_VERSION) {
				foreign++;
				continue;
			}
			if (reflect_port) { /* same bytes back to the sender's address, the reflect port */
				struct sockaddr_storage *a = &peers[i];
				if (a->ss_family == AF_INET)
					((struct sockaddr_in *)a)->sin_port = htons(reflect_port);
				else
					((struct sockaddr_in6 *)a)->sin6_port = htons(reflect_port);
				echo_iov[echo_n] = (struct iovec){.iov_base = bufs[i], .iov_len = msgs[i].msg_len};
				echoes[echo_n].msg_hdr = (struct msghdr){.msg_name = a, .msg_namelen = msgs[i].msg_hdr.msg_namelen,
									  .msg_iov = &echo_iov[echo_n], .msg_iovlen = 1};
				echo_n++;
			}
			int64_t recv_ns = 0;
			for (struct cmsghdr *c = CMSG_FIRSTHDR(&msgs[i].msg_hdr); c; c = CMSG_NXTHDR(&msgs[i].msg_hdr, c)) {
				if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
					struct timespec ts;
					memcpy(&ts, CMSG_DATA(c), sizeof ts);
					recv_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
				}
			}
			if (!recv_ns) {
				recv_ns = fallback_rt;
				user_timestamps++;
			}
			struct log_record r = {.seq = htole32(ntohl(p->seq)),
					       .stream = htole32(ntohl(p->stream)),
					       .send_ns = (int64_t)htole64(be64toh(p->send_ns)),
					       .recv_ns = (int64_t)htole64(recv_ns)};
			if (fwrite(&r, sizeof r, 1, out) != 1) die(prog, "write log");
			logged++;
		}
		for (int sent = 0; sent < echo_n;) {
			int k = sendmmsg(fd, echoes + sent, echo_n - sent, MSG_DONTWAIT);
			if (k > 0) {
				sent += k;
				reflected += k;
			} else if (k < 0 && errno == EINTR) {
				continue;
			} else { /* full buffer, no route, ICMP error queued: drop this one, go on */
				sent++;
				reflect_errors++;
			}
		}
		int64_t now = clock_ns(CLOCK_MONOTONIC);
		if (now >= end_mono) break;
		if (now >= next_flush) {
			if (fflush(out)) die(prog, "write log");
			next_flush = now + flush_ns;
		}
	}
	if (fflush(out) || (out != stdout && fclose(out))) die(prog, "write log");
	fprintf(stderr,
		"{\"program\":\"udp-recv\",\"logged\":%llu,\"foreign\":%llu,\"userTimestamps\":%llu,"
		"\"reflected\":%llu,\"reflectErrors\":%llu}\n",
		(unsigned long long)logged, (unsigned long long)foreign, (unsigned long long)user_timestamps,
		(unsigned long long)reflected, (unsigned long long)reflect_errors);
	return 0;
}
