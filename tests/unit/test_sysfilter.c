/* Unit tests for csrc/sysfilter.c: the compiled seccomp program, run in a
 * small classic-BPF interpreter instead of being loaded (minijail's way), so
 * every rule is checked on any machine, root or not: each entry of the deny
 * table, the allow-lists (personality, socket families), argument checks
 * that must look only at the low 32 bits, x32 and foreign ABIs, and calls
 * that must stay allowed. */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include <valgrind/valgrind.h>

#include "sysfilter.h"
#include "tap.h"

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif
#ifndef AF_XDP
#define AF_XDP 44
#endif

static int bad_insn;

/* Run prog on d; the seccomp return value (action | data). */
static uint32_t run_bpf(const struct sock_filter *prog, unsigned short len,
                        const struct seccomp_data *d)
{
	uint32_t A = 0, X = 0, M[BPF_MEMWORDS] = { 0 };
	const unsigned char *data = (const unsigned char *)d;
	for (unsigned pc = 0; pc < len; pc++) {
		const struct sock_filter *f = &prog[pc];
		switch (f->code) {
		case BPF_LD | BPF_W | BPF_ABS:
			if (f->k + 4 > sizeof *d || f->k % 4) {
				bad_insn++;
				return 0;
			}
			memcpy(&A, data + f->k, 4);
			break;
		case BPF_LD | BPF_IMM:
			A = f->k;
			break;
		case BPF_LDX | BPF_IMM:
			X = f->k;
			break;
		case BPF_LD | BPF_MEM:
			A = M[f->k % BPF_MEMWORDS];
			break;
		case BPF_LDX | BPF_MEM:
			X = M[f->k % BPF_MEMWORDS];
			break;
		case BPF_ST:
			M[f->k % BPF_MEMWORDS] = A;
			break;
		case BPF_STX:
			M[f->k % BPF_MEMWORDS] = X;
			break;
		case BPF_ALU | BPF_AND | BPF_K:
			A &= f->k;
			break;
		case BPF_ALU | BPF_OR | BPF_K:
			A |= f->k;
			break;
		case BPF_MISC | BPF_TAX:
			X = A;
			break;
		case BPF_MISC | BPF_TXA:
			A = X;
			break;
		case BPF_JMP | BPF_JA:
			pc += f->k;
			break;
		case BPF_JMP | BPF_JEQ | BPF_K:
			pc += A == f->k ? f->jt : f->jf;
			break;
		case BPF_JMP | BPF_JGT | BPF_K:
			pc += A > f->k ? f->jt : f->jf;
			break;
		case BPF_JMP | BPF_JGE | BPF_K:
			pc += A >= f->k ? f->jt : f->jf;
			break;
		case BPF_JMP | BPF_JSET | BPF_K:
			pc += (A & f->k) ? f->jt : f->jf;
			break;
		case BPF_JMP | BPF_JEQ | BPF_X:
			pc += A == X ? f->jt : f->jf;
			break;
		case BPF_JMP | BPF_JGT | BPF_X:
			pc += A > X ? f->jt : f->jf;
			break;
		case BPF_JMP | BPF_JGE | BPF_X:
			pc += A >= X ? f->jt : f->jf;
			break;
		case BPF_RET | BPF_K:
			return f->k;
		case BPF_RET | BPF_A:
			return A;
		default:
			bad_insn++;
			return 0;
		}
	}
	bad_insn++; /* fell off the end */
	return 0;
}

static struct sysfilter prog;

static uint32_t call(uint32_t arch, int nr, uint64_t a0, uint64_t a1)
{
	struct seccomp_data d = { .nr = nr, .arch = arch, .args = { a0, a1 } };
	return run_bpf(prog.insns, prog.len, &d);
}

#define NATIVE AUDIT_ARCH_X86_64
#define EPERM_RET (SECCOMP_RET_ERRNO | EPERM)
#define ENOSYS_RET (SECCOMP_RET_ERRNO | ENOSYS)

static const char *act(uint32_t r)
{
	static char buf[64];
	if (r == SECCOMP_RET_ALLOW)
		return "ALLOW";
	if (r == SECCOMP_RET_KILL_PROCESS)
		return "KILL_PROCESS";
	if ((r & SECCOMP_RET_ACTION_FULL) == SECCOMP_RET_ERRNO) {
		snprintf(buf, sizeof buf, "ERRNO(%u)", r & SECCOMP_RET_DATA);
		return buf;
	}
	snprintf(buf, sizeof buf, "0x%08x", r);
	return buf;
}

int main(void)
{
	struct err e = { 0 };
#if !defined(__x86_64__)
	printf("ok 1 - # SKIP the table test is written for x86_64\n1..1\n");
	return 0;
#endif
	/* valgrind does not implement seccomp(2), so libseccomp's probe of the
	 * kernel's API level fails under it: give it the level the kernel has
	 * natively (as tests/valgrind/vg_shim.c does for the server). */
	if (RUNNING_ON_VALGRIND)
		seccomp_api_set(3);
	TAP_OK(sysfilter_build(NULL, &prog, &e) == 0, "the filter compiles (%s)", e.msg);

	/* Every entry of the deny table, with harmless arguments. */
	const char *conditional[] = {
		"clone", "ioctl", "personality", "socket", "socketpair", NULL
	};
	size_t n = 0, unknown = 0, cond = 0, total = 0;
	for (size_t i = 0; sysfilter_entry_name(i); i++) {
		const char *name = sysfilter_entry_name(i);
		int skip = 0;
		total++;
		for (const char **c = conditional; *c; c++)
			skip |= strcmp(*c, name) == 0;
		if (skip) {
			cond++;
			continue;
		}
		int nr = seccomp_syscall_resolve_name(name);
		if (nr == __NR_SCMP_ERROR) {
			unknown++;
			continue;
		}
		uint32_t want = strcmp(name, "clone3") == 0 ? ENOSYS_RET : EPERM_RET;
		uint32_t got = call(NATIVE, nr, 0, 0);
		TAP_OK(got == want, "%s is denied with %s (got %s)", name,
		       strcmp(name, "clone3") ? "EPERM" : "ENOSYS", act(got));
		n++;
	}
	TAP_OK(n > 50 && n + unknown + cond == total,
	       "%zu of %zu table entries checked (%zu unknown on this architecture, %zu with "
	       "argument conditions, checked below)",
	       n, total, unknown, cond);
	/* What Docker's default profile denies, by name: each is in the table. */
	const char *docker[] = { "sysfs",
		                 "ustat",
		                 "mbind",
		                 "set_mempolicy",
		                 "get_mempolicy",
		                 "migrate_pages",
		                 "move_pages",
		                 "kcmp",
		                 "bpf",
		                 "userfaultfd",
		                 "keyctl",
		                 "add_key",
		                 "request_key",
		                 "open_by_handle_at",
		                 "perf_event_open",
		                 "unshare",
		                 "setns",
		                 "mount",
		                 "umount2",
		                 "pivot_root",
		                 "kexec_load",
		                 "init_module",
		                 "reboot",
		                 "swapon",
		                 "acct",
		                 "clock_settime",
		                 "settimeofday",
		                 "ptrace",
		                 "process_vm_readv",
		                 "syslog",
		                 "io_uring_setup",
		                 NULL };
	for (const char **d = docker; *d; d++) {
		int nr = seccomp_syscall_resolve_name(*d);
		TAP_OK(nr != __NR_SCMP_ERROR && call(NATIVE, nr, 0, 0) == EPERM_RET,
		       "Docker denies %s: so does this filter", *d);
	}

	/* Calls everyday programs need stay allowed. */
	const int allowed[] = { SYS_read,   SYS_write,      SYS_openat, SYS_close,  SYS_mmap,
		                SYS_execve, SYS_exit_group, SYS_futex,  SYS_getpid, SYS_wait4,
		                SYS_pipe2,  SYS_fork,       SYS_prctl };
	for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++)
		TAP_OK(call(NATIVE, allowed[i], 0, 0) == SECCOMP_RET_ALLOW, "syscall %d is allowed",
		       allowed[i]);

	/* Socket families: an allow-list. */
	const struct {
		uint64_t fam;
		uint32_t want;
		const char *what;
	} socks[] = {
		{ AF_UNIX, SECCOMP_RET_ALLOW, "AF_UNIX" },
		{ AF_INET, SECCOMP_RET_ALLOW, "AF_INET" },
		{ AF_INET6, SECCOMP_RET_ALLOW, "AF_INET6" },
		{ AF_NETLINK, SECCOMP_RET_ALLOW, "AF_NETLINK" },
		{ AF_VSOCK, EPERM_RET, "AF_VSOCK (ignores network namespaces)" },
		{ AF_PACKET, EPERM_RET, "AF_PACKET" },
		{ AF_BLUETOOTH, EPERM_RET, "AF_BLUETOOTH" },
		{ AF_ALG, EPERM_RET, "AF_ALG" },
		{ AF_XDP, EPERM_RET, "AF_XDP" },
		{ AF_UNSPEC, EPERM_RET, "AF_UNSPEC" },
		{ 0x100000000ULL | AF_INET, EPERM_RET, "AF_INET with high bits set" },
		{ 0x100000000ULL | AF_VSOCK, EPERM_RET, "AF_VSOCK with high bits set" },
		{ 0xffffffffULL, EPERM_RET, "family -1" },
	};
	for (size_t i = 0; i < sizeof socks / sizeof socks[0]; i++) {
		uint32_t a = call(NATIVE, SYS_socket, socks[i].fam, SOCK_STREAM);
		uint32_t b = call(NATIVE, SYS_socketpair, socks[i].fam, SOCK_STREAM);
		TAP_OK(a == socks[i].want && b == socks[i].want,
		       "socket/socketpair %s: %s (got %s)", socks[i].what, act(socks[i].want),
		       act(a));
	}

	/* personality: only Docker's values. */
	const struct {
		uint64_t v;
		uint32_t want;
	} pers[] = {
		{ 0x0, SECCOMP_RET_ALLOW },
		{ 0x8, SECCOMP_RET_ALLOW },
		{ 0x20000, SECCOMP_RET_ALLOW },
		{ 0x20008, SECCOMP_RET_ALLOW },
		{ 0xffffffff, SECCOMP_RET_ALLOW },
		{ 0x0400000, EPERM_RET }, /* READ_IMPLIES_EXEC */
		{ 0x0040000, EPERM_RET }, /* ADDR_NO_RANDOMIZE */
		{ 0x100000000ULL | 0x0400000, EPERM_RET },
	};
	for (size_t i = 0; i < sizeof pers / sizeof pers[0]; i++)
		TAP_OK(call(NATIVE, SYS_personality, pers[i].v, 0) == pers[i].want,
		       "personality(0x%llx): %s", (unsigned long long)pers[i].v, act(pers[i].want));

	/* clone: namespaces refused, plain threads and forks allowed. */
	TAP_OK(call(NATIVE, SYS_clone, CLONE_NEWUSER, 0) == EPERM_RET,
	       "clone(CLONE_NEWUSER) is denied");
	TAP_OK(call(NATIVE, SYS_clone, CLONE_NEWNS | CLONE_VM, 0) == EPERM_RET,
	       "clone(CLONE_NEWNS|...) is denied");
	TAP_OK(call(NATIVE, SYS_clone,
	            CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD,
	            0) == SECCOMP_RET_ALLOW,
	       "clone of a thread is allowed");
	TAP_OK(call(NATIVE, SYS_clone, 17 /* SIGCHLD */, 0) == SECCOMP_RET_ALLOW,
	       "fork-like clone is allowed");

	/* ioctl: TIOCSTI/TIOCLINUX refused whatever the high bits; others allowed. */
	TAP_OK(call(NATIVE, SYS_ioctl, 0, TIOCSTI) == EPERM_RET, "ioctl(TIOCSTI) is denied");
	TAP_OK(call(NATIVE, SYS_ioctl, 0, 0x100000000ULL | TIOCSTI) == EPERM_RET,
	       "ioctl(TIOCSTI with high bits set) is denied");
	TAP_OK(call(NATIVE, SYS_ioctl, 0, TIOCLINUX) == EPERM_RET, "ioctl(TIOCLINUX) is denied");
	TAP_OK(call(NATIVE, SYS_ioctl, 0, TIOCGWINSZ) == SECCOMP_RET_ALLOW,
	       "ioctl(TIOCGWINSZ) is allowed");

	/* Other ABIs: killed. */
	TAP_OK(call(NATIVE, SYS_read | 0x40000000, 0, 0) == SECCOMP_RET_KILL_PROCESS,
	       "x32 read is killed");
	TAP_OK(call(NATIVE, SYS_socket | 0x40000000, AF_VSOCK, 0) == SECCOMP_RET_KILL_PROCESS,
	       "x32 socket does not slip past the family check");
	TAP_OK(call(AUDIT_ARCH_I386, 3, 0, 0) == SECCOMP_RET_KILL_PROCESS, "i386 read is killed");
	TAP_OK(call(AUDIT_ARCH_I386, 102 /* socketcall */, 0, 0) == SECCOMP_RET_KILL_PROCESS,
	       "i386 socketcall is killed");
	TAP_OK(call(AUDIT_ARCH_AARCH64, 63, 0, 0) == SECCOMP_RET_KILL_PROCESS,
	       "a foreign arch is killed");

	TAP_OK(bad_insn == 0, "the interpreter met only instructions it knows (%d unknown)",
	       bad_insn);
	sysfilter_free(&prog);
	return TAP_DONE();
}
