/* Wire and log formats shared by udp-send and udp-recv (and parsed by
 * orchestrator/probe/log.ts: keep the two in step).
 *
 * Clocks: send and receive times are CLOCK_REALTIME nanoseconds. CLOCK_MONOTONIC counts
 * from each kernel's boot, so it means nothing across a VM and its host, while REALTIME is
 * shared by every namespace of one host and is what NTP/PTP align between hosts. Gaps are
 * always differences of one clock (receive times on the receiver), so they need no
 * synchronisation; only one-way delays and cross-host event alignment do. Pacing uses
 * CLOCK_MONOTONIC so that a clock step never bunches or stretches the schedule. */
#ifndef WARPLAB_PROBE_H
#define WARPLAB_PROBE_H

#include <stdint.h>
#include <time.h>

/* Datagram payload, network byte order, padded with zeros to the chosen size. */
#define PROBE_MAGIC 0x574C5042u /* "WLPB" */
#define PROBE_VERSION 1
struct probe_packet {
	uint32_t magic;
	uint16_t version;
	uint16_t reserved;
	uint32_t stream;      /* chosen by the sender: tells the directions apart */
	uint32_t seq;         /* +1 per packet actually sent, from 0 */
	uint64_t send_ns;     /* CLOCK_REALTIME just before sendto */
	uint32_t interval_us; /* the sender's schedule, so logs describe themselves */
} __attribute__((packed));

/* Receiver log: one header, then fixed-size records, little endian. */
#define LOG_MAGIC "WLPRLOG1"
#define LOG_FLAG_KERNEL_TIMESTAMPS 1u /* receive times from SO_TIMESTAMPNS */
struct log_header {
	char magic[8];
	uint32_t record_size;
	uint32_t flags;
	int64_t started_ns; /* CLOCK_REALTIME when the receiver started */
	uint8_t reserved[40];
} __attribute__((packed)); /* 64 bytes */

struct log_record {
	uint32_t seq;
	uint32_t stream;
	int64_t send_ns;
	int64_t recv_ns;
} __attribute__((packed)); /* 24 bytes: ~86 MB per hour at 1 ms */

static inline int64_t clock_ns(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

#endif
