/* rpc.c — see rpc.h.
 *
 * Reading: stdin is non-blocking and watched by the loop; bytes accumulate
 * until a newline, up to RPC_MAX_LINE. A longer line is answered with -32600
 * and its remaining bytes are dropped as they arrive, so memory stays bounded
 * whatever the client sends.
 * Writing: one write loop per message, message + '\n'. stdout stays blocking:
 * a client that stops reading stalls only its own replies.
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

#include "log.h"
#include "loop.h"

static int rpc_in = -1, rpc_out = -1;
static rpc_message_cb *rpc_cb;
static char *buf;
static size_t buf_len, buf_cap;
static bool discarding;       /* inside an over-long line */
static bool in_closed, out_broken;

bool rpc_input_closed(void)
{
	return in_closed;
}

bool rpc_output_broken(void)
{
	return out_broken;
}

static void write_all(const char *p, size_t n)
{
	while (n > 0 && !out_broken) {
		ssize_t w = write(rpc_out, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				struct pollfd pfd = { .fd = rpc_out, .events = POLLOUT };
				(void)poll(&pfd, 1, 1000);
				continue;
			}
			log_msg(LOG_ERROR, "stdout: %s; the client is gone", strerror(errno));
			out_broken = true;
			return;
		}
		p += w;
		n -= (size_t)w;
	}
}

static void send_msg(cJSON *msg)
{
	char *s = cJSON_PrintUnformatted(msg);
	if (!s) {
		log_msg(LOG_ERROR, "out of memory serialising a reply");
		return;
	}
	size_t n = strlen(s);
	/* One buffer, one write loop: message and newline never split by another. */
	char *line = realloc(s, n + 1);
	if (!line) {
		free(s);
		log_msg(LOG_ERROR, "out of memory serialising a reply");
		return;
	}
	line[n] = '\n';
	write_all(line, n + 1);
	free(line);
}

bool rpc_id_equal(const cJSON *a, const cJSON *b)
{
	if (cJSON_IsString(a) && cJSON_IsString(b))
		return strcmp(a->valuestring, b->valuestring) == 0;
	if (cJSON_IsNumber(a) && cJSON_IsNumber(b))
		return a->valuedouble == b->valuedouble;
	return false;
}

cJSON *rpc_id_dup(const cJSON *id)
{
	if (cJSON_IsNumber(id)) {
		double v = id->valuedouble;
		char num[64];
		if (v == floor(v) && fabs(v) <= 9007199254740992.0)
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
	send_msg(m);
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
	send_msg(m);
	cJSON_Delete(m);
}

void rpc_notify(const char *method, cJSON *params)
{
	cJSON *m = cJSON_CreateObject();
	if (!m) {
		cJSON_Delete(params);
		return;
	}
	cJSON_AddStringToObject(m, "jsonrpc", "2.0");
	cJSON_AddStringToObject(m, "method", method);
	if (params)
		cJSON_AddItemToObject(m, "params", params);
	send_msg(m);
	cJSON_Delete(m);
}

/* A JSON-RPC id as MCP allows it: a string or a finite number (never null;
 * 1e400 parses to infinity, which cannot be echoed). */
static bool id_valid(const cJSON *id)
{
	return cJSON_IsString(id) || (cJSON_IsNumber(id) && isfinite(id->valuedouble));
}

void rpc_handle_line(const char *line, size_t len)
{
	while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' ' || line[len - 1] == '\t'))
		len--;
	size_t start = 0;
	while (start < len && (line[start] == ' ' || line[start] == '\t'))
		start++;
	if (start == len)
		return; /* blank lines between messages are harmless */

	cJSON *msg = cJSON_ParseWithLength(line + start, len - start);
	if (!msg) {
		rpc_reply_error(NULL, RPC_PARSE_ERROR, "Parse error: the line is not valid JSON", NULL);
		return;
	}
	if (cJSON_IsArray(msg)) {
		rpc_reply_error(NULL, RPC_INVALID_REQUEST,
				"Invalid Request: JSON-RPC batches are not supported; send one message per line",
				NULL);
		goto out;
	}
	if (!cJSON_IsObject(msg)) {
		rpc_reply_error(NULL, RPC_INVALID_REQUEST, "Invalid Request: a message must be a JSON object", NULL);
		goto out;
	}
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(msg, "id");
	const cJSON *ver = cJSON_GetObjectItemCaseSensitive(msg, "jsonrpc");
	const cJSON *method = cJSON_GetObjectItemCaseSensitive(msg, "method");
	const cJSON *reply_id = id_valid(id) ? id : NULL;

	if (!cJSON_IsString(ver) || strcmp(ver->valuestring, "2.0") != 0) {
		rpc_reply_error(reply_id, RPC_INVALID_REQUEST, "Invalid Request: \"jsonrpc\" must be \"2.0\"", NULL);
		goto out;
	}
	if (id && !id_valid(id)) {
		rpc_reply_error(NULL, RPC_INVALID_REQUEST, "Invalid Request: \"id\" must be a string or a number", NULL);
		goto out;
	}
	if (!method) {
		/* A response to a request of ours (e.g. a ping we sent): nothing to do. */
		if (id && (cJSON_GetObjectItemCaseSensitive(msg, "result") ||
			   cJSON_GetObjectItemCaseSensitive(msg, "error")))
			log_msg(LOG_DEBUG, "ignoring a response from the client");
		else
			rpc_reply_error(reply_id, RPC_INVALID_REQUEST, "Invalid Request: \"method\" is missing", NULL);
		goto out;
	}
	if (!cJSON_IsString(method)) {
		if (id)
			rpc_reply_error(reply_id, RPC_INVALID_REQUEST, "Invalid Request: \"method\" must be a string", NULL);
		goto out;
	}
	const cJSON *params = cJSON_GetObjectItemCaseSensitive(msg, "params");
	if (params && !cJSON_IsObject(params) && !cJSON_IsArray(params)) {
		if (id)
			rpc_reply_error(reply_id, RPC_INVALID_REQUEST, "Invalid Request: \"params\" must be an object", NULL);
		goto out;
	}
	rpc_cb(msg);
out:
	cJSON_Delete(msg);
}

/* Hand every complete line in buf to rpc_handle_line, keep the remainder. */
static void drain_lines(void)
{
	size_t start = 0;
	for (;;) {
		char *nl = memchr(buf + start, '\n', buf_len - start);
		if (!nl)
			break;
		size_t n = (size_t)(nl - (buf + start));
		if (discarding)
			discarding = false; /* the tail of an over-long line ends here */
		else
			rpc_handle_line(buf + start, n);
		start += n + 1;
	}
	memmove(buf, buf + start, buf_len - start);
	buf_len -= start;
	if (buf_len > RPC_MAX_LINE) {
		if (!discarding) {
			rpc_reply_error(NULL, RPC_INVALID_REQUEST,
					"Invalid Request: message longer than 16 MiB; it was dropped", NULL);
			log_msg(LOG_WARNING, "dropped a message over %u bytes", RPC_MAX_LINE);
		}
		discarding = true;
		buf_len = 0;
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

int rpc_start(int in_fd, int out_fd, rpc_message_cb *cb, struct err *e)
{
	int fl = fcntl(in_fd, F_GETFL);
	if (fl < 0 || fcntl(in_fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return err_sys(e, errno, "rpc: making stdin non-blocking");
	rpc_in = in_fd;
	rpc_out = out_fd;
	rpc_cb = cb;
	if (loop_watch(rpc_in, POLLIN, on_stdin, NULL, e) < 0)
		return err_wrap(e, "rpc");
	return 0;
}
