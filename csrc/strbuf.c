/* strbuf.c — see strbuf.h. */
#include "strbuf.h"

#include <stdarg.h>
#include <stdio.h>

#include "utf8.h"

void sb_init(struct strbuf *b, char *buf, size_t cap)
{
	b->buf = buf;
	b->cap = cap;
	b->len = 0;
	b->cut = false;
	buf[0] = '\0';
}

/* After a cut: drop a character left partial at the end. */
static void after_cut(struct strbuf *b)
{
	b->cut = true;
	utf8_fix_cut(b->buf);
	for (b->len = 0; b->buf[b->len]; b->len++)
		;
}

void sb_add(struct strbuf *b, const char *s)
{
	for (; *s && b->len + 1 < b->cap; s++)
		b->buf[b->len++] = *s;
	b->buf[b->len] = '\0';
	if (*s)
		after_cut(b);
}

void sb_addf(struct strbuf *b, const char *fmt, ...)
{
	va_list ap;
	if (b->len + 1 >= b->cap) {
		b->cut = true;
		return;
	}
	va_start(ap, fmt);
	int w = vsnprintf(b->buf + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (w < 0) {
		b->buf[b->len] = '\0';
		return;
	}
	if ((size_t)w >= b->cap - b->len)
		after_cut(b);
	else
		b->len += (size_t)w;
}
