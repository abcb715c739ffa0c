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
 * lives for hours while the project is edited. A session's sandbox
 * (MOUNT_PROJECT_LIVE) therefore also keeps the read-only tree itself, at
 * MOUNTS_LIVE_SRC under a directory of mode 0 that the sandbox user cannot
 * enter (and, the root being read-only, cannot chmod), and its view is
 * made again from it before each call (jail.c, jail_refresh_project): the
 * same overlay, current as of the call's start.
 */
#include "mounts.h"
#include "fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdbool.h>
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
#define STAGEDIR \
	"/stage" /* in the scratch root: where an idmapped project tree is attached first */

#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442 /* the same number on x86_64 and aarch64 */
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif
#define NSM_MOUNT_ATTR_RDONLY 0x1u
#define NSM_MOUNT_ATTR_NOSUID 0x2u
#define NSM_MOUNT_ATTR_NODEV 0x4u
#define NSM_MOUNT_ATTR_IDMAP 0x100000u
#ifndef SYS_open_tree
#define SYS_open_tree 428 /* the generic numbers: x86_64 and aarch64 alike */
#endif
#ifndef SYS_move_mount
#define SYS_move_mount 429
#endif
#define NSM_OPEN_TREE_CLONE 1u
#define NSM_MOVE_MOUNT_F_EMPTY_PATH 0x4u
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

static int op_file(const struct mount_op *op, const char *dst, struct err *e)
{
	int fd;
	if (mkdir_parent(dst, e) < 0)
		return -1;
	fd = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return err_sys(e, errno, "create %s", op->dst);
	if (fs_write_all(fd, op->data, strlen(op->data)) < 0) {
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
	"/cmdline",     "/kcore",      "/keys",   "/latency_stats", "/timer_list", "/timer_stats",
	"/sched_debug", "/interrupts", "/asound", "/acpi",          "/scsi",
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
			if (mount("tmpfs", p, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
			          "size=4k,mode=0555") < 0)
				return err_sys(e, errno, "mask %s", p);
			continue;
		}
		if (mount(MASK_FILE, p, NULL, MS_BIND, NULL) < 0 ||
		    mount(NULL, p, NULL,
		          MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
		          NULL) < 0)
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
		if (mount(NULL, p, NULL,
		          MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
		          NULL) < 0)
			return err_sys(e, errno, "remount %s", p);
	}
	return 0;
}

/* Call fn for each mount point at or under dir (strictly under when
 * !with_dir) that the mountinfo file lists, in its order: a copied tree is
 * listed parent first. Names with octal escapes (spaces etc.) are refused
 * rather than misread. */
typedef int mount_fn(const char *point, void *ctx, struct err *e);
static int each_mount_under(const char *dir, bool with_dir, const char *mountinfo, mount_fn *fn,
                            void *ctx, struct err *e)
{
	int fd = open(mountinfo, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_sys(e, errno, "open %s", mountinfo);
	char buf[8192], line[PATH_MAX + 512];
	size_t ll = 0, dl = strlen(dir);
	int r = 0;
	for (;;) {
		ssize_t n = read(fd, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			r = err_sys(e, errno, "read mountinfo");
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
			if (!f || strncmp(f, dir, dl) != 0 || (f[dl] != '\0' && f[dl] != '/') ||
			    (!with_dir && f[dl] == '\0'))
				continue;
			if (strchr(f, '\\'))
				r = err_set(e, EINVAL,
				            "a mount in the project has an escaped name (%s)", f);
			else
				r = fn(f, ctx, e);
		}
		if (r)
			break;
	}
	close(fd);
	return r;
}

static int remount_ro(const char *point, void *ctx, struct err *e)
{
	(void)ctx;
	if (mount(NULL, point, NULL,
	          MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | locked_flags(point),
	          NULL) < 0)
		return err_sys(e, errno, "make %s in the project read-only", point);
	return 0;
}

/* Every mount at or under dst read-only, nosuid, nodev: mount_setattr with
 * AT_RECURSIVE (5.12+), else a remount of each one mountinfo lists. */
static int ro_tree(const char *dst, const char *mountinfo, struct err *e)
{
	struct nsm_mount_attr a = { .attr_set = NSM_MOUNT_ATTR_RDONLY | NSM_MOUNT_ATTR_NOSUID |
		                                NSM_MOUNT_ATTR_NODEV };
	if (syscall(SYS_mount_setattr, AT_FDCWD, dst, AT_RECURSIVE, &a, sizeof a) == 0)
		return 0;
	if (errno != ENOSYS)
		return err_sys(e, errno, "make the project tree read-only (mount_setattr)");
	return each_mount_under(dst, true, mountinfo, remount_ro, NULL, e);
}

/* A read-only overlay of the directory src (lowerdir "." from inside it:
 * mountinfo, which shows overlayfs' options, then does not name src; the
 * empty directory empty is the second lower layer that overlayfs wants
 * without an upper one). 0; -1 when overlayfs refused it (errno, e
 * untouched); -2 on another failure (e filled). */
static int overlay_of(const char *src, const char *dst, const char *empty, struct err *e)
{
	char opts[PATH_MAX + 16];
	if (strpbrk(empty, ",:\\") ||
	    snprintf(opts, sizeof opts, "lowerdir=.:%s", empty) >= (int)sizeof opts)
		return err_set(e, EINVAL, "bad overlay layer %s", empty), -2;
	if (chdir(src) < 0)
		return err_sys(e, errno, "chdir %s", src), -2;
	int r = mount("overlay", dst, "overlay", MS_RDONLY | MS_NOSUID | MS_NODEV, opts);
	int saved = errno;
	if (chdir("/") < 0)
		return err_sys(e, errno, "chdir /"), -2;
	errno = saved;
	return r;
}

/* A mount nested in the tree gets its own overlay at the same place in the
 * view: an overlay shows only the mount it was made of. One that is not a
 * directory (a bind of a single file, a socket even) is left out: the view
 * shows the file beneath it. */
struct view {
	const char *src, *dst, *empty;
};
static int overlay_nested(const char *point, void *ctx, struct err *e)
{
	const struct view *v = ctx;
	const char *rel = point + strlen(v->src);
	char target[PATH_MAX];
	struct stat st;
	if (stat(point, &st) < 0)
		return err_sys(e, errno, "nested mount %s", rel);
	if (!S_ISDIR(st.st_mode))
		return 0;
	if (join(target, sizeof target, v->dst, rel, e) < 0)
		return -1;
	int r = overlay_of(point, target, v->empty, e);
	if (r == -1)
		return err_sys(e, errno, "overlay of the nested mount %s", rel);
	return r;
}

int mounts_project_view(const char *src, const char *empty, const char *dst, const char *mountinfo,
                        struct err *e)
{
	int r = overlay_of(src, dst, empty, e);
	if (r == -2)
		return -1;
	if (r == 0) {
		struct view v = { src, dst, empty };
		return each_mount_under(src, false, mountinfo, overlay_nested, &v, e);
	}
	/* Overlayfs refused the tree (mounts of the host nested in it that
	 * a server that is not root cannot copy; Linux < 5.19 under an
	 * idmapped tree): a bind of it, read-only all the way down. */
	if (mount(src, dst, NULL, MS_BIND | MS_REC, NULL) < 0)
		return err_sys(e, errno, "bind the project tree");
	return ro_tree(dst, mountinfo, e);
}

/* While the new root is built our root is the scratch one: the host's proc
 * is under OLDROOT (its self is us, its paths relative to our root). */
#define SETUP_MOUNTINFO OLDROOT "/proc/self/mountinfo"

/* A session's tree (MOUNTS_LIVE_SRC) under a directory of mode 0 in the
 * new root: the sandbox user, without capabilities, cannot enter it, and
 * cannot chmod it back once the root is read-only. */
static int live_dir(struct err *e)
{
	if (mkdir_p(NEWROOT MOUNTS_LIVE_SRC, 0755, e) < 0 ||
	    mkdir_p(NEWROOT MOUNTS_LIVE_EMPTY, 0755, e) < 0)
		return -1;
	return 0;
}

static int live_hide(struct err *e)
{
	if (chmod(NEWROOT MOUNTS_LIVE_DIR, 0) < 0)
		return err_sys(e, errno, "chmod " MOUNTS_LIVE_DIR);
	return 0;
}

static int attach(int fd, const char *dst, struct err *e)
{
	if (syscall(SYS_move_mount, fd, "", AT_FDCWD, dst, NSM_MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return err_sys(e, errno, "attach the project's idmapped tree at %s", dst);
	return 0;
}

/* The server's idmapped tree (mounts_project_tree): already read-only,
 * nosuid and nodev all the way down. Sessions get it as it is (live); a
 * one-shot run gets the overlay on top of it, attached first at STAGEDIR
 * (overlayfs takes a path, and clones the mount it names: it must be in our
 * namespace) and detached again once the overlay holds it. */
static int op_project_fd(const struct mount_op *op, const char *dst, struct err *e)
{
	if (op->kind == MOUNT_PROJECT_LIVE) {
		/* Kept: the view is made again from it before each call. */
		if (live_dir(e) < 0 || attach(op->fd, NEWROOT MOUNTS_LIVE_SRC, e) < 0 ||
		    live_hide(e) < 0)
			return -1;
		return mounts_project_view(NEWROOT MOUNTS_LIVE_SRC, NEWROOT MOUNTS_LIVE_EMPTY, dst,
		                           SETUP_MOUNTINFO, e);
	}
	if (attach(op->fd, STAGEDIR, e) < 0 ||
	    mounts_project_view(STAGEDIR, EMPTYDIR, dst, SETUP_MOUNTINFO, e) < 0)
		return -1;
	if (umount2(STAGEDIR, MNT_DETACH) < 0)
		return err_sys(e, errno, "detach " STAGEDIR);
	return 0;
}

/* The host tree src at dst, read-only, nosuid, nodev all the way down. */
static int ro_bind_tree(const struct mount_op *op, const char *src, const char *dst, struct err *e)
{
	if (mount(src, dst, NULL, MS_BIND | MS_REC, NULL) < 0)
		return err_sys(e, errno, "bind %s", op->src);
	if (mount(NULL, dst, NULL,
	          MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | locked_flags(src),
	          NULL) < 0)
		return err_sys(e, errno, "remount %s", op->dst);
	return ro_tree(dst, SETUP_MOUNTINFO, e);
}

static int op_project(const struct mount_op *op, const char *src, const char *dst, struct err *e)
{
	struct stat st;
	bool from_fd = op->flags & MOUNT_FROM_FD;
	if ((from_fd ? fstat(op->fd, &st) : stat(src, &st)) < 0)
		return err_sys(e, errno, "project %s", op->src);
	if (!S_ISDIR(st.st_mode))
		return err_set(e, ENOTDIR, "project %s is not a directory", op->src);
	if (mkdir_p(dst, 0755, e) < 0)
		return -1;
	if (from_fd)
		return op_project_fd(op, dst, e);
	if (op->kind == MOUNT_PROJECT_LIVE) {
		/* The tree, read-only, kept hidden: the view is made again
		 * from it before each call (jail_refresh_project). */
		if (live_dir(e) < 0 || ro_bind_tree(op, src, NEWROOT MOUNTS_LIVE_SRC, e) < 0 ||
		    live_hide(e) < 0)
			return -1;
		return mounts_project_view(NEWROOT MOUNTS_LIVE_SRC, NEWROOT MOUNTS_LIVE_EMPTY, dst,
		                           SETUP_MOUNTINFO, e);
	}
	int r = overlay_of(src, dst, EMPTYDIR, e);
	if (r != -1)
		return r == 0 ? 0 : -1;
	/* No overlayfs here (nested host mounts, kernel, file system): bind
	 * the tree and make all of it read-only, or fail. */
	return ro_bind_tree(op, src, dst, e);
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
			if (mount(NULL, dst, NULL,
			          MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV,
			          NULL) < 0)
				return err_sys(e, errno, "remount %s read-only", op->dst);
			break;
		case MOUNT_PROJECT:
		case MOUNT_PROJECT_LIVE:
			if (join(src, sizeof src, OLDROOT, op->src, e) < 0 ||
			    op_project(op, src, dst, e) < 0)
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
	if (mkdir("newroot", 0755) < 0 || mkdir("oldroot", 0755) < 0 || mkdir("empty", 0755) < 0 ||
	    mkdir("stage", 0755) < 0)
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
	if (mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) <
	    0)
		return err_sys(e, errno, "remount / read-only");
	return 0;
}

int mounts_remount_ro(const char *path, struct err *e)
{
	if (mount(NULL, path, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) <
	    0)
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

/* A user namespace whose only mappings are uid → host id outside and gid →
 * host id outside, as an fd: the idmapping of the project tree. A helper
 * child creates it and waits until its maps are written and the namespace
 * is open. */
static int make_userns(unsigned uid, unsigned gid, unsigned outside, struct err *e)
{
	int ready[2], hold[2];
	if (pipe2(ready, O_CLOEXEC) < 0)
		return err_sys(e, errno, "pipe");
	if (pipe2(hold, O_CLOEXEC) < 0) {
		err_sys(e, errno, "pipe");
		close(ready[0]);
		close(ready[1]);
		return -1;
	}
	pid_t pid = fork();
	if (pid == 0) {
		close(hold[1]); /* else its read below never sees EOF */
		int err = unshare(CLONE_NEWUSER) == 0 ? 0 : errno;
		char c;
		if (write(ready[1], &err, sizeof err) == (ssize_t)sizeof err)
			while (read(hold[0], &c, 1) < 0 && errno == EINTR)
				;
		_exit(0);
	}
	int fd = -1, child_err = 0;
	close(ready[1]);
	close(hold[0]);
	if (pid < 0) {
		err_sys(e, errno, "fork");
	} else {
		ssize_t n;
		while ((n = read(ready[0], &child_err, sizeof child_err)) < 0 && errno == EINTR)
			;
		char path[64], map[64];
		if (n != (ssize_t)sizeof child_err)
			err_set(e, EIO, "the user-namespace helper died");
		else if (child_err)
			err_sys(e, child_err, "unshare(CLONE_NEWUSER)");
		else if (snprintf(path, sizeof path, "/proc/%d/uid_map", (int)pid) < 0 ||
		         snprintf(map, sizeof map, "%u %u 1\n", uid, outside) < 0 ||
		         fs_write_str_at(AT_FDCWD, path, map) < 0)
			err_sys(e, errno, "write the idmapping's uid_map");
		else if (snprintf(path, sizeof path, "/proc/%d/gid_map", (int)pid) < 0 ||
		         snprintf(map, sizeof map, "%u %u 1\n", gid, outside) < 0 ||
		         fs_write_str_at(AT_FDCWD, path, map) < 0)
			err_sys(e, errno, "write the idmapping's gid_map");
		else if (snprintf(path, sizeof path, "/proc/%d/ns/user", (int)pid) < 0 ||
		         (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			err_sys(e, errno, "open %s", path);
	}
	close(hold[1]); /* releases the helper */
	close(ready[0]);
	if (pid > 0)
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
	return fd;
}

/* The idmapping of mounts_project_tree, made once per (owner, sandbox id)
 * and kept until mounts_project_tree_fini. */
static int userns = -1;
static unsigned for_uid, for_id;

void mounts_project_tree_fini(void)
{
	if (userns >= 0)
		close(userns);
	userns = -1;
}

unsigned mounts_owner_group(uid_t owner)
{
	/* The directory's own group is often one its owner is not in
	 * (`chown alice dir` keeps root's group): its group-readable files
	 * must not become readable. The owner's primary group from
	 * /etc/passwd, else the user-private group of the same number. */
	struct passwd *pw = getpwuid(owner);
	return pw ? (unsigned)pw->pw_gid : (unsigned)owner;
}

int mounts_project_tree(const char *dir, unsigned sandbox_id, struct err *e)
{
	struct stat st;
	if (stat(dir, &st) < 0)
		return err_sys(e, errno, "project %s", dir);
	/* Rebuilt when the owner changes (not on every spawn: getpwuid reads
	 * /etc/passwd). */
	if (userns < 0 || for_uid != st.st_uid || for_id != sandbox_id) {
		unsigned gid = mounts_owner_group(st.st_uid);
		int fd = make_userns(st.st_uid, gid, sandbox_id, e);
		if (fd < 0)
			return err_wrap(e, "idmapping for the project");
		if (userns >= 0)
			close(userns);
		userns = fd;
		for_uid = st.st_uid;
		for_id = sandbox_id;
	}
	struct nsm_mount_attr a = { .attr_set = NSM_MOUNT_ATTR_RDONLY | NSM_MOUNT_ATTR_NOSUID |
		                                NSM_MOUNT_ATTR_NODEV | NSM_MOUNT_ATTR_IDMAP,
		                    .userns_fd = (uint64_t)userns };
	int t = (int)syscall(SYS_open_tree, AT_FDCWD, dir,
	                     NSM_OPEN_TREE_CLONE | AT_RECURSIVE | O_CLOEXEC);
	if (t >= 0 &&
	    syscall(SYS_mount_setattr, t, "", AT_EMPTY_PATH | AT_RECURSIVE, &a, sizeof a) == 0)
		return t;
	if (t >= 0)
		close(t);
	/* A mount nested in the project whose file system cannot be idmapped:
	 * the project's own mount alone (nested mounts are then not shown). */
	t = (int)syscall(SYS_open_tree, AT_FDCWD, dir, NSM_OPEN_TREE_CLONE | O_CLOEXEC);
	if (t < 0)
		return err_sys(e, errno, "copy the project's mount (open_tree, Linux 5.2+)");
	if (syscall(SYS_mount_setattr, t, "", AT_EMPTY_PATH, &a, sizeof a) < 0) {
		int saved = errno;
		close(t);
		return err_sys(e, saved,
		               "idmap the project's mount (mount_setattr: Linux 5.12+ and a file "
		               "system with idmapped mounts)");
	}
	return t;
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
			_exit(mount("overlay", m, "overlay", MS_RDONLY | MS_NOSUID | MS_NODEV,
			            opts) == 0
			          ? 0
			          : 4);
		}
		int st = 0;
		if (pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st)) {
			ok = WEXITSTATUS(st) == 0;
			if (!ok)
				snprintf(why, len, "%s",
				         WEXITSTATUS(st) == 4
				             ? "overlayfs cannot be mounted in a user namespace "
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
