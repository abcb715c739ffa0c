/* sse.h — one resumable server-sent event stream (MCP Streamable HTTP,
 * "Resumability and Redelivery").
 *
 * Owns: a stream's events (each a JSON-RPC message, framed with its id
 * "<num>-<seq>"), what of them the current connection has been handed, and
 * what is kept for a client that comes back with Last-Event-ID: at most
 * SSE_MAX_KEPT bytes, the oldest events already handed out dropped first.
 * Must not: know HTTP, sessions or the loop (http.c attaches connections
 * and decides when a stream ends or is freed); block; grow without bound.
 */
#ifndef NSM_SSE_H
#define NSM_SSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SSE_MAX_KEPT (1u << 20) /* bytes of events one stream keeps */
#define SSE_RETRY_MS 1000       /* the reconnection delay the priming event asks for */
#define SSE_MAX_EXTRA 256       /* comments and priming waiting for one connection */

struct sse_event;

struct sse_stream {
	unsigned num;              /* unique in its MCP session; ids are "<num>-<seq>" */
	uint64_t next_seq;         /* the next event's; the first is 1 */
	struct sse_event *head;    /* kept events, oldest first */
	struct sse_event *tail;    /* (newest) */
	struct sse_event *cursor;  /* the next event to hand out; NULL: all handed */
	size_t cursor_off;         /* bytes of it already handed */
	size_t kept;               /* bytes of the kept events */
	char extra[SSE_MAX_EXTRA]; /* for the current connection only, before events */
	size_t extra_len, extra_off;
	bool ended;       /* its last event is in (a call's answer), or it was ended */
	uint64_t dropped; /* events not kept: the client was not reading */
};

void sse_init(struct sse_stream *s, unsigned num);
void sse_free(struct sse_stream *s);
/* Append one JSON-RPC message (n bytes, no newline inside). Dropped (-1)
 * when it would take the stream past SSE_MAX_KEPT with events not yet
 * handed out, unless must (an answer is never dropped). */
int sse_push(struct sse_stream *s, const char *json, size_t n, bool must);
/* The newest event is json and not handed out yet (a notification that
 * says only "look again" need not wait there twice). */
bool sse_waiting_is(const struct sse_stream *s, const char *json, size_t n);
/* No more events (an answer was pushed, or the stream is being closed). */
void sse_end(struct sse_stream *s);
/* A new connection starts reading: what it is handed begins with the
 * priming event (the id of the last event before what it will be handed,
 * empty data, and a retry field), then the events from the cursor. */
void sse_prime(struct sse_stream *s);
/* A comment line (a keep-alive), for the current connection only. */
void sse_comment(struct sse_stream *s, const char *text);
/* A client resuming after event seq: the cursor goes to the first kept
 * event after it. 0: resumed; 1: resumed, but events after seq were
 * dropped (not kept); -1: seq was never given out (nothing changes). */
int sse_resume(struct sse_stream *s, uint64_t seq);
/* Copy up to max pending bytes into buf; 0: nothing pending. */
size_t sse_read(struct sse_stream *s, char *buf, size_t max);
bool sse_pending(const struct sse_stream *s);
/* Ended and everything handed out: the connection's response is over. */
bool sse_finished(const struct sse_stream *s);
/* "<num>-<seq>" of a Last-Event-ID header; -1 if it is not one. */
int sse_parse_id(const char *id, unsigned *num, uint64_t *seq);

#endif
