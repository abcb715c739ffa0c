/* err.h — errors returned with context.
 *
 * Owns: struct err and the helpers that fill it. Functions return 0 on success
 * and -1 on failure after filling a caller-provided struct err; callers add
 * context with err_wrap(). Must not: print, exit or allocate.
 */
#ifndef NSM_ERR_H
#define NSM_ERR_H

struct err {
	int code; /* errno value, or 0 when not from a syscall */
	char msg[256];
};

/* Fill e (code, printf-style message); always returns -1. */
int err_set(struct err *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Like err_set, appending ": strerror(code)". */
int err_sys(struct err *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Prefix the existing message with context ("context: old"); returns -1. */
int err_wrap(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
