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

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "env.h"
#include "exec.h"
#include "jail.h"
#include "log.h"
#include "rpc.h"
#include "session.h"
#include "utf8.h"

static const char *const supported_versions[] = {
	"2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05",
};
#define N_VERSIONS (sizeof supported_versions / sizeof supported_versions[0])

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
};
static struct call calls[MCP_MAX_INFLIGHT];

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

/* Bounded so the fixed context cost stays small with many environments:
 * past the budget, the remaining names are only in the `env` enum. */
#define INSTRUCTIONS_ENV_BUDGET 640

char *mcp_instructions(void)
{
	const struct env_config *cfg = env_config();
	size_t cap = 2048, n = 0;
	char *s = malloc(cap);
	if (!s)
		return NULL;
#define ADD(...) n += (size_t)snprintf(s + n, n < cap ? cap - n : 0, __VA_ARGS__)
	ADD("Run code with the `run` tool in an isolated sandbox built by Nix. Environments:\n");
	size_t listed = 0;
	for (size_t i = 0; i < env_count(); i++) {
		const struct env_entry *en = env_at(i);
		if (n + strlen(en->name) + strlen(en->description) + 16 > INSTRUCTIONS_ENV_BUDGET)
			break;
		ADD("- %s: %s%s\n", en->name, en->description, en->network ? " (network)" : "");
		listed++;
	}
	if (listed < env_count())
		ADD("- and %zu more (see the env parameter)\n", env_count() - listed);
	ADD("Without `session` each call starts fresh; reuse a `session` id to keep interpreter "
	    "state and /workspace (a session stays in its env). /workspace is the writable cwd");
	if (cfg->project_path[0])
		ADD("; the project is mounted read-only at %s", cfg->project_mount);
	ADD(". %s", any_network() ? "Only environments marked (network) reach the network."
				   : "There is no network access.");
#undef ADD
	if (n >= cap)
		s[cap - 1] = '\0';
	return s;
}

static cJSON *output_schema(void)
{
	cJSON *s = cJSON_Parse(
		"{\"type\":\"object\",\"properties\":{"
		"\"exit_code\":{\"type\":[\"integer\",\"null\"],\"description\":\"null when killed (timeout, signal)\"},"
		"\"stdout\":{\"type\":\"string\"},\"stderr\":{\"type\":\"string\"},"
		"\"timed_out\":{\"type\":\"boolean\"},\"truncated\":{\"type\":\"boolean\"},"
		"\"duration_ms\":{\"type\":\"integer\"},\"env\":{\"type\":\"string\"},"
		"\"session\":{\"type\":\"string\"}},"
		"\"required\":[\"exit_code\",\"stdout\",\"stderr\",\"timed_out\",\"truncated\",\"duration_ms\",\"env\"]}");
	return s;
}

cJSON *mcp_tools_list(void)
{
	cJSON *tool = cJSON_CreateObject();
	cJSON_AddStringToObject(tool, "name", "run");
	cJSON_AddStringToObject(tool, "title", "Run code in a sandbox");
	cJSON_AddStringToObject(tool, "description",
		"Run a program (bash, Python or JavaScript source, per env) in an isolated sandbox; "
		"returns stdout, stderr and the exit code.");

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
	cJSON_AddStringToObject(sess, "description",
		"Optional id ([A-Za-z0-9_.-]{1,64}): reuse to keep state and /workspace.");
	const char *req[] = { "code", "env" };
	cJSON_AddItemToObject(schema, "required", string_array(req, 2));
	cJSON_AddFalseToObject(schema, "additionalProperties");

	cJSON_AddItemToObject(tool, "outputSchema", output_schema());

	cJSON *ann = cJSON_AddObjectToObject(tool, "annotations");
	cJSON_AddStringToObject(ann, "title", "Run code in a sandbox");
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
	return result;
}

/* ---- tool results -------------------------------------------------------- */

/* A tool result that is an error the model can act on. */
static cJSON *tool_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static cJSON *tool_error(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	cJSON *r = cJSON_CreateObject();
	cJSON *content = cJSON_AddArrayToObject(r, "content");
	cJSON *t = cJSON_CreateObject();
	cJSON_AddStringToObject(t, "type", "text");
	cJSON_AddStringToObject(t, "text", msg);
	cJSON_AddItemToArray(content, t);
	cJSON_AddTrueToObject(r, "isError");
	return r;
}

static void add_repaired(cJSON *obj, const char *key, const char *s, size_t n)
{
	char *fixed = utf8_repair(s ? s : "", s ? n : 0, NULL);
	cJSON_AddStringToObject(obj, key, fixed ? fixed : "");
	free(fixed);
}

/* Append to a fixed buffer; output past its end is cut, never overflowed. */
static void addf(char *buf, size_t cap, size_t *n, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void addf(char *buf, size_t cap, size_t *n, const char *fmt, ...)
{
	va_list ap;
	if (*n >= cap - 1)
		return;
	va_start(ap, fmt);
	int w = vsnprintf(buf + *n, cap - *n, fmt, ap);
	va_end(ap);
	if (w > 0)
		*n = *n + (size_t)w < cap - 1 ? *n + (size_t)w : cap - 1;
}

/* res of a one-shot run (session NULL) or of a call of that session. */
static cJSON *run_result(const struct env_entry *env, const struct exec_result *res, const char *session)
{
	bool truncated = res->stdout_truncated || res->stderr_truncated;
	bool failed = res->timed_out || res->exit_code != 0 || res->protocol_error;
	char status[1024];
	size_t sn = 0;

	/* The status line says what happened and, when the run failed because
	 * of a limit, what to do next. */
	if (session && res->restarted)
		addf(status, sizeof status, &sn, "[the session was restarted: previous state lost]\n");
	if (res->timed_out && session && !res->session_lost)
		addf(status, sizeof status, &sn,
		     "[timed out after %u s; the call was interrupted (SIGINT) and the session's state "
		     "is kept. Make the code faster, or split the work across calls",
		     env->limits.timeout_seconds);
	else if (res->timed_out && session)
		addf(status, sizeof status, &sn,
		     "[timed out after %u s; the code did not stop on SIGINT, so the session's sandbox "
		     "was killed and its state was lost (the next call starts a fresh interpreter)",
		     env->limits.timeout_seconds);
	else if (res->timed_out)
		addf(status, sizeof status, &sn,
		     "[timed out after %u s; every process of the sandbox was killed. Make the code "
		     "faster, or split the work across calls of a session",
		     env->limits.timeout_seconds);
	else if (res->output_killed)
		addf(status, sizeof status, &sn,
		     "[stopped: the output ran on far past its %u-byte cap. Write large output to a "
		     "file in /workspace and print a summary",
		     env->limits.max_output_bytes);
	else if (res->oom_killed)
		addf(status, sizeof status, &sn,
		     "[killed: out of memory (the limit is %u MB). Process the data in smaller pieces",
		     env->limits.memory_mb);
	else if (res->exit_code < 0)
		addf(status, sizeof status, &sn, "[killed by signal %d", res->term_signal);
	else
		addf(status, sizeof status, &sn, "[exit code %d", res->exit_code);
	if (session && !res->timed_out) {
		const char *why = res->protocol_error ? "the session agent broke its protocol and was killed"
				: res->interpreter_died ? "the interpreter died"
				: res->session_lost ? "the session's sandbox ended" : NULL;
		if (why)
			addf(status, sizeof status, &sn,
			     "; %s: the session's state was lost (the next call starts a fresh interpreter)", why);
	}
	addf(status, sizeof status, &sn, "; %llu ms", (unsigned long long)res->duration_ms);
	if (res->stdout_truncated)
		addf(status, sizeof status, &sn, "; stdout truncated to %zu of %zu bytes", res->out_len,
		     res->out_total);
	if (res->stderr_truncated)
		addf(status, sizeof status, &sn, "; stderr truncated to %zu of %zu bytes", res->err_len,
		     res->err_total);
	addf(status, sizeof status, &sn, "]");

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
	cJSON_AddItemToObject(r, "structuredContent", sc);
	cJSON_AddBoolToObject(r, "isError", failed);
	return r;
}

/* ---- run ----------------------------------------------------------------- */

static void call_free(struct call *c)
{
	cJSON_Delete(c->id);
	memset(c, 0, sizeof *c);
}

static void on_run_done(void *ctx, struct exec_result *res)
{
	struct call *c = ctx;
	cJSON *r;
	if (res->setup_error[0])
		r = tool_error("The sandbox could not start: %s", res->setup_error);
	else
		r = run_result(c->env, res, NULL);
	rpc_reply_result(c->id, r);
	exec_result_free(res);
	call_free(c);
}

static void on_session_done(void *ctx, struct exec_result *res, const char *error)
{
	struct call *c = ctx;
	cJSON *r;
	if (error)
		r = tool_error("%s", error);
	else if (res->setup_error[0])
		r = tool_error("The sandbox of session \"%s\" could not start: %s", c->session, res->setup_error);
	else
		r = run_result(c->env, res, c->session);
	rpc_reply_result(c->id, r);
	exec_result_free(res);
	call_free(c);
}

static bool session_id_valid(const char *s)
{
	size_t n = strlen(s);
	if (n < 1 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		      ch == '_' || ch == '-' || ch == '.'))
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

static void tool_run(const cJSON *id, const cJSON *args)
{
	char names[512];
	env_names(names, sizeof names);

	if (!cJSON_IsObject(args)) {
		rpc_reply_result(id, tool_error("`run` needs arguments {\"code\": \"...\", \"env\": \"one of: %s\"}.", names));
		return;
	}
	for (const cJSON *a = args->child; a; a = a->next)
		if (strcmp(a->string, "code") && strcmp(a->string, "env") && strcmp(a->string, "session")) {
			char arg[65];
			utf8_clip(arg, sizeof arg, a->string);
			rpc_reply_result(id, tool_error("Unknown argument `%s`; `run` takes code, env and optionally session.",
							arg));
			return;
		}
	const cJSON *code = get(args, "code"), *envn = get(args, "env"), *sess = get(args, "session");
	if (!cJSON_IsString(envn)) {
		rpc_reply_result(id, tool_error("`env` is required and must be a string: one of %s.", names));
		return;
	}
	const struct env_entry *env = env_find(envn->valuestring);
	if (!env) {
		char given[65];
		utf8_clip(given, sizeof given, envn->valuestring);
		rpc_reply_result(id, tool_error("Unknown environment \"%s\". Available: %s.", given, names));
		return;
	}
	if (!cJSON_IsString(code)) {
		rpc_reply_result(id, tool_error("`code` is required and must be a string."));
		return;
	}
	size_t code_len = strlen(code->valuestring);
	if (code_len == 0) {
		rpc_reply_result(id, tool_error("`code` is empty: send the program to run."));
		return;
	}
	if (code_len > MCP_MAX_CODE_BYTES) {
		rpc_reply_result(id, tool_error("`code` is %zu bytes; the limit is %u bytes. Write large data "
						"from code in several calls of a session, or generate it in the sandbox.",
						code_len, MCP_MAX_CODE_BYTES));
		return;
	}
	if (sess && !cJSON_IsNull(sess)) {
		if (!cJSON_IsString(sess) || !session_id_valid(sess->valuestring)) {
			rpc_reply_result(id, tool_error("`session` must be 1-64 characters of A-Z a-z 0-9 _ . -"));
			return;
		}
	}

	struct call *c = NULL;
	for (int i = 0; i < MCP_MAX_INFLIGHT; i++)
		if (!calls[i].used) {
			c = &calls[i];
			break;
		}
	if (!c) {
		rpc_reply_result(id, tool_error("%d runs are already in flight; wait for one to finish.", MCP_MAX_INFLIGHT));
		return;
	}
	const struct env_config *cfg = env_config();
	struct exec_request req = {
		.env = env,
		.code = code->valuestring,
		.code_len = code_len,
		.project_dir = project_dir,
		.project_mount = cfg->project_mount,
	};
	c->used = true;
	c->id = cJSON_Duplicate(id, 1);
	c->env = env;
	struct err e = { 0 };
	if (cJSON_IsString(sess)) {
		struct session_request sr = {
			.id = sess->valuestring,
			.env = env,
			.code = code->valuestring,
			.code_len = code_len,
			.project_dir = project_dir,
			.project_mount = cfg->project_mount,
		};
		snprintf(c->session, sizeof c->session, "%s", sess->valuestring);
		c->scall = session_run(&sr, on_session_done, c, &e);
		if (!c->scall) {
			rpc_reply_result(id, tool_error("%s", e.msg));
			call_free(c);
		}
		return;
	}
	c->run = exec_start(&req, on_run_done, c, &e);
	if (!c->run) {
		log_msg(LOG_WARNING, "run in %s: %s", env->name, e.msg);
		rpc_reply_result(id, tool_error("The sandbox could not start: %s", e.msg));
		call_free(c);
	}
}

/* ---- methods ------------------------------------------------------------- */

static void m_initialize(const cJSON *id, const cJSON *params)
{
	const cJSON *pv = get(params, "protocolVersion");
	if (!cJSON_IsString(pv)) {
		cJSON *data = cJSON_CreateObject();
		cJSON_AddItemToObject(data, "supported", string_array(supported_versions, N_VERSIONS));
		rpc_reply_error(id, RPC_INVALID_PARAMS, "initialize: params.protocolVersion must be a string", data);
		return;
	}
	/* The client's version when we speak it, else our latest: the client
	 * decides whether it can go on (specification, lifecycle). */
	protocol_version = supported_versions[0];
	for (size_t i = 0; i < N_VERSIONS; i++)
		if (strcmp(pv->valuestring, supported_versions[i]) == 0)
			protocol_version = supported_versions[i];

	const struct env_config *cfg = env_config();
	cJSON *r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "protocolVersion", protocol_version);
	cJSON *caps = cJSON_AddObjectToObject(r, "capabilities");
	cJSON *tools = cJSON_AddObjectToObject(caps, "tools");
	cJSON_AddFalseToObject(tools, "listChanged");
	cJSON_AddObjectToObject(caps, "logging");
	cJSON *info = cJSON_AddObjectToObject(r, "serverInfo");
	cJSON_AddStringToObject(info, "name", "nix-sandbox-mcp");
	cJSON_AddStringToObject(info, "title", "Nix sandbox");
	cJSON_AddStringToObject(info, "version", cfg->version);
	char *ins = mcp_instructions();
	if (ins)
		cJSON_AddStringToObject(r, "instructions", ins);
	free(ins);
	initialized = true;
	rpc_reply_result(id, r);
}

static void m_ping(const cJSON *id, const cJSON *params)
{
	(void)params;
	rpc_reply_result(id, cJSON_CreateObject());
}

static void m_tools_list(const cJSON *id, const cJSON *params)
{
	const cJSON *cursor = get(params, "cursor");
	/* One page holds every tool: any cursor is one we never gave out. */
	if (cursor && !cJSON_IsNull(cursor)) {
		rpc_reply_error(id, RPC_INVALID_PARAMS, "tools/list: invalid cursor", NULL);
		return;
	}
	rpc_reply_result(id, mcp_tools_list());
}

static void m_tools_call(const cJSON *id, const cJSON *params)
{
	const cJSON *name = get(params, "name");
	if (!cJSON_IsString(name)) {
		rpc_reply_error(id, RPC_INVALID_PARAMS, "tools/call: params.name must be a string", NULL);
		return;
	}
	if (strcmp(name->valuestring, "run") != 0) {
		rpc_reply_error(id, RPC_INVALID_PARAMS, "tools/call: unknown tool (the only tool is \"run\")", NULL);
		return;
	}
	tool_run(id, get(params, "arguments"));
}

static void m_set_level(const cJSON *id, const cJSON *params)
{
	static const char *const mcp_levels[] = { "debug", "info", "notice", "warning",
						  "error", "critical", "alert", "emergency" };
	static const enum log_level map[] = { LOG_DEBUG, LOG_INFO, LOG_INFO, LOG_WARNING,
					      LOG_ERROR, LOG_ERROR, LOG_ERROR, LOG_ERROR };
	const cJSON *lv = get(params, "level");
	for (size_t i = 0; cJSON_IsString(lv) && i < 8; i++)
		if (strcmp(lv->valuestring, mcp_levels[i]) == 0) {
			log_set_level(map[i]);
			rpc_reply_result(id, cJSON_CreateObject());
			return;
		}
	rpc_reply_error(id, RPC_INVALID_PARAMS, "logging/setLevel: params.level must be an RFC 5424 level name", NULL);
}

static void n_cancelled(const cJSON *params)
{
	const cJSON *rid = get(params, "requestId");
	if (!rid)
		return;
	for (int i = 0; i < MCP_MAX_INFLIGHT; i++) {
		struct call *c = &calls[i];
		if (c->used && rpc_id_equal(c->id, rid)) {
			if (c->scall) {
				log_msg(LOG_INFO, "request cancelled by the client; its session call is interrupted");
				session_cancel(c->scall);
			} else {
				log_msg(LOG_INFO, "request cancelled by the client; its sandbox is killed");
				exec_cancel(c->run);
			}
			call_free(c);
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
	{ "ping", m_ping, NULL, true },
	{ "tools/list", m_tools_list, NULL, false },
	{ "tools/call", m_tools_call, NULL, false },
	{ "logging/setLevel", m_set_level, NULL, false },
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
			rpc_reply_error(id, RPC_INVALID_REQUEST, "Invalid Request: this method is a notification", NULL);
			return;
		}
		if (!initialized && !m->before_init) {
			rpc_reply_error(id, RPC_INVALID_REQUEST, "Server not initialized: send initialize first", NULL);
			return;
		}
		m->request(id, params);
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
	for (int i = 0; i < MCP_MAX_INFLIGHT; i++)
		if (calls[i].used) {
			if (!calls[i].scall)
				exec_cancel(calls[i].run);
			call_free(&calls[i]);
		}
	/* Session calls go with their sessions, without callbacks. */
	session_shutdown();
}
