/* err.h — errors returned with context.
 *
 * Owns: struct err and the helpers that fill it. Functions return 0 on success
 * and -1 on failure after filling a caller-provided struct err; callers add
 * context with err_wrap(). Must not: print, exit or allocate.
 *
 * An error's kind says whom its message is for, so the code that answers
 * the client decides how to word it from the kind, not from the message or
 * a return value: err_set/err_sys make ERR_SERVER, err_client ERR_CLIENT,
 * err_kernel marks an error ERR_KERNEL; err_wrap keeps the kind.
 */
#ifndef NSM_ERR_H
#define NSM_ERR_H

enum err_kind {
	/* The server failed (memory, descriptors, a bug): the operator's log
	 * says what; the client hears that its call was not run. */
	ERR_SERVER = 0,
	/* The kernel refused the sandbox itself (namespaces, limits): the
	 * client sees the message with the fix (jail_hint(code)). */
	ERR_KERNEL,
	/* The request cannot be served as asked (too large, busy, wrong
	 * session): the message is written for the client, shown as it is. */
	ERR_CLIENT,
};

struct err {
	int code; /* errno value, or 0 when not from a syscall */
	char msg[256];
	enum err_kind kind; /* last: { 0 } is a server error */
};

/* Fill e (code, printf-style message); always returns -1. */
int err_set(struct err *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Like err_set, appending ": strerror(code)". */
int err_sys(struct err *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Like err_set, for a message written for the client (ERR_CLIENT). */
int err_client(struct err *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Mark e (already filled) as the kernel refusing the sandbox; returns -1. */
int err_kernel(struct err *e);
/* Prefix the existing message with context ("context: old"); returns -1. */
int err_wrap(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
