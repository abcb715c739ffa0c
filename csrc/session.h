/* session.h — persistent interpreters: the bounded session table.
 *
 * Owns: every session (id, environment, sandbox running the agent, FIFO of
 * calls), the per-call deadline and interrupt, the idle and lifetime
 * deadlines, eviction at the bound, and recovery when a sandbox is lost.
 * Must not: block (everything runs on loop.h), build MCP results (mcp.c
 * does, from struct exec_result) or call a callback from inside
 * session_run.
 *
 * A session is created by its first call and bound to that call's
 * environment. Its sandbox (jail.c session mode) is started by the first call
 * and again by the first call after it was lost. Calls to one session run one
 * at a time in arrival order; other sessions, one-shot runs and pings go on
 * meanwhile.
 *
 * Per call: the code goes to the agent over its control socket
 * (agent_ipc.h); stdout and stderr are captured with the one-shot caps until
 * the end marker shows on each; then the agent's reply gives the exit code.
 * At the environment's timeout the agent gets SIGINT (state kept if it
 * answers within SESSION_GRACE_MS), else the sandbox is killed (state lost).
 * A sandbox that ends (exit, crash, OOM, kill) answers its call with what was
 * captured, and the next call runs in a fresh one with result->restarted.
 *
 * Bound: env_config()->session.max_sessions. A new session evicts the least
 * recently used idle one; when every session is busy it is refused.
 */
#ifndef NSM_SESSION_H
#define NSM_SESSION_H

#include <stddef.h>
#include "env.h"
#include "err.h"
#include "exec.h"
#include "wsfiles.h"

#define SESSION_QUEUE_MAX 16  /* calls waiting per session, besides the running one */
#define SESSION_GRACE_MS 2000 /* after SIGINT, before the sandbox is killed */
#define SESSION_TABLE_MAX 256 /* hard ceiling whatever the configuration says */

struct session_call;

/* Exactly once per call unless cancelled: res (free with exec_result_free)
 * or, when the call could not run at all, res NULL and error a message for
 * the client. */
typedef void session_done_cb(void *ctx, struct exec_result *res, const char *error);

struct session_request {
	const char *id;      /* [A-Za-z0-9_.-]{1,64}, checked by the caller */
	unsigned long owner; /* the client's namespace: ids are per owner */
	const struct env_entry *env;
	const char *code; /* copied */
	size_t code_len;
	const char *project_dir; /* must outlive the session (static in mcp.c) */
	const char *project_mount;
	struct ws_inputs *files; /* NULL, or written under /workspace before the
	                          * code runs: session_run takes them (*files is
	                          * emptied, whatever the outcome) */
};

/* Queue a call. NULL with e->msg a message for the client (environment
 * mismatch, every session busy, queue full, out of memory). */
struct session_call *session_run(const struct session_request *req, session_done_cb *cb, void *ctx,
                                 struct err *e);
/* The client gave up on the call: cb is not called. A queued call is
 * dropped; a running one is interrupted (SIGINT) and the session kept if the
 * agent answers within SESSION_GRACE_MS, else its sandbox is killed. */
void session_cancel(struct session_call *c);
/* Read /workspace/out/<path> of owner's live session id (resources/read of a file
 * a call returned as a link): see ws_read_out. e->msg is for the client. */
int session_read_out(unsigned long owner, const char *id, const char *path, size_t max, char **data,
                     size_t *len, uint64_t *size, const char **mime, struct err *e);
/* Each file of each of owner's live sessions' /workspace/out as of its
 * last call. */
void session_each_out(unsigned long owner,
                      void (*fn)(void *ctx, const char *id, const char *path, uint64_t size),
                      void *ctx);
/* What a client may want to hear of outside its calls: owner's session id
 * was closed by the server (closed: why, for the client), or a call changed
 * the files in its /workspace/out (closed NULL). */
typedef void session_notice_fn(unsigned long owner, const char *id, const char *closed);
void session_set_notice(session_notice_fn *fn);
/* Bytes the call wrote so far (0 while it waits in the queue). */
size_t session_call_output_bytes(const struct session_call *c);
/* stdin closed: answer every queued call with an error now; running calls
 * finish (each bounded by its timeout). */
void session_input_closed(void);
/* Kill every session's sandbox and wait for them (SIGTERM, end of input).
 * Callbacks are not called. */
void session_shutdown(void);
/* The client `owner` is gone: close its sessions and kill their sandboxes
 * (reaped from the loop). Callbacks are not called. */
void session_end_owner(unsigned long owner);
/* Sessions in the table / sandboxes not yet reaped (tests, logs). */
int session_count(void);

#endif
