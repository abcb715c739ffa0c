/* err.c — see err.h. Truncates rather than overflows (never inside a UTF-8
 * character); never allocates. */
#include "err.h"
#include "strbuf.h"
#include "utf8.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

static void set(struct err *e, enum err_kind kind, int code, const char *fmt, va_list ap)
{
	e->code = code;
	e->kind = kind;
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	utf8_fix_cut(e->msg);
}

int err_set(struct err *e, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	set(e, ERR_SERVER, code, fmt, ap);
	va_end(ap);
	return -1;
}

int err_client(struct err *e, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	set(e, ERR_CLIENT, code, fmt, ap);
	va_end(ap);
	return -1;
}

int err_kernel(struct err *e)
{
	e->kind = ERR_KERNEL;
	return -1;
}

int err_sys(struct err *e, int code, const char *fmt, ...)
{
	va_list ap;
	size_t n;
	e->code = code;
	e->kind = ERR_SERVER;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
	n = strlen(e->msg);
	if (code == EMFILE) {
		/* The server's own limit, not the kernel's: say which and how to
		 * raise it. */
		struct rlimit r;
		if (getrlimit(RLIMIT_NOFILE, &r) == 0)
			snprintf(e->msg + n, sizeof e->msg - n,
			         ": the server has all the %llu open files its limit allows "
			         "(RLIMIT_NOFILE); "
			         "raise it (ulimit -n) or close sessions",
			         (unsigned long long)r.rlim_cur);
		else
			snprintf(e->msg + n, sizeof e->msg - n, ": %s", strerror(code));
		utf8_fix_cut(e->msg);
		return -1;
	}
	snprintf(e->msg + n, sizeof e->msg - n, ": %s", strerror(code));
	utf8_fix_cut(e->msg);
	return -1;
}

int err_wrap(struct err *e, const char *fmt, ...)
{
	char prefix[sizeof e->msg];
	char old[sizeof e->msg];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof prefix, fmt, ap);
	va_end(ap);
	memcpy(old, e->msg, sizeof old);
	old[sizeof old - 1] = '\0';
	/* The prefix wins: the tail of the old message is what gets cut. */
	struct strbuf b;
	sb_init(&b, e->msg, sizeof e->msg);
	sb_add(&b, prefix);
	sb_add(&b, ": ");
	sb_add(&b, old);
	return -1;
}
