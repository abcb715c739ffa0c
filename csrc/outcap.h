/* outcap.h — a captured output stream with a size cap.
 *
 * Owns: the bytes of one stream of one run or call, kept up to a cap; what
 * comes after is counted but not kept (the result says "truncated").
 * Must not: read descriptors or grow past cap + 1 bytes (the NUL), whatever
 * the sandbox writes. Used by exec.c (one-shot) and session.c.
 */
#ifndef NSM_OUTCAP_H
#define NSM_OUTCAP_H

#include <stdbool.h>
#include <stddef.h>

struct outcap {
	char *buf;
	size_t len, alloc; /* kept bytes, allocated size (<= cap + 1) */
	size_t total;      /* bytes offered, kept or not */
	size_t cap;
};

void outcap_init(struct outcap *o, size_t cap);
/* Keep what fits under the cap, count everything. Out of memory only
 * truncates (the result then says so), it never fails the run. */
void outcap_add(struct outcap *o, const char *p, size_t n);
/* Hand the bytes over NUL-terminated (never NULL unless out of memory;
 * *len excludes the NUL) and reset o to empty with the same cap. */
void outcap_take(struct outcap *o, char **buf, size_t *len, size_t *total, bool *truncated);
void outcap_free(struct outcap *o);

#endif
