/* jail.h — the sandbox: what a run sees, and how it is spawned.
 *
 * Owns: start-up preparation per environment (mount list, argv, environment
 * variables, seccomp program), the spawn of a sandbox (clone into new
 * namespaces, id maps, cgroup placement) and the kernel feature report.
 * Must not: touch the event loop, read the sandbox's output or keep run
 * state (exec.c and session.c do); exit the server.
 *
 * A sandbox is two processes in a fresh pid namespace: pid 1 is a tiny init
 * (jail_child.c) that builds the root, waits for the code on code_fd, then
 * forks the interpreter (pid 2), reaps everything and reports the
 * interpreter's wait status on sync_fd before exiting; its exit makes the
 * kernel kill whatever is left in the namespace. Everything before "read the
 * code" depends on the environment only, so a pool can prepare sandboxes
 * ahead and send the code later. No sandbox outlives the server (init has
 * SIGKILL as its parent-death signal) or its own deadline (deadline_s below),
 * whatever happens to the server.
 *
 * What the sandbox sees (the one place this is written down):
 *   uid/gid 1000 "sandbox" inside, mapped to host 65534 when the server is
 *   root, else to the server's own uid/gid; hostname "sandbox";
 *   / tmpfs, read-only after setup; each closure store path read-only at its
 *   own path; project dir read-only at project_mount when given (as root:
 *   an idmapped copy in which the project owner's files are the sandbox
 *   user's, mounts.c), a read-only overlay; in a session also the tree
 *   itself under /.project (mode 0, not enterable) to remake it from;
 *   /workspace tmpfs (size = workspace_mb; cwd, HOME); /tmp tmpfs (same
 *   size, mode 1777, TMPDIR); /run/sandbox tmpfs read-only holding the code
 *   file main.sh|main.py|main.js (not argv, not stdin); fresh /proc with
 *   sys and sysrq-trigger read-only; /dev tmpfs read-only with null zero
 *   full random urandom tty, fd stdin stdout stderr links, shm → /tmp;
 *   /etc/passwd, /etc/group, /etc/hosts synthetic (+ the host's
 *   resolv.conf when the environment has host network); /bin/sh → env->sh,
 *   /usr/bin/env → env->env_bin.
 *   Environment variables (nothing inherited): PATH=<env root>/bin and the
 *   list jail_env_fixed in jail.c (HOME TMPDIR USER LOGNAME SHELL LANG TERM
 *   NO_COLOR PYTHONDONTWRITEBYTECODE PYTHONUNBUFFERED).
 *   stdin /dev/null; stdout/stderr pipes to the server.
 *
 * Session mode (jail_spec.agent_token set): identical walls and limits, but
 * init reads no code (/run/sandbox stays empty) and the interpreter runs
 * env->agent_argv with code_fd as its fd 3 (the agent's control channel,
 * agent/PROTOCOL.md) and NSM_AGENT_TOKEN=<token> added to its environment.
 * Init closes its own copy of code_fd, so the server sees EOF when the agent
 * is gone, and forwards a SIGINT it receives to the interpreter's process
 * group (the server's "interrupt this call"; the server cannot name pid 2).
 */
#ifndef NSM_JAIL_H
#define NSM_JAIL_H

#include <stdbool.h>
#include <stddef.h>
#include "env.h"
#include "err.h"
#include "reslimits.h"
#include "mounts.h"
#include "sysfilter.h"

#define JAIL_UID 1000
#define JAIL_GID 1000
#define JAIL_ROOT_HOST_ID 65534u /* the sandbox ids on the host when the server is root */
#define JAIL_HOSTNAME "sandbox"
#define JAIL_CODE_DIR "/run/sandbox"
/* Largest code accepted (the /run/sandbox tmpfs is sized for it). */
#define JAIL_CODE_MAX (16u << 20)

/* Start-up: prepare every environment of env_count()/env_at(), detect the
 * limits mode, log what is enforced. Failure here ends the server. */
int jail_init(struct err *e);
/* Free what jail_init built (tests, leak checkers). */
void jail_fini(void);
/* Which resource enforcement is active, one line. */
const char *jail_enforcement(void);
/* Human report of the kernel features the jail needs, one per line;
 * returns the number of problems (0: the jail can work here). */
int jail_doctor(char *buf, size_t len);
/* The server's argv strings, [start, start+len): each sandbox init is a fork
 * of the server, so it blanks them; else the sandbox's /proc/1/cmdline would
 * show the server's path and options (the project's host path). */
void jail_set_cmdline_area(char *start, size_t len);
/* The hint for a failure to create namespaces (errno of clone). */
const char *jail_hint(int err);
/* What the spawn does after clone3(2) failed with err, having asked for
 * CLONE_INTO_CGROUP or not (a pure decision, tested on its own):
 *   ENOSYS: no clone3 (before Linux 5.3, or a container's seccomp profile
 *     hides it): use clone(2) from now on, and attach to the group after.
 *   EINVAL or E2BIG with CLONE_INTO_CGROUP: Linux 5.3-5.6 has clone3 but not
 *     the flag (5.7). Its struct clone_args is shorter, so the non-zero
 *     cgroup field past its end gives E2BIG (copy_struct_from_user), and the
 *     unknown flag EINVAL: clone3 once more without it, attach after.
 *   anything else (EINVAL without the flag: a namespace type missing): fail. */
enum jail_clone3_next { JAIL_CLONE3_FAIL, JAIL_CLONE3_NO_CGROUP, JAIL_CLONE3_USE_CLONE };
enum jail_clone3_next jail_clone3_next(int err, bool into_cgroup);

/* One sandbox being spawned or running. */
struct jail_spec {
	const struct env_entry *env; /* must be one of env_at() */
	const char *project_dir;     /* host path, NULL: none */
	const char *project_mount;   /* e.g. "/project" */
	const char *agent_token;     /* non-NULL: session mode; [0-9a-f]{1,JAIL_TOKEN_MAX} */
	unsigned deadline_s;         /* the sandbox's own deadline (see below); 0: the
	                              * environment's timeout_seconds (one-shot runs) */
	bool warm;                   /* one-shot, prepared ahead (pool.c): start the
	                              * interpreter before the code, where the environment
	                              * can (jail_warm_start); see "Warm start" below */
};

/* Warm start. A spare one-shot sandbox may start its interpreter before the
 * code exists: init forks it at once, running a launcher
 * (agent/python_warm.py, node_warm.js) with the code path as its argument
 * and fd 3 the read end of a pipe; once the code file is in and
 * /run/sandbox read-only, init checks the launcher is neither stopped nor
 * gone, closes the write end (EOF = go) and carries on as for a cold start.
 * The launcher runs the file as the interpreter would (README, "Warm
 * one-shot runs"). True when env can start warm, with the launcher's path
 * in launcher[len]; else *why (when why is not NULL) says why not. Reads
 * the file system (access(2)): start-up and --list-envs only. */
bool jail_warm_start(const struct env_entry *env, char *launcher, size_t len, const char **why);

/* The sandbox's own deadline. The server kills a sandbox at its run's
 * timeout; should the server be gone or stuck, the sandbox init ends it
 * itself deadline_s + JAIL_DEADLINE_GRACE_S seconds after the interpreter
 * started (one-shot: once the code is in; session mode: once set up), and
 * exits with JAIL_INIT_EXIT_DEADLINE. The grace keeps the server's own
 * deadline first whenever the server is alive. A spare waiting for its code
 * has no deadline yet: it dies with the server (parent-death signal). */
#define JAIL_DEADLINE_GRACE_S 2
#define JAIL_INIT_EXIT_DEADLINE 125
/* A warm spare whose launcher was stopped or gone when its code came: it
 * exits with this instead of accepting (the server then runs cold). */
#define JAIL_INIT_EXIT_STALE 124

#define JAIL_TOKEN_MAX 64
/* A fresh random session token (hex, len-1 characters at most 32). */
int jail_make_token(char *tok, size_t len, struct err *e);

struct jail_proc {
	int pid;     /* sandbox init, in the server's pid namespace */
	int pidfd;   /* readable once init has exited */
	int sync_fd; /* SOCK_SEQPACKET: struct jail_msg from the sandbox */
	int code_fd; /* SOCK_STREAM: one-shot: write the code, then close (EOF =
	              * end); session: the agent's control channel (its fd 3) */
	int out_fd;  /* read ends of the interpreter's stdout and stderr */
	int err_fd;
	/* Sessions with a project: the helper that remakes the project view
	 * (jail_refresh_project), started with the sandbox. */
	int refresher_fd; /* SOCK_SEQPACKET to it, or -1 */
	int refresher_pid;
	int workspace_fd; /* the sandbox's /workspace (jail_workspace), or -1 */
	struct limits_cg cg;
	bool reaped;
	int init_code;   /* after reaping: si_code (CLD_EXITED, CLD_KILLED, ...) */
	int init_status; /* and si_status of the sandbox init */
};

/* Messages on sync_fd, one per datagram. */
/* JAIL_MSG_ACCEPTED (one-shot only): the code is in and the interpreter has
 * been told to go (or was started), before any JAIL_MSG_EXIT. A spare that
 * does not send it soon is stale (exec.c).
 * JAIL_MSG_WORKSPACE: first of all once the root is built, carrying (as
 * SCM_RIGHTS) a directory fd of the sandbox's /workspace; taken by
 * jail_workspace(), which every reader of sync_fd calls first. */
enum {
	JAIL_MSG_ERROR = 'E',
	JAIL_MSG_EXIT = 'X',
	JAIL_MSG_ACCEPTED = 'A',
	JAIL_MSG_WORKSPACE = 'W'
};
struct jail_msg {
	char type;
	int status;     /* JAIL_MSG_EXIT: wait status of the interpreter */
	char text[500]; /* JAIL_MSG_ERROR: what failed, with a hint */
};

/* Spawn a sandbox. Returns 0, or -1 with e filled: ERR_KERNEL when the
 * kernel refused the jail itself (add jail_hint(e->code) and show it as a
 * setup error), ERR_SERVER for a failure of the server's own (fds, memory).
 * The parent's fds in p are O_CLOEXEC and O_NONBLOCK. */
int jail_spawn(const struct jail_spec *s, struct jail_proc *p, struct err *e);
/* An empty jail_proc (every fd -1): releasing it is a no-op. */
void jail_proc_clear(struct jail_proc *p);
/* SIGKILL the sandbox init (the kernel then kills the whole pid namespace)
 * and, with cgroups, every process of the group. Idempotent. */
void jail_kill(struct jail_proc *p);
/* A session's sandbox (MOUNT_PROJECT_LIVE): make its project view at its
 * mount point again from the tree it keeps, so that the next call sees the
 * project as it is now (an overlay shows files as they were when first
 * looked up). jail_spawn starts, with such a sandbox, a helper process in
 * its user and mount namespaces (outside its pid namespace: the sandbox
 * cannot see or signal it) that waits for these requests; each takes a
 * fraction of a millisecond. jail_release() ends the helper; on failure it
 * is ended at once (replace the sandbox). */
int jail_refresh_project(struct jail_proc *p, const char *mount_point, struct err *e);
/* The sandbox's /workspace as a directory fd (wsfiles.h), once its init
 * has sent it: takes a JAIL_MSG_WORKSPACE at the head of sync_fd, without
 * blocking. The fd stays valid after the sandbox ended (it holds the tmpfs),
 * until jail_release. -1: not there (yet, or set-up failed before). */
int jail_workspace(struct jail_proc *p);
/* Reap init if it has exited: 1 reaped, 0 still running, -1 error. */
int jail_reap(struct jail_proc *p);
/* Close every fd and remove the cgroup. Call after jail_reap() returned 1. */
void jail_release(struct jail_proc *p);
/* For wsfiles.h's writer child: place the calling process in the
 * sandbox's resource groups (ctx: the struct jail_proc). jail_has_groups:
 * whether there are any (none in rlimit mode). */
int jail_join_groups(void *ctx, struct err *e);
bool jail_has_groups(const struct jail_proc *p);
/* Kill the sandbox, wait for its init (the kernel is tearing a SIGKILLed
 * namespace down: milliseconds) and release it. At exit, or for a sandbox
 * that never ran code; -1 (errno) when waitid failed, released anyway. */
int jail_reap_wait(struct jail_proc *p);

/* How a sandbox ended, from the reports its init left on sync_fd and from
 * its reap. The one reader of those reports once code ran (jail_workspace
 * excepted): exec.c and session.c ask here. */
struct jail_end {
	bool exited;           /* init reported the interpreter's exit ... */
	int status;            /* ... with this wait status */
	char setup_error[512]; /* non-empty: set-up failed; init's message with a hint */
	bool own_deadline;     /* init ended it at the sandbox's own deadline (above) */
	bool oom;              /* the kernel OOM-killed a process of it (cgroup mode) */
};
/* Call once the interpreter is gone (its exit report came, or init was
 * reaped): takes every report left on sync_fd. */
void jail_end(struct jail_proc *p, struct jail_end *end);
/* While the sandbox runs (without blocking): the type of init's next
 * report (JAIL_MSG_*), left in place, after taking the workspace fd; 0 when
 * there is none yet, -1 when init is gone and nothing is left. */
int jail_next_report(struct jail_proc *p);
/* Take a JAIL_MSG_ACCEPTED at the head of the reports: true when taken. */
bool jail_take_accepted(struct jail_proc *p);

/* ---- internal to jail.c and jail_child.c ---- */
struct jail_prepared {
	const struct env_entry *env;
	struct mount_op *ops;
	size_t n_ops;
	char *root_opts;
	char **argv;       /* env->argv + code path + NULL */
	char **agent_argv; /* env->agent_argv + NULL */
	char **warm_argv;  /* program, launcher, code path, NULL; NULL: cold only */
	char **envp;       /* PATH + jail_env_fixed + NULL, and one free slot
	                    * before the NULL for NSM_AGENT_TOKEN */
	size_t n_envp;
	const char *code_path;
	struct sysfilter filter;
	char **owned; /* strings to free */
	size_t n_owned;
};

struct jail_child_args {
	const struct jail_prepared *jp;
	struct mount_op project;
	bool has_project;
	bool own_net;
	bool may_setgroups;
	bool ipc_limits;         /* set the IPC namespace's SysV limits (jail.c) */
	bool user_limits;        /* set the user namespace's inotify limits (jail.c) */
	const char *agent_token; /* session mode when non-NULL */
	bool warm;               /* start jp->warm_argv before reading the code */
	unsigned deadline_s;     /* for alarm(2): deadline + grace, > 0 */
	int sync_fd, code_fd, out_fd, err_fd;
	int server_pidfd; /* the server (our parent): is it still there? */
};

__attribute__((noreturn)) void jail_child_main(const struct jail_child_args *a);
extern char *jail_cmdline_start;
extern size_t jail_cmdline_len;

#endif
