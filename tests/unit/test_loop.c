/* Unit tests for csrc/loop.c: rounds and timer chains (a chain of steps,
 * each adding the next as a zero-delay timer, is spread over rounds with a
 * poll between them, so a descriptor that becomes ready is served before
 * the chain ends). */
#include <poll.h>
#include <stdio.h>
#include <unistd.h>

#include "loop.h"
#include "tap.h"

static int chain_left, chain_fired, fd_served, steps_before_fd = -1;

static void chain(void *ctx)
{
	(void)ctx;
	struct err e;
	chain_fired++;
	if (--chain_left > 0)
		loop_timer_add(loop_now_ms(), chain, NULL, &e);
}

static int slow_steps, slow_calls;
static void slow(void *ctx)
{
	struct err e;
	(void)ctx;
	slow_steps++;
	/* (A bound, so a loop that fires new timers in the same pass fails
	 * here instead of spinning forever.) */
	if (slow_steps < 5 && ++slow_calls < 1000)
		loop_timer_add(loop_now_ms(), slow, NULL, &e);
}

static void on_fd(void *ctx, int fd, short revents)
{
	char b[16];
	(void)ctx;
	(void)revents;
	if (read(fd, b, sizeof b) > 0 && steps_before_fd < 0)
		steps_before_fd = slow_steps;
	fd_served++;
}

/* A descriptor number reused within one round: the first callback closes
 * the second watched descriptor and a new one gets its number (as the
 * spawner's thread may open one at any time), watched anew. */
static int reuse_fd = -1, new_calls, second_calls;

static void on_new(void *ctx, int fd, short revents)
{
	(void)ctx;
	(void)fd;
	(void)revents;
	new_calls++;
}

static void on_second(void *ctx, int fd, short revents)
{
	(void)ctx;
	(void)fd;
	(void)revents;
	second_calls++;
}

static void on_first(void *ctx, int fd, short revents)
{
	struct err e;
	int q[2];
	char b[8];
	(void)ctx;
	(void)revents;
	if (read(fd, b, sizeof b) < 0)
		return;
	loop_unwatch(reuse_fd);
	close(reuse_fd);
	if (pipe(q) < 0)
		return;
	if (q[0] != reuse_fd) { /* (the lowest free number: usually it already) */
		if (dup2(q[0], reuse_fd) < 0)
			return;
		close(q[0]);
	}
	/* (q[1] stays open: the new pipe is not readable, no hang-up either) */
	loop_watch(reuse_fd, POLLIN, on_new, NULL, &e);
}

int main(void)
{
	struct err e;
	chain_left = 3;
	loop_timer_add(loop_now_ms(), chain, NULL, &e);
	loop_run_once(0, &e);
	TAP_OK(chain_fired == 1,
	       "a zero-delay timer added by a timer fires in the next round, not this one (%d)",
	       chain_fired);
	loop_run_once(0, &e);
	loop_run_once(0, &e);
	TAP_OK(chain_fired == 3, "a chain of three fires over three rounds (%d)", chain_fired);

	int p[2];
	if (pipe(p) < 0)
		return 1;
	loop_watch(p[0], POLLIN, on_fd, NULL, &e);
	loop_run_once(0, &e);
	loop_timer_add(loop_now_ms(), slow, NULL, &e);
	loop_run_once(0, &e); /* one step */
	if (write(p[1], "x", 1) != 1)
		return 1;
	for (int i = 0; i < 10 && slow_steps < 5; i++)
		loop_run_once(10, &e);
	TAP_OK(slow_steps == 5 && slow_calls == 4,
	       "five chained steps all ran, one per round (%d steps, %d timers added)", slow_steps,
	       slow_calls);
	TAP_OK(steps_before_fd >= 1 && steps_before_fd <= 2,
	       "a descriptor ready after the first step is served after at most one more, not "
	       "after all five (%d)",
	       steps_before_fd);
	{
		int a1[2], a2[2];
		if (pipe(a1) < 0 || pipe(a2) < 0)
			return 1;
		for (int i = 0; i < 8; i++) /* (a clean table) */
			loop_run_once(0, &e);
		reuse_fd = a2[0];
		loop_watch(a1[0], POLLIN, on_first, NULL, &e);
		loop_watch(a2[0], POLLIN, on_second, NULL, &e);
		if (write(a1[1], "x", 1) != 1 || write(a2[1], "y", 1) != 1)
			return 1;
		loop_run_once(100, &e);
		TAP_OK(new_calls == 0 && second_calls == 0,
		       "a descriptor number closed and reused by a new watch in the same round: "
		       "the new watch is not called with the old one's events (%d, %d)",
		       new_calls, second_calls);
		loop_run_once(0, &e);
		TAP_OK(new_calls == 0, "nor later: nothing is ready on it (%d)", new_calls);
		loop_unwatch(a1[0]);
		loop_unwatch(reuse_fd);
	}
	return TAP_DONE();
}
