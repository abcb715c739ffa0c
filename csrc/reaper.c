/* reaper.c — see reaper.h. The one place a sandbox's end is waited for
 * once its owner is done with it (exec.c, session.c and pool.c bury). */
#include "reaper.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "loop.h"

struct grave {
	struct grave *next, *prev;
	struct jail_proc jp;
};

static struct grave *graves;
static int n_graves;

int reaper_count(void)
{
	return n_graves;
}

static void unlink_grave(struct grave *g)
{
	if (g->prev)
		g->prev->next = g->next;
	else
		graves = g->next;
	if (g->next)
		g->next->prev = g->prev;
	n_graves--;
}

static void on_pidfd(void *ctx, int fd, short revents)
{
	struct grave *g = ctx;
	(void)revents;
	int rc = jail_reap(&g->jp);
	if (rc == 0)
		return;
	if (rc < 0)
		log_msg(LOG_WARNING, "reaper: waitid on sandbox %d: %s", g->jp.pid,
		        strerror(errno));
	loop_unwatch(fd);
	jail_release(&g->jp);
	unlink_grave(g);
	free(g);
}

void reaper_bury(struct jail_proc *p)
{
	struct jail_proc jp = *p;
	struct err e;
	jail_proc_clear(p);
	/* Whoever owned it watched some of these; none is theirs any more. */
	const int fds[] = { jp.pidfd, jp.sync_fd, jp.code_fd, jp.out_fd, jp.err_fd };
	for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++)
		loop_unwatch(fds[i]);
	if (jp.pid <= 0 && jp.pidfd < 0)
		return;
	jail_kill(&jp);
	if (jail_reap(&jp) != 0) {
		jail_release(&jp); /* gone already (or waitid failed: nothing to wait for) */
		return;
	}
	struct grave *g = malloc(sizeof *g);
	if (g) {
		g->jp = jp;
		g->prev = NULL;
		g->next = graves;
		if (loop_watch(jp.pidfd, POLLIN, on_pidfd, g, &e) == 0) {
			if (graves)
				graves->prev = g;
			graves = g;
			n_graves++;
			return;
		}
		free(g);
	}
	/* No memory or no room on the loop: wait here. The init is SIGKILLed
	 * and the kernel is tearing its namespace down, so this is short. */
	if (jail_reap_wait(&jp) < 0)
		log_msg(LOG_WARNING, "reaper: waitid on sandbox %d: %s", jp.pid, strerror(errno));
}

void reaper_shutdown(void)
{
	while (graves) {
		struct grave *g = graves;
		loop_unwatch(g->jp.pidfd);
		if (jail_reap_wait(&g->jp) < 0)
			log_msg(LOG_WARNING, "reaper: waitid on sandbox %d: %s", g->jp.pid,
			        strerror(errno));
		unlink_grave(g);
		free(g);
	}
}
