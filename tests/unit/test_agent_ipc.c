/* Unit tests for csrc/agent_ipc.c (framing), capture.c's marker scan and
 * csrc/outcap.c. */
#include <stdlib.h>
#include <string.h>

#include "agent_ipc.h"
#include "capture.h"
#include "outcap.h"
#include "tap.h"

static void emit(void *ctx, const char *p, size_t n)
{
	outcap_add(ctx, p, n);
}

/* Feed text in pieces of `step` bytes; return what was kept before the marker. */
static int scan_is(const char *text, size_t n, size_t step, const char *marker, const char *want,
                   int want_found)
{
	struct outcap o;
	struct marker_scan s = { marker, strlen(marker), 0, false };
	outcap_init(&o, 1 << 20);
	for (size_t off = 0; off < n; off += step)
		marker_scan_feed(&s, text + off, off + step <= n ? step : n - off, emit, &o);
	if (!s.found)
		marker_scan_flush(&s, emit, &o);
	char *b;
	size_t len, total;
	bool trunc;
	outcap_take(&o, &b, &len, &total, &trunc);
	int ok = b && len == strlen(want) && memcmp(b, want, len) == 0 && s.found == want_found;
	free(b);
	return ok;
}

int main(void)
{
	char m[AGENT_MARKER_MAX];
	size_t ml = agent_marker(m, "abc123", 7);
	TAP_OK(ml == 10 && memcmp(m,
	                          "\x1e"
	                          "abc123:7\x1e",
	                          10) == 0,
	       "marker shape");

	const char *t1 = "hello\x1e"
	                 "abc123:7\x1e"
	                 "after";
	int all = 1;
	for (size_t step = 1; step <= strlen(t1); step++)
		all &= scan_is(t1, strlen(t1), step, m, "hello", 1);
	TAP_OK(all, "marker found and stripped at every split, the rest dropped");
	const char *t2 = "a\x1e\x1e"
	                 "abc12\x1e"
	                 "abc123:7\x1e";
	all = 1;
	for (size_t step = 1; step <= strlen(t2); step++)
		all &= scan_is(t2, strlen(t2), step, m,
		               "a\x1e\x1e"
		               "abc12",
		               1);
	TAP_OK(all, "false starts are kept as output");
	TAP_OK(scan_is("x\x1e"
	               "abc123:8\x1e",
	               11, 3, m,
	               "x\x1e"
	               "abc123:8\x1e",
	               0),
	       "another call's marker is output");
	TAP_OK(scan_is("tail\x1e"
	               "abc1",
	               9, 2, m,
	               "tail\x1e"
	               "abc1",
	               0),
	       "held-back bytes are released at EOF");

	char *req;
	size_t rl;
	req = agent_request(3, "print(1)", 8, &rl);
	TAP_OK(req && rl == strlen("23\n{\"id\":3,\"code_bytes\":8}print(1)") &&
	           memcmp(req, "23\n{\"id\":3,\"code_bytes\":8}print(1)", rl) == 0,
	       "request frame");
	free(req);

	char buf[256];
	size_t len;
	struct agent_reply r;
	strcpy(buf, "43\n{\"id\":3,\"exit_code\":130,\"interrupted\":true}12\n{\"id\":4,\"ex");
	len = strlen(buf);
	int rc = agent_reply_parse(buf, &len, &r); /* TAP_OK evaluates its condition twice */
	TAP_OK(rc == 1 && r.id == 3 && r.exit_code == 130 && r.interrupted, "reply parsed");
	rc = agent_reply_parse(buf, &len, &r);
	TAP_OK(rc == 0 && len == strlen("12\n{\"id\":4,\"ex"), "partial frame waits for more");
	strcpy(buf, "4");
	len = 1;
	TAP_OK(agent_reply_parse(buf, &len, &r) == 0, "partial header waits for more");
	strcpy(buf, "9999999\n{}");
	len = strlen(buf);
	TAP_OK(agent_reply_parse(buf, &len, &r) == -1, "oversized frame is an error");
	strcpy(buf, "x\n{}");
	len = strlen(buf);
	TAP_OK(agent_reply_parse(buf, &len, &r) == -1, "bad header is an error");
	strcpy(buf, "30\n{\"id\":1,\"exit_code\":300,\"x\":1}");
	len = strlen(buf);
	TAP_OK(agent_reply_parse(buf, &len, &r) == -1, "exit code out of range is an error");
	strcpy(buf, "2\n[]");
	len = strlen(buf);
	TAP_OK(agent_reply_parse(buf, &len, &r) == -1, "non-object reply is an error");

	struct outcap o;
	char *b;
	size_t total;
	bool trunc;
	outcap_init(&o, 5);
	outcap_add(&o, "abc", 3);
	outcap_add(&o, "defgh", 5);
	outcap_take(&o, &b, &len, &total, &trunc);
	TAP_OK(b && len == 5 && memcmp(b, "abcde", 6) == 0 && total == 8 && trunc,
	       "outcap keeps the cap, counts the rest");
	free(b);
	outcap_take(&o, &b, &len, &total, &trunc);
	TAP_OK(b && len == 0 && total == 0 && !trunc, "outcap is empty after take");
	free(b);
	outcap_free(&o);
	return TAP_DONE();
}
