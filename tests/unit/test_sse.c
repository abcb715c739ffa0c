/* Unit tests for csrc/sse.c: a resumable SSE stream's ids, priming,
 * replay after Last-Event-ID, and its bound. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sse.h"
#include "tap.h"

/* Everything pending, read k bytes at a time, as one string. */
static char *drain(struct sse_stream *s, size_t k)
{
	size_t cap = 1 << 16, len = 0;
	char *out = malloc(cap + 1);
	size_t r;
	while (out && len + k <= cap && (r = sse_read(s, out + len, k)) > 0)
		len += r;
	if (out)
		out[len] = '\0';
	return out;
}

static int count(const char *hay, const char *needle)
{
	int n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

int main(void)
{
	struct sse_stream s;
	sse_init(&s, 7);
	TAP_OK(!sse_pending(&s) && !sse_finished(&s), "a new stream has nothing pending");

	/* Priming: the id before what comes, empty data, a retry field. */
	sse_prime(&s);
	char *o = drain(&s, 5);
	TAP_OK(o && strcmp(o, "id: 7-0\nretry: 1000\ndata: \n\n") == 0,
	       "priming a new stream: id 7-0, retry 1000, empty data (%s)", o);
	free(o);

	sse_push(&s, "{\"a\":1}\n", 8, false);
	sse_push(&s, "{\"b\":2}", 7, false);
	o = drain(&s, 3);
	TAP_OK(o && strcmp(o, "id: 7-1\nevent: message\ndata: {\"a\":1}\n\n"
	                      "id: 7-2\nevent: message\ndata: {\"b\":2}\n\n") == 0,
	       "events carry <num>-<seq> ids in order, read in small pieces whole (%s)", o);
	free(o);
	TAP_OK(!sse_pending(&s), "all handed out: nothing pending");

	/* A client that saw only 7-1 comes back. */
	TAP_OK(sse_resume(&s, 1) == 0, "resuming after 7-1 is without loss");
	sse_prime(&s);
	o = drain(&s, 4096);
	TAP_OK(o && strncmp(o, "id: 7-1\nretry: 1000\ndata: \n\n", 28) == 0 &&
	           count(o, "data: {\"b\":2}") == 1 && count(o, "data: {\"a\":1}") == 0,
	       "then it is handed 7-2 again, not 7-1 (%s)", o);
	free(o);
	o = NULL;
	TAP_OK(sse_resume(&s, 0) == 0 && (o = drain(&s, 4096)) && count(o, "id: 7-") == 2,
	       "resuming from the priming id replays both");
	free(o);
	TAP_OK(sse_resume(&s, 3) == -1, "an id never given out is refused");
	TAP_OK(sse_resume(&s, 99) == -1 && !sse_pending(&s), "and changes nothing");

	/* A connection cut mid-event: the next starts at an event's start. */
	sse_push(&s, "{\"c\":3}", 7, false);
	char part[10];
	sse_read(&s, part, sizeof part);
	sse_prime(&s);
	o = drain(&s, 4096);
	TAP_OK(o && strcmp(o, "id: 7-2\nretry: 1000\ndata: \n\n"
	                      "id: 7-3\nevent: message\ndata: {\"c\":3}\n\n") == 0,
	       "a new connection after a partial read gets the whole event (%s)", o);
	free(o);

	/* A keep-alive never lands inside an event. */
	sse_push(&s, "{\"d\":4}", 7, false);
	sse_read(&s, part, 5);
	sse_comment(&s, "keep-alive");
	o = drain(&s, 4096);
	TAP_OK(o && strcmp(o, "-4\nevent: message\ndata: {\"d\":4}\n\n: keep-alive\n\n") == 0,
	       "a comment waits for the event being handed to end (%s)", o);
	free(o);

	/* A notification that is waiting already. */
	TAP_OK(!sse_waiting_is(&s, "{\"d\":4}", 7), "an event handed out is not waiting");
	sse_push(&s, "{\"e\":5}", 7, false);
	TAP_OK(sse_waiting_is(&s, "{\"e\":5}\n", 8) && !sse_waiting_is(&s, "{\"e\":6}", 7) &&
	           !sse_waiting_is(&s, "{\"e\":5", 6),
	       "the newest event not handed out is waiting, compared byte for byte");
	sse_read(&s, part, 3);
	TAP_OK(!sse_waiting_is(&s, "{\"e\":5}", 7), "not once a connection has begun to take it");
	o = drain(&s, 4096);
	free(o);

	/* The end. */
	sse_push(&s, "{\"result\":{}}", 13, true);
	sse_end(&s);
	TAP_OK(!sse_finished(&s), "ended with an event pending: not finished");
	o = drain(&s, 4096);
	TAP_OK(sse_finished(&s) && o && count(o, "id: 7-6") == 1, "after it is handed: finished");
	free(o);
	TAP_OK(sse_push(&s, "{}", 2, true) == -1, "nothing is pushed after the end");
	o = NULL;
	TAP_OK(sse_resume(&s, 5) == 0 && !sse_finished(&s) && (o = drain(&s, 4096)) &&
	           count(o, "{\"result\":{}}") == 1 && sse_finished(&s),
	       "an ended stream still replays its answer to a client that missed it");
	free(o);
	sse_free(&s);

	/* The bound: a client that reads nothing. */
	sse_init(&s, 1);
	static char big[4096];
	memset(big, 'x', sizeof big);
	int pushed = 0, refused = 0;
	for (int i = 0; i < 600; i++)
		if (sse_push(&s, big, sizeof big, false) == 0)
			pushed++;
		else
			refused++;
	TAP_OK(s.kept <= SSE_MAX_KEPT && refused > 0 && s.dropped == (uint64_t)refused,
	       "unread events stop at SSE_MAX_KEPT (%zu kept, %d pushed, %d dropped)", s.kept,
	       pushed, refused);
	TAP_OK(sse_push(&s, "{\"id\":1,\"result\":{}}", 20, true) == 0 &&
	           s.kept > SSE_MAX_KEPT - 4096,
	       "an answer is kept even then");
	/* Once read, old events make room for new ones. */
	o = drain(&s, 1 << 16);
	free(o);
	while (sse_pending(&s)) {
		char tmp[65536];
		sse_read(&s, tmp, sizeof tmp);
	}
	TAP_OK(sse_push(&s, big, sizeof big, false) == 0 && s.kept <= SSE_MAX_KEPT,
	       "after they are handed out, the oldest are dropped for a new one");
	TAP_OK(sse_resume(&s, 0) == 1,
	       "resuming from before a dropped event says events were lost");
	o = drain(&s, 1 << 16);
	TAP_OK(s.head && o && strncmp(o, "id: 1-", 6) == 0 && strncmp(o, "id: 1-1\n", 8) != 0,
	       "and replays from the oldest kept (%.12s)", o ? o : "");
	free(o);
	sse_free(&s);

	/* Last-Event-ID. */
	unsigned num;
	uint64_t seq;
	TAP_OK(sse_parse_id("3-17", &num, &seq) == 0 && num == 3 && seq == 17, "3-17 parses");
	TAP_OK(sse_parse_id("0-0", &num, &seq) == 0 && num == 0 && seq == 0, "0-0 parses");
	const char *bad[] = { "",
		              "3",
		              "3-",
		              "-3",
		              "a-1",
		              "3-x",
		              "3-1x",
		              "3--1",
		              "+3-1",
		              "3-+1",
		              " 3-1",
		              "99999999999-1",
		              "1-99999999999999999999",
		              NULL };
	int all_bad = 1;
	for (int i = 0; bad[i]; i++)
		if (sse_parse_id(bad[i], &num, &seq) == 0) {
			printf("# accepted: \"%s\"\n", bad[i]);
			all_bad = 0;
		}
	TAP_OK(all_bad && sse_parse_id(NULL, &num, &seq) == -1, "malformed ids are refused");
	return TAP_DONE();
}
