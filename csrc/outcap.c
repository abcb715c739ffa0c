/* outcap.c — see outcap.h. Grows by doubling from 16 KiB, so a run that
 * prints one line does not allocate its whole cap. */
#include "outcap.h"

#include <stdlib.h>
#include <string.h>

void outcap_init(struct outcap *o, size_t cap)
{
	memset(o, 0, sizeof *o);
	o->cap = cap;
}

void outcap_add(struct outcap *o, const char *p, size_t n)
{
	o->total += n;
	if (o->len >= o->cap || n == 0)
		return;
	size_t take = o->cap - o->len < n ? o->cap - o->len : n;
	if (o->alloc < o->len + take + 1) {
		size_t want = o->alloc ? o->alloc : 16384;
		while (want < o->len + take + 1)
			want *= 2;
		if (want > o->cap + 1)
			want = o->cap + 1;
		char *nb = realloc(o->buf, want);
		if (!nb)
			return;
		o->buf = nb;
		o->alloc = want;
	}
	memcpy(o->buf + o->len, p, take);
	o->len += take;
}

void outcap_take(struct outcap *o, char **buf, size_t *len, size_t *total, bool *truncated)
{
	if (!o->buf)
		o->buf = calloc(1, 1);
	if (o->buf)
		o->buf[o->len] = '\0';
	*buf = o->buf;
	*len = o->buf ? o->len : 0;
	*total = o->total;
	*truncated = o->total > *len;
	outcap_init(o, o->cap);
}

void outcap_free(struct outcap *o)
{
	free(o->buf);
	outcap_init(o, o->cap);
}
