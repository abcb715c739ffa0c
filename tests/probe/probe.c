/* probe.c — placed inside a sandbox by tests/jail to check its walls.
 *
 * Like bubblewrap's tests/try-syscall.c: each dangerous call is made with
 * harmless bad arguments and its errno printed. Filtered by the sandbox's
 * seccomp program it fails with EPERM (clone3: ENOSYS); an unfiltered kernel
 * would say EFAULT/EBADF/EINVAL (or succeed harmlessly). Static, no deps.
 *
 *   probe syscalls        one "name errno-name" line per call
 *   probe x32|i386        call getpid through a foreign ABI (must be killed)
 *   probe connect PORT    TCP connect to 127.0.0.1:PORT, print the result
 *   probe fds             list open file descriptors
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <linux/sched.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>
#include <arpa/inet.h>

static const char *ename(int e)
{
	switch (e) {
	case 0: return "OK";
	case EPERM: return "EPERM";
	case ENOSYS: return "ENOSYS";
	case EFAULT: return "EFAULT";
	case EBADF: return "EBADF";
	case EINVAL: return "EINVAL";
	case ENOENT: return "ENOENT";
	case ESRCH: return "ESRCH";
	case EACCES: return "EACCES";
	case EIO: return "EIO";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case ENOTTY: return "ENOTTY";
	case ECONNREFUSED: return "ECONNREFUSED";
	case ENETUNREACH: return "ENETUNREACH";
	default: {
		static char buf[32];
		snprintf(buf, sizeof buf, "E%d", e);
		return buf;
	}
	}
}

static void report(const char *name, long r)
{
	printf("%s %s\n", name, ename(r < 0 ? errno : 0));
}

#define TRY(name, call) do { errno = 0; long r_ = (long)(call); report(name, r_); } while (0)

static void syscalls(void)
{
	void *bad = (void *)1;
	TRY("mount", mount(bad, bad, bad, 0, NULL));
	TRY("umount2", umount2("/nonexistent-probe", 0));
	TRY("pivot_root", syscall(SYS_pivot_root, bad, bad));
	TRY("chroot", chroot("/nonexistent-probe"));
	TRY("move_mount", syscall(SYS_move_mount, -1, bad, -1, bad, 0));
	TRY("open_tree", syscall(SYS_open_tree, -1, bad, 0));
	TRY("fsopen", syscall(SYS_fsopen, bad, 0));
	TRY("unshare", unshare(CLONE_NEWUSER));
	TRY("setns", setns(-1, 0));
	{
		/* fork-like clone asking for a new user namespace */
		errno = 0;
		long r = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, NULL, NULL, 0);
		if (r == 0)
			_exit(0);
		if (r > 0)
			waitpid((pid_t)r, NULL, 0);
		report("clone_newuser", r);
	}
	{
		struct clone_args ca;
		memset(&ca, 0, sizeof ca);
		ca.flags = CLONE_NEWUSER;
		ca.exit_signal = SIGCHLD;
		errno = 0;
		long r = syscall(SYS_clone3, &ca, sizeof ca);
		if (r == 0)
			_exit(0);
		if (r > 0)
			waitpid((pid_t)r, NULL, 0);
		report("clone3", r);
	}
	TRY("bpf", syscall(SYS_bpf, -1, NULL, 0));
	TRY("perf_event_open", syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0));
	TRY("userfaultfd", syscall(SYS_userfaultfd, -1));
	TRY("keyctl", syscall(SYS_keyctl, -1, 0, 0, 0, 0));
	TRY("add_key", syscall(SYS_add_key, bad, bad, NULL, 0, 0));
	TRY("request_key", syscall(SYS_request_key, bad, bad, bad, 0));
	TRY("ptrace", syscall(SYS_ptrace, -1L, 0L, NULL, NULL));
	TRY("process_vm_readv", syscall(SYS_process_vm_readv, 1, NULL, 0, NULL, 0, 0));
	TRY("process_vm_writev", syscall(SYS_process_vm_writev, 1, NULL, 0, NULL, 0, 0));
	TRY("open_by_handle_at", syscall(SYS_open_by_handle_at, -1, NULL, 0));
	TRY("name_to_handle_at", syscall(SYS_name_to_handle_at, -1, bad, NULL, NULL, 0));
	TRY("io_uring_setup", syscall(SYS_io_uring_setup, 0, NULL));
	TRY("io_uring_enter", syscall(SYS_io_uring_enter, -1, 0, 0, 0, NULL, 0));
	TRY("kexec_load", syscall(SYS_kexec_load, 0, 0, NULL, -1));
	TRY("init_module", syscall(SYS_init_module, NULL, 0, NULL));
	TRY("finit_module", syscall(SYS_finit_module, -1, NULL, 0));
	TRY("delete_module", syscall(SYS_delete_module, bad, 0));
	TRY("reboot", syscall(SYS_reboot, 0, 0, -1, NULL));
	TRY("swapon", syscall(SYS_swapon, bad, 0));
	TRY("swapoff", syscall(SYS_swapoff, bad));
	TRY("settimeofday", syscall(SYS_settimeofday, bad, bad));
	TRY("clock_settime", syscall(SYS_clock_settime, -1, bad));
	TRY("acct", syscall(SYS_acct, bad));
	TRY("syslog", syscall(SYS_syslog, 10, NULL, 0));
	TRY("vhangup", syscall(SYS_vhangup));
	TRY("kcmp", syscall(SYS_kcmp, -1, -1, -1, 0, 0));
	TRY("pidfd_getfd", syscall(SYS_pidfd_getfd, -1, -1, 0));
	TRY("iopl", syscall(SYS_iopl, 0));
	TRY("tiocsti", ioctl(-1, TIOCSTI, bad));
	TRY("tiocsti_highbits", syscall(SYS_ioctl, -1, 0x100000000UL | TIOCSTI, bad));
	TRY("tioclinux", ioctl(-1, TIOCLINUX, bad));
	TRY("personality_rie", personality(READ_IMPLIES_EXEC));
	TRY("personality_norand", personality(ADDR_NO_RANDOMIZE));
	/* allowed: must not be EPERM */
	TRY("personality_query", personality(0xffffffff) < 0 ? -1 : 0);
	TRY("personality_linux", personality(PER_LINUX) < 0 ? -1 : 0);
	TRY("ioctl_fionread", ioctl(-1, FIONREAD, bad));
	TRY("getpid", getpid() > 0 ? 0 : -1);
	{
		pid_t p = fork();
		if (p == 0)
			_exit(0);
		if (p > 0)
			waitpid(p, NULL, 0);
		report("fork", p < 0 ? -1 : 0);
	}
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2)
		return 2;
	if (!strcmp(argv[1], "syscalls")) {
		syscalls();
		return 0;
	}
	if (!strcmp(argv[1], "x32")) {
		long r = syscall(0x40000000 | SYS_getpid);
		printf("x32 alive %ld\n", r);
		return 0;
	}
	if (!strcmp(argv[1], "i386")) {
		long r;
		__asm__ volatile("int $0x80" : "=a"(r) : "a"(20) : "memory");
		printf("i386 alive %ld\n", r);
		return 0;
	}
	if (!strcmp(argv[1], "connect") && argc > 2) {
		struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(argv[2])) };
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		int r = connect(fd, (struct sockaddr *)&sa, sizeof sa);
		printf("connect %s\n", ename(r < 0 ? errno : 0));
		return r < 0 ? 1 : 0;
	}
	if (!strcmp(argv[1], "fds")) {
		DIR *d = opendir("/proc/self/fd");
		struct dirent *de;
		int dfd = dirfd(d);
		while ((de = readdir(d)))
			if (de->d_name[0] != '.' && atoi(de->d_name) != dfd)
				printf("%s ", de->d_name);
		printf("\n");
		closedir(d);
		return 0;
	}
	return 2;
}
