/* mcp.h — MCP semantics on top of rpc.c.
 *
 * Owns: the method table, protocol version negotiation, the `run` tool's
 * schema, argument checks and result shape, and the table of calls in flight.
 * Must not: write to stdout except through rpc.c, or know how a sandbox is
 * built (exec.c / jail.c do).
 */
#ifndef NSM_MCP_H
#define NSM_MCP_H

#include <stdbool.h>
#include <cjson/cJSON.h>

#define MCP_MAX_CODE_BYTES (4u * 1024u * 1024u)
#define MCP_MAX_INFLIGHT 64

void mcp_handle(const cJSON *msg);
/* Directory mounted read-only at the project mount point; NULL or "" for none. */
void mcp_set_project(const char *dir);
/* stdin closed: calls still queued in sessions are answered (not run);
 * running ones finish, each bounded by its timeout. */
void mcp_input_closed(void);
/* Kill every run in flight and every session (end of input, SIGTERM,
 * SIGINT); waits for the sessions' sandboxes. */
void mcp_shutdown(void);
int mcp_inflight(void);
/* A protocol revision this server speaks (MCP-Protocol-Version). */
bool mcp_version_supported(const char *v);
struct rpc_peer;
/* A peer (rpc.h) will take no more messages: its calls are cancelled. */
void mcp_peer_gone(struct rpc_peer *p);
/* session.h's notice: a client's resource list changed (files of its
 * sessions' /workspace/out) or one of its sessions was closed by the
 * server; told outside its calls (rpc_notify_owner). */
void mcp_session_notice(unsigned long owner, const char *id, const char *closed);
/* A client (session namespace `owner`) is gone: its sessions end and their
 * sandboxes are killed. Its peers must be gone first (mcp_peer_gone). */
void mcp_owner_gone(unsigned long owner);
/* The instructions string and the tools/list result (tests, --help). */
char *mcp_instructions(void);
cJSON *mcp_tools_list(void);

/* A test-only extension: tests/conformance/fixtures.c, linked into the
 * conformance build only, registers the suite's fixture tools, prompts and
 * resources with it (from a constructor). The server itself has none: with
 * no extension every hook below is skipped. */
struct mcp_extension {
	/* Adds to initialize's capabilities. */
	void (*capabilities)(cJSON *caps);
	/* Appends its tools to tools/list's array. */
	void (*tools)(cJSON *tools);
	/* Offered each request of an initialized client first; true: it
	 * answered (now or later, through rpc.c with the current peer). */
	bool (*request)(const char *method, const cJSON *id, const cJSON *params);
	/* The peer will take no more messages (mcp_peer_gone). */
	void (*peer_gone)(struct rpc_peer *p);
	/* The server stops: drop what is pending. */
	void (*shutdown)(void);
	/* A response from the client to a request it sent (rpc_request). */
	void (*response)(const cJSON *msg);
};
void mcp_set_extension(const struct mcp_extension *x);

#endif
