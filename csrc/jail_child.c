/* jail_child.c — what happens after clone(), in a fixed order.
 *
 * Owns: the sandbox init (pid 1 of the new pid namespace) and the
 * interpreter process it forks. Must not: return (it ends in _exit or
 * execve), use the event loop, or allocate after the rlimits are set.
 * Failures are sent to the server as a JAIL_MSG_ERROR datagram on sync_fd
 * before _exit (crun style), so the server can show them.
 *
 * The order, and why:
 *  1. PDEATHSIG, close inherited fds: a server that dies takes the sandbox
 *     with it; no server fd (its stdin/stdout are the MCP channel) leaks in.
 *  2. wait for "go": the server writes uid_map/gid_map in between.
 *  3. setgroups/setresgid/setresuid to the sandbox ids: files created from
 *     now on (tmpfs, code) belong to the sandbox user. The capabilities of
 *     the new user namespace are kept (capabilities(7): the transition rule
 *     clears them only when leaving the namespace's uid 0, which we never
 *     held), and are needed for the mounts. Then PDEATHSIG again, because
 *     the change of ids cleared it, and a check that the server did not die
 *     before it was armed (through the server's pidfd: see the step).
 *  4. unshare(CLONE_NEWCGROUP): after the server put us in our own cgroup,
 *     so /proc/self/cgroup shows "/".
 *  5. hostname, loopback up (own net ns only).
 *  6. new root (mounts.c), pivot, root read-only; a directory fd of
 *     /workspace to the server (JAIL_MSG_WORKSPACE: the run's files).
 *  --- a pool may stop here and continue when the code arrives; a warm
 *      spare (jail.h, "Warm start") does step 8 here, its launcher waiting
 *      for "go", and at step 7 sends "go" once the code is read-only ---
 *  7. read the code into /run/sandbox, then make that read-only (session
 *     mode: no code; code_fd is the agent's control channel instead);
 *     tell the server it is in (JAIL_MSG_ACCEPTED).
 *  8. fork the interpreter; in it: session, stdio (+ fd 3 = code_fd in
 *     session mode), cwd, rlimits, drop capabilities (bounding, ambient,
 *     then the sets), NO_NEW_PRIVS, seccomp LAST (it forbids calls the
 *     steps before it need), execve.
 *  9. init closes its copy of code_fd (the server must see EOF when the
 *     agent is gone), drops its capabilities, becomes non-dumpable (the
 *     interpreter, same uid, must not reach it through /proc/1/mem), arms
 *     the sandbox's own deadline (alarm(2); jail.h), reaps until the
 *     interpreter is gone, reports its status and exits: the kernel then
 *     SIGKILLs the rest of the namespace (pid_namespaces(7)). At the
 *     deadline it exits at once, with the same effect. In session mode it
 *     forwards SIGINT to the interpreter's process group.
 */
#include "jail.h"
#include "fsutil.h"
#include "log.h"
#include "strbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* This process is a clone(2) of one thread of a threaded server (the
 * spawner's: spawner.h), and libc still believes in the other threads: its
 * set*id() wrappers would signal them and wait for ever to change their
 * credentials too, and its fork() takes locks (malloc's) that another
 * thread may have held at the clone. So the raw system calls: they act on
 * this one thread, which is the whole process. Nothing here allocates. */
static int raw_setgroups0(void)
{
	return (int)syscall(SYS_setgroups, 0, NULL);
}

static int raw_setresid(unsigned uid, unsigned gid)
{
	if (syscall(SYS_setresgid, gid, gid, gid) < 0)
		return -1;
	return (int)syscall(SYS_setresuid, uid, uid, uid);
}

static pid_t raw_fork(void)
{
	/* (flags SIGCHLD, no stack, no tids: the argument order of
	 * clone(2), which differs between architectures, does not matter.) */
	return (pid_t)syscall(SYS_clone, (unsigned long)SIGCHLD, 0UL, 0UL, 0UL, 0UL);
}

#ifndef CLONE_NEWCGROUP
#define CLONE_NEWCGROUP 0x02000000
#endif
#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

static int sync_fd = -1;
/* The interpreter, for init's SIGINT forwarding (pid in our namespace). */
static volatile pid_t interp_pid;

/* Init is pid 1 of its namespace: the kernel delivers a signal from the
 * server (an ancestor namespace) only when init has a handler for it
 * (pid_namespaces(7)), so this handler is what lets the server interrupt
 * pid 2, whose host pid it does not know. The interpreter called setsid(),
 * so its process group is its pid: a `sleep` it waits for is interrupted
 * too, as Ctrl-C would. kill(2) is async-signal-safe. */
static void forward_sigint(int sig)
{
	int saved = errno;
	if (interp_pid > 0)
		kill(-interp_pid, sig);
	errno = saved;
}

/* The sandbox's own deadline (jail.h): the server did not end the run in
 * time, or is gone. Init's exit makes the kernel SIGKILL every other process
 * of the namespace. As pid 1 it gets SIGALRM from its own timer only because
 * it has a handler (pid_namespaces(7)). _exit is async-signal-safe. */
static void on_deadline(int sig)
{
	(void)sig;
	_exit(JAIL_INIT_EXIT_DEADLINE);
}

__attribute__((noreturn)) static void fail(struct err *e, const char *hint)
{
	struct jail_msg m;
	memset(&m, 0, sizeof m);
	m.type = JAIL_MSG_ERROR;
	m.status = e->code;
	/* Message first, then the hint, cut to fit (no allocation: we are
	 * a forked child). */
	struct strbuf sb;
	sb_init(&sb, m.text, sizeof m.text);
	sb_add(&sb, e->msg);
	if (hint) {
		sb_add(&sb, " - ");
		sb_add(&sb, hint);
	}
	if (sync_fd >= 0) {
		ssize_t w;
		do
			w = send(sync_fd, &m, sizeof m, MSG_NOSIGNAL);
		while (w < 0 && errno == EINTR);
	}
	_exit(127);
}

/* 1: the server has exited, 0: it is there, -1: cannot tell (e says why). */
static int server_gone(int pidfd, struct err *e)
{
	struct pollfd p = { .fd = pidfd, .events = POLLIN };
	int n;
	do
		n = poll(&p, 1, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return err_sys(e, errno, "poll the server's pidfd");
	if (n > 0 && (p.revents & POLLNVAL))
		return err_set(e, EBADF, "the server's pidfd is not open in the sandbox");
	if (n > 0)
		return err_set(e, ESRCH, "the server exited during sandbox set-up"), 1;
	return 0;
}

static int xclose_range(unsigned lo, unsigned hi, unsigned flags)
{
	if (lo > hi)
		return 0;
	if (syscall(SYS_close_range, lo, hi, flags) == 0)
		return 0;
	if (flags)
		return -1; /* CLOSE_RANGE_CLOEXEC needs 5.11; caller falls back */
	/* Before Linux 5.9: close one by one, bounded. */
	for (unsigned fd = lo; fd <= hi && fd < 65536; fd++)
		close((int)fd);
	return 0;
}

/* Close every fd except keep[0..n) (sorted ascending). */
static void close_all_but(const int *keep, int n)
{
	unsigned lo = 0;
	for (int i = 0; i < n; i++) {
		if ((unsigned)keep[i] > lo)
			xclose_range(lo, (unsigned)keep[i] - 1, 0);
		lo = (unsigned)keep[i] + 1;
	}
	xclose_range(lo, ~0U, 0);
}

static void reset_signals(void)
{
	sigset_t all;
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			sigaction(s, &sa, NULL); /* EINVAL for libc-reserved ones: fine */
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
}

static int loopback_up(struct err *e)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return err_sys(e, errno, "socket for lo");
	memset(&ifr, 0, sizeof ifr);
	memcpy(ifr.ifr_name, "lo", 3);
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0 ||
	    (ifr.ifr_flags |= IFF_UP, ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)) {
		int s = errno;
		close(fd);
		return err_sys(e, s, "bring lo up");
	}
	close(fd);
	return 0;
}

static int drop_caps(struct err *e)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];
	/* Bounding set first: dropping needs CAP_SETPCAP, which the capset
	 * below removes. cap_last_cap may exceed our headers: stop at EINVAL. */
	for (int cap = 0; cap < 64; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
			if (errno == EINVAL)
				break;
			return err_sys(e, errno, "drop capability %d from the bounding set", cap);
		}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return err_sys(e, errno, "clear ambient capabilities");
	memset(data, 0, sizeof data);
	if (syscall(SYS_capset, &hdr, data) < 0)
		return err_sys(e, errno, "capset");
	return 0;
}

static int read_code(const struct jail_child_args *a, struct err *e)
{
	char buf[65536];
	size_t total = 0;
	int fd = open(a->jp->code_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return err_sys(e, errno, "create %s", a->jp->code_path);
	for (;;) {
		ssize_t n = read(a->code_fd, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int s = errno;
			close(fd);
			return err_sys(e, s, "read code");
		}
		if (n == 0)
			break;
		total += (size_t)n;
		if (total > JAIL_CODE_MAX) {
			close(fd);
			return err_set(e, EFBIG, "code larger than %u bytes", JAIL_CODE_MAX);
		}
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(fd, buf + off, (size_t)(n - off));
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0) {
				int s = errno;
				close(fd);
				return err_sys(e, s, "write %s", a->jp->code_path);
			}
			off += w;
		}
	}
	close(a->code_fd);
	if (close(fd) < 0)
		return err_sys(e, errno, "close %s", a->jp->code_path);
	return 0;
}

/* go_fd: warm start (jail.h), the launcher's "go" pipe, its fd 3; else -1. */
__attribute__((noreturn)) static void run_interpreter(const struct jail_child_args *a, int null_fd,
                                                      int go_fd)
{
	struct err e = { 0 };

	reset_signals();
	if (setsid() < 0) {
		err_sys(&e, errno, "setsid");
		fail(&e, NULL);
	}
	if (dup2(null_fd, 0) < 0 || dup2(a->out_fd, 1) < 0 || dup2(a->err_fd, 2) < 0) {
		err_sys(&e, errno, "dup2 stdio");
		fail(&e, NULL);
	}
	int first_closed = 3;
	int fd3 = a->agent_token ? a->code_fd : go_fd;
	if (fd3 >= 0) {
		/* The agent's control channel is fd 3 (agent/PROTOCOL.md), or
		 * the warm launcher's "go" pipe. sync_fd may sit there: move it
		 * up first (fd3 is never 3 then, so the dup2 below cannot hit
		 * it). dup2 clears FD_CLOEXEC; when fd3 already is 3, clear it
		 * by hand. */
		if (sync_fd == 3) {
			int n = fcntl(sync_fd, F_DUPFD_CLOEXEC, 4);
			if (n < 0) {
				err_sys(&e, errno, "move sync fd");
				fail(&e, NULL);
			}
			sync_fd = n; /* fd 3 is replaced by the dup2 below */
		}
		if (fd3 == 3 ? fcntl(3, F_SETFD, 0) < 0 : dup2(fd3, 3) < 0) {
			err_sys(&e, errno, "control channel on fd 3");
			fail(&e, NULL);
		}
		first_closed = 4;
	}
	/* Everything else closes at execve; sync_fd stays open until then so
	 * an execve failure can still be reported. */
	if (xclose_range((unsigned)first_closed, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		for (int fd = first_closed; fd < 1024; fd++)
			if (fd != sync_fd)
				close(fd);
	if (chdir("/workspace") < 0) {
		err_sys(&e, errno, "chdir /workspace");
		fail(&e, NULL);
	}
	if (limits_child_apply(&a->jp->env->limits, &e) < 0)
		fail(&e, NULL);
	if (drop_caps(&e) < 0)
		fail(&e, NULL);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		err_sys(&e, errno, "PR_SET_NO_NEW_PRIVS");
		fail(&e, NULL);
	}
	/* Last: after this, mount/prctl-style calls the steps above needed may
	 * be denied. */
	if (sysfilter_load(&a->jp->filter, &e) < 0)
		fail(&e, "the kernel needs CONFIG_SECCOMP_FILTER");
	char *const *argv = go_fd >= 0 ? a->jp->warm_argv : a->jp->argv;
	if (a->agent_token) {
		/* Our memory is a private copy of the server's (clone without
		 * CLONE_VM): filling envp's spare slot changes only this
		 * process. The token was checked by jail_spawn (hex, bounded). */
		static char token_var[sizeof "NSM_AGENT_TOKEN=" + JAIL_TOKEN_MAX];
		size_t k = 0;
		for (const char *p = "NSM_AGENT_TOKEN="; *p; p++)
			token_var[k++] = *p;
		for (const char *p = a->agent_token; *p && k + 1 < sizeof token_var; p++)
			token_var[k++] = *p;
		token_var[k] = '\0';
		a->jp->envp[a->jp->n_envp] = token_var;
		argv = a->jp->agent_argv;
	}
	execve(argv[0], argv, a->jp->envp);
	err_sys(&e, errno, "execve %s", argv[0]);
	fail(&e, "the environment's interpreter is missing from its closure");
}

/* Step 8's fork; go_fd as for run_interpreter. Returns the child's pid. */
static pid_t fork_interpreter(const struct jail_child_args *a, int go_fd)
{
	struct err e = { 0 };
	int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (null_fd < 0) {
		err_sys(&e, errno, "open /dev/null in the sandbox");
		fail(&e, NULL);
	}
	pid_t child = raw_fork();
	if (child < 0) {
		err_sys(&e, errno, "fork the interpreter");
		fail(&e, NULL);
	}
	if (child == 0)
		run_interpreter(a, null_fd, go_fd);
	close(null_fd);
	return child;
}

/* Make /workspace/out and hand the server a directory fd of /workspace
 * (JAIL_MSG_WORKSPACE), for the run's files in and out (wsfiles.h): the
 * first message of a sandbox whose set-up went well. */
static int send_workspace(struct err *e)
{
	struct jail_msg m;
	memset(&m, 0, sizeof m);
	m.type = JAIL_MSG_WORKSPACE;
	int fd = open("/workspace", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return err_sys(e, errno, "open /workspace");
	/* Where the code leaves files for the client (README, "Files in and
	 * out"): there from the start. */
	if (mkdirat(fd, "out", 0755) < 0) {
		int s = errno;
		close(fd);
		return err_sys(e, s, "mkdir /workspace/out");
	}
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} c;
	memset(&c, 0, sizeof c);
	struct iovec iov = { &m, sizeof m };
	struct msghdr mh = { .msg_iov = &iov,
		             .msg_iovlen = 1,
		             .msg_control = c.buf,
		             .msg_controllen = sizeof c.buf };
	struct cmsghdr *ch = CMSG_FIRSTHDR(&mh);
	ch->cmsg_level = SOL_SOCKET;
	ch->cmsg_type = SCM_RIGHTS;
	ch->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(ch), &fd, sizeof(int));
	ssize_t n;
	do
		n = sendmsg(sync_fd, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	int s = errno;
	close(fd);
	if (n != (ssize_t)sizeof m)
		return err_sys(e, n < 0 ? s : EIO, "send /workspace to the server");
	return 0;
}

/* Tell the server the code is in (JAIL_MSG_ACCEPTED). */
static void accepted(void)
{
	struct jail_msg m;
	ssize_t n;
	memset(&m, 0, sizeof m);
	m.type = JAIL_MSG_ACCEPTED;
	do
		n = send(sync_fd, &m, sizeof m, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
}

__attribute__((noreturn)) static void be_init(const struct jail_child_args *a, pid_t child)
{
	struct jail_msg m;
	struct err e = { 0 };
	int st;

	close(a->out_fd);
	close(a->err_fd);
	if (a->agent_token) {
		struct sigaction sa;
		close(a->code_fd);
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = forward_sigint;
		sa.sa_flags = SA_RESTART;
		sigemptyset(&sa.sa_mask);
		interp_pid = child;
		if (sigaction(SIGINT, &sa, NULL) < 0) {
			err_sys(&e, errno, "init: sigaction SIGINT");
			kill(child, SIGKILL);
			fail(&e, NULL);
		}
	}
	prctl(PR_SET_NAME, "sandbox-init", 0, 0, 0);
	/* Non-dumpable before the capabilities go: while init holds them the
	 * interpreter fails ptrace's capability-subset check, afterwards the
	 * dumpable flag keeps it out (ptrace(2), "Ptrace access mode checking").
	 * Dropping capabilities does not clear the parent-death signal: the
	 * kernel clears it only when the new credentials are not a subset of
	 * the old (commit_creds). */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0 || drop_caps(&e) < 0 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		if (!e.msg[0])
			err_sys(&e, errno, "init: prctl");
		kill(child, SIGKILL);
		fail(&e, NULL);
	}
	/* The sandbox's own deadline. alarm(2) cannot fail; timers are not
	 * inherited by fork, so the interpreter has none. */
	{
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = on_deadline;
		sigemptyset(&sa.sa_mask);
		if (sigaction(SIGALRM, &sa, NULL) < 0) {
			err_sys(&e, errno, "init: sigaction SIGALRM");
			kill(child, SIGKILL);
			fail(&e, NULL);
		}
		alarm(a->deadline_s);
	}
	/* As pid 1 we get no signal from inside the namespace that we have no
	 * handler for (we install none but session mode's SIGINT forwarder);
	 * the server kills us from outside. */
	for (;;) {
		pid_t p = waitpid(-1, &st, __WALL);
		if (p < 0) {
			if (errno == EINTR)
				continue;
			_exit(126); /* ECHILD before the interpreter: cannot happen */
		}
		if (p == child)
			break;
	}
	memset(&m, 0, sizeof m);
	m.type = JAIL_MSG_EXIT;
	m.status = st;
	ssize_t n;
	do
		n = send(sync_fd, &m, sizeof m, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	/* Our exit kills what the interpreter left behind (daemons, forks). */
	_exit(0);
}

/* Each {path, value}: sysctls of the sandbox's own namespaces, through the
 * host's /proc (its files act on the writer's namespaces). */
static int write_sysctls(const char *const set[][2], size_t n, struct err *e)
{
	for (size_t i = 0; i < n; i++)
		if (fs_write_str_at(AT_FDCWD, set[i][0], set[i][1]) < 0)
			return err_sys(e, errno, "set %s to %s", set[i][0], set[i][1]);
	return 0;
}

/* SysV shared memory and message queues belong to the sandbox's own IPC
 * namespace, whose limits are these sysctls (ipc_namespaces(7)); without a
 * memory cgroup nothing else bounds them. Shared memory up to the memory
 * limit in all, a few message queues (16 KiB each). Only global root may
 * write them (jail.c, probe_ipc_limits): before the switch to the sandbox
 * uid. /proc is still the host's; the files act on our namespace. */
static int set_ipc_limits(unsigned memory_mb, struct err *e)
{
	char shmmax[32], shmall[32];
	long page = sysconf(_SC_PAGESIZE);
	unsigned long long mem = (unsigned long long)memory_mb << 20;
	snprintf(shmmax, sizeof shmmax, "%llu", mem);
	snprintf(shmall, sizeof shmall, "%llu", mem / (unsigned long long)(page > 0 ? page : 4096));
	const char *const set[][2] = {
		{ "/proc/sys/kernel/shmmax", shmmax },
		{ "/proc/sys/kernel/shmall", shmall },
		{ "/proc/sys/kernel/shmmni", "64" },
		{ "/proc/sys/kernel/msgmni", "16" },
	};
	return write_sysctls(set, sizeof set / sizeof set[0], e);
}

/* Some kernel budgets are counted per user up the chain of user
 * namespaces, so every sandbox draws on its server user's (host root's, for
 * a root server): one sandbox taking all inotify instances or watches
 * would leave none to the host. Each sandbox's own user namespace gets a
 * share small enough that the most sandboxes a server runs at once (64
 * runs and the sessions) stay under the default per-user limits (128
 * instances, about 190,000 watches). Pending signals and POSIX message
 * queues are capped by rlimits (reslimits.c). */
static int set_user_limits(struct err *e)
{
	static const char *const set[][2] = {
		{ "/proc/sys/user/max_inotify_instances", "1" },
		{ "/proc/sys/user/max_inotify_watches", "2048" },
	};
	return write_sysctls(set, sizeof set / sizeof set[0], e);
}

void jail_child_main(const struct jail_child_args *a)
{
	struct err e = { 0 };
	char go;
	ssize_t n;
	int keep[6] = { a->sync_fd, a->code_fd, a->out_fd, a->err_fd, a->server_pidfd, -1 };
	int n_keep = 5;
	if (a->has_project && (a->project.flags & MOUNT_FROM_FD))
		keep[n_keep++] = a->project.fd;

	/* Log lines of this process go to stderr only, never to the client's
	 * protocol stream (we share the server's stdout until the dup2s). */
	log_set_sink(NULL, LOG_ERROR);

	/* Blank the server's argv (see jail_set_cmdline_area): this process is
	 * the sandbox's pid 1 and its cmdline is readable inside. */
	if (jail_cmdline_start && jail_cmdline_len > 0) {
		static const char title[] = "sandbox-init";
		memset(jail_cmdline_start, 0, jail_cmdline_len);
		memcpy(jail_cmdline_start, title,
		       jail_cmdline_len > sizeof title ? sizeof title : jail_cmdline_len - 1);
	}
	prctl(PR_SET_NAME, "sandbox-init", 0, 0, 0); /* best effort: a name in ps */

	sync_fd = a->sync_fd;
	/* 1: until step 3 clears it again; covers the wait for "go". */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		_exit(127);
	for (int i = 1; i < n_keep; i++) /* tiny insertion sort */
		for (int j = i; j > 0 && keep[j] < keep[j - 1]; j--) {
			int t = keep[j];
			keep[j] = keep[j - 1];
			keep[j - 1] = t;
		}
	close_all_but(keep, n_keep);
	reset_signals();
	/* 2: EOF means the server gave up on us (or died). */
	do
		n = recv(sync_fd, &go, 1, 0);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		_exit(127);
	/* fds 0-2 are closed: occupy them so nothing we open lands there (a
	 * later dup2(fd, fd) would keep O_CLOEXEC and lose stdin). */
	for (int fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) < 0) {
			err_sys(&e, errno, "open /dev/null");
			fail(&e, NULL);
		}
	/* 3 */
	if (a->ipc_limits && set_ipc_limits(a->jp->env->limits.memory_mb, &e) < 0)
		fail(&e, NULL);
	if (a->user_limits && set_user_limits(&e) < 0)
		fail(&e, NULL);
	if (a->may_setgroups && raw_setgroups0() < 0) {
		err_sys(&e, errno, "setgroups");
		fail(&e, NULL);
	}
	if (raw_setresid(JAIL_UID, JAIL_GID) < 0) {
		err_sys(&e, errno, "switch to the sandbox uid/gid");
		fail(&e, "the id maps were not written");
	}
	/* The kernel cleared the parent-death signal if that changed our
	 * effective ids (commit_creds; prctl(2), PR_SET_PDEATHSIG): as root
	 * the server maps us to 65534. Arm it now, then close the race: a
	 * server that died before this line sent nothing. getppid() cannot
	 * tell (our parent is outside our pid namespace: it reads 0 either
	 * way); the server's pidfd is readable once it has exited. The kernel
	 * reads our signal and marks the server exited under one lock that we
	 * do not take, so a death in that instant can still slip through:
	 * then the code channel's EOF (a spare) or the sandbox's own deadline
	 * (step 9) ends us. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) {
		err_sys(&e, errno, "PR_SET_PDEATHSIG");
		fail(&e, NULL);
	}
	if (server_gone(a->server_pidfd, &e) != 0)
		fail(&e, NULL);
	close(a->server_pidfd);
	/* 4 */
	if (unshare(CLONE_NEWCGROUP) < 0) {
		err_sys(&e, errno, "unshare(CLONE_NEWCGROUP)");
		fail(&e, "the kernel needs CONFIG_CGROUPS with cgroup namespaces (Linux 4.6+)");
	}
	/* 5 */
	if (sethostname(JAIL_HOSTNAME, sizeof JAIL_HOSTNAME - 1) < 0) {
		err_sys(&e, errno, "sethostname");
		fail(&e, NULL);
	}
	if (a->own_net && loopback_up(&e) < 0)
		fail(&e, NULL);
	/* 6 */
	if (mounts_enter(a->jp->root_opts, &e) < 0) {
		err_wrap(&e, "new root");
		fail(&e, e.code == EPERM ? "mounting is denied in this user namespace "
		                           "(AppArmor/SELinux policy? run --doctor)"
		                         : NULL);
	}
	if (mounts_apply(a->jp->ops, a->jp->n_ops, &e) < 0) {
		err_wrap(&e, "new root");
		fail(&e, e.code == ENOENT ? "a closure store path is missing on this host: "
		                            "copy the server's closure (nix copy) or rebuild"
		                          : NULL);
	}
	if (a->has_project && mounts_apply(&a->project, 1, &e) < 0) {
		err_wrap(&e, "project directory");
		fail(&e, "check --project / PROJECT_DIR: it must be an existing directory");
	}
	if (a->has_project && (a->project.flags & MOUNT_FROM_FD))
		close(a->project.fd);
	if (mounts_leave(&e) < 0) {
		err_wrap(&e, "new root");
		fail(&e, NULL);
	}
	if (send_workspace(&e) < 0)
		fail(&e, NULL);
	/* Warm start (jail.h): step 8 first, the launcher waiting on its
	 * "go" pipe, then step 7. */
	pid_t child = -1;
	int go_pipe[2] = { -1, -1 };
	if (a->warm) {
		if (pipe2(go_pipe, O_CLOEXEC) < 0) {
			err_sys(&e, errno, "pipe for the warm launcher");
			fail(&e, NULL);
		}
		child = fork_interpreter(a, go_pipe[0]);
		close(go_pipe[0]);
	}
	/* 7 */
	if (!a->agent_token && read_code(a, &e) < 0)
		fail(&e, NULL);
	if (mounts_remount_ro(JAIL_CODE_DIR, &e) < 0)
		fail(&e, NULL);
	if (a->warm) {
		/* A launcher stopped (SIGSTOP from outside) or gone would cost
		 * the run its whole timeout or its result: give the run back
		 * to the server unaccepted, which then starts it cold. */
		siginfo_t si;
		memset(&si, 0, sizeof si);
		if (waitid(P_PID, (id_t)child, &si, WEXITED | WSTOPPED | WNOHANG | WNOWAIT) < 0 ||
		    si.si_pid != 0)
			_exit(JAIL_INIT_EXIT_STALE);
		close(go_pipe[1]); /* EOF: go */
	}
	if (!a->agent_token)
		accepted();
	/* 8 */
	if (child < 0)
		child = fork_interpreter(a, -1);
	/* 9 */
	be_init(a, child);
}
