/* rpc.h — newline-delimited JSON-RPC 2.0 over stdio.
 *
 * Owns: reading stdin into bounded lines, the JSON-RPC envelope checks, and
 * every write to stdout (nothing else in the server may write there).
 * Must not: know MCP methods (mcp.c does).
 */
#ifndef NSM_RPC_H
#define NSM_RPC_H

#include <stdbool.h>
#include <stddef.h>
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
/* The message callback alone, for a transport other than stdio. */
void rpc_set_handler(rpc_message_cb *cb);
/* True once stdin reached end of file (or failed) and every line was handled. */
bool rpc_input_closed(void);
/* True once a write to stdout failed (the client is gone). */
bool rpc_output_broken(void);

/* Same JSON-RPC id: both strings and equal, or both numbers with the same
 * source text, or (integers a double holds exactly) the same value. */
bool rpc_id_equal(const cJSON *a, const cJSON *b);
/* A copy of an id that prints exactly as the client sent it: its source
 * text when the message carried one (rpc_handle_line keeps it for the id,
 * _meta.progressToken and requestId), else integers up to 2^53 digit for
 * digit and other numbers with 17 significant digits. */
cJSON *rpc_id_dup(const cJSON *id);

/* Replies wait in a queue while the client does not read; past this many
 * bytes notifications are dropped and replies replaced by a short error,
 * and past RPC_QUEUE_SLACK more the client is dropped. */
#define RPC_MAX_QUEUED (64u * 1024u * 1024u)
#define RPC_QUEUE_SLACK (1024u * 1024u)
/* At exit: write what is queued, waiting at most timeout_ms for the client. */
void rpc_flush(int timeout_ms);
/* While the message callback runs: true when one of the message's strings
 * held U+0000 (cJSON keeps C strings, so that string was cut there). */
bool rpc_message_has_nul(void);

/* Where messages go: stdout (no peer, the default), or a peer of another
 * transport (http.c: one per HTTP request). The peer in effect while a
 * message is handled receives its replies; whoever answers later (mcp.c)
 * keeps the peer and makes it current again around the answer. */
struct rpc_peer {
	/* Takes `line` (malloc'd, n bytes, ending in a newline). is_reply:
	 * a response, else a notification. */
	void (*send)(struct rpc_peer *p, char *line, size_t n, bool is_reply);
	/* Optional: the request on p was cancelled by the client and gets no
	 * answer (MCP's cancellation): the transport ends it its own way. */
	void (*unanswered)(struct rpc_peer *p);
	/* Optional: end the connection carrying p's messages, once what it
	 * has been given is written, while the request still runs; what comes
	 * after waits for the client to come back for it (Streamable HTTP's
	 * polling, SEP-1699: GET with Last-Event-ID). */
	void (*let_go)(struct rpc_peer *p);
	/* Optional: whether a reply of n bytes may wait for the client now;
	 * false: a short error goes in its place (answers waiting for clients
	 * that do not read are at the transport's bound). */
	bool (*room)(struct rpc_peer *p, size_t n);
	/* The namespace of sandbox sessions (0: stdio's). */
	unsigned long owner;
};
/* Make p (NULL: stdout) the destination of what follows; returns the one
 * it replaces, to be restored. */
struct rpc_peer *rpc_set_peer(struct rpc_peer *p);
struct rpc_peer *rpc_current_peer(void);

/* Each takes ownership of the cJSON it is given. */
void rpc_reply_result(const cJSON *id, cJSON *result);
void rpc_reply_error(const cJSON *id, int code, const char *message, cJSON *data);
void rpc_notify(const char *method, cJSON *params);

/* A request of the server's to the client, on the current peer (sent as
 * notifications are). The server itself asks its clients nothing: this is
 * for mcp.h's test-only extension (sampling, elicitation). The client's
 * response goes to the response handler, with the peer it came on current
 * (its owner says which client); without one it is logged and dropped. */
void rpc_request(const char *id, const char *method, cJSON *params);
void rpc_set_response_handler(rpc_message_cb *cb);

/* A message for a client outside any of its requests (a change it may
 * want to know of). Where it goes is the transport's: route, when set
 * (http.c: the MCP session's stream on GET), gives the peer for an owner
 * or NULL (no such client: the message is dropped); unset, stdout. */
typedef struct rpc_peer *rpc_owner_route_fn(unsigned long owner);
void rpc_set_owner_route(rpc_owner_route_fn *route);
void rpc_notify_owner(unsigned long owner, const char *method, cJSON *params);

/* Process one complete line (exposed for the fuzzer and unit tests). */
void rpc_handle_line(const char *line, size_t len);

#endif
