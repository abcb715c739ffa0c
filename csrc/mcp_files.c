/* mcp_files.c — the MCP shape of a run's files; see mcp_files.h. */
#include "mcp_files.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "jsonraw.h"
#include "rpc.h"
#include "session.h"
#include "utf8.h"

#define URI_PREFIX "sandbox://sessions/"
#define RESOURCE_NOT_FOUND (-32002) /* the specification's code for resources/read */

cJSON *mcp_files_schema(void)
{
	/* Short: every character here is paid in each client's context (the
	 * bounds are in the error messages and the README). */
	return cJSON_Parse(
	    "{\"type\":\"array\",\"description\":\"Written under /workspace before the code runs; "
	    "at most 64 files, 8 MiB\",\"items\":{\"type\":\"object\",\"properties\":{"
	    "\"path\":{\"type\":\"string\"},\"content\":{\"type\":\"string\"},"
	    "\"encoding\":{\"enum\":[\"utf-8\",\"base64\"]}},\"required\":[\"path\",\"content\"]}"
	    "}");
}

cJSON *mcp_files_output_schema(void)
{
	return cJSON_Parse("{\"type\":\"array\",\"items\":{\"type\":\"object\"}}");
}

/* ---- files in ------------------------------------------------------------ */

static int parse_one(const cJSON *f, int i, struct ws_input *in, size_t *bytes, char *msg,
                     size_t len)
{
	if (!cJSON_IsObject(f)) {
		snprintf(msg, len, "files[%d] must be an object {\"path\": ..., \"content\": ...}.",
		         i);
		return -1;
	}
	for (const cJSON *k = f->child; k; k = k->next)
		if (strcmp(k->string, "path") && strcmp(k->string, "content") &&
		    strcmp(k->string, "encoding")) {
			char key[65];
			utf8_clip(key, sizeof key, k->string);
			snprintf(msg, len,
			         "files[%d] has an unknown key `%s`; a file takes path, content "
			         "and optionally encoding.",
			         i, key);
			return -1;
		}
	const cJSON *path = cJSON_GetObjectItemCaseSensitive(f, "path");
	const cJSON *content = cJSON_GetObjectItemCaseSensitive(f, "content");
	const cJSON *enc = cJSON_GetObjectItemCaseSensitive(f, "encoding");
	if (!cJSON_IsString(path) || !cJSON_IsString(content)) {
		snprintf(msg, len, "files[%d] needs a string `path` and a string `content`.", i);
		return -1;
	}
	char shown[130];
	utf8_clip(shown, sizeof shown, path->valuestring);
	const char *bad = ws_path_problem(path->valuestring);
	if (bad) {
		snprintf(msg, len, "files[%d].path \"%s\": %s.", i, shown, bad);
		return -1;
	}
	bool b64 = false;
	if (enc && !cJSON_IsNull(enc)) {
		if (!cJSON_IsString(enc) ||
		    (strcmp(enc->valuestring, "base64") && strcmp(enc->valuestring, "utf-8"))) {
			snprintf(
			    msg, len,
			    "files[%d].encoding must be \"utf-8\" (the default) or \"base64\".", i);
			return -1;
		}
		b64 = !strcmp(enc->valuestring, "base64");
	}
	size_t n = strlen(content->valuestring);
	if (!(in->path = strdup(path->valuestring))) {
		snprintf(msg, len, "The server is out of memory; try again later.");
		return -1;
	}
	if (b64) {
		in->data = base64_decode(content->valuestring, n, &in->len);
		if (!in->data) {
			snprintf(msg, len,
			         errno == ENOMEM ? "The server is out of memory; try again later."
			                         : "files[%d] \"%s\": content is not valid base64 "
			                           "(RFC 4648, with padding).",
			         i, shown);
			return -1;
		}
	} else {
		in->len = n;
		if (!(in->data = malloc(n + 1))) {
			snprintf(msg, len, "The server is out of memory; try again later.");
			return -1;
		}
		memcpy(in->data, content->valuestring, n);
		in->data[n] = '\0';
	}
	*bytes += in->len;
	if (*bytes > WS_IN_MAX_BYTES) {
		snprintf(msg, len,
		         "`files` hold more than %u bytes (decoded); the limit is %u. Send large "
		         "data in several calls of a session, or generate it in the sandbox.",
		         WS_IN_MAX_BYTES, WS_IN_MAX_BYTES);
		return -1;
	}
	return 0;
}

int mcp_files_parse(const cJSON *files, struct ws_inputs *in, char *msg, size_t len)
{
	memset(in, 0, sizeof *in);
	if (!cJSON_IsArray(files)) {
		snprintf(
		    msg, len,
		    "`files` must be an array of {\"path\", \"content\", \"encoding\"?} objects.");
		return -1;
	}
	int n = cJSON_GetArraySize(files);
	if (n > (int)WS_IN_MAX_FILES) {
		snprintf(msg, len, "`files` has %d entries; at most %u are accepted.", n,
		         WS_IN_MAX_FILES);
		return -1;
	}
	if (n == 0)
		return 0;
	if (!(in->v = calloc((size_t)n, sizeof *in->v))) {
		snprintf(msg, len, "The server is out of memory; try again later.");
		return -1;
	}
	int i = 0;
	for (const cJSON *f = files->child; f; f = f->next, i++) {
		in->n++;
		if (parse_one(f, i, &in->v[i], &in->bytes, msg, len) < 0) {
			ws_inputs_free(in);
			return -1;
		}
	}
	return 0;
}

/* ---- files out ----------------------------------------------------------- */

/* prefix + path, each byte outside [A-Za-z0-9._~/-] percent-encoded. */
static char *make_uri(const char *session, const char *path)
{
	size_t n = strlen(path), cap = sizeof URI_PREFIX + 80 + 3 * n;
	char *u = malloc(cap);
	if (!u)
		return NULL;
	size_t k = session ? (size_t)snprintf(u, cap, URI_PREFIX "%s/out/", session)
	                   : (size_t)snprintf(u, cap, "sandbox://run/out/");
	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("._~/-", *p))
			u[k++] = (char)*p;
		else
			k += (size_t)snprintf(u + k, cap - k, "%%%02X", *p);
	}
	u[k] = '\0';
	return u;
}

/* Text that JSON would blow up (control characters become \\u00XX, six
 * bytes each) goes as base64 instead, which costs 4/3. */
static bool cheap_as_json(const char *s, size_t n)
{
	size_t cost = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		cost += c == '"' || c == '\\' || c == '\n' || c == '\t' || c == '\r' ? 2
		        : c < 0x20                                                   ? 6
		                                                                     : 1;
	}
	return cost <= n + n / 3 + 16;
}

static enum ws_kind shown_kind(const struct ws_out *f)
{
	return f->kind == WS_TEXT && !cheap_as_json(f->data, f->len) ? WS_BLOB : f->kind;
}

static const char *const kind_names[] = { "image", "text", "blob", "link", "omitted" };

static void add_item(cJSON *content, const struct ws_out *f, const char *uri)
{
	cJSON *it = cJSON_CreateObject();
	char *b64 = NULL;
	enum ws_kind kind = shown_kind(f);
	switch (kind) {
	case WS_IMAGE:
		b64 = base64_encode(f->data, f->len);
		cJSON_AddStringToObject(it, "type", "image");
		cJSON_AddStringToObject(it, "data", b64 ? b64 : "");
		cJSON_AddStringToObject(it, "mimeType", f->mime);
		break;
	case WS_TEXT:
	case WS_BLOB: {
		cJSON_AddStringToObject(it, "type", "resource");
		cJSON *r = cJSON_AddObjectToObject(it, "resource");
		cJSON_AddStringToObject(r, "uri", uri);
		cJSON_AddStringToObject(r, "mimeType", f->mime);
		if (kind == WS_TEXT) {
			cJSON_AddStringToObject(r, "text", f->data);
		} else {
			b64 = base64_encode(f->data, f->len);
			cJSON_AddStringToObject(r, "blob", b64 ? b64 : "");
		}
		break;
	}
	case WS_LINK: {
		char *name = utf8_repair(f->path, strlen(f->path), NULL);
		cJSON_AddStringToObject(it, "type", "resource_link");
		cJSON_AddStringToObject(it, "uri", uri);
		cJSON_AddStringToObject(it, "name", name ? name : "file");
		cJSON_AddStringToObject(it, "mimeType", f->mime);
		cJSON_AddNumberToObject(it, "size", (double)f->size);
		free(name);
		break;
	}
	case WS_OMITTED:
		cJSON_Delete(it);
		return;
	}
	free(b64);
	cJSON_AddItemToArray(content, it);
}

void mcp_files_result(cJSON *content, cJSON *sc, const struct ws_outputs *o, const char *session)
{
	if (o->n == 0 && o->not_listed == 0)
		return;
	cJSON *list = cJSON_AddArrayToObject(sc, "files");
	/* Sized for every line in full (names repaired to UTF-8 may be 3x
	 * their bytes): the summary is never cut, so never inside a
	 * character. */
	size_t cap = 300, n = 0;
	for (size_t i = 0; i < o->n; i++)
		cap += 3 * strlen(o->v[i].path) + (o->v[i].why ? strlen(o->v[i].why) : 0) + 96;
	char *text = malloc(cap);
	if (text)
		n = (size_t)snprintf(text, cap, "[files in /workspace/out%s:",
		                     session ? " changed by this call" : "");
	for (size_t i = 0; i < o->n; i++) {
		const struct ws_out *f = &o->v[i];
		char *uri = make_uri(session, f->path);
		char *name = utf8_repair(f->path, strlen(f->path), NULL);
		if (!uri || !name) {
			free(uri);
			free(name);
			continue;
		}
		add_item(content, f, uri);
		cJSON *e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "path", name);
		cJSON_AddNumberToObject(e, "size", (double)f->size);
		if (f->mime)
			cJSON_AddStringToObject(e, "mime_type", f->mime);
		enum ws_kind kind = shown_kind(f);
		cJSON_AddStringToObject(e, "returned_as", kind_names[kind]);
		if (f->kind != WS_OMITTED && f->kind != WS_IMAGE)
			cJSON_AddStringToObject(e, "uri", uri);
		if (f->why)
			cJSON_AddStringToObject(e, "reason", f->why);
		cJSON_AddItemToArray(list, e);
		if (text && n < cap) {
			static const char *const how[] = { "returned as an image",
				                           "returned as text",
				                           "returned embedded (base64)",
				                           "kept: read it with resources/read",
				                           "not returned" };
			n += (size_t)snprintf(text + n, cap - n, "%s %s (%llu bytes): %s%s%s",
			                      i ? ";" : "", name, (unsigned long long)f->size,
			                      how[kind], f->why ? ", " : "", f->why ? f->why : "");
		}
		free(uri);
		free(name);
	}
	if (text && n < cap && o->not_listed)
		n += (size_t)snprintf(text + n, cap - n,
		                      "%s %zu%s more not looked at (at most %u files, %u "
		                      "directories deep, 4096 entries)",
		                      o->n ? ";" : "", o->not_listed, o->cut ? " or" : "",
		                      WS_OUT_MAX_FILES, WS_OUT_MAX_DEPTH);
	if (text && n < cap)
		snprintf(text + n, cap - n, "]");
	if (text) {
		cJSON *t = cJSON_CreateObject();
		cJSON_AddStringToObject(t, "type", "text");
		cJSON_AddStringToObject(t, "text", text);
		cJSON_AddItemToArray(content, t);
	}
	free(text);
	if (o->not_listed)
		cJSON_AddNumberToObject(sc, "files_not_listed", (double)o->not_listed);
}

/* ---- resources ----------------------------------------------------------- */

/* Split sandbox://sessions/<id>/out/<path> (path percent-decoded into
 * path, of len bytes). */
static bool parse_uri(const char *uri, char *id, size_t idlen, char *path, size_t len)
{
	if (strncmp(uri, URI_PREFIX, sizeof URI_PREFIX - 1))
		return false;
	const char *s = uri + sizeof URI_PREFIX - 1, *slash = strchr(s, '/');
	if (!slash || (size_t)(slash - s) >= idlen || slash == s || strncmp(slash, "/out/", 5))
		return false;
	memcpy(id, s, (size_t)(slash - s));
	id[slash - s] = '\0';
	size_t k = 0;
	for (const char *p = slash + 5; *p; p++) {
		if (k + 1 >= len)
			return false;
		if (*p == '%') {
			int a = jsonraw_hexval(p[1]), b = a < 0 ? -1 : jsonraw_hexval(p[2]);
			if (b < 0 || (a == 0 && b == 0))
				return false;
			path[k++] = (char)(a << 4 | b);
			p += 2;
		} else {
			path[k++] = *p;
		}
	}
	path[k] = '\0';
	return k > 0;
}

cJSON *mcp_files_read(const cJSON *params, unsigned long owner, int *code, char *msg, size_t len)
{
	const cJSON *uri = cJSON_GetObjectItemCaseSensitive(params, "uri");
	char id[65], path[WS_PATH_MAX + 1];
	if (!cJSON_IsString(uri)) {
		*code = RPC_INVALID_PARAMS;
		snprintf(msg, len, "resources/read: params.uri must be a string");
		return NULL;
	}
	if (!parse_uri(uri->valuestring, id, sizeof id, path, sizeof path)) {
		*code = RESOURCE_NOT_FOUND;
		snprintf(msg, len,
		         "Resource not found: readable URIs are " URI_PREFIX
		         "<session>/out/<path>, as a run's resource_link gives them");
		return NULL;
	}
	char *data = NULL;
	size_t n = 0;
	uint64_t size = 0;
	const char *mime = NULL;
	struct err e = { 0 };
	if (session_read_out(owner, id, path, MCP_RESOURCE_READ_MAX, &data, &n, &size, &mime, &e) <
	    0) {
		char shown[sizeof e.msg];
		utf8_clip(shown, sizeof shown, e.msg); /* it holds the path's bytes */
		*code = RESOURCE_NOT_FOUND;
		snprintf(msg, len, "Resource not found: %s", shown);
		utf8_fix_cut(msg);
		return NULL;
	}
	if (size > n) {
		free(data);
		*code = RPC_INVALID_PARAMS;
		snprintf(msg, len,
		         "The file is %llu bytes; resources/read returns at most %u. Make it "
		         "smaller in the session (split or compress it).",
		         (unsigned long long)size, MCP_RESOURCE_READ_MAX);
		return NULL;
	}
	cJSON *r = cJSON_CreateObject();
	cJSON *contents = cJSON_AddArrayToObject(r, "contents");
	cJSON *c = cJSON_CreateObject();
	cJSON_AddStringToObject(c, "uri", uri->valuestring);
	cJSON_AddStringToObject(c, "mimeType", mime);
	if (utf8_valid(data, n) && cheap_as_json(data, n)) {
		cJSON_AddStringToObject(c, "text", data);
	} else {
		char *b64 = base64_encode(data, n);
		cJSON_AddStringToObject(c, "blob", b64 ? b64 : "");
		free(b64);
	}
	cJSON_AddItemToArray(contents, c);
	free(data);
	return r;
}

static void list_one(void *ctx, const char *id, const char *path, uint64_t size)
{
	cJSON *arr = ctx;
	char *uri = make_uri(id, path);
	char *name = utf8_repair(path, strlen(path), NULL);
	if (uri && name) {
		cJSON *r = cJSON_CreateObject();
		cJSON_AddStringToObject(r, "uri", uri);
		cJSON_AddStringToObject(r, "name", name);
		cJSON_AddNumberToObject(r, "size", (double)size);
		cJSON_AddItemToArray(arr, r);
	}
	free(uri);
	free(name);
}

cJSON *mcp_files_list(unsigned long owner)
{
	cJSON *r = cJSON_CreateObject();
	cJSON *arr = cJSON_AddArrayToObject(r, "resources");
	session_each_out(owner, list_one, arr);
	return r;
}
