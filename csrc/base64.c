/* base64.c — RFC 4648 base64; see base64.h. */
#include "base64.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *base64_encode(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	char *out = malloc((n + 2) / 3 * 4 + 1);
	size_t k = 0;
	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		out[k++] = alphabet[v >> 18 & 63];
		out[k++] = alphabet[v >> 12 & 63];
		out[k++] = i + 1 < n ? alphabet[v >> 6 & 63] : '=';
		out[k++] = i + 2 < n ? alphabet[v & 63] : '=';
	}
	out[k] = '\0';
	return out;
}

static int value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

char *base64_decode(const char *text, size_t n, size_t *out_len)
{
	const unsigned char *t = (const unsigned char *)text;
	if (n % 4) {
		errno = EINVAL;
		return NULL;
	}
	char *out = malloc(n / 4 * 3 + 1);
	size_t k = 0;
	if (!out) {
		errno = ENOMEM;
		return NULL;
	}
	for (size_t i = 0; i < n; i += 4) {
		bool last = i + 4 == n;
		int a = value(t[i]), b = value(t[i + 1]);
		int c = last && t[i + 2] == '=' && t[i + 3] == '=' ? -2 : value(t[i + 2]);
		int d = last && t[i + 3] == '=' ? -2 : value(t[i + 3]);
		if (a < 0 || b < 0 || c == -1 || d == -1 || (c == -2 && d != -2)) {
			free(out);
			errno = EINVAL;
			return NULL;
		}
		uint32_t v = (uint32_t)a << 18 | (uint32_t)b << 12 |
		             (uint32_t)(c < 0 ? 0 : c) << 6 | (uint32_t)(d < 0 ? 0 : d);
		out[k++] = (char)(v >> 16);
		if (c >= 0)
			out[k++] = (char)(v >> 8 & 0xff);
		if (d >= 0)
			out[k++] = (char)(v & 0xff);
	}
	out[k] = '\0'; /* (a string too: ws_out.data, mcp_files.c) */
	*out_len = k;
	return out;
}
