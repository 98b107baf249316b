/* eBPF backend: tc_lan / tc_wan (xlate.bpf.c) on clsact ingress, page tables in LPM tries.
 *
 * Kernel objects are pinned in a private bpffs at STATE/bpf (mounted by the agent), so a
 * restarted agent finds the maps the attached programs use:
 *   STATE/bpf/tc_lan, tc_wan           the programs
 *   STATE/bpf/lan_pages, wan_pages     LPM tries, key {32 + prefixlen, generation, address}
 *   STATE/bpf/config                   current generation
 *   STATE/bpf/counters                 per-CPU counters (enum xlate_counter)
 * The tc filters (handle XLATE_TC_HANDLE, priority XLATE_TC_PRIO, direct-action) keep the
 * programs alive without the agent.
 *
 * apply = write every page into the spare generation, flip config.gen (one update), and
 * later (idle, or at the next apply) delete the previous generation's entries. No map-in-map:
 * updating an ARRAY_OF_MAPS makes the syscall wait for an RCU grace period (~25 ms here). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "agent.h"

#define XLATE_TC_HANDLE 0x5778
#define XLATE_TC_PRIO 0x10

extern const unsigned char xlate_bpf_obj[];
extern const unsigned char xlate_bpf_obj_end[];

static const char *const pin_names[] = {"tc_lan", "tc_wan", "lan_pages", "wan_pages", "config", "counters"};
enum { P_TC_LAN, P_TC_WAN, P_LAN, P_WAN, P_CONFIG, P_COUNTERS, P_N };

static struct {
	char bpfdir[4096];
	int fd[P_N];
	uint32_t gen; /* current generation */
	bool stray;   /* the current generation may hold entries that are not in the rules */
	int ncpus;
} E = {.fd = {-1, -1, -1, -1, -1, -1}};

/* Garbage: entries of the spare generation still to delete, a slice at a time when idle, so
 * a switch right after a big apply is not held up. */
struct gkey {
	struct xlate_lpm_key k;
	int map; /* P_LAN or P_WAN */
};
static struct {
	struct gkey *v;
	size_t n, next, cap;
	bool scan_needed; /* the spare generation may hold entries we do not know of */
} G;
#define GC_SLICE 256

static int errf(char *err, size_t errlen, const char *what, int e)
{
	snprintf(err, errlen, "%s: %s", what, strerror(e < 0 ? -e : e));
	return -1;
}

static int ensure_bpffs(const char *dir, char *err, size_t errlen)
{
	char msg[4300];
	if (mkdir(dir, 0700) && errno != EEXIST) {
		snprintf(msg, sizeof msg, "mkdir %s", dir);
		return errf(err, errlen, msg, errno);
	}
	struct statfs st;
	if (statfs(dir, &st) == 0 && st.f_type == BPF_FS_MAGIC)
		return 0;
	if (mount("bpf", dir, "bpf", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0700")) {
		snprintf(msg, sizeof msg, "mount -t bpf bpf %s", dir);
		return errf(err, errlen, msg, errno);
	}
	logmsg("mounted a private bpffs at %s", dir);
	return 0;
}

static int pin_path(char *out, size_t n, int which)
{
	return snprintf(out, n, "%s/%s", E.bpfdir, pin_names[which]);
}

static void put_key(struct xlate_lpm_key *k, uint32_t gen, uint32_t addr, uint8_t plen)
{
	k->prefixlen = XLATE_GEN_BITS + plen;
	k->gen = gen;
	k->addr = htonl(addr);
}

static int gc_push(int map, const struct xlate_lpm_key *k)
{
	if (G.n == G.cap) {
		size_t nc = G.cap ? G.cap * 2 : 1024;
		struct gkey *nv = realloc(G.v, nc * sizeof *nv);
		if (!nv)
			return -1;
		G.v = nv;
		G.cap = nc;
	}
	G.v[G.n].k = *k;
	G.v[G.n++].map = map;
	return 0;
}

/* Queues every entry of generation gen found in the tries (get_next_key over all entries;
 * no deletion while iterating: a vanished cursor would restart the walk). */
static int gc_scan(uint32_t gen, char *err, size_t errlen)
{
	for (int t = P_LAN; t <= P_WAN; t++) {
		struct xlate_lpm_key k, nk;
		for (void *prev = NULL; bpf_map_get_next_key(E.fd[t], prev, &nk) == 0; prev = &k) {
			k = nk;
			if (k.gen == gen && gc_push(t, &k))
				return snprintf(err, errlen, "out of memory"), -1;
		}
	}
	G.scan_needed = false;
	return 0;
}

/* Queues the entries of rs in generation gen. */
static int gc_queue_rules(const struct ruleset *rs, uint32_t gen)
{
	struct xlate_lpm_key k;
	for (const struct rule *r = rs->head; r; r = r->next) {
		put_key(&k, gen, r->lan, r->plen);
		if (gc_push(P_LAN, &k))
			return -1;
		put_key(&k, gen, r->wan, r->plen);
		if (gc_push(P_WAN, &k))
			return -1;
	}
	return 0;
}

/* Deletes up to budget queued entries; 0 when the queue is empty. */
static int gc_step(size_t budget, char *err, size_t errlen)
{
	for (; G.next < G.n && budget; G.next++, budget--)
		if (bpf_map_delete_elem(E.fd[G.v[G.next].map], &G.v[G.next].k) && errno != ENOENT) {
			G.scan_needed = true;
			return errf(err, errlen, "deleting an entry of the previous generation", errno);
		}
	if (G.next == G.n)
		G.n = G.next = 0;
	return 0;
}

/* Makes the spare generation empty now. */
static int gc_finish(char *err, size_t errlen)
{
	if (gc_step(SIZE_MAX, err, errlen))
		return -1;
	if (G.scan_needed && (gc_scan(E.gen ^ 1, err, errlen) || gc_step(SIZE_MAX, err, errlen)))
		return -1;
	return 0;
}

static int fill(uint32_t gen, const struct ruleset *rs, char *err, size_t errlen)
{
	struct xlate_lpm_key k;
	struct xlate_page v;
	for (const struct rule *r = rs->head; r; r = r->next) {
		put_key(&k, gen, r->lan, r->plen);
		rule_to_page(r, true, &v);
		if (bpf_map_update_elem(E.fd[P_LAN], &k, &v, BPF_ANY))
			return errf(err, errlen, "lan_pages update", errno);
		put_key(&k, gen, r->wan, r->plen);
		rule_to_page(r, false, &v);
		if (bpf_map_update_elem(E.fd[P_WAN], &k, &v, BPF_ANY))
			return errf(err, errlen, "wan_pages update", errno);
	}
	return 0;
}

static int ebpf_apply(const struct ruleset *old, const struct ruleset *rs, uint64_t *kernel_us, char *err,
		      size_t errlen)
{
	uint64_t t0 = now_us();
	uint32_t spare = E.gen ^ 1, zero = 0;
	/* The spare generation is not read by any packet (config.gen points to the other one);
	 * it must be empty before it is filled. */
	if (gc_finish(err, errlen))
		return -1;
	uint64_t t1 = now_us();
	if (fill(spare, rs, err, errlen)) {
		char e2[ERRLEN];
		G.scan_needed = true;
		gc_finish(e2, sizeof e2);
		return -1;
	}
	struct xlate_config c = {.gen = spare};
	if (bpf_map_update_elem(E.fd[P_CONFIG], &zero, &c, BPF_ANY)) {
		char e2[ERRLEN];
		int e = errno;
		G.scan_needed = true;
		gc_finish(e2, sizeof e2);
		return errf(err, errlen, "switching generation", e);
	}
	*kernel_us = now_us() - t0;
	/* The old generation (= old, switches included) goes when idle, or at the next apply. */
	if (gc_queue_rules(old, E.gen) || E.stray)
		G.scan_needed = true;
	E.stray = false;
	E.gen = spare;
	if (t1 - t0 > 1000)
		logmsg("apply: had to delete the previous generation first (%llu us)", (unsigned long long)(t1 - t0));
	return 0;
}

/* Deleting the previous generation right after the flip could race with a packet that read
 * the old config.gen a moment before: the agent waits IDLE_MS without requests first. */
static bool ebpf_idle_pending(void) { return G.next < G.n || G.scan_needed; }

static void ebpf_idle(void)
{
	char err[ERRLEN];
	if (G.scan_needed && gc_scan(E.gen ^ 1, err, sizeof err))
		logmsg("scanning the previous generation: %s", err);
	size_t before = G.n - G.next;
	if (gc_step(GC_SLICE, err, sizeof err))
		logmsg("%s", err);
	else if (before && G.n == 0)
		logmsg("deleted the previous generation");
}

/* In place, in an order that never drops a packet that the old or the new rule accepts:
 * add the new WAN key, then rewrite the LAN entry, then delete the old WAN key. */
static int ebpf_switch(const struct ruleset *rs, const struct rule *old, const struct rule *nw, uint64_t *kernel_us,
		       char *err, size_t errlen)
{
	(void)rs;
	struct xlate_lpm_key k;
	struct xlate_page v;
	uint64_t t0 = now_us();
	bool same_wan = old && nw && old->wan == nw->wan && old->plen == nw->plen;
	if (nw) {
		put_key(&k, E.gen, nw->wan, nw->plen);
		rule_to_page(nw, false, &v);
		if (bpf_map_update_elem(E.fd[P_WAN], &k, &v, BPF_ANY))
			return errf(err, errlen, "wan_pages update", errno);
		put_key(&k, E.gen, nw->lan, nw->plen);
		rule_to_page(nw, true, &v);
		if (bpf_map_update_elem(E.fd[P_LAN], &k, &v, BPF_ANY)) {
			int e = errno;
			put_key(&k, E.gen, nw->wan, nw->plen); /* roll back the WAN side */
			int rb;
			if (same_wan) {
				rule_to_page(old, false, &v);
				rb = bpf_map_update_elem(E.fd[P_WAN], &k, &v, BPF_ANY);
			} else {
				rb = bpf_map_delete_elem(E.fd[P_WAN], &k);
			}
			if (rb) { /* the current generation now differs from the rules: the next apply fixes it */
				logmsg("switch roll-back failed (%s): wan_pages holds a stray entry until the next apply",
				       strerror(errno));
				E.stray = true;
			}
			return errf(err, errlen, "lan_pages update", e);
		}
	} else if (old) {
		put_key(&k, E.gen, old->lan, old->plen);
		if (bpf_map_delete_elem(E.fd[P_LAN], &k) && errno != ENOENT)
			return errf(err, errlen, "lan_pages delete", errno);
	}
	if (old && !same_wan) {
		put_key(&k, E.gen, old->wan, old->plen);
		if (bpf_map_delete_elem(E.fd[P_WAN], &k) && errno != ENOENT) {
			/* The LAN side changed already: keep the change, note the leftover. */
			logmsg("switch: deleting the old WAN entry failed (%s): stray until the next apply", strerror(errno));
			E.stray = true;
		}
	}
	*kernel_us = now_us() - t0;
	return 0;
}

static int ebpf_counters(uint64_t out[XC_MAX], char *err, size_t errlen)
{
	uint64_t *vals = calloc((size_t)E.ncpus, sizeof *vals);
	if (!vals)
		return snprintf(err, errlen, "out of memory"), -1;
	for (uint32_t i = 0; i < XC_MAX; i++) {
		out[i] = 0;
		if (bpf_map_lookup_elem(E.fd[P_COUNTERS], &i, vals)) {
			free(vals);
			return errf(err, errlen, "counters lookup", errno);
		}
		for (int c = 0; c < E.ncpus; c++)
			out[i] += vals[c];
	}
	free(vals);
	return 0;
}

/* Does the current generation hold exactly rs? */
static bool kernel_matches(const struct ruleset *rs)
{
	for (int t = P_LAN; t <= P_WAN; t++) {
		struct xlate_lpm_key k, nk;
		size_t n = 0;
		for (void *prev = NULL; bpf_map_get_next_key(E.fd[t], prev, &nk) == 0; prev = &k) {
			k = nk;
			n += k.gen == E.gen;
		}
		if (n != rs->count)
			return false;
	}
	struct xlate_lpm_key k;
	struct xlate_page want, got;
	for (const struct rule *r = rs->head; r; r = r->next) {
		put_key(&k, E.gen, r->lan, r->plen);
		rule_to_page(r, true, &want);
		if (bpf_map_lookup_elem(E.fd[P_LAN], &k, &got) || memcmp(&want, &got, sizeof got))
			return false;
		put_key(&k, E.gen, r->wan, r->plen);
		rule_to_page(r, false, &want);
		if (bpf_map_lookup_elem(E.fd[P_WAN], &k, &got) || memcmp(&want, &got, sizeof got))
			return false;
	}
	return true;
}

static int load_fresh(const char *object, char *err, size_t errlen)
{
	struct bpf_object *obj;
	char path[4200];
	if (object) {
		obj = bpf_object__open_file(object, NULL);
	} else {
		LIBBPF_OPTS(bpf_object_open_opts, oo, .object_name = "xlate");
		obj = bpf_object__open_mem(xlate_bpf_obj, (size_t)(xlate_bpf_obj_end - xlate_bpf_obj), &oo);
	}
	if (!obj)
		return errf(err, errlen, object ? object : "opening the embedded BPF object", errno);
	int rc = bpf_object__load(obj);
	if (rc) {
		bpf_object__close(obj);
		return errf(err, errlen, "loading the BPF object (libbpf printed the verifier log above)", rc);
	}
	for (int i = 0; i < P_N; i++) {
		int fd = i <= P_TC_WAN ? bpf_program__fd(bpf_object__find_program_by_name(obj, pin_names[i]))
				       : bpf_map__fd(bpf_object__find_map_by_name(obj, pin_names[i]));
		if (fd < 0) {
			bpf_object__close(obj);
			snprintf(err, errlen, "BPF object has no %s", pin_names[i]);
			return -1;
		}
		E.fd[i] = dup(fd);
		pin_path(path, sizeof path, i);
		if (bpf_obj_pin(E.fd[i], path)) {
			int e = errno;
			bpf_object__close(obj);
			return errf(err, errlen, path, e);
		}
	}
	bpf_object__close(obj); /* our dup'ed fds and the pins keep everything */
	E.gen = 0; /* generation 0, empty: every IPv4 packet is dropped until the first apply */
	return 0;
}

static int attach(struct iface *ifc, char *err, size_t errlen)
{
	char what[128];
	int prog = E.fd[ifc->role == ROLE_LAN ? P_TC_LAN : P_TC_WAN];
	struct bpf_prog_info info = {};
	uint32_t len = sizeof info;
	if (bpf_obj_get_info_by_fd(prog, &info, &len))
		return errf(err, errlen, "prog info", errno);
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifc->ifindex, .attach_point = BPF_TC_INGRESS);
	libbpf_quiet++; /* EEXIST / ENOENT below are expected */
	int rc = bpf_tc_hook_create(&hook);
	LIBBPF_OPTS(bpf_tc_opts, q, .handle = XLATE_TC_HANDLE, .priority = XLATE_TC_PRIO);
	int qrc = bpf_tc_query(&hook, &q);
	libbpf_quiet--;
	if (rc == 0) {
		ifc->created_qdisc = true;
	} else if (rc != -EEXIST) {
		snprintf(what, sizeof what, "adding clsact to %s", ifc->name);
		return errf(err, errlen, what, rc);
	}
	if (qrc == 0 && q.prog_id == info.id) {
		logmsg("%s ingress: %s already attached (prog id %u)", ifc->name,
		       ifc->role == ROLE_LAN ? "tc_lan" : "tc_wan", info.id);
		return 0;
	}
	LIBBPF_OPTS(bpf_tc_opts, o, .handle = XLATE_TC_HANDLE, .priority = XLATE_TC_PRIO, .prog_fd = prog,
		    .flags = BPF_TC_F_REPLACE);
	rc = bpf_tc_attach(&hook, &o);
	if (rc) {
		snprintf(what, sizeof what, "attaching to %s ingress", ifc->name);
		return errf(err, errlen, what, rc);
	}
	logmsg("%s ingress: attached %s (prog id %u)%s", ifc->name, ifc->role == ROLE_LAN ? "tc_lan" : "tc_wan",
	       info.id, ifc->created_qdisc ? ", clsact is ours" : "");
	return 0;
}

static int ebpf_start(struct agent_cfg *cfg, struct ruleset *rs, char *err, size_t errlen)
{
	char path[4200];
	snprintf(E.bpfdir, sizeof E.bpfdir, "%s/bpf", cfg->state_dir);
	E.ncpus = libbpf_num_possible_cpus();
	if (E.ncpus <= 0)
		return errf(err, errlen, "counting CPUs", E.ncpus);
	if (ensure_bpffs(E.bpfdir, err, errlen))
		return -1;
	int found = 0;
	for (int i = 0; i < P_N; i++) {
		pin_path(path, sizeof path, i);
		E.fd[i] = bpf_obj_get(path);
		found += E.fd[i] >= 0;
	}
	if (found && found != P_N) {
		snprintf(err, errlen, "%s holds only part of the pinned objects: run --cleanup first", E.bpfdir);
		return -1;
	}
	if (found) {
		struct bpf_map_info mi = {};
		uint32_t len = sizeof mi;
		uint32_t zero = 0;
		struct xlate_config c;
		if (bpf_obj_get_info_by_fd(E.fd[P_LAN], &mi, &len) || mi.type != BPF_MAP_TYPE_LPM_TRIE ||
		    mi.key_size != sizeof(struct xlate_lpm_key) || mi.value_size != sizeof(struct xlate_page) ||
		    bpf_map_lookup_elem(E.fd[P_CONFIG], &zero, &c)) {
			snprintf(err, errlen, "pinned objects in %s are not this agent's layout: run --cleanup first",
				 E.bpfdir);
			return -1;
		}
		E.gen = c.gen & 1;
		G.scan_needed = true; /* the spare generation: emptied when idle */
		if (kernel_matches(rs)) {
			logmsg("picked up pinned state in %s: generation %u, %zu pages, matches %s/rules", E.bpfdir, E.gen,
			       rs->count, cfg->state_dir);
			if (gc_scan(E.gen ^ 1, err, errlen)) /* now, not while serving requests */
				return -1;
		} else {
			uint64_t us;
			logmsg("pinned page tables differ from %s/rules (agent died mid-change?): re-applying the file",
			       cfg->state_dir);
			if (ebpf_apply(&(struct ruleset){0}, rs, &us, err, errlen))
				return -1;
		}
	} else {
		if (load_fresh(cfg->bpf_object, err, errlen))
			return -1;
		logmsg("loaded %s and pinned it in %s", cfg->bpf_object ? cfg->bpf_object : "the embedded BPF object",
		       E.bpfdir);
		if (rs->count) {
			uint64_t us;
			if (ebpf_apply(&(struct ruleset){0}, rs, &us, err, errlen))
				return -1;
			logmsg("re-applied %zu persisted pages (%llu us)", rs->count, (unsigned long long)us);
		}
	}
	for (int i = 0; i < cfg->nifs; i++)
		if (attach(&cfg->ifs[i], err, errlen))
			return -1;
	return 0;
}

static int ebpf_cleanup(struct agent_cfg *cfg, char *err, size_t errlen)
{
	char path[4200];
	int rc = 0;
	for (int i = 0; i < cfg->nifs; i++) {
		struct iface *ifc = &cfg->ifs[i];
		int idx = (int)if_nametoindex(ifc->name);
		if (idx == 0) {
			logmsg("cleanup: %s is gone (namespace deleted?): nothing to detach", ifc->name);
			continue;
		}
		if (idx != ifc->ifindex) {
			logmsg("cleanup: %s has ifindex %d, not %d as recorded: not touching it", ifc->name, idx,
			       ifc->ifindex);
			continue;
		}
		LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = idx, .attach_point = BPF_TC_INGRESS);
		LIBBPF_OPTS(bpf_tc_opts, o, .handle = XLATE_TC_HANDLE, .priority = XLATE_TC_PRIO);
		int r = bpf_tc_detach(&hook, &o);
		if (r && r != -ENOENT && r != -EINVAL) {
			logmsg("cleanup: detaching from %s: %s", ifc->name, strerror(-r));
			rc = -1;
		} else {
			logmsg("cleanup: detached from %s ingress", ifc->name);
		}
		if (ifc->created_qdisc) {
			hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
			r = bpf_tc_hook_destroy(&hook);
			if (r && r != -ENOENT && r != -EINVAL)
				logmsg("cleanup: removing clsact from %s: %s", ifc->name, strerror(-r));
			else
				logmsg("cleanup: removed clsact from %s", ifc->name);
		}
	}
	snprintf(E.bpfdir, sizeof E.bpfdir, "%s/bpf", cfg->state_dir);
	struct statfs st;
	if (statfs(E.bpfdir, &st) == 0 && st.f_type == BPF_FS_MAGIC) {
		for (int i = 0; i < P_N; i++) {
			pin_path(path, sizeof path, i);
			unlink(path);
		}
		if (umount(E.bpfdir) && umount2(E.bpfdir, MNT_DETACH)) {
			snprintf(path, sizeof path, "umount %s", E.bpfdir);
			errf(err, errlen, path, errno);
			return -1;
		}
		logmsg("cleanup: unmounted %s", E.bpfdir);
	}
	if (rmdir(E.bpfdir) && errno != ENOENT)
		logmsg("cleanup: rmdir %s: %s", E.bpfdir, strerror(errno));
	if (rc)
		snprintf(err, errlen, "some tc filters could not be detached (see above)");
	return rc;
}

const struct backend backend_ebpf = {
	.name = "ebpf",
	.start = ebpf_start,
	.apply = ebpf_apply,
	.switch_page = ebpf_switch,
	.counters = ebpf_counters,
	.cleanup = ebpf_cleanup,
	.idle_pending = ebpf_idle_pending,
	.idle = ebpf_idle,
};
