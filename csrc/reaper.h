/* reaper.h — sandboxes no one waits for any more.
 *
 * Owns: every sandbox whose run was answered, cancelled or discarded while
 * its init was still alive, from the moment its owner lets go (it is
 * SIGKILLed then) until the kernel has torn it down: its pidfd is watched
 * on the loop, and when readable init is reaped and the sandbox released
 * (descriptors closed, cgroups removed). At exit, reaper_shutdown() reaps
 * every one left, blocking. Must not: report anything: a buried sandbox has
 * no result and no client.
 */
#ifndef NSM_REAPER_H
#define NSM_REAPER_H

#include "jail.h"

/* Take *p (left cleared, as jail_proc_clear): every watch of its
 * descriptors off the loop, the sandbox killed, reaped and released now if
 * it is gone already, else when it is. */
void reaper_bury(struct jail_proc *p);
/* Reap and release every buried sandbox (the loop has stopped). */
void reaper_shutdown(void);
/* Sandboxes buried and not reaped yet (tests, shutdown). */
int reaper_count(void);

#endif
