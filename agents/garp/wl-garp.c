/* wl-garp: sends gratuitous ARP requests, each with an arbitrary ARP sender hardware address.
 *
 * Service switching (Bifulco et al. 2011) needs a router to rewrite other hosts' ARP caches
 * after a VM moves: on the foreign LAN "the VM's gateway and its old neighbours are at my MAC",
 * on the home LAN "the VM is at my MAC", and after a move back "D is at D's own MAC". The last
 * one is why the ARP sender hardware address is a separate argument: a receiving Linux host
 * takes the new neighbour address from the ARP payload, while the bridges in between learn from
 * the Ethernet source, which therefore always stays the sending interface's own MAC (announcing
 * D's MAC as the Ethernet source from the router's port would move D's FDB entry to the router).
 *
 * Frame: Ethernet broadcast, ARP request, sender IP = target IP = IP, target MAC zero
 * (RFC 5227 announcement form; Linux updates an existing entry from it, creates none unless
 * arp_accept is set).
 *
 * Usage: wl-garp --iface IF [--count N] [--interval-ms MS] IP[=MAC] [IP[=MAC]...]
 * Output: one JSON line per round, {"sent":K,"at_ns":T} (T: CLOCK_REALTIME ns when the round
 * started). Exit: 0 ok, 1 socket/interface error, 2 bad usage. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct pair {
	struct in_addr ip;
	uint8_t mac[ETH_ALEN];
	int own_mac; /* no =MAC given: use the interface's */
};

/* Ethernet + ARP for IPv4 over Ethernet, padded to the 60-byte minimum frame by hand: a veth
 * or a tap passes a short frame on as it is, and some receivers drop runts. */
struct __attribute__((packed)) frame {
	uint8_t dst[ETH_ALEN], src[ETH_ALEN];
	uint16_t proto;
	uint16_t htype, ptype;
	uint8_t hlen, plen;
	uint16_t op;
	uint8_t sha[ETH_ALEN], spa[4], tha[ETH_ALEN], tpa[4];
	uint8_t pad[18];
};

static const char *prog = "wl-garp";

static void usage(FILE *f)
{
	fprintf(f, "usage: %s --iface IF [--count N] [--interval-ms MS] IP[=MAC] [IP[=MAC]...]\n"
		   "  sends N rounds (default 2), MS apart (default 20), of one gratuitous ARP\n"
		   "  request per IP; ARP sender MAC = MAC or IF's own, Ethernet source = IF's own\n",
		prog);
}

static int bad_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "%s: ", prog);
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	usage(stderr);
	return 2;
}

static int parse_mac(const char *s, uint8_t mac[ETH_ALEN])
{
	unsigned v[ETH_ALEN];
	char tail;
	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
		   &tail) != ETH_ALEN)
		return -1;
	for (int i = 0; i < ETH_ALEN; i++)
		mac[i] = (uint8_t)v[i];
	return 0;
}

/* Strict decimal in [lo, hi]: "2x" or "" is a usage error, not a silent 2 or 0. */
static int parse_num(const char *s, long lo, long hi, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"iface", required_argument, 0, 'i'},
		{"count", required_argument, 0, 'c'},
		{"interval-ms", required_argument, 0, 'n'},
		{"help", no_argument, 0, 'h'},
		{0, 0, 0, 0},
	};
	const char *ifname = NULL;
	long count = 2, interval_ms = 20;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			ifname = optarg;
			break;
		case 'c':
			if (parse_num(optarg, 1, 1000000, &count))
				return bad_usage("bad --count '%s'", optarg);
			break;
		case 'n':
			if (parse_num(optarg, 0, 3600000, &interval_ms))
				return bad_usage("bad --interval-ms '%s'", optarg);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!ifname)
		return bad_usage("%s", "--iface is required");
	if (strlen(ifname) >= IFNAMSIZ)
		return bad_usage("interface name too long: '%s'", ifname);
	int npairs = argc - optind;
	if (npairs < 1)
		return bad_usage("%s", "no IP given");

	struct pair *pairs = calloc((size_t)npairs, sizeof *pairs);
	if (!pairs) {
		perror(prog);
		return 1;
	}
	for (int k = 0; k < npairs; k++) {
		char *arg = argv[optind + k], *eq = strchr(arg, '=');
		if (eq)
			*eq = '\0';
		if (inet_pton(AF_INET, arg, &pairs[k].ip) != 1)
			return bad_usage("bad IPv4 address '%s'", arg);
		if (!eq)
			pairs[k].own_mac = 1;
		else if (parse_mac(eq + 1, pairs[k].mac))
			return bad_usage("bad MAC '%s'", eq + 1);
	}

	/* Protocol 0: a send-only packet socket, so the kernel never queues received frames. */
	int fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (fd < 0) {
		fprintf(stderr, "%s: socket(AF_PACKET): %s\n", prog, strerror(errno));
		return 1;
	}
	struct ifreq ifr;
	memset(&ifr, 0, sizeof ifr);
	memcpy(ifr.ifr_name, ifname, strlen(ifname) + 1);
	if (ioctl(fd, SIOCGIFINDEX, &ifr) < 0) {
		fprintf(stderr, "%s: interface %s: %s\n", prog, ifname, strerror(errno));
		return 1;
	}
	int ifindex = ifr.ifr_ifindex;
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) {
		fprintf(stderr, "%s: %s: no hardware address: %s\n", prog, ifname, strerror(errno));
		return 1;
	}
	if (ifr.ifr_hwaddr.sa_family != 1 /* ARPHRD_ETHER */) {
		fprintf(stderr, "%s: %s is not an Ethernet interface\n", prog, ifname);
		return 1;
	}
	const uint8_t *own = (const uint8_t *)ifr.ifr_hwaddr.sa_data;

	struct frame *frames = calloc((size_t)npairs, sizeof *frames);
	if (!frames) {
		perror(prog);
		return 1;
	}
	for (int k = 0; k < npairs; k++) {
		struct frame *f = &frames[k];
		memset(f->dst, 0xff, ETH_ALEN);
		memcpy(f->src, own, ETH_ALEN);
		f->proto = htons(ETH_P_ARP);
		f->htype = htons(1);
		f->ptype = htons(ETH_P_IP);
		f->hlen = ETH_ALEN;
		f->plen = 4;
		f->op = htons(1); /* a request: every stack accepts it, not all take unsolicited replies */
		memcpy(f->sha, pairs[k].own_mac ? own : pairs[k].mac, ETH_ALEN);
		memcpy(f->spa, &pairs[k].ip, 4);
		memcpy(f->tpa, &pairs[k].ip, 4);
	}

	struct sockaddr_ll to = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_ARP),
		.sll_ifindex = ifindex,
		.sll_halen = ETH_ALEN,
	};
	memset(to.sll_addr, 0xff, ETH_ALEN);

	for (long r = 0; r < count; r++) {
		if (r > 0 && interval_ms > 0) {
			struct timespec d = {interval_ms / 1000, (interval_ms % 1000) * 1000000L};
			while (nanosleep(&d, &d) < 0 && errno == EINTR)
				;
		}
		int64_t at = now_ns();
		int sent = 0;
		for (int k = 0; k < npairs; k++) {
			if (sendto(fd, &frames[k], sizeof frames[k], 0, (struct sockaddr *)&to,
				   sizeof to) < 0) {
				char ip[INET_ADDRSTRLEN];
				inet_ntop(AF_INET, &pairs[k].ip, ip, sizeof ip);
				fprintf(stderr, "%s: send %s on %s: %s\n", prog, ip, ifname,
					strerror(errno));
				return 1;
			}
			sent++;
		}
		/* One line per round, flushed at once, so a caller can timestamp the announcement. */
		printf("{\"sent\":%d,\"at_ns\":%lld}\n", sent, (long long)at);
		fflush(stdout);
	}
	close(fd);
	return 0;
}
