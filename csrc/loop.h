/* loop.h — the server's single-threaded event loop.
 *
 * Owns: the set of watched descriptors and timers, and the poll(2) call.
 * Must not: know what any descriptor carries. Callbacks run one at a time on
 * the main thread; they may add or remove watches and timers (also their own).
 */
#ifndef NSM_LOOP_H
#define NSM_LOOP_H

#include <stdbool.h>
#include <stdint.h>
#include "err.h"

#define LOOP_MAX_FDS 2048
#define LOOP_MAX_TIMERS 1024

typedef void loop_fd_cb(void *ctx, int fd, short revents);
typedef void loop_timer_cb(void *ctx);

/* Monotonic milliseconds. */
uint64_t loop_now_ms(void);

/* Watch fd for events (POLLIN/POLLOUT); one watch per fd. */
int loop_watch(int fd, short events, loop_fd_cb *cb, void *ctx, struct err *e);
/* Change the events of an existing watch. */
int loop_modify(int fd, short events, struct err *e);
/* Stop watching fd (no-op when not watched). Does not close it. */
void loop_unwatch(int fd);

/* One-shot timer at an absolute loop_now_ms() deadline; returns an id > 0.
 * A timer added by a timer callback fires at the earliest in the next
 * round, after a poll: a chain of zero-delay timers lets the descriptors be
 * served between its steps. */
long loop_timer_add(uint64_t deadline_ms, loop_timer_cb *cb, void *ctx, struct err *e);
void loop_timer_cancel(long id);

/* Run one poll round (waits at most max_wait_ms, -1 = until an event or timer).
 * Returns 0, or -1 on an unrecoverable poll failure. */
int loop_run_once(int max_wait_ms, struct err *e);
/* Number of fds being watched (tests, leak checks). */
int loop_watch_count(void);

#endif
