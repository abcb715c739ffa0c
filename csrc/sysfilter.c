/* sysfilter.c — the seccomp deny table, compiled once per environment.
 *
 * Owns: which system calls a sandbox may not make, and why (one table below).
 * Must not: be compiled or interpreted in the child: libseccomp runs at
 * start-up (jail_init) and exports classic BPF; the child only hands that
 * program to prctl(PR_SET_SECCOMP) as its very last step before execve
 * (minijail's rule: seccomp comes last since it cuts off the other
 * privilege-dropping calls).
 *
 * Model: default ALLOW, listed calls fail with EPERM (ENOSYS for clone3 so
 * libcs fall back to clone(2), whose flags the filter can inspect). Any
 * syscall ABI other than native x86_64 / aarch64 kills the whole process:
 * i386 via int 0x80 has its own audit arch; x32 shares AUDIT_ARCH_X86_64 and is
 * told apart by __X32_SYSCALL_BIT in the number, which libseccomp checks for
 * us when x32 is not in the filter (the compiled program begins with
 * "if nr >= 0x40000000 goto bad_arch"; tests/jail checks the kill).
 * Most of these calls would already fail for lack of capabilities (the jail
 * drops them all); the filter is the second wall, and the only one for calls
 * a capability-less process may make (userfaultfd, io_uring, personality,
 * keyctl, TIOCSTI, unshare(CLONE_NEWUSER), ...).
 */
#include "sysfilter.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sched.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"

#ifndef CLONE_NEWCGROUP
#define CLONE_NEWCGROUP 0x02000000
#endif
#ifndef MFD_CLOEXEC
#define MFD_CLOEXEC 1U
#endif

enum sf_cond {
	SF_ALWAYS,        /* every call fails with EPERM */
	SF_ENOSYS,        /* every call fails with ENOSYS (libc falls back) */
	SF_CLONE_NS,      /* clone(2) whose flags ask for a new namespace */
	SF_IOCTL_CMD,     /* ioctl(2) with this request number (low 32 bits) */
	SF_PERSONALITY,   /* personality(2) other than Docker's safe values: a
	                     hand-written prologue (libseccomp 2.5 cannot compare
	                     one argument twice in a rule) */
	SF_SOCKET_FAMILY, /* socket(2)/socketpair(2) of a family not in
	                     socket_ok: in the same prologue */
};

struct sf_entry {
	const char *name;
	enum sf_cond cond;
	unsigned long arg; /* SF_IOCTL_CMD: the request */
	const char *why;
};

/* The deny table. At least Docker's default profile's denials (moby
 * profiles/seccomp/default.json), expressed as a deny list. Names unknown on
 * the build architecture are skipped at build time (logged at debug). */
static const struct sf_entry table[] = {
	/* filesystem and namespace topology: the jail built it, code must not change it */
	{ "mount", SF_ALWAYS, 0, "remount or cover the jail's read-only binds" },
	{ "umount2", SF_ALWAYS, 0, "uncover what the jail hid" },
	{ "pivot_root", SF_ALWAYS, 0, "change the root the jail chose" },
	{ "chroot", SF_ALWAYS, 0, "classic chroot escapes with a held directory fd" },
	{ "move_mount", SF_ALWAYS, 0, "new mount API" },
	{ "open_tree", SF_ALWAYS, 0, "new mount API: clone mount trees" },
	{ "fsopen", SF_ALWAYS, 0, "new mount API: create file system contexts" },
	{ "fsconfig", SF_ALWAYS, 0, "new mount API" },
	{ "fsmount", SF_ALWAYS, 0, "new mount API" },
	{ "fspick", SF_ALWAYS, 0, "new mount API: reconfigure existing mounts" },
	{ "mount_setattr", SF_ALWAYS, 0, "clear read-only/nosuid on a mount" },
	{ "unshare", SF_ALWAYS, 0, "new (user) namespaces are kernel attack surface" },
	{ "setns", SF_ALWAYS, 0, "join another namespace through a held fd" },
	{ "clone", SF_CLONE_NS, 0, "clone with CLONE_NEW*: same as unshare" },
	{ "clone3", SF_ENOSYS, 0,
	  "its flags live in memory the filter cannot read; ENOSYS makes libc use clone" },
	/* kernel attack surface with a history of escalations */
	{ "bpf", SF_ALWAYS, 0, "eBPF verifier bugs" },
	{ "perf_event_open", SF_ALWAYS, 0, "perf bugs and side channels" },
	{ "userfaultfd", SF_ALWAYS, 0, "stalls kernel threads at chosen points (race exploits)" },
	{ "io_uring_setup", SF_ALWAYS, 0, "io_uring: large surface, bypasses seccomp per op" },
	{ "io_uring_enter", SF_ALWAYS, 0, "io_uring" },
	{ "io_uring_register", SF_ALWAYS, 0, "io_uring" },
	{ "keyctl", SF_ALWAYS, 0, "kernel keyrings are not namespaced" },
	{ "add_key", SF_ALWAYS, 0, "kernel keyrings are not namespaced" },
	{ "request_key", SF_ALWAYS, 0, "kernel keyrings are not namespaced" },
	{ "lookup_dcookie", SF_ALWAYS, 0, "profiling interface, CAP_SYS_ADMIN" },
	{ "fanotify_init", SF_ALWAYS, 0, "file system wide monitoring" },
	{ "open_by_handle_at", SF_ALWAYS, 0, "opens files outside the mount tree (shocker)" },
	{ "name_to_handle_at", SF_ALWAYS, 0, "companion of open_by_handle_at" },
	/* other processes */
	{ "ptrace", SF_ALWAYS, 0, "inspect or control processes (also the sandbox init)" },
	{ "process_vm_readv", SF_ALWAYS, 0, "read another process's memory" },
	{ "process_vm_writev", SF_ALWAYS, 0, "write another process's memory" },
	{ "process_madvise", SF_ALWAYS, 0, "act on another process's memory" },
	{ "pidfd_getfd", SF_ALWAYS, 0, "steal another process's file descriptors" },
	{ "kcmp", SF_ALWAYS, 0, "kernel pointer ordering leaks (Docker: CAP_SYS_PTRACE)" },
	{ "move_pages", SF_ALWAYS, 0, "acts on other processes' pages" },
	{ "migrate_pages", SF_ALWAYS, 0, "acts on other processes' pages" },
	/* NUMA placement: Docker allows these only with CAP_SYS_NICE */
	{ "mbind", SF_ALWAYS, 0, "NUMA memory policy (Docker: CAP_SYS_NICE)" },
	{ "set_mempolicy", SF_ALWAYS, 0, "NUMA memory policy (Docker: CAP_SYS_NICE)" },
	{ "get_mempolicy", SF_ALWAYS, 0, "NUMA memory policy (Docker: CAP_SYS_NICE)" },
	{ "set_mempolicy_home_node", SF_ALWAYS, 0, "NUMA memory policy (Docker: CAP_SYS_NICE)" },
	/* the machine itself */
	{ "kexec_load", SF_ALWAYS, 0, "replace the kernel" },
	{ "kexec_file_load", SF_ALWAYS, 0, "replace the kernel" },
	{ "init_module", SF_ALWAYS, 0, "load kernel code" },
	{ "finit_module", SF_ALWAYS, 0, "load kernel code" },
	{ "delete_module", SF_ALWAYS, 0, "unload kernel code" },
	{ "create_module", SF_ALWAYS, 0, "obsolete module call" },
	{ "get_kernel_syms", SF_ALWAYS, 0, "obsolete module call" },
	{ "query_module", SF_ALWAYS, 0, "obsolete module call" },
	{ "reboot", SF_ALWAYS, 0, "reboot the host (or the pid namespace)" },
	{ "swapon", SF_ALWAYS, 0, "host swap configuration" },
	{ "swapoff", SF_ALWAYS, 0, "host swap configuration" },
	{ "acct", SF_ALWAYS, 0, "host process accounting" },
	{ "quotactl", SF_ALWAYS, 0, "host disk quotas" },
	{ "quotactl_fd", SF_ALWAYS, 0, "host disk quotas" },
	{ "nfsservctl", SF_ALWAYS, 0, "obsolete NFS server control" },
	{ "syslog", SF_ALWAYS, 0, "kernel log: addresses, host activity" },
	{ "vhangup", SF_ALWAYS, 0, "hang up the controlling terminal" },
	{ "iopl", SF_ALWAYS, 0, "raw I/O port access" },
	{ "ioperm", SF_ALWAYS, 0, "raw I/O port access" },
	{ "uselib", SF_ALWAYS, 0, "obsolete loader call" },
	{ "_sysctl", SF_ALWAYS, 0, "obsolete sysctl interface" },
	{ "sysfs", SF_ALWAYS, 0, "obsolete file system type query (Docker denies it)" },
	{ "ustat", SF_ALWAYS, 0, "obsolete file system statistics (Docker denies it)" },
	{ "sethostname", SF_ALWAYS, 0, "the jail names the sandbox" },
	{ "setdomainname", SF_ALWAYS, 0, "the jail names the sandbox" },
	/* time is not namespaced (apart from CLONE_NEWTIME offsets) */
	{ "settimeofday", SF_ALWAYS, 0, "host clock" },
	{ "clock_settime", SF_ALWAYS, 0, "host clock" },
	{ "clock_adjtime", SF_ALWAYS, 0, "host clock" },
	{ "adjtimex", SF_ALWAYS, 0, "host clock" },
	/* terminals: a sandbox must not type into its caller's terminal */
	{ "ioctl", SF_IOCTL_CMD, TIOCSTI, "TIOCSTI pushes input into a terminal" },
	{ "ioctl", SF_IOCTL_CMD, TIOCLINUX, "TIOCLINUX can also inject input" },
	/* execution domain: only the values Docker allows */
	{ "personality", SF_PERSONALITY, 0,
	  "READ_IMPLIES_EXEC / ADDR_NO_RANDOMIZE weaken NX and ASLR" },
	/* socket families: an allow-list (socket_ok below), not a deny-list */
	{ "socket", SF_SOCKET_FAMILY, 0,
	  "families that ignore network namespaces (AF_VSOCK) or reach hardware" },
	{ "socketpair", SF_SOCKET_FAMILY, 0, "the same families" },
};

/* personality(2) values allowed (Docker's list): PER_LINUX, PER_LINUX32,
 * UNAME26, UNAME26|PER_LINUX32 and the query 0xffffffff. Anything else can
 * set READ_IMPLIES_EXEC, ADDR_NO_RANDOMIZE, MMAP_PAGE_ZERO, ... */
static const uint32_t personality_ok[] = { 0x0, 0x8, 0x20000, 0x20008, 0xffffffff };

/* Socket families a sandbox may use; every other one fails with EPERM.
 *   AF_UNIX    local IPC inside the sandbox (abstract names belong to its
 *              own network namespace; paths to its own mounts);
 *   AF_INET, AF_INET6  loopback in the sandbox's own network namespace, or
 *              the host's network for environments that opt in;
 *   AF_NETLINK NETLINK_ROUTE for getaddrinfo()/if_nameindex() and `ip`; it is
 *              scoped to the sandbox's network namespace.
 * Not AF_VSOCK (ignores network namespaces: reaches the VM host), AF_PACKET,
 * AF_BLUETOOTH, AF_ALG, AF_XDP, ... (hardware and kernel surface). The
 * kernel reads the family as int: a value with high bits set is refused. */
static const uint32_t socket_ok[] = { AF_UNIX, AF_INET, AF_INET6, AF_NETLINK };

#if defined(__x86_64__)
#define SF_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define SF_AUDIT_ARCH AUDIT_ARCH_AARCH64
#else
#error "sysfilter: add this architecture's AUDIT_ARCH"
#endif

/* The prologue placed before libseccomp's program, for the checks that
 * compare one argument with several values (libseccomp 2.5 cannot):
 * personality(2) against personality_ok, socket(2) and socketpair(2)
 * against socket_ok. The kernel reads both arguments as 32-bit ints: for
 * personality the low word is compared (little-endian args[0]); for the
 * socket family the high word must be 0 as well. A foreign ABI or an x32
 * number never equals these numbers here and falls through to libseccomp's
 * checks, which kill it. */
#define N_PERS (sizeof personality_ok / sizeof personality_ok[0])
#define N_SOCK (sizeof socket_ok / sizeof socket_ok[0])
#define SF_PROLOGUE_LEN (8 + N_PERS + 4 + N_SOCK + 2)
#define ARG0_LO offsetof(struct seccomp_data, args[0])
#define ARG0_HI (offsetof(struct seccomp_data, args[0]) + 4)
static size_t prologue(struct sock_filter *p)
{
	size_t i = 0;
	const size_t rest = SF_PROLOGUE_LEN;      /* libseccomp's first instruction */
	const size_t allow = SF_PROLOGUE_LEN - 1; /* RET ALLOW */
	const size_t deny = SF_PROLOGUE_LEN - 2;  /* RET ERRNO(EPERM) */
	const size_t pers = 7;                    /* personality's checks */
	const size_t sock = pers + 2 + N_PERS;    /* the socket family's checks */
#define J(to) ((unsigned char)((to)-i - 1))
	p[i] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
	                                    offsetof(struct seccomp_data, arch));
	i++;
	p[i] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SF_AUDIT_ARCH, 0, J(rest));
	i++;
	p[i] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
	                                    offsetof(struct seccomp_data, nr));
	i++;
	p[i] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_personality, J(pers), 0);
	i++;
	p[i] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_socket, J(sock), 0);
	i++;
	p[i] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_socketpair, J(sock), 0);
	i++;
	p[i] =
	    (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JA | BPF_K, (unsigned)(rest - i - 1), 0, 0);
	i++;
	/* pers: */
	p[i] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG0_LO);
	i++;
	for (size_t k = 0; k < N_PERS; k++, i++)
		p[i] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, personality_ok[k],
		                                    J(allow), 0);
	p[i] =
	    (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JA | BPF_K, (unsigned)(deny - i - 1), 0, 0);
	i++;
	/* sock: */
	p[i] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG0_HI);
	i++;
	p[i] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, J(deny));
	i++;
	p[i] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG0_LO);
	i++;
	for (size_t k = 0; k < N_SOCK; k++, i++)
		p[i] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, socket_ok[k],
		                                    J(allow), 0);
	if (i != sock + 3 + N_SOCK || i != deny)
		return 0; /* the labels above do not match the code: refused by the caller */
	p[i++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
	                                      SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA));
	p[i++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
#undef J
	return i;
}

static const unsigned long clone_ns_flags[] = {
	CLONE_NEWNS,  CLONE_NEWUTS, CLONE_NEWIPC,    CLONE_NEWUSER,
	CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWCGROUP,
	/* CLONE_NEWTIME (0x80) overlaps clone(2)'s exit-signal byte: only
	 * unshare/clone3 can ask for it, and both are denied above. */
};

const char *sysfilter_entry_name(size_t i)
{
	return i < sizeof table / sizeof table[0] ? table[i].name : NULL;
}

static int add_entry(scmp_filter_ctx ctx, const struct sf_entry *t, int nr)
{
	int r = 0;
	switch (t->cond) {
	case SF_ALWAYS:
		return seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0);
	case SF_ENOSYS:
		return seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), nr, 0);
	case SF_CLONE_NS:
		for (size_t i = 0; i < sizeof clone_ns_flags / sizeof clone_ns_flags[0] && !r; i++)
			r = seccomp_rule_add(
			    ctx, SCMP_ACT_ERRNO(EPERM), nr, 1,
			    SCMP_A0(SCMP_CMP_MASKED_EQ, clone_ns_flags[i], clone_ns_flags[i]));
		return r;
	case SF_IOCTL_CMD:
		/* The kernel reads the request as unsigned int: compare only the
		 * low 32 bits, or setting a high bit would slip past (CVE-2019-
		 * 5736-era Docker lesson, runc's TIOCSTI fix). */
		return seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 1,
		                        SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffUL, t->arg));
	case SF_PERSONALITY:
	case SF_SOCKET_FAMILY:
		return 0; /* in the prologue */
	}
	return -EINVAL;
}

int sysfilter_build(const struct env_entry *env, struct sysfilter *f, struct err *e)
{
	scmp_filter_ctx ctx;
	int r, fd = -1;
	struct stat st;

	(void)env; /* one policy for every environment today; the hook stays */
	memset(f, 0, sizeof *f);
	ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx)
		return err_set(e, ENOMEM, "seccomp_init failed");
	/* Foreign ABIs (i386 int 0x80, x32): kill the whole process, not just
	 * the thread, so nothing half-dead keeps running. */
	r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	if (r < 0) {
		err_sys(e, -r, "seccomp: bad-arch action");
		goto out;
	}
	/* We set NO_NEW_PRIVS ourselves before loading. */
	r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	if (r < 0) {
		err_sys(e, -r, "seccomp: nnp attribute");
		goto out;
	}
	for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
		int nr = seccomp_syscall_resolve_name(table[i].name);
		if (nr == __NR_SCMP_ERROR) {
			log_msg(LOG_DEBUG, "seccomp: %s unknown on this architecture, skipped",
			        table[i].name);
			continue;
		}
		r = add_entry(ctx, &table[i], nr);
		if (r < 0) {
			err_sys(e, -r, "seccomp: rule for %s", table[i].name);
			goto out;
		}
	}
	/* libseccomp 2.5 exports to an fd only (seccomp_export_bpf_mem is 2.6):
	 * go through a memfd and read the program back. */
	fd = (int)syscall(SYS_memfd_create, "nsm-seccomp", MFD_CLOEXEC);
	if (fd < 0) {
		r = -1;
		err_sys(e, errno, "seccomp: memfd_create");
		goto out;
	}
	r = seccomp_export_bpf(ctx, fd);
	if (r < 0) {
		err_sys(e, -r, "seccomp: export");
		goto out;
	}
	if (fstat(fd, &st) < 0) {
		r = -1;
		err_sys(e, errno, "seccomp: fstat");
		goto out;
	}
	if (st.st_size <= 0 || st.st_size % (off_t)sizeof(struct sock_filter) ||
	    st.st_size / (off_t)sizeof(struct sock_filter) > BPF_MAXINSNS) {
		r = -1;
		err_set(e, EINVAL, "seccomp: exported program has %lld bytes",
		        (long long)st.st_size);
		goto out;
	}
	size_t plen = SF_PROLOGUE_LEN;
	if ((size_t)st.st_size / sizeof(struct sock_filter) + plen > BPF_MAXINSNS) {
		r = -1;
		err_set(e, E2BIG, "seccomp: program too long");
		goto out;
	}
	f->insns = malloc((size_t)st.st_size + plen * sizeof(struct sock_filter));
	if (!f->insns) {
		r = -1;
		err_set(e, ENOMEM, "seccomp: out of memory");
		goto out;
	}
	for (size_t got = 0; got < (size_t)st.st_size;) {
		ssize_t n = pread(fd, (char *)(f->insns + plen) + got, (size_t)st.st_size - got,
		                  (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = -1;
			err_sys(e, n < 0 ? errno : EIO, "seccomp: read back");
			sysfilter_free(f);
			goto out;
		}
		got += (size_t)n;
	}
	if (prologue(f->insns) != plen) {
		r = -1;
		err_set(e, EINVAL, "seccomp: prologue length mismatch");
		sysfilter_free(f);
		goto out;
	}
	f->len = (unsigned short)(plen + (size_t)st.st_size / sizeof(struct sock_filter));
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	seccomp_release(ctx);
	return r < 0 ? -1 : 0;
}

void sysfilter_free(struct sysfilter *f)
{
	free(f->insns);
	f->insns = NULL;
	f->len = 0;
}

int sysfilter_load(const struct sysfilter *f, struct err *e)
{
	struct sock_fprog prog = { .len = f->len, .filter = f->insns };
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0)
		return err_sys(e, errno, "load seccomp filter");
	return 0;
}
