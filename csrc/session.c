/* session.c — the session table on the event loop; see session.h.
 *
 * Owns: struct session (slots of a fixed table), its sandbox while it lives,
 * its calls from session_run until their callback (or cancel); a sandbox
 * it discards goes to the reaper (reaper.h).
 * Must not: wait for anything outside the loop (session_shutdown excepted:
 * the process is ending), or trust the sandbox: output is capped per call
 * (capture.h), control frames are bounded (agent_ipc.h), a silent agent is
 * bounded by the call's timeout.
 *
 * Re-entrancy rule: finish_call() may hand the session its next call, or
 * close it (its slot is then zeroed). Every path that can reach it
 * (maybe_complete, on_exit) is the last thing a callback does with s.
 */
#include "session.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent_ipc.h"
#include "jail.h"
#include "log.h"
#include "loop.h"
#include "capture.h"
#include "pool.h"
#include "reaper.h"
#include "spawner.h"

/* After the reply, how long a marker that has not shown up is waited for
 * (the code closed its stdout, say). */
#define MARKER_GRACE_MS 1000

struct session_call {
	struct session_call *next;
	struct session *s;
	char *code;
	size_t code_len;
	session_done_cb *cb; /* NULL: cancelled, the result is dropped */
	void *ctx;
	struct ws_inputs files;
};

/* Why a session's state was lost (the next call's result says it). */
enum loss {
	LOSS_NONE = 0,
	LOSS_ENDED,    /* its sandbox ended: the interpreter exited, crashed or was killed */
	LOSS_IDLE,     /* closed after idle_timeout_seconds */
	LOSS_LIFETIME, /* past max_lifetime_seconds */
	LOSS_EVICTED,  /* closed for a new session at max_sessions */
	LOSS_AGENT,    /* its agent closed the control channel */
	LOSS_PROJECT,  /* its project view could not be made again */
};

struct session {
	bool used;
	char id[65];
	unsigned long owner; /* the client's namespace (session.h) */
	const struct env_entry *env;
	const char *project_dir, *project_mount;
	uint64_t last_used_ms;
	long idle_timer, life_timer, kick_timer;
	bool closing; /* lifetime reached while busy: act at the next idle point */

	/* The sandbox (valid while live). */
	bool live;
	bool killed;    /* we sent SIGKILL: its end is not the interpreter's doing */
	enum loss lost; /* a sandbox with state ended: the next call notes a restart, and why */
	struct jail_proc jp;
	char token[33];
	char ctl[AGENT_FRAME_MAX];
	size_t ctl_len;
	bool ctl_eof;
	char *wbuf; /* request being sent */
	size_t wlen, woff;
	uint64_t next_id;

	/* The call in flight and the queue behind it. */
	struct session_call *cur, *qhead, *qtail;
	unsigned qlen;
	struct exec_result *res;
	uint64_t call_id, call_start_ms;
	char marker[AGENT_MARKER_MAX];
	struct capture out, err;
	long call_timer, grace_timer, marker_timer;
	bool got_reply, sigint_sent;
	struct agent_reply reply;
	/* Files: the call waits for a fresh sandbox's /workspace (jail.h) to
	 * write its inputs; what out/ held after the last call. */
	bool wait_ws;
	struct ws_seen seen;
	bool refill;                 /* a sandbox started for this call: prepare the next
	                              * new session's (pool.c) once it is answered */
	struct spawn_job *spawn_job; /* the current call's sandbox is being made */
};

static struct session *table;
static size_t table_len;

static void start_next(struct session *s);
static void begin_call(struct session *s);
static void send_call(struct session *s);
static void watch_output(struct session *s, bool on);
static void read_ctl(struct session *s);

size_t session_call_output_bytes(const struct session_call *c)
{
	if (!c->s || c->s->cur != c)
		return 0;
	return c->s->out.o.total + c->s->err.o.total;
}

int session_count(void)
{
	int n = 0;
	for (size_t i = 0; i < table_len; i++)
		n += table[i].used;
	return n;
}

/* ---- timers --------------------------------------------------------------- */

static void timer_off(long *t)
{
	if (*t > 0)
		loop_timer_cancel(*t);
	*t = 0;
}

static long timer_on(uint64_t delay_ms, loop_timer_cb *cb, struct session *s)
{
	struct err e;
	long t = loop_timer_add(loop_now_ms() + delay_ms, cb, s, &e);
	if (t < 0) {
		log_msg(LOG_WARNING, "session %s: %s", s->id, e.msg);
		return 0;
	}
	return t;
}

/* ---- the sandbox ---------------------------------------------------------- */

static session_notice_fn *notice;

void session_set_notice(session_notice_fn *fn)
{
	notice = fn;
}

static void release_sandbox(struct session *s)
{
	loop_unwatch(s->jp.sync_fd);
	loop_unwatch(s->jp.pidfd);
	loop_unwatch(s->jp.out_fd);
	loop_unwatch(s->jp.err_fd);
	loop_unwatch(s->jp.code_fd);
	jail_release(&s->jp);
	s->live = false;
	s->killed = false;
	s->ctl_len = 0;
	s->ctl_eof = false;
	free(s->wbuf);
	s->wbuf = NULL;
	capture_attach(&s->out, -1);
	capture_attach(&s->err, -1);
	s->wait_ws = false;
	ws_seen_free(&s->seen); /* a new sandbox has a new /workspace */
}

/* Kill the sandbox and forget it; it is reaped from the loop. */
static void discard_sandbox(struct session *s)
{
	if (!s->live)
		return;
	reaper_bury(&s->jp); /* off the loop; reaped and released when the kernel is done */
	release_sandbox(s);
}

static void kill_sandbox(struct session *s)
{
	if (s->live && !s->killed) {
		s->killed = true;
		jail_kill(&s->jp);
	}
}

static void on_exit_fd(void *ctx, int fd, short revents);
static void on_output(void *ctx, int fd, short revents);
static void on_ctl(void *ctx, int fd, short revents);

/* The jail spec of the session's sandbox. Its own deadline (its init
 * enforces it even without us): it lives at most the session's lifetime,
 * plus the call running when that is reached (its timeout, the SIGINT
 * grace, the marker wait), plus the time it may have waited as a spare. */
static struct jail_spec sandbox_spec(struct session *s)
{
	unsigned life =
	    env_config()->session.max_lifetime_seconds + s->env->limits.timeout_seconds +
	    (SESSION_GRACE_MS + MARKER_GRACE_MS + 999) / 1000 + POOL_SESSION_SPARE_AGE_S;
	return (struct jail_spec){ .env = s->env,
		                   .project_dir = s->project_dir,
		                   .project_mount = s->project_mount,
		                   .agent_token = s->token,
		                   .deadline_s = life };
}

/* The sandbox in s->jp is the session's: on the loop. On failure
 * res->setup_error says why (and the sandbox is gone). */
static int attach_sandbox(struct session *s)
{
	struct err e = { 0 };
	s->live = true;
	s->killed = false;
	s->ctl_len = 0;
	s->ctl_eof = false;
	capture_attach(&s->out, s->jp.out_fd);
	capture_attach(&s->err, s->jp.err_fd);
	if (loop_watch(s->jp.pidfd, POLLIN, on_exit_fd, s, &e) < 0 ||
	    loop_watch(s->jp.out_fd, POLLIN, on_output, s, &e) < 0 ||
	    loop_watch(s->jp.err_fd, POLLIN, on_output, s, &e) < 0 ||
	    loop_watch(s->jp.code_fd, POLLIN, on_ctl, s, &e) < 0) {
		snprintf(s->res->setup_error, sizeof s->res->setup_error,
		         "the server could not watch it: %.256s", e.msg);
		discard_sandbox(s);
		return -1;
	}
	log_msg(LOG_DEBUG, "session %s: sandbox %d started", s->id, s->jp.pid);
	s->refill = true; /* once this call is answered (finish_call) */
	return 0;
}

/* The spawn failed: res->setup_error says why. */
static void spawn_error(struct session *s, const struct err *e)
{
	struct exec_result *res = s->res;
	if (e->kind == ERR_KERNEL)
		snprintf(res->setup_error, sizeof res->setup_error, "%s - %s", e->msg,
		         jail_hint(e->code));
	else
		snprintf(res->setup_error, sizeof res->setup_error,
		         "the server could not start it: %.256s", e->msg);
}

static void on_spawned(void *ctx, int rc, struct jail_proc *p, const struct err *e);

/* Start the session's sandbox: 0 it is live; 1 the spawner makes it (the
 * call goes on in on_spawned); -1 res->setup_error says why not. */
static int spawn(struct session *s)
{
	struct err e = { 0 };
	if (jail_make_token(s->token, sizeof s->token, &e) < 0) {
		snprintf(s->res->setup_error, sizeof s->res->setup_error, "%s", e.msg);
		return -1;
	}
	struct jail_spec spec = sandbox_spec(s);
	/* A prepared sandbox (pool.c) is used as it is: nothing has looked up
	 * a project file in it, so its project view is not stale (its init may
	 * even be finishing its set-up: the call waits for that, as for a
	 * sandbox spawned now). */
	if (pool_take_session(&spec, &s->jp, s->token, sizeof s->token))
		return attach_sandbox(s);
	/* Off the loop (spawner.h), the one being made if there is one; the
	 * call's timeout starts once it is in. */
	s->spawn_job = pool_take_pending(&spec, on_spawned, s, s->token, sizeof s->token);
	if (!s->spawn_job)
		s->spawn_job = spawner_submit(&spec, SPAWN_NOW, on_spawned, s, &e);
	if (!s->spawn_job) {
		spawn_error(s, &e);
		return -1;
	}
	return 1;
}

/* ---- one call ------------------------------------------------------------- */

static void interrupt_call(struct session *s);

static void on_grace(void *ctx)
{
	struct session *s = ctx;
	s->grace_timer = 0;
	log_msg(LOG_INFO, "session %s: no answer %d ms after SIGINT; killing its sandbox", s->id,
	        SESSION_GRACE_MS);
	kill_sandbox(s);
}

/* SIGINT to the sandbox init, which forwards it to the agent's process
 * group (jail_child.c); then a grace period before the kill. */
static void interrupt_call(struct session *s)
{
	if (s->sigint_sent || !s->live)
		return;
	s->sigint_sent = true;
	timer_off(&s->call_timer);
	if (syscall(SYS_pidfd_send_signal, s->jp.pidfd, SIGINT, NULL, 0) < 0 && errno != ESRCH)
		log_msg(LOG_WARNING, "session %s: SIGINT: %s", s->id, strerror(errno));
	s->grace_timer = timer_on(SESSION_GRACE_MS, on_grace, s);
	if (!s->grace_timer)
		kill_sandbox(s);
}

static void on_call_timeout(void *ctx)
{
	struct session *s = ctx;
	s->call_timer = 0;
	if (s->res)
		s->res->timed_out = true;
	interrupt_call(s);
}

/* The call is over (answered, or its sandbox ended): hand over the result
 * and go on with the queue. Last thing a callback does with s. */
static void finish_call(struct session *s, const char *error)
{
	struct session_call *c = s->cur;
	struct exec_result *res = s->res;

	timer_off(&s->call_timer);
	timer_off(&s->grace_timer);
	timer_off(&s->marker_timer);
	s->cur = NULL;
	s->res = NULL;
	s->last_used_ms = loop_now_ms();
	if (s->live)
		watch_output(s, false);
	if (res) {
		capture_take(&s->out, &res->out, &res->out_len, &res->out_total,
		             &res->stdout_truncated);
		capture_take(&s->err, &res->err, &res->err_len, &res->err_total,
		             &res->stderr_truncated);
		res->duration_ms = loop_now_ms() - s->call_start_ms;
		/* What the call changed in /workspace/out (the sandbox lives on:
		 * a file too large to return stays readable). */
		struct err e = { 0 };
		size_t had = s->seen.n;
		if (!error && s->live && jail_workspace(&s->jp) >= 0 &&
		    ws_collect(s->jp.workspace_fd, &s->seen, true, &res->files, &e) < 0)
			log_msg(LOG_WARNING, "session %s: %s", s->id, e.msg);
		else if (notice && (res->files.n || s->seen.n != had))
			notice(s->owner, s->id, NULL);
	} else {
		capture_free(&s->out);
		capture_free(&s->err);
	}
	free(s->wbuf);
	s->wbuf = NULL;
	if (c->cb)
		c->cb(c->ctx, error ? NULL : res, error);
	if (error || !c->cb)
		exec_result_free(res);
	if (s->refill) {
		/* After the answer, so the spawn does not delay it. */
		struct jail_spec spec = sandbox_spec(s);
		s->refill = false;
		pool_refill(&spec);
	}
	free(c->code);
	ws_inputs_free(&c->files);
	free(c);
	start_next(s);
}

static void on_marker_grace(void *ctx)
{
	struct session *s = ctx;
	s->marker_timer = 0;
	s->res->exit_code = s->reply.exit_code;
	s->res->interrupted = s->reply.interrupted;
	finish_call(s, NULL);
}

/* Done when the agent replied and both streams showed their marker (or
 * ended). Last thing a callback does with s. */
static void maybe_complete(struct session *s)
{
	if (!s->cur || !s->got_reply || !s->live)
		return;
	if (!capture_done(&s->out) || !capture_done(&s->err)) {
		if (!s->marker_timer)
			s->marker_timer = timer_on(MARKER_GRACE_MS, on_marker_grace, s);
		if (s->marker_timer)
			return;
	}
	s->res->exit_code = s->reply.exit_code;
	s->res->interrupted = s->reply.interrupted;
	finish_call(s, NULL);
}

static void push_request(struct session *s)
{
	struct err e;
	while (s->wbuf && s->woff < s->wlen) {
		ssize_t n = send(s->jp.code_fd, s->wbuf + s->woff, s->wlen - s->woff,
		                 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			if (loop_modify(s->jp.code_fd, POLLIN | POLLOUT, &e) < 0)
				log_msg(LOG_WARNING, "session %s: %s", s->id, e.msg);
			return;
		}
		if (n < 0) {
			/* The agent is gone: its sandbox's end answers the call. */
			log_msg(LOG_DEBUG, "session %s: send request: %s", s->id, strerror(errno));
			break;
		}
		s->woff += (size_t)n;
	}
	free(s->wbuf);
	s->wbuf = NULL;
	if (!s->ctl_eof && loop_modify(s->jp.code_fd, POLLIN, &e) < 0)
		log_msg(LOG_WARNING, "session %s: %s", s->id, e.msg);
}

static void protocol_error(struct session *s, const char *what)
{
	log_msg(LOG_WARNING, "session %s: agent protocol error (%s); killing its sandbox", s->id,
	        what);
	if (s->res)
		s->res->protocol_error = true;
	kill_sandbox(s);
}

/* At most 16 reads per event: code that floods its end of the channel
 * (fd 3 is the agent's, and the code runs in the agent) must not keep the
 * loop here. */
static void read_ctl(struct session *s)
{
	for (int rounds = 0; rounds < 16; rounds++) {
		if (s->ctl_len == sizeof s->ctl) {
			protocol_error(s, "frame too large");
			return;
		}
		ssize_t n = read(s->jp.code_fd, s->ctl + s->ctl_len, sizeof s->ctl - s->ctl_len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			/* EOF: the agent closed its end (it is exiting, or the
			 * code closed fd 3). Its end, or the call's timeout,
			 * decides; an idle sandbox in this state is replaced at
			 * the next call. */
			s->ctl_eof = true;
			loop_unwatch(s->jp.code_fd);
			break;
		}
		s->ctl_len += (size_t)n;
		struct agent_reply r;
		int rc;
		while ((rc = agent_reply_parse(s->ctl, &s->ctl_len, &r)) == 1) {
			if (s->cur && !s->got_reply && r.id == s->call_id) {
				s->got_reply = true;
				s->reply = r;
			} else {
				log_msg(LOG_DEBUG, "session %s: reply for call %llu ignored", s->id,
				        (unsigned long long)r.id);
			}
		}
		if (rc < 0) {
			protocol_error(s, "malformed reply");
			return;
		}
	}
}

static void on_ctl(void *ctx, int fd, short revents)
{
	struct session *s = ctx;
	(void)fd;
	if ((revents & POLLOUT) && s->wbuf)
		push_request(s);
	if (revents & (POLLIN | POLLHUP | POLLERR))
		read_ctl(s);
	maybe_complete(s);
}

/* Output is the call's once its request is on the way (its marker is set);
 * before that, and with no call, it is read and dropped (a background job
 * between calls). */
static void read_stream(struct session *s, struct capture *st, bool drain)
{
	bool keep = s->cur && st->scan.marker_len;
	if (capture_read(st, drain, keep) && s->res && !s->res->output_killed) {
		s->res->output_killed = true;
		kill_sandbox(s);
	}
}

static void on_output(void *ctx, int fd, short revents)
{
	struct session *s = ctx;
	(void)revents;
	read_stream(s, fd == s->out.fd ? &s->out : &s->err, false);
	maybe_complete(s);
}

/* Output and the control channel are read only while a call runs. Between
 * calls they are not watched for data (poll still reports a hang-up): a
 * background job that keeps writing to stdout, or forged replies to the
 * agent's channel, fills the pipe or socket and blocks, so an idle session
 * costs the server nothing. What came between calls is dropped when the
 * next call starts (s->cur is still NULL then: no call to give it to). */
static void watch_output(struct session *s, bool on)
{
	struct err e;
	struct capture *st[2] = { &s->out, &s->err };
	for (int i = 0; i < 2; i++) {
		if (st[i]->eof)
			continue;
		if (on)
			read_stream(s, st[i], false);
		if (!st[i]->eof && loop_modify(st[i]->fd, on ? POLLIN : 0, &e) < 0)
			log_msg(LOG_WARNING, "session %s: %s", s->id, e.msg);
	}
	if (s->ctl_eof)
		return;
	if (on)
		read_ctl(s);
	if (!s->ctl_eof && s->live && loop_modify(s->jp.code_fd, on ? POLLIN : 0, &e) < 0)
		log_msg(LOG_WARNING, "session %s: %s", s->id, e.msg);
}

/* The sandbox ended (init reaped): by then the kernel has killed every
 * process of its pid namespace, so no writer of the pipes is left. */
static void on_exit_fd(void *ctx, int fd, short revents)
{
	struct session *s = ctx;
	(void)fd;
	(void)revents;
	int rc = jail_reap(&s->jp);
	if (rc == 0)
		return;
	if (rc < 0)
		log_msg(LOG_WARNING, "session %s: waitid on sandbox %d: %s", s->id, s->jp.pid,
		        strerror(errno));
	if (!s->out.eof)
		read_stream(s, &s->out, true);
	if (!s->err.eof)
		read_stream(s, &s->err, true);
	if (!s->ctl_eof && !s->killed)
		read_ctl(s);

	struct jail_end end;
	jail_end(&s->jp, &end);
	bool killed = s->killed;
	/* The sandbox's own deadline (jail.h) ended it: ours should have. */
	bool own_deadline = end.own_deadline;
	if (own_deadline)
		log_msg(LOG_WARNING, "session %s: sandbox %d reached its own deadline", s->id,
		        s->jp.pid);
	log_msg(LOG_DEBUG, "session %s: sandbox %d ended", s->id, s->jp.pid);
	release_sandbox(s);
	if (!end.setup_error[0])
		s->lost = LOSS_ENDED;
	if (!s->cur) {
		start_next(s);
		return;
	}
	struct exec_result *res = s->res;
	if (end.setup_error[0]) {
		memcpy(res->setup_error, end.setup_error, sizeof res->setup_error);
	} else {
		res->session_lost = true;
		res->oom_killed = end.oom;
		if (s->got_reply && !killed) {
			/* Answered, then ended (the code left a process that
			 * killed the agent, say). */
			res->exit_code = s->reply.exit_code;
			res->interrupted = s->reply.interrupted;
		} else if (end.exited && !killed) {
			res->interpreter_died = true;
			exec_result_set_status(res, end.status);
		} else {
			res->term_signal = SIGKILL;
			res->interpreter_died = !killed && !own_deadline;
			res->timed_out |= own_deadline;
		}
	}
	finish_call(s, NULL);
}

/* ---- the queue ------------------------------------------------------------ */

static void close_session(struct session *s);

/* Ids of sessions the server closed on its own (idle, lifetime, eviction),
 * newest last, so a client that comes back to one is told its state is gone
 * instead of silently getting an empty session. Bounded: the oldest drop. */
#define CLOSED_MEMORY 64
static struct {
	char id[65];
	unsigned long owner;
	enum loss why;
} closed_ids[CLOSED_MEMORY];
static size_t closed_next;

static const char *loss_text(enum loss why);

static void remember_closed(const struct session *s, enum loss why)
{
	if (notice)
		notice(s->owner, s->id, loss_text(why));
	snprintf(closed_ids[closed_next % CLOSED_MEMORY].id, sizeof closed_ids[0].id, "%s", s->id);
	closed_ids[closed_next % CLOSED_MEMORY].owner = s->owner;
	closed_ids[closed_next % CLOSED_MEMORY].why = why;
	closed_next++;
}

/* Why id was closed by the server (and forget it), else LOSS_NONE. */
static enum loss forget_closed(const char *id, unsigned long owner)
{
	for (size_t i = 0; i < CLOSED_MEMORY; i++)
		if (closed_ids[i].id[0] && closed_ids[i].owner == owner &&
		    strcmp(closed_ids[i].id, id) == 0) {
			closed_ids[i].id[0] = '\0';
			return closed_ids[i].why;
		}
	return LOSS_NONE;
}

/* The restart note's reason, for the client (and the model) to act on. */
static const char *loss_text(enum loss why)
{
	static char idle[96], life[96], evicted[128];
	const struct env_session_config *c = &env_config()->session;
	switch (why) {
	case LOSS_NONE:
		return NULL;
	case LOSS_ENDED:
		return "its interpreter ended or was killed in an earlier call";
	case LOSS_IDLE:
		snprintf(idle, sizeof idle, "it was closed after %u s without a call",
		         c->idle_timeout_seconds);
		return idle;
	case LOSS_LIFETIME:
		snprintf(life, sizeof life, "it reached the maximum session lifetime of %u s",
		         c->max_lifetime_seconds);
		return life;
	case LOSS_EVICTED:
		snprintf(evicted, sizeof evicted,
		         "it was the least recently used of %u sessions and was closed "
		         "for a new one",
		         c->max_sessions);
		return evicted;
	case LOSS_AGENT:
		return "its agent closed its control channel";
	case LOSS_PROJECT:
		return "its project view could not be made again";
	}
	return NULL;
}

static void on_idle(void *ctx)
{
	struct session *s = ctx;
	s->idle_timer = 0;
	if (!s->cur && !s->qhead) {
		log_msg(LOG_INFO, "session %s: idle for %u s; closed", s->id,
		        env_config()->session.idle_timeout_seconds);
		remember_closed(s, LOSS_IDLE);
		close_session(s);
	}
}

static void on_lifetime(void *ctx)
{
	struct session *s = ctx;
	s->life_timer = 0;
	if (!s->cur && !s->qhead) {
		log_msg(LOG_INFO, "session %s: reached its maximum lifetime; closed", s->id);
		remember_closed(s, LOSS_LIFETIME);
		close_session(s);
	} else {
		s->closing = true;
	}
}

static void on_kick(void *ctx)
{
	struct session *s = ctx;
	s->kick_timer = 0;
	start_next(s);
}

/* Run the next queued call, if the session is free. */
static void start_next(struct session *s)
{
	const struct env_config *cfg = env_config();
	while (!s->cur) {
		if (s->closing) {
			/* Past its lifetime: closed when nothing waits, else the
			 * waiting calls get a fresh sandbox (state lost). */
			s->closing = false;
			if (!s->qhead) {
				log_msg(LOG_INFO,
				        "session %s: reached its maximum lifetime; closed", s->id);
				remember_closed(s, LOSS_LIFETIME);
				close_session(s);
				return;
			}
			if (s->live) {
				discard_sandbox(s);
				s->lost = LOSS_LIFETIME;
			}
			s->life_timer = timer_on(
			    (uint64_t)cfg->session.max_lifetime_seconds * 1000u, on_lifetime, s);
		}
		if (!s->qhead) {
			if (!s->idle_timer)
				s->idle_timer =
				    timer_on((uint64_t)cfg->session.idle_timeout_seconds * 1000u,
				             on_idle, s);
			return;
		}
		timer_off(&s->idle_timer);
		timer_off(&s->kick_timer);
		struct session_call *c = s->qhead;
		s->qhead = c->next;
		if (!s->qhead)
			s->qtail = NULL;
		s->qlen--;
		if (s->live)
			watch_output(s, true); /* drops what came between calls */
		s->cur = c;
		s->call_start_ms = loop_now_ms();
		s->got_reply = s->sigint_sent = false;
		s->res = calloc(1, sizeof *s->res);
		if (!s->res) {
			finish_call(s, "The server is out of memory; the call was not run.");
			return;
		}
		s->res->exit_code = -1;
		capture_restart(&s->out, NULL, 0);
		capture_restart(&s->err, NULL, 0);
		if (s->live && s->ctl_eof) {
			/* The agent closed its channel between calls: unusable. */
			discard_sandbox(s);
			s->lost = LOSS_AGENT;
		}
		if (s->live && s->project_dir) {
			/* The project as it is now (jail.h). A sandbox whose
			 * view could not be made again is replaced. */
			struct err e;
			if (jail_refresh_project(&s->jp, s->project_mount, &e) < 0) {
				log_msg(LOG_WARNING, "session %s: %s; starting a new sandbox",
				        s->id, e.msg);
				discard_sandbox(s);
				s->lost = LOSS_PROJECT;
			}
		}
		begin_call(s);
		return;
	}
}

/* A new sandbox is the session's: the call notes a restart (and why), and
 * goes on with its files and code. */
static void sandbox_ready(struct session *s)
{
	s->res->restarted = s->lost != LOSS_NONE;
	s->res->restart_reason = loss_text(s->lost);
	s->lost = LOSS_NONE;
	send_call(s);
}

/* The current call: its sandbox (a spare, or one the spawner makes), then
 * its files and code. */
static void begin_call(struct session *s)
{
	if (!s->live) {
		if (!s->cur->cb) {
			finish_call(s, NULL); /* cancelled while it waited */
			return;
		}
		int rc = spawn(s);
		if (rc < 0)
			finish_call(s, NULL);
		else if (rc == 0)
			sandbox_ready(s);
		return;
	}
	send_call(s);
}

/* The spawner made the current call's sandbox, or could not (from the
 * loop). A call cancelled meanwhile is answered now; the sandbox stays the
 * session's. */
static void on_spawned(void *ctx, int rc, struct jail_proc *p, const struct err *e)
{
	struct session *s = ctx;
	s->spawn_job = NULL;
	if (rc != 0) {
		spawn_error(s, e);
		finish_call(s, NULL);
		return;
	}
	s->jp = *p;
	if (attach_sandbox(s) < 0 || !s->cur->cb) {
		finish_call(s, NULL);
		return;
	}
	sandbox_ready(s);
}

/* A fresh sandbox's /workspace came (or its set-up ended): go on with the
 * call that waits for it. */
static void on_sync(void *ctx, int fd, short revents)
{
	struct session *s = ctx;
	(void)revents;
	/* (Takes the workspace fd when it is there.) */
	if (jail_next_report(&s->jp) == 0 && s->jp.workspace_fd < 0)
		return;
	/* The workspace came, or a set-up error, or init is gone (then
	 * on_exit_fd answers the call). */
	loop_unwatch(fd);
	if (s->wait_ws && s->jp.workspace_fd >= 0) {
		s->wait_ws = false;
		send_call(s);
	}
}

/* Write the current call's input files into the sandbox's /workspace,
 * then send the code to the agent. */
static void send_call(struct session *s)
{
	struct session_call *c = s->cur;
	if (c->files.n) {
		struct err e = { 0 };
		int ws = jail_workspace(&s->jp);
		if (ws < 0) {
			/* Still setting up: its init sends /workspace when done. */
			if (loop_watch(s->jp.sync_fd, POLLIN, on_sync, s, &e) < 0) {
				kill_sandbox(s); /* its end answers the call */
				return;
			}
			s->wait_ws = true;
			return;
		}
		int rc = ws_write_inputs(
		    ws, &c->files, jail_has_groups(&s->jp) ? jail_join_groups : NULL, &s->jp, &e);
		ws_inputs_free(&c->files);
		if (rc < 0) {
			char msg[400];
			snprintf(msg, sizeof msg,
			         "The input files could not be written, so the code did not "
			         "run: %s.",
			         e.msg);
			finish_call(s, msg);
			return;
		}
	}
	s->call_id = ++s->next_id;
	size_t ml = agent_marker(s->marker, s->token, s->call_id);
	capture_restart(&s->out, s->marker, ml);
	capture_restart(&s->err, s->marker, ml);
	free(s->wbuf);
	s->wbuf = agent_request(s->call_id, c->code, c->code_len, &s->wlen);
	s->woff = 0;
	free(c->code);
	c->code = NULL;
	if (!s->wbuf) {
		finish_call(s, "The server is out of memory; the call was not run.");
		return;
	}
	s->call_timer =
	    timer_on((uint64_t)s->env->limits.timeout_seconds * 1000u, on_call_timeout, s);
	if (!s->call_timer) {
		kill_sandbox(s); /* no deadline: do not run unbounded */
		return;
	}
	push_request(s);
}

static void free_call(struct session_call *c)
{
	ws_inputs_free(&c->files);
	free(c->code);
	free(c);
}

/* Drop the session and its sandbox. Callbacks of its calls are not called. */
static void close_session(struct session *s)
{
	spawner_abandon(s->spawn_job); /* (a sandbox made for it goes to the reaper) */
	s->spawn_job = NULL;
	timer_off(&s->idle_timer);
	timer_off(&s->life_timer);
	timer_off(&s->kick_timer);
	timer_off(&s->call_timer);
	timer_off(&s->grace_timer);
	timer_off(&s->marker_timer);
	discard_sandbox(s);
	while (s->qhead) {
		struct session_call *c = s->qhead;
		s->qhead = c->next;
		free_call(c);
	}
	if (s->cur)
		free_call(s->cur);
	exec_result_free(s->res);
	capture_free(&s->out);
	capture_free(&s->err);
	free(s->wbuf);
	memset(s, 0, sizeof *s);
	jail_proc_clear(&s->jp);
	s->out.fd = s->err.fd = -1;
}

static struct session *find_session(const char *id, unsigned long owner)
{
	for (size_t i = 0; i < table_len; i++)
		if (table[i].used && table[i].owner == owner && strcmp(table[i].id, id) == 0)
			return &table[i];
	return NULL;
}

static struct session *new_session(const struct session_request *req, struct err *e)
{
	const struct env_config *cfg = env_config();
	struct session *s = NULL, *lru = NULL;
	if (!table) {
		size_t n = cfg->session.max_sessions;
		if (n > SESSION_TABLE_MAX)
			n = SESSION_TABLE_MAX;
		if (n == 0)
			n = 1;
		table = calloc(n, sizeof *table);
		if (!table) {
			err_set(e, ENOMEM, "out of memory for the session table");
			return NULL;
		}
		table_len = n;
	}
	for (size_t i = 0; i < table_len && !s; i++)
		if (!table[i].used)
			s = &table[i];
	if (!s) {
		for (size_t i = 0; i < table_len; i++) {
			struct session *t = &table[i];
			if (!t->cur && !t->qhead && (!lru || t->last_used_ms < lru->last_used_ms))
				lru = t;
		}
		if (!lru) {
			err_client(
			    e, EBUSY,
			    "All %zu sessions are busy running calls; wait for one to finish, "
			    "or run without `session`.",
			    table_len);
			return NULL;
		}
		log_msg(LOG_INFO, "session %s: evicted (least recently used) for session %s",
		        lru->id, req->id);
		remember_closed(lru, LOSS_EVICTED);
		close_session(lru);
		s = lru;
	}
	memset(s, 0, sizeof *s);
	jail_proc_clear(&s->jp);
	snprintf(s->id, sizeof s->id, "%s", req->id);
	capture_init(&s->out, req->env->limits.max_output_bytes, s->id);
	capture_init(&s->err, req->env->limits.max_output_bytes, s->id);
	s->owner = req->owner;
	s->env = req->env;
	s->project_dir = req->project_dir;
	s->project_mount = req->project_mount;
	s->last_used_ms = loop_now_ms();
	s->life_timer =
	    timer_on((uint64_t)cfg->session.max_lifetime_seconds * 1000u, on_lifetime, s);
	if (!s->life_timer) {
		err_set(e, ENOSPC, "no timer left for a new session");
		return NULL;
	}
	s->used = true;
	/* A session the server closed earlier: its first call says the state
	 * is gone, like a restart. */
	s->lost = forget_closed(s->id, s->owner);
	log_msg(LOG_INFO, "session %s: created in environment %s", s->id, s->env->name);
	return s;
}

struct session_call *session_run(const struct session_request *req, session_done_cb *cb, void *ctx,
                                 struct err *e)
{
	struct err te;
	struct ws_inputs files = { 0 };
	if (req->files) {
		files = *req->files;
		memset(req->files, 0, sizeof *req->files);
	}
	if (!req->env || !req->id || !cb || (!req->code && req->code_len)) {
		ws_inputs_free(&files);
		err_set(e, EINVAL, "session: bad request");
		return NULL;
	}
	struct session *s = find_session(req->id, req->owner);
	if (s && s->env != req->env) {
		ws_inputs_free(&files);
		err_client(e, EINVAL,
		           "Session \"%s\" belongs to env \"%s\"; call it with env \"%s\", "
		           "or use another session id.",
		           s->id, s->env->name, s->env->name);
		return NULL;
	}
	if (s && s->qlen >= SESSION_QUEUE_MAX) {
		ws_inputs_free(&files);
		err_client(e, EBUSY,
		           "Session \"%s\" already has %d calls waiting; wait for them to finish.",
		           s->id, SESSION_QUEUE_MAX);
		return NULL;
	}
	struct session_call *c = calloc(1, sizeof *c);
	if (!c || !(c->code = malloc(req->code_len ? req->code_len : 1))) {
		free(c);
		ws_inputs_free(&files);
		err_set(e, ENOMEM, "out of memory for the call");
		return NULL;
	}
	if (req->code_len)
		memcpy(c->code, req->code, req->code_len);
	c->code_len = req->code_len;
	c->files = files;
	c->cb = cb;
	c->ctx = ctx;
	if (!s && !(s = new_session(req, e))) {
		free_call(c);
		return NULL;
	}
	if (!s->cur && !s->kick_timer) {
		/* Start from the loop: never call back from inside session_run. */
		s->kick_timer = loop_timer_add(loop_now_ms(), on_kick, s, &te);
		if (s->kick_timer < 0) {
			s->kick_timer = 0;
			free_call(c);
			err_set(e, ENOSPC, "no timer left to start the call");
			return NULL;
		}
	}
	c->s = s;
	if (s->qtail)
		s->qtail->next = c;
	else
		s->qhead = c;
	s->qtail = c;
	s->qlen++;
	timer_off(&s->idle_timer);
	return c;
}

void session_cancel(struct session_call *c)
{
	struct session *s = c->s;
	if (s->cur == c) {
		c->cb = NULL;
		interrupt_call(s);
		return;
	}
	struct session_call **p = &s->qhead, *prev = NULL;
	for (; *p; prev = *p, p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			if (s->qtail == c)
				s->qtail = prev;
			s->qlen--;
			free_call(c);
			break;
		}
	if (!s->cur && !s->qhead && !s->idle_timer) {
		timer_off(&s->kick_timer);
		s->idle_timer = timer_on(
		    (uint64_t)env_config()->session.idle_timeout_seconds * 1000u, on_idle, s);
	}
}

void session_input_closed(void)
{
	for (size_t i = 0; i < table_len; i++) {
		struct session *s = &table[i];
		if (!s->used)
			continue;
		while (s->qhead) {
			struct session_call *c = s->qhead;
			s->qhead = c->next;
			s->qlen--;
			if (c->cb)
				c->cb(c->ctx, NULL,
				      "The server's input was closed before this call ran; it was "
				      "not run.");
			free_call(c);
		}
		s->qtail = NULL;
		timer_off(&s->kick_timer);
	}
}

void session_end_owner(unsigned long owner)
{
	for (size_t i = 0; i < table_len; i++)
		if (table[i].used && table[i].owner == owner) {
			log_msg(LOG_DEBUG, "session %s: its client is gone; closed", table[i].id);
			close_session(&table[i]);
		}
}

void session_shutdown(void)
{
	for (size_t i = 0; i < table_len; i++)
		if (table[i].used)
			close_session(&table[i]);
	reaper_shutdown();
	free(table);
	table = NULL;
	table_len = 0;
}

int session_read_out(unsigned long owner, const char *id, const char *path, size_t max, char **data,
                     size_t *len, uint64_t *size, const char **mime, struct err *e)
{
	struct session *s = find_session(id, owner);
	if (!s || !s->live || jail_workspace(&s->jp) < 0)
		return err_client(e, ENOENT,
		                  "session \"%s\" has no live sandbox: its files are gone", id);
	return ws_read_out(s->jp.workspace_fd, path, max, data, len, size, mime, e);
}

struct each_out {
	void (*fn)(void *ctx, const char *id, const char *path, uint64_t size);
	void *ctx;
	const char *id;
};

static void each_out_file(void *ctx, const char *path, uint64_t size)
{
	struct each_out *eo = ctx;
	eo->fn(eo->ctx, eo->id, path, size);
}

void session_each_out(unsigned long owner,
                      void (*fn)(void *ctx, const char *id, const char *path, uint64_t size),
                      void *ctx)
{
	for (size_t i = 0; i < table_len; i++)
		if (table[i].used && table[i].live && table[i].owner == owner) {
			struct each_out eo = { fn, ctx, table[i].id };
			ws_seen_each(&table[i].seen, each_out_file, &eo);
		}
}
