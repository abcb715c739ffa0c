/* Unit tests for csrc/jsonraw.c: number texts, U+0000, lone surrogates. */
#include <stdlib.h>
#include <string.h>

#include "jsonraw.h"
#include "tap.h"

/* Scan a copy of s; return the copy (rewritten in place). */
static char *scan(const char *s, struct jsonraw *r)
{
	char *c = strdup(s);
	if (!c || jsonraw_scan(c, strlen(c), r) < 0)
		abort();
	return c;
}

static int tok_is(const struct jsonraw *r, const char *s, size_t k, const char *want)
{
	return k < r->nums && r->num_len[k] == strlen(want) &&
	       memcmp(s + r->num_start[k], want, strlen(want)) == 0;
}

int main(void)
{
	struct jsonraw r;
	char *s = scan(
	    "{\"id\":9007199254740993,\"a\":[0.1,-2e+3],\"s\":\"x12 \\\"7\\\" 3\",\"t\":true}", &r);
	TAP_OK(r.nums == 3, "three numbers, none from inside strings or true (%zu)", r.nums);
	TAP_OK(tok_is(&r, s, 0, "9007199254740993") && tok_is(&r, s, 1, "0.1") &&
	           tok_is(&r, s, 2, "-2e+3"),
	       "their source texts, in order");
	TAP_OK(!r.has_nul && r.surrogates == 0, "no U+0000, no surrogate");

	cJSON *root = cJSON_Parse(s);
	cJSON *id = cJSON_GetObjectItem(root, "id");
	cJSON *a1 = cJSON_GetArrayItem(cJSON_GetObjectItem(root, "a"), 1);
	cJSON *targets[] = { id, a1 };
	TAP_OK(jsonraw_attach(&r, s, strlen(s), root, targets, 2) == 0, "attach");
	TAP_OK(strcmp(jsonraw_number_text(id), "9007199254740993") == 0, "the id keeps its digits");
	TAP_OK(strcmp(jsonraw_number_text(a1), "-2e+3") == 0,
	       "the second target, matched by position");
	TAP_OK(jsonraw_number_text(cJSON_GetArrayItem(cJSON_GetObjectItem(root, "a"), 0)) == NULL,
	       "numbers not asked for get nothing");
	cJSON *dup = cJSON_Duplicate(id, 1);
	TAP_OK(dup && strcmp(jsonraw_number_text(dup), "9007199254740993") == 0,
	       "a duplicate keeps the text");
	cJSON_Delete(dup);
	cJSON_Delete(root);
	jsonraw_free(&r);
	free(s);

	/* A mismatch (the text is not the one cJSON parsed) attaches nothing. */
	s = scan("[1,2]", &r);
	root = cJSON_Parse("[1]");
	cJSON *one = cJSON_GetArrayItem(root, 0);
	TAP_OK(jsonraw_attach(&r, s, strlen(s), root, &one, 1) < 0 && !jsonraw_number_text(one),
	       "a count mismatch is refused");
	/* Only the numbers before `end` count (trailing data after a value). */
	TAP_OK(jsonraw_attach(&r, s, 2, root, &one, 1) == 0 &&
	           strcmp(jsonraw_number_text(one), "1") == 0,
	       "tokens past the first value are not counted");
	cJSON_Delete(root);
	jsonraw_free(&r);
	free(s);

	s = scan("{\"c\":\"a\\u0000b\"}", &r);
	TAP_OK(r.has_nul, "\\u0000 in a string is seen");
	jsonraw_free(&r);
	free(s);
	s = scan("{\"c\":\"a\\\\u0000b\"}", &r);
	TAP_OK(!r.has_nul, "an escaped backslash before u0000 is text, not U+0000");
	jsonraw_free(&r);
	free(s);

	s = scan("[\"\\ud800\",\"\\uDC01x\",\"\\ud83d\\ude00\",\"\\ud800\\u0041\",\"\\ud800\"]",
	         &r);
	TAP_OK(r.surrogates == 4, "four lone surrogates (%zu)", r.surrogates);
	TAP_OK(
	    strcmp(
	        s,
	        "[\"\\ufffd\",\"\\ufffdx\",\"\\ud83d\\ude00\",\"\\ufffd\\u0041\",\"\\ufffd\"]") ==
	        0,
	    "replaced by \\ufffd in place; the pair is kept: %s", s);
	root = cJSON_Parse(s);
	TAP_OK(root != NULL, "cJSON then parses it");
	cJSON_Delete(root);
	jsonraw_free(&r);
	free(s);

	/* Truncated escapes at the end of the text are left alone. */
	s = scan("\"\\ud8", &r);
	TAP_OK(r.surrogates == 0 && !r.has_nul, "a truncated escape is not read past the end");
	jsonraw_free(&r);
	free(s);
	return TAP_DONE();
}
