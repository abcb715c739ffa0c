/* jsonraw.h — what cJSON loses of a JSON text, read from the raw bytes.
 *
 * Owns: one pass over a message line that (1) finds the source text of every
 * number (cJSON keeps a double: 9007199254740993 would be echoed as ...992,
 * 0.1 as 0.10000000000000001), (2) notices strings holding U+0000 (cJSON
 * keeps C strings, so "a\u0000b" silently becomes "a"), and (3) replaces
 * escapes of lone UTF-16 surrogates ("\ud800", which Python's json module
 * writes) by "\ufffd", which cJSON would otherwise refuse as a whole.
 * Must not: parse JSON into values (cJSON does) or decide what to answer.
 */
#ifndef NSM_JSONRAW_H
#define NSM_JSONRAW_H

#include <stdbool.h>
#include <stddef.h>
#include <cjson/cJSON.h>

struct jsonraw {
	size_t *num_start; /* byte offsets of the number tokens, in text order */
	size_t *num_len;
	size_t nums, nums_cap;
	bool has_nul;      /* some string holds \u0000 */
	size_t surrogates; /* lone-surrogate escapes replaced in place */
};

/* Scan s[0..n) (a line, not yet known to be valid JSON). Lone-surrogate
 * escapes are rewritten in s (same length). Returns 0, or -1 when out of
 * memory (r is then empty). */
int jsonraw_scan(char *s, size_t n, struct jsonraw *r);
void jsonraw_free(struct jsonraw *r);

/* After cJSON parsed the value that ends at byte `end` of the same text:
 * give each number item among `targets` its source text (kept in
 * valuestring, which cJSON copies with the item and frees with it; a
 * number's valuestring is otherwise unused). Numbers are matched to tokens
 * in document order. Returns 0, or -1 on a mismatch or out of memory (the
 * items not yet given their text keep none). */
int jsonraw_attach(const struct jsonraw *r, const char *s, size_t end, cJSON *root,
                   cJSON *const *targets, size_t ntargets);

/* The source text of a number item, or NULL when it has none. */
const char *jsonraw_number_text(const cJSON *item);
/* The value of hex digit c, or -1. */
int jsonraw_hexval(char c);

#endif
