/* harness.c — TAP tests of the jail, run by tests/jail/run.sh (as root or
 * as a normal user). Every run goes through exec_start and the real loop. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../csrc/capture.h"
#include "../../csrc/exec.h"
#include "../../csrc/pool.h"
#include "../../csrc/reaper.h"
#include "../../csrc/spawner.h"
#include "../../csrc/jail.h"
#include "../../csrc/log.h"
#include "../../csrc/loop.h"
#include "../../csrc/sysfilter.h"

static int n_test, n_fail;

static int ok(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int ok(int cond, const char *fmt, ...)
{
	va_list ap;
	printf("%sok %d - ", cond ? "" : "not ", ++n_test);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (!cond)
		n_fail++;
	return cond;
}

static void diag_res(const struct exec_result *r)
{
	printf(
	    "#   exit=%d sig=%d timed_out=%d output_killed=%d trunc=%d/%d dur=%llums setup='%s'\n",
	    r->exit_code, r->term_signal, r->timed_out, r->output_killed, r->stdout_truncated,
	    r->stderr_truncated, (unsigned long long)r->duration_ms, r->setup_error);
	printf("#   stdout(%zu/%zu): %.600s\n#   stderr(%zu/%zu): %.600s\n", r->out_len,
	       r->out_total, r->out, r->err_len, r->err_total, r->err);
}

struct waiter {
	struct exec_result *res;
	int done;
};

static void on_done(void *ctx, struct exec_result *res)
{
	struct waiter *w = ctx;
	w->res = res;
	w->done++;
}

static const char *project_dir;

static struct exec_result *run_n(const char *env, const char *code, size_t len, const char *proj)
{
	struct waiter w = { NULL, 0 };
	struct err e = { 0 };
	struct exec_request rq = { env_find(env), code, len, proj, "/project", NULL };
	if (!rq.env) {
		printf("# no env %s\n", env);
		exit(2);
	}
	struct exec_run *r = exec_start(&rq, on_done, &w, &e);
	if (!r) {
		printf("# exec_start: %s\n", e.msg);
		struct exec_result *res = calloc(1, sizeof *res);
		snprintf(res->setup_error, sizeof res->setup_error, "exec_start: %s", e.msg);
		res->out = strdup("");
		res->err = strdup("");
		return res;
	}
	uint64_t deadline = loop_now_ms() + 60000;
	while (!w.done && loop_now_ms() < deadline)
		if (loop_run_once(1000, &e) < 0) {
			printf("# loop: %s\n", e.msg);
			exit(2);
		}
	if (!w.done) {
		printf("# run did not finish\n");
		exit(2);
	}
	return w.res;
}

static struct exec_result *run(const char *env, const char *code)
{
	return run_n(env, code, strlen(code), NULL);
}

/* ---- leftovers: processes in pid namespaces other than ours ---- */

/* The parent pid of pid (host view), or -1. */
static int ppid_of(int pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *p = strrchr(buf, ')');
	int pp = -1;
	if (!p || sscanf(p + 1, " %*c %d", &pp) != 1)
		return -1;
	return pp;
}

/* Descends from this test process: every sandbox's processes do (a daemon
 * is reparented to its sandbox's init, our child), other programs on the
 * machine do not, so concurrent work elsewhere cannot disturb the count. */
static int ours(int pid)
{
	int me = getpid();
	for (int hops = 0; pid > 1 && hops < 4096; hops++) {
		pid = ppid_of(pid);
		if (pid == me)
			return 1;
	}
	return 0;
}

static int foreign[65536];
static int n_foreign;

static int scan_foreign(int *out, int max)
{
	char self[64] = "", path[64], ns[64];
	int n = 0;
	ssize_t k = readlink("/proc/self/ns/pid", self, sizeof self - 1);
	if (k > 0)
		self[k] = '\0';
	DIR *d = opendir("/proc");
	struct dirent *de;
	while (d && (de = readdir(d))) {
		int pid = atoi(de->d_name);
		if (pid <= 0)
			continue;
		snprintf(path, sizeof path, "/proc/%d/ns/pid", pid);
		k = readlink(path, ns, sizeof ns - 1);
		if (k <= 0)
			continue;
		ns[k] = '\0';
		if (strcmp(ns, self) != 0 && n < max && ours(pid))
			out[n++] = pid;
	}
	if (d)
		closedir(d);
	return n;
}

/* New processes in foreign pid namespaces since the baseline. */
static int leftovers(void)
{
	static int now[65536];
	int left = 0;
	for (int tries = 0; tries < 50; tries++) {
		int n = scan_foreign(now, 65536);
		left = 0;
		for (int i = 0; i < n; i++) {
			int seen = 0;
			for (int j = 0; j < n_foreign && !seen; j++)
				seen = foreign[j] == now[i];
			left += !seen;
		}
		if (!left)
			return 0;
		/* A run is answered on its init's exit report; the init is
		 * reaped from the loop once the kernel has torn it down. */
		struct err e;
		loop_run_once(20, &e);
	}
	return left;
}

static int count_fds(void)
{
	int n = 0;
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n - 1;
}

static int has(const struct exec_result *r, const char *s)
{
	return r->out && strstr(r->out, s) != NULL;
}

static void done(struct exec_result *r, int good)
{
	if (!good)
		diag_res(r);
	exec_result_free(r);
}

/* ---- tests ---- */

static void t_hello(void)
{
	struct exec_result *r;
	r = run("bash", "echo hello from bash");
	done(r, ok(r->exit_code == 0 && !strcmp(r->out, "hello from bash\n") && !r->setup_error[0],
	           "bash hello world"));
	r = run("bash", "echo out; echo err >&2; exit 3");
	done(r, ok(r->exit_code == 3 && !strcmp(r->out, "out\n") && !strcmp(r->err, "err\n"),
	           "bash exit 3 -> 3, stdout and stderr apart"));
	r = run("python", "import sys\nprint('hello from python', sys.version_info[0])");
	done(r, ok(r->exit_code == 0 && !strcmp(r->out, "hello from python 3\n"),
	           "python3 hello world"));
	r = run("python", "raise ValueError('boom')");
	done(r, ok(r->exit_code == 1 && r->err && strstr(r->err, "ValueError: boom") &&
	               strstr(r->err, "/run/sandbox/main.py"),
	           "python exception -> exit 1 with traceback"));
	r = run("python", "import sys; sys.exit(3)");
	done(r, ok(r->exit_code == 3, "python sys.exit(3) -> 3"));
	r = run("node", "console.log('hello from node', typeof require)");
	done(r, ok(r->exit_code == 0 && !strcmp(r->out, "hello from node function\n"),
	           "node hello world"));
	r = run("node", "process.exitCode = 3");
	done(r, ok(r->exit_code == 3, "node exit code 3 -> 3"));
	r = run("node", "throw new Error('nope')");
	done(r, ok(r->exit_code == 1 && r->err && strstr(r->err, "Error: nope"),
	           "node exception -> 1"));
	r = run("bash", "kill -SEGV $$");
	done(r, ok(r->exit_code == -1 && r->term_signal == SIGSEGV && !r->timed_out,
	           "killed by a signal -> exit_code -1, term_signal"));
	r = run("bash", "");
	done(r, ok(r->exit_code == 0 && r->out_len == 0, "empty code runs"));
}

static void t_big_code(void)
{
	size_t n = (1u << 20) + 4096;
	char *code = malloc(n + 64);
	struct exec_result *r;
	const char *interp[][3] = { { "bash", "#", "echo big-ok\n" },
		                    { "python", "#", "print('big-ok')\n" },
		                    { "node", "//", "console.log('big-ok')\n" } };
	for (int k = 0; k < 3; k++) {
		size_t off = 0, cl = strlen(interp[k][1]);
		while (off + 80 < n) {
			memcpy(code + off, interp[k][1], cl);
			memset(code + off + cl, 'x', 78 - cl);
			code[off + 78] = '\n';
			off += 79;
		}
		off += (size_t)sprintf(code + off, "%s", interp[k][2]);
		r = run_n(interp[k][0], code, off, NULL);
		done(r, ok(r->exit_code == 0 && has(r, "big-ok"), "%s: %zu bytes of code run",
		           interp[k][0], off));
	}
	free(code);
}

static void t_stdin_env(void)
{
	struct exec_result *r;
	r = run("bash", "cat; echo \"rc=$?\"; readlink /proc/self/fd/0; readlink /proc/$$/fd/0");
	done(r, ok(r->exit_code == 0 && !strcmp(r->out, "rc=0\n/dev/null\n/dev/null\n"),
	           "stdin is /dev/null"));
	/* The interpreter's initial environment (bash adds PWD, SHLVL and _ to
	 * what it exports): PATH and jail_env_fixed (jail.h), nothing else. */
	r = run("bash", "tr '\\0' '\\n' < /proc/$$/environ | LC_ALL=C sort");
	done(r,
	     ok(r->exit_code == 0 &&
	            !strcmp(r->out, "HOME=/workspace\nLANG=C.UTF-8\nLOGNAME=sandbox\nNO_COLOR=1\n"
	                            "PATH=/usr/bin\nPYTHONDONTWRITEBYTECODE=1\nPYTHONUNBUFFERED=1\n"
	                            "SHELL=/bin/sh\nTERM=dumb\nTMPDIR=/tmp\nUSER=sandbox\n"),
	        "environment is exactly the documented set"));
	r = run("bash", "echo $(id -u):$(id -g):$(id -un):$(hostname):$(pwd)");
	done(r, ok(!strcmp(r->out, "1000:1000:sandbox:sandbox:/workspace\n"),
	           "ids, user name, hostname, cwd"));
	r = run("bash", "cat /proc/self/uid_map /proc/self/gid_map");
	{
		char want[128];
		unsigned h = geteuid() == 0 ? 65534 : geteuid();
		snprintf(want, sizeof want, "%u", h);
		int good = r->exit_code == 0 && has(r, want) && !strstr(r->out, " 0          0") &&
		           !strstr(r->out, "         0 ");
		done(r, ok(good, "uid_map/gid_map: only 1000 -> host %u, no host root", h));
	}
	r = run("bash", "grep -E '^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp):' "
	                "/proc/self/status | tr -s '\\t' ' ' | tr '\\n' ' '");
	done(r, ok(has(r, "CapInh: 0000000000000000") && has(r, "CapPrm: 0000000000000000") &&
	               has(r, "CapEff: 0000000000000000") && has(r, "CapBnd: 0000000000000000") &&
	               has(r, "CapAmb: 0000000000000000") && has(r, "NoNewPrivs: 1") &&
	               has(r, "Seccomp: 2"),
	           "no capabilities, no_new_privs, seccomp filter"));
	r = run("bash", "ls /proc | grep -E '^[0-9]+$' | tr '\\n' ' '; cat /proc/1/comm");
	done(r, ok(!strncmp(r->out, "1 2 ", 4) && has(r, "sandbox-init"),
	           "pid namespace: 1 = sandbox init, 2 = interpreter"));
	r = run("bash", "exec " PROBE_DIR "/probe fds");
	done(r, ok(!strcmp(r->out, "0 1 2 \n"), "only fds 0 1 2 open in the interpreter"));
	r = run("bash", "cat /proc/self/cgroup");
	done(r, ok(r->exit_code == 0 && has(r, "0::/\n"), "cgroup namespace: own group is /"));
}

static void t_syscalls(void)
{
	struct exec_result *r = run("bash", "exec " PROBE_DIR "/probe syscalls");
	static const char *const eperm[] = {
		"mount",
		"umount2",
		"pivot_root",
		"chroot",
		"move_mount",
		"open_tree",
		"fsopen",
		"unshare",
		"setns",
		"clone_newuser",
		"bpf",
		"perf_event_open",
		"userfaultfd",
		"keyctl",
		"add_key",
		"request_key",
		"ptrace",
		"process_vm_readv",
		"process_vm_writev",
		"open_by_handle_at",
		"name_to_handle_at",
		"io_uring_setup",
		"io_uring_enter",
		"kexec_load",
		"init_module",
		"finit_module",
		"delete_module",
		"reboot",
		"swapon",
		"swapoff",
		"settimeofday",
		"clock_settime",
		"acct",
		"syslog",
		"vhangup",
		"kcmp",
		"pidfd_getfd",
		"iopl",
		"tiocsti",
		"tiocsti_highbits",
		"tioclinux",
		"personality_rie",
		"personality_norand",
	};
	char line[128];
	ok(r->exit_code == 0, "probe syscalls ran");
	for (size_t i = 0; i < sizeof eperm / sizeof eperm[0]; i++) {
		snprintf(line, sizeof line, "\n%s EPERM\n", eperm[i]);
		int good = r->out &&
		           (strstr(r->out, line) || (!strncmp(r->out, line + 1, strlen(line + 1))));
		ok(good, "%s -> EPERM in the sandbox", eperm[i]);
	}
	ok(has(r, "\nclone3 ENOSYS\n"), "clone3 -> ENOSYS (libc falls back to clone)");
	ok(has(r, "\npersonality_query OK\n") && has(r, "\npersonality_linux OK\n"),
	   "personality query / PER_LINUX still allowed");
	ok(has(r, "\nioctl_fionread EBADF\n") && has(r, "\ngetpid OK\n") && has(r, "\nfork OK\n"),
	   "ordinary calls unaffected");
	if (n_fail)
		diag_res(r);
	exec_result_free(r);
	r = run("bash", "exec " PROBE_DIR "/probe x32");
	done(r, ok(r->term_signal == SIGSYS && !has(r, "alive"),
	           "x32 ABI syscall kills the process (SIGSYS)"));
	r = run("bash", "exec " PROBE_DIR "/probe i386");
	done(r, ok(r->term_signal == SIGSYS && !has(r, "alive"),
	           "i386 int 0x80 kills the process (SIGSYS)"));
}

/* In a forked child: a mount namespace of its own (unprivileged: inside a
 * new user namespace, which gives CAP_SYS_ADMIN over it), so mount(2) gets
 * past its capability check; with bad pointers an unfiltered kernel then
 * says EFAULT. With f, load the filter first: the same calls must be EPERM.
 * Returns the child's wait status; exit 80: no namespace for the test. */
static int filter_child(const struct sysfilter *f)
{
	pid_t p = fork();
	if (p == 0) {
		if (unshare(geteuid() == 0 ? CLONE_NEWNS : CLONE_NEWUSER | CLONE_NEWNS) < 0)
			_exit(80);
		prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
		struct err e = { 0 };
		if (f && sysfilter_load(f, &e) < 0)
			_exit(90);
		errno = 0;
		if (mount((void *)1, (void *)1, (void *)1, 0, NULL) == 0)
			_exit(91);
		if (!f)
			_exit(errno == EFAULT ? 0 : 92);
		if (errno != EPERM)
			_exit(93);
		if (syscall(SYS_bpf, -1, NULL, 0) == 0 || errno != EPERM)
			_exit(94);
		if (personality(0xffffffff) == -1)
			_exit(95);
		_exit(0);
	}
	int st = 0;
	while (waitpid(p, &st, 0) < 0 && errno == EINTR)
		;
	return st;
}

/* The filter alone, without the jail's missing capabilities to hide behind:
 * load it in a forked child that holds CAP_SYS_ADMIN over its own mount
 * namespace (root, or an unprivileged user through a user namespace) and
 * call mount(2) with bad pointers; a control child without the filter shows
 * the kernel's own answer (EFAULT). */
static void t_filter_alone(void)
{
	struct sysfilter f;
	struct err e;
	if (sysfilter_build(env_find("bash"), &f, &e) < 0) {
		ok(0, "sysfilter_build: %s", e.msg);
		return;
	}
	ok(f.len > 50 && f.len < 1000, "filter compiled once: %u BPF instructions", f.len);
	int st = filter_child(NULL);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 80) {
		ok(1,
		   "filter itself returns EPERM # SKIP no mount namespace of our own (uid %u): %s",
		   geteuid(),
		   geteuid() == 0 ? "unshare(CLONE_NEWNS) failed"
		                  : "unprivileged user namespaces are off");
	} else {
		ok(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		   "control: without the filter, mount(2) with bad pointers is EFAULT (status %d)",
		   st);
		st = filter_child(&f);
		ok(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		   "filter itself returns EPERM (not the kernel's EFAULT/EINVAL) (status %d)", st);
	}
	sysfilter_free(&f);
}

static void t_visibility(void)
{
	struct exec_result *r;
	r = run("bash", "for p in /home /root /etc/shadow /sys /var /opt /srv /nix /work/main/csrc "
	                "/etc/ssh /run/user /mnt /boot; do [ -e $p ] && echo \"VISIBLE $p\"; done; "
	                "ls / | tr '\\n' ' '");
	done(r, ok(r->exit_code == 0 && !has(r, "VISIBLE"),
	           "host paths invisible (/home /root /etc/shadow /sys ...)"));
	r = run(
	    "bash",
	    "ls -A /etc | tr '\\n' ' '; echo; cat /etc/passwd | head -1; getent hosts localhost");
	done(r, ok(has(r, "passwd") && has(r, "group") && has(r, "hosts") && !has(r, "shadow") &&
	               has(r, "sandbox:x:1000:1000") && has(r, "localhost"),
	           "synthetic /etc: passwd, group, hosts"));
	r = run("bash", "ls /dev | tr '\\n' ' '; echo x > /dev/null && echo devnull-ok; "
	                "head -c 4 /dev/urandom | wc -c; test -e /dev/sda || echo no-disks");
	done(r, ok(has(r, "devnull-ok") && has(r, "4\n") && has(r, "no-disks") && !has(r, "mem ") &&
	               !has(r, "kmsg"),
	           "minimal /dev"));
	/* /bin and /usr are in this closure (test_env.c), so /bin/sh and
	 * /usr/bin/env are the host's own programs here rather than the jail's
	 * links (tests/integration checks those): they must run either way. */
	r = run("bash", "sh -c 'echo sh-ok'; /usr/bin/env printf 'env-ok %s\\n' \"$HOME\"");
	done(r, ok(r->exit_code == 0 && !strcmp(r->out, "sh-ok\nenv-ok /workspace\n"),
	           "/bin/sh and /usr/bin/env work"));
	const char *c =
	    "cat /project/hello.txt; touch /project/x 2>/dev/null && echo WROTE-PROJECT; "
	    "touch /usr/bin/x 2>/dev/null && echo WROTE-STORE; mkdir /newdir 2>/dev/null && echo "
	    "WROTE-ROOT; "
	    "echo hi > /run/sandbox/main.sh 2>/dev/null && echo WROTE-CODE; "
	    "echo w > /workspace/f && cat /workspace/f; echo t > /tmp/f && cat /tmp/f; "
	    "grep -E ' /(project|usr|workspace|run/sandbox) ' /proc/self/mounts | cut -d' ' -f2,4 "
	    "| cut -d, -f1 | tr '\\n' ' '";
	r = run_n("bash", c, strlen(c), project_dir);
	done(r,
	     ok(has(r, "project-file\n") && !has(r, "WROTE") && has(r, "w\nt\n") &&
	            has(r, "/project ro") && has(r, "/usr ro") && has(r, "/workspace rw") &&
	            has(r, "/run/sandbox ro"),
	        "/project, store paths, / and the code read-only; /workspace and /tmp writable"));
	c = "echo nothing";
	r = run_n("bash", c, strlen(c), "/nonexistent/project");
	done(r, ok(r->setup_error[0] && strstr(r->setup_error, "/nonexistent/project") &&
	               r->exit_code == -1,
	           "missing project dir -> setup_error naming it"));
}

static int listener(int *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t l = sizeof sa;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 8) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &l) < 0)
		return -1;
	*port = ntohs(sa.sin_port);
	return fd;
}

static void t_network(void)
{
	int port = 0, fd = listener(&port);
	char code[256];
	struct exec_result *r;
	r = run("bash", "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | tr '\\n' ' '; "
	                "grep -c . /proc/net/route");
	done(r, ok(!strcmp(r->out, "lo 1\n"), "only lo, no routes"));
	snprintf(code, sizeof code, "exec " PROBE_DIR "/probe connect %d", port);
	r = run("bash", code);
	done(r, ok(r->exit_code == 1 && has(r, "connect ECONNREFUSED"),
	           "connecting to the host's 127.0.0.1:%d fails (own net ns)", port));
	r = run("python", "import socket\ns=socket.socket(); s.bind(('127.0.0.1',0)); s.listen()\n"
	                  "c=socket.create_connection(s.getsockname()); print('lo-up')");
	done(r, ok(has(r, "lo-up"), "loopback is up inside"));
	r = run("bash-net", code);
	done(r, ok(r->exit_code == 0 && has(r, "connect OK"),
	           "network=1 environment keeps the host network"));
	close(fd);
}

static void t_contained(void)
{
	struct exec_result *r;
	uint64_t t0;
	int left;

	t0 = loop_now_ms();
	r = run("bash-short", "bomb() { bomb | bomb & }; bomb; sleep 30");
	left = leftovers();
	done(r, ok(r->timed_out && r->exit_code == -1 && left == 0 && loop_now_ms() - t0 < 20000,
	           "fork bomb: contained, timed out, %d leftovers", left));
	r = run("python-short",
	        "import os, time\nn = 0\ntry:\n    while n < 100:\n"
	        "        if os.fork() == 0:\n            time.sleep(10); os._exit(0)\n"
	        "        n += 1\nexcept OSError as e:\n    print('limit at', n, e.errno)\n");
	left = leftovers();
	done(r, ok(r->exit_code == 0 && has(r, "limit at ") && atoi(r->out + 9) <= 32 &&
	               atoi(r->out + 9) >= 25 && left == 0,
	           "process limit (%s): %.*s, %d leftovers",
	           limits_mode() == LIMITS_CGROUP2 ? "pids.max" : "RLIMIT_NPROC",
	           (int)strcspn(r->out, "\n"), r->out, left));
	r = run("python", "x = bytearray(1 << 30)\nprint('allocated')");
	done(r, ok(r->exit_code != 0 && !r->timed_out && !has(r, "allocated") &&
	               (strstr(r->err, "MemoryError") || r->oom_killed),
	           "python memory hog (1 GiB > 256 MiB) stopped: %s",
	           r->oom_killed ? "OOM kill" : "MemoryError"));
	r = run("python", "import os\na=[]\nfor i in range(64):\n  "
	                  "a.append(os.urandom(1<<20))\nprint('64MiB ok')");
	done(r, ok(r->exit_code == 0 && has(r, "64MiB ok"), "python can still use 64 MiB"));
	r = run("node",
	        "const a=[]; try { for (let i=0;i<64;i++) a.push(Buffer.alloc(1<<24, 1)); "
	        "console.log('hog not stopped') } catch (e) { console.log('caught', e.message) }");
	done(r, ok(!has(r, "hog not stopped") && !r->timed_out &&
	               (has(r, "caught") || r->oom_killed || r->term_signal),
	           "node Buffer hog (1 GiB) stopped (%s)",
	           has(r, "caught") ? "exception" : "V8 abort"));
	/* Fast growth (8 MB arrays), so the memory limit comes long before the
	 * 10 s timeout: V8 reports the heap exhaustion and aborts, or (cgroup)
	 * the kernel kills it. A timeout is a failure: the limit did not act. */
	r = run("node", "const a=[]; for(;;) a.push(new Array(1e6).fill(1.5))");
	done(r, ok(!r->timed_out && r->exit_code == -1 &&
	               ((r->err && strstr(r->err, "heap out of memory")) || r->oom_killed),
	           "node heap hog stopped by the memory limit (signal %d, timed_out %d, %llums)",
	           r->term_signal, r->timed_out, (unsigned long long)r->duration_ms));
	r = run(
	    "node",
	    "let s=0; for (let i=0;i<1e6;i++) s+=i; console.log(s, process.memoryUsage().rss > 0)");
	done(r, ok(r->exit_code == 0 && has(r, "499999500000 true"),
	           "node works under the memory limit"));

	t0 = loop_now_ms();
	r = run("bash", "yes");
	left = leftovers();
	done(r,
	     ok(r->output_killed && r->stdout_truncated && r->out_len == 65536 &&
	            r->out_total > 65536 + CAPTURE_RUNAWAY_BYTES && r->exit_code == -1 && left == 0,
	        "infinite output: %zu kept of %zu, runaway killed after %llums", r->out_len,
	        r->out_total, (unsigned long long)(loop_now_ms() - t0)));
	r = run("bash",
	        "head -c 100000 /dev/zero | tr '\\0' a; head -c 70000 /dev/zero >&2; exit 4");
	done(r, ok(r->exit_code == 4 && r->stdout_truncated && r->out_len == 65536 &&
	               r->out_total == 100000 && r->stderr_truncated && r->err_total == 70000 &&
	               !r->output_killed,
	           "output over the cap: truncated, counted, exit code kept"));
	r = run(
	    "bash",
	    "dd if=/dev/zero of=/workspace/big bs=1M count=100 2>/dev/null; echo rc=$?; "
	    "stat -c %s /workspace/big; df -m /workspace | tail -1 | tr -s ' ' | cut -d' ' -f2");
	done(r, ok(!strcmp(r->out, "rc=153\n16777216\n32\n"),
	           "one big file stopped by RLIMIT_FSIZE (SIGXFSZ at 16 MiB)"));
	r = run(
	    "bash",
	    "for i in 1 2 3; do head -c 12000000 /dev/zero > /workspace/f$i || echo fail$i; done; "
	    "ls /workspace | wc -l");
	done(r, ok(has(r, "fail3"), "/workspace size cap (32 MiB) reached by several files"));

	t0 = loop_now_ms();
	r = run("bash-short", "trap '' TERM; ( trap '' TERM; setsid bash -c 'trap \"\" TERM HUP; "
	                      "while :; do sleep 1; done' & ) ; ( exec -a daemon2 bash -c 'trap "
	                      "\"\" TERM; sleep 1000' & ); "
	                      "echo daemons-started; sleep 1000");
	left = leftovers();
	done(r, ok(r->timed_out && r->exit_code == -1 && r->term_signal == SIGKILL &&
	               has(r, "daemons-started") && left == 0 && r->duration_ms >= 2000 &&
	               r->duration_ms < 20000,
	           "SIGTERM-ignoring double-forked daemons killed at the timeout (%llums), %d "
	           "leftovers",
	           (unsigned long long)r->duration_ms, left));
	r = run("bash", "( setsid sleep 1000 & ); echo main-done");
	left = leftovers();
	done(r, ok(r->exit_code == 0 && !r->timed_out && has(r, "main-done") && left == 0,
	           "daemon left by a finished program is killed with it (%llums)",
	           (unsigned long long)r->duration_ms));
	r = run("bash",
	        "ulimit -n; ulimit -f; exec 3</dev/null; for i in $(seq 200); do eval \"exec "
	        "{fd}</dev/null\" 2>/dev/null || { echo fdlimit-at-$i; break; }; done");
	done(r, ok(has(r, "64\n") && has(r, "fdlimit-at"), "RLIMIT_NOFILE = max_open_files"));
	r = run("bash", "echo still works");
	done(r, ok(r->exit_code == 0 && !strcmp(r->out, "still works\n"),
	           "a normal run afterwards works"));
}

struct multi {
	int done;
	struct exec_result *res[8];
};

static void on_multi(void *ctx, struct exec_result *res)
{
	struct multi *m = ctx;
	m->res[m->done++] = res;
}

/* Host pids of the processes of our sandboxes whose command line is
 * exactly "sleep ARG" (ARG a marker unique to the test). */
static int sleeps_of(const char *arg, int *out, int max)
{
	static int pids[4096];
	char want[64], path[64], buf[64];
	int n = scan_foreign(pids, 4096), found = 0;
	int wl = snprintf(want, sizeof want, "sleep%c%s%c", '\0', arg, '\0');
	for (int i = 0; i < n && found < max; i++) {
		snprintf(path, sizeof path, "/proc/%d/cmdline", pids[i]);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		ssize_t k = read(fd, buf, sizeof buf);
		close(fd);
		if (k == wl && !memcmp(buf, want, (size_t)wl))
			out[found++] = pids[i];
	}
	return found;
}

static void t_concurrency(void)
{
	struct multi m = { 0 };
	struct err e;
	/* Each run waits in a sleep that the test ends (SIGTERM) once all four
	 * are running: they are in flight at the same time by the order of
	 * events; runs served one after another never are. */
	char marker[32], code[96];
	int sleeps[8];
	snprintf(marker, sizeof marker, "3600.%d", (int)getpid());
	snprintf(code, sizeof code, "sleep %s; echo concurrent", marker);
	struct exec_request rq = { env_find("bash"), code, strlen(code), NULL, NULL, NULL };
	uint64_t t0 = loop_now_ms();
	for (int i = 0; i < 4; i++)
		if (!exec_start(&rq, on_multi, &m, &e))
			printf("# start: %s\n", e.msg);
	int rounds = 0, busy = 0;
	while (m.done == 0 && busy < 4 && loop_now_ms() - t0 < 10000) {
		loop_run_once(50, &e);
		rounds++;
		busy = sleeps_of(marker, sleeps, 8);
	}
	int early = m.done;
	uint64_t t_busy = loop_now_ms() - t0;
	for (int i = 0; i < busy; i++)
		kill(sleeps[i], SIGTERM);
	while (m.done < 4 && loop_now_ms() - t0 < 20000) {
		loop_run_once(50, &e);
		rounds++;
	}
	int good = m.done == 4;
	for (int i = 0; i < m.done; i++) {
		good &= m.res[i]->exit_code == 0 && !strcmp(m.res[i]->out, "concurrent\n");
		exec_result_free(m.res[i]);
	}
	ok(good && busy == 4 && early == 0 && rounds > 1,
	   "4 runs in flight at once (%d sandboxes waiting after %llums, %d ended before), then "
	   "all answered "
	   "(%llums); loop stayed responsive (%d rounds)",
	   busy, (unsigned long long)t_busy, early, (unsigned long long)(loop_now_ms() - t0),
	   rounds);

	/* two sandboxes at their process limit at the same time: the count is
	 * per sandbox (user namespace), neither starves the other */
	{
		struct multi m2 = { 0 };
		const char *fb =
		    "import os, time\nn = 0\ntry:\n    while n < 100:\n"
		    "        if os.fork() == 0:\n            time.sleep(2); os._exit(0)\n"
		    "        n += 1\nexcept OSError as e:\n    print('limit at', n)\n    "
		    "time.sleep(0.5)\n";
		struct exec_request rq3 = { env_find("python"), fb, strlen(fb), NULL, NULL, NULL };
		for (int i = 0; i < 2; i++)
			if (!exec_start(&rq3, on_multi, &m2, &e))
				printf("# start: %s\n", e.msg);
		t0 = loop_now_ms();
		while (m2.done < 2 && loop_now_ms() - t0 < 10000)
			loop_run_once(50, &e);
		int a = m2.done > 0 && m2.res[0]->out ? atoi(m2.res[0]->out + 9) : -1;
		int b = m2.done > 1 && m2.res[1]->out ? atoi(m2.res[1]->out + 9) : -1;
		ok(m2.done == 2 && a >= 25 && b >= 25 && a <= 32 && b <= 32,
		   "two sandboxes at their process limit concurrently: %d and %d forks each", a, b);
		for (int i = 0; i < m2.done; i++)
			exec_result_free(m2.res[i]);
	}

	/* cancel: no callback, every process gone */
	struct waiter w = { NULL, 0 };
	const char *c2 = "( setsid sleep 1000 & ); sleep 1000";
	struct exec_request rq2 = { env_find("bash"), c2, strlen(c2), NULL, NULL, NULL };
	struct exec_run *r = exec_start(&rq2, on_done, &w, &e);
	t0 = loop_now_ms();
	while (loop_now_ms() - t0 < 300)
		loop_run_once(50, &e);
	exec_cancel(r);
	t0 = loop_now_ms();
	while (exec_active() && loop_now_ms() - t0 < 2000)
		loop_run_once(20, &e);
	int left = leftovers();
	ok(!w.done && exec_active() == 0 && left == 0,
	   "exec_cancel: no callback, resources released, %d leftovers", left);
	/* cancel right after start (sandbox still in setup) */
	r = exec_start(&rq2, on_done, &w, &e);
	exec_cancel(r);
	t0 = loop_now_ms();
	while (exec_active() && loop_now_ms() - t0 < 2000)
		loop_run_once(20, &e);
	ok(!w.done && exec_active() == 0 && leftovers() == 0, "exec_cancel during setup");
}

/* ---- the sandbox's own end: no server to kill it ---- */

/* Spawn a sandbox of spec directly (jail_spawn: no exec.c, so nobody kills
 * it at the timeout) and hand it code. */
static int spawn_raw(const struct jail_spec *spec, const char *code, struct jail_proc *p)
{
	struct err e = { 0 };
	if (jail_spawn(spec, p, &e) < 0) {
		printf("# jail_spawn: %s\n", e.msg);
		return -1;
	}
	/* Small code: fits the socket buffer, EAGAIN cannot happen. */
	ssize_t n = send(p->code_fd, code, strlen(code), MSG_NOSIGNAL);
	close(p->code_fd);
	p->code_fd = -1;
	if (n != (ssize_t)strlen(code)) {
		printf("# send code: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

/* Wait for a pidfd to become readable (its process exited), at most ms. */
static int wait_pidfd(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int n;
	do
		n = poll(&p, 1, ms);
	while (n < 0 && errno == EINTR);
	return n > 0;
}

static void finish_raw(struct jail_proc *p)
{
	if (jail_reap(p) == 0) {
		jail_kill(p);
		while (jail_reap(p) == 0)
			wait_pidfd(p->pidfd, 100);
	}
	jail_release(p);
}

/* The init ends its sandbox at deadline + JAIL_DEADLINE_GRACE_S, whatever its
 * code does, with no server action: the server's deadline may never come
 * (it died, or its loop is stuck). */
static void t_own_deadline(void)
{
	static const struct {
		const char *env;
		unsigned deadline_s, expect_s;
	} cases[] = {
		{ "bash-short", 0, 2 + JAIL_DEADLINE_GRACE_S }, /* one-shot: its timeout */
		{ "bash", 1, 1 + JAIL_DEADLINE_GRACE_S },       /* deadline_s given (sessions) */
	};
	const char *code =
	    "trap '' TERM HUP INT; ( trap '' TERM HUP; setsid sleep 1000 & ); sleep 1000";
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct jail_spec spec = { .env = env_find(cases[i].env),
			                  .deadline_s = cases[i].deadline_s };
		struct jail_proc p;
		uint64_t t0 = loop_now_ms();
		if (!ok(spawn_raw(&spec, code, &p) == 0, "%s: spawn a sandbox nobody kills",
		        cases[i].env))
			continue;
		int ended = wait_pidfd(p.pidfd, (int)(cases[i].expect_s + 5) * 1000);
		uint64_t dt = loop_now_ms() - t0;
		int rc = jail_reap(&p);
		ok(ended && rc == 1 && p.init_code == CLD_EXITED &&
		       p.init_status == JAIL_INIT_EXIT_DEADLINE && dt >= cases[i].expect_s * 1000 &&
		       dt < cases[i].expect_s * 1000 + 3000,
		   "%s: its init ends it at its own deadline, %u s (after %llums; code %d, status "
		   "%d)",
		   cases[i].env, cases[i].expect_s, (unsigned long long)dt, p.init_code,
		   p.init_status);
		finish_raw(&p);
		int left = leftovers();
		ok(left == 0, "%s: nothing of it is left (%d)", cases[i].env, left);
	}
}

/* Host pids of the processes in the pid namespace of pid (itself included). */
static int ns_members(int pid, int *out, int max)
{
	char path[64], want[64], ns[64];
	int n = 0;
	snprintf(path, sizeof path, "/proc/%d/ns/pid", pid);
	ssize_t k = readlink(path, want, sizeof want - 1);
	if (k <= 0)
		return 0;
	want[k] = '\0';
	DIR *d = opendir("/proc");
	struct dirent *de;
	while (d && (de = readdir(d))) {
		int q = atoi(de->d_name);
		if (q <= 0)
			continue;
		snprintf(path, sizeof path, "/proc/%d/ns/pid", q);
		k = readlink(path, ns, sizeof ns - 1);
		if (k <= 0)
			continue;
		ns[k] = '\0';
		if (!strcmp(ns, want) && n < max)
			out[n++] = q;
	}
	if (d)
		closedir(d);
	return n;
}

/* A "server" of our own (a fork of this process with its own jail_init)
 * starts a spare waiting for its code and a run whose code ignores SIGTERM
 * and double-forks, then dies of SIGKILL. Every process of both sandboxes
 * must be gone within 5 s, well before the run's own deadline (10 s + grace):
 * this is the parent-death signal. They were reparented away from us, so
 * they are held by pidfds opened while the server lived. */
static void t_server_death(void)
{
	int up[2], down[2];
	if (pipe2(up, O_CLOEXEC) < 0 || pipe2(down, O_CLOEXEC) < 0) {
		ok(0, "server death: pipes: %s", strerror(errno));
		return;
	}
	pid_t srv = fork();
	if (srv < 0) {
		ok(0, "server death: fork: %s", strerror(errno));
		return;
	}
	if (srv == 0) {
		struct err e = { 0 };
		struct jail_proc spare, run;
		struct jail_spec spec = { .env = env_find("bash") };
		int pids[2];
		char buf[64], go;
		close(up[0]);
		close(down[1]);
		/* Its own jail_init: the pidfd every init checks is this process. */
		jail_fini();
		if (jail_init(&e) < 0 || jail_spawn(&spec, &spare, &e) < 0 ||
		    spawn_raw(&spec,
		              "trap '' TERM HUP INT; ( trap '' TERM HUP INT; setsid sleep 1000 & "
		              "sleep 1000 & ); echo started; sleep 1000",
		              &run) < 0)
			_exit(2);
		/* Wait until the code runs (its "started" line). */
		ssize_t n = -1;
		for (int i = 0; i < 100 && n <= 0; i++) {
			n = read(run.out_fd, buf, sizeof buf); /* O_NONBLOCK */
			if (n <= 0)
				poll(NULL, 0, 50);
		}
		if (n <= 0)
			_exit(3);
		pids[0] = spare.pid;
		pids[1] = run.pid;
		if (write(up[1], pids, sizeof pids) != (ssize_t)sizeof pids)
			_exit(4);
		if (read(down[0], &go, 1) != 1)
			_exit(5);
		raise(SIGKILL);
		_exit(6);
	}
	close(up[1]);
	close(down[0]);
	int pids[2], members[64], n_members = 0, fds[64], n_fds = 0, st;
	ssize_t n = read(up[0], pids, sizeof pids);
	if (n == (ssize_t)sizeof pids) {
		n_members = ns_members(pids[0], members, 64);
		n_members += ns_members(pids[1], members + n_members, 64 - n_members);
		for (int i = 0; i < n_members; i++) {
			int fd = (int)syscall(SYS_pidfd_open, members[i], 0);
			if (fd >= 0)
				fds[n_fds++] = fd;
		}
	}
	if (write(down[1], "k", 1) != 1)
		printf("# tell the server to die: %s\n", strerror(errno));
	close(up[0]);
	close(down[1]);
	while (waitpid(srv, &st, 0) < 0 && errno == EINTR)
		;
	ok(n == (ssize_t)sizeof pids && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL && n_fds >= 5,
	   "server death: a spare and a running double-forker (%d processes) when the server is "
	   "SIGKILLed",
	   n_fds);
	uint64_t t0 = loop_now_ms();
	int left = 0;
	for (int i = 0; i < n_fds; i++) {
		int ms = 5000 - (int)(loop_now_ms() - t0);
		left += !wait_pidfd(fds[i], ms > 0 ? ms : 0);
		close(fds[i]);
	}
	ok(n_fds > 0 && left == 0,
	   "server death: every process of its sandboxes is gone (%d of %d left, %llums)", left,
	   n_fds, (unsigned long long)(loop_now_ms() - t0));
}

/* After a failed clone3: which errors fall back, and how (jail.h). Kernels
 * 5.3-5.6 cannot be had here, so the decision is checked on its own; a run
 * on this kernel takes the success path. */
static void t_clone3_fallback(void)
{
	static const struct {
		int err;
		bool into;
		enum jail_clone3_next want;
		const char *what;
	} cases[] = {
		{ ENOSYS, true, JAIL_CLONE3_USE_CLONE,
		  "ENOSYS (no clone3) -> clone, attach after" },
		{ ENOSYS, false, JAIL_CLONE3_USE_CLONE,
		  "ENOSYS without CLONE_INTO_CGROUP -> clone" },
		{ EINVAL, true, JAIL_CLONE3_NO_CGROUP,
		  "EINVAL with CLONE_INTO_CGROUP (Linux 5.3-5.6) -> clone3 without it, attach "
		  "after" },
		{ E2BIG, true, JAIL_CLONE3_NO_CGROUP,
		  "E2BIG with CLONE_INTO_CGROUP (5.3-5.6: cgroup field past the kernel's struct) "
		  "-> without it" },
		{ EINVAL, false, JAIL_CLONE3_FAIL,
		  "EINVAL without CLONE_INTO_CGROUP (missing namespace) -> error" },
		{ E2BIG, false, JAIL_CLONE3_FAIL, "E2BIG without CLONE_INTO_CGROUP -> error" },
		{ EPERM, true, JAIL_CLONE3_FAIL,
		  "EPERM (user namespaces refused) -> error, no retry" },
		{ ENOSPC, true, JAIL_CLONE3_FAIL, "ENOSPC (namespace limit) -> error, no retry" },
		{ EAGAIN, false, JAIL_CLONE3_FAIL, "EAGAIN (out of processes) -> error" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		enum jail_clone3_next got = jail_clone3_next(cases[i].err, cases[i].into);
		ok(got == cases[i].want, "clone3 fallback: %s (got %d)", cases[i].what, (int)got);
	}
}

int main(int argc, char **argv)
{
	struct err e = { 0 };
	char doctor[4096];
	(void)argc;
	(void)argv;
	setvbuf(stdout, NULL, _IOLBF, 0);
	log_set_level(LOG_WARNING);
	if (getenv("JAIL_TEST_LOG"))
		log_set_level(LOG_DEBUG);
	project_dir = getenv("JAIL_TEST_PROJECT");
	n_foreign = scan_foreign(foreign, 65536);
	int fds0 = count_fds();

	/* Spare sandboxes (pool.c) would count as leftovers here; the
	 * integration tests exercise the pool through the server. */
	pool_set_enabled(false);
	int rc = jail_init(&e);
	if (!ok(rc == 0, "jail_init")) {
		printf("# %s\n", e.msg);
		return 1;
	}
	if (!ok(spawner_init(&e) == 0, "spawner_init (sandboxes are made on its thread)")) {
		printf("# %s\n", e.msg);
		return 1;
	}
	printf("# enforcement: %s\n", jail_enforcement());
	int problems = jail_doctor(doctor, sizeof doctor);
	for (char *l = strtok(doctor, "\n"); l; l = strtok(NULL, "\n"))
		printf("# doctor: %s\n", l);
	ok(problems == 0, "jail_doctor reports no problem");

	t_clone3_fallback();
	t_hello();
	t_big_code();
	t_stdin_env();
	t_syscalls();
	t_filter_alone();
	t_visibility();
	t_network();
	t_contained();
	t_concurrency();
	t_own_deadline();
	t_server_death();

	ok(spawner_pending() == 0, "no spawn left pending");
	spawner_shutdown();
	reaper_shutdown();
	ok(leftovers() == 0, "no sandbox process left at the end");
	ok(loop_watch_count() == 0 && exec_active() == 0, "no loop watches or runs left");
	jail_fini();
	int fds1 = count_fds();
	ok(fds0 == fds1, "no fd leak (%d before, %d after)", fds0, fds1);
	{
		int st;
		ok(waitpid(-1, &st, WNOHANG) < 0 && errno == ECHILD, "no unreaped child");
	}
	printf("1..%d\n", n_test);
	return n_fail ? 1 : 0;
}
