/* capture.c — see capture.h. */
#include "capture.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "loop.h"

void capture_init(struct capture *c, size_t cap, const char *who)
{
	memset(c, 0, sizeof *c);
	c->fd = -1;
	c->who = who;
	outcap_init(&c->o, cap);
}

void capture_attach(struct capture *c, int fd)
{
	c->fd = fd;
	c->eof = false;
}

void capture_restart(struct capture *c, const char *m, size_t ml)
{
	outcap_free(&c->o);
	c->runaway = false;
	c->scan = (struct marker_scan){ m, ml, 0, false };
}

static void keep_bytes(void *ctx, const char *p, size_t n)
{
	outcap_add(ctx, p, n);
}

static void ended(struct capture *c)
{
	c->eof = true;
	loop_unwatch(c->fd);
}

bool capture_read(struct capture *c, bool drain, bool keep)
{
	char buf[CAPTURE_READ_BYTES];
	bool hit = false;
	for (int round = 0; !c->eof && (drain || round < CAPTURE_ROUNDS); round++) {
		ssize_t n = read(c->fd, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			if (n < 0)
				log_msg(LOG_WARNING, "%s: read output: %s", c->who,
				        strerror(errno));
			ended(c);
			break;
		}
		if (!keep)
			continue;
		if (c->scan.marker_len) /* (after the marker: nothing is kept) */
			marker_scan_feed(&c->scan, buf, (size_t)n, keep_bytes, &c->o);
		else
			outcap_add(&c->o, buf, (size_t)n);
		if (!c->runaway && c->o.total > c->o.cap + CAPTURE_RUNAWAY_BYTES) {
			c->runaway = true;
			hit = true;
		}
	}
	return hit;
}

bool capture_done(const struct capture *c)
{
	return c->eof || c->scan.found;
}

void capture_take(struct capture *c, char **buf, size_t *len, size_t *total, bool *truncated)
{
	if (c->scan.marker_len && !c->scan.found)
		marker_scan_flush(&c->scan, keep_bytes, &c->o);
	outcap_take(&c->o, buf, len, total, truncated);
}

void capture_free(struct capture *c)
{
	outcap_free(&c->o);
}

/* The marker holds 0x1e only as its first and last byte (token: hex, id:
 * digits), so no proper prefix of it is a suffix of another prefix: after a
 * mismatch the search restarts at the mismatching byte, and held-back bytes
 * are exactly marker[0..matched). */
size_t marker_scan_feed(struct marker_scan *s, const char *p, size_t n, marker_emit_fn *emit,
                        void *ctx)
{
	size_t i = 0;
	if (s->found)
		return n;
	while (i < n) {
		if (s->matched == 0) {
			const char *rs = memchr(p + i, 0x1e, n - i);
			size_t plain = rs ? (size_t)(rs - (p + i)) : n - i;
			if (plain)
				emit(ctx, p + i, plain);
			i += plain;
			if (!rs)
				break;
			s->matched = 1;
			i++;
			continue;
		}
		if (p[i] == s->marker[s->matched]) {
			s->matched++;
			i++;
			if (s->matched == s->marker_len) {
				s->found = true;
				s->matched = 0;
				return i;
			}
			continue;
		}
		emit(ctx, s->marker, s->matched);
		s->matched = 0; /* p[i] is looked at again from state 0 */
	}
	return n;
}

void marker_scan_flush(struct marker_scan *s, marker_emit_fn *emit, void *ctx)
{
	if (s->matched)
		emit(ctx, s->marker, s->matched);
	s->matched = 0;
}
