/* loop.c — poll(2)-based loop; see loop.h.
 *
 * Fixed-size tables (LOOP_MAX_FDS, LOOP_MAX_TIMERS): the server's fan-out is
 * bounded by max sessions and in-flight runs, so a full table is a request
 * error, never a reason to grow without bound.
 */
#include "loop.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <time.h>

struct watch {
	int fd;
	short events;
	loop_fd_cb *cb;
	void *ctx;
	uint64_t gen; /* which watch of this fd number (loop_run_once) */
};

struct timer {
	long id;
	uint64_t deadline;
	loop_timer_cb *cb;
	void *ctx;
};

static struct watch watches[LOOP_MAX_FDS];
static int n_watches;
static struct timer timers[LOOP_MAX_TIMERS];
static int n_timers;
static long next_timer_id = 1;
static uint64_t next_gen = 1;

uint64_t loop_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int find_watch(int fd)
{
	for (int i = 0; i < n_watches; i++)
		if (watches[i].fd == fd)
			return i;
	return -1;
}

int loop_watch(int fd, short events, loop_fd_cb *cb, void *ctx, struct err *e)
{
	if (fd < 0)
		return err_set(e, EBADF, "loop: watch of invalid fd %d", fd);
	if (find_watch(fd) >= 0)
		return err_set(e, EEXIST, "loop: fd %d already watched", fd);
	if (n_watches == LOOP_MAX_FDS)
		return err_set(e, EMFILE, "loop: %d watches in use", LOOP_MAX_FDS);
	watches[n_watches++] = (struct watch){ fd, events, cb, ctx, next_gen++ };
	return 0;
}

int loop_modify(int fd, short events, struct err *e)
{
	int i = find_watch(fd);
	if (i < 0)
		return err_set(e, ENOENT, "loop: fd %d not watched", fd);
	watches[i].events = events;
	return 0;
}

void loop_unwatch(int fd)
{
	int i = find_watch(fd);
	if (i < 0)
		return;
	watches[i] = watches[--n_watches];
}

int loop_watch_count(void)
{
	return n_watches;
}

long loop_timer_add(uint64_t deadline_ms, loop_timer_cb *cb, void *ctx, struct err *e)
{
	if (n_timers == LOOP_MAX_TIMERS)
		return err_set(e, ENOSPC, "loop: %d timers in use", LOOP_MAX_TIMERS);
	timers[n_timers] = (struct timer){ next_timer_id++, deadline_ms, cb, ctx };
	return timers[n_timers++].id;
}

void loop_timer_cancel(long id)
{
	for (int i = 0; i < n_timers; i++)
		if (timers[i].id == id) {
			timers[i] = timers[--n_timers];
			return;
		}
}

/* Fire every timer that is due. A callback may add or cancel timers, so the
 * scan restarts after each one instead of trusting indices. */
static void fire_due_timers(void)
{
	long last = next_timer_id - 1; /* later ones wait for the next round */
	for (;;) {
		uint64_t now = loop_now_ms();
		int due = -1;
		for (int i = 0; i < n_timers; i++)
			if (timers[i].deadline <= now && timers[i].id <= last &&
			    (due < 0 || timers[i].deadline < timers[due].deadline))
				due = i;
		if (due < 0)
			return;
		struct timer t = timers[due];
		timers[due] = timers[--n_timers];
		t.cb(t.ctx);
	}
}

int loop_run_once(int max_wait_ms, struct err *e)
{
	struct pollfd pfds[LOOP_MAX_FDS];
	uint64_t gens[LOOP_MAX_FDS];
	int n = n_watches;
	int timeout = max_wait_ms;

	for (int i = 0; i < n_timers; i++) {
		uint64_t now = loop_now_ms();
		int wait = timers[i].deadline <= now ? 0
		                                     : (int)(timers[i].deadline - now > 86400000u
		                                                 ? 86400000u
		                                                 : timers[i].deadline - now);
		if (timeout < 0 || wait < timeout)
			timeout = wait;
	}
	for (int i = 0; i < n; i++) {
		pfds[i] = (struct pollfd){ .fd = watches[i].fd, .events = watches[i].events };
		gens[i] = watches[i].gen;
	}

	int r = poll(pfds, (nfds_t)n, timeout);
	if (r < 0) {
		if (errno == EINTR)
			return 0;
		return err_sys(e, errno, "loop: poll");
	}
	/* Dispatch by fd, re-checking the watch each time: an earlier callback
	 * may have removed (and closed) a later descriptor, and its number may
	 * since belong to another one (the spawner's thread opens descriptors
	 * at any time), watched anew: what poll said was about the old one. */
	for (int i = 0; i < n && r > 0; i++) {
		if (!pfds[i].revents)
			continue;
		r--;
		int w = find_watch(pfds[i].fd);
		if (w < 0 || watches[w].gen != gens[i])
			continue;
		watches[w].cb(watches[w].ctx, pfds[i].fd, pfds[i].revents);
	}
	fire_due_timers();
	return 0;
}
