/* udp-send: one sequence-numbered, timestamped datagram per slot of a fixed schedule.
 *
 * A late wake-up (the VM was paused, the CPU was busy) skips the slots already past
 * instead of sending them in a burst, so the receiver sees the stall as a gap; seq still
 * grows by one per packet actually sent, so seq holes mean network loss only.
 * On exit (duration, count, SIGTERM/SIGINT) prints one JSON line of counters on stdout. */
#define _GNU_SOURCE /* recvmmsg, htobe64 */
#include <getopt.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "common.h"
#include "probe.h"

static const char *prog = "udp-send";

static void usage(FILE *f)
{
	fprintf(f,
		"usage: udp-send --to ADDR --port PORT [options]\n"
		"  -t, --to ADDR           receiver address (numeric IPv4 or IPv6)\n"
		"  -p, --port PORT         receiver UDP port\n"
		"  -i, --interval-us US    schedule interval in microseconds (default 1000)\n"
		"  -s, --size BYTES        datagram payload size, >= %zu (default 64)\n"
		"  -S, --stream ID         stream id written into every packet (default 1)\n"
		"  -d, --duration SECONDS  stop after this long (default 60; 0 = only --count)\n"
		"  -c, --count N           stop after N packets (default 0 = only --duration)\n"
		"  -b, --bind ADDR         source address\n",
		sizeof(struct probe_packet));
}

int main(int argc, char **argv)
{
	const char *to = NULL, *bind_addr = NULL;
	unsigned port = 0, stream = 1;
	unsigned long long interval_us = 1000, size = 64, duration_s = 60, count = 0;
	static const struct option opts[] = {
		{"to", required_argument, 0, 't'},          {"port", required_argument, 0, 'p'},
		{"interval-us", required_argument, 0, 'i'}, {"size", required_argument, 0, 's'},
		{"stream", required_argument, 0, 'S'},      {"duration", required_argument, 0, 'd'},
		{"count", required_argument, 0, 'c'},       {"bind", required_argument, 0, 'b'},
		{"help", no_argument, 0, 'h'},              {0, 0, 0, 0},
	};
	for (int o; (o = getopt_long(argc, argv, "t:p:i:s:S:d:c:b:h", opts, NULL)) != -1;) {
		switch (o) {
		case 't': to = optarg; break;
		case 'p': port = parse_number(prog, "--port", optarg, 1, 65535); break;
		case 'i': interval_us = parse_number(prog, "--interval-us", optarg, 10, 60000000); break;
		case 's': size = parse_number(prog, "--size", optarg, sizeof(struct probe_packet), 65507); break;
		case 'S': stream = parse_number(prog, "--stream", optarg, 0, UINT32_MAX); break;
		case 'd': duration_s = parse_number(prog, "--duration", optarg, 0, 31 * 86400); break;
		case 'c': count = parse_number(prog, "--count", optarg, 0, UINT32_MAX); break;
		case 'b': bind_addr = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!to || !port) {
		usage(stderr);
		return 2;
	}
	if (!duration_s && !count) {
		fprintf(stderr, "%s: give --duration or --count: the sender must not run forever\n", prog);
		return 2;
	}

	struct sockaddr_storage dst, src;
	socklen_t dst_len = parse_address(prog, to, port, &dst);
	int fd = socket(dst.ss_family, SOCK_DGRAM, 0);
	if (fd < 0) die(prog, "socket");
	if (bind_addr) {
		socklen_t src_len = parse_address(prog, bind_addr, 0, &src);
		if (bind(fd, (struct sockaddr *)&src, src_len) < 0) die(prog, "bind");
	}
	prctl(PR_SET_TIMERSLACK, 1UL); /* default 50 us slack would blur a 1 ms schedule */
	install_stop_handlers();

	unsigned char *buf = calloc(1, size);
	if (!buf) die(prog, "calloc");
	struct probe_packet *pkt = (struct probe_packet *)buf;
	pkt->magic = htonl(PROBE_MAGIC);
	pkt->version = htons(PROBE_VERSION);
	pkt->stream = htonl(stream);
	pkt->interval_us = htonl((uint32_t)interval_us);

	const int64_t interval_ns = (int64_t)interval_us * 1000;
	const int64_t started_mono = clock_ns(CLOCK_MONOTONIC);
	const int64_t started_rt = clock_ns(CLOCK_REALTIME);
	const int64_t end_mono = duration_s ? started_mono + (int64_t)duration_s * 1000000000 : INT64_MAX;
	int64_t slot = started_mono;
	uint64_t sent = 0, send_errors = 0, skipped_slots = 0, max_late_ns = 0;
	int last_errno = 0;

	while (!stop_requested && (!count || sent < count)) {
		struct timespec at = {.tv_sec = slot / 1000000000, .tv_nsec = slot % 1000000000};
		if (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, NULL) == EINTR) continue;
		int64_t woke = clock_ns(CLOCK_MONOTONIC);
		if (woke >= end_mono) break;
		if ((uint64_t)(woke - slot) > max_late_ns) max_late_ns = woke - slot;

		pkt->seq = htonl((uint32_t)sent);
		uint64_t now_rt = (uint64_t)clock_ns(CLOCK_REALTIME);
		pkt->send_ns = htobe64(now_rt);
		if (sendto(fd, buf, size, 0, (struct sockaddr *)&dst, dst_len) == (ssize_t)size) {
			sent++;
		} else {
			send_errors++;
			last_errno = errno;
		}

		slot += interval_ns;
		int64_t now = clock_ns(CLOCK_MONOTONIC);
		if (now >= slot) { /* stalled past the next slot: skip, never burst */
			int64_t missed = (now - slot) / interval_ns + 1;
			skipped_slots += missed;
			slot += missed * interval_ns;
		}
	}

	printf("{\"program\":\"udp-send\",\"stream\":%u,\"intervalUs\":%llu,\"size\":%llu,\"sent\":%llu,"
	       "\"sendErrors\":%llu,\"lastError\":\"%s\",\"skippedSlots\":%llu,\"maxLateUs\":%.1f,"
	       "\"startedNs\":%lld,\"endedNs\":%lld}\n",
	       stream, interval_us, size, (unsigned long long)sent, (unsigned long long)send_errors,
	       last_errno ? strerror(last_errno) : "", (unsigned long long)skipped_slots, max_late_ns / 1000.0,
	       (long long)started_rt, (long long)clock_ns(CLOCK_REALTIME));
	return 0;
}
