/* stub_exec.c — csrc/exec.h (and session.h, when the tree has it) without
 * sandboxes, for the fuzz target.
 *
 * Owns: fake runs and session calls that end through a loop timer with a
 * canned result, so mcp.c's whole `run` path (start, completion callback,
 * cancellation, result shaping, UTF-8 repair of output) runs without
 * clone(2).
 * Must not: spawn, touch the file system, or call the callback from inside
 * exec_start (exec.h's contract, which mcp.c relies on).
 *
 * The result is chosen from the code so the fuzzer can steer it: the first
 * byte picks a variant, and the code itself is echoed as stdout/stderr (any
 * bytes, so invalid UTF-8 and NULs reach utf8_repair and the JSON writer).
 * Input files come back as the run's /workspace/out files, each as a kind
 * picked from its index and the variant (mcp_files.c's result shaping).
 */
#include "exec.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jail.h"
#include "loop.h"
#include "utf8.h"
#if __has_include("session.h")
#include "session.h"
#define STUB_SESSIONS 1
#endif

struct exec_run {
	exec_done_cb *cb;
	void *ctx;
	long timer;
	struct exec_result *res;
};

static int n_active;

const char *jail_hint(int err)
{
	return err == EPERM ? "stub hint: user namespaces" : "stub hint";
}

int exec_active(void)
{
	return n_active;
}

/* Progress reports ask how much a run printed so far: the canned result's. */
size_t exec_output_bytes(const struct exec_run *r)
{
	return r->res ? r->res->out_total + r->res->err_total : 0;
}

static char *copy(const char *s, size_t n)
{
	char *p = malloc(n + 1);
	if (p) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

static void on_timer(void *ctx)
{
	struct exec_run *r = ctx;
	struct exec_result *res = r->res;
	exec_done_cb *cb = r->cb;
	void *cb_ctx = r->ctx;
	free(r);
	n_active--;
	cb(cb_ctx, res); /* the run is gone when called (exec.h) */
}

struct exec_run *exec_start(const struct exec_request *req, exec_done_cb *cb, void *ctx,
                            struct err *e)
{
	struct ws_inputs files = { 0 };
	if (req->files) {
		files = *req->files;
		memset(req->files, 0, sizeof *req->files);
	}
	if (!req->env || !req->code) {
		ws_inputs_free(&files);
		return (void)err_set(e, EINVAL, "stub exec: no env or code"), NULL;
	}
	unsigned char v = req->code_len ? (unsigned char)req->code[0] : 0;
	if (v % 9 == 0) {
		/* A start that fails, of each kind (err.h: mcp.c words it by
		 * kind). */
		ws_inputs_free(&files);
		if (v % 27 == 0)
			err_set(e, EAGAIN, "stub exec: no sandbox slot (variant 0) for %s",
			        req->env->name);
		else if (v % 27 == 9)
			err_client(e, EFBIG, "stub exec: code too large for %s", req->env->name);
		else
			err_set(e, EPERM, "stub exec: clone refused"), err_kernel(e);
		return NULL;
	}

	struct exec_run *r = calloc(1, sizeof *r);
	struct exec_result *res = calloc(1, sizeof *res);
	char *out = copy(req->code, req->code_len);
	char *err = copy(req->code, req->code_len / 2);
	if (!r || !res || !out || !err) {
		free(r);
		free(res);
		free(out);
		free(err);
		ws_inputs_free(&files);
		return (void)err_set(e, ENOMEM, "stub exec: out of memory"), NULL;
	}
	res->files.v = files.n ? calloc(files.n, sizeof *res->files.v) : NULL;
	for (size_t i = 0; res->files.v && i < files.n; i++) {
		struct ws_out *o = &res->files.v[res->files.n++];
		o->path = files.v[i].path;
		o->data = files.v[i].data;
		o->len = o->size = files.v[i].len;
		files.v[i].path = files.v[i].data = NULL;
		o->kind = (enum ws_kind)((i + v) % 5);
		o->mime = o->kind == WS_IMAGE ? "image/png" : "application/octet-stream";
		if (o->kind == WS_TEXT && !utf8_valid(o->data, o->len))
			o->kind = WS_BLOB;
		if (o->kind == WS_OMITTED)
			o->why = "stub: omitted";
	}
	res->files.not_listed = v % 3;
	ws_inputs_free(&files);
	res->out = out;
	res->out_len = res->out_total = req->code_len;
	res->err = err;
	res->err_len = res->err_total = req->code_len / 2;
	res->duration_ms = req->code_len;
	switch (v % 9) {
	case 1: /* success */
		break;
	case 2: /* exit status from the code's length */
		res->exit_code = (int)(req->code_len % 256);
		break;
	case 3: /* wall-clock timeout */
		res->exit_code = -1;
		res->term_signal = 9;
		res->timed_out = true;
		break;
	case 4: /* killed by the OOM killer */
		res->exit_code = -1;
		res->term_signal = 9;
		res->oom_killed = true;
		break;
	case 5: /* both streams over their cap */
		res->stdout_truncated = res->stderr_truncated = true;
		res->out_total = res->out_len * 3 + 1;
		res->err_total = res->err_len * 7 + 1;
		break;
	case 6: /* the jail failed before the code ran */
		snprintf(res->setup_error, sizeof res->setup_error,
		         "mount of %s failed: ENOSPC (stub); check /proc/sys/fs/mount-max",
		         req->env->root);
		break;
	case 7: /* output runaway */
		res->exit_code = -1;
		res->term_signal = 9;
		res->output_killed = res->stdout_truncated = true;
		res->out_total = (size_t)1 << 40;
		break;
	default: /* signal without a reason */
		res->exit_code = -1;
		res->term_signal = (int)(req->code_len % 64) + 1;
		break;
	}
	r->cb = cb;
	r->ctx = ctx;
	r->res = res;
	r->timer = loop_timer_add(loop_now_ms(), on_timer, r, e);
	if (r->timer < 0) {
		exec_result_free(res);
		free(r);
		return NULL;
	}
	n_active++;
	return r;
}

void exec_cancel(struct exec_run *r)
{
	if (!r)
		return;
	loop_timer_cancel(r->timer);
	exec_result_free(r->res);
	free(r);
	n_active--;
}

/* A cancelled stub run is freed at once: nothing is left to reap. */
void exec_shutdown(void)
{
}

#ifdef STUB_SESSIONS
/* Session calls: the same canned results, plus the session-only outcomes;
 * a variant answers with an error string instead of a result. The table is
 * not modelled: every call is independent. */
struct session_call {
	session_done_cb *cb;
	void *ctx;
	long timer;
	struct exec_result *res;
	const char *error;
};

static int n_session_calls;

static void on_session_timer(void *ctx)
{
	struct session_call *c = ctx;
	session_done_cb *cb = c->cb;
	void *cb_ctx = c->ctx;
	struct exec_result *res = c->res;
	const char *error = c->error;
	free(c);
	n_session_calls--;
	cb(cb_ctx, res, error);
}

struct session_call *session_run(const struct session_request *req, session_done_cb *cb, void *ctx,
                                 struct err *e)
{
	unsigned char v = req->code_len ? (unsigned char)req->code[0] : 0;
	struct ws_inputs files = { 0 };
	if (req->files) {
		files = *req->files;
		memset(req->files, 0, sizeof *req->files);
	}
	if (v % 11 == 10) {
		ws_inputs_free(&files);
		return (void)err_client(e, EBUSY,
		                        "All 16 sessions are busy (stub); retry when one is idle."),
		       NULL;
	}
	struct session_call *c = calloc(1, sizeof *c);
	if (!c) {
		ws_inputs_free(&files);
		return (void)err_set(e, ENOMEM, "stub session: out of memory"), NULL;
	}
	if (v % 11 == 9) {
		ws_inputs_free(&files);
		c->error = "Session is bound to another environment (stub).";
	} else {
		struct exec_request xr = { .env = req->env,
			                   .code = req->code,
			                   .code_len = req->code_len,
			                   .files = &files };
		struct exec_run *r = exec_start(&xr, NULL, NULL, e);
		if (!r) {
			free(c);
			return NULL;
		}
		/* Take the one-shot run's canned result, without its timer. */
		c->res = r->res;
		loop_timer_cancel(r->timer);
		free(r);
		n_active--;
		c->res->interrupted = v % 5 == 1;
		c->res->session_lost = v % 5 == 2 || v % 5 == 3;
		c->res->interpreter_died = v % 5 == 2;
		c->res->protocol_error = v % 5 == 3;
		c->res->restarted = v % 5 == 4;
	}
	c->cb = cb;
	c->ctx = ctx;
	c->timer = loop_timer_add(loop_now_ms(), on_session_timer, c, e);
	if (c->timer < 0) {
		exec_result_free(c->res);
		free(c);
		return NULL;
	}
	n_session_calls++;
	return c;
}

void session_cancel(struct session_call *c)
{
	if (!c)
		return;
	loop_timer_cancel(c->timer);
	exec_result_free(c->res);
	free(c);
	n_session_calls--;
}

void session_input_closed(void)
{
}

void session_shutdown(void)
{
}

/* Over stdio (all the fuzzer drives) there is one owner, never gone. */
void session_end_owner(unsigned long owner)
{
	(void)owner;
}

size_t session_call_output_bytes(const struct session_call *c)
{
	return c->res ? c->res->out_total + c->res->err_total : 0;
}

int session_count(void)
{
	return n_session_calls;
}

/* A file of a live session: the path itself is the content (or, for a
 * path starting with "gone", no such session). */
int session_read_out(unsigned long owner, const char *id, const char *path, size_t max, char **data,
                     size_t *len, uint64_t *size, const char **mime, struct err *e)
{
	(void)owner;
	if (!strncmp(path, "gone", 4))
		return err_set(e, ENOENT, "session \"%s\" has no live sandbox (stub)", id);
	size_t n = strlen(path);
	*size = n;
	*len = n < max ? n : max;
	*mime = "application/octet-stream";
	*data = copy(path, *len);
	return *data ? 0 : err_set(e, ENOMEM, "stub: out of memory");
}

void session_each_out(unsigned long owner,
                      void (*fn)(void *ctx, const char *id, const char *path, uint64_t size),
                      void *ctx)
{
	(void)owner;
	fn(ctx, "stub", "out.txt", 3);
}
#endif
