/* fuzz_rpc.c — libFuzzer entry point for the JSON-RPC and MCP layers.
 *
 * Owns: feeding fuzzer bytes to rpc.c as a client's stdin would, and the
 * oracles on what the server writes back. Not part of the server (the
 * Makefile leaves fuzz_*.c out); tests/fuzz/run.sh links it with rpc.c,
 * mcp.c, env.c, loop.c, utf8.c, log.c, err.c, a generated env table and
 * tests/fuzz/stub_exec.c (runs end through a loop timer: no sandbox).
 *
 * Each input goes through twice:
 *  1. split on '\n', each line copied into a buffer of exactly its length
 *     (so a read past the line is an ASan report) and given to
 *     rpc_handle_line;
 *  2. written to a pipe watched by rpc.c (rpc_start), then closed: the real
 *     framing path (partial reads, the last line without '\n', EOF).
 * After each pass every run is driven to completion on the loop, and the
 * output (a memfd: writes never block) must be:
 *  - one JSON-RPC 2.0 message per line: a response with exactly one of
 *    result/error and an id that is a string, a number or (errors only) null,
 *    or a notification with a method;
 *  - at most one response per input line; none to a notification; a
 *    request's id echoed exactly (checked in pass 1, line by line);
 *  - valid UTF-8 whenever the input was (the server must not cut a
 *    multi-byte character when it quotes the client);
 * and no run, call or watch may be left behind. NSM_FUZZ_ORACLES=memory
 * keeps only the sanitizers and the last check, to fuzz past a known
 * protocol bug.
 *
 * The server is initialized once at start-up, so every input is handled in
 * the same state and a crash reproduces from its file alone.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "exec.h"
#include "jsonraw.h"
#include "log.h"
#include "loop.h"
#include "mcp.h"
#include "rpc.h"
#include "utf8.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int out_fd = -1;
static bool protocol_oracles = true;

/* The output around offset at, bytes outside printable ASCII as \\xNN (the
 * report stays one readable line whatever the server wrote). */
static void print_escaped(const char *s, size_t n, size_t at)
{
	size_t from = at > 240 ? at - 240 : 0, to = n - at > 400 ? at + 400 : n;
	fprintf(stderr, "fuzz_rpc: offending output: %s", from ? "..." : "");
	for (size_t i = from; i < to; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c < 0x7f && c != '\\')
			fputc(c, stderr);
		else
			fprintf(stderr, "\\x%02x", c);
	}
	fprintf(stderr, "%s\n", to < n ? "..." : "");
}

static void fail_at(const char *what, const char *detail, size_t n, size_t at)
{
	fprintf(stderr, "fuzz_rpc: oracle failed: %s\n", what);
	if (detail)
		print_escaped(detail, n, at);
	abort();
}

static void fail(const char *what, const char *detail, size_t n)
{
	fail_at(what, detail, n, 0);
}

/* A broken protocol promise (as opposed to a crash, a leak or a run that
 * never ends, which always fail). */
static void pfail(const char *what, const char *detail, size_t n)
{
	if (protocol_oracles)
		fail(what, detail, n);
}

/* Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, <= U+10FFFF.
 * Written here rather than taken from utf8.c, which is under test. Returns
 * the offset of the first bad sequence, or n. */
static size_t utf8_bad_at(const unsigned char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		unsigned c = s[i];
		size_t len;
		unsigned cp, min;
		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xE0) == 0xC0) {
			len = 2, cp = c & 0x1F, min = 0x80;
		} else if ((c & 0xF0) == 0xE0) {
			len = 3, cp = c & 0x0F, min = 0x800;
		} else if ((c & 0xF8) == 0xF0) {
			len = 4, cp = c & 0x07, min = 0x10000;
		} else {
			return i;
		}
		if (n - i < len)
			return i;
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				return i;
			cp = cp << 6 | (s[i + k] & 0x3F);
		}
		if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return i;
		i += len;
	}
	return n;
}

/* The input line as the server reads it: invalid UTF-8 repaired (U+FFFD)
 * and lone surrogate escapes replaced (jsonraw), as rpc.c does before
 * parsing. The caller frees it. */
static char *as_read(const char *line, size_t n, size_t *out_n)
{
	char *t = utf8_repair(line, n, out_n);
	struct jsonraw raw;
	if (!t || jsonraw_scan(t, *out_n, &raw) < 0)
		abort();
	jsonraw_free(&raw);
	return t;
}

/* A line holding a JSON value and more after it: answered twice (the
 * first value, then -32700 for the rest). */
static bool has_trailing_value(const char *line, size_t n)
{
	size_t tn;
	char *t = as_read(line, n, &tn);
	const char *end = NULL;
	cJSON *v = cJSON_ParseWithLengthOpts(t, tn, &end, false);
	bool trailing = false;
	if (v) {
		size_t used = (size_t)(end - t);
		while (used < tn && strchr(" \t\r", t[used]) && t[used] != '\0')
			used++;
		trailing = used < tn;
	}
	cJSON_Delete(v);
	free(t);
	return trailing;
}

/* How many replies the input may get at most: one per line, two for a line
 * with data after its first value. */
static size_t count_lines(const uint8_t *data, size_t size)
{
	size_t n = 0, start = 0;
	for (size_t i = 0; i <= size; i++)
		if (i == size || data[i] == '\n') {
			if (i > start || i < size)
				n += 1 + has_trailing_value((const char *)data + start, i - start);
			start = i + 1;
		}
	return n;
}

/* Run the loop until every run has answered: the stub ends each run on a
 * timer that is already due, so a few rounds suffice; thousands mean a run
 * that never ends. */
static void drain_runs(void)
{
	struct err e = { 0 };
	for (int i = 0; exec_active() > 0 || mcp_inflight() > 0; i++) {
		if (i > 10000)
			fail("a run never completed", NULL, 0);
		if (loop_run_once(0, &e) < 0)
			fail(e.msg, NULL, 0);
	}
}

/* Checks one output line; returns 1 for a response, 0 for a notification. */
static int check_message(const char *line, size_t n)
{
	cJSON *m = cJSON_ParseWithLength(line, n);
	if (!m || !cJSON_IsObject(m))
		pfail("an output line is not a JSON object", line, n);
	const cJSON *ver = cJSON_GetObjectItemCaseSensitive(m, "jsonrpc");
	if (!cJSON_IsString(ver) || strcmp(ver->valuestring, "2.0") != 0)
		pfail("an output message lacks \"jsonrpc\": \"2.0\"", line, n);
	const cJSON *method = cJSON_GetObjectItemCaseSensitive(m, "method");
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(m, "id");
	const cJSON *result = cJSON_GetObjectItemCaseSensitive(m, "result");
	const cJSON *error = cJSON_GetObjectItemCaseSensitive(m, "error");
	if (method) {
		if (!cJSON_IsString(method) || id || result || error)
			pfail("a notification from the server is malformed", line, n);
	} else {
		if (!result == !error)
			pfail("a response needs exactly one of result and error", line, n);
		if (!(cJSON_IsString(id) || cJSON_IsNumber(id) || (error && cJSON_IsNull(id))))
			pfail("a response id must be a string or a number (null only for errors)",
			      line, n);
		if (error) {
			const cJSON *code = cJSON_GetObjectItemCaseSensitive(error, "code");
			const cJSON *msg = cJSON_GetObjectItemCaseSensitive(error, "message");
			if (!cJSON_IsNumber(code) || !cJSON_IsString(msg))
				pfail("an error needs a numeric code and a string message", line,
				      n);
		}
		if (result && !cJSON_IsObject(result))
			pfail("a result must be an object", line, n);
	}
	int is_response = method == NULL;
	cJSON_Delete(m);
	return is_response;
}

/* Check and empty what the server wrote during one pass. */
static void check_output(size_t lines_in, bool input_utf8)
{
	off_t end = lseek(out_fd, 0, SEEK_CUR);
	if (end < 0)
		fail("lseek on the output memfd", NULL, 0);
	char *buf = malloc((size_t)end + 1);
	if (!buf)
		abort();
	ssize_t got = pread(out_fd, buf, (size_t)end, 0);
	if (got != (ssize_t)end)
		fail("reading back the output memfd", NULL, 0);
	if (end > 0 && buf[end - 1] != '\n')
		pfail("the output does not end with a newline", buf, (size_t)end);
	/* Whatever the input: rpc.c repairs it before parsing. */
	(void)input_utf8;
	size_t bad = utf8_bad_at((unsigned char *)buf, (size_t)end);
	if (bad < (size_t)end && protocol_oracles)
		fail_at("the server wrote invalid UTF-8", buf, (size_t)end, bad);
	size_t msgs = 0, start = 0;
	for (size_t i = 0; i < (size_t)end; i++)
		if (buf[i] == '\n') {
			msgs += check_message(buf + start, i - start);
			start = i + 1;
		}
	if (msgs > lines_in)
		pfail("more replies than input lines", buf, (size_t)end);
	free(buf);
	if (ftruncate(out_fd, 0) < 0 || lseek(out_fd, 0, SEEK_SET) < 0)
		fail("resetting the output memfd", NULL, 0);
	if (loop_watch_count() != 0)
		fail("a loop watch was left behind", NULL, 0);
}

/* The replies a line produced synchronously (everything but a run's answer):
 * at most one; none for a notification (JSON-RPC 2.0, section 4.1); and a
 * request's id echoed exactly (a client matches responses by id). */
static void check_sync_reply(const char *line, size_t n, off_t before)
{
	off_t end = lseek(out_fd, 0, SEEK_CUR);
	if (end < 0 || end < before)
		fail("lseek on the output memfd", NULL, 0);
	size_t len = (size_t)(end - before);
	size_t tn;
	char *text = as_read(line, n, &tn);
	cJSON *in = cJSON_ParseWithLengthOpts(text, tn, NULL, false);
	bool trailing = has_trailing_value(line, n);
	free(text);
	if (!cJSON_IsObject(in) || len == 0) {
		cJSON_Delete(in);
		return;
	}
	char *buf = malloc(len + 1);
	if (!buf || pread(out_fd, buf, len, before) != (ssize_t)len)
		fail("reading back the output memfd", NULL, 0);
	buf[len] = '\0';
	const cJSON *ver = cJSON_GetObjectItemCaseSensitive(in, "jsonrpc");
	const cJSON *method = cJSON_GetObjectItemCaseSensitive(in, "method");
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(in, "id");
	/* The server's own notifications (notifications/message once logging
	 * is on) may come with a reply: only responses count. */
	cJSON *out = NULL;
	size_t responses = 0;
	bool trailing_reply = false;
	for (size_t st = 0, i = 0; i < len; i++) {
		if (buf[i] != '\n')
			continue;
		cJSON *m = cJSON_ParseWithLength(buf + st, i - st);
		st = i + 1;
		if (m && cJSON_GetObjectItemCaseSensitive(m, "method")) {
			cJSON_Delete(m);
			continue;
		}
		/* The one reply a second value on the line may get: -32700, id null. */
		const cJSON *e = cJSON_GetObjectItemCaseSensitive(m, "error");
		const cJSON *code = cJSON_GetObjectItemCaseSensitive(e, "code");
		if (trailing && !trailing_reply &&
		    cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(m, "id")) &&
		    cJSON_IsNumber(code) && code->valuedouble == -32700) {
			trailing_reply = true;
			cJSON_Delete(m);
			continue;
		}
		responses++;
		if (!out)
			out = m;
		else
			cJSON_Delete(m);
	}
	if (responses > 1)
		pfail("one input line got more than one reply", buf, len);
	if (trailing_reply && !trailing)
		pfail("a -32700 for trailing data on a line without any", buf, len);
	if (responses && cJSON_IsString(ver) && strcmp(ver->valuestring, "2.0") == 0 &&
	    cJSON_IsString(method) && !id)
		pfail("a notification was answered", buf, len);
	if (!out) {
		cJSON_Delete(in);
		free(buf);
		return;
	}
	const cJSON *oid = cJSON_GetObjectItemCaseSensitive(out, "id");
	if (cJSON_IsString(id) &&
	    !(cJSON_IsString(oid) && strcmp(id->valuestring, oid->valuestring) == 0))
		pfail("the reply's id is not the request's string id", buf, len);
	if (cJSON_IsNumber(id) && isfinite(id->valuedouble) &&
	    !(cJSON_IsNumber(oid) && oid->valuedouble == id->valuedouble))
		pfail("the reply's id is not the request's numeric id", buf, len);
	cJSON_Delete(out);
	cJSON_Delete(in);
	free(buf);
}

/* Pass 1: line by line, each in an exact-size heap buffer. */
static void feed_lines(const uint8_t *data, size_t size)
{
	size_t start = 0;
	for (size_t i = 0; i <= size; i++) {
		if (i < size && data[i] != '\n')
			continue;
		size_t n = i - start;
		if (n > 0 || i < size) {
			char *line = malloc(n ? n : 1);
			if (!line)
				abort();
			memcpy(line, data + start, n);
			off_t before = lseek(out_fd, 0, SEEK_CUR);
			rpc_handle_line(line, n);
			check_sync_reply(line, n, before);
			free(line);
		}
		start = i + 1;
	}
	drain_runs();
}

/* Pass 2: through a pipe, as stdin. */
static void feed_pipe(const uint8_t *data, size_t size)
{
	int p[2];
	struct err e = { 0 };
	if (pipe2(p, O_CLOEXEC) < 0 || fcntl(p[1], F_SETFL, O_NONBLOCK) < 0)
		fail("pipe2", NULL, 0);
	if (rpc_start(p[0], out_fd, mcp_handle, &e) < 0)
		fail(e.msg, NULL, 0);
	size_t off = 0;
	while (off < size) {
		ssize_t w = write(p[1], data + off, size - off);
		if (w > 0)
			off += (size_t)w;
		else if (w < 0 && errno != EAGAIN && errno != EINTR)
			fail("write to the input pipe", NULL, 0);
		else if (loop_run_once(0, &e) < 0)
			fail(e.msg, NULL, 0);
	}
	close(p[1]);
	/* rpc.c unwatches stdin at EOF, after the last line was handled. */
	for (int i = 0; loop_watch_count() > 0; i++) {
		if (i > 100000)
			fail("stdin EOF was never seen", NULL, 0);
		if (loop_run_once(0, &e) < 0)
			fail(e.msg, NULL, 0);
	}
	if (!rpc_input_closed())
		fail("rpc_input_closed() is false after EOF", NULL, 0);
	drain_runs();
	close(p[0]);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	const char *o = getenv("NSM_FUZZ_ORACLES");
	protocol_oracles = !(o && strcmp(o, "memory") == 0);
	out_fd = memfd_create("fuzz_rpc-stdout", MFD_CLOEXEC);
	if (out_fd < 0) {
		perror("fuzz_rpc: memfd_create");
		abort();
	}
	/* rpc_start needs an input to watch; pass 1 never reads it. */
	int p[2];
	struct err e = { 0 };
	if (pipe2(p, O_CLOEXEC) < 0 || rpc_start(p[0], out_fd, mcp_handle, &e) < 0) {
		fprintf(stderr, "fuzz_rpc: rpc_start: %s\n", e.msg);
		abort();
	}
	loop_unwatch(p[0]);
	close(p[0]);
	close(p[1]);
	static const char init[] = "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\","
	                           "\"params\":{\"protocolVersion\":"
	                           "\"2025-11-25\",\"capabilities\":{},\"clientInfo\":{\"name\":"
	                           "\"fuzz\",\"version\":\"0\"}}}";
	rpc_handle_line(init, sizeof init - 1);
	check_output(1, true);
	log_set_level(LOG_ERROR);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t lines = count_lines(data, size);
	bool input_utf8 = utf8_bad_at(data, size) == size;

	feed_lines(data, size);
	check_output(lines, input_utf8);
	feed_pipe(data, size);
	check_output(lines, input_utf8);
	/* logging/setLevel may have lowered it: keep stderr quiet and the
	 * state the same for every input. */
	log_set_level(LOG_ERROR);
	return 0;
}
