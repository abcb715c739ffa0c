/* http.h — MCP's Streamable HTTP transport (revision 2025-11-25) at /mcp.
 *
 * Owns: the HTTP daemon (libmicrohttpd, driven by loop.h: its epoll fd is
 * one watch, its timeouts one timer; no thread), the table of MCP sessions
 * (Mcp-Session-Id, idle deadline), each session's SSE streams (a POST's
 * answer, and its own stream on GET: which connection reads them, how long
 * one without a connection is kept; their events are sse.h's), and every
 * check made before a message reaches rpc.c: bearer token, Origin, method,
 * media types, session id, MCP-Protocol-Version, Last-Event-ID, the limits
 * on sessions, body and header sizes.
 * Must not: know MCP methods (mcp.c does) or write to stdout (rpc.c does,
 * for --stdio). A JSON answer's request is its own rpc_peer; an SSE
 * stream is one (it outlives its connection); a session's stream on GET is
 * where rpc_notify_owner's messages for its client go.
 */
#ifndef NSM_HTTP_H
#define NSM_HTTP_H

#include <stddef.h>
#include "err.h"

#define HTTP_MAX_SESSIONS 64     /* concurrent MCP sessions */
#define HTTP_MAX_BODY (8u << 20) /* a POST body (a run's code is at most 4 MiB) */
#define HTTP_MAX_HEADER \
	(32u << 10) /* request line and headers (libmicrohttpd's per-connection pool) */
#define HTTP_MAX_CONNECTIONS 256
#define HTTP_CONN_TIMEOUT_S 30  /* a connection that sends nothing for this long is closed */
#define HTTP_MAX_KEPT_STREAMS 8 /* per MCP session: answered streams kept for a late client */
#define HTTP_MAX_KEPT_BYTES \
	(8u << 20)          /* and their events' bytes (the newest one is kept whatever its size) */
#ifndef HTTP_MAX_HELD_BYTES /* (a test build sets a lower one) */
#define HTTP_MAX_HELD_BYTES \
	(256u << 20) /* answers and events held for all clients (kept ones go first) */
#endif
#define HTTP_RESUME_GRACE_S                                                               \
	30                       /* a stream without a connection waits this long for its \
	                          * client (or the idle timeout, if shorter); then a call \
	                          * still running on it is cancelled */
#define HTTP_KEEPALIVE_S 15      /* a comment on a stream quiet this long */
#define HTTP_DEFAULT_IDLE_S 1800 /* an MCP session unused this long ends */
#define HTTP_MAX_ORIGINS 16
#define HTTP_MAX_TOKEN 4096

struct http_options {
	const char *listen;     /* "ADDR:PORT", "[V6ADDR]:PORT"; PORT 0 picks one; NULL none */
	const char *token_file; /* NULL: no token (loopback only) */
	const char *origins[HTTP_MAX_ORIGINS]; /* --allow-origin, exact */
	size_t n_origins;
	unsigned idle_seconds; /* 0: HTTP_DEFAULT_IDLE_S */
};

/* Start-up: read the token, bind, start the daemon on the loop. The error
 * says what to fix (e.g. a non-loopback address without a token). */
int http_start(const struct http_options *o, struct err *e);
/* SIGTERM: every open request is answered (an error for calls still
 * running), waiting at most timeout_ms; every MCP session ends (its
 * sandboxes killed); the daemon stops. */
void http_shutdown(int timeout_ms);
/* Serve a connection accepted elsewhere (a connected stream socket, taken
 * over: closed by the daemon; the fuzzer's socketpairs). With
 * http_options.listen NULL the daemon has no socket of its own. */
int http_adopt(int fd, struct err *e);
/* MCP sessions open (tests, logs). */
int http_session_count(void);

#endif
