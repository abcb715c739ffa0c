/* vg_shim.c — linked into the valgrind build of the server only (copied
 * beside csrc/ by tests/valgrind/run.sh; never part of the real server).
 * It works around two limits of valgrind 3.19 that would stop every
 * sandbox from starting, without changing what the server does natively.
 *
 * 1. Valgrind does not implement the seccomp(2) system call (ENOSYS for
 *    syscall 317), so libseccomp's probe of the kernel's API level fails and
 *    the server refuses to build its filters ("seccomp: bad-arch action:
 *    Invalid argument"). Telling libseccomp the level it finds natively
 *    (Linux >= 4.14: KILL_PROCESS, LOG, the filter flags) keeps the generated
 *    BPF the same; the filter is loaded with prctl(2), which valgrind passes
 *    through.
 * 2. The sandbox child runs under valgrind until its execve (clone without
 *    exec; --trace-children=no only stops at exec), and valgrind refuses any
 *    change of the RLIMIT_NOFILE hard limit (it keeps descriptors of its own
 *    above it): "setrlimit RLIMIT_NOFILE: Operation not permitted". Under
 *    valgrind only, the soft limit is set and the hard one kept.
 * 3. Valgrind 3.19 does not implement pidfd_send_signal(2) either, so the
 *    server could not kill a sandbox (cancel, SIGTERM): under valgrind the
 *    call becomes kill(2) of the pid the pidfd refers to (its fdinfo).
 * 4. Nor pidfd_open(2), which the server calls once at start-up on itself
 *    (each sandbox init polls that pidfd to see whether the server died
 *    before its parent-death signal was armed). Under valgrind it gets an
 *    eventfd that never becomes readable: the server always looks alive to
 *    that check, which these sessions do not exercise.
 */
#include <dlfcn.h>
#include <errno.h>
#include <seccomp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <valgrind/valgrind.h>

__attribute__((constructor)) static void nsm_valgrind_seccomp_api(void)
{
	if (RUNNING_ON_VALGRIND)
		(void)seccomp_api_set(3);
}

int setrlimit(__rlimit_resource_t res, const struct rlimit *rl)
{
	struct rlimit r = *rl, old;
	if (RUNNING_ON_VALGRIND && res == RLIMIT_NOFILE && prlimit(0, res, NULL, &old) == 0) {
		r.rlim_max = old.rlim_max;
		if (r.rlim_cur > r.rlim_max)
			r.rlim_cur = r.rlim_max;
	}
	return prlimit(0, res, &r, NULL);
}

static pid_t pidfd_pid(int fd)
{
	char path[64], line[128];
	int pid = -1;
	snprintf(path, sizeof path, "/proc/self/fdinfo/%d", fd);
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "Pid: %d", &pid) == 1)
			break;
	fclose(f);
	return pid;
}

long syscall(long nr, ...)
{
	static long (*real)(long, ...);
	long a[6];
	va_list ap;
	va_start(ap, nr);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if (nr == SYS_pidfd_send_signal && RUNNING_ON_VALGRIND) {
		pid_t pid = pidfd_pid((int)a[0]);
		if (pid <= 0) {
			errno = ESRCH;
			return -1;
		}
		return kill(pid, (int)a[1]);
	}
	if (nr == SYS_pidfd_open && RUNNING_ON_VALGRIND && (pid_t)a[0] == getpid())
		return eventfd(0, EFD_CLOEXEC);
	if (!real)
		real = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
	return real(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}
