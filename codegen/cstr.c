/* cstr.c — see cstr.h. */
#include "cstr.h"

#include <string.h>

size_t cstr_utf8_check(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = s[i];
		size_t n, k;
		unsigned lo = 0x80, hi = 0xbf; /* range of the second byte */

		if (c < 0x80) {
			i++;
			continue;
		} else if (c >= 0xc2 && c <= 0xdf) {
			n = 2;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 3;
			if (c == 0xe0)
				lo = 0xa0; /* overlong */
			else if (c == 0xed)
				hi = 0x9f; /* UTF-16 surrogates */
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 4;
			if (c == 0xf0)
				lo = 0x90; /* overlong */
			else if (c == 0xf4)
				hi = 0x8f; /* above U+10FFFF */
		} else {
			return i; /* continuation byte, C0/C1 overlong, F5..FF */
		}
		if (len - i < n)
			return i;
		if (s[i + 1] < lo || s[i + 1] > hi)
			return i;
		for (k = 2; k < n; k++)
			if (s[i + k] < 0x80 || s[i + k] > 0xbf)
				return i;
		i += n;
	}
	return len;
}

/* The graphic characters of C11's basic source character set (5.2.1), which
 * every compiler reads as themselves inside a literal. $ @ ` and everything
 * outside ASCII are left out on purpose: they are octal-escaped instead. */
static int cstr_is_basic_graphic(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ' ')
		return 1;
	return c != 0 && strchr("!\"#%&'()*+,-./:;<=>?[\\]^_{|}~", c) != NULL;
}

/* Escape one byte for a C literal into out (at most 4 chars + NUL); returns
 * the length. Octal escapes always take three digits so that a digit after
 * them can never be absorbed (\0101 would be two characters, \101 and "1").
 * '?' becomes \? so no "??x" trigraph can form; '"' and '\' are escaped so the
 * literal cannot end early or splice lines. */
static size_t cstr_escape_c(unsigned char c, char out[5])
{
	static const char oct[] = "01234567";

	if (c == '"' || c == '\\' || c == '?') {
		out[0] = '\\';
		out[1] = (char)c;
		out[2] = '\0';
		return 2;
	}
	if (cstr_is_basic_graphic(c)) {
		out[0] = (char)c;
		out[1] = '\0';
		return 1;
	}
	out[0] = '\\';
	out[1] = oct[(c >> 6) & 7];
	out[2] = oct[(c >> 3) & 7];
	out[3] = oct[c & 7];
	out[4] = '\0';
	return 4;
}

int cstr_append_literal(struct buf *b, const char *s, size_t len)
{
	size_t i;
	char esc[5];

	buf_append(b, "\"", 1);
	for (i = 0; i < len; i++) {
		size_t n = cstr_escape_c((unsigned char)s[i], esc);
		buf_append(b, esc, n);
	}
	return buf_append(b, "\"", 1);
}

/* Like cstr_escape_c, but for a human reading stderr: '?' stays as is. */
static size_t cstr_escape_msg(unsigned char c, char out[5])
{
	if (c == '?') {
		out[0] = '?';
		out[1] = '\0';
		return 1;
	}
	return cstr_escape_c(c, out);
}

void cstr_quote(char *out, size_t outsz, const char *s, size_t len)
{
	size_t o = 0, i;
	char esc[5];

	/* Room for the closing quote, "..." and the NUL. */
	const size_t reserve = 1 + 3 + 1;

	if (outsz < 8) {
		if (outsz)
			out[0] = '\0';
		return;
	}
	out[o++] = '"';
	for (i = 0; i < len; i++) {
		size_t n = cstr_escape_msg((unsigned char)s[i], esc);
		if (o + n > outsz - reserve) {
			memcpy(out + o, "\"...", 5);
			return;
		}
		memcpy(out + o, esc, n);
		o += n;
	}
	out[o++] = '"';
	out[o] = '\0';
}
