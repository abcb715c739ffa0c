/* pool.h — sandboxes prepared ahead of their code.
 *
 * Owns: at most one spare sandbox per environment for one-shot runs and
 * one for sessions, spawned after that environment's first one-shot run (or
 * session) and again after each take, so a run finds
 * its namespaces, mounts and id maps already made and only sends the code
 * (the jail's init waits for it: jail.h), and where the environment can,
 * its interpreter already started (jail.h, "Warm start"). Each spare serves
 * one run. Must not: run code, read output or keep a spare whose project
 * differs from the request's.
 */
#ifndef NSM_POOL_H
#define NSM_POOL_H

#include <stdbool.h>
#include "env.h"
#include "jail.h"
#include "spawner.h"

/* Move a ready spare for this spec into *p (then owned by the caller).
 * False when there is none: spawn as usual. */
bool pool_take(const struct jail_spec *s, struct jail_proc *p);
/* A session sandbox: move a ready session spare for this spec (the token
 * aside) into *p and its token into token[len]. False when there is none. */
bool pool_take_session(const struct jail_spec *s, struct jail_proc *p, char *token, size_t len);
/* No spare is ready, but one for this spec is being made (back-to-back
 * calls): its job, now the caller's (cb and ctx as for spawner_submit,
 * moved ahead of other spares); for a session spec (agent_token set) its
 * token goes to token[len]. NULL when there is none. */
struct spawn_job *pool_take_pending(const struct jail_spec *s, spawn_done_cb *cb, void *ctx,
                                    char *token, size_t len);
/* The most spares one environment keeps of one kind (one-shot, session):
 * its warm_pool, at most POOL_SPARES_MAX (config.nix bounds it too). */
#define POOL_SPARES_MAX 8u
unsigned pool_bound(const struct env_entry *env);
/* An extra one-shot spare unused this long goes (pool.c). */
#ifndef POOL_SPARE_IDLE_S
#define POOL_SPARE_IDLE_S 60u
#endif
/* Session sandboxes' own deadline gets this much more, and a session spare
 * unused this long is discarded (pool.c). The integration tests build a
 * server with a few seconds, to see it go. */
#ifndef POOL_SESSION_SPARE_AGE_S
#define POOL_SESSION_SPARE_AGE_S 300u
#endif
/* A run with this spec ended and its result was sent, or a session's
 * sandbox started (spec with an agent_token): have the spawner make the
 * next spare, after any run waiting for a sandbox, while the client reads
 * the result. */
void pool_refill(const struct jail_spec *s);
/* On by default; the jail's own test harness turns it off to count its
 * sandboxes exactly. Turning it off discards the spares. */
void pool_set_enabled(bool on);
/* Kill and reap every spare (shutdown, tests). */
void pool_shutdown(void);

#endif
