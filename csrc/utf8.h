/* utf8.h — making sandbox bytes safe to put in JSON text.
 *
 * Owns: UTF-8 validation and repair. Must not: allocate without a bound (the
 * output is at most 3× the input: every bad byte becomes U+FFFD).
 */
#ifndef NSM_UTF8_H
#define NSM_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* True when s[0..n) is valid UTF-8 with no NUL byte. */
bool utf8_valid(const char *s, size_t n);
/* Copy s[0..n) into a new NUL-terminated string, replacing each invalid
 * sequence and each NUL byte with U+FFFD. NULL on allocation failure. */
char *utf8_repair(const char *s, size_t n, size_t *out_len);

/* A string cut to fit a buffer may end inside a character: drop that
 * partial character, in place. */
void utf8_fix_cut(char *s);

/* Copy at most cap-1 bytes of the NUL-terminated src into dst, cut on a
 * character boundary, invalid sequences replaced with U+FFFD: for echoing a
 * client's string back in a message. Returns the length written. */
size_t utf8_clip(char *dst, size_t cap, const char *src);

#endif
