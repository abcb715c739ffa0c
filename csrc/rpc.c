/* rpc.c — see rpc.h.
 *
 * Reading: stdin is non-blocking and watched by the loop; bytes accumulate
 * until a newline, up to RPC_MAX_LINE. A longer line is answered with -32600
 * and its remaining bytes are dropped as they arrive, so memory stays bounded
 * whatever the client sends. Each line is made valid UTF-8 (bad bytes become
 * U+FFFD) before cJSON sees it, so every string the server echoes is valid;
 * jsonraw keeps what cJSON would lose (number texts, U+0000, lone
 * surrogates).
 * Writing: stdout is non-blocking. A message goes out at once when nothing is
 * queued, else it waits in a bounded queue flushed when the loop sees POLLOUT:
 * a client that stops reading never stops the loop (timeouts, kills, other
 * work go on). Past RPC_MAX_QUEUED, notifications are dropped and replies
 * replaced by a short error; past RPC_MAX_QUEUED + RPC_QUEUE_SLACK the client
 * is dropped (as if it had closed stdout). Each is logged.
 */
#include "rpc.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jsonraw.h"
#include "log.h"
#include "loop.h"
#include "utf8.h"

static int rpc_in = -1, rpc_out = -1;
static rpc_message_cb *rpc_cb;
static char *buf;
static size_t buf_len, buf_cap;
static bool discarding; /* inside an over-long line */
static bool in_closed, out_broken;
static bool cur_has_nul;          /* the message being handled had a U+0000 */
static struct rpc_peer *cur_peer; /* NULL: stdout */

struct rpc_peer *rpc_set_peer(struct rpc_peer *p)
{
	struct rpc_peer *was = cur_peer;
	cur_peer = p;
	return was;
}

struct rpc_peer *rpc_current_peer(void)
{
	return cur_peer;
}

/* The outgoing queue: whole lines, oldest first; q_head->off bytes of the
 * first are written. */
struct outmsg {
	struct outmsg *next;
	size_t len, off;
	char data[];
};
static struct outmsg *q_head, *q_tail;
static size_t q_bytes;
static unsigned long q_dropped_notes, q_replaced_replies;

bool rpc_message_has_nul(void)
{
	return cur_has_nul;
}

bool rpc_input_closed(void)
{
	return in_closed;
}

bool rpc_output_broken(void)
{
	return out_broken;
}

static void drop_client(const char *why)
{
	if (out_broken)
		return;
	log_msg(LOG_ERROR, "stdout: %s; dropping the client", why);
	out_broken = true;
	loop_unwatch(rpc_out);
	while (q_head) {
		struct outmsg *m = q_head;
		q_head = m->next;
		free(m);
	}
	q_tail = NULL;
	q_bytes = 0;
}

/* Write what the queue holds until it is empty or the pipe is full.
 * Returns true when it emptied. */
static bool flush_some(void)
{
	while (q_head && !out_broken) {
		struct outmsg *m = q_head;
		ssize_t w = write(rpc_out, m->data + m->off, m->len - m->off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return false;
			char why[128];
			snprintf(why, sizeof why, "write failed: %s; the client is gone",
			         strerror(errno));
			drop_client(why);
			return false;
		}
		m->off += (size_t)w;
		q_bytes -= (size_t)w;
		if (m->off == m->len) {
			q_head = m->next;
			if (!q_head)
				q_tail = NULL;
			free(m);
		}
	}
	return !q_head;
}

static void on_stdout(void *ctx, int fd, short revents)
{
	(void)ctx;
	(void)fd;
	if (revents & (POLLERR | POLLHUP | POLLNVAL)) {
		drop_client("the client closed its end");
		return;
	}
	if (flush_some())
		loop_unwatch(rpc_out);
}

/* Queue one line (the message and its newline); it takes `line`. */
static void enqueue(char *line, size_t n)
{
	struct outmsg *m = malloc(sizeof *m + n);
	if (!m) {
		free(line);
		log_msg(LOG_ERROR, "out of memory queueing a reply; it was dropped");
		return;
	}
	memcpy(m->data, line, n);
	free(line);
	m->len = n;
	m->off = 0;
	m->next = NULL;
	bool was_empty = !q_head;
	if (q_tail)
		q_tail->next = m;
	else
		q_head = m;
	q_tail = m;
	q_bytes += n;
	if (was_empty && !flush_some() && !out_broken) {
		struct err e;
		if (loop_watch(rpc_out, POLLOUT, on_stdout, NULL, &e) < 0)
			drop_client(e.msg);
	}
}

/* The short error that replaces a reply the client's transport has no
 * room for: one line (malloc'd, *n bytes with its newline), or NULL. */
static char *dropped_reply(const cJSON *id, size_t *n)
{
	cJSON *m = cJSON_CreateObject();
	cJSON *e = cJSON_CreateObject();
	char *t = NULL;
	if (m && e) {
		cJSON_AddStringToObject(m, "jsonrpc", "2.0");
		if (id)
			cJSON_AddItemToObject(m, "id", rpc_id_dup(id));
		else
			cJSON_AddNullToObject(m, "id");
		cJSON_AddNumberToObject(e, "code", RPC_INTERNAL_ERROR);
		cJSON_AddStringToObject(
		    e, "message",
		    "reply dropped: the client was not reading its replies and the server's "
		    "outgoing queue was full");
		cJSON_AddItemToObject(m, "error", e);
		e = NULL;
		t = cJSON_PrintUnformatted(m);
	}
	cJSON_Delete(m);
	cJSON_Delete(e);
	size_t tn = t ? strlen(t) : 0;
	char *tl = t ? realloc(t, tn + 2) : NULL;
	if (!tl) {
		free(t);
		return NULL;
	}
	tl[tn++] = '\n';
	tl[tn] = '\0';
	*n = tn;
	return tl;
}

/* One message as one line. `id`: the id a reply answers (NULL for a
 * notification), for the short error that replaces a reply the queue has no
 * room for. */
static void send_msg(cJSON *msg, bool is_reply, const cJSON *id)
{
	if (!cur_peer && (out_broken || rpc_out < 0))
		return; /* no peer and no stdio client (--http) */
	char *s = cJSON_PrintUnformatted(msg);
	if (!s) {
		log_msg(LOG_ERROR, "out of memory serialising a reply");
		return;
	}
	size_t n = strlen(s);
	if (!utf8_valid(s, n)) {
		/* A string somewhere was cut inside a character (or came from the
		 * sandbox unrepaired): a bug, but the line must stay UTF-8 JSON.
		 * Invalid bytes can only sit inside JSON strings (cJSON escapes
		 * nothing above 0x7f), so U+FFFD in their place keeps the
		 * structure. */
		size_t rn;
		char *fixed = utf8_repair(s, n, &rn);
		free(s);
		if (!fixed) {
			log_msg(LOG_ERROR, "out of memory serialising a reply");
			return;
		}
		log_msg(LOG_WARNING, "a reply held invalid UTF-8; repaired to U+FFFD");
		s = fixed;
		n = rn;
	}
	char *line = realloc(s, n + 1);
	if (!line) {
		free(s);
		log_msg(LOG_ERROR, "out of memory serialising a reply");
		return;
	}
	line[n++] = '\n';
	if (cur_peer) { /* the peer bounds its own queue */
		if (!is_reply || !cur_peer->room || cur_peer->room(cur_peer, n)) {
			cur_peer->send(cur_peer, line, n, is_reply);
			return;
		}
		free(line);
		size_t tn;
		char *tl = dropped_reply(id, &tn);
		log_msg(LOG_WARNING,
		        "answers wait for clients that do not read them: a reply of %zu bytes "
		        "replaced by an error",
		        n);
		if (tl)
			cur_peer->send(cur_peer, tl, tn, true);
		return;
	}
	if (q_bytes + n <= RPC_MAX_QUEUED) {
		enqueue(line, n);
		return;
	}
	free(line);
	if (!is_reply) {
		if (q_dropped_notes++ % 1000 == 0)
			log_msg(LOG_WARNING,
			        "stdout: the client is not reading (%zu bytes queued): dropped %lu "
			        "notification(s)",
			        q_bytes, q_dropped_notes);
		return;
	}
	/* A reply the client is waiting for: a short error in its place. */
	size_t tn;
	char *tl = dropped_reply(id, &tn);
	if (!tl || q_bytes + tn > RPC_MAX_QUEUED + RPC_QUEUE_SLACK) {
		free(tl);
		char why[160];
		snprintf(why, sizeof why,
		         "the client stopped reading (%zu bytes of replies queued)", q_bytes);
		drop_client(why);
		return;
	}
	log_msg(
	    LOG_WARNING,
	    "stdout: the client is not reading (%zu bytes queued): reply %lu replaced by an error",
	    q_bytes, ++q_replaced_replies);
	enqueue(tl, tn);
}

void rpc_flush(int timeout_ms)
{
	uint64_t end = loop_now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
	while (q_head && !out_broken) {
		if (flush_some())
			break;
		uint64_t now = loop_now_ms();
		if (now >= end) {
			log_msg(LOG_WARNING,
			        "stdout: %zu bytes of replies not written at exit (the client is "
			        "not reading)",
			        q_bytes);
			break;
		}
		struct pollfd pfd = { .fd = rpc_out, .events = POLLOUT };
		if (poll(&pfd, 1, (int)(end - now)) < 0 && errno != EINTR)
			break;
	}
	loop_unwatch(rpc_out);
}

/* An integer whose double is exact and unambiguous: from 2^53 on, two
 * integers that differ can parse to the same double. */
static bool exact_integer(double v)
{
	return v == floor(v) && fabs(v) < 9007199254740992.0;
}

bool rpc_id_equal(const cJSON *a, const cJSON *b)
{
	if (cJSON_IsString(a) && cJSON_IsString(b))
		return strcmp(a->valuestring, b->valuestring) == 0;
	if (cJSON_IsNumber(a) && cJSON_IsNumber(b)) {
		const char *ta = jsonraw_number_text(a), *tb = jsonraw_number_text(b);
		if (ta && tb && strcmp(ta, tb) == 0)
			return true;
		if (ta && tb && !(exact_integer(a->valuedouble) && exact_integer(b->valuedouble)))
			return false;
		return a->valuedouble == b->valuedouble;
	}
	return false;
}

cJSON *rpc_id_dup(const cJSON *id)
{
	const char *text = jsonraw_number_text(id);
	if (text)
		return cJSON_CreateRaw(text);
	if (cJSON_IsNumber(id)) {
		double v = id->valuedouble;
		char num[64];
		if (exact_integer(v))
			snprintf(num, sizeof num, "%.0f", v);
		else
			snprintf(num, sizeof num, "%.17g", v);
		return cJSON_CreateRaw(num);
	}
	return cJSON_Duplicate(id, 1);
}

static cJSON *envelope(const cJSON *id)
{
	cJSON *m = cJSON_CreateObject();
	if (!m)
		return NULL;
	cJSON_AddStringToObject(m, "jsonrpc", "2.0");
	if (id)
		cJSON_AddItemToObject(m, "id", rpc_id_dup(id));
	else
		cJSON_AddNullToObject(m, "id");
	return m;
}

void rpc_reply_result(const cJSON *id, cJSON *result)
{
	cJSON *m = envelope(id);
	if (!m) {
		cJSON_Delete(result);
		return;
	}
	cJSON_AddItemToObject(m, "result", result ? result : cJSON_CreateObject());
	send_msg(m, true, id);
	cJSON_Delete(m);
}

void rpc_reply_error(const cJSON *id, int code, const char *message, cJSON *data)
{
	cJSON *m = envelope(id);
	cJSON *e = cJSON_CreateObject();
	if (!m || !e) {
		cJSON_Delete(m);
		cJSON_Delete(e);
		cJSON_Delete(data);
		return;
	}
	cJSON_AddNumberToObject(e, "code", code);
	cJSON_AddStringToObject(e, "message", message);
	if (data)
		cJSON_AddItemToObject(e, "data", data);
	cJSON_AddItemToObject(m, "error", e);
	send_msg(m, true, id);
	cJSON_Delete(m);
}

/* A notification (id NULL) or a request of the server's. */
static void send_method(const char *id, const char *method, cJSON *params)
{
	cJSON *m = cJSON_CreateObject();
	if (!m) {
		cJSON_Delete(params);
		return;
	}
	cJSON_AddStringToObject(m, "jsonrpc", "2.0");
	if (id)
		cJSON_AddStringToObject(m, "id", id);
	cJSON_AddStringToObject(m, "method", method);
	if (params)
		cJSON_AddItemToObject(m, "params", params);
	send_msg(m, false, NULL);
	cJSON_Delete(m);
}

void rpc_notify(const char *method, cJSON *params)
{
	send_method(NULL, method, params);
}

void rpc_request(const char *id, const char *method, cJSON *params)
{
	send_method(id, method, params);
}

static rpc_message_cb *response_cb;

void rpc_set_response_handler(rpc_message_cb *cb)
{
	response_cb = cb;
}

static rpc_owner_route_fn *owner_route;

void rpc_set_owner_route(rpc_owner_route_fn *route)
{
	owner_route = route;
}

void rpc_notify_owner(unsigned long owner, const char *method, cJSON *params)
{
	struct rpc_peer *p = NULL;
	if (owner_route && !(p = owner_route(owner))) {
		cJSON_Delete(params);
		return;
	}
	struct rpc_peer *was = rpc_set_peer(p);
	rpc_notify(method, params);
	rpc_set_peer(was);
}

/* A JSON-RPC id as MCP allows it: a string or a finite number (never null;
 * 1e400 parses to infinity, which cannot be echoed). */
static bool id_valid(const cJSON *id)
{
	return cJSON_IsString(id) || (cJSON_IsNumber(id) && isfinite(id->valuedouble));
}

/* Numbers whose source text a reply echoes: the id, a progress token, a
 * cancelled request's id. */
static size_t echoed_numbers(cJSON *msg, cJSON **out)
{
	size_t k = 0;
	cJSON *id = cJSON_GetObjectItemCaseSensitive(msg, "id");
	cJSON *params = cJSON_GetObjectItemCaseSensitive(msg, "params");
	cJSON *meta =
	    cJSON_IsObject(params) ? cJSON_GetObjectItemCaseSensitive(params, "_meta") : NULL;
	cJSON *c[3] = {
		id,
		cJSON_IsObject(meta) ? cJSON_GetObjectItemCaseSensitive(meta, "progressToken")
		                     : NULL,
		cJSON_IsObject(params) ? cJSON_GetObjectItemCaseSensitive(params, "requestId")
		                       : NULL,
	};
	for (size_t i = 0; i < 3; i++)
		if (cJSON_IsNumber(c[i]))
			out[k++] = c[i];
	return k;
}

static void handle_message(cJSON *msg);

void rpc_handle_line(const char *line, size_t len)
{
	while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' ' || line[len - 1] == '\t'))
		len--;
	size_t start = 0;
	while (start < len && (line[start] == ' ' || line[start] == '\t'))
		start++;
	if (start == len)
		return; /* blank lines between messages are harmless */
	line += start;
	len -= start;

	/* A copy cJSON may read: valid UTF-8, lone surrogates replaced. */
	size_t n = len;
	char *text = utf8_valid(line, len) ? NULL : utf8_repair(line, len, &n);
	if (!text && (text = malloc(len + 1)) != NULL) {
		memcpy(text, line, len);
		text[len] = '\0';
	}
	struct jsonraw raw;
	if (!text || jsonraw_scan(text, n, &raw) < 0) {
		free(text);
		rpc_reply_error(NULL, RPC_INTERNAL_ERROR,
		                "Internal error: out of memory reading the message", NULL);
		return;
	}
	const char *end = NULL;
	cJSON *msg = cJSON_ParseWithLengthOpts(text, n, &end, false);
	if (!msg) {
		rpc_reply_error(NULL, RPC_PARSE_ERROR, "Parse error: the line is not valid JSON",
		                NULL);
		goto out;
	}
	size_t used = (size_t)(end - text);
	cJSON *targets[3];
	size_t nt = cJSON_IsObject(msg) ? echoed_numbers(msg, targets) : 0;
	if (nt && jsonraw_attach(&raw, text, used, msg, targets, nt) < 0)
		log_msg(LOG_WARNING,
		        "could not keep the text of a numeric id; it is echoed as a double");
	cur_has_nul = raw.has_nul;
	handle_message(msg);
	cur_has_nul = false;
	cJSON_Delete(msg);
	while (used < n && (text[used] == ' ' || text[used] == '\t' || text[used] == '\r'))
		used++;
	if (used < n)
		rpc_reply_error(NULL, RPC_PARSE_ERROR,
		                "Parse error: more than one JSON value on a line; the first was "
		                "handled, the rest "
		                "ignored (send one message per line)",
		                NULL);
out:
	jsonraw_free(&raw);
	free(text);
}

/* The JSON-RPC envelope checks, then the message callback. */
static void handle_message(cJSON *msg)
{
	if (cJSON_IsArray(msg)) {
		rpc_reply_error(NULL, RPC_INVALID_REQUEST,
		                "Invalid Request: JSON-RPC batches are not supported; send one "
		                "message at a time (a line on stdio, a POST over HTTP)",
		                NULL);
		return;
	}
	if (!cJSON_IsObject(msg)) {
		rpc_reply_error(NULL, RPC_INVALID_REQUEST,
		                "Invalid Request: a message must be a JSON object", NULL);
		return;
	}
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(msg, "id");
	const cJSON *ver = cJSON_GetObjectItemCaseSensitive(msg, "jsonrpc");
	const cJSON *method = cJSON_GetObjectItemCaseSensitive(msg, "method");
	const cJSON *reply_id = id_valid(id) ? id : NULL;

	if (!cJSON_IsString(ver) || strcmp(ver->valuestring, "2.0") != 0) {
		rpc_reply_error(reply_id, RPC_INVALID_REQUEST,
		                "Invalid Request: \"jsonrpc\" must be \"2.0\"", NULL);
		return;
	}
	if (id && !id_valid(id)) {
		rpc_reply_error(NULL, RPC_INVALID_REQUEST,
		                "Invalid Request: \"id\" must be a string or a number", NULL);
		return;
	}
	if (!method) {
		/* A response to a request of ours (rpc_request). */
		if (id && (cJSON_GetObjectItemCaseSensitive(msg, "result") ||
		           cJSON_GetObjectItemCaseSensitive(msg, "error"))) {
			if (response_cb)
				response_cb(msg);
			else
				log_msg(LOG_DEBUG, "ignoring a response from the client");
		} else
			rpc_reply_error(reply_id, RPC_INVALID_REQUEST,
			                "Invalid Request: \"method\" is missing", NULL);
		return;
	}
	if (!cJSON_IsString(method)) {
		if (id)
			rpc_reply_error(reply_id, RPC_INVALID_REQUEST,
			                "Invalid Request: \"method\" must be a string", NULL);
		return;
	}
	const cJSON *params = cJSON_GetObjectItemCaseSensitive(msg, "params");
	if (params && !cJSON_IsObject(params) && !cJSON_IsArray(params)) {
		if (id)
			rpc_reply_error(reply_id, RPC_INVALID_REQUEST,
			                "Invalid Request: \"params\" must be an object", NULL);
		return;
	}
	rpc_cb(msg);
}

/* Bytes at the start of buf already known to hold no newline: a long line
 * that arrives in small reads is scanned once, not once per read. */
static size_t scanned;

/* Hand every complete line in buf to rpc_handle_line, keep the remainder. */
static void drain_lines(void)
{
	size_t start = 0;
	for (;;) {
		size_t from = start == 0 && scanned < buf_len ? scanned : start;
		char *nl = memchr(buf + from, '\n', buf_len - from);
		if (!nl)
			break;
		size_t n = (size_t)(nl - (buf + start));
		if (discarding)
			discarding = false; /* the tail of an over-long line ends here */
		else
			rpc_handle_line(buf + start, n);
		start += n + 1;
	}
	/* Only when lines were taken: a memmove onto itself is not free (musl
	 * copies), and a long line arrives in many reads. */
	if (start) {
		memmove(buf, buf + start, buf_len - start);
		buf_len -= start;
	}
	scanned = buf_len;
	if (buf_len > RPC_MAX_LINE) {
		if (!discarding) {
			rpc_reply_error(
			    NULL, RPC_INVALID_REQUEST,
			    "Invalid Request: message longer than 16 MiB; it was dropped", NULL);
			log_msg(LOG_WARNING, "dropped a message over %u bytes", RPC_MAX_LINE);
		}
		discarding = true;
		buf_len = 0;
		scanned = 0;
	}
}

static void on_stdin(void *ctx, int fd, short revents)
{
	(void)ctx;
	(void)revents;
	for (int round = 0; round < 64; round++) {
		if (buf_cap - buf_len < 65536) {
			size_t cap = buf_cap ? buf_cap * 2 : 131072;
			if (cap > RPC_MAX_LINE + 131072)
				cap = RPC_MAX_LINE + 131072;
			if (cap > buf_cap) {
				char *nb = realloc(buf, cap);
				if (!nb) {
					log_msg(LOG_ERROR, "out of memory reading stdin; retrying");
					return;
				}
				buf = nb;
				buf_cap = cap;
			}
		}
		ssize_t r = read(fd, buf + buf_len, buf_cap - buf_len);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return;
			log_msg(LOG_ERROR, "stdin: %s", strerror(errno));
			r = 0;
		}
		if (r == 0) {
			/* A final message without its newline still counts. */
			if (buf_len > 0 && !discarding)
				rpc_handle_line(buf, buf_len);
			buf_len = 0;
			scanned = 0;
			free(buf);
			buf = NULL;
			buf_cap = 0;
			loop_unwatch(fd);
			in_closed = true;
			return;
		}
		buf_len += (size_t)r;
		drain_lines();
	}
}

void rpc_set_handler(rpc_message_cb *cb)
{
	rpc_cb = cb;
}

int rpc_start(int in_fd, int out_fd, rpc_message_cb *cb, struct err *e)
{
	int fl = fcntl(in_fd, F_GETFL);
	if (fl < 0 || fcntl(in_fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return err_sys(e, errno, "rpc: making stdin non-blocking");
	int ofl = fcntl(out_fd, F_GETFL);
	if (ofl < 0 || fcntl(out_fd, F_SETFL, ofl | O_NONBLOCK) < 0)
		return err_sys(e, errno, "rpc: making stdout non-blocking");
	rpc_in = in_fd;
	rpc_out = out_fd;
	rpc_cb = cb;
	if (loop_watch(rpc_in, POLLIN, on_stdin, NULL, e) < 0)
		return err_wrap(e, "rpc");
	return 0;
}
