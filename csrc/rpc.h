/* rpc.h — newline-delimited JSON-RPC 2.0 over stdio.
 *
 * Owns: reading stdin into bounded lines, the JSON-RPC envelope checks, and
 * every write to stdout (nothing else in the server may write there).
 * Must not: know MCP methods (mcp.c does).
 */
#ifndef NSM_RPC_H
#define NSM_RPC_H

#include <stdbool.h>
#include <cjson/cJSON.h>
#include "err.h"

/* A message longer than this (bytes, without its newline) is rejected with
 * -32600 and skipped without being buffered. */
#define RPC_MAX_LINE (16u * 1024u * 1024u)

enum {
	RPC_PARSE_ERROR = -32700,
	RPC_INVALID_REQUEST = -32600,
	RPC_METHOD_NOT_FOUND = -32601,
	RPC_INVALID_PARAMS = -32602,
	RPC_INTERNAL_ERROR = -32603,
};

/* Called for each valid request or notification (has "method"). The message
 * is freed after the callback returns: copy what must outlive it. */
typedef void rpc_message_cb(const cJSON *msg);

int rpc_start(int in_fd, int out_fd, rpc_message_cb *cb, struct err *e);
/* True once stdin reached end of file (or failed) and every line was handled. */
bool rpc_input_closed(void);
/* True once a write to stdout failed (the client is gone). */
bool rpc_output_broken(void);

/* Same JSON-RPC id: both strings and equal, or both numbers and exactly
 * equal (cJSON_Compare treats close doubles as equal). */
bool rpc_id_equal(const cJSON *a, const cJSON *b);
/* A copy of an id that prints exactly as the client sent it when it is an
 * integer of at most 2^53 (cJSON prints 15 significant digits otherwise). */
cJSON *rpc_id_dup(const cJSON *id);

/* Each takes ownership of the cJSON it is given. */
void rpc_reply_result(const cJSON *id, cJSON *result);
void rpc_reply_error(const cJSON *id, int code, const char *message, cJSON *data);
void rpc_notify(const char *method, cJSON *params);

/* Process one complete line (exposed for the fuzzer and unit tests). */
void rpc_handle_line(const char *line, size_t len);

#endif
