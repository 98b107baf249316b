/* Persisted rule set in the state dir, so a restarted agent knows what the kernel holds.
 *
 *   DIR/rules          "# xlate-agent rules epoch=E" + the whole rule set (written to a
 *                      temporary file and renamed: atomic)
 *   DIR/rules.journal  "# epoch=E" + one line per switch since that base ("switch CIDR REST"
 *                      or "remove CIDR"), appended with one write(2) each
 *
 * A journal whose epoch differs from the base's is stale (the base was rewritten after it)
 * and ignored. When the journal grows past max(256, pages) lines it is folded into a new base.
 * No fsync: this protects against the agent dying, not the machine (a machine crash loses
 * the network namespaces anyway). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"

static unsigned long long epoch;
static size_t journal_lines;

int write_file_atomic(const char *path, const char *data, size_t len, char *err, size_t errlen)
{
	char tmp[4096];
	snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create %s: %s", tmp, strerror(errno));
		return -1;
	}
	size_t off = 0;
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
			close(fd);
			unlink(tmp);
			return -1;
		}
		off += (size_t)w;
	}
	close(fd);
	if (rename(tmp, path)) {
		snprintf(err, errlen, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return NULL;
	size_t cap = 65536, n = 0;
	char *buf = malloc(cap + 1);
	for (size_t r; buf && (r = fread(buf + n, 1, cap - n, f)) > 0;) {
		n += r;
		if (n == cap) {
			char *nb = realloc(buf, cap * 2 + 1);
			if (!nb) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
			cap *= 2;
		}
	}
	fclose(f);
	if (buf)
		buf[n] = 0;
	*len = n;
	return buf;
}

static int apply_journal_line(struct ruleset *rs, const char *line, char *err, size_t errlen)
{
	char cidr[64];
	const char *rest;
	bool sw = !strncmp(line, "switch ", 7), rm = !strncmp(line, "remove ", 7);
	if (!sw && !rm)
		return snprintf(err, errlen, "bad journal line \"%s\"", line), -1;
	rest = line + 7;
	size_t n = strcspn(rest, " ");
	if (n == 0 || n >= sizeof cidr)
		return snprintf(err, errlen, "bad journal line \"%s\"", line), -1;
	memcpy(cidr, rest, n);
	cidr[n] = 0;
	uint32_t addr;
	uint8_t plen;
	if (parse_cidr(cidr, &addr, &plen, err, errlen))
		return -1;
	struct rule *old = ruleset_find_lan(rs, addr, plen);
	if (rm) {
		if (old) {
			ruleset_unlink(rs, old);
			rule_free(old);
		}
		return 0;
	}
	char page[2200];
	snprintf(page, sizeof page, "page %s", rest);
	struct rule *r = rule_parse(page, err, errlen);
	if (!r)
		return -1;
	int rc = old ? ruleset_replace(rs, old, r, err, errlen) : ruleset_add(rs, r, err, errlen);
	if (rc) {
		rule_free(r);
		return -1;
	}
	if (old)
		rule_free(old);
	return 0;
}

int store_load(const char *dir, struct ruleset *rs, char *err, size_t errlen)
{
	char path[4096];
	size_t len;
	snprintf(path, sizeof path, "%s/rules", dir);
	char *base = read_file(path, &len);
	epoch = 0;
	journal_lines = 0;
	if (!base)
		return 0; /* nothing persisted yet */
	char *save, *line = strtok_r(base, "\n", &save);
	if (!line || sscanf(line, "# xlate-agent rules epoch=%llu", &epoch) != 1) {
		snprintf(err, errlen, "%s: missing header line", path);
		free(base);
		return -1;
	}
	int lineno = 1;
	for (line = strtok_r(NULL, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		lineno++;
		if (!*line || *line == '#')
			continue;
		char e2[ERRLEN];
		struct rule *r = rule_parse(line, e2, sizeof e2);
		if (!r || ruleset_add(rs, r, e2, sizeof e2)) {
			snprintf(err, errlen, "%s:%d: %s", path, lineno, e2);
			rule_free(r);
			free(base);
			return -1;
		}
	}
	free(base);

	snprintf(path, sizeof path, "%s/rules.journal", dir);
	char *j = read_file(path, &len);
	if (!j)
		return 0;
	unsigned long long je = 0;
	if (sscanf(j, "# epoch=%llu", &je) != 1 || je != epoch) {
		free(j);
		return 0; /* stale: folded into the base already */
	}
	/* A last line without '\n' was cut by a crash mid-write: ignore it. */
	char *last_nl = strrchr(j, '\n');
	if (last_nl)
		last_nl[1] = 0;
	lineno = 1;
	line = strtok_r(j, "\n", &save);
	for (line = strtok_r(NULL, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		lineno++;
		char e2[ERRLEN];
		if (apply_journal_line(rs, line, e2, sizeof e2)) {
			snprintf(err, errlen, "%s:%d: %s", path, lineno, e2);
			free(j);
			return -1;
		}
		journal_lines++;
	}
	free(j);
	return 0;
}

int store_write_base(const char *dir, const struct ruleset *rs, char *err, size_t errlen)
{
	size_t cap = 64, n;
	for (const struct rule *r = rs->head; r; r = r->next)
		cap += strlen(r->text) + 1;
	char *buf = malloc(cap), path[4096];
	if (!buf)
		return snprintf(err, errlen, "out of memory"), -1;
	unsigned long long ne = epoch + 1;
	n = (size_t)snprintf(buf, cap, "# xlate-agent rules epoch=%llu\n", ne);
	for (const struct rule *r = rs->head; r; r = r->next) {
		size_t l = strlen(r->text);
		memcpy(buf + n, r->text, l);
		buf[n + l] = '\n';
		n += l + 1;
	}
	snprintf(path, sizeof path, "%s/rules", dir);
	int rc = write_file_atomic(path, buf, n, err, errlen);
	free(buf);
	if (rc)
		return -1;
	epoch = ne;
	char hdr[64];
	int hl = snprintf(hdr, sizeof hdr, "# epoch=%llu\n", epoch);
	snprintf(path, sizeof path, "%s/rules.journal", dir);
	journal_lines = 0;
	/* If this fails the old journal stays with an old epoch: ignored at load. */
	return write_file_atomic(path, hdr, (size_t)hl, err, errlen);
}

int store_journal(const char *dir, const struct ruleset *rs, const char *line, char *err, size_t errlen)
{
	if (journal_lines + 1 > (rs->count > 256 ? rs->count : 256))
		return store_write_base(dir, rs, err, errlen);
	char path[4096];
	snprintf(path, sizeof path, "%s/rules.journal", dir);
	int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0) /* no journal yet (never applied): write a base instead */
		return store_write_base(dir, rs, err, errlen);
	size_t l = strlen(line);
	char *buf = malloc(l + 2);
	if (!buf) {
		close(fd);
		return snprintf(err, errlen, "out of memory"), -1;
	}
	memcpy(buf, line, l);
	buf[l] = '\n';
	ssize_t w = write(fd, buf, l + 1);
	int e = errno;
	free(buf);
	close(fd);
	if (w != (ssize_t)(l + 1)) {
		snprintf(err, errlen, "cannot append to %s: %s", path, w < 0 ? strerror(e) : "short write");
		return -1;
	}
	journal_lines++;
	return 0;
}
