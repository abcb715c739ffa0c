/* mcp_files.h — the MCP shape of a run's files.
 *
 * Owns: the `files` argument of `run` (schema and parsing), the content
 * items and structuredContent.files for what a run left in /workspace/out,
 * and resources/read, resources/list for the files a session keeps.
 * Must not: touch a sandbox's files itself (wsfiles.c and session.c do) or
 * write to stdout except through rpc.c.
 *
 * URIs: sandbox://sessions/<session>/out/<path> for a session's file (its
 * path percent-encoded), readable while the session's sandbox lives;
 * sandbox://run/out/<path> for a one-shot run's, embedded only.
 */
#ifndef NSM_MCP_FILES_H
#define NSM_MCP_FILES_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include "wsfiles.h"

#define MCP_RESOURCE_READ_MAX (16u << 20)

/* The inputSchema property of `files`. */
cJSON *mcp_files_schema(void);
/* The outputSchema property of `files`. */
cJSON *mcp_files_output_schema(void);
/* Parse the `files` argument into in; -1 with msg (for the client). */
int mcp_files_parse(const cJSON *files, struct ws_inputs *in, char *msg, size_t len);
/* Add to content (image, resource, resource_link items and one text
 * summary) and to sc ("files") what the run left in /workspace/out. */
void mcp_files_result(cJSON *content, cJSON *sc, const struct ws_outputs *o, const char *session);
/* resources/read: the result, or NULL with *code and msg a JSON-RPC error. */
cJSON *mcp_files_read(const cJSON *params, unsigned long owner, int *code, char *msg, size_t len);
/* resources/list: the files of every live session's /workspace/out as of
 * its last call. owner: the client's namespace of sessions (session.h);
 * a client reads and lists only its own. */
cJSON *mcp_files_list(unsigned long owner);

#endif
