/* reslimits.h — resource limits of a sandbox: cgroup v2 when the server may
 * create child groups, rlimits otherwise.
 *
 * Owns: detection (once, at start-up), the per-run cgroup (create, kill,
 * OOM check, remove) and the rlimits the child sets on itself.
 * Must not: spawn processes or know about namespaces.
 */
#ifndef NSM_RESLIMITS_H
#define NSM_RESLIMITS_H

#include <stdbool.h>
#include <stddef.h>
#include "env.h"
#include "err.h"

enum limits_mode {
	LIMITS_RLIMIT = 0, /* per-process rlimits (RLIMIT_DATA, RLIMIT_NPROC) */
	LIMITS_CGROUP2,    /* memory.max, memory.swap.max, pids.max per run */
	LIMITS_CGROUP1,    /* v1 memory (limit_in_bytes, memsw) and pids per run */
};

/* Detect the mode; never fails hard (falls back to rlimits, logs why). */
int limits_init(struct err *e);
enum limits_mode limits_mode(void);
/* One line for logs and the tool description. */
const char *limits_describe(void);
/* Append a cgroup report to buf at *off; returns the number of problems
 * (a missing cgroup v2 delegation is a warning, not a problem). */
int limits_doctor(char *buf, size_t len, size_t *off);

/* The cgroups of one run: v2, one group (dirfd for clone3
 * CLONE_INTO_CGROUP); v1, a group in the memory and in the pids hierarchy
 * (dirfd stays -1: the caller attaches the pid with limits_cg_attach before
 * the sandbox runs code). Empty in rlimit mode. */
struct limits_cg {
	int dirfd;           /* v2: O_PATH|O_DIRECTORY of path */
	char path[512];      /* v2: the group; v1: the memory group */
	char pids_path[512]; /* v1: the pids group */
};

void limits_cg_init(struct limits_cg *cg);
/* Create the group and write the limits. No-op in rlimit mode. */
int limits_cg_create(const struct env_limits *l, struct limits_cg *cg, struct err *e);
/* Move pid into the group (when clone3 could not place it there). */
int limits_cg_attach(const struct limits_cg *cg, int pid, struct err *e);
/* Kill every process in the group (cgroup.kill, Linux 5.14+); best effort. */
void limits_cg_kill(const struct limits_cg *cg);
/* True when the kernel OOM-killed a process of the group. */
bool limits_cg_oom_killed(const struct limits_cg *cg);
/* Remove the (empty) group and close its fd. */
void limits_cg_destroy(struct limits_cg *cg);
/* At exit: remove the server's own v1 parent groups (empty by then). */
void limits_fini(void);

/* An environment's max_open_files, clamped to the server's hard
 * RLIMIT_NOFILE (a sandbox cannot get more than its parent may have). */
unsigned limits_nofile(const struct env_limits *l);

/* Child side, just before execve: set the rlimits of l for the mode
 * detected at start-up. Returns 0, or -1 with e naming the limit (err_sys:
 * no lock, no allocation, as the sandbox's child may call). */
int limits_child_apply(const struct env_limits *l, struct err *e);

#endif
