/* mounts.c — the new root of a sandbox; see mounts.h.
 *
 * Runs in the sandbox child only, inside its own user and mount namespaces,
 * single-threaded. Returns errors with the failing path; never exits.
 *
 * Kernel rules this file lives by (mount(2), mount_namespaces(7)):
 * - A bind remount inside a user namespace must keep the flags the host
 *   mount has "locked" (nosuid, nodev, noexec; atime is kept when no atime
 *   flag is given), else EPERM: we read them with statvfs(3) from the source.
 * - A non-recursive bind of a mount that has locked submounts is refused
 *   (EINVAL, it would uncover them): we then bind recursively; the submounts
 *   keep the host's flags and the sandbox uid still cannot write host files.
 * - pivot_root(".", ".") stacks the old root on the new one, so the old one
 *   can then be detached from "." (bubblewrap's "Russian doll").
 *
 * The project (MOUNT_PROJECT) must be read-only all the way down and reach
 * no host process. A read-only bind does neither: a socket file in it still
 * connects to the host process listening on it, a FIFO still reaches the
 * host's reader, and a recursive bind keeps each nested mount's own flags
 * (a tmpfs under the project stayed writable). So the project is an
 * overlayfs with two lower layers (the project and an empty directory) and
 * no upper one: read-only by construction, its sockets and FIFOs are inodes
 * of the overlay (connect() is refused; a FIFO opened through it is a pipe
 * of its own), and mounts nested in the project are not part of it.
 * Overlayfs refuses, in a user namespace, a lower layer with mounts of the
 * host's nested in it ("failed to clone lowerpath": they are locked); such a
 * project is bound recursively and every mount in the tree made read-only,
 * nosuid and nodev (mount_setattr(AT_RECURSIVE), else each submount found in
 * mountinfo), and a sandbox whose project could not be made read-only does
 * not start. Its sockets and FIFOs then stay reachable: the server says so
 * at start-up (main.c) and the README lists it.
 *
 * An overlay shows its lower layer as it was when first looked up: a file
 * the host replaces by rename (what editors do) keeps its old content in
 * the overlay, a name looked up before the host created it stays missing.
 * Fine for a one-shot sandbox (fresh for each run), wrong for a session that
 * lives for hours while the project is edited: sessions get the bind
 * (MOUNT_PROJECT_LIVE), always current, read-only all the way down, with
 * the same limit for sockets and FIFOs.
 */
#include "mounts.h"
#include "fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#define NEWROOT "/newroot"
#define OLDROOT "/oldroot"
#define SCRATCH "/tmp"
#define EMPTYDIR "/empty" /* in the scratch root: overlayfs' second lower layer */

#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442 /* the same number on x86_64 and aarch64 */
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif
#define NSM_MOUNT_ATTR_RDONLY 0x1u
#define NSM_MOUNT_ATTR_NOSUID 0x2u
#define NSM_MOUNT_ATTR_NODEV 0x4u
struct nsm_mount_attr { /* struct mount_attr, <linux/mount.h> (5.12+) */
	uint64_t attr_set, attr_clr, propagation, userns_fd;
};

static int join(char *buf, size_t len, const char *a, const char *b, struct err *e)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la + lb + 1 > len)
		return err_set(e, ENAMETOOLONG, "path too long: %s%s", a, b);
	memcpy(buf, a, la);
	memcpy(buf + la, b, lb + 1);
	return 0;
}

/* mkdir -p for paths inside the new root (all components are ours). */
static int mkdir_p(const char *path, mode_t mode, struct err *e)
{
	char tmp[PATH_MAX];
	size_t n = strlen(path);
	if (n >= sizeof tmp)
		return err_set(e, ENAMETOOLONG, "path too long: %s", path);
	memcpy(tmp, path, n + 1);
	for (char *p = tmp + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;
		*p = '\0';
		if (mkdir(tmp, mode) < 0 && errno != EEXIST)
			return err_sys(e, errno, "mkdir %s", tmp);
		*p = c;
		if (!c)
			return 0;
	}
}

static int mkdir_parent(const char *path, struct err *e)
{
	char tmp[PATH_MAX];
	const char *slash = strrchr(path, '/');
	size_t n = (size_t)(slash - path);
	if (!slash || n == 0)
		return 0;
	if (n >= sizeof tmp)
		return err_set(e, ENAMETOOLONG, "path too long: %s", path);
	memcpy(tmp, path, n);
	tmp[n] = '\0';
	return mkdir_p(tmp, 0755, e);
}

static int touch(const char *path, mode_t mode, struct err *e)
{
	int fd;
	if (mkdir_parent(path, e) < 0)
		return -1;
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return err_sys(e, errno, "create %s", path);
	close(fd);
	return 0;
}

static unsigned long locked_flags(const char *src)
{
	struct statvfs sv;
	unsigned long f = 0;
	if (statvfs(src, &sv) < 0)
		return 0;
	if (sv.f_flag & ST_NOSUID)
		f |= MS_NOSUID;
	if (sv.f_flag & ST_NODEV)
		f |= MS_NODEV;
	if (sv.f_flag & ST_NOEXEC)
		f |= MS_NOEXEC;
	return f;
}

static int bind_remount(const char *src, const char *dst, unsigned long extra, struct err *e)
{
	if (mount(src, dst, NULL, MS_BIND, NULL) < 0) {
		if (errno != EINVAL || mount(src, dst, NULL, MS_BIND | MS_REC, NULL) < 0)
			return err_sys(e, errno, "bind %s", src);
	}
	if (mount(NULL, dst, NULL, MS_BIND | MS_REMOUNT | extra | locked_flags(src), NULL) < 0)
		return err_sys(e, errno, "remount %s", dst);
	return 0;
}

static int op_bind(const struct mount_op *op, const char *src, const char *dst, struct err *e)
{
	struct stat st;
	if (lstat(src, &st) < 0) {
		if (errno == ENOENT && (op->flags & MOUNT_OPTIONAL))
			return 0;
		return err_sys(e, errno, "%s", op->src);
	}
	if (op->kind == MOUNT_BIND_RO && S_ISLNK(st.st_mode)) {
		char target[PATH_MAX];
		ssize_t n = readlink(src, target, sizeof target - 1);
		if (n < 0)
			return err_sys(e, errno, "readlink %s", op->src);
		target[n] = '\0';
		if (mkdir_parent(dst, e) < 0)
			return -1;
		if (symlink(target, dst) < 0 && errno != EEXIST)
			return err_sys(e, errno, "symlink %s", op->dst);
		return 0;
	}
	if (S_ISDIR(st.st_mode)) {
		if (mkdir_p(dst, 0755, e) < 0)
			return -1;
	} else if (touch(dst, 0444, e) < 0) {
		return -1;
	}
	if (op->kind == MOUNT_BIND_DEV)
		return bind_remount(src, dst, MS_NOSUID | MS_NOEXEC, e);
	return bind_remount(src, dst, MS_RDONLY | MS_NOSUID | MS_NODEV, e);
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int op_file(const struct mount_op *op, const char *dst, struct err *e)
{
	int fd;
	if (mkdir_parent(dst, e) < 0)
		return -1;
	fd = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return err_sys(e, errno, "create %s", op->dst);
	if (write_all(fd, op->data, strlen(op->data)) < 0) {
		int s = errno;
		close(fd);
		return err_sys(e, s, "write %s", op->dst);
	}
	close(fd);
	return 0;
}

/* Host information /proc shows to anyone, hidden as Docker hides it
 * (moby's default MaskedPaths), plus the kernel command line: files are
 * covered by an empty read-only file, directories by an empty read-only
 * tmpfs. */
static const char *const proc_masked[] = {
	"/cmdline", "/kcore", "/keys", "/latency_stats", "/timer_list", "/timer_stats",
	"/sched_debug", "/interrupts", "/asound", "/acpi", "/scsi",
};
#define MASK_FILE "/masked" /* in the scratch root: empty, read-only */

static int mask_proc(const char *dst, struct err *e)
{
	char p[PATH_MAX];
	struct stat st;
	for (size_t i = 0; i < sizeof proc_masked / sizeof proc_masked[0]; i++) {
		if (join(p, sizeof p, dst, proc_masked[i], e) < 0)
			return -1;
		if (lstat(p, &st) < 0)
			continue; /* not on this kernel */
		if (S_ISDIR(st.st_mode)) {
			if (mount("tmpfs", p, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=4k,mode=0555") < 0)
				return err_sys(e, errno, "mask %s", p);
			continue;
		}
		if (mount(MASK_FILE, p, NULL, MS_BIND, NULL) < 0 ||
		    mount(NULL, p, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
			return err_sys(e, errno, "mask %s", p);
	}
	return 0;
}

static int op_proc(const char *dst, struct err *e)
{
	static const char *const ro[] = { "/sys", "/sysrq-trigger" };
	char p[PATH_MAX];
	if (mkdir_p(dst, 0755, e) < 0)
		return -1;
	if (mount("proc", dst, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return err_sys(e, errno, "mount proc on %s", dst);
	if (mask_proc(dst, e) < 0)
		return -1;
	/* The sandbox uid could not write these anyway (host-root owned);
	 * read-only covers are the second wall, as in bubblewrap. */
	for (size_t i = 0; i < sizeof ro / sizeof ro[0]; i++) {
		if (join(p, sizeof p, dst, ro[i], e) < 0)
			return -1;
		if (mount(p, p, NULL, MS_BIND | MS_REC, NULL) < 0) {
			if (errno == ENOENT)
				continue;
			return err_sys(e, errno, "bind %s", p);
		}
		if (mount(NULL, p, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
			  NULL) < 0)
			return err_sys(e, errno, "remount %s", p);
	}
	return 0;
}

/* Overlayfs option value: ',' ':' and '\\' escaped with a backslash. */
static int overlay_opts(char *buf, size_t len, const char *lower, struct err *e)
{
	static const char head[] = "lowerdir=";
	size_t o = sizeof head - 1;
	if (len <= o)
		return err_set(e, ENAMETOOLONG, "overlay options too long");
	memcpy(buf, head, o);
	for (const char *p = lower; *p; p++) {
		if (o + 3 >= len)
			return err_set(e, ENAMETOOLONG, "project path too long for overlayfs: %s", lower);
		if (*p == ',' || *p == ':' || *p == '\\')
			buf[o++] = '\\';
		buf[o++] = *p;
	}
	size_t tail = sizeof(":" EMPTYDIR);
	if (o + tail > len)
		return err_set(e, ENAMETOOLONG, "project path too long for overlayfs: %s", lower);
	memcpy(buf + o, ":" EMPTYDIR, tail);
	return 0;
}

/* Every mount at or under dst read-only, nosuid, nodev: mount_setattr with
 * AT_RECURSIVE (5.12+), else a remount of each one mountinfo lists. */
static int ro_tree(const char *dst, struct err *e)
{
	struct nsm_mount_attr a = { .attr_set = NSM_MOUNT_ATTR_RDONLY | NSM_MOUNT_ATTR_NOSUID | NSM_MOUNT_ATTR_NODEV };
	if (syscall(SYS_mount_setattr, AT_FDCWD, dst, AT_RECURSIVE, &a, sizeof a) == 0)
		return 0;
	if (errno != ENOSYS)
		return err_sys(e, errno, "make the project tree read-only (mount_setattr)");
	/* Fallback: mountinfo's 5th field is the mount point (octal escapes for
	 * spaces etc.; such a path is refused rather than misread). */
	int fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_sys(e, errno, "open /proc/self/mountinfo");
	char buf[8192], line[PATH_MAX + 512];
	size_t ll = 0, dl = strlen(dst);
	int r = 0;
	for (;;) {
		ssize_t n = read(fd, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (ssize_t i = 0; i < n && r == 0; i++) {
			if (buf[i] != '\n') {
				if (ll < sizeof line - 1)
					line[ll++] = buf[i];
				continue;
			}
			line[ll] = '\0';
			ll = 0;
			char *f = fs_mountinfo_point(line);
			if (!f || strncmp(f, dst, dl) != 0 || (f[dl] != '\0' && f[dl] != '/'))
				continue;
			if (strchr(f, '\\')) {
				r = err_set(e, EINVAL, "a mount in the project has an escaped name (%s): not made read-only", f);
				break;
			}
			if (mount(NULL, f, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | locked_flags(f),
				  NULL) < 0)
				r = err_sys(e, errno, "make %s in the project read-only", f);
		}
	}
	close(fd);
	return r;
}

static int op_project(const struct mount_op *op, const char *src, const char *dst, struct err *e)
{
	char opts[PATH_MAX + 64];
	struct stat st;
	if (stat(src, &st) < 0)
		return err_sys(e, errno, "project %s", op->src);
	if (!S_ISDIR(st.st_mode))
		return err_set(e, ENOTDIR, "project %s is not a directory", op->src);
	if (op->kind == MOUNT_PROJECT_LIVE) {
		if (mkdir_p(dst, 0755, e) < 0)
			return -1;
		goto bind;
	}
	/* lowerdir is "." from inside the project, so /proc/self/mountinfo
	 * (which shows overlayfs' options) does not name the host path. */
	if (mkdir_p(dst, 0755, e) < 0 || overlay_opts(opts, sizeof opts, ".", e) < 0)
		return -1;
	if (chdir(src) < 0)
		return err_sys(e, errno, "chdir %s", op->src);
	int r = mount("overlay", dst, "overlay", MS_RDONLY | MS_NOSUID | MS_NODEV, opts);
	if (chdir("/") < 0)
		return err_sys(e, errno, "chdir /");
	if (r == 0)
		return 0;
	/* No overlayfs here (nested host mounts, kernel, file system): bind
	 * the tree and make all of it read-only, or fail. */
bind:
	if (mount(src, dst, NULL, MS_BIND | MS_REC, NULL) < 0)
		return err_sys(e, errno, "bind %s", op->src);
	if (mount(NULL, dst, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | locked_flags(src), NULL) <
	    0)
		return err_sys(e, errno, "remount %s", op->dst);
	return ro_tree(dst, e);
}

int mounts_apply(const struct mount_op *ops, size_t n, struct err *e)
{
	char src[PATH_MAX], dst[PATH_MAX];
	struct stat st;

	for (size_t i = 0; i < n; i++) {
		const struct mount_op *op = &ops[i];
		if (join(dst, sizeof dst, NEWROOT, op->dst, e) < 0)
			return -1;
		switch (op->kind) {
		case MOUNT_BIND_RO:
		case MOUNT_BIND_DEV:
			if (join(src, sizeof src, OLDROOT, op->src, e) < 0 ||
			    op_bind(op, src, dst, e) < 0)
				return -1;
			break;
		case MOUNT_TMPFS:
			if (mkdir_p(dst, 0755, e) < 0)
				return -1;
			if (mount("tmpfs", dst, "tmpfs", MS_NOSUID | MS_NODEV, op->data) < 0)
				return err_sys(e, errno, "mount tmpfs on %s", op->dst);
			break;
		case MOUNT_PROC:
			if (op_proc(dst, e) < 0)
				return -1;
			break;
		case MOUNT_SYMLINK:
			/* The closure may already provide the path (tests bind
			 * the host /usr); its own file wins. */
			if (lstat(dst, &st) == 0)
				break;
			if (mkdir_parent(dst, e) < 0)
				return -1;
			if (symlink(op->src, dst) < 0 && errno != EEXIST)
				return err_sys(e, errno, "symlink %s", op->dst);
			break;
		case MOUNT_FILE:
			if (op_file(op, dst, e) < 0)
				return -1;
			break;
		case MOUNT_REMOUNT_RO:
			if (mount(NULL, dst, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV,
				  NULL) < 0)
				return err_sys(e, errno, "remount %s read-only", op->dst);
			break;
		case MOUNT_PROJECT:
		case MOUNT_PROJECT_LIVE:
			if (join(src, sizeof src, OLDROOT, op->src, e) < 0 || op_project(op, src, dst, e) < 0)
				return -1;
			break;
		}
	}
	return 0;
}

int mounts_enter(const char *root_opts, struct err *e)
{
	/* Private first: nothing we do may propagate back to the host. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return err_sys(e, errno, "make / private");
	if (mount("tmpfs", SCRATCH, "tmpfs", MS_NOSUID | MS_NODEV, "size=64k,mode=0755") < 0)
		return err_sys(e, errno, "mount scratch tmpfs on " SCRATCH);
	if (chdir(SCRATCH) < 0)
		return err_sys(e, errno, "chdir " SCRATCH);
	if (mkdir("newroot", 0755) < 0 || mkdir("oldroot", 0755) < 0 || mkdir("empty", 0755) < 0)
		return err_sys(e, errno, "mkdir in scratch");
	int mfd = open("masked", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
	if (mfd < 0)
		return err_sys(e, errno, "create the mask file in scratch");
	close(mfd);
	if (syscall(SYS_pivot_root, SCRATCH, "oldroot") < 0)
		return err_sys(e, errno, "pivot_root to scratch");
	if (chdir("/") < 0)
		return err_sys(e, errno, "chdir /");
	if (mount("tmpfs", NEWROOT, "tmpfs", MS_NOSUID | MS_NODEV, root_opts) < 0)
		return err_sys(e, errno, "mount root tmpfs");
	return 0;
}

int mounts_leave(struct err *e)
{
	int oldfd;
	if (mount(OLDROOT, OLDROOT, NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return err_sys(e, errno, "make " OLDROOT " private");
	if (umount2(OLDROOT, MNT_DETACH) < 0)
		return err_sys(e, errno, "detach " OLDROOT);
	oldfd = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	if (oldfd < 0)
		return err_sys(e, errno, "open /");
	if (chdir(NEWROOT) < 0) {
		close(oldfd);
		return err_sys(e, errno, "chdir " NEWROOT);
	}
	if (syscall(SYS_pivot_root, ".", ".") < 0) {
		close(oldfd);
		return err_sys(e, errno, "pivot_root into " NEWROOT);
	}
	if (fchdir(oldfd) < 0) {
		close(oldfd);
		return err_sys(e, errno, "fchdir to scratch");
	}
	close(oldfd);
	if (umount2(".", MNT_DETACH) < 0)
		return err_sys(e, errno, "detach scratch root");
	if (chdir("/") < 0)
		return err_sys(e, errno, "chdir / in new root");
	if (mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) < 0)
		return err_sys(e, errno, "remount / read-only");
	return 0;
}

int mounts_remount_ro(const char *path, struct err *e)
{
	if (mount(NULL, path, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) < 0)
		return err_sys(e, errno, "remount %s read-only", path);
	return 0;
}

/* ---- server side (start-up, --doctor) ---- */

int mounts_project_nested(const char *dir, char *first, size_t len)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return -1;
	char line[PATH_MAX + 512];
	size_t dl = strlen(dir);
	int n = 0;
	if (len)
		first[0] = '\0';
	while (fgets(line, sizeof line, f)) {
		char *p = fs_mountinfo_point(line);
		if (p && strncmp(p, dir, dl) == 0 && p[dl] == '/' && (dl > 1 || p[1] != '\0')) {
			if (n++ == 0 && len)
				snprintf(first, len, "%s", p);
		}
	}
	fclose(f);
	return n;
}

int mounts_overlay_works(char *why, size_t len)
{
	/* A child in new user and mount namespaces mounts a read-only overlay
	 * of two empty directories: what every sandbox does with the project. */
	char base[] = "/tmp/nsm-doctor-XXXXXX";
	if (!mkdtemp(base))
		return snprintf(why, len, "mkdtemp: %s", strerror(errno)), 0;
	char a[64], b[64], m[64];
	snprintf(a, sizeof a, "%s/a", base);
	snprintf(b, sizeof b, "%s/b", base);
	snprintf(m, sizeof m, "%s/m", base);
	int ok = 0;
	if (mkdir(a, 0755) == 0 && mkdir(b, 0755) == 0 && mkdir(m, 0755) == 0) {
		pid_t pid = fork();
		if (pid == 0) {
			char opts[256];
			snprintf(opts, sizeof opts, "lowerdir=%s:%s", a, b);
			if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
				_exit(2);
			if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
				_exit(3);
			_exit(mount("overlay", m, "overlay", MS_RDONLY | MS_NOSUID | MS_NODEV, opts) == 0 ? 0 : 4);
		}
		int st = 0;
		if (pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st)) {
			ok = WEXITSTATUS(st) == 0;
			if (!ok)
				snprintf(why, len, "%s", WEXITSTATUS(st) == 4 ? "overlayfs cannot be mounted in a user namespace "
									"(Linux >= 5.11 and CONFIG_OVERLAY_FS)"
									: "no user and mount namespaces");
		} else {
			snprintf(why, len, "fork: %s", strerror(errno));
		}
	}
	rmdir(m);
	rmdir(b);
	rmdir(a);
	rmdir(base);
	return ok;
}
