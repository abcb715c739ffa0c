/* utf8.c — see utf8.h. Follows RFC 3629: no overlongs, no surrogates, nothing
 * above U+10FFFF. */
#include "utf8.h"

#include <stdlib.h>
#include <string.h>

/* Length of the valid sequence at s (at most n bytes), or 0 when invalid. */
static size_t seq_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	if (c >= 0x01 && c < 0x80)
		return 1;
	size_t len;
	unsigned lo = 0x80, hi = 0xbf;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f; /* surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	if (n < len)
		return 0;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

bool utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0; i < n;) {
		size_t l = seq_len(p + i, n - i);
		if (!l)
			return false;
		i += l;
	}
	return true;
}

char *utf8_repair(const char *s, size_t n, size_t *out_len)
{
	const unsigned char *p = (const unsigned char *)s;
	char *out = malloc(n * 3 + 1);
	size_t o = 0;
	if (!out)
		return NULL;
	for (size_t i = 0; i < n;) {
		size_t l = seq_len(p + i, n - i);
		if (l) {
			memcpy(out + o, p + i, l);
			o += l;
			i += l;
		} else {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
		}
	}
	out[o] = '\0';
	if (out_len)
		*out_len = o;
	return out;
}

size_t utf8_clip(char *dst, size_t cap, const char *src)
{
	const unsigned char *p = (const unsigned char *)src;
	size_t o = 0, n = strlen(src);
	if (cap == 0)
		return 0;
	for (size_t i = 0; i < n;) {
		size_t l = seq_len(p + i, n - i);
		const char *piece = l ? src + i : "\xef\xbf\xbd";
		size_t pl = l ? l : 3;
		if (o + pl > cap - 1)
			break;
		memcpy(dst + o, piece, pl);
		o += pl;
		i += l ? l : 1;
	}
	dst[o] = '\0';
	return o;
}

void utf8_fix_cut(char *s)
{
	size_t n = strlen(s), i = n, back = 0;
	while (i > 0 && back < 3 && ((unsigned char)s[i - 1] & 0xc0) == 0x80) {
		i--;
		back++;
	}
	if (i == 0)
		return;
	unsigned char lead = (unsigned char)s[i - 1];
	size_t need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
	if (lead >= 0xc0 && back + 1 < need)
		s[i - 1] = '\0';
}
