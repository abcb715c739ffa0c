/* buf.h — a growable byte buffer with a sticky error.
 *
 * Owns: memory for text that is built up before it is written anywhere.
 * Must not: print, exit or write to a file descriptor.
 *
 * Every append returns 0 or -1. After the first failure (out of memory, size
 * overflow, bad format) the buffer stays failed and later appends do nothing,
 * like ferror() on a stdio stream, so a long run of appends can be checked once
 * at the end with buf_ok(); each call is still checked, none is ignored.
 */
#ifndef NSM_CODEGEN_BUF_H
#define NSM_CODEGEN_BUF_H

#include <stddef.h>

struct buf {
	char *data; /* not NUL-terminated; len bytes are valid */
	size_t len;
	size_t cap;
	int failed;
};

void buf_init(struct buf *b);
void buf_free(struct buf *b);
int buf_ok(const struct buf *b);
int buf_append(struct buf *b, const void *p, size_t n);
int buf_puts(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
