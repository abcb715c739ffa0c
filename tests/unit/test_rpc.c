/* Unit tests for csrc/rpc.c: framing and the JSON-RPC envelope. The message
 * callback records the methods it is given; replies are read from a pipe. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "loop.h"
#include "rpc.h"
#include "tap.h"

static char seen[4096];

static void on_msg(const cJSON *msg)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(msg, "method");
	strncat(seen, m->valuestring, sizeof seen - strlen(seen) - 2);
	strcat(seen, ";");
}

static int out_r;

/* Everything written so far to the fake stdout. */
static char *drain(void)
{
	static char buf[1 << 16];
	ssize_t n = read(out_r, buf, sizeof buf - 1);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static void line(const char *s)
{
	seen[0] = '\0';
	rpc_handle_line(s, strlen(s));
}

int main(void)
{
	int in[2], out[2];
	struct err e;
	if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC | O_NONBLOCK))
		return 1;
	out_r = out[0];
	TAP_OK(rpc_start(in[0], out[1], on_msg, &e) == 0, "rpc_start");

	line("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}");
	TAP_OK(strcmp(seen, "ping;") == 0, "a request reaches the handler");
	TAP_OK(drain()[0] == '\0', "the handler decides what to answer");

	line("{not json");
	TAP_OK(strstr(drain(), "\"code\":-32700") != NULL, "malformed JSON gives -32700");
	line("[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]");
	char *r = drain();
	TAP_OK(strstr(r, "-32600") && strstr(r, "batches") && !seen[0],
	       "a batch is rejected with -32600");
	line("42");
	TAP_OK(strstr(drain(), "-32600") != NULL, "a non-object is rejected");
	line("{\"jsonrpc\":\"1.0\",\"id\":\"a\",\"method\":\"ping\"}");
	r = drain();
	TAP_OK(strstr(r, "-32600") && strstr(r, "\"id\":\"a\""),
	       "wrong jsonrpc version: -32600 with the id");
	line("{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"ping\"}");
	r = drain();
	TAP_OK(strstr(r, "-32600") && !seen[0], "a null id is invalid in MCP");
	line("{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"ping\"}");
	TAP_OK(strstr(drain(), "-32600") && !seen[0], "an object id is invalid");
	line("{\"jsonrpc\":\"2.0\",\"id\":7}");
	TAP_OK(strstr(drain(), "-32600") != NULL, "a request without method is invalid");
	line("{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{}}");
	TAP_OK(drain()[0] == '\0' && !seen[0], "a response from the client is not answered");
	line("{\"jsonrpc\":\"2.0\",\"method\":5}");
	TAP_OK(drain()[0] == '\0' && !seen[0], "a bad notification is dropped silently");
	line("   \r");
	TAP_OK(drain()[0] == '\0', "a blank line is ignored");
	line("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}\r");
	TAP_OK(strcmp(seen, "notifications/initialized;") == 0, "CRLF line endings are accepted");

	cJSON *id = cJSON_CreateString("x\"y");
	rpc_reply_result(id, cJSON_CreateObject());
	r = drain();
	TAP_OK(strcmp(r, "{\"jsonrpc\":\"2.0\",\"id\":\"x\\\"y\",\"result\":{}}\n") == 0,
	       "a reply carries the id exactly and ends with a newline");
	cJSON_Delete(id);
	id = cJSON_CreateString("u");
	cJSON *bad = cJSON_CreateObject();
	cJSON_AddStringToObject(bad, "text", "cut \xc3");
	rpc_reply_result(id, bad);
	r = drain();
	TAP_OK(strcmp(r, "{\"jsonrpc\":\"2.0\",\"id\":\"u\",\"result\":{\"text\":\"cut "
	                 "\xef\xbf\xbd\"}}\n") == 0,
	       "a reply holding invalid UTF-8 goes out repaired (U+FFFD), still one JSON line: %s",
	       r);
	cJSON_Delete(id);
	id = cJSON_CreateNumber(12345678901.0);
	rpc_reply_result(id, NULL);
	TAP_OK(strstr(drain(), "\"id\":12345678901,") != NULL, "large numeric ids round-trip");
	cJSON_Delete(id);
	id = cJSON_CreateNumber(9007199254740991.0);
	rpc_reply_result(id, NULL);
	TAP_OK(strstr(drain(), "\"id\":9007199254740991,") != NULL,
	       "2^53-1 comes back digit for digit");
	cJSON_Delete(id);
	line("{\"jsonrpc\":\"2.0\",\"id\":1e400,\"method\":\"ping\"}");
	r = drain();
	TAP_OK(strstr(r, "-32600") && strstr(r, "\"id\":null") && !seen[0],
	       "an infinite id is invalid");
	cJSON *a = cJSON_CreateNumber(9007199254740991.0),
	      *b = cJSON_CreateNumber(9007199254740990.0);
	cJSON *c = cJSON_CreateString("9007199254740991");
	TAP_OK(!rpc_id_equal(a, b) && rpc_id_equal(a, a) && !rpc_id_equal(a, c),
	       "ids compare exactly, by type");
	cJSON_Delete(a);
	cJSON_Delete(b);
	cJSON_Delete(c);

	/* Framing through the loop: two messages in one write, one split across
	 * writes, and a final message without its newline. */
	seen[0] = '\0';
	const char *chunk = "{\"jsonrpc\":\"2.0\",\"method\":\"a\"}\n{\"jsonrpc\":\"2.0\","
	                    "\"method\":\"b\"}\n{\"jsonrpc\":\"2.0\",";
	if (write(in[1], chunk, strlen(chunk)) < 0)
		return 1;
	loop_run_once(100, &e);
	TAP_OK(strcmp(seen, "a;b;") == 0, "two messages in one read");
	const char *rest = "\"method\":\"c\"}\n{\"jsonrpc\":\"2.0\",\"method\":\"d\"}";
	if (write(in[1], rest, strlen(rest)) < 0)
		return 1;
	loop_run_once(100, &e);
	TAP_OK(strcmp(seen, "a;b;c;") == 0, "a message split across reads");

	close(in[1]);
	TAP_OK(!rpc_input_closed(), "input not closed before EOF");
	for (int i = 0; i < 5 && !rpc_input_closed(); i++)
		loop_run_once(100, &e);
	TAP_OK(strcmp(seen, "a;b;c;d;") == 0, "a final message without newline is handled at EOF");
	TAP_OK(rpc_input_closed(), "EOF is seen");
	return TAP_DONE();
}
