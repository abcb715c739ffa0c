/* parse.h — env.json text → validated struct cg_spec.
 *
 * Owns: the schema of env.json (docs/env-json.md), every validation rule and
 * its message, which names the JSON path ("env.json: environments[1].limits.
 * memory_mb: must be a positive integer below 2^32, got -5").
 * Must not: print, exit, or produce any C text (that is emit.c).
 */
#ifndef NSM_CODEGEN_PARSE_H
#define NSM_CODEGEN_PARSE_H

#include <stddef.h>

#include "spec.h"

struct cJSON;

struct cg_doc {
	struct cJSON *json; /* owns every string the spec points to */
	struct cg_spec spec;
};

/* Parse and validate len bytes of text, where text[len] must be '\0'. On success returns 0 and
 * fills doc, which the caller releases with cg_doc_free(). On failure returns -1, fills e, and
 * leaves nothing to release. */
int cg_parse(const char *text, size_t len, struct cg_doc *doc, struct cg_err *e);
void cg_doc_free(struct cg_doc *doc);

#endif
