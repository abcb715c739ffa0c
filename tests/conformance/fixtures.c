/* fixtures.c — the conformance suite's fixtures, for a test-only build.
 *
 * Owns: the tools, prompts, resources and completions that the server
 * scenarios of @modelcontextprotocol/conformance call by name
 * (test_simple_text, test://static-text, test_simple_prompt, ...), served
 * through mcp.h's extension hooks. tests/conformance/run.sh compiles csrc/
 * with this file added; the server users build has none of it (the suite
 * runs against that one too, with these scenarios listed as expected
 * failures).
 * Must not: be linked into the server users run; touch a sandbox.
 *
 * What each fixture returns is what the scenario's description in the
 * pinned package asks (dist/index.js, "Server Implementation
 * Requirements").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "loop.h"
#include "mcp.h"
#include "rpc.h"

/* A 1x1 red PNG and a silent 8 kHz WAV of 8 samples. */
#define PNG_B64                                                                     \
	"iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/" \
	"pLvAAAAAElFTkSuQmCC"
#define WAV_B64 "UklGRjQAAABXQVZFZm10IBAAAAABAAEAQB8AAIA+AAACABAAZGF0YRAAAAAAAAAAAAAAAAAAAAAAAAAA"
#define TEMPLATE "test://template/{id}/data"

static cJSON *text_item(const char *text)
{
	cJSON *t = cJSON_CreateObject();
	cJSON_AddStringToObject(t, "type", "text");
	cJSON_AddStringToObject(t, "text", text);
	return t;
}

static cJSON *media_item(const char *type, const char *data, const char *mime)
{
	cJSON *t = cJSON_CreateObject();
	cJSON_AddStringToObject(t, "type", type);
	cJSON_AddStringToObject(t, "data", data);
	cJSON_AddStringToObject(t, "mimeType", mime);
	return t;
}

static cJSON *resource_item(const char *uri, const char *mime, const char *text)
{
	cJSON *t = cJSON_CreateObject();
	cJSON_AddStringToObject(t, "type", "resource");
	cJSON *r = cJSON_AddObjectToObject(t, "resource");
	cJSON_AddStringToObject(r, "uri", uri);
	cJSON_AddStringToObject(r, "mimeType", mime);
	cJSON_AddStringToObject(r, "text", text);
	return t;
}

/* A tools/call result holding one item (more with add_item). */
static cJSON *content_of(cJSON *item)
{
	cJSON *r = cJSON_CreateObject();
	cJSON_AddItemToArray(cJSON_AddArrayToObject(r, "content"), item);
	return r;
}

static void add_item(cJSON *result, cJSON *item)
{
	cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(result, "content"), item);
}

/* ---- tools that answer later: logging, progress, reconnection ------------- */

enum slow_kind { SLOW_LOGGING, SLOW_PROGRESS, SLOW_RECONNECT, SLOW_ASK };

#define MAX_SLOW 16
static struct slow {
	bool used;
	enum slow_kind kind;
	int step;
	cJSON *id, *token;
	struct rpc_peer *peer;
	long timer;
	char asked[32]; /* SLOW_ASK: the id of the request sent to the client */
	const char *answer_prefix;
} slow[MAX_SLOW];

static void slow_free(struct slow *c)
{
	if (c->timer)
		loop_timer_cancel(c->timer);
	cJSON_Delete(c->id);
	cJSON_Delete(c->token);
	memset(c, 0, sizeof *c);
}

static void slow_step(void *ctx);

static void slow_after(struct slow *c, uint64_t ms)
{
	struct err e = { 0 };
	long t = loop_timer_add(loop_now_ms() + ms, slow_step, c, &e);
	c->timer = t > 0 ? t : 0;
	if (t <= 0)
		slow_free(c);
}

static void slow_step(void *ctx)
{
	static const char *const logs[] = { "Tool execution started", "Tool processing data",
		                            "Tool execution completed" };
	struct slow *c = ctx;
	c->timer = 0;
	struct rpc_peer *was = rpc_set_peer(c->peer);
	int step = c->step++;
	switch (c->kind) {
	case SLOW_LOGGING:
		if (step < 3) {
			cJSON *p = cJSON_CreateObject();
			cJSON_AddStringToObject(p, "level", "info");
			cJSON_AddStringToObject(p, "logger", "conformance-fixtures");
			cJSON_AddStringToObject(p, "data", logs[step]);
			rpc_notify("notifications/message", p);
			slow_after(c, 50);
		} else {
			rpc_reply_result(c->id,
			                 content_of(text_item("Tool with logging executed")));
			slow_free(c);
		}
		break;
	case SLOW_PROGRESS:
		if (step < 3) {
			if (c->token) {
				cJSON *p = cJSON_CreateObject();
				cJSON_AddItemToObject(p, "progressToken", rpc_id_dup(c->token));
				cJSON_AddNumberToObject(p, "progress", 50.0 * step);
				cJSON_AddNumberToObject(p, "total", 100);
				rpc_notify("notifications/progress", p);
			}
			slow_after(c, 50);
		} else {
			rpc_reply_result(c->id,
			                 content_of(text_item("Tool with progress executed")));
			slow_free(c);
		}
		break;
	case SLOW_RECONNECT:
		/* SEP-1699: the server ends the connection mid-call (after the
		 * priming event), the client comes back with Last-Event-ID and
		 * gets the answer there. */
		if (step == 0) {
			if (c->peer && c->peer->let_go)
				c->peer->let_go(c->peer);
			slow_after(c, 500);
		} else {
			rpc_reply_result(
			    c->id, content_of(text_item("Answered after the stream was closed")));
			slow_free(c);
		}
		break;
	case SLOW_ASK: /* the client never answered */
		rpc_reply_error(c->id, RPC_INTERNAL_ERROR, "fixtures: no response from the client",
		                NULL);
		slow_free(c);
		break;
	}
	rpc_set_peer(was);
}

static struct slow *slow_start(enum slow_kind kind, const cJSON *id, const cJSON *token,
                               uint64_t first_ms)
{
	for (size_t i = 0; i < MAX_SLOW; i++) {
		struct slow *c = &slow[i];
		if (c->used)
			continue;
		c->used = true;
		c->kind = kind;
		c->id = rpc_id_dup(id);
		c->token = token ? rpc_id_dup(token) : NULL;
		c->peer = rpc_current_peer();
		slow_after(c, first_ms);
		return c->used ? c : NULL;
	}
	rpc_reply_error(id, RPC_INTERNAL_ERROR, "fixtures: too many slow calls at once", NULL);
	return NULL;
}

/* Sampling and elicitation: a request to the client on the call's stream;
 * the call is answered with what the client responds. */
static bool ask_client(const cJSON *id, const char *method, cJSON *params, const char *prefix)
{
	static unsigned long next;
	struct slow *c = slow_start(SLOW_ASK, id, NULL, 30000);
	if (!c) {
		cJSON_Delete(params);
		return true;
	}
	snprintf(c->asked, sizeof c->asked, "fx-%lu", ++next);
	c->answer_prefix = prefix;
	rpc_request(c->asked, method, params);
	return true;
}

static void fx_response(const cJSON *msg)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(msg, "id");
	struct rpc_peer *from = rpc_current_peer();
	for (size_t i = 0; cJSON_IsString(id) && i < MAX_SLOW; i++) {
		struct slow *c = &slow[i];
		if (!c->used || c->kind != SLOW_ASK || strcmp(c->asked, id->valuestring) != 0 ||
		    (from ? from->owner : 0) != (c->peer ? c->peer->owner : 0))
			continue;
		const cJSON *res = cJSON_GetObjectItemCaseSensitive(msg, "result");
		char *shown = res ? cJSON_PrintUnformatted(res) : NULL;
		char text[1024];
		snprintf(text, sizeof text, "%s%s", c->answer_prefix,
		         shown ? shown : "(the client answered with an error)");
		free(shown);
		struct rpc_peer *was = rpc_set_peer(c->peer);
		rpc_reply_result(c->id, content_of(text_item(text)));
		rpc_set_peer(was);
		slow_free(c);
		return;
	}
}

static void fx_peer_gone(struct rpc_peer *p)
{
	for (size_t i = 0; i < MAX_SLOW; i++)
		if (slow[i].used && slow[i].peer == p)
			slow_free(&slow[i]);
}

static void fx_shutdown(void)
{
	for (size_t i = 0; i < MAX_SLOW; i++)
		if (slow[i].used)
			slow_free(&slow[i]);
}

/* ---- tools ------------------------------------------------------------------ */

static const char *const tool_names[] = {
	"test_simple_text",
	"test_image_content",
	"test_audio_content",
	"test_embedded_resource",
	"test_multiple_content_types",
	"test_tool_with_logging",
	"test_error_handling",
	"test_tool_with_progress",
	"test_reconnection",
	"json_schema_2020_12_tool",
	"test_sampling",
	"test_elicitation",
	"test_elicitation_sep1034_defaults",
	"test_elicitation_sep1330_enums",
};
#define N_TOOLS (sizeof tool_names / sizeof tool_names[0])

static void fx_tools(cJSON *tools)
{
	for (size_t i = 0; i < N_TOOLS; i++) {
		cJSON *t = cJSON_CreateObject();
		cJSON_AddStringToObject(t, "name", tool_names[i]);
		cJSON_AddStringToObject(t, "description", "conformance fixture");
		if (strcmp(tool_names[i], "json_schema_2020_12_tool") == 0)
			cJSON_AddItemToObject(
			    t, "inputSchema",
			    cJSON_Parse(
			        "{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\","
			        "\"type\":\"object\",\"$defs\":{\"address\":{\"type\":\"object\","
			        "\"properties\":{\"street\":{\"type\":\"string\"},\"city\":{"
			        "\"type\":\"string\"}}}},\"properties\":{\"name\":{\"type\":"
			        "\"string\"},\"address\":{\"$ref\":\"#/$defs/address\"}},"
			        "\"additionalProperties\":false}"));
		else
			cJSON_AddItemToObject(
			    t, "inputSchema",
			    cJSON_Parse("{\"type\":\"object\",\"properties\":{}}"));
		cJSON_AddItemToArray(tools, t);
	}
}

static const char *tool_arg(const cJSON *params, const char *name, const char *dflt)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(params, "arguments"), name);
	return cJSON_IsString(a) ? a->valuestring : dflt;
}

static cJSON *sampling_params(const cJSON *params)
{
	cJSON *p = cJSON_CreateObject();
	cJSON *m = cJSON_CreateObject();
	cJSON_AddStringToObject(m, "role", "user");
	cJSON_AddItemToObject(m, "content", text_item(tool_arg(params, "prompt", "Hello")));
	cJSON_AddItemToArray(cJSON_AddArrayToObject(p, "messages"), m);
	cJSON_AddNumberToObject(p, "maxTokens", 100);
	return p;
}

enum elicit { ELICIT_USER, ELICIT_DEFAULTS, ELICIT_ENUMS };

static cJSON *elicitation_params(const cJSON *params, enum elicit what)
{
	static const char *const schemas[] = {
		[ELICIT_USER] = "{\"type\":\"object\",\"properties\":{\"username\":{\"type\":"
		                "\"string\",\"description\":\"User's response\"},\"email\":{"
		                "\"type\":\"string\",\"description\":\"User's email address\"}},"
		                "\"required\":[\"username\",\"email\"]}",
		[ELICIT_DEFAULTS] =
		    "{\"type\":\"object\",\"properties\":{"
		    "\"name\":{\"type\":\"string\",\"default\":\"John Doe\"},"
		    "\"age\":{\"type\":\"integer\",\"default\":30},"
		    "\"score\":{\"type\":\"number\",\"default\":95.5},"
		    "\"status\":{\"type\":\"string\",\"enum\":[\"active\",\"inactive\","
		    "\"pending\"],\"default\":\"active\"},"
		    "\"verified\":{\"type\":\"boolean\",\"default\":true}}}",
		[ELICIT_ENUMS] =
		    "{\"type\":\"object\",\"properties\":{"
		    "\"untitledSingle\":{\"type\":\"string\",\"enum\":[\"option1\",\"option2\","
		    "\"option3\"]},"
		    "\"titledSingle\":{\"type\":\"string\",\"oneOf\":[{\"const\":\"value1\","
		    "\"title\":\"First Option\"},{\"const\":\"value2\",\"title\":\"Second "
		    "Option\"},{\"const\":\"value3\",\"title\":\"Third Option\"}]},"
		    "\"legacyEnum\":{\"type\":\"string\",\"enum\":[\"opt1\",\"opt2\",\"opt3\"],"
		    "\"enumNames\":[\"Option One\",\"Option Two\",\"Option Three\"]},"
		    "\"untitledMulti\":{\"type\":\"array\",\"items\":{\"type\":\"string\","
		    "\"enum\":[\"option1\",\"option2\",\"option3\"]}},"
		    "\"titledMulti\":{\"type\":\"array\",\"items\":{\"anyOf\":[{\"const\":"
		    "\"value1\",\"title\":\"First Choice\"},{\"const\":\"value2\",\"title\":"
		    "\"Second Choice\"},{\"const\":\"value3\",\"title\":\"Third Choice\"}]}}}}",
	};
	cJSON *p = cJSON_CreateObject();
	cJSON_AddStringToObject(p, "message",
	                        tool_arg(params, "message", "Please fill in the form"));
	cJSON_AddItemToObject(p, "requestedSchema", cJSON_Parse(schemas[what]));
	return p;
}

/* true: name is a fixture tool (answered now or later). */
static bool call_tool(const cJSON *id, const char *name, const cJSON *params)
{
	const cJSON *meta = cJSON_GetObjectItemCaseSensitive(params, "_meta");
	const cJSON *token = cJSON_GetObjectItemCaseSensitive(meta, "progressToken");
	cJSON *r = NULL;
	if (strcmp(name, "test_simple_text") == 0) {
		r = content_of(text_item("This is a simple text response for testing."));
	} else if (strcmp(name, "test_image_content") == 0) {
		r = content_of(media_item("image", PNG_B64, "image/png"));
	} else if (strcmp(name, "test_audio_content") == 0) {
		r = content_of(media_item("audio", WAV_B64, "audio/wav"));
	} else if (strcmp(name, "test_embedded_resource") == 0) {
		r = content_of(resource_item("test://embedded-resource", "text/plain",
		                             "This is an embedded resource content."));
	} else if (strcmp(name, "test_multiple_content_types") == 0) {
		r = content_of(text_item("Multiple content types test:"));
		add_item(r, media_item("image", PNG_B64, "image/png"));
		add_item(r, resource_item("test://mixed-content-resource", "application/json",
		                          "{\"test\":\"data\",\"value\":123}"));
	} else if (strcmp(name, "test_error_handling") == 0) {
		r = content_of(text_item("This tool intentionally returns an error for testing"));
		cJSON_AddTrueToObject(r, "isError");
	} else if (strcmp(name, "json_schema_2020_12_tool") == 0) {
		r = content_of(text_item("json_schema_2020_12_tool called"));
	} else if (strcmp(name, "test_tool_with_logging") == 0) {
		slow_start(SLOW_LOGGING, id, NULL, 0);
		return true;
	} else if (strcmp(name, "test_tool_with_progress") == 0) {
		slow_start(SLOW_PROGRESS, id, token, 0);
		return true;
	} else if (strcmp(name, "test_reconnection") == 0) {
		slow_start(SLOW_RECONNECT, id, NULL, 100);
		return true;
	} else if (strcmp(name, "test_sampling") == 0) {
		return ask_client(id, "sampling/createMessage", sampling_params(params),
		                  "LLM response: ");
	} else if (strcmp(name, "test_elicitation") == 0) {
		return ask_client(id, "elicitation/create", elicitation_params(params, ELICIT_USER),
		                  "User response: ");
	} else if (strcmp(name, "test_elicitation_sep1034_defaults") == 0) {
		return ask_client(id, "elicitation/create",
		                  elicitation_params(params, ELICIT_DEFAULTS),
		                  "Elicitation completed: ");
	} else if (strcmp(name, "test_elicitation_sep1330_enums") == 0) {
		return ask_client(id, "elicitation/create",
		                  elicitation_params(params, ELICIT_ENUMS),
		                  "Elicitation completed: ");
	} else {
		return false;
	}
	rpc_reply_result(id, r);
	return true;
}

/* ---- prompts ----------------------------------------------------------------- */

static cJSON *message(cJSON *content)
{
	cJSON *m = cJSON_CreateObject();
	cJSON_AddStringToObject(m, "role", "user");
	cJSON_AddItemToObject(m, "content", content);
	return m;
}

static void add_prompt(cJSON *list, const char *name, const char *const *args, size_t n)
{
	cJSON *p = cJSON_CreateObject();
	cJSON_AddStringToObject(p, "name", name);
	cJSON_AddStringToObject(p, "description", "conformance fixture");
	cJSON *a = cJSON_AddArrayToObject(p, "arguments");
	for (size_t i = 0; i < n; i++) {
		cJSON *arg = cJSON_CreateObject();
		cJSON_AddStringToObject(arg, "name", args[i]);
		cJSON_AddStringToObject(arg, "description", "conformance fixture argument");
		cJSON_AddTrueToObject(arg, "required");
		cJSON_AddItemToArray(a, arg);
	}
	cJSON_AddItemToArray(list, p);
}

static void prompts_list(const cJSON *id)
{
	static const char *const two[] = { "arg1", "arg2" };
	static const char *const uri[] = { "resourceUri" };
	cJSON *r = cJSON_CreateObject();
	cJSON *l = cJSON_AddArrayToObject(r, "prompts");
	add_prompt(l, "test_simple_prompt", NULL, 0);
	add_prompt(l, "test_prompt_with_arguments", two, 2);
	add_prompt(l, "test_prompt_with_embedded_resource", uri, 1);
	add_prompt(l, "test_prompt_with_image", NULL, 0);
	rpc_reply_result(id, r);
}

static void prompts_get(const cJSON *id, const cJSON *params)
{
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(params, "name");
	const char *n = cJSON_IsString(name) ? name->valuestring : "";
	cJSON *r = cJSON_CreateObject();
	cJSON *msgs = cJSON_AddArrayToObject(r, "messages");
	if (strcmp(n, "test_simple_prompt") == 0) {
		cJSON_AddItemToArray(msgs,
		                     message(text_item("This is a simple prompt for testing.")));
	} else if (strcmp(n, "test_prompt_with_arguments") == 0 && tool_arg(params, "arg1", NULL) &&
	           tool_arg(params, "arg2", NULL)) {
		char text[512];
		snprintf(text, sizeof text, "Prompt with arguments: arg1='%s', arg2='%s'",
		         tool_arg(params, "arg1", NULL), tool_arg(params, "arg2", NULL));
		cJSON_AddItemToArray(msgs, message(text_item(text)));
	} else if (strcmp(n, "test_prompt_with_embedded_resource") == 0 &&
	           tool_arg(params, "resourceUri", NULL)) {
		cJSON_AddItemToArray(
		    msgs, message(resource_item(tool_arg(params, "resourceUri", NULL), "text/plain",
		                                "Embedded resource content for "
		                                "testing.")));
		cJSON_AddItemToArray(
		    msgs, message(text_item("Please process the embedded resource above.")));
	} else if (strcmp(n, "test_prompt_with_image") == 0) {
		cJSON_AddItemToArray(msgs, message(media_item("image", PNG_B64, "image/png")));
		cJSON_AddItemToArray(msgs, message(text_item("Please analyze the image above.")));
	} else {
		cJSON_Delete(r);
		rpc_reply_error(id, RPC_INVALID_PARAMS,
		                "prompts/get: unknown prompt or a required argument missing", NULL);
		return;
	}
	rpc_reply_result(id, r);
}

/* completion/complete: values of a fixed list that start with what was
 * typed. */
static void complete(const cJSON *id, const cJSON *params)
{
	static const char *const words[] = { "paris", "park", "party", "test", "testing" };
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(params, "argument");
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(a, "value");
	const char *typed = cJSON_IsString(v) ? v->valuestring : "";
	cJSON *r = cJSON_CreateObject();
	cJSON *c = cJSON_AddObjectToObject(r, "completion");
	cJSON *vals = cJSON_AddArrayToObject(c, "values");
	int n = 0;
	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
		if (strncmp(words[i], typed, strlen(typed)) == 0) {
			cJSON_AddItemToArray(vals, cJSON_CreateString(words[i]));
			n++;
		}
	cJSON_AddNumberToObject(c, "total", n);
	cJSON_AddFalseToObject(c, "hasMore");
	rpc_reply_result(id, r);
}

/* ---- resources -------------------------------------------------------------- */

static cJSON *contents_of(const char *uri, const char *mime, const char *key, const char *val)
{
	cJSON *r = cJSON_CreateObject();
	cJSON *c = cJSON_CreateObject();
	cJSON_AddStringToObject(c, "uri", uri);
	cJSON_AddStringToObject(c, "mimeType", mime);
	cJSON_AddStringToObject(c, key, val);
	cJSON_AddItemToArray(cJSON_AddArrayToObject(r, "contents"), c);
	return r;
}

/* The {id} of TEMPLATE in uri: 1-64 characters, no '/'. */
static bool template_id(const char *uri, char *out, size_t size)
{
	static const char pre[] = "test://template/", post[] = "/data";
	size_t n = strlen(uri), pl = sizeof pre - 1, ql = sizeof post - 1;
	if (n <= pl + ql || strncmp(uri, pre, pl) != 0 || strcmp(uri + n - ql, post) != 0)
		return false;
	size_t k = n - pl - ql;
	if (k >= size || memchr(uri + pl, '/', k))
		return false;
	memcpy(out, uri + pl, k);
	out[k] = '\0';
	return true;
}

/* true: uri is a fixture resource (answered). */
static bool read_resource(const cJSON *id, const char *uri)
{
	cJSON *r = NULL;
	char idv[65], text[256];
	if (strcmp(uri, "test://static-text") == 0) {
		r = contents_of(uri, "text/plain", "text",
		                "This is the content of the static text resource.");
	} else if (strcmp(uri, "test://static-binary") == 0) {
		r = contents_of(uri, "image/png", "blob", PNG_B64);
	} else if (strcmp(uri, "test://watched-resource") == 0) {
		r = contents_of(uri, "text/plain", "text", "watched");
	} else if (template_id(uri, idv, sizeof idv)) {
		snprintf(text, sizeof text,
		         "{\"id\":\"%s\",\"templateTest\":true,\"data\":\"Data for ID: %s\"}", idv,
		         idv);
		r = contents_of(uri, "application/json", "text", text);
	} else {
		return false;
	}
	rpc_reply_result(id, r);
	return true;
}

static void templates_list(const cJSON *id)
{
	cJSON *r = cJSON_CreateObject();
	cJSON *t = cJSON_CreateObject();
	cJSON_AddStringToObject(t, "uriTemplate", TEMPLATE);
	cJSON_AddStringToObject(t, "name", "template");
	cJSON_AddStringToObject(t, "mimeType", "application/json");
	cJSON_AddItemToArray(cJSON_AddArrayToObject(r, "resourceTemplates"), t);
	rpc_reply_result(id, r);
}

/* ---- the extension ---------------------------------------------------------- */

static void fx_capabilities(cJSON *caps)
{
	cJSON_AddObjectToObject(caps, "prompts");
	cJSON_AddObjectToObject(caps, "completions");
	cJSON *res = cJSON_GetObjectItemCaseSensitive(caps, "resources");
	cJSON_ReplaceItemInObjectCaseSensitive(res, "subscribe", cJSON_CreateTrue());
}

static bool fx_request(const char *method, const cJSON *id, const cJSON *params)
{
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(params, "name");
	const cJSON *uri = cJSON_GetObjectItemCaseSensitive(params, "uri");
	if (strcmp(method, "tools/call") == 0)
		return cJSON_IsString(name) && call_tool(id, name->valuestring, params);
	if (strcmp(method, "resources/read") == 0)
		return cJSON_IsString(uri) && read_resource(id, uri->valuestring);
	if (strcmp(method, "resources/subscribe") == 0 ||
	    strcmp(method, "resources/unsubscribe") == 0) {
		if (!cJSON_IsString(uri) || strncmp(uri->valuestring, "test://", 7) != 0)
			return false;
		rpc_reply_result(id, cJSON_CreateObject());
		return true;
	}
	if (strcmp(method, "resources/templates/list") == 0)
		templates_list(id);
	else if (strcmp(method, "prompts/list") == 0)
		prompts_list(id);
	else if (strcmp(method, "prompts/get") == 0)
		prompts_get(id, params);
	else if (strcmp(method, "completion/complete") == 0)
		complete(id, params);
	else
		return false;
	return true;
}

static const struct mcp_extension fixtures = {
	.capabilities = fx_capabilities,
	.tools = fx_tools,
	.request = fx_request,
	.peer_gone = fx_peer_gone,
	.shutdown = fx_shutdown,
	.response = fx_response,
};

__attribute__((constructor)) static void fixtures_register(void)
{
	mcp_set_extension(&fixtures);
}
