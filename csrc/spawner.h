/* spawner.h — sandboxes made off the event loop.
 *
 * Owns: one thread that runs jail_spawn() for the jobs queued to it, one
 * at a time (a spawn costs a clone(2) with new namespaces, a cgroup and id
 * maps: 2-25 ms on a loaded machine), runs and sessions before spares; and
 * the eventfd on the loop that says a job is done. Must not: touch the
 * loop or another module's state from its thread: a job's spec is copied
 * in, and its sandbox is handed to its owner on the loop.
 *
 * The thread lives as long as the server: a sandbox's parent-death signal
 * (jail_child.c) is sent when the thread that created it ends, so
 * spawner_shutdown() stops it only after every owner let go.
 */
#ifndef NSM_SPAWNER_H
#define NSM_SPAWNER_H

#include "jail.h"

enum spawn_prio {
	SPAWN_NOW,   /* a run or a session call waits for it */
	SPAWN_SPARE, /* a spare (pool.c): after every SPAWN_NOW job queued */
};

struct spawn_job;

/* On the loop, once the job is done: rc as jail_spawn()'s (0, or -1 with e
 * filled; e->kind says whose failure it is). On 0, *p is the new sandbox,
 * now the callback's to keep or bury. */
typedef void spawn_done_cb(void *ctx, int rc, struct jail_proc *p, const struct err *e);

/* Start the thread and watch its eventfd. Start-up only. */
int spawner_init(struct err *e);
/* Queue a spawn of *s (copied, with the strings it points to). NULL with
 * e filled when it cannot be queued; else cb runs later, from the loop,
 * unless the job is abandoned first. Never calls cb from inside. */
struct spawn_job *spawner_submit(const struct jail_spec *s, enum spawn_prio prio, spawn_done_cb *cb,
                                 void *ctx, struct err *e);
/* Hand the job to another owner (a spare claimed by a run: pool.h): cb
 * and ctx replace the old ones, and a job still queued moves to prio's
 * queue. */
void spawner_retarget(struct spawn_job *j, enum spawn_prio prio, spawn_done_cb *cb, void *ctx);
/* The owner no longer wants it: cb never runs; a sandbox made for it goes
 * to the reaper (reaper.h). */
void spawner_abandon(struct spawn_job *j);
/* Jobs queued or in hand (tests, shutdown). */
int spawner_pending(void);
/* The loop has stopped: abandon what is queued, wait for the job in
 * hand, bury every sandbox nobody took, stop the thread. */
void spawner_shutdown(void);

#endif
