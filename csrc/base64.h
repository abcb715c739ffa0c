/* base64.h — RFC 4648 base64, for binary files in and out of the `run` tool.
 *
 * Owns: encoding and strict decoding. Must not: allocate without a bound
 * (the output size follows from the input's).
 */
#ifndef NSM_BASE64_H
#define NSM_BASE64_H

#include <stddef.h>

/* A new NUL-terminated base64 text of s[0..n); NULL when out of memory. */
char *base64_encode(const char *s, size_t n);
/* Decode text[0..n) (padding required, no whitespace) into a new buffer of
 * *out_len bytes, NUL-terminated after them; NULL when the text is not
 * base64 or out of memory (errno EINVAL or ENOMEM). */
char *base64_decode(const char *text, size_t n, size_t *out_len);

#endif
