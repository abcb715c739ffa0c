/* parse.c — see parse.h.
 *
 * Two passes: cJSON builds a tree, then one function per JSON object checks
 * its keys (unknown, duplicate, missing — in that order) and its values (in
 * schema order) and fills the model. The first problem found is reported;
 * the order is fixed, so the message for a given input is too.
 */
#include "parse.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cstr.h"

const char *const cg_limit_keys[CG_N_LIMITS] = {
	"timeout_seconds",  "memory_mb",    "max_processes",    "max_open_files",
	"max_file_size_mb", "workspace_mb", "max_output_bytes",
};

const char *const cg_session_keys[CG_N_SESSION] = {
	"idle_timeout_seconds",
	"max_lifetime_seconds",
	"max_sessions",
};

/* cJSON decodes the escape \u0000 into a NUL byte inside valuestring, which
 * silently cuts the string short: the decoded length is lost. Before the real
 * parse, every \u0000 escape is rewritten to this byte, which never occurs in
 * UTF-8 and which a raw input byte cannot fake (raw 0xFF is rejected first),
 * so the string check can name the JSON path of the NUL. */
#define NUL_SENTINEL '\xff'

/* ---- JSON paths and errors -------------------------------------------- */

/* A JSON path as a chain of stack frames, innermost first: an object member
 * when key is set, else an array element. A NULL path is the top level. */
struct jpath {
	const struct jpath *up;
	const char *key; /* always one of our schema's names, never input */
	size_t index;
};

static size_t jpath_put(const struct jpath *p, char *out, size_t outsz, size_t o)
{
	int n;

	if (p->up)
		o = jpath_put(p->up, out, outsz, o);
	if (o >= outsz)
		return o;
	if (p->key)
		n = snprintf(out + o, outsz - o, "%s%s", p->up ? "." : "", p->key);
	else
		n = snprintf(out + o, outsz - o, "[%zu]", p->index);
	return n < 0 ? outsz : o + (size_t)n;
}

static int fail(struct cg_err *e, const struct jpath *p, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct cg_err *e, const struct jpath *p, const char *fmt, ...)
{
	char where[192] = "top level";
	va_list ap;
	int n;

	if (p)
		jpath_put(p, where, sizeof where, 0);
	n = snprintf(e->msg, sizeof e->msg, "env.json: %s: ", where);
	if (n < 0 || (size_t)n >= sizeof e->msg)
		return -1;
	va_start(ap, fmt);
	vsnprintf(e->msg + n, sizeof e->msg - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

static int fail_oom(struct cg_err *e)
{
	snprintf(e->msg, sizeof e->msg, "nsm-codegen: out of memory");
	return -1;
}

/* Line and byte column (both from 1) of offset off in text. */
static void text_position(const char *text, size_t off, size_t *line, size_t *col)
{
	size_t i, start = 0;

	*line = 1;
	for (i = 0; i < off; i++) {
		if (text[i] == '\n') {
			(*line)++;
			start = i + 1;
		}
	}
	*col = off - start + 1;
}

static int fail_at(struct cg_err *e, const char *text, size_t off, const char *what)
{
	size_t line, col;

	text_position(text, off, &line, &col);
	snprintf(e->msg, sizeof e->msg, "env.json: line %zu, column %zu: %s", line, col, what);
	return -1;
}

static const char *json_type(const cJSON *j)
{
	if (!j)
		return "nothing";
	if (cJSON_IsString(j))
		return "string";
	if (cJSON_IsNumber(j))
		return "number";
	if (cJSON_IsBool(j))
		return "boolean";
	if (cJSON_IsNull(j))
		return "null";
	if (cJSON_IsArray(j))
		return "array";
	if (cJSON_IsObject(j))
		return "object";
	return "an invalid value";
}

/* ---- raw text ---------------------------------------------------------- */

/* Bytes no JSON text may hold raw: NUL (it would end cJSON's view of the
 * text) and 0xFF (never UTF-8; reserved for NUL_SENTINEL). */
static int check_raw_bytes(const char *text, size_t len, struct cg_err *e)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (text[i] == '\0')
			return fail_at(e, text, i, "NUL byte in the JSON text");
		if (text[i] == NUL_SENTINEL)
			return fail_at(e, text, i, "invalid UTF-8 (byte 0xff)");
	}
	return 0;
}

static int is_nul_escape(const char *p, size_t left)
{
	return left >= 6 && memcmp(p, "\\u0000", 6) == 0;
}

/* Copy syntactically valid JSON text, replacing each \u0000 escape inside a
 * string with NUL_SENTINEL. Sets *out to NULL when there is none. */
static int rewrite_nul_escapes(const char *text, size_t len, char **out, size_t *outlen)
{
	size_t i, o = 0;
	int in_string = 0, found = 0;
	char *copy;

	*out = NULL;
	for (i = 0; i + 6 <= len && !found; i++)
		found = is_nul_escape(text + i, len - i);
	if (!found)
		return 0;
	copy = malloc(len + 1);
	if (!copy)
		return -1;
	for (i = 0; i < len;) {
		if (!in_string) {
			in_string = text[i] == '"';
			copy[o++] = text[i++];
		} else if (is_nul_escape(text + i, len - i)) {
			copy[o++] = NUL_SENTINEL;
			i += 6;
		} else if (text[i] == '\\' && i + 1 < len) {
			copy[o++] = text[i++];
			copy[o++] = text[i++];
		} else {
			in_string = text[i] != '"';
			copy[o++] = text[i++];
		}
	}
	copy[o] = '\0';
	*out = copy;
	*outlen = o;
	return 0;
}

static int parse_json(const char *text, size_t len, cJSON **out, struct cg_err *e)
{
	const char *end = NULL;
	char *copy;
	size_t copylen;

	/* cJSON only accepts "nothing after the value" when it finds a NUL
	 * within the length it is given, hence len + 1 (text[len] is '\0'). */
	*out = cJSON_ParseWithLengthOpts(text, len + 1, &end, 1);
	if (!*out) {
		if (!end || end < text || end > text + len)
			end = text;
		return fail_at(e, text, (size_t)(end - text), "not valid JSON");
	}
	if (rewrite_nul_escapes(text, len, &copy, &copylen) < 0) {
		cJSON_Delete(*out);
		*out = NULL;
		return fail_oom(e);
	}
	if (!copy)
		return 0;
	/* Only string contents changed, so this parse succeeds unless memory
	 * runs out; positions in errors above refer to the original text. */
	cJSON_Delete(*out);
	*out = cJSON_ParseWithLengthOpts(copy, copylen + 1, NULL, 1);
	free(copy);
	return *out ? 0 : fail_oom(e);
}

/* ---- typed values ------------------------------------------------------ */

/* A semantic check on a string: NULL when fine, else what it must be. */
typedef const char *(*str_check)(const char *s);

static int want_string(const cJSON *j, const struct jpath *p, str_check check, const char **out,
                       struct cg_err *e)
{
	const char *s, *problem;
	size_t len, bad;
	char q[96];

	if (!cJSON_IsString(j) || !j->valuestring)
		return fail(e, p, "must be a string, got %s", json_type(j));
	s = j->valuestring;
	len = strlen(s);
	if (memchr(s, NUL_SENTINEL, len))
		return fail(e, p, "must not contain NUL (\\u0000), which a C string cannot hold");
	bad = cstr_utf8_check((const unsigned char *)s, len);
	if (bad != len)
		return fail(e, p, "must be valid UTF-8, got byte 0x%02x at offset %zu",
		            (unsigned char)s[bad], bad);
	if (len > CG_MAX_STRING)
		return fail(e, p, "must be at most %d bytes, got %zu", CG_MAX_STRING, len);
	problem = check ? check(s) : NULL;
	if (problem) {
		cstr_quote(q, sizeof q, s, len);
		return fail(e, p, "%s, got %s", problem, q);
	}
	*out = s;
	return 0;
}

static int want_u32(const cJSON *j, const struct jpath *p, uint32_t *out, struct cg_err *e)
{
	static const char what[] = "must be a positive integer below 2^32";
	double d;

	if (!cJSON_IsNumber(j))
		return fail(e, p, "%s, got %s", what, json_type(j));
	d = j->valuedouble;
	/* The range test comes first so that the cast below is defined;
	 * NaN fails it too. */
	if (!(d >= 1.0 && d <= 4294967295.0) || (double)(uint32_t)d != d)
		return fail(e, p, "%s, got %.15g", what, d);
	*out = (uint32_t)d;
	return 0;
}

/* Spares kept (csrc/pool.h POOL_SPARES_MAX; nix/config.nix warmPoolMax). */
static int want_warm_pool(const cJSON *j, const struct jpath *p, uint32_t *out, struct cg_err *e)
{
	double d;

	if (!cJSON_IsNumber(j))
		return fail(e, p, "must be an integer from 0 to %d, got %s", CG_MAX_WARM_POOL,
		            json_type(j));
	d = j->valuedouble;
	if (!(d >= 0.0 && d <= CG_MAX_WARM_POOL) || (double)(uint32_t)d != d)
		return fail(e, p, "must be an integer from 0 to %d, got %.15g", CG_MAX_WARM_POOL,
		            d);
	*out = (uint32_t)d;
	return 0;
}

/* A size in bytes: an integer from 0 to 2^53 (exact in a JSON double). */
static int want_size(const cJSON *j, const struct jpath *p, uint64_t *out, struct cg_err *e)
{
	static const char what[] = "must be an integer from 0 to 2^53";
	double d;

	if (!cJSON_IsNumber(j))
		return fail(e, p, "%s, got %s", what, json_type(j));
	d = j->valuedouble;
	if (!(d >= 0.0 && d <= 9007199254740992.0) || (double)(uint64_t)d != d)
		return fail(e, p, "%s, got %.17g", what, d);
	*out = (uint64_t)d;
	return 0;
}

static int want_bool(const cJSON *j, const struct jpath *p, int *out, struct cg_err *e)
{
	if (!cJSON_IsBool(j))
		return fail(e, p, "must be true or false, got %s", json_type(j));
	*out = cJSON_IsTrue(j) ? 1 : 0;
	return 0;
}

static size_t json_count(const cJSON *arr)
{
	size_t n = 0;
	const cJSON *c;

	for (c = arr->child; c; c = c->next)
		n++;
	return n;
}

/* Array of 1..max strings; the first element gets check0, the rest check. */
static bool empty_array(const cJSON *j)
{
	return cJSON_IsArray(j) && json_count(j) == 0;
}

static int want_strv(const cJSON *j, const struct jpath *p, size_t max, str_check check0,
                     str_check check, struct cg_strv *out, struct cg_err *e)
{
	const cJSON *c;
	size_t n, i = 0;

	if (!cJSON_IsArray(j))
		return fail(e, p, "must be an array of strings, got %s", json_type(j));
	n = json_count(j);
	if (n == 0)
		return fail(e, p, "must not be empty");
	if (n > max)
		return fail(e, p, "must have at most %zu entries, got %zu", max, n);
	out->v = calloc(n, sizeof *out->v);
	if (!out->v)
		return fail_oom(e);
	for (c = j->child; c; c = c->next, i++) {
		struct jpath ep = { p, NULL, i };
		if (want_string(c, &ep, i == 0 ? check0 : check, &out->v[i], e) < 0)
			return -1;
	}
	out->n = n;
	return 0;
}

/* ---- semantic string checks -------------------------------------------- */

static int all_in(const char *s, const char *set, size_t min, size_t max)
{
	size_t n = strlen(s);

	return n >= min && n <= max && strspn(s, set) == n;
}

#define ALNUM "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

static const char *check_name(const char *s)
{
	return all_in(s, ALNUM "_-", 1, 64) ? NULL : "must match [A-Za-z0-9_-]{1,64}";
}

/* The version and the hash go into the header's first-line comment, so they
 * are held to characters that cannot end or nest a comment. */
static const char *check_version(const char *s)
{
	return all_in(s, ALNUM ".+-", 1, 64) ? NULL : "must match [0-9A-Za-z.+-]{1,64}";
}

static const char *check_hash(const char *s)
{
	return all_in(s, "0123456789abcdef", 64, 64) ? NULL
	                                             : "must be 64 lowercase hex digits (sha256)";
}

static const char *check_generator_input(const char *s)
{
	return strcmp(s, "env.json") == 0 ? NULL : "must be \"env.json\"";
}

static const char *check_log_level(const char *s)
{
	static const char *const levels[] = { "debug", "info", "warning", "error" };
	size_t i;

	for (i = 0; i < sizeof levels / sizeof levels[0]; i++)
		if (strcmp(s, levels[i]) == 0)
			return NULL;
	return "must be one of debug, info, warning, error";
}

static const struct {
	const char *name;
	const char *enum_name;
} interps[] = {
	{ "bash", "ENV_INTERP_BASH" },
	{ "python", "ENV_INTERP_PYTHON" },
	{ "node", "ENV_INTERP_NODE" },
};

static const char *interp_enum(const char *s)
{
	size_t i;

	for (i = 0; i < sizeof interps / sizeof interps[0]; i++)
		if (strcmp(s, interps[i].name) == 0)
			return interps[i].enum_name;
	return NULL;
}

static const char *check_interp(const char *s)
{
	return interp_enum(s) ? NULL : "must be one of bash, python, node";
}

/* Absolute, and normalized: these paths are bind-mounted into the sandbox,
 * where "/", "//" or ".." would expose more of the host than was meant. */
static const char *check_abs_path(const char *s)
{
	const char *c = s;

	if (s[0] != '/')
		return "must be an absolute path";
	if (s[1] == '\0')
		return "must not be the root directory";
	while (*c == '/') {
		size_t n = strcspn(c + 1, "/");
		if (n == 0 || (n == 1 && c[1] == '.') || (n == 2 && c[1] == '.' && c[2] == '.'))
			return "must be a normalized absolute path (no empty, '.' or '..' "
			       "components)";
		c += 1 + n;
	}
	return NULL;
}

/* The project path: "" (none), a normalized absolute path, or a relative
 * one ("." or "sub/dir": resolved by the server against its working
 * directory at start). */
static const char *check_project_path(const char *s)
{
	if (s[0] == '\0')
		return NULL;
	if (s[0] == '/')
		return check_abs_path(s) ? "must be empty, relative, or a normalized absolute path"
		                         : NULL;
	if (strstr(s, "//") || strchr(s, '\n'))
		return "must be empty, relative (\".\", \"sub/dir\"), or a normalized absolute "
		       "path";
	return NULL;
}

/* ---- objects ----------------------------------------------------------- */

static size_t key_index(const char *const *keys, size_t n, const char *key)
{
	size_t i;

	for (i = 0; key && i < n; i++)
		if (strcmp(keys[i], key) == 0)
			return i;
	return n;
}

/* j must be an object holding each of keys exactly once and nothing else. */
static int check_object(const cJSON *j, const struct jpath *p, const char *const *keys, size_t n,
                        struct cg_err *e)
{
	unsigned long seen = 0;
	const cJSON *c;
	char q[96];
	size_t i;

	if (!cJSON_IsObject(j))
		return fail(e, p, "must be an object, got %s", json_type(j));
	for (c = j->child; c; c = c->next) {
		i = key_index(keys, n, c->string);
		if (i < n && !(seen & (1UL << i))) {
			seen |= 1UL << i;
			continue;
		}
		cstr_quote(q, sizeof q, c->string ? c->string : "",
		           c->string ? strlen(c->string) : 0);
		if (i < n)
			return fail(e, p, "duplicate key %s", q);
		return fail(e, p, "unknown key %s", q);
	}
	for (i = 0; i < n; i++)
		if (!(seen & (1UL << i)))
			return fail(e, p, "missing key \"%s\"", keys[i]);
	return 0;
}

#define NKEYS(a) (sizeof(a) / sizeof((a)[0]))

static const cJSON *member(const cJSON *obj, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(obj, key);
}

static int member_string(const cJSON *obj, const struct jpath *up, const char *key, str_check check,
                         const char **out, struct cg_err *e)
{
	struct jpath p = { up, key, 0 };

	return want_string(member(obj, key), &p, check, out, e);
}

/* An object whose members are all positive 32-bit integers. */
static int parse_u32_object(const cJSON *j, const struct jpath *p, const char *const *keys,
                            size_t n, uint32_t *out, struct cg_err *e)
{
	size_t i;

	if (check_object(j, p, keys, n, e) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		struct jpath mp = { p, keys[i], 0 };
		if (want_u32(member(j, keys[i]), &mp, &out[i], e) < 0)
			return -1;
	}
	return 0;
}

/* ---- duplicates -------------------------------------------------------- */

struct dup_ent {
	const char *s;
	size_t i;
};

static int dup_cmp(const void *a, const void *b)
{
	const struct dup_ent *x = a, *y = b;
	int c = strcmp(x->s, y->s);

	if (c)
		return c;
	return (x->i > y->i) - (x->i < y->i);
}

/* Sort (value, index) pairs so duplicates are found in O(n log n). Reports
 * the repeat that comes first in the input, and where the value first was.
 * Returns 1 when found, 0 when all differ, -1 when out of memory. */
static int find_duplicate(const char *const *v, size_t n, size_t *first, size_t *dup)
{
	struct dup_ent *ents;
	size_t i, g = 0;
	int found = 0;

	if (n < 2)
		return 0;
	ents = calloc(n, sizeof *ents);
	if (!ents)
		return -1;
	for (i = 0; i < n; i++) {
		ents[i].s = v[i];
		ents[i].i = i;
	}
	qsort(ents, n, sizeof *ents, dup_cmp);
	for (i = 1; i <= n; i++) {
		if (i < n && strcmp(ents[g].s, ents[i].s) == 0)
			continue;
		if (i - g >= 2 && (!found || ents[g + 1].i < *dup)) {
			*first = ents[g].i;
			*dup = ents[g + 1].i;
			found = 1;
		}
		g = i;
	}
	free(ents);
	return found;
}

/* ---- the schema -------------------------------------------------------- */

/* A non-empty array of at most max strings that pass check, all distinct;
 * a repeat is "duplicate <what> "x" (first at <field>[i])". */
static int want_distinct_strv(const cJSON *j, const struct jpath *p, size_t max, str_check check,
                              const char *what, const char *field, struct cg_strv *out,
                              struct cg_err *e)
{
	size_t first, dup;
	int r;
	char q[160];

	if (want_strv(j, p, max, check, check, out, e) < 0)
		return -1;
	r = find_duplicate(out->v, out->n, &first, &dup);
	if (r < 0)
		return fail_oom(e);
	if (r > 0) {
		struct jpath ep = { p, NULL, dup };
		cstr_quote(q, sizeof q, out->v[dup], strlen(out->v[dup]));
		return fail(e, &ep, "duplicate %s %s (first at %s[%zu])", what, q, field, first);
	}
	return 0;
}

static int parse_closure(const cJSON *j, const struct jpath *p, struct cg_strv *out,
                         struct cg_err *e)
{
	return want_distinct_strv(j, p, CG_MAX_CLOSURE, check_abs_path, "store path", "closure",
	                          out, e);
}

static const char *const env_keys[] = {
	"name",      "interpreter_type", "description", "root",   "sh",      "env_bin",
	"argv",      "agent_argv",       "network",     "limits", "closure", "closure_bytes",
	"warm_pool",
};

static int parse_env(const cJSON *j, const struct jpath *p, struct cg_env *env, struct cg_err *e)
{
	struct jpath argv_p = { p, "argv", 0 }, agent_p = { p, "agent_argv", 0 },
	             net_p = { p, "network", 0 }, lim_p = { p, "limits", 0 },
	             clo_p = { p, "closure", 0 }, clb_p = { p, "closure_bytes", 0 },
	             wp_p = { p, "warm_pool", 0 };

	if (check_object(j, p, env_keys, NKEYS(env_keys), e) < 0 ||
	    member_string(j, p, "name", check_name, &env->name, e) < 0 ||
	    member_string(j, p, "interpreter_type", check_interp, &env->interpreter_type, e) < 0 ||
	    member_string(j, p, "description", NULL, &env->description, e) < 0 ||
	    member_string(j, p, "root", check_abs_path, &env->root, e) < 0 ||
	    member_string(j, p, "sh", check_abs_path, &env->sh, e) < 0 ||
	    member_string(j, p, "env_bin", check_abs_path, &env->env_bin, e) < 0 ||
	    want_strv(member(j, "argv"), &argv_p, CG_MAX_ARGV, check_abs_path, NULL, &env->argv,
	              e) < 0 ||
	    /* Empty: the interpreter cannot host the session agent (no sessions). */
	    (!empty_array(member(j, "agent_argv")) &&
	     want_strv(member(j, "agent_argv"), &agent_p, CG_MAX_ARGV, check_abs_path, NULL,
	               &env->agent_argv, e) < 0) ||
	    want_bool(member(j, "network"), &net_p, &env->network, e) < 0 ||
	    want_warm_pool(member(j, "warm_pool"), &wp_p, &env->warm_pool, e) < 0 ||
	    parse_u32_object(member(j, "limits"), &lim_p, cg_limit_keys, CG_N_LIMITS, env->limits,
	                     e) < 0 ||
	    parse_closure(member(j, "closure"), &clo_p, &env->closure, e) < 0 ||
	    want_size(member(j, "closure_bytes"), &clb_p, &env->closure_bytes, e) < 0)
		return -1;
	env->interp_enum = interp_enum(env->interpreter_type);
	return 0;
}

static int check_env_names(const struct cg_spec *s, const struct jpath *p, struct cg_err *e)
{
	const char **names;
	size_t i, first, dup;
	int r;

	names = calloc(s->n_envs, sizeof *names);
	if (!names)
		return fail_oom(e);
	for (i = 0; i < s->n_envs; i++)
		names[i] = s->envs[i].name;
	r = find_duplicate(names, s->n_envs, &first, &dup);
	free(names);
	if (r < 0)
		return fail_oom(e);
	if (r > 0) {
		struct jpath ep = { p, NULL, dup }, np = { &ep, "name", 0 };
		/* Names are [A-Za-z0-9_-] by now: safe to print unquoted-escaped. */
		return fail(e, &np,
		            "duplicate environment name \"%s\" (first at environments[%zu])",
		            s->envs[dup].name, first);
	}
	return 0;
}

static int parse_envs(const cJSON *j, const struct jpath *p, struct cg_spec *s, struct cg_err *e)
{
	const cJSON *c;
	size_t n, i = 0;

	if (!cJSON_IsArray(j))
		return fail(e, p, "must be an array, got %s", json_type(j));
	n = json_count(j);
	if (n == 0)
		return fail(e, p, "must not be empty");
	if (n > CG_MAX_ENVS)
		return fail(e, p, "must hold at most %d environments, got %zu", CG_MAX_ENVS, n);
	s->envs = calloc(n, sizeof *s->envs);
	if (!s->envs)
		return fail_oom(e);
	s->n_envs = n;
	for (c = j->child; c; c = c->next, i++) {
		struct jpath ep = { p, NULL, i };
		if (parse_env(c, &ep, &s->envs[i], e) < 0)
			return -1;
	}
	return check_env_names(s, p, e);
}

static const char *const top_keys[] = {
	"generator_input", "version", "config_hash", "daemon", "project", "session", "environments",
};
static const char *const daemon_keys[] = { "log_level" };
static const char *const project_keys[] = { "path", "mount_point", "inherit_env" };

/* Names the sandbox sets itself (csrc/jail.c) or that would change how its
 * programs are loaded: not taken from the server's environment. */
static const char *const reserved_vars[] = {
	"PATH",
	"HOME",
	"TMPDIR",
	"USER",
	"LOGNAME",
	"SHELL",
	"LANG",
	"TERM",
	"NO_COLOR",
	"PYTHONDONTWRITEBYTECODE",
	"PYTHONUNBUFFERED",
	"NSM_AGENT_TOKEN",
	"LD_PRELOAD",
	"LD_LIBRARY_PATH",
	"LD_AUDIT",
};

static const char *check_var_name(const char *s)
{
	if (!all_in(s, ALNUM "_", 1, 128) || (s[0] >= '0' && s[0] <= '9'))
		return "must be an environment variable name ([A-Za-z_][A-Za-z0-9_]{0,127})";
	for (size_t i = 0; i < NKEYS(reserved_vars); i++)
		if (strcmp(s, reserved_vars[i]) == 0)
			return "is set by the sandbox itself (or changes how its programs load): "
			       "not inherited";
	return NULL;
}

/* project.inherit_env: at most CG_MAX_INHERIT distinct names, maybe none. */
static int parse_inherit_env(const cJSON *j, const struct jpath *p, struct cg_strv *out,
                             struct cg_err *e)
{
	if (empty_array(j))
		return 0;
	return want_distinct_strv(j, p, CG_MAX_INHERIT, check_var_name, "name", "inherit_env", out,
	                          e);
}

static int parse_spec(const cJSON *root, struct cg_spec *s, struct cg_err *e)
{
	const char *generator_input;
	struct jpath daemon_p = { NULL, "daemon", 0 }, project_p = { NULL, "project", 0 },
	             session_p = { NULL, "session", 0 }, envs_p = { NULL, "environments", 0 },
	             inherit_p = { &project_p, "inherit_env", 0 };
	const cJSON *daemon, *project;

	if (check_object(root, NULL, top_keys, NKEYS(top_keys), e) < 0)
		return -1;
	daemon = member(root, "daemon");
	project = member(root, "project");
	if (member_string(root, NULL, "generator_input", check_generator_input, &generator_input,
	                  e) < 0 ||
	    member_string(root, NULL, "version", check_version, &s->version, e) < 0 ||
	    member_string(root, NULL, "config_hash", check_hash, &s->config_hash, e) < 0 ||
	    check_object(daemon, &daemon_p, daemon_keys, NKEYS(daemon_keys), e) < 0 ||
	    member_string(daemon, &daemon_p, "log_level", check_log_level, &s->log_level, e) < 0 ||
	    check_object(project, &project_p, project_keys, NKEYS(project_keys), e) < 0 ||
	    member_string(project, &project_p, "path", check_project_path, &s->project_path, e) <
	        0 ||
	    member_string(project, &project_p, "mount_point", check_abs_path, &s->project_mount,
	                  e) < 0 ||
	    parse_inherit_env(member(project, "inherit_env"), &inherit_p, &s->inherit_env, e) < 0 ||
	    parse_u32_object(member(root, "session"), &session_p, cg_session_keys, CG_N_SESSION,
	                     s->session, e) < 0 ||
	    parse_envs(member(root, "environments"), &envs_p, s, e) < 0)
		return -1;
	return 0;
}

static void spec_free(struct cg_spec *s)
{
	size_t i;

	for (i = 0; i < s->n_envs; i++) {
		free(s->envs[i].argv.v);
		free(s->envs[i].agent_argv.v);
		free(s->envs[i].closure.v);
	}
	free(s->envs);
	free(s->inherit_env.v);
	memset(s, 0, sizeof *s);
}

void cg_doc_free(struct cg_doc *doc)
{
	spec_free(&doc->spec);
	cJSON_Delete(doc->json);
	doc->json = NULL;
}

int cg_parse(const char *text, size_t len, struct cg_doc *doc, struct cg_err *e)
{
	memset(doc, 0, sizeof *doc);
	if (check_raw_bytes(text, len, e) < 0 || parse_json(text, len, &doc->json, e) < 0)
		return -1;
	if (parse_spec(doc->json, &doc->spec, e) < 0) {
		cg_doc_free(doc);
		return -1;
	}
	return 0;
}
