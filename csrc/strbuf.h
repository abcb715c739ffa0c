/* strbuf.h — the one bounded string builder.
 *
 * Owns: appending to a caller's fixed buffer: always NUL-terminated, never
 * overflowed; what does not fit is cut, never inside a UTF-8 character, and
 * `cut` says so. Must not: allocate (usable in a forked child before execve,
 * jail_child.c) — sb_add is async-signal-safe, sb_addf is not (vsnprintf).
 */
#ifndef NSM_STRBUF_H
#define NSM_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

struct strbuf {
	char *buf;
	size_t cap; /* bytes of buf, the NUL included */
	size_t len;
	bool cut;
};

/* Start empty on buf[cap] (cap > 0). */
void sb_init(struct strbuf *b, char *buf, size_t cap);
void sb_add(struct strbuf *b, const char *s);
void sb_addf(struct strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
