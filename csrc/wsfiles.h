/* wsfiles.h — files into and out of a sandbox's /workspace.
 *
 * Owns: writing a run's input files (the `files` argument) under
 * /workspace, finding what the code wrote under /workspace/out/ and reading
 * it back, with every bound below. Must not: follow a symbolic link, leave
 * the workspace, block on anything but the workspace tmpfs, or touch the
 * workspace with the server's own identity.
 *
 * The server reaches a sandbox's /workspace through a directory fd its init
 * sends at set-up (jail.h, jail_workspace), so a one-shot run's files can be
 * read after its sandbox ended. Every call here acts as the sandbox user
 * (as root, setfsuid/setfsgid to the sandbox's host ids): the server can
 * write and read exactly what the code could, and files it creates belong
 * to the sandbox user. Paths are walked one component at a time with
 * O_NOFOLLOW, so a symbolic link anywhere on a path (put there by the code of
 * an earlier call of a session) is refused, never followed.
 */
#ifndef NSM_WSFILES_H
#define NSM_WSFILES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "err.h"

#define WS_IN_MAX_FILES 64
#define WS_IN_MAX_BYTES (8u << 20)   /* all input files of a call, decoded */
#define WS_PATH_MAX 512              /* bytes of a relative path */
#define WS_OUT_DIR "out"             /* under /workspace */
#define WS_OUT_MAX_FILES 64          /* files looked at per call */
#define WS_OUT_MAX_DEPTH 8           /* directories below out/ */
#define WS_OUT_RETURN_MAX (4u << 20) /* bytes returned per call, all files */
#define WS_INLINE_MAX (64u << 10)    /* largest text or other file embedded */

struct ws_input {
	char *path; /* relative to /workspace, checked by ws_path_problem */
	char *data;
	size_t len;
};

struct ws_inputs {
	struct ws_input *v;
	size_t n;
	size_t bytes;
};

void ws_inputs_free(struct ws_inputs *in);
/* Why a client's path cannot name a file under /workspace (static text), or
 * NULL when it can: relative, components of 1-255 bytes, none "." or "..",
 * at most WS_PATH_MAX bytes, no NUL or control character. */
const char *ws_path_problem(const char *path);
/* Places the calling process in the sandbox's resource groups (jail.h,
 * jail_join_groups); 0, or -1 with e filled. */
typedef int ws_join_fn(void *ctx, struct err *e);
/* Write every input under the workspace (directories created as needed,
 * mode 0755; files 0644, replaced when they exist). With join, the writing
 * is done by a short-lived child that calls join(ctx) first, so the files
 * are charged to the sandbox's memory limit (a tmpfs page counts for the
 * group of the process that writes it); NULL: by the server itself. On
 * failure e->msg is for the client and names the path. */
int ws_write_inputs(int wsfd, const struct ws_inputs *in, ws_join_fn *join, void *ctx,
                    struct err *e);

/* How a file under out/ comes back. */
enum ws_kind {
	WS_IMAGE,   /* PNG, JPEG, GIF or WebP (by content): image content */
	WS_TEXT,    /* valid UTF-8, at most WS_INLINE_MAX: an embedded text resource */
	WS_BLOB,    /* other, at most WS_INLINE_MAX: an embedded base64 resource */
	WS_LINK,    /* kept in a live session: a resource_link to read it later */
	WS_OMITTED, /* not returned: why says why */
};

struct ws_out {
	char *path; /* relative to /workspace/out */
	uint64_t size;
	const char *mime;
	enum ws_kind kind;
	char *data; /* IMAGE, TEXT, BLOB: the bytes (len of them), then a NUL */
	size_t len;
	const char *why; /* OMITTED: static text */
};

struct ws_outputs {
	struct ws_out *v;
	size_t n;
	size_t not_listed; /* past WS_OUT_MAX_FILES or WS_OUT_MAX_DEPTH */
	bool cut;          /* the scan stopped early (huge directories): there
	                    * are more than not_listed */
	size_t returned;   /* bytes of data returned */
};

/* What a session's out/ held after its last call (path, inode, size,
 * times), so the next call returns only what changed. */
struct ws_seen {
	struct ws_seen_file *v;
	size_t n;
	size_t not_listed; /* of the last scan */
};

/* Each file seen (path relative to out/, size). */
void ws_seen_each(const struct ws_seen *s, void (*fn)(void *ctx, const char *path, uint64_t size),
                  void *ctx);
void ws_outputs_free(struct ws_outputs *o);
void ws_seen_free(struct ws_seen *s);
/* Look at /workspace/out: every regular file (seen NULL: a one-shot run),
 * or those new or changed since *seen, which is then replaced by what is
 * there now. live: the sandbox stays (a session), so a file too large to
 * return becomes WS_LINK; else WS_OMITTED. No out/ is no file. -1 only when
 * the server could not look (e says why). */
int ws_collect(int wsfd, struct ws_seen *seen, bool live, struct ws_outputs *out, struct err *e);
/* Read /workspace/out/<path> (a resources/read of a WS_LINK): at most max
 * bytes; *size is the file's size. e->msg is for the client. */
int ws_read_out(int wsfd, const char *path, size_t max, char **data, size_t *len, uint64_t *size,
                const char **mime, struct err *e);

#endif
