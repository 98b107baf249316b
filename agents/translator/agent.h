/* xlate-agent internals: rule model, persistence, backends. */
#ifndef WARPLAB_XLATE_AGENT_H
#define WARPLAB_XLATE_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xlate.h"

#define AGENT_NAME "xlate-agent"
#define MAX_IFS 64
#define ERRLEN 512

/* ---- logging (stderr, one line per event) ---- */
void logmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
uint64_t now_us(void); /* CLOCK_MONOTONIC */
extern int libbpf_quiet; /* > 0: drop libbpf's messages (expected errors) */

/* ---- rules ---- */
enum rule_kind { RULE_PASS, RULE_MAP };

struct rule {
	uint32_t lan;  /* host byte order, host bits zero */
	uint32_t wan;  /* = lan for RULE_PASS */
	uint8_t plen;  /* same on both sides */
	uint8_t kind;  /* enum rule_kind */
	uint8_t nfwd, ninv;
	struct xlate_step fwd[XLATE_MAX_STEPS], inv[XLATE_MAX_STEPS];
	char *text; /* canonical rule line */
	/* ruleset links */
	struct rule *prev, *next, *lan_chain, *wan_chain;
};

struct ruleset {
	struct rule *head, *tail;
	size_t count;
	struct rule **lan_buckets, **wan_buckets;
	size_t nbuckets;
};

static inline uint8_t rule_bits(const struct rule *r) { return (uint8_t)(32 - r->plen); }

/* Parses "page <lan-cidr> wan <wan-cidr> contiguous|steps … / …" or "page <lan-cidr> pass";
 * validates it (same prefix length, host bits zero, odd multipliers, inverse really inverse).
 * Returns NULL with err set. */
struct rule *rule_parse(const char *line, char *err, size_t errlen);
/* Parses a CIDR: "a.b.c.d/n" or "a.b.c.d" (= /32). Host bits must be zero. */
int parse_cidr(const char *s, uint32_t *addr, uint8_t *plen, char *err, size_t errlen);
void rule_free(struct rule *r);
uint32_t steps_apply(const struct xlate_step *s, unsigned n, uint32_t h, unsigned bits);
/* The BPF map value for the LAN side (from_lan = true) or the WAN side. */
void rule_to_page(const struct rule *r, bool from_lan, struct xlate_page *out);

void ruleset_init(struct ruleset *rs);
void ruleset_free(struct ruleset *rs); /* frees the rules too */
struct rule *ruleset_find_lan(const struct ruleset *rs, uint32_t addr, uint8_t plen);
struct rule *ruleset_find_wan(const struct ruleset *rs, uint32_t addr, uint8_t plen);
/* Adds r (appended) after checking that neither its LAN nor its WAN prefix is taken. */
int ruleset_add(struct ruleset *rs, struct rule *r, char *err, size_t errlen);
/* Replaces old by r at the same position (old is unlinked, not freed). Checks collisions
 * with rules other than old. */
int ruleset_replace(struct ruleset *rs, struct rule *old, struct rule *r, char *err, size_t errlen);
void ruleset_unlink(struct ruleset *rs, struct rule *r);

/* ---- persistence in the state dir ---- */
/* Base file (whole rule set, atomic rename) + an append-only journal of switches, compacted
 * into a new base when it grows. */
int store_load(const char *dir, struct ruleset *rs, char *err, size_t errlen); /* 0, or -1 */
int store_write_base(const char *dir, const struct ruleset *rs, char *err, size_t errlen);
int store_journal(const char *dir, const struct ruleset *rs, const char *line, char *err, size_t errlen);
int write_file_atomic(const char *path, const char *data, size_t len, char *err, size_t errlen);

/* ---- backends ---- */
enum if_role { ROLE_LAN, ROLE_WAN };
struct iface {
	char name[32];
	int ifindex;
	enum if_role role;
	bool created_qdisc; /* ebpf: we created the clsact qdisc (so cleanup removes it) */
};

struct agent_cfg {
	const char *state_dir;
	const char *bpf_object; /* NULL = embedded */
	const char *mark;
	bool wan_all_others; /* no --wan-if: every other non-lo interface */
	struct iface ifs[MAX_IFS];
	int nifs;
};

struct backend {
	const char *name;
	/* Loads/attaches or picks up the kernel state left by a previous agent; rs = the
	 * persisted rules, which the backend makes current if the kernel disagrees. */
	int (*start)(struct agent_cfg *cfg, struct ruleset *rs, char *err, size_t errlen);
	/* Makes rs the whole current rule set (replacing old), atomically. */
	int (*apply)(const struct ruleset *old, const struct ruleset *rs, uint64_t *kernel_us, char *err,
		     size_t errlen);
	/* rs already holds the new rule nw (replacing old, which may be NULL); nw NULL = removal
	 * of old. On failure the caller restores rs. */
	int (*switch_page)(const struct ruleset *rs, const struct rule *old, const struct rule *nw,
			   uint64_t *kernel_us, char *err, size_t errlen);
	int (*counters)(uint64_t out[XC_MAX], char *err, size_t errlen);
	/* Removes what the agent put in the kernel/file system (state read from cfg). */
	int (*cleanup)(struct agent_cfg *cfg, char *err, size_t errlen);
	/* Optional deferred work, run in slices once no request came for IDLE_MS. */
	bool (*idle_pending)(void);
	void (*idle)(void);
};
#define IDLE_MS 20

extern const struct backend backend_ebpf;
extern const struct backend backend_nft;

/* Names of the counters in responses / nft, indexed by enum xlate_counter (NULL = unused). */
extern const char *const counter_names[XC_MAX];

#endif
