/* pool.h — sandboxes prepared ahead of their code.
 *
 * Owns: at most one spare sandbox per environment, spawned after that
 * environment's first one-shot run and again after each take, so a run finds
 * its namespaces, mounts and id maps already made and only sends the code
 * (the jail's init waits for it: jail.h), and where the environment can,
 * its interpreter already started (jail.h, "Warm start"). Each spare serves
 * one run. Must not: run code, read output or keep a spare whose project
 * differs from the request's.
 */
#ifndef NSM_POOL_H
#define NSM_POOL_H

#include <stdbool.h>
#include "jail.h"

/* Move a ready spare for this spec into *p (then owned by the caller).
 * False when there is none: spawn as usual. */
bool pool_take(const struct jail_spec *s, struct jail_proc *p);
/* Kill and reap a sandbox that pool_take gave out but that did not accept
 * its code (exec.c): waits the few milliseconds its teardown takes. */
void pool_discard(struct jail_proc *p);
/* A run with this spec ended and its result was sent: prepare the next
 * spare from the loop, while the client reads the result (spawning costs
 * the server a clone(2) with new namespaces, so it must not delay a run). */
void pool_refill(const struct jail_spec *s);
/* On by default; the jail's own test harness turns it off to count its
 * sandboxes exactly. Turning it off discards the spares. */
void pool_set_enabled(bool on);
/* Kill and reap every spare (shutdown, tests). */
void pool_shutdown(void);

#endif
