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
	return TAP_DONE();
}
