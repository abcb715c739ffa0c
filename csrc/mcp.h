/* mcp.h — MCP semantics on top of rpc.c.
 *
 * Owns: the method table, protocol version negotiation, the `run` tool's
 * schema, argument checks and result shape, and the table of calls in flight.
 * Must not: write to stdout except through rpc.c, or know how a sandbox is
 * built (exec.c / jail.c do).
 */
#ifndef NSM_MCP_H
#define NSM_MCP_H

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
/* The instructions string and the tools/list result (tests, --help). */
char *mcp_instructions(void);
cJSON *mcp_tools_list(void);

#endif
