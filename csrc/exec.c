/* exec.c — one-shot runs on the event loop; see exec.h.
 *
 * Owns: struct exec_run from exec_start until its callback (or cancel).
 * Must not: wait for anything outside the loop, or trust the sandbox: its
 * output is bounded by the caps below, its messages by their fixed size.
 *
 * A run is answered when its sandbox init reports the interpreter's exit
 * (JAIL_MSG_EXIT on sync_fd), or, when there is no report (killed at the
 * timeout, OOM, set-up failure), once init has been reaped (pidfd readable,
 * then waitid(P_PIDFD)). Either way the interpreter is gone, and init's exit
 * makes the kernel kill every other process of the pid namespace, so what is
 * in the output pipes is drained without waiting for EOF (a pipe end
 * smuggled out over a host abstract socket in a host-network environment
 * cannot hold the run open). A run answered before its init was reaped is
 * reaped afterwards from the loop, or by exec_shutdown() at exit, which also
 * removes its cgroups.
 *
 * A run's sandbox is a spare (pool.c), the spare being made, or a new one
 * from the spawner (spawner.h): made off the loop, so a burst of runs never
 * holds a reply; the run's timeout counts from when its sandbox is there.
 *
 * A spare from the pool must accept its code (JAIL_MSG_ACCEPTED) within
 * EXEC_ACCEPT_MS: one that does not (frozen, stopped, starved) or that ends
 * without accepting it is discarded, and the run starts again in a fresh
 * sandbox with its whole timeout, so a bad spare never costs the run its
 * timeout or shows as the code's own failure. The code is kept until then.
 */
#include "exec.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "jail.h"
#include "log.h"
#include "loop.h"
#include "capture.h"
#include "pool.h"
#include "reaper.h"
#include "spawner.h"
#include "strbuf.h"

/* A healthy spare accepts in well under a millisecond; this leaves room for
 * a loaded machine, and is all a frozen spare costs a run. */
#define EXEC_ACCEPT_MS 500

struct exec_run {
	struct jail_proc jp;
	exec_done_cb *cb;
	void *ctx;
	struct exec_result *res;
	char *code;
	size_t code_len, code_off;
	struct capture out, err;
	long timer;
	long accept_timer;
	uint64_t start_ms;
	struct jail_spec spec;  /* for the pool's next spare */
	bool spawned;           /* jp is a sandbox the run must bury */
	bool from_pool;         /* jp was a spare: it must accept the code in time */
	bool accepted;          /* init said the code is in (JAIL_MSG_ACCEPTED) */
	struct ws_inputs files; /* to write before the code is sent */
	bool files_in;          /* written into this sandbox (or none to write) */
	struct spawn_job *job;  /* its sandbox is being made (spawner.h) */
};

static int n_active;

int exec_active(void)
{
	return n_active + reaper_count();
}

size_t exec_output_bytes(const struct exec_run *r)
{
	return r->out.o.total + r->err.o.total;
}

/* The run's setup_error: a, b and c, cut to fit (messages first, hints
 * after). */
static void set_setup_error(struct exec_run *r, const char *a, const char *b, const char *c)
{
	struct strbuf sb;
	sb_init(&sb, r->res->setup_error, sizeof r->res->setup_error);
	sb_add(&sb, a);
	sb_add(&sb, b);
	sb_add(&sb, c);
}

static void stop_timers(struct exec_run *r)
{
	if (r->timer > 0)
		loop_timer_cancel(r->timer);
	if (r->accept_timer > 0)
		loop_timer_cancel(r->accept_timer);
	r->timer = r->accept_timer = 0;
}

/* Let go of the run's sandbox: off the loop, to the reaper (killed, then
 * reaped and released when the kernel is done with it). */
static void bury(struct exec_run *r)
{
	if (!r->spawned)
		return;
	reaper_bury(&r->jp);
	r->spawned = false;
}

static void run_free(struct exec_run *r)
{
	spawner_abandon(r->job); /* (a sandbox made for it goes to the reaper) */
	r->job = NULL;
	stop_timers(r);
	bury(r); /* (callers let go of the sandbox first; this is the net) */
	capture_free(&r->out);
	capture_free(&r->err);
	free(r->code);
	ws_inputs_free(&r->files);
	exec_result_free(r->res);
	free(r);
	n_active--;
}

static void kill_run(struct exec_run *r)
{
	if (r->spawned)
		jail_kill(&r->jp);
}

static void stream_read(struct exec_run *r, struct capture *c, bool drain)
{
	if (capture_read(c, drain, true) && !r->res->output_killed) {
		r->res->output_killed = true;
		kill_run(r);
	}
}

static void on_output(void *ctx, int fd, short revents)
{
	struct exec_run *r = ctx;
	(void)revents;
	stream_read(r, fd == r->out.fd ? &r->out : &r->err, false);
}

static void stop_code(struct exec_run *r)
{
	if (r->jp.code_fd >= 0) {
		loop_unwatch(r->jp.code_fd);
		close(r->jp.code_fd);
		r->jp.code_fd = -1;
	}
	if (!r->from_pool || r->accepted) {
		free(r->code);
		r->code = NULL;
	}
}

/* JAIL_MSG_ACCEPTED comes first from a one-shot init, if at all. */
static void take_accept(struct exec_run *r)
{
	if (r->accepted || !jail_take_accepted(&r->jp))
		return;
	r->accepted = true;
	if (r->accept_timer > 0) {
		loop_timer_cancel(r->accept_timer);
		r->accept_timer = 0;
	}
	if (r->jp.code_fd < 0) {
		free(r->code);
		r->code = NULL;
	}
	ws_inputs_free(&r->files);
}

/* Send as much code as the socket takes; close it (EOF) when all is sent. */
static void push_code(struct exec_run *r)
{
	while (r->code_off < r->code_len) {
		ssize_t n = send(r->jp.code_fd, r->code + r->code_off, r->code_len - r->code_off,
		                 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0) {
			/* EPIPE/ECONNRESET: the sandbox died in setup; its
			 * message explains why. */
			stop_code(r);
			return;
		}
		r->code_off += (size_t)n;
	}
	stop_code(r);
}

static void on_code(void *ctx, int fd, short revents)
{
	(void)fd;
	(void)revents;
	push_code(ctx);
}

/* The input files, once the sandbox sent its /workspace (jail.h), then
 * the code. Called again from on_sync until the workspace is there. Files
 * that cannot be written end the run before its code is sent. */
static int start_code(struct exec_run *r, struct err *e)
{
	if (!r->files_in) {
		int ws = jail_workspace(&r->jp);
		if (ws < 0)
			return 0;
		struct err fe = { 0 };
		r->files_in = true;
		if (ws_write_inputs(ws, &r->files,
		                    jail_has_groups(&r->jp) ? jail_join_groups : NULL, &r->jp,
		                    &fe) < 0) {
			snprintf(r->res->files_error, sizeof r->res->files_error, "%s", fe.msg);
			stop_timers(r);
			kill_run(r);
			return 0;
		}
		if (!r->from_pool) /* a spare may yet need them again (restart_cold) */
			ws_inputs_free(&r->files);
	}
	r->code_off = 0;
	push_code(r);
	if (r->jp.code_fd >= 0 && loop_watch(r->jp.code_fd, POLLOUT, on_code, r, e) < 0)
		return -1;
	return 0;
}

static void finish(struct exec_run *r)
{
	struct exec_result *res = r->res;
	struct jail_end end;

	/* The interpreter is gone: what it wrote is in the pipes; take it
	 * without waiting for EOF (a daemon it left dies with init). */
	if (!r->out.eof)
		stream_read(r, &r->out, true);
	if (!r->err.eof)
		stream_read(r, &r->err, true);
	jail_end(&r->jp, &end);
	memcpy(res->setup_error, end.setup_error, sizeof res->setup_error);
	res->duration_ms = loop_now_ms() - r->start_ms;
	res->oom_killed = end.oom;
	res->exit_code = -1;
	if (res->setup_error[0]) {
		/* the interpreter never ran */
	} else if (end.exited) {
		res->timed_out = false;
		exec_result_set_status(res, end.status);
	} else {
		/* Init died without a report: we killed it (timeout, runaway
		 * output), the kernel did (OOM in cgroup mode), or init's own
		 * deadline ended the sandbox (jail.h: our timer is first unless
		 * the loop was held up). */
		res->term_signal = SIGKILL;
		if (end.own_deadline)
			res->timed_out = true;
		if (!res->timed_out && !res->output_killed && !res->oom_killed &&
		    !res->files_error[0])
			snprintf(res->setup_error, sizeof res->setup_error,
			         "sandbox init ended unexpectedly (code %d, status %d)",
			         r->jp.init_code, r->jp.init_status);
	}
	capture_take(&r->out, &res->out, &res->out_len, &res->out_total, &res->stdout_truncated);
	capture_take(&r->err, &res->err, &res->err_len, &res->err_total, &res->stderr_truncated);
	/* What the code left in /workspace/out: the fd holds the tmpfs even
	 * though the sandbox is gone. */
	if (!res->setup_error[0] && !res->files_error[0] && r->jp.workspace_fd >= 0) {
		struct err fe = { 0 };
		if (ws_collect(r->jp.workspace_fd, NULL, false, &res->files, &fe) < 0)
			log_msg(LOG_WARNING, "exec: %s", fe.msg);
	}

	exec_done_cb *cb = r->cb;
	void *ctx = r->ctx;
	struct jail_spec spec = r->spec;
	r->res = NULL;
	/* Answered on init's exit report, the kernel may still be tearing the
	 * namespaces down: the reaper waits for that (reaper.h). */
	bury(r);
	run_free(r);
	cb(ctx, res);
	pool_refill(&spec);
}

static void restart_cold(struct exec_run *r, const char *why);

/* Init's report: the interpreter exited (or set-up failed). Answer now,
 * without waiting for the kernel to tear the sandbox down (that costs
 * milliseconds and only the pidfd says when it is over). */
static void on_sync(void *ctx, int fd, short revents)
{
	struct exec_run *r = ctx;
	(void)revents;
	take_accept(r);
	if (!r->files_in) {
		struct err e = { 0 };
		if (start_code(r, &e) < 0) {
			log_msg(LOG_ERROR, "exec: %s", e.msg);
			snprintf(r->res->files_error, sizeof r->res->files_error,
			         "the server could not send the code: %s", e.msg);
			kill_run(r);
		}
	}
	int next = jail_next_report(&r->jp);
	if (next == JAIL_MSG_EXIT) {
		finish(r);
		return;
	}
	if (next == 0)
		return;
	/* A set-up error (left queued for finish()) or init already gone: the
	 * pidfd ends the run. */
	loop_unwatch(fd);
}

static void on_exit_fd(void *ctx, int fd, short revents)
{
	struct exec_run *r = ctx;
	(void)fd;
	(void)revents;
	int rc = jail_reap(&r->jp);
	if (rc == 0)
		return;
	if (rc < 0) {
		log_msg(LOG_ERROR, "exec: waitid on sandbox %d: %s", r->jp.pid, strerror(errno));
		loop_unwatch(r->jp.pidfd); /* do not spin; the result reports it */
	}
	take_accept(r);
	/* (Not after our own timeout kill: the run's time is up.) */
	if (r->from_pool && !r->accepted && !r->res->timed_out && !r->res->files_error[0]) {
		restart_cold(r, "ended before accepting its code");
		return;
	}
	finish(r);
}

static void on_accept_timeout(void *ctx)
{
	struct exec_run *r = ctx;
	r->accept_timer = 0;
	take_accept(r);
	if (!r->accepted && !r->res->files_error[0]) {
		char why[64];
		snprintf(why, sizeof why, "did not accept its code within %d ms", EXEC_ACCEPT_MS);
		restart_cold(r, why);
	}
}

static void on_timeout(void *ctx)
{
	struct exec_run *r = ctx;
	r->timer = 0;
	r->res->timed_out = true;
	kill_run(r);
}

/* Nothing ran (the jail refused, or the server could not start it): the
 * answer, from the loop (never from inside exec_start: callers may hold
 * state that a re-entrant callback breaks). */
static void setup_failed(struct exec_run *r)
{
	struct exec_result *res = r->res;
	exec_done_cb *cb = r->cb;
	void *cbctx = r->ctx;
	r->res = NULL;
	res->duration_ms = loop_now_ms() - r->start_ms;
	run_free(r);
	cb(cbctx, res);
}

/* Put the run's sandbox (r->jp) on the loop, arm its deadlines and start
 * sending the code. -1: e says why (the sandbox is the run's to bury). */
static int attach(struct exec_run *r, struct err *e)
{
	uint64_t now = loop_now_ms();
	r->spawned = true;
	capture_attach(&r->out, r->jp.out_fd);
	capture_attach(&r->err, r->jp.err_fd);
	if (loop_watch(r->jp.pidfd, POLLIN, on_exit_fd, r, e) < 0)
		return -1;
	if (loop_watch(r->out.fd, POLLIN, on_output, r, e) < 0 ||
	    loop_watch(r->err.fd, POLLIN, on_output, r, e) < 0 ||
	    loop_watch(r->jp.sync_fd, POLLIN, on_sync, r, e) < 0)
		return -1;
	r->timer = loop_timer_add(now + (uint64_t)r->spec.env->limits.timeout_seconds * 1000u,
	                          on_timeout, r, e);
	if (r->timer < 0) {
		r->timer = 0;
		return -1;
	}
	if (r->from_pool) {
		r->accept_timer = loop_timer_add(now + EXEC_ACCEPT_MS, on_accept_timeout, r, e);
		if (r->accept_timer < 0) {
			r->accept_timer = 0;
			return -1;
		}
	}
	r->files_in = r->files.n == 0;
	return start_code(r, e);
}

static void start_failed(struct exec_run *r, const struct err *e);

/* The spawner made the run's sandbox, or could not (from the loop). */
static void on_spawned(void *ctx, int rc, struct jail_proc *p, const struct err *se)
{
	struct exec_run *r = ctx;
	struct err e = { 0 };
	r->job = NULL;
	if (rc < 0 && se->kind == ERR_KERNEL) {
		set_setup_error(r, se->msg, " - ", jail_hint(se->code));
		setup_failed(r);
		return;
	}
	if (rc < 0) {
		start_failed(r, se);
		return;
	}
	r->jp = *p;
	if (attach(r, &e) < 0)
		start_failed(r, &e);
}

/* Take a spare (may_take) and start the run in it, or have the spawner
 * make a sandbox, off the loop (the run starts when it comes: on_spawned;
 * its timeout counts from then). 0, or -1: e says why (r->spawned says
 * whether there is a sandbox to bury). */
static int start_sandbox(struct exec_run *r, bool may_take, struct err *e)
{
	r->accepted = false;
	/* A spare prepared ahead (pool.c) skips the namespaces and mounts,
	 * and where it can, the interpreter's start-up too. */
	r->from_pool = may_take && pool_take(&r->spec, &r->jp);
	if (r->from_pool)
		return attach(r, e);
	/* Or the one being made (back to back): sooner than a new one. */
	if (may_take && (r->job = pool_take_pending(&r->spec, on_spawned, r, NULL, 0))) {
		r->from_pool = true;
		return 0;
	}
	r->job = spawner_submit(&r->spec, SPAWN_NOW, on_spawned, r, e);
	return r->job ? 0 : -1;
}

/* The spare did not accept its code in time, or ended without accepting it
 * (its launcher was stopped or gone): discard it and run in a fresh
 * sandbox, with the whole timeout. Called from the loop, so a failure here
 * is answered at once. */
/* The server could not start the run (from the loop): answer it now. */
static void start_failed(struct exec_run *r, const struct err *e)
{
	bury(r);
	stop_timers(r);
	set_setup_error(r, "the server could not start the run: ", e->msg, "");
	setup_failed(r);
}

static void restart_cold(struct exec_run *r, const char *why)
{
	struct err e = { 0 };
	log_msg(LOG_WARNING, "exec: the prepared sandbox of %s %s; the run starts in a fresh one",
	        r->spec.env->name, why);
	stop_timers(r);
	bury(r);
	/* Whatever the launcher printed before its code is not the run's. */
	capture_restart(&r->out, NULL, 0);
	capture_restart(&r->err, NULL, 0);
	int rc = start_sandbox(r, false, &e);
	if (rc >= 0)
		return;
	start_failed(r, &e);
}

struct exec_run *exec_start(const struct exec_request *req, exec_done_cb *cb, void *ctx,
                            struct err *e)
{
	struct exec_run *r;
	struct jail_spec spec = { .env = req->env,
		                  .project_dir = req->project_dir,
		                  .project_mount = req->project_mount };
	struct ws_inputs files = { 0 };

	if (req->files) {
		files = *req->files;
		memset(req->files, 0, sizeof *req->files);
	}
	if (!req->env || !cb || (!req->code && req->code_len)) {
		ws_inputs_free(&files);
		err_set(e, EINVAL, "exec: bad request");
		return NULL;
	}
	if (req->code_len > JAIL_CODE_MAX) {
		ws_inputs_free(&files);
		err_client(e, EFBIG, "code is %zu bytes; at most %u are accepted", req->code_len,
		           JAIL_CODE_MAX);
		return NULL;
	}
	r = calloc(1, sizeof *r);
	if (!r || !(r->res = calloc(1, sizeof *r->res)) ||
	    !(r->code = malloc(req->code_len ? req->code_len : 1))) {
		if (r)
			free(r->res);
		free(r);
		ws_inputs_free(&files);
		err_set(e, ENOMEM, "exec: out of memory");
		return NULL;
	}
	n_active++;
	r->files = files;
	if (req->code_len)
		memcpy(r->code, req->code, req->code_len);
	r->code_len = req->code_len;
	r->cb = cb;
	r->ctx = ctx;
	capture_init(&r->out, req->env->limits.max_output_bytes, "exec");
	capture_init(&r->err, req->env->limits.max_output_bytes, "exec");
	r->res->exit_code = -1;
	r->start_ms = loop_now_ms();

	r->spec = spec;
	if (start_sandbox(r, true, e) < 0) {
		if (r->spawned)
			err_wrap(e, "exec");
		exec_cancel(r);
		return NULL;
	}
	return r;
}

void exec_shutdown(void)
{
	/* The loop has stopped: every sandbox left is buried (cancelled runs,
	 * runs answered before their init was reaped). */
	reaper_shutdown();
}

void exec_cancel(struct exec_run *r)
{
	if (!r)
		return;
	bury(r);
	run_free(r);
}
