/* pool.c — see pool.h.
 *
 * A spare is a jail_spawn()ed sandbox whose init blocks reading the code;
 * where the environment can, its interpreter is already started and waits
 * too (jail.h, "Warm start"), and serves that one run only.
 * It has no deadline of its own until the code arrives, but dies with the
 * server: its init's parent-death signal (jail_child.c) is armed by then.
 * The server watches its pidfd: a spare that dies (killed from outside, or a
 * set-up failure) is reaped and forgotten, and the next run spawns as usual,
 * so a failure shows in that run's result exactly as without the pool.
 * Refills happen from a zero-delay timer after a run's result was sent, so
 * the clone(2) they cost overlaps the client's reading and thinking, not a
 * run.
 *
 * Session spares: the same for sessions, one per environment once a
 * session was started there: a sandbox in session mode whose agent has
 * started and waits for its first request, with its own token. A new
 * session takes it (session.c), so its first call costs what a later one
 * does. Its init's own deadline (jail.h) runs from set-up, so session
 * sandboxes get POOL_SESSION_SPARE_AGE_S more of it, and a spare older than
 * that is discarded instead of taken.
 */
#include "pool.h"

#include <errno.h>
#include <stdint.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "env.h"
#include "log.h"
#include "loop.h"
#include "reaper.h"

struct spare {
	bool ready; /* jp is a live sandbox waiting for code */
	long refill_timer;
	struct jail_spec spec;
	char token[JAIL_TOKEN_MAX + 1]; /* session spares: spec.agent_token */
	uint64_t born_ms;
	long expire_timer; /* session spares: discarded when too old */
	struct jail_proc jp;
};

/* Two per environment, by env_at() index: [2i] one-shot, [2i+1] session. */
static struct spare *spares;
static size_t n_spares;
static bool stopped;
static bool disabled;

static struct spare *slot(const struct env_entry *env, bool session)
{
	if (!spares) {
		n_spares = 2 * env_count();
		spares = calloc(n_spares, sizeof *spares);
		if (!spares)
			return NULL;
	}
	for (size_t i = 0; 2 * i < n_spares; i++)
		if (env_at(i) == env)
			return &spares[2 * i + session];
	return NULL;
}

static bool same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* The same sandbox but for the code (one-shot) or the token (session). */
static bool same_spec(const struct jail_spec *a, const struct jail_spec *b)
{
	return a->env == b->env && !a->agent_token == !b->agent_token &&
	       a->deadline_s == b->deadline_s && same_str(a->project_dir, b->project_dir) &&
	       same_str(a->project_mount, b->project_mount);
}

static void discard(struct spare *sp)
{
	if (sp->expire_timer > 0)
		loop_timer_cancel(sp->expire_timer);
	sp->expire_timer = 0;
	if (!sp->ready)
		return;
	if (sp->spec.agent_token) /* (tests read these lines: mcp.py, session_spares) */
		log_msg(LOG_DEBUG, "pool: session spare %d discarded", sp->jp.pid);
	reaper_bury(&sp->jp);
	sp->ready = false;
}

static void on_spare_exit(void *ctx, int fd, short revents)
{
	struct spare *sp = ctx;
	(void)fd;
	(void)revents;
	int rc = jail_reap(&sp->jp);
	if (rc == 0)
		return;
	/* Died while waiting: forget it; the next run spawns its own. */
	if (sp->spec.agent_token)
		log_msg(LOG_DEBUG, "pool: session spare %d ended", sp->jp.pid);
	loop_unwatch(sp->jp.pidfd);
	jail_release(&sp->jp);
	sp->ready = false;
	if (sp->expire_timer > 0)
		loop_timer_cancel(sp->expire_timer);
	sp->expire_timer = 0;
	log_msg(LOG_DEBUG, "pool: the spare sandbox of %s ended early", sp->spec.env->name);
}

static void on_expire(void *ctx)
{
	struct spare *sp = ctx;
	sp->expire_timer = 0;
	log_msg(LOG_DEBUG, "pool: the session spare of %s was not used in %u s; discarded",
	        sp->spec.env->name, POOL_SESSION_SPARE_AGE_S);
	discard(sp);
}

static void refill(void *ctx)
{
	struct spare *sp = ctx;
	struct err e = { 0 };
	sp->refill_timer = 0;
	if (stopped || sp->ready)
		return;
	if (sp->spec.agent_token && jail_make_token(sp->token, sizeof sp->token, &e) < 0) {
		log_msg(LOG_DEBUG, "pool: no session spare for %s: %s", sp->spec.env->name, e.msg);
		return;
	}
	if (!loop_claim_slow()) {
		/* This round spawned already: the next one. */
		long t = loop_timer_add(loop_now_ms(), refill, sp, &e);
		sp->refill_timer = t > 0 ? t : 0;
		return;
	}
	if (jail_spawn(&sp->spec, &sp->jp, &e) != 0) {
		log_msg(LOG_DEBUG, "pool: no spare for %s: %s", sp->spec.env->name, e.msg);
		return;
	}
	if (loop_watch(sp->jp.pidfd, POLLIN, on_spare_exit, sp, &e) < 0) {
		reaper_bury(&sp->jp);
		return;
	}
	sp->ready = true;
	sp->born_ms = loop_now_ms();
	if (sp->spec.agent_token) {
		log_msg(LOG_DEBUG, "pool: session spare %d ready for %s", sp->jp.pid,
		        sp->spec.env->name);
		/* Its own deadline runs (jail.h): unused this long, it goes. */
		long t = loop_timer_add(sp->born_ms + POOL_SESSION_SPARE_AGE_S * 1000u, on_expire,
		                        sp, &e);
		sp->expire_timer = t > 0 ? t : 0;
	}
}

static void schedule(struct spare *sp, const struct jail_spec *s)
{
	struct err e = { 0 };
	if (stopped || sp->refill_timer)
		return;
	sp->spec = *s;
	if (s->agent_token)
		sp->spec.agent_token = sp->token; /* made fresh at the spawn */
	else
		sp->spec.warm = true; /* where the environment can (jail.h) */
	long t = loop_timer_add(loop_now_ms(), refill, sp, &e);
	sp->refill_timer = t > 0 ? t : 0;
}

bool pool_take_session(const struct jail_spec *s, struct jail_proc *p, char *token, size_t len)
{
	struct spare *sp = slot(s->env, true);
	if (!sp || !s->agent_token || !sp->ready)
		return false;
	if (!same_spec(&sp->spec, s) ||
	    loop_now_ms() - sp->born_ms > POOL_SESSION_SPARE_AGE_S * 1000u ||
	    strlen(sp->token) >= len) {
		discard(sp); /* another project, or too near its own deadline */
		return false;
	}
	loop_unwatch(sp->jp.pidfd);
	if (sp->expire_timer > 0)
		loop_timer_cancel(sp->expire_timer);
	sp->expire_timer = 0;
	*p = sp->jp;
	memcpy(token, sp->token, strlen(sp->token) + 1);
	sp->ready = false;
	log_msg(LOG_DEBUG, "pool: session in %s takes a prepared sandbox (session spare %d taken)",
	        s->env->name, p->pid);
	return true;
}

bool pool_take(const struct jail_spec *s, struct jail_proc *p)
{
	struct spare *sp = slot(s->env, false);
	if (!sp || s->agent_token)
		return false;
	bool got = false;
	if (sp->ready && same_spec(&sp->spec, s)) {
		loop_unwatch(sp->jp.pidfd);
		*p = sp->jp;
		sp->ready = false;
		got = true;
		log_msg(LOG_DEBUG, "pool: run in %s takes a prepared sandbox", s->env->name);
	} else if (sp->ready) {
		discard(sp); /* prepared for another project */
	}
	return got;
}

void pool_refill(const struct jail_spec *s)
{
	if (disabled)
		return;
	struct spare *sp = slot(s->env, s->agent_token != NULL);
	if (sp && !sp->ready)
		schedule(sp, s);
}

void pool_set_enabled(bool on)
{
	disabled = !on;
	for (size_t i = 0; !on && i < n_spares; i++) {
		if (spares[i].refill_timer)
			loop_timer_cancel(spares[i].refill_timer);
		spares[i].refill_timer = 0;
		discard(&spares[i]);
	}
}

void pool_shutdown(void)
{
	stopped = true;
	for (size_t i = 0; i < n_spares; i++) {
		if (spares[i].refill_timer)
			loop_timer_cancel(spares[i].refill_timer);
		spares[i].refill_timer = 0;
		discard(&spares[i]);
	}
	free(spares);
	spares = NULL;
	n_spares = 0;
}
