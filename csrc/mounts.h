/* mounts.h — building a sandbox's new root from a list of operations.
 *
 * Owns: the mount operations and the pivot sequence (bubblewrap style: a
 * list is prepared once in the parent, the child walks it). Must not: decide
 * what goes into a sandbox (jail.c does) or exit: every helper returns -1
 * with the failing path in the struct err.
 *
 * Child-side only except for the op list itself. While the list is walked the
 * host's root is reachable at /oldroot and the new root is /newroot, so host
 * paths that the new root covers (a project dir under /tmp, say) still bind.
 */
#ifndef NSM_MOUNTS_H
#define NSM_MOUNTS_H

#include <stddef.h>
#include <sys/types.h>
#include "err.h"

enum mount_kind {
	MOUNT_BIND_RO,      /* host src → dst, read-only, nosuid, nodev; a src that is a
	                       symlink is recreated as the same symlink instead */
	MOUNT_BIND_DEV,     /* host device node src → dst (nosuid, noexec) */
	MOUNT_TMPFS,        /* tmpfs at dst, data = mount options (size=, mode=) */
	MOUNT_PROC,         /* fresh proc at dst; /proc/sys and sysrq-trigger read-only */
	MOUNT_SYMLINK,      /* dst → src; skipped when dst already exists */
	MOUNT_FILE,         /* regular file dst (0644) holding data */
	MOUNT_REMOUNT_RO,   /* make the mount at dst read-only */
	MOUNT_PROJECT,      /* host directory src → dst as a read-only view through
	                       which nothing reaches a host process (see mounts.c) */
	MOUNT_PROJECT_LIVE, /* the same, for a session: the tree is also kept
	                       (MOUNTS_LIVE_SRC) so that the view can be made
	                       again before each call (jail_refresh_project) */
};

#define MOUNT_OPTIONAL 1u /* a missing source is skipped, not an error */
#define MOUNT_FROM_FD 2u  /* project: fd is its detached idmapped tree */

struct mount_op {
	enum mount_kind kind;
	unsigned flags;
	const char *src;
	const char *dst; /* absolute path inside the sandbox */
	const char *data;
	int fd; /* MOUNT_FROM_FD only */
};

/* Make every mount private, put a scratch tmpfs at the old /tmp and pivot
 * into it with the host root at /oldroot; mount the new root (a tmpfs of
 * root_opts) at /newroot. */
int mounts_enter(const char *root_opts, struct err *e);
/* Walk ops under /newroot with sources under /oldroot. */
int mounts_apply(const struct mount_op *ops, size_t n, struct err *e);
/* Detach /oldroot, pivot into /newroot, make / read-only. cwd becomes /. */
int mounts_leave(struct err *e);
/* A session's project tree: MOUNT_PROJECT_LIVE keeps it here in the new
 * root (under MOUNTS_LIVE_DIR, mode 0: out of the sandbox user's reach). */
#define MOUNTS_LIVE_DIR "/.project"
#define MOUNTS_LIVE_SRC MOUNTS_LIVE_DIR "/tree"
#define MOUNTS_LIVE_EMPTY MOUNTS_LIVE_DIR "/empty" /* overlayfs' second lower layer */
/* The project as the sandbox sees it, at dst, made of the read-only tree at
 * src: a read-only overlay of src and the empty directory empty (and one
 * per directory mount nested in src, found in the mountinfo file), through
 * which no socket or FIFO reaches a host process; where overlayfs refuses
 * src, a read-only bind of it. */
int mounts_project_view(const char *src, const char *empty, const char *dst, const char *mountinfo,
                        struct err *e);
/* Bind-remount an existing mount point read-only (after setup). */
int mounts_remount_ro(const char *path, struct err *e);

/* Server side. How many mounts are nested in dir (the first one's path in
 * first), -1 when mountinfo cannot be read: such a project cannot be an
 * overlay, so its sockets and FIFOs stay reachable (logged at start-up). */
int mounts_project_nested(const char *dir, char *first, size_t len);
/* Server side, as root: a detached copy of the project tree dir (with its
 * nested mounts when they allow it), read-only, nosuid, nodev and idmapped
 * so that files of the project's owner (uid and gid of dir) belong to host
 * id sandbox_id, the sandbox user, as OPEN_TREE_CLOEXEC fd; -1 with the
 * reason when the kernel (5.12+, and 5.19+ for the overlay on top) or the
 * file system cannot. The sandbox child attaches it (MOUNT_FROM_FD). */
int mounts_project_tree(const char *dir, unsigned sandbox_id, struct err *e);
/* The group whose files the project's owner reads as group (their primary
 * group in /etc/passwd, else the group numbered as the owner): the one
 * mounts_project_tree maps to the sandbox's group. */
unsigned mounts_owner_group(uid_t owner);
/* Close what mounts_project_tree keeps (its idmapping's user namespace). */
void mounts_project_tree_fini(void);
/* Whether a read-only overlayfs can be mounted in a new user namespace here
 * (--doctor); why not in why. Forks; start-up and --doctor only. */
int mounts_overlay_works(char *why, size_t len);

#endif
