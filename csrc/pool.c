/* pool.c — see pool.h.
 *
 * Spares per environment follow demand: a group (one environment's
 * one-shot spares, or its session spares) keeps `want` of them, 1 at
 * first; a call that finds none ready while one is being made, or takes
 * one less than POOL_YOUNG_MS old with none left (back to back), raises
 * want, up to the environment's warm_pool; a one-shot
 * spare of a group above 1 that waited POOL_SPARE_IDLE_S unused lowers it
 * again and goes. warm_pool 0: no spares for that environment.
 *
 * A spare is a jail_spawn()ed sandbox whose init blocks reading the code;
 * where the environment can, its interpreter is already started and waits
 * too (jail.h, "Warm start"), and serves that one run only.
 * It has no deadline of its own until the code arrives, but dies with the
 * server: its init's parent-death signal (jail_child.c) is armed by then.
 * The server watches its pidfd: a spare that dies (killed from outside, or a
 * set-up failure) is reaped and forgotten, and the next run spawns as usual,
 * so a failure shows in that run's result exactly as without the pool.
 * Refills are asked for from a zero-delay timer after a run's result was
 * sent, and made by the spawner's thread (spawner.h) after every run and
 * session waiting for a sandbox, so the clone(2) they cost overlaps the
 * client's reading and thinking, neither a run nor the loop.
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

struct group;

struct spare {
	struct group *g;
	bool ready;            /* jp is a live sandbox waiting for code */
	struct spawn_job *job; /* being made (spawner.h) */
	struct jail_spec spec;
	char token[JAIL_TOKEN_MAX + 1]; /* session spares: spec.agent_token */
	uint64_t born_ms;
	long expire_timer; /* session spares: too old; one-shot: idle (above) */
	struct jail_proc jp;
};

struct group {
	const struct env_entry *env;
	bool session;
	unsigned want, bound;  /* spares to keep; the most (warm_pool) */
	struct jail_spec spec; /* what the next ones are made for */
	long refill_timer;
	struct spare sp[POOL_SPARES_MAX];
};

/* Two per environment, by env_at() index: [2i] one-shot, [2i+1] session. */
static struct group *groups;
static size_t n_groups;
static bool stopped;
static bool disabled;

static struct group *group_of(const struct env_entry *env, bool session)
{
	if (!groups) {
		n_groups = 2 * env_count();
		groups = calloc(n_groups, sizeof *groups);
		if (!groups)
			return NULL;
		for (size_t i = 0; i < n_groups; i++) {
			struct group *g = &groups[i];
			g->env = env_at(i / 2);
			g->session = i % 2;
			g->bound = pool_bound(g->env);
			g->want = g->bound ? 1 : 0;
			for (size_t k = 0; k < POOL_SPARES_MAX; k++) {
				g->sp[k].g = g;
				jail_proc_clear(&g->sp[k].jp);
			}
		}
	}
	for (size_t i = 0; 2 * i < n_groups; i++)
		if (groups[2 * i].env == env)
			return groups[2 * i + session].bound ? &groups[2 * i + session] : NULL;
	return NULL;
}

unsigned pool_bound(const struct env_entry *env)
{
	return env->warm_pool < POOL_SPARES_MAX ? env->warm_pool : POOL_SPARES_MAX;
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

static void stop_expiry(struct spare *sp)
{
	if (sp->expire_timer > 0)
		loop_timer_cancel(sp->expire_timer);
	sp->expire_timer = 0;
}

static void discard(struct spare *sp)
{
	spawner_abandon(sp->job);
	sp->job = NULL;
	stop_expiry(sp);
	if (!sp->ready)
		return;
	/* (Tests read these lines: mcp.py, session_spares, one_shot_spares.) */
	log_msg(LOG_DEBUG, "pool: %sspare %d discarded", sp->g->session ? "session " : "",
	        sp->jp.pid);
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
	log_msg(LOG_DEBUG, "pool: %sspare %d ended", sp->g->session ? "session " : "", sp->jp.pid);
	loop_unwatch(sp->jp.pidfd);
	jail_release(&sp->jp);
	sp->ready = false;
	stop_expiry(sp);
	log_msg(LOG_DEBUG, "pool: the spare sandbox of %s ended early", sp->spec.env->name);
}

static void on_expire(void *ctx)
{
	struct spare *sp = ctx;
	struct group *g = sp->g;
	sp->expire_timer = 0;
	if (g->session) {
		log_msg(LOG_DEBUG, "pool: the session spare of %s was not used in %u s; discarded",
		        g->env->name, POOL_SESSION_SPARE_AGE_S);
	} else {
		if (g->want <= 1)
			return; /* the first one stays (it has no deadline until its code) */
		log_msg(LOG_DEBUG, "pool: a spare of %s was not used in %u s; %u kept",
		        g->env->name, POOL_SPARE_IDLE_S, g->want - 1);
	}
	if (g->want > 1)
		g->want--;
	discard(sp);
}

/* The spawner made the spare (from the loop). */
static void on_spawned(void *ctx, int rc, struct jail_proc *p, const struct err *se)
{
	struct spare *sp = ctx;
	struct err e = { 0 };
	sp->job = NULL;
	if (rc != 0) {
		log_msg(LOG_DEBUG, "pool: no spare for %s: %s", sp->spec.env->name, se->msg);
		return;
	}
	sp->jp = *p;
	if (loop_watch(sp->jp.pidfd, POLLIN, on_spare_exit, sp, &e) < 0) {
		reaper_bury(&sp->jp);
		return;
	}
	sp->ready = true;
	sp->born_ms = loop_now_ms();
	log_msg(LOG_DEBUG, "pool: %sspare %d ready for %s", sp->g->session ? "session " : "",
	        sp->jp.pid, sp->spec.env->name);
	/* Session spares: their own deadline runs (jail.h), so unused this
	 * long they go. One-shot: idle this long, a group above one shrinks. */
	unsigned age = sp->g->session ? POOL_SESSION_SPARE_AGE_S : POOL_SPARE_IDLE_S;
	long t = loop_timer_add(sp->born_ms + age * 1000u, on_expire, sp, &e);
	sp->expire_timer = t > 0 ? t : 0;
}

static unsigned live(const struct group *g)
{
	unsigned n = 0;
	for (size_t k = 0; k < POOL_SPARES_MAX; k++)
		n += g->sp[k].ready || g->sp[k].job;
	return n;
}

/* Start spares until the group has want of them, ready or being made. */
static void refill(void *ctx)
{
	struct group *g = ctx;
	struct err e = { 0 };
	g->refill_timer = 0;
	for (size_t k = 0; k < POOL_SPARES_MAX && !stopped && live(g) < g->want; k++) {
		struct spare *sp = &g->sp[k];
		if (sp->ready || sp->job)
			continue;
		sp->spec = g->spec;
		if (g->session) {
			if (jail_make_token(sp->token, sizeof sp->token, &e) < 0) {
				log_msg(LOG_DEBUG, "pool: no session spare for %s: %s",
				        g->env->name, e.msg);
				return;
			}
			sp->spec.agent_token = sp->token;
		}
		/* Off the loop, after every run and session waiting for a sandbox. */
		sp->job = spawner_submit(&sp->spec, SPAWN_SPARE, on_spawned, sp, &e);
		if (!sp->job) {
			log_msg(LOG_DEBUG, "pool: no spare for %s: %s", g->env->name, e.msg);
			return;
		}
	}
}

static void schedule(struct group *g, const struct jail_spec *s)
{
	struct err e = { 0 };
	g->spec = *s;
	g->spec.agent_token = NULL; /* (each session spare gets its own token) */
	if (!g->session)
		g->spec.warm = true; /* where the environment can (jail.h) */
	if (stopped || g->refill_timer)
		return;
	long t = loop_timer_add(loop_now_ms(), refill, g, &e);
	g->refill_timer = t > 0 ? t : 0;
}

/* A call found no spare ready while one was being made: keep one more, up
 * to the bound. */
static void missed(struct group *g)
{
	if (g->want < g->bound) {
		g->want++;
		log_msg(LOG_DEBUG, "pool: %s keeps up to %u %sspares now", g->env->name, g->want,
		        g->session ? "session " : "");
	}
}

/* A spare taken this young, with none left ready: calls come about as fast
 * as spares are made (a Python or Node spare's interpreter may still be
 * starting), so the next call is likely to find none. */
#define POOL_YOUNG_MS 1000u

static void taken(struct group *g, const struct spare *sp)
{
	if (loop_now_ms() - sp->born_ms >= POOL_YOUNG_MS)
		return;
	for (size_t k = 0; k < POOL_SPARES_MAX; k++)
		if (g->sp[k].ready && &g->sp[k] != sp)
			return;
	missed(g);
}

/* The oldest ready spare for s; ready ones for another project go. */
static struct spare *ready_for(struct group *g, const struct jail_spec *s)
{
	struct spare *best = NULL;
	for (size_t k = 0; k < POOL_SPARES_MAX; k++) {
		struct spare *sp = &g->sp[k];
		if (!sp->ready)
			continue;
		if (!same_spec(&sp->spec, s) ||
		    (g->session &&
		     loop_now_ms() - sp->born_ms > POOL_SESSION_SPARE_AGE_S * 1000u)) {
			discard(sp); /* another project, or too near its own deadline */
			continue;
		}
		if (!best || sp->born_ms < best->born_ms)
			best = sp;
	}
	return best;
}

bool pool_take_session(const struct jail_spec *s, struct jail_proc *p, char *token, size_t len)
{
	struct group *g = group_of(s->env, true);
	if (!g || !s->agent_token)
		return false;
	struct spare *sp = ready_for(g, s);
	if (!sp || strlen(sp->token) >= len)
		return false;
	taken(g, sp);
	loop_unwatch(sp->jp.pidfd);
	stop_expiry(sp);
	*p = sp->jp;
	memcpy(token, sp->token, strlen(sp->token) + 1);
	sp->ready = false;
	log_msg(LOG_DEBUG, "pool: session in %s takes a prepared sandbox (session spare %d taken)",
	        s->env->name, p->pid);
	return true;
}

bool pool_take(const struct jail_spec *s, struct jail_proc *p)
{
	struct group *g = group_of(s->env, false);
	if (!g || s->agent_token)
		return false;
	struct spare *sp = ready_for(g, s);
	if (!sp)
		return false;
	taken(g, sp);
	loop_unwatch(sp->jp.pidfd);
	stop_expiry(sp);
	*p = sp->jp;
	sp->ready = false;
	log_msg(LOG_DEBUG, "pool: run in %s takes a prepared sandbox (spare %d taken)",
	        s->env->name, p->pid);
	return true;
}

struct spawn_job *pool_take_pending(const struct jail_spec *s, spawn_done_cb *cb, void *ctx,
                                    char *token, size_t len)
{
	struct group *g = group_of(s->env, s->agent_token != NULL);
	if (!g)
		return NULL;
	/* None was ready but one is being made: calls come faster than one
	 * spare is made (the first call of an environment finds none at all). */
	if (live(g) > 0)
		missed(g);
	for (size_t k = 0; k < POOL_SPARES_MAX; k++) {
		struct spare *sp = &g->sp[k];
		if (!sp->job || !same_spec(&sp->spec, s))
			continue;
		if (s->agent_token) {
			if (!token || strlen(sp->token) >= len)
				return NULL;
			memcpy(token, sp->token, strlen(sp->token) + 1);
		}
		struct spawn_job *j = sp->job;
		sp->job = NULL;
		spawner_retarget(j, SPAWN_NOW, cb, ctx);
		log_msg(LOG_DEBUG, "pool: %s in %s takes the spare being made",
		        s->agent_token ? "session" : "run", s->env->name);
		return j;
	}
	return NULL;
}

void pool_refill(const struct jail_spec *s)
{
	if (disabled)
		return;
	struct group *g = group_of(s->env, s->agent_token != NULL);
	if (g)
		schedule(g, s);
}

static void discard_all(void)
{
	for (size_t i = 0; i < n_groups; i++) {
		if (groups[i].refill_timer)
			loop_timer_cancel(groups[i].refill_timer);
		groups[i].refill_timer = 0;
		for (size_t k = 0; k < POOL_SPARES_MAX; k++)
			discard(&groups[i].sp[k]);
	}
}

void pool_set_enabled(bool on)
{
	disabled = !on;
	if (!on)
		discard_all();
}

void pool_shutdown(void)
{
	stopped = true;
	discard_all();
	free(groups);
	groups = NULL;
	n_groups = 0;
}
