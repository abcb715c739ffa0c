/* jail.c — sandbox specification (built once per environment) and spawn.
 *
 * Owns: the per-environment preparation done at start-up (mount list,
 * argv, environment variables, seccomp program), clone into namespaces, the
 * id maps, the kill and the reap. Must not: block on the sandbox (the only
 * wait is waitid(WNOHANG) and a reap after SIGKILL on a spawn error), read
 * its output, or exit. See jail.h for what a sandbox sees.
 */
#include "jail.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fsutil.h"
#include "log.h"

#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif
#ifndef CLONE_NEWCGROUP
#define CLONE_NEWCGROUP 0x02000000
#endif
#define NSM_CLONE_INTO_CGROUP 0x200000000ULL
#define NSM_P_PIDFD 3

/* clone3(2) arguments, spelled out so no particular kernel header is needed. */
struct nsm_clone_args {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid,
	    set_tid_size, cgroup;
};

/* The sandbox's environment variables besides PATH=<env root>/bin. Nothing
 * from the server's environment is passed on but the names listed in
 * [project] inherit_env (prepare). PYTHONUNBUFFERED: output of a
 * run that times out is not lost in a stdio buffer; the store is read-only,
 * so byte-code caches are not written (PYTHONDONTWRITEBYTECODE). */
static const char *const jail_env_fixed[] = {
	"HOME=/workspace",    "TMPDIR=/tmp",   "USER=sandbox",
	"LOGNAME=sandbox",    "SHELL=/bin/sh", "LANG=C.UTF-8",
	"TERM=dumb",          "NO_COLOR=1",    "PYTHONDONTWRITEBYTECODE=1",
	"PYTHONUNBUFFERED=1",
};

static const char etc_passwd[] = "sandbox:x:1000:1000:sandbox:/workspace:/bin/sh\n"
                                 "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n";
static const char etc_group[] = "sandbox:x:1000:\nnogroup:x:65534:\n";
static const char etc_hosts[] = "127.0.0.1\tlocalhost sandbox\n::1\tlocalhost sandbox\n";
static const char etc_nsswitch[] = "passwd: files\ngroup: files\nhosts: files dns\n";

static const char *const dev_nodes[] = { "/dev/null",   "/dev/zero",    "/dev/full",
	                                 "/dev/random", "/dev/urandom", "/dev/tty" };
static const char *const dev_links[][2] = {
	{ "/proc/self/fd", "/dev/fd" },
	{ "/proc/self/fd/0", "/dev/stdin" },
	{ "/proc/self/fd/1", "/dev/stdout" },
	{ "/proc/self/fd/2", "/dev/stderr" },
	{ "/tmp", "/dev/shm" },
};

static struct jail_prepared *prepared;
static size_t n_prepared;
static bool server_is_root;
static bool idmap_usable = true; /* until mounts_project_tree fails once */
static bool ipc_limits;          /* sandboxes set their IPC sysctls (probe_ipc_limits) */
static bool user_limits;         /* and their inotify limits (probe_user_limits) */
static bool have_clone3 = true;
static bool have_into_cgroup = true; /* clone3's CLONE_INTO_CGROUP (Linux 5.7+) */
static char enforcement[512];
/* A pidfd of the server itself, inherited by every sandbox init: once its
 * parent-death signal is armed, init checks the server is still there
 * (jail_child.c, step 3). */
static int self_pidfd = -1;

const char *jail_enforcement(void)
{
	return enforcement;
}

const char *jail_hint(int err)
{
	switch (err) {
	case EPERM:
	case EACCES:
		return "user namespaces are not permitted here: check sysctl "
		       "kernel.unprivileged_userns_clone=1 (older Debian kernels), "
		       "kernel.apparmor_restrict_unprivileged_userns=0 or an AppArmor profile "
		       "with 'userns,' for this binary (Ubuntu 23.10+), and a container's "
		       "seccomp profile; run nix-sandbox-mcp --doctor";
	case ENOSPC:
	case EUSERS:
		return "namespace limit reached: raise sysctl user.max_user_namespaces "
		       "(and max_pid/net/mnt_namespaces); run nix-sandbox-mcp --doctor";
	case EINVAL:
		return "the kernel lacks a namespace type (CONFIG_USER_NS, CONFIG_PID_NS, "
		       "CONFIG_NET_NS); run nix-sandbox-mcp --doctor";
	case ENOSYS:
		return "kernel too old: the jail needs Linux 5.3+ (clone3, pidfd)";
	case EAGAIN:
	case ENOMEM:
		return "out of processes or memory on the host";
	default:
		return "run nix-sandbox-mcp --doctor";
	}
}

/* ---- preparation ---- */

static char *own(struct jail_prepared *jp, char *s)
{
	char **n;
	if (!s)
		return NULL;
	n = realloc(jp->owned, (jp->n_owned + 1) * sizeof *n);
	if (!n) {
		free(s);
		return NULL;
	}
	jp->owned = n;
	jp->owned[jp->n_owned++] = s;
	return s;
}

static char *ownf(struct jail_prepared *jp, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static char *ownf(struct jail_prepared *jp, const char *fmt, ...)
{
	va_list ap;
	char *s;
	va_start(ap, fmt);
	int r = vasprintf(&s, fmt, ap);
	va_end(ap);
	return r < 0 ? NULL : own(jp, s);
}

static int add_op(struct jail_prepared *jp, size_t cap, enum mount_kind k, unsigned flags,
                  const char *src, const char *dst, const char *data)
{
	if (jp->n_ops == cap)
		return -1;
	jp->ops[jp->n_ops++] = (struct mount_op){ k, flags, src, dst, data, -1 };
	return 0;
}

static int prepare(const struct env_entry *env, struct jail_prepared *jp, struct err *e)
{
	const struct env_limits *l = &env->limits;
	size_t cap = env->n_closure + 32, n_argv = 0;
	static char resolv[PATH_MAX];
	bool bad = false;

	memset(jp, 0, sizeof *jp);
	jp->env = env;
	if (sysfilter_build(env, &jp->filter, e) < 0)
		return err_wrap(e, "environment %s", env->name);
	jp->ops = calloc(cap, sizeof *jp->ops);
	if (!jp->ops)
		return err_set(e, ENOMEM, "out of memory");

	for (size_t i = 0; i < env->n_closure; i++) {
		if (env->closure[i][0] != '/')
			return err_set(e, EINVAL, "environment %s: closure path %s is not absolute",
			               env->name, env->closure[i]);
		bad |=
		    add_op(jp, cap, MOUNT_BIND_RO, 0, env->closure[i], env->closure[i], NULL) < 0;
	}
	unsigned inodes = l->workspace_mb * 256u < 4096u ? 4096u : l->workspace_mb * 256u;
	const char *ws = ownf(jp, "size=%um,nr_inodes=%u,mode=0755", l->workspace_mb, inodes);
	const char *tmp = ownf(jp, "size=%um,nr_inodes=%u,mode=1777", l->workspace_mb, inodes);
	const char *run = ownf(jp, "size=%um,nr_inodes=16,mode=0755", (JAIL_CODE_MAX >> 20) + 1);
	jp->root_opts = ownf(jp, "size=1m,nr_inodes=%zu,mode=0755", env->n_closure * 4 + 512);
	if (!ws || !tmp || !run || !jp->root_opts)
		return err_set(e, ENOMEM, "out of memory");
	bad |= add_op(jp, cap, MOUNT_TMPFS, 0, NULL, "/workspace", ws) < 0;
	bad |= add_op(jp, cap, MOUNT_TMPFS, 0, NULL, "/tmp", tmp) < 0;
	bad |= add_op(jp, cap, MOUNT_TMPFS, 0, NULL, JAIL_CODE_DIR, run) < 0;
	bad |= add_op(jp, cap, MOUNT_PROC, 0, NULL, "/proc", NULL) < 0;
	bad |= add_op(jp, cap, MOUNT_TMPFS, 0, NULL, "/dev", "size=64k,nr_inodes=64,mode=0755") < 0;
	for (size_t i = 0; i < sizeof dev_nodes / sizeof dev_nodes[0]; i++)
		bad |= add_op(jp, cap, MOUNT_BIND_DEV,
		              strcmp(dev_nodes[i], "/dev/tty") ? 0 : MOUNT_OPTIONAL, dev_nodes[i],
		              dev_nodes[i], NULL) < 0;
	for (size_t i = 0; i < sizeof dev_links / sizeof dev_links[0]; i++)
		bad |=
		    add_op(jp, cap, MOUNT_SYMLINK, 0, dev_links[i][0], dev_links[i][1], NULL) < 0;
	bad |= add_op(jp, cap, MOUNT_REMOUNT_RO, 0, NULL, "/dev", NULL) < 0;
	bad |= add_op(jp, cap, MOUNT_FILE, 0, NULL, "/etc/passwd", etc_passwd) < 0;
	bad |= add_op(jp, cap, MOUNT_FILE, 0, NULL, "/etc/group", etc_group) < 0;
	bad |= add_op(jp, cap, MOUNT_FILE, 0, NULL, "/etc/hosts", etc_hosts) < 0;
	bad |= add_op(jp, cap, MOUNT_FILE, 0, NULL, "/etc/nsswitch.conf", etc_nsswitch) < 0;
	if (env->network) {
		/* Often a symlink into /run (systemd-resolved): bind its target. */
		if (realpath("/etc/resolv.conf", resolv))
			bad |= add_op(jp, cap, MOUNT_BIND_RO, MOUNT_OPTIONAL,
			              own(jp, strdup(resolv)), "/etc/resolv.conf", NULL) < 0;
		else
			log_msg(LOG_WARNING,
			        "environment %s: no /etc/resolv.conf on the host; "
			        "name resolution will fail in it",
			        env->name);
	}
	bad |= add_op(jp, cap, MOUNT_SYMLINK, 0, env->sh, "/bin/sh", NULL) < 0;
	bad |= add_op(jp, cap, MOUNT_SYMLINK, 0, env->env_bin, "/usr/bin/env", NULL) < 0;
	if (bad)
		return err_set(e, ENOMEM, "environment %s: mount list overflow", env->name);

	switch (env->interp) {
	case ENV_INTERP_BASH:
		jp->code_path = JAIL_CODE_DIR "/main.sh";
		break;
	case ENV_INTERP_PYTHON:
		jp->code_path = JAIL_CODE_DIR "/main.py";
		break;
	case ENV_INTERP_NODE:
		jp->code_path = JAIL_CODE_DIR "/main.js";
		break;
	default:
		return err_set(e, EINVAL, "environment %s: unknown interpreter", env->name);
	}
	while (env->argv && env->argv[n_argv])
		n_argv++;
	if (n_argv == 0 || env->argv[0][0] != '/')
		return err_set(e, EINVAL, "environment %s: argv[0] must be an absolute path",
		               env->name);
	jp->argv = calloc(n_argv + 2, sizeof *jp->argv);
	if (!jp->argv)
		return err_set(e, ENOMEM, "out of memory");
	for (size_t i = 0; i < n_argv; i++)
		jp->argv[i] = (char *)env->argv[i];
	jp->argv[n_argv] = (char *)jp->code_path;

	n_argv = 0;
	while (env->agent_argv && env->agent_argv[n_argv])
		n_argv++;
	/* None: the interpreter cannot host the session agent (env.h); the
	 * server refuses sessions for this environment. */
	if (n_argv > 0 && env->agent_argv[0][0] != '/')
		return err_set(e, EINVAL, "environment %s: agent_argv[0] must be an absolute path",
		               env->name);
	jp->agent_argv = calloc(n_argv + 1, sizeof *jp->agent_argv);
	if (!jp->agent_argv)
		return err_set(e, ENOMEM, "out of memory");
	for (size_t i = 0; i < n_argv; i++)
		jp->agent_argv[i] = (char *)env->agent_argv[i];

	char launcher[PATH_MAX];
	if (jail_warm_start(env, launcher, sizeof launcher, NULL)) {
		jp->warm_argv = calloc(4, sizeof *jp->warm_argv);
		if (!jp->warm_argv || !(jp->warm_argv[1] = ownf(jp, "%s", launcher)))
			return err_set(e, ENOMEM, "out of memory");
		jp->warm_argv[0] = (char *)env->argv[0];
		jp->warm_argv[2] = (char *)jp->code_path;
	}

	size_t n_env = sizeof jail_env_fixed / sizeof jail_env_fixed[0];
	const struct env_config *cfg = env_config();
	/* PATH, the fixed list, the inherited variables that are set (their
	 * values as the server started with them: [project] inherit_env), a
	 * slot for the session token, NULL. */
	jp->envp = calloc(n_env + cfg->n_inherit_env + 3, sizeof *jp->envp);
	if (!jp->envp)
		return err_set(e, ENOMEM, "out of memory");
	jp->envp[0] = ownf(jp, "PATH=%s/bin", env->root);
	if (!jp->envp[0])
		return err_set(e, ENOMEM, "out of memory");
	for (size_t i = 0; i < n_env; i++)
		jp->envp[i + 1] = (char *)jail_env_fixed[i];
	jp->n_envp = n_env + 1;
	for (size_t i = 0; i < cfg->n_inherit_env; i++) {
		const char *v = getenv(cfg->inherit_env[i]);
		if (!v)
			continue;
		if (!(jp->envp[jp->n_envp++] = ownf(jp, "%s=%s", cfg->inherit_env[i], v)))
			return err_set(e, ENOMEM, "out of memory");
	}
	return 0;
}

/* The launchers (agent/python_warm.py, agent/node_warm.js) sit beside the
 * session agent, in the one derivation nix/environment.nix makes per
 * interpreter_type. */
static const char *const warm_launchers[] = {
	[ENV_INTERP_PYTHON] = "python_warm.py",
	[ENV_INTERP_NODE] = "node_warm.js",
};

bool jail_warm_start(const struct env_entry *env, char *launcher, size_t len, const char **why)
{
	const char *name = (size_t)env->interp < sizeof warm_launchers / sizeof warm_launchers[0]
	                       ? warm_launchers[env->interp]
	                       : NULL;
	const char *agent = env->agent_argv ? env->agent_argv[0] ? env->agent_argv[1] : NULL : NULL;
	const char *slash = agent ? strrchr(agent, '/') : NULL;
	const char *no = NULL;

	if (!name)
		no = "bash starts in about a millisecond; a launcher would save nothing";
	else if (!env->argv || !env->argv[0] || env->argv[1] || !agent || env->agent_argv[2] ||
	         strcmp(env->argv[0], env->agent_argv[0]) != 0)
		/* `interpreter = "PROGRAM ARG..."`: what the ARGs would do to a
		 * launcher is unknown (a script name, -m, -c...). */
		no = "the interpreter override passes arguments";
	else if (!slash ||
	         snprintf(launcher, len, "%.*s/%s", (int)(slash - agent), agent, name) >=
	             (int)len ||
	         access(launcher, R_OK) < 0)
		no = "no launcher beside the session agent";
	if (why)
		*why = no;
	return !no;
}

static void unprepare(struct jail_prepared *jp)
{
	sysfilter_free(&jp->filter);
	free(jp->ops);
	free(jp->argv);
	free(jp->agent_argv);
	free(jp->warm_argv);
	free(jp->envp);
	for (size_t i = 0; i < jp->n_owned; i++)
		free(jp->owned[i]);
	free(jp->owned);
	memset(jp, 0, sizeof *jp);
}

char *jail_cmdline_start;
size_t jail_cmdline_len;

void jail_set_cmdline_area(char *start, size_t len)
{
	jail_cmdline_start = start;
	jail_cmdline_len = len;
}

/* Whether a sandbox can write the sysctl path (value) of a namespace of its
 * own: tried as the sandbox does it, in a child that unshares ns_flags.
 * NULL, or why not. Start-up only (forks). */
static const char *probe_sysctl(int ns_flags, const char *path, const char *value)
{
	pid_t pid = fork();
	if (pid == 0) {
		if (unshare(ns_flags) < 0)
			_exit(1);
		_exit(fs_write_str_at(AT_FDCWD, path, value) < 0 ? 2 : 0);
	}
	int st = 0;
	if (pid < 0)
		return "fork failed";
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return "waitpid failed";
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return NULL;
	return WIFEXITED(st) && WEXITSTATUS(st) == 2
	           ? "the sysctl is not writable in a new namespace"
	           : "no new namespace";
}

/* Whether a sandbox may set the limits of its own IPC namespace (SysV shm
 * and message queues): those sysctls are writable by the namespace's uid 0,
 * or global root when that is not mapped (ipc/ipc_sysctl.c,
 * ipc_permissions), which a sandbox of a root server is until it switches
 * to the sandbox uid. */
static const char *probe_ipc_limits(void)
{
	if (!server_is_root)
		return "the server is not root (the IPC sysctls belong to global root)";
	return probe_sysctl(CLONE_NEWUSER | CLONE_NEWIPC, "/proc/sys/kernel/shmmni", "64");
}

/* Whether a sandbox may lower its own user namespace's inotify limits
 * (/proc/sys/user: per user namespace, writable with CAP_SYS_RESOURCE in
 * it, which the sandbox has until it drops its capabilities). */
static const char *probe_user_limits(void)
{
	return probe_sysctl(CLONE_NEWUSER, "/proc/sys/user/max_inotify_instances", "1");
}

int jail_init(struct err *e)
{
	size_t n = env_count();
	server_is_root = geteuid() == 0;
	const char *no_user = probe_user_limits();
	user_limits = !no_user;
	if (no_user)
		log_msg(LOG_WARNING,
		        "jail: a sandbox's inotify limits are the kernel's defaults: %s", no_user);
	const char *no_ipc = probe_ipc_limits();
	ipc_limits = !no_ipc;
	if (no_ipc)
		log_msg(LOG_INFO,
		        "jail: SysV IPC limits of a sandbox are the kernel's defaults: %s", no_ipc);
	else
		log_msg(LOG_INFO, "jail: SysV IPC limits per sandbox: shared memory up to its "
		                  "memory limit in all, "
		                  "64 segments, 16 message queues");
	if (self_pidfd < 0 && (self_pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0)) < 0)
		return err_sys(e, errno, "pidfd_open of the server itself (Linux 5.3+ needed)");
	if (limits_init(e) < 0) {
		jail_fini();
		return -1;
	}
	prepared = calloc(n ? n : 1, sizeof *prepared);
	if (!prepared) {
		jail_fini();
		return err_set(e, ENOMEM, "out of memory");
	}
	n_prepared = n;
	for (size_t i = 0; i < n; i++)
		if (prepare(env_at(i), &prepared[i], e) < 0) {
			jail_fini();
			return -1;
		}
	snprintf(enforcement, sizeof enforcement, "%s", limits_describe());
	log_msg(LOG_INFO, "jail: %zu environment(s) prepared; sandbox ids map to host %s", n,
	        server_is_root ? "uid/gid 65534" : "the server's own uid/gid");
	return 0;
}

void jail_fini(void)
{
	mounts_project_tree_fini();
	for (size_t i = 0; i < n_prepared; i++)
		unprepare(&prepared[i]);
	free(prepared);
	prepared = NULL;
	n_prepared = 0;
	if (self_pidfd >= 0) {
		close(self_pidfd);
		self_pidfd = -1;
	}
}

static const struct jail_prepared *find_prepared(const struct env_entry *env)
{
	for (size_t i = 0; i < n_prepared; i++)
		if (prepared[i].env == env)
			return &prepared[i];
	return NULL;
}

/* ---- spawn ---- */

static int write_id_maps(pid_t pid, struct err *e)
{
	char path[64], map[64];
	unsigned host_uid = server_is_root ? JAIL_ROOT_HOST_ID : (unsigned)geteuid();
	unsigned host_gid = server_is_root ? JAIL_ROOT_HOST_ID : (unsigned)getegid();

	/* Without CAP_SETGID in our namespace the kernel wants setgroups
	 * denied before gid_map (user_namespaces(7)). As root we keep it and
	 * the child drops root's supplementary groups itself. */
	if (!server_is_root) {
		snprintf(path, sizeof path, "/proc/%d/setgroups", (int)pid);
		if (fs_write_str_at(AT_FDCWD, path, "deny") < 0 && errno != ENOENT)
			return err_sys(e, errno, "write %s", path);
	}
	snprintf(path, sizeof path, "/proc/%d/uid_map", (int)pid);
	snprintf(map, sizeof map, "%u %u 1\n", JAIL_UID, host_uid);
	if (fs_write_str_at(AT_FDCWD, path, map) < 0)
		return err_sys(e, errno, "write %s", path);
	snprintf(path, sizeof path, "/proc/%d/gid_map", (int)pid);
	snprintf(map, sizeof map, "%u %u 1\n", JAIL_GID, host_gid);
	if (fs_write_str_at(AT_FDCWD, path, map) < 0)
		return err_sys(e, errno, "write %s", path);
	return 0;
}

/* Move fd to >= 3 so the child's stdio shuffling cannot collide with it. */
static int above_stdio(int *fd)
{
	if (*fd >= 3)
		return 0;
	int n = fcntl(*fd, F_DUPFD_CLOEXEC, 3);
	if (n < 0)
		return -1;
	close(*fd);
	*fd = n;
	return 0;
}

static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static void close_fd(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

enum jail_clone3_next jail_clone3_next(int err, bool into_cgroup)
{
	if (err == ENOSYS)
		return JAIL_CLONE3_USE_CLONE;
	if (into_cgroup && (err == EINVAL || err == E2BIG))
		return JAIL_CLONE3_NO_CGROUP;
	return JAIL_CLONE3_FAIL;
}

/* fork-like clone: returns 0 in the child, pid in the parent, -1/errno.
 * *in_cg: the child was created in cg's group (else the caller attaches it;
 * the child waits for "go" before running anything, so that is no race). */
static pid_t clone_sandbox(uint64_t ns, const struct limits_cg *cg, int *pidfd, bool *in_cg)
{
	bool retry = false; /* once more without CLONE_INTO_CGROUP */
	long r;
	*in_cg = false;
	while (have_clone3) {
		bool into = have_into_cgroup && !retry && cg->dirfd >= 0;
		struct nsm_clone_args ca;
		memset(&ca, 0, sizeof ca);
		ca.flags = ns | CLONE_PIDFD;
		ca.pidfd = (uint64_t)(uintptr_t)pidfd;
		ca.exit_signal = SIGCHLD;
		if (into) {
			ca.flags |= NSM_CLONE_INTO_CGROUP;
			ca.cgroup = (uint64_t)cg->dirfd;
		}
		r = syscall(SYS_clone3, &ca, sizeof ca);
		if (r >= 0) {
			*in_cg = into;
			if (retry && r > 0) {
				/* The flag was the cause: leave it off from now on. */
				have_into_cgroup = false;
				log_msg(LOG_INFO,
				        "jail: clone3 refused CLONE_INTO_CGROUP (Linux < 5.7); "
				        "sandboxes are moved into their group after clone");
			}
			return (pid_t)r;
		}
		switch (jail_clone3_next(errno, into)) {
		case JAIL_CLONE3_FAIL:
			return -1;
		case JAIL_CLONE3_NO_CGROUP:
			retry = true;
			break;
		case JAIL_CLONE3_USE_CLONE:
			have_clone3 = false;
			log_msg(LOG_INFO, "jail: clone3 unavailable, using clone");
			break;
		}
	}
	/* x86_64 / aarch64 argument order: flags, stack, parent_tid, child_tid,
	 * tls. stack 0 = keep ours (copy-on-write), like fork. */
	r = syscall(SYS_clone, (unsigned long)ns | CLONE_PIDFD | SIGCHLD, 0UL, pidfd, NULL, 0UL);
	return (pid_t)r;
}

/* The refresher (jail.h, jail_refresh_project): fds 0-2 /dev/null, 3 its
 * socket, nothing else of the server's. As the sandbox's init made the
 * first view: in its user and mount namespaces, with its ids and the
 * capabilities of that namespace (its owner's), not dumpable. */
__attribute__((noreturn)) static void refresher_main(int sock, int ns_user, int ns_mnt,
                                                     const char *mount_point, pid_t server)
{
	struct err e = { 0 };
	char reply[1 + sizeof e.msg];
	if (jail_cmdline_start && jail_cmdline_len > 0) { /* as jail_child.c: a name in ps */
		static const char title[] = "sandbox-refresher";
		memset(jail_cmdline_start, 0, jail_cmdline_len);
		memcpy(jail_cmdline_start, title,
		       jail_cmdline_len > sizeof title ? sizeof title : jail_cmdline_len - 1);
	}
	prctl(PR_SET_NAME, "sandbox-refresh", 0, 0, 0); /* best effort: a name in ps */
	int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	int s = fcntl(sock, F_DUPFD, 10), u = fcntl(ns_user, F_DUPFD, 10),
	    m = fcntl(ns_mnt, F_DUPFD, 10);
	if (null_fd < 0 || s < 0 || u < 0 || m < 0 || dup2(null_fd, 0) < 0 ||
	    dup2(null_fd, 1) < 0 || dup2(null_fd, 2) < 0 || dup2(s, 3) < 0 || dup2(u, 4) < 0 ||
	    dup2(m, 5) < 0)
		_exit(2);
	if (syscall(SYS_close_range, 6U, ~0U, 0U) < 0)
		for (int fd = 6; fd < 65536; fd++)
			close(fd);
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0 || setns(4, CLONE_NEWUSER) < 0)
		err_sys(&e, errno, "enter the sandbox's user namespace");
	else if (setns(5, CLONE_NEWNS) < 0)
		err_sys(&e, errno, "enter the sandbox's mount namespace");
	else if ((server_is_root && setgroups(0, NULL) < 0) ||
	         setresgid(JAIL_GID, JAIL_GID, JAIL_GID) < 0 ||
	         setresuid(JAIL_UID, JAIL_UID, JAIL_UID) < 0)
		err_sys(&e, errno, "switch to the sandbox ids");
	/* After the id change, which clears it; then is the server still
	 * there (it may have died before this was armed)? */
	else if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || getppid() != server)
		_exit(3);
	close(4);
	close(5);
	for (;;) {
		char c;
		ssize_t n = recv(3, &c, 1, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			_exit(0);
		if (!e.msg[0] && umount2(mount_point, MNT_DETACH) < 0)
			err_sys(&e, errno, "detach the old view at %s", mount_point);
		else if (!e.msg[0])
			mounts_project_view(MOUNTS_LIVE_SRC, MOUNTS_LIVE_EMPTY, mount_point,
			                    "/proc/1/mountinfo", &e);
		reply[0] = e.msg[0] ? 'E' : 'O';
		size_t len = strlen(e.msg);
		memcpy(reply + 1, e.msg, len);
		if (send(3, reply, 1 + len, MSG_NOSIGNAL) < 0)
			_exit(0);
		if (e.msg[0])
			_exit(1); /* the view is gone: the server replaces the sandbox */
	}
}

static void stop_refresher(struct jail_proc *p)
{
	close_fd(&p->refresher_fd);
	if (p->refresher_pid > 0) {
		if (kill(p->refresher_pid, SIGKILL) < 0 && errno != ESRCH)
			log_msg(LOG_WARNING, "jail: kill the project refresher %d: %s",
			        p->refresher_pid, strerror(errno));
		while (waitpid(p->refresher_pid, NULL, 0) < 0 && errno == EINTR)
			;
		p->refresher_pid = -1;
	}
}

/* A session's refresher, started while init waits for "go" (its id maps
 * written): init can still be opened then (it makes itself not dumpable). */
static int start_refresher(struct jail_proc *p, const char *mount_point, struct err *e)
{
	char path[64];
	int ns[2] = { -1, -1 }, sp[2] = { -1, -1 }, rc = -1;
	snprintf(path, sizeof path, "/proc/%d/ns/user", p->pid);
	if ((ns[0] = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		err_sys(e, errno, "open %s", path);
		goto out;
	}
	snprintf(path, sizeof path, "/proc/%d/ns/mnt", p->pid);
	if ((ns[1] = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		err_sys(e, errno, "open %s", path);
		goto out;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0) {
		err_sys(e, errno, "socketpair");
		goto out;
	}
	pid_t server = getpid();
	pid_t pid = fork();
	if (pid == 0)
		refresher_main(sp[1], ns[0], ns[1], mount_point, server);
	if (pid < 0) {
		err_sys(e, errno, "fork the project refresher");
		goto out;
	}
	p->refresher_fd = sp[0];
	p->refresher_pid = pid;
	sp[0] = -1;
	rc = 0;
out:
	for (int i = 0; i < 2; i++) {
		close_fd(&ns[i]);
		close_fd(&sp[i]);
	}
	return rc;
}

int jail_refresh_project(struct jail_proc *p, const char *mount_point, struct err *e)
{
	(void)mount_point; /* the refresher was given it */
	if (p->refresher_fd < 0)
		return err_set(e, EINVAL, "the sandbox has no project refresher");
	char req = 'R', reply[1 + sizeof e->msg];
	struct pollfd pfd = { p->refresher_fd, POLLIN, 0 };
	ssize_t n;
	if (send(p->refresher_fd, &req, 1, MSG_NOSIGNAL) != 1) {
		err_sys(e, errno, "ask the project refresher");
		goto fail;
	}
	/* Detaching and mounting take well under a millisecond; a helper
	 * that does not answer in 1 s is stuck (a hung file system, or stopped
	 * from the host): this wait holds the event loop, so it is short. */
	int pr;
	while ((pr = poll(&pfd, 1, 1000)) < 0 && errno == EINTR)
		;
	if (pr <= 0) {
		err_set(e, ETIMEDOUT, "the project refresher did not answer");
		goto fail;
	}
	while ((n = recv(p->refresher_fd, reply, sizeof reply - 1, 0)) < 0 && errno == EINTR)
		;
	if (n <= 0) {
		err_set(e, EIO, "the project refresher ended");
		goto fail;
	}
	reply[n] = '\0';
	if (reply[0] == 'O')
		return 0;
	err_set(e, EIO, "refresh the project view: %s", reply + 1);
fail:
	stop_refresher(p);
	return -1;
}

void jail_proc_clear(struct jail_proc *p)
{
	memset(p, 0, sizeof *p);
	p->pid = -1;
	p->pidfd = p->sync_fd = p->code_fd = p->out_fd = p->err_fd = -1;
	p->refresher_fd = p->refresher_pid = -1;
	p->workspace_fd = -1;
	limits_cg_init(&p->cg);
}

int jail_spawn(const struct jail_spec *s, struct jail_proc *p, struct err *e)
{
	const struct jail_prepared *jp = find_prepared(s->env);
	struct jail_child_args a;
	int sync_sp[2] = { -1, -1 }, code_sp[2] = { -1, -1 }, out[2] = { -1, -1 },
	    errp[2] = { -1, -1 };
	char projdir[PATH_MAX];
	uint64_t ns = CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS;
	bool in_cg;
	int pidfd = -1, rc = -1, tree_fd = -1;
	pid_t pid;

	jail_proc_clear(p);
	if (!jp)
		return err_set(e, EINVAL, "environment %s was not prepared by jail_init",
		               s->env ? s->env->name : "(null)");
	if (s->agent_token) {
		size_t tl = strlen(s->agent_token);
		if (tl == 0 || tl > JAIL_TOKEN_MAX ||
		    strspn(s->agent_token, "0123456789abcdef") != tl)
			return err_set(e, EINVAL, "jail: bad agent token");
	}
	memset(&a, 0, sizeof a);
	if (s->project_dir) {
		/* Resolve in the server: symlinks in the path are the host's. */
		if (!realpath(s->project_dir, projdir))
			return err_sys(e, errno, "project directory %s", s->project_dir),
			       err_kernel(e);
		if (!s->project_mount || s->project_mount[0] != '/' ||
		    strstr(s->project_mount, ".."))
			return err_set(e, EINVAL, "project mount point must be an absolute path");
		/* Sessions see the project live (mounts.c: an overlay would show it
		 * as it was when first looked up). */
		a.project = (struct mount_op){ s->agent_token ? MOUNT_PROJECT_LIVE : MOUNT_PROJECT,
			                       0,
			                       projdir,
			                       s->project_mount,
			                       NULL,
			                       -1 };
		a.has_project = true;
		/* As root the sandbox is host uid 65534: it reads the project
		 * as its owner through an idmapped copy of the tree. */
		if (server_is_root && idmap_usable) {
			struct err ie;
			tree_fd = mounts_project_tree(projdir, JAIL_ROOT_HOST_ID, &ie);
			if (tree_fd >= 0) {
				a.project.flags |= MOUNT_FROM_FD;
				a.project.fd = tree_fd;
			} else {
				idmap_usable = false;
				log_msg(LOG_WARNING,
				        "jail: %s; from now on the project is read as host uid %u "
				        "(files only its owner may read are not readable)",
				        ie.msg, JAIL_ROOT_HOST_ID);
			}
		}
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sync_sp) < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, code_sp) < 0 ||
	    pipe2(out, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
		err_sys(e, errno, "jail: create channels");
		goto out;
	}
	if (above_stdio(&sync_sp[1]) < 0 || above_stdio(&code_sp[1]) < 0 ||
	    above_stdio(&out[1]) < 0 || above_stdio(&errp[1]) < 0 || set_nonblock(sync_sp[0]) < 0 ||
	    set_nonblock(code_sp[0]) < 0 || set_nonblock(out[0]) < 0 || set_nonblock(errp[0]) < 0) {
		err_sys(e, errno, "jail: set up channels");
		goto out;
	}
	if (limits_cg_create(&s->env->limits, &p->cg, e) < 0)
		goto out;
	if (!s->env->network)
		ns |= CLONE_NEWNET;
	a.jp = jp;
	a.own_net = !s->env->network;
	a.may_setgroups = server_is_root;
	a.ipc_limits = ipc_limits;
	a.user_limits = user_limits;
	a.agent_token = s->agent_token;
	a.warm = s->warm && !s->agent_token && jp->warm_argv;
	a.deadline_s = s->deadline_s ? s->deadline_s : s->env->limits.timeout_seconds;
	if (a.deadline_s > UINT_MAX - JAIL_DEADLINE_GRACE_S)
		a.deadline_s = UINT_MAX - JAIL_DEADLINE_GRACE_S;
	a.deadline_s += JAIL_DEADLINE_GRACE_S;
	a.server_pidfd = self_pidfd;
	a.sync_fd = sync_sp[1];
	a.code_fd = code_sp[1];
	a.out_fd = out[1];
	a.err_fd = errp[1];

	pid = clone_sandbox(ns, &p->cg, &pidfd, &in_cg);
	if (pid < 0) {
		int s2 = errno;
		/* The caller adds jail_hint(e->code). */
		err_sys(e, s2, "cannot create the sandbox namespaces (clone)");
		err_kernel(e);
		goto out;
	}
	if (pid == 0)
		jail_child_main(&a); /* never returns */
	close_fd(&tree_fd);

	p->pid = pid;
	p->pidfd = pidfd;
	close_fd(&sync_sp[1]);
	close_fd(&code_sp[1]);
	close_fd(&out[1]);
	close_fd(&errp[1]);
	p->sync_fd = sync_sp[0];
	p->code_fd = code_sp[0];
	p->out_fd = out[0];
	p->err_fd = errp[0];
	sync_sp[0] = code_sp[0] = out[0] = errp[0] = -1;

	if (write_id_maps(pid, e) < 0 || (!in_cg && limits_cg_attach(&p->cg, pid, e) < 0)) {
		err_kernel(e);
		goto kill;
	}
	if (s->agent_token && a.has_project && start_refresher(p, s->project_mount, e) < 0)
		goto kill;
	char go = 'G';
	ssize_t w;
	do
		w = send(p->sync_fd, &go, 1, MSG_NOSIGNAL);
	while (w < 0 && errno == EINTR);
	if (w != 1) {
		err_sys(e, errno, "jail: release the sandbox");
		goto kill;
	}
	return 0;
kill:
	/* The child is still waiting for "go": it dies at once. */
	jail_kill(p);
	{
		siginfo_t si;
		while (syscall(SYS_waitid, NSM_P_PIDFD, p->pidfd, &si, WEXITED, NULL) < 0 &&
		       errno == EINTR)
			;
		p->reaped = true;
	}
	jail_release(p);
	return rc;
out:
	close_fd(&tree_fd);
	close_fd(&sync_sp[0]);
	close_fd(&sync_sp[1]);
	close_fd(&code_sp[0]);
	close_fd(&code_sp[1]);
	close_fd(&out[0]);
	close_fd(&out[1]);
	close_fd(&errp[0]);
	close_fd(&errp[1]);
	limits_cg_destroy(&p->cg);
	return rc;
}

void jail_kill(struct jail_proc *p)
{
	if (p->reaped || p->pidfd < 0)
		return;
	limits_cg_kill(&p->cg);
	if (syscall(SYS_pidfd_send_signal, p->pidfd, SIGKILL, NULL, 0) < 0 && errno != ESRCH)
		log_msg(LOG_WARNING, "jail: kill sandbox %d: %s", p->pid, strerror(errno));
}

int jail_reap(struct jail_proc *p)
{
	siginfo_t si;
	if (p->reaped)
		return 1;
	memset(&si, 0, sizeof si);
	for (;;) {
		if (syscall(SYS_waitid, NSM_P_PIDFD, p->pidfd, &si, WEXITED | WNOHANG, NULL) == 0)
			break;
		if (errno == EINTR)
			continue;
		/* ECHILD: someone else reaped it (SIGCHLD set to SIG_IGN?). */
		if (errno == ECHILD) {
			p->reaped = true;
			return 1;
		}
		return -1;
	}
	if (si.si_pid == 0)
		return 0;
	p->reaped = true;
	p->init_code = si.si_code;
	p->init_status = si.si_status;
	return 1;
}

void jail_release(struct jail_proc *p)
{
	stop_refresher(p);
	close_fd(&p->pidfd);
	close_fd(&p->sync_fd);
	close_fd(&p->code_fd);
	close_fd(&p->out_fd);
	close_fd(&p->err_fd);
	close_fd(&p->workspace_fd);
	limits_cg_destroy(&p->cg);
}

int jail_make_token(char *tok, size_t len, struct err *e)
{
	unsigned char raw[16];
	size_t got = 0;
	while (got < sizeof raw) {
		ssize_t n = getrandom(raw + got, sizeof raw - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return err_sys(e, errno, "getrandom");
		got += (size_t)n;
	}
	for (size_t i = 0; i < sizeof raw && 2 * i + 2 < len; i++)
		snprintf(tok + 2 * i, 3, "%02x", raw[i]);
	return 0;
}

int jail_join_groups(void *ctx, struct err *e)
{
	const struct jail_proc *p = ctx;
	return limits_cg_attach(&p->cg, (int)getpid(), e);
}

bool jail_has_groups(const struct jail_proc *p)
{
	return p->cg.path[0] || p->cg.dirfd >= 0;
}

int jail_reap_wait(struct jail_proc *p)
{
	int rc, err = 0;
	jail_kill(p);
	while ((rc = jail_reap(p)) == 0)
		poll(NULL, 0, 1);
	if (rc < 0)
		err = errno;
	jail_release(p);
	errno = err;
	return rc < 0 ? -1 : 0;
}

void jail_end(struct jail_proc *p, struct jail_end *end)
{
	memset(end, 0, sizeof *end);
	jail_workspace(p);
	for (;;) {
		struct jail_msg m;
		ssize_t n = p->sync_fd >= 0 ? recv(p->sync_fd, &m, sizeof m, MSG_DONTWAIT) : -1;
		if (n < 0 && errno == EINTR)
			continue;
		if (n != (ssize_t)sizeof m)
			break;
		m.text[sizeof m.text - 1] = '\0';
		if (m.type == JAIL_MSG_ERROR && !end->setup_error[0])
			snprintf(end->setup_error, sizeof end->setup_error,
			         "sandbox setup failed: %.480s", m.text);
		else if (m.type == JAIL_MSG_EXIT) {
			end->exited = true;
			end->status = m.status;
		}
	}
	end->oom = limits_cg_oom_killed(&p->cg);
	end->own_deadline =
	    p->reaped && p->init_code == CLD_EXITED && p->init_status == JAIL_INIT_EXIT_DEADLINE;
}

int jail_next_report(struct jail_proc *p)
{
	struct jail_msg m;
	ssize_t n;
	jail_workspace(p);
	if (p->sync_fd < 0)
		return -1;
	do
		n = recv(p->sync_fd, &m, sizeof m, MSG_DONTWAIT | MSG_PEEK);
	while (n < 0 && errno == EINTR);
	if (n == (ssize_t)sizeof m)
		return m.type;
	return n < 0 && errno == EAGAIN ? 0 : -1;
}

bool jail_take_accepted(struct jail_proc *p)
{
	struct jail_msg m;
	return jail_next_report(p) == JAIL_MSG_ACCEPTED &&
	       recv(p->sync_fd, &m, sizeof m, MSG_DONTWAIT) == (ssize_t)sizeof m;
}

int jail_workspace(struct jail_proc *p)
{
	while (p->workspace_fd < 0 && p->sync_fd >= 0) {
		struct jail_msg m;
		/* A peek without room for fds passes none (unix(7)). */
		ssize_t n = recv(p->sync_fd, &m, sizeof m, MSG_DONTWAIT | MSG_PEEK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n != (ssize_t)sizeof m || m.type != JAIL_MSG_WORKSPACE)
			break;
		union {
			struct cmsghdr h;
			char buf[CMSG_SPACE(sizeof(int))];
		} c;
		struct iovec iov = { &m, sizeof m };
		struct msghdr mh = { .msg_iov = &iov,
			             .msg_iovlen = 1,
			             .msg_control = c.buf,
			             .msg_controllen = sizeof c.buf };
		do
			n = recvmsg(p->sync_fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		while (n < 0 && errno == EINTR);
		if (n != (ssize_t)sizeof m)
			break;
		struct cmsghdr *ch = CMSG_FIRSTHDR(&mh);
		if (ch && ch->cmsg_level == SOL_SOCKET && ch->cmsg_type == SCM_RIGHTS &&
		    ch->cmsg_len == CMSG_LEN(sizeof(int)) && !(mh.msg_flags & MSG_CTRUNC))
			memcpy(&p->workspace_fd, CMSG_DATA(ch), sizeof(int));
		else
			break; /* a message without its fd: not from our init */
	}
	return p->workspace_fd;
}

/* ---- doctor ---- */

static int read_num(const char *path, long *v)
{
	char buf[64];
	if (fs_read_small(path, buf, sizeof buf) <= 0)
		return -1;
	*v = strtol(buf, NULL, 10);
	return 0;
}

struct report {
	char *buf;
	size_t len, off;
	int problems;
};

static void line(struct report *r, int problem, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void line(struct report *r, int problem, const char *fmt, ...)
{
	va_list ap;
	if (problem)
		r->problems++;
	if (r->off + 1 >= r->len)
		return;
	int n = snprintf(r->buf + r->off, r->len - r->off, "%s ", problem ? "FAIL" : "ok  ");
	if (n > 0)
		r->off = r->off + (size_t)n < r->len ? r->off + (size_t)n : r->len - 1;
	va_start(ap, fmt);
	n = vsnprintf(r->buf + r->off, r->len - r->off, fmt, ap);
	va_end(ap);
	if (n > 0)
		r->off = r->off + (size_t)n < r->len ? r->off + (size_t)n : r->len - 1;
	if (r->off + 1 < r->len) {
		r->buf[r->off++] = '\n';
		r->buf[r->off] = '\0';
	}
}

/* Try what the jail does first: clone into every namespace and mount a
 * tmpfs there. The child exits with 0 or the failing errno. */
static int try_namespaces(int *stage)
{
	int pidfd = -1;
	bool in_cg;
	struct limits_cg none;
	siginfo_t si;
	limits_cg_init(&none);
	pid_t pid = clone_sandbox(CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC |
	                              CLONE_NEWUTS | CLONE_NEWNET,
	                          &none, &pidfd, &in_cg);
	*stage = 0;
	if (pid < 0)
		return errno;
	if (pid == 0) {
		if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
			_exit(100 + 1);
		if (mount("tmpfs", "/tmp", "tmpfs", 0, "size=16k") < 0)
			_exit(100 + 2);
		_exit(0);
	}
	memset(&si, 0, sizeof si);
	while (syscall(SYS_waitid, NSM_P_PIDFD, pidfd, &si, WEXITED, NULL) < 0 && errno == EINTR)
		;
	close(pidfd);
	if (si.si_code == CLD_EXITED && si.si_status > 100) {
		*stage = si.si_status - 100;
		return EPERM;
	}
	return 0;
}

int jail_doctor(char *buf, size_t len)
{
	struct report r = { buf, len, 0, 0 };
	struct utsname u;
	long v;
	int stage, rc;

	if (len)
		buf[0] = '\0';
	if (uname(&u) == 0)
		line(&r, 0, "kernel %s %s", u.release, u.machine);
	if (read_num("/proc/sys/user/max_user_namespaces", &v) == 0)
		line(&r, v <= 0, "user.max_user_namespaces = %ld%s", v,
		     v <= 0 ? " (must be > 0)" : "");
	else
		line(&r, 1,
		     "no /proc/sys/user/max_user_namespaces: kernel without CONFIG_USER_NS?");
	if (read_num("/proc/sys/kernel/unprivileged_userns_clone", &v) == 0)
		line(&r, v == 0 && geteuid() != 0, "kernel.unprivileged_userns_clone = %ld%s", v,
		     v == 0 ? (geteuid() ? " (set it to 1)" : " (fine as root)") : "");
	if (read_num("/proc/sys/kernel/apparmor_restrict_unprivileged_userns", &v) == 0)
		line(&r, v != 0 && geteuid() != 0,
		     "kernel.apparmor_restrict_unprivileged_userns = %ld%s", v,
		     v ? " (set it to 0 or give this binary an AppArmor profile with 'userns,')"
		       : "");
	rc = try_namespaces(&stage);
	if (rc)
		line(&r, 1, "creating user/pid/mount/net/ipc/uts namespaces: %s%s - %s",
		     strerror(rc),
		     stage == 1   ? " (making / private)"
		     : stage == 2 ? " (mounting tmpfs)"
		                  : "",
		     jail_hint(rc));
	else
		line(&r, 0, "user, pid, mount, net, ipc, uts namespaces and tmpfs mounts work");
	const char *no_ipc = probe_ipc_limits();
	if (no_ipc)
		line(
		    &r, 0,
		    "SysV IPC limits of a sandbox are the kernel's defaults (%s): without a memory "
		    "cgroup its SysV shared memory is not bounded",
		    no_ipc);
	else
		line(&r, 0,
		     "SysV IPC limits are set per sandbox (shared memory up to its memory limit)");
	rc = (int)syscall(SYS_pidfd_open, getpid(), 0);
	if (rc >= 0) {
		line(&r, 0, "pidfd_open works");
		/* Sandboxes are reaped by pidfd. With our own pidfd the call
		 * has no child to wait for: ECHILD means the kernel knows
		 * P_PIDFD (Linux 5.4+), EINVAL that it does not. */
		siginfo_t si;
		if (syscall(SYS_waitid, NSM_P_PIDFD, rc, &si, WEXITED | WNOHANG, NULL) < 0 &&
		    errno != ECHILD)
			line(&r, 1, "waitid(P_PIDFD): %s (Linux 5.4+ needed)", strerror(errno));
		else
			line(&r, 0, "waitid(P_PIDFD) works");
		close(rc);
	} else {
		line(&r, 1, "pidfd_open: %s (Linux 5.3+ needed)", strerror(errno));
		line(&r, 1, "waitid(P_PIDFD): not tried without pidfd_open (Linux 5.4+ needed)");
	}
	rc = prctl(PR_GET_SECCOMP, 0, 0, 0, 0);
	if (rc < 0)
		line(&r, 1, "seccomp: %s (CONFIG_SECCOMP_FILTER needed)", strerror(errno));
	else
		line(&r, 0, "seccomp available (server itself in mode %d)", rc);
	size_t off = r.off;
	r.problems += limits_doctor(r.buf, r.len, &off);
	r.off = off;
	line(&r, 0, "limits enforced with: %s", limits_describe());
	return r.problems;
}
