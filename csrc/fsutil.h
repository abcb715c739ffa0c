/* fsutil.h — reading and writing the small files of /proc and /sys/fs/cgroup.
 *
 * Owns: the open/read/write/close loops with EINTR retried and errno kept.
 * Must not: allocate, log or know what the files mean.
 */
#ifndef NSM_FSUTIL_H
#define NSM_FSUTIL_H

#include <stddef.h>

/* Write s to name (relative to dirfd, or absolute with AT_FDCWD) in one
 * write(2), as proc and cgroup files want. 0, or -1 with errno set. */
int fs_write_str_at(int dirfd, const char *name, const char *s);
/* Write all n bytes of p to fd (EINTR retried). 0, or -1 with errno set. */
int fs_write_all(int fd, const char *p, size_t n);
/* Read at most len-1 bytes of path into buf, NUL-terminated. Returns the
 * length, or -1 with errno set. */
int fs_read_small(const char *path, char *buf, size_t len);
/* A /proc/self/mountinfo line: its 5th field (the mount point), cut off in
 * place; NULL when the line is too short. */
char *fs_mountinfo_point(char *line);

#endif
