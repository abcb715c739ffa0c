/* sysfilter.h — the seccomp program of an environment.
 *
 * Owns: the deny table and its compilation to classic BPF (libseccomp), done
 * once per environment at start-up, and loading a compiled program in a
 * sandbox child. Must not: run libseccomp in the child (the child only loads
 * the ready-made program) or decide anything else about the sandbox.
 */
#ifndef NSM_SYSFILTER_H
#define NSM_SYSFILTER_H

#include <stddef.h>
#include "env.h"
#include "err.h"

struct sock_filter;

struct sysfilter {
	struct sock_filter *insns; /* malloc'd, owned */
	unsigned short len;        /* instruction count */
};

/* Compile the deny table for env into f. Start-up only. */
int sysfilter_build(const struct env_entry *env, struct sysfilter *f, struct err *e);
void sysfilter_free(struct sysfilter *f);

/* Child side: install f (PR_SET_NO_NEW_PRIVS must already be set).
 * Returns 0, or -1 with e filled. One prctl(2), then err_sys on failure. */
int sysfilter_load(const struct sysfilter *f, struct err *e);

/* The table, for the unit tests: name of entry i, or NULL past the end. */
const char *sysfilter_entry_name(size_t i);

#endif
