/* mcp.c — see mcp.h.
 *
 * Requests are answered from a table { method, handler }. `tools/call` for
 * `run` starts an asynchronous sandbox (exec.c), or queues a call in a session
 * (session.c), and the reply is sent from its completion callback, so pings
 * and other calls are answered meanwhile.
 * Errors in the *arguments* of `run` are tool results with isError, as the
 * specification asks; JSON-RPC errors are for the envelope, unknown methods,
 * unknown tools and malformed params of the protocol's own methods.
 */
#include "mcp.h"

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "env.h"
#include "exec.h"
#include "jail.h"
#include "log.h"
#include "loop.h"
#include "mcp_files.h"
#include "rpc.h"
#include "session.h"
#include "strbuf.h"
#include "utf8.h"

static const char *const supported_versions[] = {
	"2025-11-25",
	"2025-06-18",
	"2025-03-26",
	"2024-11-05",
};
#define N_VERSIONS (sizeof supported_versions / sizeof supported_versions[0])

/* Stateless revisions: no initialize; every request names its version in
 * params._meta and server/discover replaces the handshake. */
static const char *const stateless_versions[] = { "2026-07-28" };
#define N_STATELESS (sizeof stateless_versions / sizeof stateless_versions[0])
#define META_VERSION "io.modelcontextprotocol/protocolVersion"
#define MCP_UNSUPPORTED_VERSION (-32022)
/* How often a call that asked for progress hears from us. */
#define PROGRESS_INTERVAL_MS 1000

/* The request being handled came in the stateless protocol: its result
 * carries resultType. Set around each synchronous dispatch and each
 * asynchronous reply. */
static bool stateless_request;

static bool initialized;
static const char *project_dir; /* NULL: no project mounted */
static const char *protocol_version = "2025-11-25";

struct call {
	bool used;
	cJSON *id;                  /* request id, duplicated */
	struct exec_run *run;       /* a one-shot run, or */
	struct session_call *scall; /* a session call */
	char session[65];           /* its session id */
	const struct env_entry *env;
	bool stateless;        /* reply with resultType */
	cJSON *progress_token; /* _meta.progressToken, or NULL */
	long progress_timer;
	uint64_t start_ms;
	struct rpc_peer *peer; /* where its answer goes (NULL: stdout) */
};
static struct call calls[MCP_MAX_INFLIGHT];
static const struct mcp_extension *ext; /* test-only (mcp.h) */

void mcp_set_extension(const struct mcp_extension *x)
{
	ext = x;
	rpc_set_response_handler(x ? x->response : NULL);
}

/* The namespace of sandbox sessions of the client being handled. */
static unsigned long current_owner(void)
{
	struct rpc_peer *p = rpc_current_peer();
	return p ? p->owner : 0;
}

void mcp_set_project(const char *dir)
{
	project_dir = dir && dir[0] ? dir : NULL;
}

int mcp_inflight(void)
{
	int n = 0;
	for (int i = 0; i < MCP_MAX_INFLIGHT; i++)
		n += calls[i].used;
	return n;
}

/* ---- small JSON helpers ------------------------------------------------ */

static const cJSON *get(const cJSON *obj, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(obj, key);
}

static cJSON *string_array(const char *const *v, size_t n)
{
	cJSON *a = cJSON_CreateArray();
	for (size_t i = 0; a && i < n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(v[i]));
	return a;
}

/* ---- text the client sees ---------------------------------------------- */

static bool any_network(void)
{
	for (size_t i = 0; i < env_count(); i++)
		if (env_at(i)->network)
			return true;
	return false;
}

/* The fixed context a client pays for this server (the tools/list result
 * plus the instructions) stays under MCP_CONTEXT_BUDGET characters: the
 * environment lines of the instructions get what the tool list and the
 * fixed text (at most INSTRUCTIONS_FIXED) leave; past that, the remaining
 * names are only in the `env` enum. */
#define MCP_CONTEXT_BUDGET 2350 /* the `files` schema costs about 370 of it */
#define INSTRUCTIONS_FIXED 450

static size_t tools_list_len(void)
{
	cJSON *tl = mcp_tools_list();
	char *j = tl ? cJSON_PrintUnformatted(tl) : NULL;
	size_t n = j ? strlen(j) : 0;
	free(j);
	cJSON_Delete(tl);
	return n;
}

char *mcp_instructions(void)
{
	size_t cap = 2048;
	size_t fixed = tools_list_len() + INSTRUCTIONS_FIXED;
	size_t budget = fixed < MCP_CONTEXT_BUDGET ? MCP_CONTEXT_BUDGET - fixed : 0;
	char *s = malloc(cap);
	struct strbuf b;
	if (!s)
		return NULL;
	sb_init(&b, s, cap);
	sb_add(&b, "Run code with the `run` tool in an isolated sandbox built by Nix; prefer it to "
	           "your own shell: it cannot change the host or the project. Environments:\n");
	size_t listed = 0;
	for (size_t i = 0; i < env_count(); i++) {
		const struct env_entry *en = env_at(i);
		if (b.len + strlen(en->name) + strlen(en->description) + 16 > budget)
			break;
		sb_addf(&b, "- %s: %s%s\n", en->name, en->description,
		        en->network ? " (network)" : "");
		listed++;
	}
	if (listed < env_count())
		sb_addf(&b, "- and %zu more (see the env parameter)\n", env_count() - listed);
	sb_add(&b,
	       "Without `session` each call starts fresh; reuse a `session` id to keep interpreter "
	       "state and /workspace (a session stays in its env). /workspace is the writable cwd");
	if (project_dir)
		sb_addf(&b, "; the project is mounted read-only at %s",
		        env_config()->project_mount);
	sb_addf(&b, ". %s",
	        any_network() ? "Only environments marked (network) reach the network."
	                      : "There is no network access.");
	return s;
}

static cJSON *output_schema(void)
{
	cJSON *s =
	    cJSON_Parse("{\"type\":\"object\",\"properties\":{"
	                "\"exit_code\":{\"type\":[\"integer\",\"null\"]},"
	                "\"stdout\":{\"type\":\"string\"},\"stderr\":{\"type\":\"string\"},"
	                "\"timed_out\":{\"type\":\"boolean\"},\"truncated\":{\"type\":\"boolean\"},"
	                "\"duration_ms\":{\"type\":\"integer\"},\"env\":{\"type\":\"string\"},"
	                "\"session\":{\"type\":\"string\"}},"
	                "\"required\":[\"exit_code\",\"stdout\",\"stderr\",\"timed_out\","
	                "\"truncated\",\"duration_ms\",\"env\"]}");
	cJSON_AddItemToObject(cJSON_GetObjectItemCaseSensitive(s, "properties"), "files",
	                      mcp_files_output_schema());
	return s;
}

cJSON *mcp_tools_list(void)
{
	cJSON *tool = cJSON_CreateObject();
	cJSON_AddStringToObject(tool, "name", "run");
	cJSON_AddStringToObject(tool, "title", "Run code in a sandbox");
	cJSON_AddStringToObject(
	    tool, "description",
	    "Run a program (bash, Python or JavaScript source, per env) in an isolated sandbox; "
	    "returns stdout, stderr, the exit code and the files it writes in /workspace/out/.");

	cJSON *schema = cJSON_AddObjectToObject(tool, "inputSchema");
	cJSON_AddStringToObject(schema, "type", "object");
	cJSON *props = cJSON_AddObjectToObject(schema, "properties");
	cJSON *code = cJSON_AddObjectToObject(props, "code");
	cJSON_AddStringToObject(code, "type", "string");
	cJSON_AddStringToObject(code, "description", "Program source.");
	cJSON *envp = cJSON_AddObjectToObject(props, "env");
	cJSON_AddStringToObject(envp, "type", "string");
	cJSON_AddStringToObject(envp, "description", "Environment to run in.");
	cJSON *en = cJSON_AddArrayToObject(envp, "enum");
	for (size_t i = 0; i < env_count(); i++)
		cJSON_AddItemToArray(en, cJSON_CreateString(env_at(i)->name));
	cJSON *sess = cJSON_AddObjectToObject(props, "session");
	cJSON_AddStringToObject(sess, "type", "string");
	char sdesc[512];
	struct strbuf sd;
	size_t without = 0;
	sb_init(&sd, sdesc, sizeof sdesc);
	sb_addf(&sd, "Optional id ([A-Za-z0-9_.-]{1,64}): reuse to keep state and /workspace.");
	for (size_t i = 0; i < env_count(); i++)
		if (!env_has_sessions(env_at(i)))
			sb_addf(&sd, "%s%s", without++ ? ", " : " Not in env ", env_at(i)->name);
	if (without)
		sb_addf(&sd, ".");
	cJSON_AddStringToObject(sess, "description", sdesc);
	cJSON_AddItemToObject(props, "files", mcp_files_schema());
	const char *req[] = { "code", "env" };
	cJSON_AddItemToObject(schema, "required", string_array(req, 2));
	cJSON_AddFalseToObject(schema, "additionalProperties");

	cJSON_AddItemToObject(tool, "outputSchema", output_schema());

	cJSON *ann = cJSON_AddObjectToObject(tool, "annotations");
	/* Code can write /workspace and (in a session) change state: not read-only.
	 * Nothing outside the sandbox is touched: not destructive. Same code can
	 * give a different result: not idempotent. */
	cJSON_AddFalseToObject(ann, "readOnlyHint");
	cJSON_AddFalseToObject(ann, "destructiveHint");
	cJSON_AddFalseToObject(ann, "idempotentHint");
	cJSON_AddBoolToObject(ann, "openWorldHint", any_network());

	cJSON *result = cJSON_CreateObject();
	cJSON *tools = cJSON_AddArrayToObject(result, "tools");
	cJSON_AddItemToArray(tools, tool);
	if (ext && ext->tools)
		ext->tools(tools);
	return result;
}

/* ---- tool results -------------------------------------------------------- */

/* Every result of this module goes out here: the stateless protocol wants
 * resultType on each. */
static void reply(const cJSON *id, cJSON *result)
{
	if (stateless_request && result)
		cJSON_AddStringToObject(result, "resultType", "complete");
	rpc_reply_result(id, result);
}

/* A tool result that is an error the model can act on. */
static cJSON *tool_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static cJSON *tool_error(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	utf8_fix_cut(msg);
	cJSON *r = cJSON_CreateObject();
	cJSON *content = cJSON_AddArrayToObject(r, "content");
	cJSON *t = cJSON_CreateObject();
	cJSON_AddStringToObject(t, "type", "text");
	cJSON_AddStringToObject(t, "text", msg);
	cJSON_AddItemToArray(content, t);
	cJSON_AddTrueToObject(r, "isError");
	return r;
}

/* ---- logging to the client ------------------------------------------------ */

/* The server's own events as notifications/message params (never code
 * output). */
static cJSON *log_params(enum log_level l, const char *msg)
{
	static const char *const level_names[] = { "debug", "info", "warning", "error" };
	cJSON *p = cJSON_CreateObject();
	if (!p)
		return NULL;
	cJSON_AddStringToObject(p, "level", level_names[l]);
	cJSON_AddStringToObject(p, "logger", "nix-sandbox-mcp");
	char *clean = utf8_repair(msg, strlen(msg), NULL);
	cJSON_AddStringToObject(p, "data", clean ? clean : "");
	free(clean);
	return p;
}

/* stdio's one client hears the server's whole log (log_to_client). An HTTP
 * server's log is every client's, so there each client that asked
 * (logging/setLevel) hears only its own calls' events (call_log), on the
 * call's own stream: a JSON answer carries none. */
/* One per MCP session of an HTTP server (http.h: HTTP_MAX_SESSIONS). */
#define MCP_LOG_CLIENTS 64
static struct {
	unsigned long owner; /* 0: free */
	enum log_level min;
} client_levels[MCP_LOG_CLIENTS];

static int client_level(unsigned long owner)
{
	for (size_t i = 0; owner && i < MCP_LOG_CLIENTS; i++)
		if (client_levels[i].owner == owner)
			return (int)client_levels[i].min;
	return -1;
}

static bool set_client_level(unsigned long owner, enum log_level min)
{
	size_t free_slot = MCP_LOG_CLIENTS;
	for (size_t i = 0; i < MCP_LOG_CLIENTS; i++) {
		if (client_levels[i].owner == owner) {
			client_levels[i].min = min;
			return true;
		}
		if (!client_levels[i].owner && free_slot == MCP_LOG_CLIENTS)
			free_slot = i;
	}
	if (free_slot == MCP_LOG_CLIENTS)
		return false;
	client_levels[free_slot].owner = owner;
	client_levels[free_slot].min = min;
	return true;
}

/* An event of call c: the server's log, and c's HTTP client if it asked. */
static void call_log(const struct call *c, enum log_level l, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void call_log(const struct call *c, enum log_level l, const char *fmt, ...)
{
	int min = c->peer ? client_level(c->peer->owner) : -1;
	bool client = min >= 0 && (int)l >= min;
	if (!client && !log_wanted(l))
		return; /* (the run path: no message built for nobody) */
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	utf8_fix_cut(msg);
	log_msg(l, "%s", msg);
	if (!client)
		return;
	cJSON *p = log_params(l, msg);
	if (!p)
		return;
	struct rpc_peer *was = rpc_set_peer(c->peer);
	rpc_notify("notifications/message", p);
	rpc_set_peer(was);
}

/* A call that could not be started, worded by whose failure it is
 * (err.h): the client's own is shown as it is; the kernel's comes with its
 * fix; the server's goes to the log in full and the client hears the call
 * was not run. */
static cJSON *start_error(const struct call *c, const struct err *e)
{
	switch (e->kind) {
	case ERR_CLIENT:
		return tool_error("%s", e->msg);
	case ERR_KERNEL:
		call_log(c, LOG_WARNING, "run in %s: %s", c->env->name, e->msg);
		return tool_error("The sandbox could not start: %s - %s", e->msg,
		                  jail_hint(e->code));
	case ERR_SERVER:
	default:
		call_log(c, LOG_WARNING, "run in %s: %s", c->env->name, e->msg);
		return tool_error("The server could not run the call (%s); it was not run. "
		                  "Try again later.",
		                  e->msg);
	}
}

static void add_repaired(cJSON *obj, const char *key, const char *s, size_t n)
{
	char *fixed = utf8_repair(s ? s : "", s ? n : 0, NULL);
	cJSON_AddStringToObject(obj, key, fixed ? fixed : "");
	free(fixed);
}

/* Append to a fixed buffer; output past its end is cut, never overflowed. */
/* The status line per way a run ended (exec.h), with the number each
 * message takes and, when a limit ended it, what to do next. */
enum end_arg { ARG_TIMEOUT, ARG_OUTPUT_CAP, ARG_MEMORY, ARG_SIGNAL, ARG_EXIT };
static const struct {
	const char *before, *after; /* the message around its number */
	enum end_arg arg;
} end_text[] = {
	[EXEC_END_TIMED_OUT] = { "timed out after ",
	                         " s; every process of the sandbox was killed. Make the code "
	                         "faster, or split the work across calls of a session",
	                         ARG_TIMEOUT },
	[EXEC_END_TIMED_OUT_KEPT] = { "timed out after ",
	                              " s; the call was interrupted (SIGINT) and the session's "
	                              "state is kept. Make the code faster, or split the work "
	                              "across calls",
	                              ARG_TIMEOUT },
	[EXEC_END_TIMED_OUT_LOST] = { "timed out after ",
	                              " s; the code did not stop on SIGINT, so the session's "
	                              "sandbox was killed and its state was lost (the next call "
	                              "starts a fresh interpreter)",
	                              ARG_TIMEOUT },
	[EXEC_END_OUTPUT_RUNAWAY] = { "stopped: the output ran on far past its ",
	                              "-byte cap. Write large output to a file in /workspace and "
	                              "print a summary",
	                              ARG_OUTPUT_CAP },
	[EXEC_END_OOM] = { "killed: out of memory (the limit is ",
	                   " MB). Process the data in smaller pieces", ARG_MEMORY },
	[EXEC_END_SIGNALED] = { "killed by signal ", "", ARG_SIGNAL },
	[EXEC_END_EXITED] = { "exit code ", "", ARG_EXIT },
};
static const char *const loss_text[] = {
	[EXEC_LOSS_NONE] = "",
	[EXEC_LOSS_PROTOCOL] = "the session agent broke its protocol and was killed",
	[EXEC_LOSS_DIED] = "the interpreter died",
	[EXEC_LOSS_ENDED] = "the session's sandbox ended",
};

/* res of a one-shot run (session NULL) or of a call of that session. */
static cJSON *run_result(const struct env_entry *env, const struct exec_result *res,
                         const char *session)
{
	bool truncated = res->stdout_truncated || res->stderr_truncated;
	bool failed = res->timed_out || res->exit_code != 0 || res->protocol_error;
	char status[1024];
	struct strbuf st;
	sb_init(&st, status, sizeof status);

	/* The status line says what happened and, when the run failed because
	 * of a limit, what to do next. */
	if (session && res->restarted)
		sb_addf(&st, "[the session was restarted: previous state lost (%s)]\n",
		        res->restart_reason ? res->restart_reason : "its sandbox ended");
	enum exec_end end = exec_result_end(res, session != NULL);
	unsigned arg = 0;
	switch (end_text[end].arg) {
	case ARG_TIMEOUT:
		arg = env->limits.timeout_seconds;
		break;
	case ARG_OUTPUT_CAP:
		arg = env->limits.max_output_bytes;
		break;
	case ARG_MEMORY:
		arg = env->limits.memory_mb;
		break;
	case ARG_SIGNAL:
		arg = (unsigned)res->term_signal;
		break;
	case ARG_EXIT:
		arg = (unsigned)res->exit_code;
		break;
	}
	sb_add(&st, "[");
	sb_add(&st, end_text[end].before);
	sb_addf(&st, "%u", arg);
	sb_add(&st, end_text[end].after);
	enum exec_loss loss = exec_result_loss(res);
	if (session && !res->timed_out && loss != EXEC_LOSS_NONE)
		sb_addf(&st,
		        "; %s: the session's state was lost (the next call starts a fresh "
		        "interpreter)",
		        loss_text[loss]);
	sb_addf(&st, "; %llu ms", (unsigned long long)res->duration_ms);
	if (res->stdout_truncated)
		sb_addf(&st, "; stdout truncated to %zu of %zu bytes", res->out_len,
		        res->out_total);
	if (res->stderr_truncated)
		sb_addf(&st, "; stderr truncated to %zu of %zu bytes", res->err_len,
		        res->err_total);
	sb_addf(&st, "]");

	cJSON *r = cJSON_CreateObject();
	cJSON *sc = cJSON_CreateObject();
	if (res->exit_code >= 0 && !res->timed_out)
		cJSON_AddNumberToObject(sc, "exit_code", res->exit_code);
	else
		cJSON_AddNullToObject(sc, "exit_code");
	add_repaired(sc, "stdout", res->out, res->out_len);
	add_repaired(sc, "stderr", res->err, res->err_len);
	cJSON_AddBoolToObject(sc, "timed_out", res->timed_out);
	cJSON_AddBoolToObject(sc, "truncated", truncated);
	cJSON_AddNumberToObject(sc, "duration_ms", (double)res->duration_ms);
	cJSON_AddStringToObject(sc, "env", env->name);
	if (session)
		cJSON_AddStringToObject(sc, "session", session);

	/* The text block a human reads: stdout, stderr under a marker, status. */
	const char *out = cJSON_GetStringValue(get(sc, "stdout"));
	const char *err = cJSON_GetStringValue(get(sc, "stderr"));
	size_t tl = strlen(out) + strlen(err) + strlen(status) + 32;
	char *text = malloc(tl);
	if (text) {
		size_t k = 0;
		k += (size_t)snprintf(text + k, tl - k, "%s", out);
		if (k && text[k - 1] != '\n')
			k += (size_t)snprintf(text + k, tl - k, "\n");
		if (*err)
			k += (size_t)snprintf(text + k, tl - k, "--- stderr ---\n%s%s", err,
			                      err[strlen(err) - 1] == '\n' ? "" : "\n");
		snprintf(text + k, tl - k, "%s", status);
	}
	cJSON *content = cJSON_AddArrayToObject(r, "content");
	cJSON *t = cJSON_CreateObject();
	cJSON_AddStringToObject(t, "type", "text");
	cJSON_AddStringToObject(t, "text", text ? text : status);
	free(text);
	cJSON_AddItemToArray(content, t);
	mcp_files_result(content, sc, &res->files, session);
	cJSON_AddItemToObject(r, "structuredContent", sc);
	cJSON_AddBoolToObject(r, "isError", failed);
	return r;
}

/* ---- run ----------------------------------------------------------------- */

static void call_free(struct call *c)
{
	if (c->progress_timer)
		loop_timer_cancel(c->progress_timer);
	cJSON_Delete(c->progress_token);
	cJSON_Delete(c->id);
	memset(c, 0, sizeof *c);
}

/* The asynchronous end of a call: its answer, in the protocol it came in. */
static void call_reply(struct call *c, cJSON *r, struct exec_result *res)
{
	struct rpc_peer *was = rpc_set_peer(c->peer);
	stateless_request = c->stateless;
	reply(c->id, r);
	stateless_request = false;
	rpc_set_peer(was);
	exec_result_free(res);
	call_free(c);
}

static void on_run_done(void *ctx, struct exec_result *res)
{
	struct call *c = ctx;
	cJSON *r;
	if (res->setup_error[0])
		r = tool_error("The sandbox could not start: %s", res->setup_error);
	else if (res->files_error[0])
		r = tool_error("The input files could not be written, so the code did not run: %s.",
		               res->files_error);
	else
		r = run_result(c->env, res, NULL);
	call_log(c, LOG_DEBUG, "run in %s: exit %d%s, %llu ms", c->env->name, res->exit_code,
	         res->timed_out ? " (timed out)" : "", (unsigned long long)res->duration_ms);
	call_reply(c, r, res);
}

static void on_session_done(void *ctx, struct exec_result *res, const char *error)
{
	struct call *c = ctx;
	cJSON *r;
	if (error)
		r = tool_error("%s", error);
	else if (res->setup_error[0])
		r = tool_error("The sandbox of session \"%s\" could not start: %s", c->session,
		               res->setup_error);
	else
		r = run_result(c->env, res, c->session);
	if (!error)
		call_log(c, LOG_DEBUG, "run in %s, session %s: exit %d%s, %llu ms", c->env->name,
		         c->session, res->exit_code, res->timed_out ? " (timed out)" : "",
		         (unsigned long long)res->duration_ms);
	call_reply(c, r, res);
}

/* notifications/progress while a call that asked for it runs: elapsed time
 * and output so far, so clients whose request timeout resets on progress
 * keep waiting. Stops with the call (call_free cancels the timer). */
static void on_progress(void *ctx)
{
	struct call *c = ctx;
	c->progress_timer = 0;
	if (!c->used)
		return;
	uint64_t ms = loop_now_ms() - c->start_ms;
	size_t bytes = c->run     ? exec_output_bytes(c->run)
	               : c->scall ? session_call_output_bytes(c->scall)
	                          : 0;
	char msg[128];
	snprintf(msg, sizeof msg, "running for %llu s; %zu bytes of output so far",
	         (unsigned long long)(ms / 1000), bytes);
	cJSON *p = cJSON_CreateObject();
	if (p) {
		cJSON_AddItemToObject(p, "progressToken", rpc_id_dup(c->progress_token));
		/* Strictly increasing: each tick is at least the interval after the last. */
		cJSON_AddNumberToObject(p, "progress", (double)ms / 1000.0);
		cJSON_AddStringToObject(p, "message", msg);
		struct rpc_peer *was = rpc_set_peer(c->peer);
		rpc_notify("notifications/progress", p);
		rpc_set_peer(was);
	}
	struct err e = { 0 };
	long t = loop_timer_add(loop_now_ms() + PROGRESS_INTERVAL_MS, on_progress, c, &e);
	c->progress_timer = t > 0 ? t : 0;
}

static void progress_arm(struct call *c, const cJSON *token)
{
	struct err e = { 0 };
	c->progress_token = cJSON_Duplicate(token, 1);
	long t = loop_timer_add(loop_now_ms() + PROGRESS_INTERVAL_MS, on_progress, c, &e);
	c->progress_timer = t > 0 ? t : 0;
}

/* 1-64 of A-Z a-z 0-9 _ . -, but not "." or "..": an id is a path segment
 * of its files' URIs (sandbox://sessions/<id>/out/...), which clients may
 * normalise. */
static bool session_id_valid(const char *s)
{
	size_t n = strlen(s);
	if (n < 1 || n > 64 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' || ch == '.'))
			return false;
	}
	return true;
}

static void env_names(char *buf, size_t len)
{
	size_t n = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < env_count() && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s%s", i ? ", " : "", env_at(i)->name);
}

static void tool_run(const cJSON *id, const cJSON *args, const cJSON *progress_token)
{
	char names[512];
	env_names(names, sizeof names);

	if (!cJSON_IsObject(args)) {
		reply(id, tool_error(
		              "`run` needs arguments {\"code\": \"...\", \"env\": \"one of: %s\"}.",
		              names));
		return;
	}
	for (const cJSON *a = args->child; a; a = a->next)
		if (strcmp(a->string, "code") && strcmp(a->string, "env") &&
		    strcmp(a->string, "session") && strcmp(a->string, "files")) {
			char arg[65];
			utf8_clip(arg, sizeof arg, a->string);
			reply(id, tool_error("Unknown argument `%s`; `run` takes code, env and "
			                     "optionally session "
			                     "and files.",
			                     arg));
			return;
		}
	/* cJSON keeps C strings: "a\u0000b" arrives as "a". Refuse rather than
	 * run a program cut short. */
	if (rpc_message_has_nul()) {
		reply(
		    id,
		    tool_error(
		        "The request holds the character U+0000 (\\u0000), which cannot be passed "
		        "to a program; remove it from code, env and session (send binary files "
		        "with \"encoding\": \"base64\")."));
		return;
	}
	const cJSON *code = get(args, "code"), *envn = get(args, "env"),
	            *sess = get(args, "session");
	if (!cJSON_IsString(envn)) {
		reply(id, tool_error("`env` is required and must be a string: one of %s.", names));
		return;
	}
	const struct env_entry *env = env_find(envn->valuestring);
	if (!env) {
		char given[65];
		utf8_clip(given, sizeof given, envn->valuestring);
		reply(id, tool_error("Unknown environment \"%s\". Available: %s.", given, names));
		return;
	}
	if (!cJSON_IsString(code)) {
		reply(id, tool_error("`code` is required and must be a string."));
		return;
	}
	/* Empty code is an empty program (exit 0, no output), as in the
	 * original nix-sandbox-mcp. */
	size_t code_len = strlen(code->valuestring);
	if (code_len > MCP_MAX_CODE_BYTES) {
		reply(id,
		      tool_error(
		          "`code` is %zu bytes; the limit is %u bytes. Write large data "
		          "from code in several calls of a session, or generate it in the sandbox.",
		          code_len, MCP_MAX_CODE_BYTES));
		return;
	}
	if (sess && !cJSON_IsNull(sess)) {
		if (!cJSON_IsString(sess) || !session_id_valid(sess->valuestring)) {
			reply(id,
			      tool_error("`session` must be 1-64 characters of A-Z a-z 0-9 _ . - "
			                 "(and not . or ..)"));
			return;
		}
	}

	struct ws_inputs files = { 0 };
	const cJSON *fa = get(args, "files");
	char fmsg[400];
	if (fa && !cJSON_IsNull(fa) && mcp_files_parse(fa, &files, fmsg, sizeof fmsg) < 0) {
		reply(id, tool_error("%s", fmsg));
		return;
	}

	struct call *c = NULL;
	for (int i = 0; i < MCP_MAX_INFLIGHT; i++)
		if (!calls[i].used) {
			c = &calls[i];
			break;
		}
	if (!c) {
		ws_inputs_free(&files);
		reply(id, tool_error("%d runs are already in flight; wait for one to finish.",
		                     MCP_MAX_INFLIGHT));
		return;
	}
	const struct env_config *cfg = env_config();
	struct exec_request req = {
		.env = env,
		.code = code->valuestring,
		.code_len = code_len,
		.project_dir = project_dir,
		.project_mount = cfg->project_mount,
		.files = &files,
	};
	c->used = true;
	c->id = cJSON_Duplicate(id, 1);
	c->env = env;
	c->stateless = stateless_request;
	c->start_ms = loop_now_ms();
	c->peer = rpc_current_peer();
	call_log(c, LOG_DEBUG, "run in %s: %zu bytes of code%s%s", env->name, code_len,
	         cJSON_IsString(sess) ? ", session " : "",
	         cJSON_IsString(sess) ? sess->valuestring : "");
	struct err e = { 0 };
	if (cJSON_IsString(sess) && !env_has_sessions(env)) {
		reply(
		    id,
		    tool_error(
		        "Environment \"%s\" has no sessions: its interpreter (%s) cannot host the "
		        "session agent. Run without `session`, or use a session in another "
		        "environment.",
		        env->name, env->argv[0]));
		ws_inputs_free(&files);
		call_free(c);
		return;
	}
	if (cJSON_IsString(sess)) {
		struct session_request sr = {
			.id = sess->valuestring,
			.owner = current_owner(),
			.env = env,
			.code = code->valuestring,
			.code_len = code_len,
			.project_dir = project_dir,
			.project_mount = cfg->project_mount,
			.files = &files,
		};
		snprintf(c->session, sizeof c->session, "%s", sess->valuestring);
		c->scall = session_run(&sr, on_session_done, c, &e);
		if (!c->scall) {
			reply(id, start_error(c, &e));
			call_free(c);
			return;
		}
	} else {
		c->run = exec_start(&req, on_run_done, c, &e);
		if (!c->run) {
			reply(id, start_error(c, &e));
			call_free(c);
			return;
		}
	}
	if (progress_token)
		progress_arm(c, progress_token);
}

/* ---- methods ------------------------------------------------------------- */

/* Capabilities, identity and instructions: the same for initialize and
 * server/discover. */
static void add_server_description(cJSON *r)
{
	cJSON *caps = cJSON_AddObjectToObject(r, "capabilities");
	cJSON *tools = cJSON_AddObjectToObject(caps, "tools");
	cJSON_AddFalseToObject(tools, "listChanged");
	cJSON_AddObjectToObject(caps, "logging");
	/* The files a session's calls left in /workspace/out (mcp_files.h). */
	cJSON *res = cJSON_AddObjectToObject(caps, "resources");
	cJSON_AddFalseToObject(res, "subscribe");
	cJSON_AddTrueToObject(res, "listChanged");
	if (ext && ext->capabilities)
		ext->capabilities(caps);
	cJSON *info = cJSON_AddObjectToObject(r, "serverInfo");
	cJSON_AddStringToObject(info, "name", "nix-sandbox-mcp");
	cJSON_AddStringToObject(info, "title", "Nix sandbox");
	cJSON_AddStringToObject(info, "version", env_config()->version);
	char *ins = mcp_instructions();
	if (ins)
		cJSON_AddStringToObject(r, "instructions", ins);
	free(ins);
}

bool mcp_version_supported(const char *v)
{
	for (size_t i = 0; i < N_VERSIONS; i++)
		if (strcmp(v, supported_versions[i]) == 0)
			return true;
	return false;
}

static cJSON *all_versions(void)
{
	cJSON *a = string_array(stateless_versions, N_STATELESS);
	for (size_t i = 0; a && i < N_VERSIONS; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(supported_versions[i]));
	return a;
}

static void m_initialize(const cJSON *id, const cJSON *params)
{
	const cJSON *pv = get(params, "protocolVersion");
	if (!cJSON_IsString(pv)) {
		cJSON *data = cJSON_CreateObject();
		cJSON_AddItemToObject(data, "supported",
		                      string_array(supported_versions, N_VERSIONS));
		rpc_reply_error(id, RPC_INVALID_PARAMS,
		                "initialize: params.protocolVersion must be a string", data);
		return;
	}
	/* The client's version when we speak it, else our latest: the client
	 * decides whether it can go on (specification, lifecycle). */
	protocol_version = supported_versions[0];
	for (size_t i = 0; i < N_VERSIONS; i++)
		if (strcmp(pv->valuestring, supported_versions[i]) == 0)
			protocol_version = supported_versions[i];

	cJSON *r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "protocolVersion", protocol_version);
	add_server_description(r);
	initialized = true;
	reply(id, r);
}

/* server/discover (2026-07-28): what initialize tells, without a handshake;
 * any client may call it at any time. */
static void m_discover(const cJSON *id, const cJSON *params)
{
	(void)params;
	cJSON *r = cJSON_CreateObject();
	cJSON_AddItemToObject(r, "supportedVersions", all_versions());
	add_server_description(r);
	if (!stateless_request)
		cJSON_AddStringToObject(r, "resultType", "complete");
	reply(id, r);
}

static void m_ping(const cJSON *id, const cJSON *params)
{
	(void)params;
	reply(id, cJSON_CreateObject());
}

static void m_tools_list(const cJSON *id, const cJSON *params)
{
	const cJSON *cursor = get(params, "cursor");
	/* One page holds every tool: any cursor is one we never gave out. */
	if (cursor && !cJSON_IsNull(cursor)) {
		rpc_reply_error(id, RPC_INVALID_PARAMS, "tools/list: invalid cursor", NULL);
		return;
	}
	reply(id, mcp_tools_list());
}

static void m_resources_read(const cJSON *id, const cJSON *params)
{
	int code = 0;
	char msg[400];
	cJSON *r = mcp_files_read(params, current_owner(), &code, msg, sizeof msg);
	if (r)
		reply(id, r);
	else
		rpc_reply_error(id, code, msg, NULL);
}

static void m_resources_list(const cJSON *id, const cJSON *params)
{
	const cJSON *cursor = get(params, "cursor");
	if (cursor && !cJSON_IsNull(cursor)) {
		rpc_reply_error(id, RPC_INVALID_PARAMS, "resources/list: invalid cursor", NULL);
		return;
	}
	reply(id, mcp_files_list(current_owner()));
}

static void m_templates_list(const cJSON *id, const cJSON *params)
{
	(void)params;
	cJSON *r = cJSON_CreateObject();
	cJSON_AddArrayToObject(r, "resourceTemplates");
	reply(id, r);
}

static void m_tools_call(const cJSON *id, const cJSON *params)
{
	const cJSON *name = get(params, "name");
	if (!cJSON_IsString(name)) {
		rpc_reply_error(id, RPC_INVALID_PARAMS, "tools/call: params.name must be a string",
		                NULL);
		return;
	}
	if (strcmp(name->valuestring, "run") != 0) {
		rpc_reply_error(id, RPC_INVALID_PARAMS,
		                "tools/call: unknown tool (the only tool is \"run\")", NULL);
		return;
	}
	const cJSON *meta = get(params, "_meta");
	const cJSON *token = cJSON_IsObject(meta) ? get(meta, "progressToken") : NULL;
	if (token && !cJSON_IsString(token) &&
	    !(cJSON_IsNumber(token) && isfinite(token->valuedouble)))
		token = NULL;
	tool_run(id, get(params, "arguments"), token);
}

/* The server's own events as notifications/message (never code output). */
static void log_to_client(enum log_level l, const char *msg)
{
	/* The server's log is shared by every client of an HTTP server: it
	 * goes to stdio's one client only (HTTP clients: call_log). */
	if (rpc_current_peer())
		return;
	cJSON *p = log_params(l, msg);
	if (p)
		rpc_notify("notifications/message", p);
}

static void m_set_level(const cJSON *id, const cJSON *params)
{
	static const char *const mcp_levels[] = { "debug", "info",     "notice", "warning",
		                                  "error", "critical", "alert",  "emergency" };
	static const enum log_level map[] = { LOG_DEBUG, LOG_INFO,  LOG_INFO,  LOG_WARNING,
		                              LOG_ERROR, LOG_ERROR, LOG_ERROR, LOG_ERROR };
	const cJSON *lv = get(params, "level");
	for (size_t i = 0; cJSON_IsString(lv) && i < 8; i++)
		if (strcmp(lv->valuestring, mcp_levels[i]) == 0) {
			/* The client's level decides what it is sent; stderr keeps
			 * the server's own level. */
			if (!rpc_current_peer())
				log_set_sink(log_to_client, map[i]);
			else if (!set_client_level(current_owner(), map[i])) {
				rpc_reply_error(
				    id, RPC_INTERNAL_ERROR,
				    "logging/setLevel: no room for another client's level", NULL);
				return;
			}
			reply(id, cJSON_CreateObject());
			return;
		}
	rpc_reply_error(id, RPC_INVALID_PARAMS,
	                "logging/setLevel: params.level must be an RFC 5424 level name", NULL);
}

/* Nobody waits for c's answer any more: a session call is interrupted (the
 * session kept if it stops), a one-shot run's sandbox killed. */
static void call_cancel(struct call *c)
{
	if (c->scall)
		session_cancel(c->scall);
	else
		exec_cancel(c->run);
	call_free(c);
}

void mcp_peer_gone(struct rpc_peer *p)
{
	if (ext && ext->peer_gone)
		ext->peer_gone(p);
	for (int i = 0; i < MCP_MAX_INFLIGHT; i++)
		if (calls[i].used && calls[i].peer == p) {
			log_msg(LOG_DEBUG, "the client of a call went away; the call is cancelled");
			call_cancel(&calls[i]);
		}
}

void mcp_session_notice(unsigned long owner, const char *id, const char *closed)
{
	if (!owner && !initialized)
		return;
	/* Its files in /workspace/out are resources (mcp_files.h). */
	rpc_notify_owner(owner, "notifications/resources/list_changed", NULL);
	/* stdio's client hears the server's log (session.c logs the close);
	 * an HTTP client, about its own sessions, at the level it set. */
	int min = owner ? client_level(owner) : -1;
	if (!closed || min < 0 || (int)LOG_INFO < min)
		return;
	char msg[512];
	snprintf(msg, sizeof msg, "session %s was closed: %s; its state and /workspace are gone",
	         id, closed);
	cJSON *p = log_params(LOG_INFO, msg);
	if (p)
		rpc_notify_owner(owner, "notifications/message", p);
}

void mcp_owner_gone(unsigned long owner)
{
	for (size_t i = 0; i < MCP_LOG_CLIENTS; i++)
		if (client_levels[i].owner == owner)
			client_levels[i].owner = 0;
	session_end_owner(owner);
}

static void n_cancelled(const cJSON *params)
{
	const cJSON *rid = get(params, "requestId");
	if (!rid)
		return;
	for (int i = 0; i < MCP_MAX_INFLIGHT; i++) {
		struct call *c = &calls[i];
		/* Only the client's own requests: ids are per client. */
		bool own = (c->peer ? c->peer->owner : 0) == current_owner();
		if (c->used && own && rpc_id_equal(c->id, rid)) {
			log_msg(LOG_INFO, "request cancelled by the client");
			struct rpc_peer *p = c->peer;
			call_cancel(c);
			if (p && p->unanswered)
				p->unanswered(p);
			return;
		}
	}
}

struct method {
	const char *name;
	void (*request)(const cJSON *id, const cJSON *params);
	void (*notification)(const cJSON *params);
	bool before_init; /* allowed before initialize */
};

static const struct method methods[] = {
	{ "initialize", m_initialize, NULL, true },
	{ "server/discover", m_discover, NULL, true },
	{ "ping", m_ping, NULL, true },
	{ "tools/list", m_tools_list, NULL, false },
	{ "tools/call", m_tools_call, NULL, false },
	{ "logging/setLevel", m_set_level, NULL, false },
	{ "resources/list", m_resources_list, NULL, false },
	{ "resources/templates/list", m_templates_list, NULL, false },
	{ "resources/read", m_resources_read, NULL, false },
	{ "notifications/initialized", NULL, NULL, true },
	{ "notifications/cancelled", NULL, n_cancelled, true },
};

void mcp_handle(const cJSON *msg)
{
	const char *name = get(msg, "method")->valuestring;
	const cJSON *id = get(msg, "id");
	const cJSON *params = get(msg, "params");
	static const cJSON empty = { .type = cJSON_Object };
	if (!params || !cJSON_IsObject(params))
		params = &empty;

	/* A request that names its protocol version in _meta is stateless
	 * (2026-07-28): no initialize needed. An unknown version is refused with
	 * the versions we speak, so the client can pick one. */
	const cJSON *meta = get(params, "_meta");
	const cJSON *pv = cJSON_IsObject(meta) ? get(meta, META_VERSION) : NULL;
	bool stateless = false;
	if (pv && id) {
		for (size_t i = 0; cJSON_IsString(pv) && i < N_STATELESS; i++)
			stateless =
			    stateless || strcmp(pv->valuestring, stateless_versions[i]) == 0;
		if (!stateless) {
			cJSON *data = cJSON_CreateObject();
			cJSON_AddItemToObject(data, "supported", all_versions());
			if (cJSON_IsString(pv)) {
				char req[65];
				utf8_clip(req, sizeof req, pv->valuestring);
				cJSON_AddStringToObject(data, "requested", req);
			}
			rpc_reply_error(id, MCP_UNSUPPORTED_VERSION, "Unsupported protocol version",
			                data);
			return;
		}
	}

	if (ext && ext->request && id && (initialized || stateless) &&
	    ext->request(name, id, params))
		return;
	for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
		const struct method *m = &methods[i];
		if (strcmp(m->name, name) != 0)
			continue;
		if (!id) { /* notification: never answered */
			if (m->notification)
				m->notification(params);
			return;
		}
		if (!m->request) {
			rpc_reply_error(id, RPC_INVALID_REQUEST,
			                "Invalid Request: this method is a notification", NULL);
			return;
		}
		if (!initialized && !m->before_init && !stateless) {
			rpc_reply_error(
			    id, RPC_INVALID_REQUEST,
			    "Server not initialized: send initialize "
			    "first (or name a stateless protocol version in params._meta)",
			    NULL);
			return;
		}
		stateless_request = stateless;
		m->request(id, params);
		stateless_request = false;
		return;
	}
	if (id) {
		char msgbuf[160];
		char shown[101];
		utf8_clip(shown, sizeof shown, name);
		snprintf(msgbuf, sizeof msgbuf, "Method not found: %s", shown);
		rpc_reply_error(id, RPC_METHOD_NOT_FOUND, msgbuf, NULL);
	}
}

void mcp_input_closed(void)
{
	session_input_closed();
}

void mcp_shutdown(void)
{
	if (ext && ext->shutdown)
		ext->shutdown();
	for (int i = 0; i < MCP_MAX_INFLIGHT; i++)
		if (calls[i].used) {
			if (!calls[i].scall)
				exec_cancel(calls[i].run);
			call_free(&calls[i]);
		}
	/* Every run cancelled now or earlier (a client's cancellation) is
	 * reaped before the server exits: no zombie, no cgroup left. */
	exec_shutdown();
	/* Session calls go with their sessions, without callbacks. */
	session_shutdown();
}
