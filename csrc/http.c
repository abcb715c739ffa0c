/* http.c — see http.h.
 *
 * libmicrohttpd parses HTTP (a server that faces other machines should not
 * hand-roll a parser; README, "Streamable HTTP"). It runs without a thread of
 * its own (MHD_USE_EPOLL, no internal polling): its epoll fd is watched by
 * loop.c and MHD_run does non-blocking I/O only, so a slow or stalled client
 * costs a connection slot (bounded, with a timeout), never the loop.
 *
 * A POST whose answer comes later (a run) is suspended
 * (MHD_suspend_connection) and resumed when mcp.c answers through the
 * request's rpc_peer. An SSE answer is a stream (struct stream, the
 * rpc_peer of its call) read by libmicrohttpd through sse_reader, which
 * suspends the connection while nothing is pending; the stream outlives
 * the connection, so a client can come back for it (GET, Last-Event-ID).
 * libmicrohttpd's rule: suspend only from its callbacks; resume at any time,
 * then run it again (kick). A suspended connection's socket is not looked at
 * by libmicrohttpd, so the loop watches it meanwhile (POLLRDHUP): a client
 * that goes away before a JSON answer has its call cancelled at once, as
 * when libmicrohttpd sees it go (on_completed); a stream waits for it.
 */
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <microhttpd.h>

#include "jsonraw.h"
#include "log.h"
#include "loop.h"
#include "mcp.h"
#include "rpc.h"
#include "sse.h"

struct http_session;
struct exchange;

/* An SSE stream of an MCP session: a POST's (a request answered as a
 * stream) or the session's stream on GET (num 0). It outlives its
 * connection: a client that lost it comes back with Last-Event-ID (GET)
 * and is handed what it missed; a call goes on meanwhile. */
struct stream {
	struct rpc_peer peer; /* first: what mcp.c sends for it comes here */
	struct sse_stream log;
	struct http_session *sess; /* NULL: the session ended */
	struct stream *next;       /* in sess->streams */
	struct exchange *x;        /* the connection reading it; NULL: none */
	uint64_t lost_ms;          /* when it last lost its connection */
	uint64_t wrote_ms;         /* when it last handed bytes out */
	bool call;                 /* a POST's: ends with its request's answer */
	bool is_init;              /* (initialize) */
	bool let_go;               /* end the connection once it has read all */
	char *id_text;             /* the request's id, kept when its POST went */
};

/* One HTTP request and, for a POST, the JSON-RPC message it carries. */
struct exchange {
	struct rpc_peer peer; /* first: rpc.c hands it back (JSON answers) */
	struct MHD_Connection *conn;
	struct http_session *sess; /* NULL: none, or it ended */
	struct exchange *next;     /* in sess->xs */
	struct stream *st;         /* an SSE answer: the stream it reads; NULL:
	                            * none, or another connection took it over */
	char *body;
	size_t body_len;
	bool too_big, started, suspended, sse, done, is_init;
	bool is_post;    /* its body is the request of its stream (a GET's is not) */
	int hup_fd;      /* its socket, watched while suspended; -1: not */
	unsigned status; /* of a JSON answer */
	char *out;       /* the JSON body */
	size_t out_len;
};

struct http_session {
	bool used;
	char id[65]; /* 64 hex digits of getrandom */
	unsigned long owner;
	uint64_t last_ms;
	struct exchange *xs;    /* requests open in it */
	struct stream *streams; /* newest first */
	unsigned next_stream;   /* the next POST stream's num (0 is GET's) */
};

static struct MHD_Daemon *daemon_;
static int listen_fd = -1, epoll_fd = -1;
static long run_timer, sweep_timer;
static bool kicked; /* a connection was resumed since MHD_run last began */
static char token[HTTP_MAX_TOKEN + 1];
static bool have_token;
static struct http_options opts;
static char own_origins[4][96];
static size_t n_own_origins;
static struct http_session sessions[HTTP_MAX_SESSIONS];
static unsigned long next_owner = 1;
static uint64_t idle_ms;
static int open_exchanges;

int http_session_count(void)
{
	int n = 0;
	for (size_t i = 0; i < HTTP_MAX_SESSIONS; i++)
		n += sessions[i].used;
	return n;
}

/* ---- driving libmicrohttpd from the loop ---------------------------------- */

static void rearm(void);

static void run_now(void)
{
	kicked = false;
	if (daemon_ && MHD_run(daemon_) != MHD_YES)
		log_msg(LOG_WARNING, "http: MHD_run failed");
	rearm();
}

static void on_run_timer(void *ctx)
{
	(void)ctx;
	run_timer = 0;
	run_now();
}

static void set_run_timer(uint64_t delay_ms)
{
	if (run_timer)
		loop_timer_cancel(run_timer);
	struct err e;
	run_timer = loop_timer_add(loop_now_ms() + delay_ms, on_run_timer, NULL, &e);
	if (run_timer < 0) {
		log_msg(LOG_WARNING, "http: %s", e.msg);
		run_timer = 0;
	}
}

/* The next time libmicrohttpd wants to run without I/O (connection
 * timeouts), or at once when a connection was resumed meanwhile: one
 * resumed from inside MHD_run (a DELETE or a cancellation on another
 * request ends a stream) is served by the next run, which its
 * MHD_get_timeout does not ask for. */
static void rearm(void)
{
	MHD_UNSIGNED_LONG_LONG ms;
	if (kicked)
		set_run_timer(0);
	else if (daemon_ && MHD_get_timeout(daemon_, &ms) == MHD_YES)
		set_run_timer(ms > 60000 ? 60000 : (uint64_t)ms);
}

/* After a resume: let libmicrohttpd see it from the loop, not from inside
 * one of its callbacks. */
static void kick(void)
{
	kicked = true;
	set_run_timer(0);
}

static void on_epoll(void *ctx, int fd, short revents)
{
	(void)ctx;
	(void)fd;
	(void)revents;
	run_now();
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	char msg[256];
	vsnprintf(msg, sizeof msg, fmt, ap);
	size_t n = strlen(msg);
	while (n && msg[n - 1] == '\n')
		msg[--n] = '\0';
	log_msg(LOG_DEBUG, "http: %s", msg);
}

/* ---- sessions ------------------------------------------------------------- */

static struct http_session *find_session(const char *id)
{
	for (size_t i = 0; i < HTTP_MAX_SESSIONS; i++)
		if (sessions[i].used && strcmp(sessions[i].id, id) == 0)
			return &sessions[i];
	return NULL;
}

static int new_session(struct http_session **out, struct err *e)
{
	struct http_session *s = NULL;
	for (size_t i = 0; i < HTTP_MAX_SESSIONS && !s; i++)
		if (!sessions[i].used)
			s = &sessions[i];
	if (!s)
		return err_set(
		    e, EBUSY,
		    "%d MCP sessions are open; end one (DELETE /mcp) or wait for one to expire",
		    HTTP_MAX_SESSIONS);
	unsigned char rnd[32];
	ssize_t r;
	do
		r = getrandom(rnd, sizeof rnd, 0);
	while (r < 0 && errno == EINTR);
	if (r != (ssize_t)sizeof rnd)
		return err_sys(e, r < 0 ? errno : EIO, "http: getrandom for a session id");
	memset(s, 0, sizeof *s);
	for (size_t i = 0; i < sizeof rnd; i++)
		snprintf(s->id + 2 * i, 3, "%02x", rnd[i]);
	s->used = true;
	s->owner = next_owner++;
	s->last_ms = loop_now_ms();
	*out = s;
	return 0;
}

static void finish(struct exchange *x, unsigned status, const char *json);

/* DELETE, expiry, shutdown: requests still open in it are answered with an
 * error and their calls cancelled; then its sandbox sessions end. */
/* The id of x's request as its client sent it (numbers by their source
 * text, as rpc.c echoes them), read again from its body: only a request the
 * transport answers itself needs it. NULL when there is none. */
static char *request_id(struct exchange *x)
{
	const char *end = NULL;
	cJSON *msg = x->body ? cJSON_ParseWithLengthOpts(x->body, x->body_len, &end, false) : NULL;
	cJSON *id = cJSON_GetObjectItemCaseSensitive(msg, "id");
	struct jsonraw raw;
	if (cJSON_IsNumber(id) && jsonraw_scan(x->body, x->body_len, &raw) == 0) {
		jsonraw_attach(&raw, x->body, (size_t)(end - x->body), msg, &id, 1);
		jsonraw_free(&raw);
	}
	cJSON *dup = id ? rpc_id_dup(id) : NULL;
	char *text = dup ? cJSON_PrintUnformatted(dup) : NULL;
	cJSON_Delete(dup);
	cJSON_Delete(msg);
	return text;
}

/* The answer to a request the session's end leaves unanswered. */
static void ended_answer(char *out, size_t size, const char *id)
{
	snprintf(out, size,
	         "{\"jsonrpc\":\"2.0\",\"id\":%s,\"error\":{\"code\":-32000,"
	         "\"message\":\"the MCP session ended before this request was "
	         "answered\"}}",
	         id && strlen(id) < 128 ? id : "null");
}

static void streams_end(struct http_session *s);

static void end_session(struct http_session *s, const char *why)
{
	log_msg(LOG_INFO, "http: MCP session %.8s...: %s", s->id, why);
	streams_end(s);
	while (s->xs) {
		struct exchange *x = s->xs;
		s->xs = x->next;
		x->sess = NULL;
		mcp_peer_gone(&x->peer);
		if (!x->done && !x->sse) {
			char *id = request_id(x);
			char msg[256];
			ended_answer(msg, sizeof msg, id);
			free(id);
			finish(x, 404, msg);
		}
	}
	mcp_owner_gone(s->owner);
	memset(s, 0, sizeof *s);
}

static void streams_sweep(struct http_session *s, uint64_t now);

static void on_sweep(void *ctx)
{
	(void)ctx;
	sweep_timer = 0;
	uint64_t now = loop_now_ms();
	for (size_t i = 0; i < HTTP_MAX_SESSIONS; i++) {
		if (sessions[i].used)
			streams_sweep(&sessions[i], now);
		if (sessions[i].used && !sessions[i].xs && now - sessions[i].last_ms >= idle_ms)
			end_session(&sessions[i], "idle; ended (its sandboxes are killed)");
	}
	struct err e;
	uint64_t period = idle_ms / 4 < 1000 ? idle_ms / 4 : 1000;
	sweep_timer = loop_timer_add(now + (period ? period : 1), on_sweep, NULL, &e);
	if (sweep_timer < 0)
		sweep_timer = 0;
}

/* ---- answers -------------------------------------------------------------- */

static void unlink_exchange(struct exchange *x)
{
	if (!x->sess)
		return;
	for (struct exchange **p = &x->sess->xs; *p; p = &(*p)->next)
		if (*p == x) {
			*p = x->next;
			break;
		}
	x->sess->last_ms = loop_now_ms();
	x->sess = NULL;
}

static void unwatch_hup(struct exchange *x)
{
	if (x->hup_fd >= 0)
		loop_unwatch(x->hup_fd);
	x->hup_fd = -1;
}

static void resume(struct exchange *x)
{
	if (x->suspended) {
		x->suspended = false;
		unwatch_hup(x);
		MHD_resume_connection(x->conn);
		kick();
	}
}

static void peer_unanswered(struct rpc_peer *p);
static void stream_detach(struct exchange *x);

/* The client closed its end while its answer was pending. A JSON answer's
 * call is cancelled (no answer will come, so the request ends as a
 * cancelled one does). A stream waits for the client to come back with
 * Last-Event-ID (streams_sweep gives it up after a while). Either way
 * libmicrohttpd is let to find the socket closed and end the request. */
static void on_client_hup(void *ctx, int fd, short revents)
{
	struct exchange *x = ctx;
	(void)fd;
	(void)revents;
	unwatch_hup(x);
	if (x->sse) {
		log_msg(LOG_DEBUG, "http: a stream's client went away; the stream waits for it");
		stream_detach(x);
	} else {
		log_msg(LOG_DEBUG,
		        "http: a client went away before its answer; its call is cancelled");
		mcp_peer_gone(&x->peer);
		peer_unanswered(&x->peer);
	}
	resume(x);
}

/* Wait for the answer without polling (from libmicrohttpd's callbacks only),
 * watching for the client going away meanwhile. */
static void suspend(struct exchange *x)
{
	x->suspended = true;
	MHD_suspend_connection(x->conn);
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(x->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	struct err e = { 0 };
	if (x->hup_fd < 0 && ci && loop_watch(ci->connect_fd, POLLRDHUP, on_client_hup, x, &e) == 0)
		x->hup_fd = ci->connect_fd;
	else if (x->hup_fd < 0)
		log_msg(LOG_DEBUG, "http: a waiting client is not watched (%s)",
		        ci ? e.msg : "no socket");
}

/* A JSON answer is known: its body and status. */
static void finish(struct exchange *x, unsigned status, const char *json)
{
	if (x->done || x->sse)
		return;
	x->done = true;
	free(x->out);
	x->out = strdup(json);
	x->out_len = x->out ? strlen(json) : 0;
	x->status = status;
	resume(x);
}

/* rpc.c's peer callback for a JSON answer: the reply. */
static void peer_send(struct rpc_peer *p, char *line, size_t n, bool is_reply)
{
	struct exchange *x = (struct exchange *)p;
	if (x->done || !is_reply) {
		/* A notification on a JSON answer has nowhere to go; a second
		 * reply (rpc.c's "more than one value") neither. */
		free(line);
		return;
	}
	while (n && line[n - 1] == '\n')
		line[--n] = '\0';
	if (x->is_init && x->sess && !strstr(line, "\"result\":")) {
		/* initialize failed: no session after all. */
		struct http_session *s = x->sess;
		unlink_exchange(x);
		end_session(s, "initialize failed");
	}
	finish(x, 200, line);
	free(line);
}

/* The request was cancelled (notifications/cancelled on another POST): no
 * JSON-RPC answer, so its HTTP answer is empty: 202. */
static void peer_unanswered(struct rpc_peer *p)
{
	struct exchange *x = (struct exchange *)p;
	if (x->done)
		return;
	x->done = true;
	free(x->out);
	x->out = NULL;
	x->out_len = 0;
	x->status = 202;
	resume(x);
}

/* ---- streams ----------------------------------------------------------------- */

static void stream_send(struct rpc_peer *p, char *line, size_t n, bool is_reply);
static void stream_unanswered(struct rpc_peer *p);
static void stream_let_go(struct rpc_peer *p);

static struct stream *stream_find(struct http_session *s, unsigned num)
{
	for (struct stream *st = s->streams; st; st = st->next)
		if (st->log.num == num)
			return st;
	return NULL;
}

static void stream_unlink(struct stream *st)
{
	if (!st->sess)
		return;
	for (struct stream **p = &st->sess->streams; *p; p = &(*p)->next)
		if (*p == st) {
			*p = st->next;
			break;
		}
	st->sess = NULL;
}

static void stream_free(struct stream *st)
{
	stream_unlink(st);
	if (st->x)
		st->x->st = NULL;
	sse_free(&st->log);
	free(st->id_text);
	free(st);
}

/* Streams that lost their connection and have nothing left to do are
 * kept for a late client, HTTP_MAX_KEPT_STREAMS and HTTP_MAX_KEPT_BYTES at
 * most (the newest whatever its size): the oldest go. */
static void streams_trim(struct http_session *s)
{
	for (;;) {
		size_t kept = 0, bytes = 0;
		struct stream *oldest = NULL;
		for (struct stream *st = s->streams; st; st = st->next)
			if (!st->x && st->call && st->log.ended) {
				kept++;
				bytes += st->log.kept;
				oldest = st; /* (newest first) */
			}
		if (kept <= 1 || (kept <= HTTP_MAX_KEPT_STREAMS && bytes <= HTTP_MAX_KEPT_BYTES))
			return;
		stream_free(oldest);
	}
}

/* Bytes of answers and events held for clients: every stream's kept
 * events and every JSON answer not yet written. */
static size_t held_bytes(void)
{
	size_t n = 0;
	for (size_t i = 0; i < HTTP_MAX_SESSIONS; i++) {
		if (!sessions[i].used)
			continue;
		for (struct stream *st = sessions[i].streams; st; st = st->next)
			n += st->log.kept;
		for (struct exchange *x = sessions[i].xs; x; x = x->next)
			n += x->out_len;
	}
	return n;
}

/* rpc.c asks before a reply of n bytes: is there room under
 * HTTP_MAX_HELD_BYTES? Answers kept for clients that never came back go
 * first, the longest gone first; then no (the reply is replaced by a
 * short error: the clients holding the memory are not reading). */
static bool peer_room(struct rpc_peer *p, size_t n)
{
	(void)p;
	for (;;) {
		size_t held = held_bytes();
		if (held + n <= HTTP_MAX_HELD_BYTES)
			return true;
		struct stream *victim = NULL;
		for (size_t i = 0; i < HTTP_MAX_SESSIONS; i++)
			for (struct stream *st = sessions[i].used ? sessions[i].streams : NULL; st;
			     st = st->next)
				if (!st->x && st->call && st->log.ended &&
				    (!victim || st->lost_ms < victim->lost_ms))
					victim = st;
		if (!victim)
			return false;
		stream_free(victim);
	}
}

static struct stream *stream_new(struct http_session *s, unsigned num, bool call)
{
	struct stream *st = calloc(1, sizeof *st);
	if (!st)
		return NULL;
	sse_init(&st->log, num);
	st->peer.send = stream_send;
	st->peer.unanswered = stream_unanswered;
	st->peer.let_go = stream_let_go;
	st->peer.room = peer_room;
	st->peer.owner = s->owner;
	st->call = call;
	st->sess = s;
	st->next = s->streams;
	st->lost_ms = st->wrote_ms = loop_now_ms();
	s->streams = st;
	streams_trim(s);
	return st;
}

static void stream_wake(struct stream *st)
{
	if (st->x)
		resume(st->x);
}

/* A call's stream loses the POST that carried its request: keep the
 * request's id, for the error answer should the session end first. */
static void stream_keep_id(struct stream *st, struct exchange *x)
{
	if (st->call && !st->log.ended && !st->id_text && x->is_post && x->body)
		st->id_text = request_id(x);
}

/* x reads st from now on; a connection that was reading it ends its
 * response (the newest connection wins). */
static void stream_attach(struct stream *st, struct exchange *x)
{
	if (st->x && st->x != x) {
		stream_keep_id(st, st->x);
		st->x->st = NULL;
		resume(st->x);
	}
	st->x = x;
	st->let_go = false;
	x->st = st;
	x->sse = true;
	sse_prime(&st->log);
	st->wrote_ms = loop_now_ms();
}

/* x stops reading its stream (its connection ends, or went away). */
static void stream_detach(struct exchange *x)
{
	struct stream *st = x->st;
	x->st = NULL;
	if (!st || st->x != x)
		return;
	st->x = NULL;
	st->lost_ms = loop_now_ms();
	stream_keep_id(st, x);
	if (!st->sess)
		stream_free(st);
	else
		streams_trim(st->sess); /* (may free st) */
}

/* rpc.c's peer callback for a stream: an event. */
static void stream_send(struct rpc_peer *p, char *line, size_t n, bool is_reply)
{
	struct stream *st = (struct stream *)p;
	if (is_reply && st->call && !st->log.ended) {
		sse_push(&st->log, line, n, true);
		sse_end(&st->log);
		if (st->is_init && st->sess && !memmem(line, n, "\"result\":", 9)) {
			/* initialize failed: no session after all. */
			struct http_session *s = st->sess;
			stream_unlink(st);
			if (st->x)
				unlink_exchange(st->x);
			end_session(s, "initialize failed");
		}
	} else if (!is_reply && !st->log.ended && !sse_waiting_is(&st->log, line, n) &&
	           sse_push(&st->log, line, n, false) < 0) {
		log_msg(LOG_WARNING,
		        "http: a stream's client is not reading; a notification was dropped");
	}
	free(line);
	stream_wake(st);
	if (is_reply && !st->x && st->sess)
		streams_trim(st->sess); /* answered while nobody reads: kept (may free st) */
}

/* A stream's request was cancelled: the stream ends without an answer. */
static void stream_unanswered(struct rpc_peer *p)
{
	struct stream *st = (struct stream *)p;
	sse_end(&st->log);
	stream_wake(st);
}

/* The stream's connection ends once it has read what is there; the
 * stream waits for the client to resume it (the resume grace applies). */
static void stream_let_go(struct rpc_peer *p)
{
	struct stream *st = (struct stream *)p;
	if (!st->x || st->log.ended)
		return;
	st->let_go = true;
	stream_wake(st);
}

/* rpc.c's route for a message to a client outside its requests: the
 * stream on GET of the MCP session (made if the client has not opened it:
 * the message waits for it, within the stream's bound). */
static struct rpc_peer *owner_route(unsigned long owner)
{
	for (size_t i = 0; owner && i < HTTP_MAX_SESSIONS; i++)
		if (sessions[i].used && sessions[i].owner == owner) {
			struct stream *st = stream_find(&sessions[i], 0);
			if (!st)
				st = stream_new(&sessions[i], 0, false);
			return st ? &st->peer : NULL;
		}
	return NULL;
}

/* The session ends: every stream ends; a call's that had no answer gets
 * an error; those still read by a connection are freed with it. */
static void streams_end(struct http_session *s)
{
	while (s->streams) {
		struct stream *st = s->streams;
		stream_unlink(st);
		mcp_peer_gone(&st->peer);
		if (st->call && !st->log.ended) {
			if (st->x)
				stream_keep_id(st, st->x);
			char msg[256];
			ended_answer(msg, sizeof msg, st->id_text);
			sse_push(&st->log, msg, strlen(msg), true);
		}
		sse_end(&st->log);
		if (st->x)
			stream_wake(st);
		else
			stream_free(st);
	}
}

/* Every second: a keep-alive comment on a stream quiet for
 * HTTP_KEEPALIVE_S (proxies cut idle connections); a stream without a
 * connection for the resume grace is given up: a call still running on it
 * is cancelled (nobody came back for its answer). */
static void streams_sweep(struct http_session *s, uint64_t now)
{
	uint64_t grace =
	    idle_ms < HTTP_RESUME_GRACE_S * 1000u ? idle_ms : HTTP_RESUME_GRACE_S * 1000u;
	for (struct stream *st = s->streams, *next; st; st = next) {
		next = st->next;
		if (st->x) {
			if (now - st->wrote_ms >= HTTP_KEEPALIVE_S * 1000u &&
			    !sse_pending(&st->log)) {
				sse_comment(&st->log, "keep-alive");
				st->wrote_ms = now;
				stream_wake(st);
			}
			continue;
		}
		if (now - st->lost_ms < grace || !st->call)
			continue;
		if (!st->log.ended) {
			log_msg(
			    LOG_INFO,
			    "http: MCP session %.8s...: nobody came back for stream %u in %llu s; "
			    "its call is cancelled",
			    s->id, st->log.num, (unsigned long long)(grace / 1000));
			mcp_peer_gone(&st->peer);
		}
		stream_free(st);
	}
}

static ssize_t sse_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	(void)pos;
	struct exchange *x = cls;
	struct stream *st = x->st;
	if (!st)
		return MHD_CONTENT_READER_END_OF_STREAM; /* taken over, or freed */
	size_t k = sse_read(&st->log, buf, max);
	if (k) {
		st->wrote_ms = loop_now_ms();
		return (ssize_t)k;
	}
	if (st->log.ended)
		return MHD_CONTENT_READER_END_OF_STREAM;
	if (st->let_go) {
		st->let_go = false;
		stream_detach(x);
		return MHD_CONTENT_READER_END_OF_STREAM;
	}
	/* Nothing yet: wait without polling (stream_wake resumes). */
	suspend(x);
	return 0;
}

static enum MHD_Result respond(struct MHD_Connection *c, unsigned status, const char *ctype,
                               const char *body, const char *session_id)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(
	    body ? strlen(body) : 0, (void *)(body ? body : ""), MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	if (ctype)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	if (session_id)
		MHD_add_response_header(r, "Mcp-Session-Id", session_id);
	if (status == 401)
		MHD_add_response_header(
		    r, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
		    "Bearer realm=\"nix-sandbox-mcp\", error=\"invalid_token\"");
	if (status == 405)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "POST, GET, DELETE");
	enum MHD_Result ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* An error the transport answers itself, as a JSON-RPC error body. */
static enum MHD_Result refuse(struct MHD_Connection *c, unsigned status, const char *msg)
{
	char body[512];
	cJSON *s = cJSON_CreateString(msg);
	char *q = s ? cJSON_PrintUnformatted(s) : NULL;
	snprintf(body, sizeof body,
	         "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32000,\"message\":%s}}",
	         q ? q : "\"error\"");
	free(q);
	cJSON_Delete(s);
	log_msg(LOG_DEBUG, "http: %u: %s", status, msg);
	return respond(c, status, "application/json", body, NULL);
}

/* Framing the server will not guess at: 400, and nothing more is read from
 * the connection (what follows could be a request smuggled in its body). */
static enum MHD_Result refuse_framing(struct MHD_Connection *c)
{
	static const char body[] =
	    "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32000,\"message\":"
	    "\"ambiguous message framing: two Content-Length headers, or Content-Length with "
	    "Transfer-Encoding\"}}";
	log_msg(LOG_DEBUG, "http: 400: ambiguous message framing; the connection is closed");
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(sizeof body - 1, (void *)body, MHD_RESPMEM_PERSISTENT);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
	enum MHD_Result ret = MHD_queue_response(c, 400, r);
	MHD_destroy_response(r);
	return ret;
}

/* ---- checks before a message ------------------------------------------------ */

static bool token_ok(struct MHD_Connection *c)
{
	if (!have_token)
		return true;
	const char *h =
	    MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	if (!h || strncasecmp(h, "Bearer ", 7) != 0)
		return false;
	h += 7;
	size_t n = strlen(h), t = strlen(token);
	/* Constant time in the token's bytes: no early exit on a mismatch. */
	unsigned char diff = (unsigned char)(n != t);
	for (size_t i = 0; i < t; i++)
		diff |= (unsigned char)(token[i] ^ (i < n ? h[i] : 0));
	return diff == 0;
}

/* DNS rebinding: a page of another site that the browser sends here. An
 * absent Origin is a client that is no browser. */
static bool origin_ok(struct MHD_Connection *c)
{
	const char *o = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
	if (!o)
		return true;
	for (size_t i = 0; i < n_own_origins; i++)
		if (strcasecmp(o, own_origins[i]) == 0)
			return true;
	for (size_t i = 0; i < opts.n_origins; i++)
		if (strcmp(o, opts.origins[i]) == 0)
			return true;
	return false;
}

/* Whether an Accept list (RFC 9110 12.5.1) accepts the media type want:
 * listed as it is, or (with wildcards) as any type or as any subtype of its
 * type; a range with q=0 does not accept. */
static bool accepts(const char *list, const char *want, bool wildcards)
{
	size_t tl = strchr(want, '/') - want;
	for (const char *p = list; p && *p;) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		char item[128];
		if (n < sizeof item) {
			memcpy(item, p, n);
			item[n] = '\0';
			char *s = item + strspn(item, " \t");
			char *semi = strchr(s, ';');
			char *params = semi ? semi + 1 : NULL;
			if (semi)
				*semi = '\0';
			for (char *e = s + strlen(s); e > s && (e[-1] == ' ' || e[-1] == '\t');)
				*--e = '\0';
			bool q0 = false;
			for (char *q = params; q && (q = strcasestr(q, "q="));) {
				q += 2;
				q0 = strspn(q, "0.") > 0 && strspn(q, "0.") == strcspn(q, " \t;,");
			}
			bool match =
			    strcasecmp(s, want) == 0 ||
			    (wildcards && (strcmp(s, "*/*") == 0 ||
			                   (strlen(s) == tl + 2 && strncasecmp(s, want, tl) == 0 &&
			                    strcmp(s + tl, "/*") == 0)));
			if (match && !q0)
				return true;
		}
		p = end ? end + 1 : NULL;
	}
	return false;
}

/* The media type of a Content-Type value is exactly type (parameters may
 * follow). */
static bool media_type_is(const char *value, const char *type)
{
	size_t n = strlen(type);
	return value && strncasecmp(value, type, n) == 0 &&
	       (value[n] == '\0' || value[n] == ';' || value[n] == ' ' || value[n] == '\t');
}

/* Request smuggling (RFC 9112 6.1, 6.3): two Content-Length headers, or
 * Content-Length with Transfer-Encoding, are refused, not guessed at. So
 * is a second Mcp-Session-Id, MCP-Protocol-Version or Last-Event-ID: which
 * one counts would be a guess (libmicrohttpd hands out the first). */
static const char *const once_only[] = { "Mcp-Session-Id", "MCP-Protocol-Version",
	                                 "Last-Event-ID" };
#define N_ONCE_ONLY (sizeof once_only / sizeof once_only[0])

struct framing {
	int content_length, transfer_encoding;
	int once[N_ONCE_ONLY];
};

static enum MHD_Result count_framing(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
	struct framing *f = cls;
	(void)kind;
	(void)value;
	if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0)
		f->content_length++;
	else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0)
		f->transfer_encoding++;
	for (size_t i = 0; i < N_ONCE_ONLY; i++)
		if (strcasecmp(key, once_only[i]) == 0)
			f->once[i]++;
	return MHD_YES;
}

/* 0: fine; 1: smuggling (the connection is closed); -1: an MCP header
 * sent twice (*which names it). */
static int framing_check(struct MHD_Connection *c, const char **which)
{
	struct framing f = { 0 };
	MHD_get_connection_values(c, MHD_HEADER_KIND, count_framing, &f);
	if (f.content_length > 1 || (f.content_length && f.transfer_encoding))
		return 1;
	for (size_t i = 0; i < N_ONCE_ONLY; i++)
		if (f.once[i] > 1) {
			*which = once_only[i];
			return -1;
		}
	return 0;
}

/* ---- requests --------------------------------------------------------------- */

/* An SSE answer: x's stream, read by sse_reader (what was answered while
 * the request was handled is on it already). */
static enum MHD_Result respond_stream(struct MHD_Connection *c, struct exchange *x,
                                      const char *session_id)
{
	struct MHD_Response *r =
	    MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, sse_reader, x, NULL);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	/* Proxies that buffer (nginx) would hold the events back. */
	MHD_add_response_header(r, "X-Accel-Buffering", "no");
	if (session_id)
		MHD_add_response_header(r, "Mcp-Session-Id", session_id);
	x->started = true;
	enum MHD_Result ret = MHD_queue_response(c, 200, r);
	MHD_destroy_response(r);
	return ret;
}

/* GET: the session's own stream, or (Last-Event-ID) the rest of a stream
 * whose connection was lost, from the event after that id. */
static enum MHD_Result handle_get(struct MHD_Connection *c, struct exchange *x)
{
	const char *accept =
	    MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);
	if (!accepts(accept, "text/event-stream", false))
		return refuse(c, 406,
		              "GET opens an SSE stream: Accept must list text/event-stream");
	const char *pv = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "MCP-Protocol-Version");
	if (pv && !mcp_version_supported(pv))
		return refuse(c, 400, "unsupported MCP-Protocol-Version");
	const char *sid = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Mcp-Session-Id");
	struct http_session *s;
	if (!sid)
		return refuse(c, 400, "Mcp-Session-Id is missing: send initialize first");
	if (!(s = find_session(sid)))
		return refuse(c, 404,
		              "unknown or expired Mcp-Session-Id: initialize a new session");
	const char *last = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Last-Event-ID");
	struct stream *st;
	if (last) {
		unsigned num;
		uint64_t seq;
		int r;
		if (sse_parse_id(last, &num, &seq) < 0)
			return refuse(c, 400, "Last-Event-ID is not an event id of this server");
		if (!(st = stream_find(s, num)))
			return refuse(
			    c, 400,
			    "Last-Event-ID names a stream this MCP session no longer keeps "
			    "(a stream without a connection is kept 30 s)");
		if ((r = sse_resume(&st->log, seq)) < 0)
			return refuse(c, 400, "Last-Event-ID names an event not sent yet");
		if (r > 0)
			log_msg(LOG_WARNING,
			        "http: MCP session %.8s...: stream %u resumed after events it "
			        "no longer kept (its client was not reading)",
			        s->id, num);
	} else if (!(st = stream_find(s, 0)) && !(st = stream_new(s, 0, false))) {
		return refuse(c, 503, "out of memory for a stream");
	}
	s->last_ms = loop_now_ms();
	x->sess = s;
	x->next = s->xs;
	s->xs = x;
	x->peer.owner = s->owner;
	stream_attach(st, x);
	return respond_stream(c, x, NULL);
}

/* The POST's message, once its body is complete. */
static enum MHD_Result handle_post(struct MHD_Connection *c, struct exchange *x)
{
	x->is_post = true;
	const char *ct =
	    MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
	if (!media_type_is(ct, "application/json"))
		return refuse(c, 415, "Content-Type must be application/json");
	if (x->too_big)
		return refuse(c, 413, "the request body is larger than 8 MiB");
	const char *accept =
	    MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);
	bool json_ok = !accept || accepts(accept, "application/json", true);
	bool sse_ok = accepts(accept, "text/event-stream", false);
	if (!json_ok && !sse_ok)
		return refuse(c, 406, "Accept must list application/json or text/event-stream");
	const char *pv = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "MCP-Protocol-Version");
	if (pv && !mcp_version_supported(pv))
		return refuse(c, 400, "unsupported MCP-Protocol-Version");

	while (x->body_len &&
	       (x->body[x->body_len - 1] == '\n' || x->body[x->body_len - 1] == '\r' ||
	        x->body[x->body_len - 1] == ' ' || x->body[x->body_len - 1] == '\t'))
		x->body_len--;
	/* One JSON value and nothing after it but white space; no raw NUL
	 * (JSON escapes control characters, and the body is handled as a C
	 * string further on). */
	const char *end = NULL;
	cJSON *msg = x->body && !memchr(x->body, '\0', x->body_len)
	                 ? cJSON_ParseWithLengthOpts(x->body, x->body_len, &end, false)
	                 : NULL;
	if (msg && end && (size_t)(end - x->body) < x->body_len) {
		cJSON_Delete(msg);
		msg = NULL;
	}
	if (!msg)
		return respond(c, 400, "application/json",
		               "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32700,"
		               "\"message\":\"Parse error: the body is not one JSON value\"}}",
		               NULL);
	const cJSON *method = cJSON_GetObjectItemCaseSensitive(msg, "method");
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(msg, "id");
	const cJSON *params = cJSON_GetObjectItemCaseSensitive(msg, "params");
	const cJSON *meta = cJSON_GetObjectItemCaseSensitive(params, "_meta");
	bool is_request = cJSON_IsString(method) && id;
	x->is_init = is_request && strcmp(method->valuestring, "initialize") == 0;
	bool progress = is_request && cJSON_GetObjectItemCaseSensitive(meta, "progressToken");
	bool tool_call = is_request && strcmp(method->valuestring, "tools/call") == 0;
	cJSON_Delete(msg);

	const char *sid = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Mcp-Session-Id");
	struct http_session *s = NULL;
	struct err e = { 0 };
	if (x->is_init) {
		if (sid)
			return refuse(
			    c, 400, "initialize starts a session: send it without Mcp-Session-Id");
		if (new_session(&s, &e) < 0)
			return refuse(c, 503, e.msg);
		log_msg(LOG_INFO, "http: MCP session %.8s... started", s->id);
	} else if (!sid) {
		return refuse(c, 400, "Mcp-Session-Id is missing: send initialize first");
	} else if (!(s = find_session(sid))) {
		return refuse(c, 404,
		              "unknown or expired Mcp-Session-Id: initialize a new session");
	}
	s->last_ms = loop_now_ms();
	x->sess = s;
	x->next = s->xs;
	s->xs = x;
	x->peer.owner = s->owner;
	struct rpc_peer *peer = &x->peer;
	if (is_request && sse_ok && (!json_ok || progress || tool_call)) {
		/* An SSE answer: a stream of its own, which outlives this
		 * connection. A tool call gets one whenever the client takes
		 * it: a run may take minutes, and on a stream its client hears
		 * its log and progress, keep-alives keep proxies from cutting
		 * it, and a lost connection does not lose its answer. */
		struct stream *st = stream_new(s, ++s->next_stream, true);
		if (!st) {
			unlink_exchange(x);
			if (x->is_init)
				end_session(s, "out of memory");
			return refuse(c, 503, "out of memory for a stream");
		}
		st->is_init = x->is_init;
		stream_attach(st, x);
		peer = &st->peer;
	}

	struct rpc_peer *was = rpc_set_peer(peer);
	rpc_handle_line(x->body, x->body_len);
	rpc_set_peer(was);

	if (!is_request) {
		/* A notification or a response: 202, unless rpc.c refused it. */
		unlink_exchange(x);
		if (x->done)
			return respond(c, 400, "application/json", x->out, NULL);
		x->done = true;
		return respond(c, 202, NULL, NULL, NULL);
	}
	if (x->sse)
		return respond_stream(c, x, x->is_init && x->sess ? x->sess->id : NULL);
	if (x->done)
		return respond(c, x->status, "application/json", x->out,
		               x->is_init && x->sess ? x->sess->id : NULL);
	suspend(x);
	return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
	(void)cls;
	(void)version;
	struct exchange *x = *con_cls;
	if (!x) {
		/* Headers are in: the checks that need no body. */
		if (strcmp(url, "/mcp") != 0)
			return refuse(c, 404, "not found: MCP is served at /mcp");
		if (!token_ok(c))
			return refuse(
			    c, 401, "a valid bearer token is required (Authorization: Bearer ...)");
		if (!origin_ok(c))
			return refuse(
			    c, 403,
			    "Origin not allowed (start the server with --allow-origin ORIGIN)");
		const char *twice = NULL;
		int fr = framing_check(c, &twice);
		if (fr > 0)
			return refuse_framing(c);
		if (fr < 0) {
			char msg[96];
			snprintf(msg, sizeof msg, "%s was sent more than once", twice);
			return refuse(c, 400, msg);
		}
		x = calloc(1, sizeof *x);
		if (!x)
			return MHD_NO;
		x->peer.send = peer_send;
		x->peer.unanswered = peer_unanswered;
		x->peer.room = peer_room;
		x->conn = c;
		x->hup_fd = -1;
		*con_cls = x;
		open_exchanges++;
		return MHD_YES;
	}
	if (*upload_size) {
		if (!x->too_big && x->body_len + *upload_size <= HTTP_MAX_BODY) {
			char *nb = realloc(x->body, x->body_len + *upload_size + 1);
			if (nb) {
				x->body = nb;
				memcpy(x->body + x->body_len, upload, *upload_size);
				x->body_len += *upload_size;
			} else {
				x->too_big = true;
			}
		} else {
			x->too_big = true; /* the rest is read and dropped */
			free(x->body);
			x->body = NULL;
			x->body_len = 0;
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (x->done && !x->sse)
		/* Resumed: the answer came (or, 202, none will). */
		return respond(c, x->status, x->out ? "application/json" : NULL, x->out,
		               x->is_init && x->sess ? x->sess->id : NULL);
	if (x->suspended || x->started)
		return MHD_YES;

	if (strcmp(method, "POST") == 0)
		return handle_post(c, x);
	const char *sid = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Mcp-Session-Id");
	if (strcmp(method, "DELETE") == 0) {
		struct http_session *s;
		if (!sid)
			return refuse(c, 400, "Mcp-Session-Id is missing");
		if (!(s = find_session(sid)))
			return refuse(c, 404, "unknown or expired Mcp-Session-Id");
		end_session(s, "ended by the client (DELETE); its sandboxes are killed");
		x->done = true;
		return respond(c, 204, NULL, NULL, NULL);
	}
	if (strcmp(method, "GET") == 0)
		return handle_get(c, x);
	return refuse(c, 405, "/mcp takes POST, GET and DELETE");
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)c;
	struct exchange *x = *con_cls;
	if (!x)
		return;
	unwatch_hup(x);
	if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK && !x->done && !x->sse)
		log_msg(LOG_DEBUG, "http: a client went away (code %d); its call is cancelled",
		        (int)toe);
	/* (A stream carried to its end is kept too: its last bytes may be in
	 * a kernel's buffer on a connection that then broke.) */
	stream_detach(x);
	mcp_peer_gone(&x->peer);
	unlink_exchange(x);
	free(x->body);
	free(x->out);
	free(x);
	*con_cls = NULL;
	open_exchanges--;
}

/* ---- start and stop ------------------------------------------------------------ */

static int read_token(const char *path, struct err *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_sys(e, errno, "--token-file %s", path);
	size_t n = 0;
	for (;;) {
		ssize_t r = read(fd, token + n, sizeof token - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int er = errno;
			close(fd);
			return err_sys(e, er, "--token-file %s", path);
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n == sizeof token - 1) {
			close(fd);
			return err_set(e, EFBIG, "--token-file %s: longer than %d bytes", path,
			               HTTP_MAX_TOKEN);
		}
	}
	close(fd);
	while (n && (token[n - 1] == '\n' || token[n - 1] == '\r'))
		n--;
	token[n] = '\0';
	for (size_t i = 0; i < n; i++)
		if (token[i] <= ' ' || token[i] > '~')
			return err_set(
			    e, EINVAL,
			    "--token-file %s: the token must be visible ASCII on one line", path);
	if (n < 16)
		return err_set(e, EINVAL,
		               "--token-file %s: the token is shorter than 16 characters", path);
	have_token = true;
	return 0;
}

/* "ADDR:PORT" or "[ADDR]:PORT" -> a bound, listening socket. */
static int bind_listen(const char *spec, bool *loopback, struct err *e)
{
	char host[64];
	const char *colon = strrchr(spec, ':');
	if (!colon || colon == spec)
		return err_set(e, EINVAL, "--http %s: expected ADDR:PORT (e.g. 127.0.0.1:8080)",
		               spec);
	size_t hl = (size_t)(colon - spec);
	const char *h = spec;
	if (h[0] == '[' && hl >= 2 && h[hl - 1] == ']') {
		h++;
		hl -= 2;
	}
	if (hl >= sizeof host)
		return err_set(e, EINVAL, "--http %s: address too long", spec);
	memcpy(host, h, hl);
	host[hl] = '\0';
	char *end;
	unsigned long port = strtoul(colon + 1, &end, 10);
	if (!colon[1] || *end || port > 65535)
		return err_set(e, EINVAL, "--http %s: bad port", spec);
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof ss);
	socklen_t sl;
	struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
	if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		sl = sizeof *a4;
		*loopback = (ntohl(a4->sin_addr.s_addr) >> 24) == 127;
	} else if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		sl = sizeof *a6;
		*loopback = IN6_IS_ADDR_LOOPBACK(&a6->sin6_addr);
	} else {
		return err_set(e, EINVAL, "--http %s: %s is not a numeric IPv4 or IPv6 address",
		               spec, host);
	}
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return err_sys(e, errno, "--http %s: socket", spec);
	int one = 1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
	    bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, 128) < 0) {
		int er = errno;
		close(fd);
		return err_sys(e, er, "--http %s: bind/listen", spec);
	}
	sl = sizeof ss;
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0) {
		int er = errno;
		close(fd);
		return err_sys(e, er, "--http %s: getsockname", spec);
	}
	unsigned p = ntohs(ss.ss_family == AF_INET ? a4->sin_port : a6->sin6_port);
	/* The origins a page served by this very host:port has. */
	bool v6 = ss.ss_family == AF_INET6;
	snprintf(own_origins[n_own_origins++], sizeof own_origins[0],
	         v6 ? "http://[%s]:%u" : "http://%s:%u", host, p);
	if (*loopback) {
		snprintf(own_origins[n_own_origins++], sizeof own_origins[0], "http://localhost:%u",
		         p);
		snprintf(own_origins[n_own_origins++], sizeof own_origins[0], "http://127.0.0.1:%u",
		         p);
		snprintf(own_origins[n_own_origins++], sizeof own_origins[0], "http://[::1]:%u", p);
	}
	log_msg(LOG_INFO, "listening on http://%s%s%s:%u/mcp%s", v6 ? "[" : "", host, v6 ? "]" : "",
	        p, have_token ? " (bearer token required)" : "");
	return fd;
}

int http_start(const struct http_options *o, struct err *e)
{
	opts = *o;
	idle_ms = (uint64_t)(o->idle_seconds ? o->idle_seconds : HTTP_DEFAULT_IDLE_S) * 1000u;
	if (o->token_file && read_token(o->token_file, e) < 0)
		return -1;
	bool loopback = true; /* no listening socket: only http_adopt's */
	if (o->listen && (listen_fd = bind_listen(o->listen, &loopback, e)) < 0)
		return -1;
	if (o->listen && !loopback && !have_token) {
		close(listen_fd);
		listen_fd = -1;
		return err_set(
		    e, EPERM,
		    "--http %s is not a loopback address: anyone who reaches it could run code; "
		    "give --token-file FILE, or bind 127.0.0.1",
		    o->listen);
	}
	rpc_set_handler(mcp_handle);
	rpc_set_owner_route(owner_route);
	unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
	/* The logger first, so that every later message goes to it; the
	 * listening socket last, only when there is one (MHD_USE_NO_LISTEN_SOCKET
	 * otherwise: http_adopt's connections only). */
	struct MHD_OptionItem ops[] = {
		{ MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)mhd_log, NULL },
		{ MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, NULL },
		{ MHD_OPTION_CONNECTION_LIMIT, HTTP_MAX_CONNECTIONS, NULL },
		{ MHD_OPTION_CONNECTION_TIMEOUT, HTTP_CONN_TIMEOUT_S, NULL },
		{ MHD_OPTION_CONNECTION_MEMORY_LIMIT, HTTP_MAX_HEADER, NULL },
		{ listen_fd >= 0 ? MHD_OPTION_LISTEN_SOCKET : MHD_OPTION_END, listen_fd, NULL },
		{ MHD_OPTION_END, 0, NULL },
	};
	daemon_ = MHD_start_daemon(flags | (listen_fd < 0 ? MHD_USE_NO_LISTEN_SOCKET : 0), 0, NULL,
	                           NULL, on_request, NULL, MHD_OPTION_ARRAY, ops, MHD_OPTION_END);
	if (!daemon_) {
		close(listen_fd);
		listen_fd = -1;
		return err_set(e, EIO, "--http %s: libmicrohttpd did not start",
		               o->listen ? o->listen : "(none)");
	}
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_EPOLL_FD);
	epoll_fd = di ? di->epoll_fd : -1;
	if (epoll_fd < 0 || loop_watch(epoll_fd, POLLIN, on_epoll, NULL, e) < 0) {
		MHD_stop_daemon(daemon_);
		daemon_ = NULL;
		if (listen_fd >= 0)
			close(listen_fd);
		listen_fd = -1;
		return err_set(e, EIO, "--http: cannot watch libmicrohttpd's epoll fd");
	}
	on_sweep(NULL);
	rearm();
	return 0;
}

void http_shutdown(int timeout_ms)
{
	if (!daemon_)
		return;
	/* Answer or end every open request, then let libmicrohttpd send. */
	for (size_t i = 0; i < HTTP_MAX_SESSIONS; i++)
		if (sessions[i].used)
			end_session(&sessions[i], "the server is stopping");
	uint64_t end = loop_now_ms() + (uint64_t)timeout_ms;
	while (open_exchanges > 0 && loop_now_ms() < end) {
		MHD_run(daemon_);
		struct pollfd p = { .fd = epoll_fd, .events = POLLIN };
		if (poll(&p, 1, 50) < 0 && errno != EINTR)
			break;
	}
	if (run_timer)
		loop_timer_cancel(run_timer);
	if (sweep_timer)
		loop_timer_cancel(sweep_timer);
	run_timer = sweep_timer = 0;
	loop_unwatch(epoll_fd);
	/* libmicrohttpd may not stop with a suspended connection. */
	MHD_stop_daemon(daemon_);
	daemon_ = NULL;
	if (listen_fd >= 0)
		close(listen_fd);
	listen_fd = -1;
	n_own_origins = 0;
	explicit_bzero(token, sizeof token);
	have_token = false;
}

int http_adopt(int fd, struct err *e)
{
	/* libmicrohttpd wants the peer's address; this connection is local. */
	struct sockaddr_in peer = { .sin_family = AF_INET,
		                    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	if (!daemon_) {
		close(fd);
		return err_set(e, EINVAL, "http: not started");
	}
	if (MHD_add_connection(daemon_, fd, (struct sockaddr *)&peer, sizeof peer) != MHD_YES)
		return err_set(e, EIO,
		               "http: libmicrohttpd refused a connection"); /* it closed fd */
	run_now();
	return 0;
}
