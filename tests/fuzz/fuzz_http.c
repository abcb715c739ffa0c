/* fuzz_http.c — libFuzzer entry point for the Streamable HTTP layer.
 *
 * Owns: feeding fuzzer bytes to http.c as one client connection's bytes, and
 * the oracles on what comes back. Not part of the server; tests/fuzz/run.sh
 * links it with http.c, libmicrohttpd (compiled from the Debian source with
 * the same instrumentation when tests/setup.sh unpacked it), rpc.c, mcp.c and
 * their helpers, and tests/fuzz/stub_exec.c (no sandbox).
 *
 * Each input: a fresh daemon (http_start without a listening socket), one
 * end of a socketpair adopted by it (http_adopt), the input written to the
 * other end, which is then shut for writing; the loop runs until the server
 * closes the connection and no call is in flight, then the daemon stops
 * (http_shutdown). Inputs may hold several requests (keep-alive), e.g. an
 * initialize, then calls with the session id the server issues for this
 * input ("SID" in the input is replaced by it, so the fuzzer reaches past
 * the session check).
 * Oracles: what the server wrote is empty or starts with an HTTP/1.x status
 * line; every call ends within 5 s of loop time; no call, watch or
 * session is left once the daemon stopped; and the sanitizers (leaks
 * included).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "exec.h"
#include "http.h"
#include "log.h"
#include "loop.h"
#include "mcp.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int base_watches;

static void fail(const char *what, const char *out, size_t n)
{
	fprintf(stderr, "fuzz_http: oracle failed: %s\n", what);
	if (out)
		fprintf(stderr, "fuzz_http: offending output: %.*s\n", (int)(n > 400 ? 400 : n),
		        out);
	abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_set_level(LOG_ERROR);
	base_watches = loop_watch_count();
	return 0;
}

static char out[1 << 16];
static size_t out_len;
static bool closed;

/* Take what the server wrote; true once it closed the connection. */
static bool server_closed(int fd)
{
	while (!closed) {
		char buf[4096];
		ssize_t r = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
		if (r > 0) {
			size_t k =
			    (size_t)r < sizeof out - out_len ? (size_t)r : sizeof out - out_len;
			memcpy(out + out_len, buf, k);
			out_len += k;
			continue;
		}
		if (r == 0 || (errno != EAGAIN && errno != EINTR))
			closed = true;
		break;
	}
	return closed && mcp_inflight() == 0 && exec_active() == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct err e = { 0 };
	struct http_options o = { .listen = NULL,
		                  .n_origins = 1,
		                  .origins = { "https://allowed.example" } };
	if (http_start(&o, &e) < 0)
		fail(e.msg, NULL, 0);
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) < 0)
		fail("socketpair", NULL, 0);
	if (http_adopt(sv[0], &e) < 0)
		fail(e.msg, NULL, 0);
	out_len = 0;
	closed = false;

	/* Write the input, the session id put in place of "SID" once the
	 * server issued one (an initialize first in the input). */
	const char *p = (const char *)data, *end = p + size;
	while (p < end) {
		const char *sid = memmem(p, (size_t)(end - p), "SID", 3);
		const char *stop = sid ? sid : end;
		size_t off = 0, n = (size_t)(stop - p);
		while (off < n) {
			ssize_t w = send(sv[1], p + off, n - off, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (w > 0) {
				off += (size_t)w;
				continue;
			}
			if (w < 0 && errno != EAGAIN && errno != EINTR)
				break; /* the server closed: the rest is moot */
			if (loop_run_once(5, &e) < 0)
				fail(e.msg, NULL, 0);
		}
		if (!sid)
			break;
		/* Let the server answer what came before, then take its id. */
		for (int i = 0; i < 20; i++) {
			server_closed(sv[1]);
			if (loop_run_once(1, &e) < 0)
				fail(e.msg, NULL, 0);
		}
		server_closed(sv[1]);
		char id[80] = "none";
		const char *h = memmem(out, out_len, "Mcp-Session-Id: ", 16);
		if (h) {
			size_t k = 0;
			h += 16;
			while (k < 64 && h + k < out + out_len && h[k] != '\r')
				k++;
			memcpy(id, h, k);
			id[k] = '\0';
		}
		if (send(sv[1], id, strlen(id), MSG_NOSIGNAL | MSG_DONTWAIT) < 0 &&
		    errno != EPIPE && errno != EAGAIN)
			fail("send", NULL, 0);
		p = sid + 3;
	}
	shutdown(sv[1], SHUT_WR);
	/* Until the server closed, or has nothing in flight and wrote nothing
	 * for 50 ms (an incomplete request: waiting for the rest is right; the
	 * connection timeout ends it). A call must end within 5 s. */
	uint64_t start = loop_now_ms(), quiet = start;
	size_t seen = 0;
	while (!server_closed(sv[1])) {
		uint64_t now = loop_now_ms();
		if (out_len != seen || mcp_inflight() || exec_active()) {
			seen = out_len;
			quiet = now;
		}
		if (now - quiet >= 50)
			break;
		if (now - start > 5000)
			fail("a call did not end within 5 s", out, out_len);
		if (loop_run_once(5, &e) < 0)
			fail(e.msg, NULL, 0);
	}
	close(sv[1]);
	if (out_len &&
	    !(out_len >= 12 && memcmp(out, "HTTP/1.", 7) == 0 && out[9] >= '1' && out[9] <= '5'))
		fail("the server wrote something that is not an HTTP response", out, out_len);
	http_shutdown(0);
	if (mcp_inflight() || loop_watch_count() != base_watches || http_session_count())
		fail("a call, a watch or a session is left after shutdown", NULL, 0);
	return 0;
}
