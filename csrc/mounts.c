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
 */
#include "mounts.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#define NEWROOT "/newroot"
#define OLDROOT "/oldroot"
#define SCRATCH "/tmp"

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

static int op_proc(const char *dst, struct err *e)
{
	static const char *const ro[] = { "/sys", "/sysrq-trigger" };
	char p[PATH_MAX];
	if (mkdir_p(dst, 0755, e) < 0)
		return -1;
	if (mount("proc", dst, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return err_sys(e, errno, "mount proc on %s", dst);
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
	if (mkdir("newroot", 0755) < 0 || mkdir("oldroot", 0755) < 0)
		return err_sys(e, errno, "mkdir in scratch");
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
