/* cstr.h — byte strings as C source: UTF-8 checks and literal escaping.
 *
 * Owns: the one definition of how an input string becomes a C string literal
 * (and a shorter, printable form for error messages).
 * Must not: know anything about env.json or its schema.
 */
#ifndef NSM_CODEGEN_CSTR_H
#define NSM_CODEGEN_CSTR_H

#include <stddef.h>

#include "buf.h"

/* Offset of the first byte that does not start a well-formed UTF-8 sequence
 * (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF), or len
 * when all of s is valid. */
size_t cstr_utf8_check(const unsigned char *s, size_t len);

/* Append s (len bytes) to b as one double-quoted C11 string literal that
 * evaluates to exactly those bytes under any conforming compiler, trigraphs
 * enabled or not. */
int cstr_append_literal(struct buf *b, const char *s, size_t len);

/* Write a double-quoted, printable-ASCII rendering of s into out (size
 * outsz >= 8) for an error message, ending in "..." when it does not fit.
 * Never overflows; never allocates. */
void cstr_quote(char *out, size_t outsz, const char *s, size_t len);

#endif
