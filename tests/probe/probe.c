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
 *   probe unix NAME       connect to the abstract unix socket "\0NAME"
 *   probe forks           fork (children wait) until fork fails; print how
 *                         many, the errno and the processes in /proc then
 *   probe nofile          open /dev/null until that fails; print how many
 *                         and the errno
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
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
#include <sys/un.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>
#include <arpa/inet.h>

/* x86_64 numbers of the calls some libc headers no longer name (the probe
 * is x86_64-only: see the int 0x80 test). */
#ifndef SYS_create_module
#define SYS_create_module 174
#endif
#ifndef SYS_get_kernel_syms
#define SYS_get_kernel_syms 177
#endif
#ifndef SYS_query_module
#define SYS_query_module 178
#endif
#ifndef SYS_nfsservctl
#define SYS_nfsservctl 180
#endif
#ifndef SYS_uselib
#define SYS_uselib 134
#endif
#ifndef SYS__sysctl
#define SYS__sysctl 156
#endif
#ifndef SYS_lookup_dcookie
#define SYS_lookup_dcookie 212
#endif
#ifndef SYS_fsconfig
#define SYS_fsconfig 431
#endif
#ifndef SYS_fsmount
#define SYS_fsmount 432
#endif
#ifndef SYS_fspick
#define SYS_fspick 433
#endif
#ifndef SYS_io_uring_register
#define SYS_io_uring_register 427
#endif
#ifndef SYS_process_madvise
#define SYS_process_madvise 440
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#ifndef SYS_quotactl_fd
#define SYS_quotactl_fd 443
#endif
#ifndef SYS_set_mempolicy_home_node
#define SYS_set_mempolicy_home_node 450
#endif
#ifndef SYS_ustat
#define SYS_ustat 136
#endif
#ifndef SYS_sysfs
#define SYS_sysfs 139
#endif
#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif

static const char *ename(int e)
{
	switch (e) {
	case 0:
		return "OK";
	case EPERM:
		return "EPERM";
	case ENOSYS:
		return "ENOSYS";
	case EFAULT:
		return "EFAULT";
	case EBADF:
		return "EBADF";
	case EINVAL:
		return "EINVAL";
	case ENOENT:
		return "ENOENT";
	case ESRCH:
		return "ESRCH";
	case EACCES:
		return "EACCES";
	case EIO:
		return "EIO";
	case EOPNOTSUPP:
		return "EOPNOTSUPP";
	case ENOTTY:
		return "ENOTTY";
	case ECONNREFUSED:
		return "ECONNREFUSED";
	case ENETUNREACH:
		return "ENETUNREACH";
	case EAGAIN:
		return "EAGAIN";
	case EMFILE:
		return "EMFILE";
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

#define TRY(name, call)                 \
	do {                            \
		errno = 0;              \
		long r_ = (long)(call); \
		report(name, r_);       \
	} while (0)

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
	TRY("fsconfig", syscall(SYS_fsconfig, -1, 0, NULL, NULL, 0));
	TRY("fsmount", syscall(SYS_fsmount, -1, 0, 0));
	TRY("fspick", syscall(SYS_fspick, -1, bad, 0));
	TRY("mount_setattr", syscall(SYS_mount_setattr, -1, bad, 0, NULL, 0));
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
		static const struct {
			const char *name;
			unsigned long flag;
		} ns[] = {
			{ "clone_newns", CLONE_NEWNS },   { "clone_newuts", CLONE_NEWUTS },
			{ "clone_newipc", CLONE_NEWIPC }, { "clone_newpid", CLONE_NEWPID },
			{ "clone_newnet", CLONE_NEWNET }, { "clone_newcgroup", CLONE_NEWCGROUP },
		};
		for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++) {
			errno = 0;
			long r = syscall(SYS_clone, ns[i].flag | SIGCHLD, 0, NULL, NULL, 0);
			if (r == 0)
				_exit(0);
			if (r > 0)
				waitpid((pid_t)r, NULL, 0);
			report(ns[i].name, r);
		}
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
	TRY("io_uring_register", syscall(SYS_io_uring_register, -1, 0, NULL, 0));
	TRY("lookup_dcookie", syscall(SYS_lookup_dcookie, 0, NULL, 0));
	TRY("fanotify_init", syscall(SYS_fanotify_init, ~0U, 0));
	TRY("process_madvise", syscall(SYS_process_madvise, -1, NULL, 0, 0, 0));
	TRY("move_pages", syscall(SYS_move_pages, 0, 0, NULL, NULL, NULL, 0));
	TRY("migrate_pages", syscall(SYS_migrate_pages, -1, 0, NULL, NULL));
	TRY("mbind", syscall(SYS_mbind, 0, 0, 0, NULL, 0, 0));
	TRY("set_mempolicy", syscall(SYS_set_mempolicy, 0, NULL, 0));
	TRY("get_mempolicy", syscall(SYS_get_mempolicy, NULL, NULL, 0, NULL, 0));
	TRY("set_mempolicy_home_node", syscall(SYS_set_mempolicy_home_node, 0, 0, 0, 0));
	TRY("sysfs", syscall(SYS_sysfs, 3));
	TRY("ustat", syscall(SYS_ustat, 0, bad));
	TRY("kexec_load", syscall(SYS_kexec_load, 0, 0, NULL, -1));
	TRY("kexec_file_load", syscall(SYS_kexec_file_load, -1, -1, 0, NULL, ~0UL));
	TRY("init_module", syscall(SYS_init_module, NULL, 0, NULL));
	TRY("finit_module", syscall(SYS_finit_module, -1, NULL, 0));
	TRY("delete_module", syscall(SYS_delete_module, bad, 0));
	TRY("create_module", syscall(SYS_create_module, bad, 0));
	TRY("get_kernel_syms", syscall(SYS_get_kernel_syms, NULL));
	TRY("query_module", syscall(SYS_query_module, bad, 0, NULL, 0, NULL));
	TRY("reboot", syscall(SYS_reboot, 0, 0, -1, NULL));
	TRY("swapon", syscall(SYS_swapon, bad, 0));
	TRY("swapoff", syscall(SYS_swapoff, bad));
	TRY("settimeofday", syscall(SYS_settimeofday, bad, bad));
	TRY("clock_settime", syscall(SYS_clock_settime, -1, bad));
	TRY("clock_adjtime", syscall(SYS_clock_adjtime, -1, bad));
	TRY("adjtimex", syscall(SYS_adjtimex, bad));
	TRY("acct", syscall(SYS_acct, bad));
	TRY("quotactl", syscall(SYS_quotactl, 0, bad, 0, bad));
	TRY("quotactl_fd", syscall(SYS_quotactl_fd, -1, 0, 0, NULL));
	TRY("nfsservctl", syscall(SYS_nfsservctl, -1, NULL, NULL));
	TRY("syslog", syscall(SYS_syslog, 10, NULL, 0));
	TRY("vhangup", syscall(SYS_vhangup));
	TRY("kcmp", syscall(SYS_kcmp, -1, -1, -1, 0, 0));
	TRY("pidfd_getfd", syscall(SYS_pidfd_getfd, -1, -1, 0));
	TRY("iopl", syscall(SYS_iopl, 0));
	TRY("ioperm", syscall(SYS_ioperm, 0x80, 1, 0));
	TRY("uselib", syscall(SYS_uselib, bad));
	TRY("_sysctl", syscall(SYS__sysctl, bad));
	TRY("sethostname", syscall(SYS_sethostname, bad, 1));
	TRY("setdomainname", syscall(SYS_setdomainname, bad, 1));
	TRY("tiocsti", ioctl(-1, TIOCSTI, bad));
	TRY("tiocsti_highbits", syscall(SYS_ioctl, -1, 0x100000000UL | TIOCSTI, bad));
	TRY("tioclinux", ioctl(-1, TIOCLINUX, bad));
	TRY("personality_rie", personality(READ_IMPLIES_EXEC));
	TRY("personality_norand", personality(ADDR_NO_RANDOMIZE));
	{
		/* socket families outside the allow-list; the kernel reads the
		 * family as an int, so high bits must not slip past */
		int sv[2];
		long r;
		TRY("socket_vsock", r = socket(AF_VSOCK, SOCK_STREAM, 0));
		if (r >= 0)
			close((int)r);
		TRY("socket_packet", r = socket(AF_PACKET, SOCK_DGRAM, 0));
		if (r >= 0)
			close((int)r);
		TRY("socket_inet_highbits",
		    r = syscall(SYS_socket, 0x100000000UL | AF_INET, SOCK_STREAM, 0));
		if (r >= 0)
			close((int)r);
		TRY("socketpair_vsock", r = socketpair(AF_VSOCK, SOCK_STREAM, 0, sv));
		if (r == 0) {
			close(sv[0]);
			close(sv[1]);
		}
	}
	/* allowed: must not be EPERM */
	{
		int sv[2];
		long r;
		TRY("socket_unix", r = socket(AF_UNIX, SOCK_STREAM, 0));
		if (r >= 0)
			close((int)r);
		TRY("socket_inet", r = socket(AF_INET, SOCK_STREAM, 0));
		if (r >= 0)
			close((int)r);
		TRY("socket_netlink", r = socket(AF_NETLINK, SOCK_DGRAM, 0));
		if (r >= 0)
			close((int)r);
		TRY("socketpair_unix", r = socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
		if (r == 0) {
			close(sv[0]);
			close(sv[1]);
		}
	}
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

/* Fork children that wait for the parent's end (a pipe) until fork fails. */
static int forks(void)
{
	int p[2], n = 0, procs = 0;
	pid_t pid;
	if (pipe(p) < 0)
		return 2;
	while (n < 100000 && (pid = fork()) >= 0) {
		if (pid == 0) {
			char c;
			close(p[1]);
			while (read(p[0], &c, 1) < 0 && errno == EINTR)
				;
			_exit(0);
		}
		n++;
	}
	int e = errno;
	DIR *d = opendir("/proc");
	struct dirent *de;
	while (d && (de = readdir(d)))
		procs += atoi(de->d_name) > 0;
	if (d)
		closedir(d);
	printf("forked %d then %s; %d processes\n", n, ename(e), procs);
	close(p[1]);
	while (wait(NULL) > 0 || errno == EINTR)
		;
	return 0;
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
		struct sockaddr_in sa = { .sin_family = AF_INET,
			                  .sin_port = htons((unsigned short)atoi(argv[2])) };
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		int r = connect(fd, (struct sockaddr *)&sa, sizeof sa);
		printf("connect %s\n", ename(r < 0 ? errno : 0));
		return r < 0 ? 1 : 0;
	}
	if (!strcmp(argv[1], "unix") && argc > 2) {
		/* Abstract sockets belong to the network namespace. */
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		size_t n = strlen(argv[2]);
		if (n + 1 > sizeof sa.sun_path)
			return 2;
		memcpy(sa.sun_path + 1, argv[2], n);
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);
		int r = connect(fd, (struct sockaddr *)&sa,
		                (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n));
		printf("unix %s\n", ename(r < 0 ? errno : 0));
		return r < 0 ? 1 : 0;
	}
	if (!strcmp(argv[1], "forks"))
		return forks();
	if (!strcmp(argv[1], "nofile")) {
		int n = 0, fd;
		while ((fd = open("/dev/null", O_RDONLY)) >= 0)
			n++;
		printf("opened %d then %s\n", n, ename(errno));
		return 0;
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
