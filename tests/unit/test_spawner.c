/* Unit tests for csrc/spawner.c, with jail_spawn() replaced by a stub that
 * blocks until the test opens a gate (a slow spawn), so what the loop does
 * meanwhile can be seen: it keeps serving timers; callbacks come from the
 * loop only, never from inside spawner_submit; runs go before spares;
 * an abandoned job never calls back, and a sandbox made for it is buried;
 * the spec's strings are copied; spawns happen on the spawner's thread;
 * shutdown buries what nobody took; with no thread (pthread_create
 * failed), spawns run on the loop's thread and still call back from the
 * loop only. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "jail.h"
#include "reaper.h"
#include "tap.h"

/* ---- stubs of what spawner.c calls ---- */
static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static int gate;    /* spawns allowed to finish */
static int in_hand; /* spawns waiting at the gate */
static unsigned order[32];
static int n_order;
static char seen_token[64], seen_dir[64];
static bool spawn_on_main;
static pthread_t main_thread;

int jail_spawn(const struct jail_spec *s, struct jail_proc *p, struct err *e)
{
	pthread_mutex_lock(&gate_mu);
	in_hand++;
	pthread_cond_broadcast(&gate_cv);
	while (gate == 0)
		pthread_cond_wait(&gate_cv, &gate_mu);
	gate--;
	in_hand--;
	if (n_order < 32)
		order[n_order++] = s->deadline_s;
	if (pthread_equal(pthread_self(), main_thread))
		spawn_on_main = true;
	if (s->agent_token)
		snprintf(seen_token, sizeof seen_token, "%s", s->agent_token);
	if (s->project_dir)
		snprintf(seen_dir, sizeof seen_dir, "%s", s->project_dir);
	pthread_mutex_unlock(&gate_mu);
	if (s->deadline_s == 99)
		return err_set(e, EPERM, "refused by the stub"), err_kernel(e);
	p->pid = 1000 + (int)s->deadline_s;
	return 0;
}

void jail_proc_clear(struct jail_proc *p)
{
	memset(p, 0, sizeof *p);
	p->pid = -1;
}

static int buried[32], n_buried;
void reaper_bury(struct jail_proc *p)
{
	if (n_buried < 32)
		buried[n_buried++] = p->pid;
	p->pid = -1;
}

/* pthread_create as spawner.c sees it: fails on demand (the no-thread
 * fallback). */
static bool fail_thread;
static int test_pthread_create(pthread_t *th, const pthread_attr_t *a, void *(*fn)(void *),
                               void *arg)
{
	return fail_thread ? EAGAIN : pthread_create(th, a, fn, arg);
}
#define pthread_create test_pthread_create
#include "../../csrc/spawner.c"
#undef pthread_create

/* ---- the test ---- */
static int calls[32], rcs[32], n_calls;
static enum err_kind kinds[32];
static char msgs[32][256];
static bool in_submit;
static bool called_in_submit;

static void on_job(void *ctx, int rc, struct jail_proc *p, const struct err *e)
{
	if (in_submit)
		called_in_submit = true;
	if (n_calls < 32) {
		kinds[n_calls] = e->kind;
		snprintf(msgs[n_calls], sizeof msgs[n_calls], "%s", e->msg);
		calls[n_calls] = rc == 0 ? p->pid : (int)(intptr_t)ctx;
		rcs[n_calls++] = rc;
	}
	if (rc == 0)
		reaper_bury(p); /* (the owner's: counted as buried below) */
}

static int claimed_ctx, claimed_pid;
static void on_claimed(void *ctx, int rc, struct jail_proc *p, const struct err *e)
{
	(void)e;
	claimed_ctx = (int)(intptr_t)ctx;
	claimed_pid = rc == 0 ? p->pid : -1;
	if (rc == 0)
		reaper_bury(p);
}

static struct spawn_job *submit(unsigned id, enum spawn_prio prio)
{
	struct err e;
	struct jail_spec s = { .deadline_s = id };
	in_submit = true;
	struct spawn_job *j = spawner_submit(&s, prio, on_job, (void *)(intptr_t)id, &e);
	in_submit = false;
	return j;
}

static void open_gate(int n)
{
	pthread_mutex_lock(&gate_mu);
	gate += n;
	pthread_cond_broadcast(&gate_cv);
	pthread_mutex_unlock(&gate_mu);
}

static void *open_later(void *arg)
{
	struct timespec ts = { 0, 50000000 };
	(void)arg;
	nanosleep(&ts, NULL);
	open_gate(1);
	return NULL;
}

static void wait_in_hand(void)
{
	pthread_mutex_lock(&gate_mu);
	while (in_hand == 0)
		pthread_cond_wait(&gate_cv, &gate_mu);
	pthread_mutex_unlock(&gate_mu);
}

static void run_until_calls(int n)
{
	struct err e;
	for (int i = 0; i < 200 && n_calls < n; i++)
		loop_run_once(10, &e);
}

static int timer_fired;
static void on_timer(void *ctx)
{
	(void)ctx;
	timer_fired++;
}

static bool was_buried(int pid)
{
	for (int i = 0; i < n_buried; i++)
		if (buried[i] == pid)
			return true;
	return false;
}

int main(void)
{
	struct err e;
	main_thread = pthread_self();
	TAP_OK(spawner_init(&e) == 0, "the spawner starts");

	/* A slow spawn does not hold the loop. */
	TAP_OK(submit(1, SPAWN_NOW) != NULL, "a job is queued");
	wait_in_hand();
	loop_timer_add(loop_now_ms(), on_timer, NULL, &e);
	loop_run_once(100, &e);
	TAP_OK(timer_fired == 1 && n_calls == 0,
	       "while the spawn is in hand, the loop serves a timer (%d) and no callback came (%d)",
	       timer_fired, n_calls);

	/* Runs before spares. */
	TAP_OK(submit(2, SPAWN_SPARE) != NULL && submit(3, SPAWN_NOW) != NULL, "two more queued");
	TAP_OK(spawner_pending() == 3, "three jobs pending (%d)", spawner_pending());
	open_gate(3);
	run_until_calls(3);
	TAP_OK(n_calls == 3 && order[0] == 1 && order[1] == 3 && order[2] == 2,
	       "spawned in the order 1, 3, 2: a run queued after a spare goes first (%u %u %u)",
	       order[0], order[1], order[2]);
	TAP_OK(calls[0] == 1001 && calls[1] == 1003 && calls[2] == 1002,
	       "each callback gets its own sandbox (%d %d %d)", calls[0], calls[1], calls[2]);
	TAP_OK(!called_in_submit, "no callback runs inside spawner_submit");
	TAP_OK(!spawn_on_main, "every spawn ran on the spawner's thread");
	TAP_OK(spawner_pending() == 0, "none pending once handed over (%d)", spawner_pending());

	/* Abandoned while queued: never spawned, never called back. */
	n_order = n_calls = 0;
	struct spawn_job *a = submit(4, SPAWN_NOW);
	wait_in_hand();
	struct spawn_job *b = submit(5, SPAWN_NOW);
	spawner_abandon(b);
	/* Abandoned in hand: its sandbox is buried, no callback. */
	spawner_abandon(a);
	open_gate(2);
	for (int i = 0; i < 20; i++)
		loop_run_once(10, &e);
	TAP_OK(n_calls == 0, "abandoned jobs never call back (%d)", n_calls);
	TAP_OK(n_order == 1 && order[0] == 4, "a job abandoned while queued is never spawned (%d)",
	       n_order);
	TAP_OK(was_buried(1004), "the sandbox made for a job abandoned in hand is buried");
	TAP_OK(spawner_pending() == 0, "none pending (%d)", spawner_pending());
	pthread_mutex_lock(&gate_mu);
	gate = 0; /* (the second opening was not used) */
	pthread_mutex_unlock(&gate_mu);

	/* A refusal comes back with its rc and message. */
	n_calls = 0;
	submit(99, SPAWN_NOW);
	open_gate(1);
	run_until_calls(1);
	TAP_OK(n_calls == 1 && rcs[0] == -1 && calls[0] == 99 && kinds[0] == ERR_KERNEL &&
	           !strcmp(msgs[0], "refused by the stub"),
	       "a refused spawn calls back -1 with the kernel's kind and message (%d, %d, %s)",
	       rcs[0], (int)kinds[0], msgs[0]);

	/* The spec's strings are copied at submit. */
	char tok[8] = "abc123", dir[16] = "/srv/proj";
	struct jail_spec s = { .deadline_s = 6, .agent_token = tok, .project_dir = dir };
	n_calls = 0;
	spawner_submit(&s, SPAWN_NOW, on_job, NULL, &e);
	memcpy(tok, "zzzzzz", 6);
	memcpy(dir, "/elsewhere", 11);
	open_gate(1);
	run_until_calls(1);
	TAP_OK(strcmp(seen_token, "abc123") == 0 && strcmp(seen_dir, "/srv/proj") == 0,
	       "the token and project path are the caller's at submit (%s, %s)", seen_token,
	       seen_dir);

	/* A spare claimed by a run (pool_take_pending): its new owner is
	 * called back, and it goes before the spares queued before it. */
	n_calls = n_order = 0;
	submit(10, SPAWN_NOW);
	wait_in_hand();
	submit(11, SPAWN_SPARE);
	struct spawn_job *c = submit(12, SPAWN_SPARE);
	spawner_retarget(c, SPAWN_NOW, on_claimed, (void *)(intptr_t)77);
	open_gate(3);
	run_until_calls(2);
	for (int i = 0; i < 100 && claimed_ctx == 0; i++)
		loop_run_once(10, &e);
	TAP_OK(n_order == 3 && order[1] == 12 && order[2] == 11,
	       "a claimed spare moves ahead of the spare queued before it (%u %u %u)", order[0],
	       order[1], order[2]);
	TAP_OK(claimed_ctx == 77 && claimed_pid == 1012 && n_calls == 2,
	       "its new owner gets it (ctx %d, pid %d), not the old one (%d calls)", claimed_ctx,
	       claimed_pid, n_calls);

	/* Shutdown while a spawn is in hand and another is queued: the
	 * queued one is dropped, the one in hand finishes (the gate opens
	 * 50 ms in) and its sandbox, which nobody took, is buried. */
	n_calls = 0;
	submit(7, SPAWN_NOW);
	wait_in_hand();
	submit(8, SPAWN_SPARE);
	pthread_t opener;
	pthread_create(&opener, NULL, open_later, NULL);
	spawner_shutdown();
	TAP_OK(was_buried(1007) && n_calls == 0,
	       "shutdown buries a sandbox nobody took, without a callback");
	pthread_join(opener, NULL);
	TAP_OK(!was_buried(1008) && spawner_pending() == 0,
	       "a job still queued at shutdown is dropped (%d pending)", spawner_pending());

	/* No thread: the fallback spawns on the loop's thread. */
	fail_thread = true;
	spawn_on_main = false;
	TAP_OK(spawner_init(&e) == 0 && !threaded, "without a thread the spawner still starts");
	open_gate(2);
	n_calls = 0;
	called_in_submit = false;
	struct spawn_job *nj = submit(21, SPAWN_NOW);
	TAP_OK(nj && spawn_on_main && !called_in_submit && n_calls == 0,
	       "a spawn runs at once on the loop's thread, its callback not inside submit");
	run_until_calls(1);
	TAP_OK(n_calls == 1 && calls[0] == 1021 && rcs[0] == 0,
	       "its callback comes from the loop (%d)", n_calls ? calls[0] : -1);
	nj = submit(22, SPAWN_SPARE);
	spawner_abandon(nj);
	for (int i = 0; i < 5; i++)
		loop_run_once(10, &e);
	TAP_OK(n_calls == 1 && was_buried(1022) && spawner_pending() == 0,
	       "an abandoned job never calls back and its sandbox is buried");
	spawner_shutdown();
	return TAP_DONE();
}
