/* wsfiles.c — files into and out of a sandbox's /workspace; see wsfiles.h.
 *
 * Owns: the path walk (one component at a time, O_NOFOLLOW, never ".."),
 * the identity switch to the sandbox user, the out/ scan and its bounds.
 * Must not: trust anything under the workspace: the code may have put a
 * symbolic link, a FIFO, a million entries or a file that grows while it is
 * read there. Each is refused, skipped or cut at a bound.
 */
#include "wsfiles.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fsutil.h"
#include "jail.h"
#include "utf8.h"

#define NAMES_PER_DIR 1024 /* entries of one directory looked at */
#define ENTRIES_MAX 4096   /* entries of the whole scan, directories included */

struct ws_seen_file {
	char *path;
	uint64_t ino, size;
	int64_t mtime_s, mtime_ns, ctime_s, ctime_ns;
};

/* ---- identity ------------------------------------------------------------ */

/* As root, act as the sandbox's host ids (jail.h): the workspace tmpfs
 * belongs to the sandbox's user namespace, where root is not mapped, and
 * the server must not do there what the code could not. Otherwise the
 * server's ids are the sandbox user's already. */
static int as_sandbox(struct err *e)
{
	if (geteuid() != 0)
		return 0;
	setfsgid(JAIL_ROOT_HOST_ID);
	setfsuid(JAIL_ROOT_HOST_ID);
	/* setfsuid reports nothing; an invalid id reads the current one. */
	if ((unsigned)setfsuid((uid_t)-1) != JAIL_ROOT_HOST_ID ||
	    (unsigned)setfsgid((gid_t)-1) != JAIL_ROOT_HOST_ID) {
		setfsuid(0);
		setfsgid(0);
		return err_set(e, EPERM, "the server could not take the sandbox user's identity");
	}
	return 0;
}

static void as_server(void)
{
	if (geteuid() != 0)
		return;
	setfsuid(0);
	setfsgid(0);
}

/* ---- paths --------------------------------------------------------------- */

static const char *path_problem(const char *path, bool strict);

const char *ws_path_problem(const char *path)
{
	return path_problem(path, true);
}

/* strict: a client's new path (no control characters); else the name of a
 * file the code made, which may hold any byte but "/" and NUL. */
static const char *path_problem(const char *path, bool strict)
{
	size_t n = strlen(path), comp = 0;
	if (n == 0)
		return "the path is empty";
	if (n > WS_PATH_MAX)
		return "the path is longer than 512 bytes";
	if (path[0] == '/')
		return "the path is absolute; give it relative to /workspace";
	for (size_t i = 0; i <= n; i++) {
		unsigned char c = (unsigned char)path[i];
		if (c == '/' || c == '\0') {
			const char *start = path + i - comp;
			if (comp == 0)
				return "the path has an empty component (\"//\" or a trailing "
				       "\"/\")";
			if ((comp == 1 && start[0] == '.') ||
			    (comp == 2 && start[0] == '.' && start[1] == '.'))
				return "the path has a \".\" or \"..\" component";
			if (comp > 255)
				return "a component of the path is longer than 255 bytes";
			comp = 0;
		} else if (strict && (c < 0x20 || c == 0x7f)) {
			return "the path holds a control character";
		} else {
			comp++;
		}
	}
	return NULL;
}

/* Open the directory holding path's last component (relative to dirfd),
 * creating missing directories when create. *last points into buf (a copy
 * of path). Returns the directory fd, or -1 with e->msg for the client. */
static int walk_parent(int dirfd, const char *path, bool create, char *buf, size_t len,
                       const char **last, struct err *e)
{
	snprintf(buf, len, "%s", path);
	int cur = dup(dirfd);
	if (cur < 0)
		return err_sys(e, errno, "dup");
	char *p = buf;
	for (char *slash; (slash = strchr(p, '/')); p = slash + 1) {
		*slash = '\0';
		if (create && mkdirat(cur, p, 0755) < 0 && errno != EEXIST) {
			int s = errno;
			close(cur);
			return err_sys(e, s, "\"%s\": cannot create directory \"%s\"", path, p);
		}
		int next = openat(cur, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int s = errno;
		close(cur);
		if (next < 0 && (s == ELOOP || s == ENOTDIR))
			return err_set(e, s,
			               "\"%s\": \"%s\" is a symbolic link or not a directory; "
			               "links are not followed",
			               path, p);
		if (next < 0)
			return err_sys(e, s, "\"%s\": cannot open directory \"%s\"", path, p);
		cur = next;
	}
	*last = p;
	return cur;
}

/* ---- input files ----------------------------------------------------------- */

void ws_inputs_free(struct ws_inputs *in)
{
	for (size_t i = 0; i < in->n; i++) {
		free(in->v[i].path);
		free(in->v[i].data);
	}
	free(in->v);
	memset(in, 0, sizeof *in);
}

static int write_one(int wsfd, const struct ws_input *f, struct err *e)
{
	char buf[WS_PATH_MAX + 1];
	const char *last;
	int dir = walk_parent(wsfd, f->path, true, buf, sizeof buf, &last, e);
	if (dir < 0)
		return -1;
	/* O_NONBLOCK: a FIFO the code left there must not hold the server. */
	int fd = openat(dir, last,
	                O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0644);
	int s = errno;
	close(dir);
	if (fd < 0 && s == ELOOP)
		return err_set(e, s, "\"%s\" is a symbolic link; links are not followed", f->path);
	if (fd < 0 && s == ENOSPC)
		return err_set(e, s,
		               "\"%s\": no space left in /workspace (see the environment's "
		               "workspace_mb)",
		               f->path);
	if (fd < 0)
		return err_sys(e, s, "\"%s\": cannot create the file", f->path);
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return err_set(e, EINVAL, "\"%s\" exists and is not a regular file", f->path);
	}
	if (fs_write_all(fd, f->data, f->len) < 0) {
		s = errno;
		close(fd);
		if (s == ENOSPC)
			return err_set(e, s,
			               "\"%s\": no space left in /workspace (see the environment's "
			               "workspace_mb)",
			               f->path);
		return err_sys(e, s, "\"%s\": write", f->path);
	}
	if (close(fd) < 0)
		return err_sys(e, errno, "\"%s\": close", f->path);
	return 0;
}

static int write_here(int wsfd, const struct ws_inputs *in, struct err *e)
{
	if (as_sandbox(e) < 0)
		return -1;
	int rc = 0;
	for (size_t i = 0; i < in->n && rc == 0; i++)
		rc = write_one(wsfd, &in->v[i], e);
	as_server();
	return rc;
}

int ws_write_inputs(int wsfd, const struct ws_inputs *in, ws_join_fn *join, void *ctx,
                    struct err *e)
{
	if (in->n == 0)
		return 0;
	if (!join)
		return write_here(wsfd, in, e);
	/* From a child in the sandbox's groups: the files count against the
	 * sandbox's memory_mb as if its code had written them, and a limit
	 * with no room fails the write, not the server. */
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return err_sys(e, errno, "pipe for the input files");
	pid_t pid = fork();
	if (pid < 0) {
		int s = errno;
		close(p[0]);
		close(p[1]);
		return err_sys(e, s, "fork for the input files");
	}
	if (pid == 0) {
		struct err ce = { 0 };
		close(p[0]);
		int rc = join(ctx, &ce);
		if (rc == 0)
			rc = write_here(wsfd, in, &ce);
		if (rc < 0 && fs_write_all(p[1], (const char *)&ce, sizeof ce) < 0)
			_exit(2);
		_exit(rc < 0 ? 1 : 0);
	}
	close(p[1]);
	struct err ce;
	ssize_t n;
	do
		n = read(p[0], &ce, sizeof ce);
	while (n < 0 && errno == EINTR);
	close(p[0]);
	int st = 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (n == (ssize_t)sizeof ce) {
		ce.msg[sizeof ce.msg - 1] = '\0';
		*e = ce;
		return -1;
	}
	if (WIFSIGNALED(st))
		return err_set(e, ENOMEM,
		               "the sandbox's memory limit has no room for the input files "
		               "(its writer was killed by signal %d)",
		               WTERMSIG(st));
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return err_set(e, EIO, "the input files could not be written (status %d)", st);
	return 0;
}

/* ---- kinds of files ------------------------------------------------------ */

static const char *image_mime(const unsigned char *h, size_t n)
{
	if (n >= 8 && !memcmp(h, "\x89PNG\r\n\x1a\n", 8))
		return "image/png";
	if (n >= 3 && h[0] == 0xff && h[1] == 0xd8 && h[2] == 0xff)
		return "image/jpeg";
	if (n >= 6 && (!memcmp(h, "GIF87a", 6) || !memcmp(h, "GIF89a", 6)))
		return "image/gif";
	if (n >= 12 && !memcmp(h, "RIFF", 4) && !memcmp(h + 8, "WEBP", 4))
		return "image/webp";
	return NULL;
}

static const char *ext_mime(const char *path, bool text)
{
	static const char *const table[][2] = {
		{ ".csv", "text/csv" },          { ".tsv", "text/tab-separated-values" },
		{ ".json", "application/json" }, { ".md", "text/markdown" },
		{ ".html", "text/html" },        { ".htm", "text/html" },
		{ ".svg", "image/svg+xml" },     { ".xml", "application/xml" },
		{ ".txt", "text/plain" },        { ".log", "text/plain" },
		{ ".py", "text/x-python" },      { ".js", "text/javascript" },
		{ ".sh", "text/x-shellscript" }, { ".pdf", "application/pdf" },
		{ ".zip", "application/zip" },   { ".gz", "application/gzip" },
		{ ".tar", "application/x-tar" }, { ".png", "image/png" },
		{ ".jpg", "image/jpeg" },        { ".jpeg", "image/jpeg" },
		{ ".gif", "image/gif" },         { ".webp", "image/webp" },
	};
	const char *dot = strrchr(path, '.');
	const char *slash = strrchr(path, '/');
	if (dot && (!slash || dot > slash))
		for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
			if (!strcasecmp(dot, table[i][0]))
				return table[i][1];
	return text ? "text/plain" : "application/octet-stream";
}

/* Read at most max bytes from the start of fd into a new buffer. */
static char *read_upto(int fd, size_t max, size_t *len)
{
	char *b = malloc(max + 1);
	size_t n = 0;
	if (!b)
		return NULL;
	while (n < max) {
		ssize_t r = pread(fd, b + n, max - n, (off_t)n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			free(b);
			return NULL;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	b[n] = '\0';
	*len = n;
	return b;
}

/* ---- the out/ scan ------------------------------------------------------- */

void ws_outputs_free(struct ws_outputs *o)
{
	for (size_t i = 0; i < o->n; i++) {
		free(o->v[i].path);
		free(o->v[i].data);
	}
	free(o->v);
	memset(o, 0, sizeof *o);
}

void ws_seen_free(struct ws_seen *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i].path);
	free(s->v);
	memset(s, 0, sizeof *s);
}

void ws_seen_each(const struct ws_seen *s, void (*fn)(void *ctx, const char *path, uint64_t size),
                  void *ctx)
{
	for (size_t i = 0; i < s->n; i++)
		fn(ctx, s->v[i].path, s->v[i].size);
}

struct scan {
	const struct ws_seen *prev;
	struct ws_seen now;
	bool live;
	size_t files, entries;
	struct ws_outputs *out;
};

static bool unchanged(const struct ws_seen *prev, const struct ws_seen_file *f)
{
	for (size_t i = 0; prev && i < prev->n; i++) {
		const struct ws_seen_file *p = &prev->v[i];
		if (!strcmp(p->path, f->path))
			return p->ino == f->ino && p->size == f->size && p->mtime_s == f->mtime_s &&
			       p->mtime_ns == f->mtime_ns && p->ctime_s == f->ctime_s &&
			       p->ctime_ns == f->ctime_ns;
	}
	return false;
}

static struct ws_out *add_out(struct scan *sc, const char *path, uint64_t size)
{
	struct ws_outputs *o = sc->out;
	struct ws_out *v = realloc(o->v, (o->n + 1) * sizeof *v);
	if (!v)
		return NULL;
	o->v = v;
	struct ws_out *f = &v[o->n];
	memset(f, 0, sizeof *f);
	if (!(f->path = strdup(path)))
		return NULL;
	f->size = size;
	o->n++;
	return f;
}

static void too_large(struct scan *sc, struct ws_out *f)
{
	if (sc->live) {
		f->kind = WS_LINK;
		return;
	}
	f->kind = WS_OMITTED;
	f->why =
	    "too large to return with this call, and a one-shot sandbox is gone once it "
	    "answered: write it in a session to read it with resources/read, or make it smaller";
}

/* A regular file that is new or changed: how it comes back. */
static int take_file(struct scan *sc, int dirfd, const char *name, const char *path,
                     const struct stat *st)
{
	struct ws_out *f = add_out(sc, path, (uint64_t)st->st_size);
	if (!f)
		return -1;
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct stat st2;
	if (fd < 0 || fstat(fd, &st2) < 0 || !S_ISREG(st2.st_mode) || st2.st_ino != st->st_ino) {
		if (fd >= 0)
			close(fd);
		f->kind = WS_OMITTED;
		f->why =
		    "could not be opened as the sandbox user, or was replaced while being read";
		f->mime = ext_mime(path, false);
		return 0;
	}
	unsigned char head[16];
	ssize_t hn;
	do
		hn = pread(fd, head, sizeof head, 0);
	while (hn < 0 && errno == EINTR);
	const char *img = hn > 0 ? image_mime(head, (size_t)hn) : NULL;
	size_t left = WS_OUT_RETURN_MAX - sc->out->returned;
	uint64_t size = (uint64_t)st2.st_size;
	f->size = size;
	if (size > left || (!img && size > WS_INLINE_MAX)) {
		f->mime = img ? img : ext_mime(path, false);
		too_large(sc, f);
		close(fd);
		return 0;
	}
	/* It may grow while we read: never more than the stat said. */
	f->data = read_upto(fd, (size_t)size, &f->len);
	close(fd);
	if (!f->data)
		return -1;
	sc->out->returned += f->len;
	if (img) {
		f->kind = WS_IMAGE;
		f->mime = img;
	} else if (utf8_valid(f->data, f->len)) {
		f->kind = WS_TEXT;
		f->mime = ext_mime(path, true);
	} else {
		f->kind = WS_BLOB;
		f->mime = ext_mime(path, false);
	}
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int scan_dir(struct scan *sc, int dirfd, const char *prefix, unsigned depth);

static int scan_entry(struct scan *sc, int dirfd, const char *name, const char *prefix,
                      unsigned depth)
{
	char path[WS_PATH_MAX + 1];
	struct stat st;
	int n = snprintf(path, sizeof path, "%s%s%s", prefix, *prefix ? "/" : "", name);
	if (n < 0 || (size_t)n >= sizeof path ||
	    fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		sc->out->not_listed++;
		return 0;
	}
	if (S_ISDIR(st.st_mode)) {
		if (depth >= WS_OUT_MAX_DEPTH) {
			sc->out->not_listed++;
			return 0;
		}
		int sub = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0) {
			sc->out->not_listed++;
			return 0;
		}
		return scan_dir(sc, sub, path, depth + 1); /* closes sub */
	}
	if (sc->files >= WS_OUT_MAX_FILES) {
		sc->out->not_listed++;
		return 0;
	}
	sc->files++;
	struct ws_seen_file f = {
		.path = path,
		.ino = st.st_ino,
		.size = (uint64_t)st.st_size,
		.mtime_s = st.st_mtim.tv_sec,
		.mtime_ns = st.st_mtim.tv_nsec,
		.ctime_s = st.st_ctim.tv_sec,
		.ctime_ns = st.st_ctim.tv_nsec,
	};
	bool same = unchanged(sc->prev, &f);
	struct ws_seen_file *v = realloc(sc->now.v, (sc->now.n + 1) * sizeof *v);
	if (!v)
		return -1;
	sc->now.v = v;
	if (!(f.path = strdup(path)))
		return -1;
	v[sc->now.n++] = f;
	if (same)
		return 0;
	if (S_ISREG(st.st_mode))
		return take_file(sc, dirfd, name, path, &st);
	struct ws_out *o = add_out(sc, path, 0);
	if (!o)
		return -1;
	o->kind = WS_OMITTED;
	o->mime = "application/octet-stream";
	o->why = S_ISLNK(st.st_mode) ? "a symbolic link: not followed" : "not a regular file";
	return 0;
}

/* Scan one directory (takes dirfd), names in sorted order so that results
 * do not depend on the file system's order. */
static int scan_dir(struct scan *sc, int dirfd, const char *prefix, unsigned depth)
{
	DIR *d = fdopendir(dirfd);
	if (!d) {
		close(dirfd);
		sc->out->not_listed++;
		return 0;
	}
	char **names = NULL;
	size_t n = 0;
	int rc = 0;
	struct dirent *de;
	errno = 0;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (n == NAMES_PER_DIR || sc->entries == ENTRIES_MAX) {
			/* Stop reading: a directory of a million entries must not
			 * hold the server. What is left is not counted. */
			sc->out->not_listed++;
			sc->out->cut = true;
			break;
		}
		sc->entries++;
		char **nv = realloc(names, (n + 1) * sizeof *nv);
		if (!nv || !(nv[n] = strdup(de->d_name))) {
			names = nv ? nv : names;
			rc = -1;
			break;
		}
		names = nv;
		n++;
	}
	if (rc == 0) {
		if (n)
			qsort(names, n, sizeof *names, cmp_names);
		for (size_t i = 0; i < n && rc == 0; i++)
			rc = scan_entry(sc, dirfd, names[i], prefix, depth);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return rc;
}

int ws_collect(int wsfd, struct ws_seen *seen, bool live, struct ws_outputs *out, struct err *e)
{
	struct scan sc = { .prev = seen, .live = live, .out = out };
	memset(out, 0, sizeof *out);
	if (as_sandbox(e) < 0)
		return -1;
	int rc = 0;
	int d = openat(wsfd, WS_OUT_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (d >= 0)
		rc = scan_dir(&sc, d, "", 0);
	as_server();
	if (rc < 0) {
		ws_seen_free(&sc.now);
		ws_outputs_free(out);
		return err_set(e, ENOMEM, "out of memory reading /workspace/out");
	}
	if (seen) {
		/* The same uncounted rest as last time is no news. */
		size_t rest = out->not_listed;
		if (out->n == 0 && rest == seen->not_listed)
			out->not_listed = 0, out->cut = false;
		ws_seen_free(seen);
		*seen = sc.now;
		seen->not_listed = rest;
	} else {
		ws_seen_free(&sc.now);
	}
	return 0;
}

int ws_read_out(int wsfd, const char *path, size_t max, char **data, size_t *len, uint64_t *size,
                const char **mime, struct err *e)
{
	const char *bad = path_problem(path, false);
	if (bad)
		return err_set(e, EINVAL, "\"%s\": %s", path, bad);
	if (as_sandbox(e) < 0)
		return -1;
	char full[WS_PATH_MAX + 8], buf[sizeof full];
	const char *last;
	int rc = -1;
	snprintf(full, sizeof full, "%s/%s", WS_OUT_DIR, path);
	int dir = walk_parent(wsfd, full, false, buf, sizeof buf, &last, e);
	if (dir >= 0) {
		int fd = openat(dir, last, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		int s = errno;
		struct stat st;
		close(dir);
		if (fd < 0)
			err_sys(e, s, "\"%s\"", path);
		else if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
			err_set(e, EINVAL, "\"%s\" is not a regular file", path);
		else if (!(*data = read_upto(
		               fd, (uint64_t)st.st_size < max ? (size_t)st.st_size : max, len)))
			err_sys(e, errno ? errno : ENOMEM, "\"%s\": read", path);
		else {
			*size = (uint64_t)st.st_size;
			const char *img = image_mime((const unsigned char *)*data, *len);
			*mime = img ? img : ext_mime(path, utf8_valid(*data, *len));
			rc = 0;
		}
		if (fd >= 0)
			close(fd);
	}
	as_server();
	return rc;
}
