/* sse.c — see sse.h. */
#include "sse.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sse_event {
	struct sse_event *next;
	uint64_t seq;
	size_t len;
	char bytes[]; /* "id: N-S\nevent: message\ndata: ...\n\n" */
};

void sse_init(struct sse_stream *s, unsigned num)
{
	memset(s, 0, sizeof *s);
	s->num = num;
	s->next_seq = 1;
}

void sse_free(struct sse_stream *s)
{
	while (s->head) {
		struct sse_event *e = s->head;
		s->head = e->next;
		free(e);
	}
	s->tail = s->cursor = NULL;
	s->kept = 0;
}

/* An event is handed out when it comes before the cursor (all are when
 * there is none). */
static bool handed(const struct sse_stream *s, const struct sse_event *e)
{
	return !s->cursor || e->seq < s->cursor->seq;
}

int sse_push(struct sse_stream *s, const char *json, size_t n, bool must)
{
	while (n && json[n - 1] == '\n')
		n--;
	if (s->ended)
		return -1;
	/* Room first from events the client already has. */
	while (s->head && s->kept + n + 64 > SSE_MAX_KEPT && handed(s, s->head)) {
		struct sse_event *e = s->head;
		s->head = e->next;
		if (!s->head)
			s->tail = NULL;
		s->kept -= e->len;
		free(e);
	}
	if (!must && s->kept + n + 64 > SSE_MAX_KEPT) {
		s->dropped++;
		return -1;
	}
	char head[64];
	int hn = snprintf(head, sizeof head, "id: %u-%" PRIu64 "\nevent: message\ndata: ", s->num,
	                  s->next_seq);
	struct sse_event *e = malloc(sizeof *e + (size_t)hn + n + 2);
	if (!e) {
		s->dropped++;
		return -1;
	}
	e->next = NULL;
	e->seq = s->next_seq++;
	memcpy(e->bytes, head, (size_t)hn);
	memcpy(e->bytes + hn, json, n);
	memcpy(e->bytes + hn + n, "\n\n", 2);
	e->len = (size_t)hn + n + 2;
	if (s->tail)
		s->tail->next = e;
	else
		s->head = e;
	s->tail = e;
	s->kept += e->len;
	if (!s->cursor) {
		s->cursor = e;
		s->cursor_off = 0;
	}
	return 0;
}

bool sse_waiting_is(const struct sse_stream *s, const char *json, size_t n)
{
	while (n && json[n - 1] == '\n')
		n--;
	const struct sse_event *e = s->tail;
	if (!e || handed(s, e) || (e == s->cursor && s->cursor_off))
		return false;
	const char *data = strstr(e->bytes, "\ndata: ");
	if (!data)
		return false;
	data += 7;
	return (size_t)(e->bytes + e->len - 2 - data) == n && memcmp(data, json, n) == 0;
}

void sse_end(struct sse_stream *s)
{
	s->ended = true;
}

static void extra_add(struct sse_stream *s, const char *text)
{
	size_t n = strlen(text);
	if (s->extra_off == s->extra_len)
		s->extra_off = s->extra_len = 0;
	if (s->extra_len + n <= sizeof s->extra) {
		memcpy(s->extra + s->extra_len, text, n);
		s->extra_len += n;
	}
}

void sse_prime(struct sse_stream *s)
{
	s->extra_len = s->extra_off = 0;
	s->cursor_off = 0; /* a new connection starts at an event's start */
	uint64_t before = s->cursor ? s->cursor->seq - 1 : s->next_seq - 1;
	char p[96];
	snprintf(p, sizeof p, "id: %u-%" PRIu64 "\nretry: %u\ndata: \n\n", s->num, before,
	         SSE_RETRY_MS);
	extra_add(s, p);
}

void sse_comment(struct sse_stream *s, const char *text)
{
	char c[96];
	snprintf(c, sizeof c, ": %.80s\n\n", text);
	extra_add(s, c);
}

int sse_resume(struct sse_stream *s, uint64_t seq)
{
	if (seq >= s->next_seq)
		return -1;
	struct sse_event *e = s->head;
	while (e && e->seq <= seq)
		e = e->next;
	s->cursor = e;
	s->cursor_off = 0;
	/* Lost: the oldest kept event is not the one right after seq. */
	uint64_t first_kept = s->head ? s->head->seq : s->next_seq;
	return first_kept > seq + 1 ? 1 : 0;
}

size_t sse_read(struct sse_stream *s, char *buf, size_t max)
{
	size_t done = 0;
	/* Comments and priming only between events. */
	if (s->extra_off < s->extra_len && s->cursor_off == 0) {
		size_t k = s->extra_len - s->extra_off;
		if (k > max)
			k = max;
		memcpy(buf, s->extra + s->extra_off, k);
		s->extra_off += k;
		done += k;
	}
	while (done < max && s->cursor) {
		struct sse_event *e = s->cursor;
		size_t k = e->len - s->cursor_off;
		if (k > max - done)
			k = max - done;
		memcpy(buf + done, e->bytes + s->cursor_off, k);
		done += k;
		s->cursor_off += k;
		if (s->cursor_off == e->len) {
			s->cursor = e->next;
			s->cursor_off = 0;
		}
	}
	return done;
}

bool sse_pending(const struct sse_stream *s)
{
	return s->extra_off < s->extra_len || s->cursor;
}

bool sse_finished(const struct sse_stream *s)
{
	return s->ended && !sse_pending(s);
}

int sse_parse_id(const char *id, unsigned *num, uint64_t *seq)
{
	if (!id)
		return -1;
	char *end;
	if (id[0] < '0' || id[0] > '9')
		return -1;
	unsigned long long n = strtoull(id, &end, 10);
	if (*end != '-' || n > 0x7fffffffu || end[1] < '0' || end[1] > '9')
		return -1;
	const char *q = end + 1;
	unsigned long long sq = strtoull(q, &end, 10);
	if (*end || (sq == ~0ULL) || end - q > 19)
		return -1;
	*num = (unsigned)n;
	*seq = (uint64_t)sq;
	return 0;
}
