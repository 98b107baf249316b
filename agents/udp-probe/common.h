/* Small helpers shared by the two programs: argument parsing and socket addresses. */
#ifndef WARPLAB_COMMON_H
#define WARPLAB_COMMON_H

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* No SA_RESTART: a blocking sleep or receive returns EINTR so the loop can finish cleanly. */
static void install_stop_handlers(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_stop_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static void die(const char *prog, const char *what)
{
	fprintf(stderr, "%s: %s: %s\n", prog, what, strerror(errno));
	exit(1);
}

static unsigned long long parse_number(const char *prog, const char *opt, const char *text,
				       unsigned long long min, unsigned long long max)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(text, &end, 10);
	if (errno || *end || end == text || v < min || v > max) {
		fprintf(stderr, "%s: %s expects a whole number in [%llu, %llu], got \"%s\"\n", prog, opt, min, max, text);
		exit(2);
	}
	return v;
}

/* Fills an IPv4 or IPv6 socket address from a numeric literal; returns its length. */
static socklen_t parse_address(const char *prog, const char *text, unsigned port, struct sockaddr_storage *out)
{
	memset(out, 0, sizeof *out);
	struct sockaddr_in *v4 = (struct sockaddr_in *)out;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)out;
	if (inet_pton(AF_INET, text, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons(port);
		return sizeof *v4;
	}
	if (inet_pton(AF_INET6, text, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons(port);
		return sizeof *v6;
	}
	fprintf(stderr, "%s: \"%s\" is not a numeric IPv4 or IPv6 address\n", prog, text);
	exit(2);
}

#endif
