/* spawner.c — see spawner.h.
 *
 * The thread and the loop share the job lists under one mutex; the thread
 * touches a job only between taking it off a queue and putting it on the
 * done list, and only the loop frees jobs. What jail_spawn() uses besides
 * its arguments is read-only after jail_init(), or the jail's own (its
 * fallback flags and the cgroup sequence are written by this thread
 * alone); its log lines go to stderr only (log.h: a worker thread does not
 * reach the client's log sink).
 *
 * If the thread cannot be started, jobs are spawned at once on the loop
 * (as before this module existed), and their callbacks still come from
 * the loop.
 */
#include "spawner.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "log.h"
#include "loop.h"
#include "reaper.h"

/* jail_child_main runs on this stack in the clone child until execve. */
#define SPAWNER_STACK (1u << 20)

struct spawn_job {
	struct spawn_job *next;
	struct jail_spec spec;
	char project_dir[PATH_MAX], project_mount[PATH_MAX];
	char token[JAIL_TOKEN_MAX + 1];
	spawn_done_cb *cb;
	void *ctx;
	bool abandoned;
	bool queued; /* on a queue, not yet taken by the thread */
	int rc;
	struct jail_proc proc;
	struct err e;
};

struct list {
	struct spawn_job *head, *tail;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static struct list queue[2]; /* by enum spawn_prio */
static struct list done;
static bool stopping;
static pthread_t thread;
static bool threaded;
static int efd = -1;
static int pending; /* queued, in hand or done but not handed over (loop only) */

static void push(struct list *l, struct spawn_job *j)
{
	j->next = NULL;
	if (l->tail)
		l->tail->next = j;
	else
		l->head = j;
	l->tail = j;
}

static struct spawn_job *pop(struct list *l)
{
	struct spawn_job *j = l->head;
	if (j) {
		l->head = j->next;
		if (!l->head)
			l->tail = NULL;
		j->next = NULL;
	}
	return j;
}

static bool unlink_job(struct list *l, struct spawn_job *j)
{
	for (struct spawn_job **p = &l->head, *prev = NULL; *p; prev = *p, p = &(*p)->next)
		if (*p == j) {
			*p = j->next;
			if (l->tail == j)
				l->tail = prev;
			j->next = NULL;
			return true;
		}
	return false;
}

static void run_job(struct spawn_job *j)
{
	j->e = (struct err){ 0, "", ERR_SERVER };
	j->rc = jail_spawn(&j->spec, &j->proc, &j->e);
}

/* Tell the loop (an eventfd counter: never blocks short of 2^64 - 1). */
static void wake_loop(void)
{
	uint64_t one = 1;
	while (write(efd, &one, sizeof one) < 0 && errno == EINTR)
		;
}

static void *thread_main(void *arg)
{
	(void)arg;
	log_off_sink();
	pthread_mutex_lock(&mu);
	for (;;) {
		struct spawn_job *j = NULL;
		while (!stopping && !(j = pop(&queue[SPAWN_NOW])) &&
		       !(j = pop(&queue[SPAWN_SPARE])))
			pthread_cond_wait(&cv, &mu);
		if (!j)
			break;
		j->queued = false;
		pthread_mutex_unlock(&mu);
		run_job(j);
		pthread_mutex_lock(&mu);
		push(&done, j);
		wake_loop();
	}
	pthread_mutex_unlock(&mu);
	return NULL;
}

static void free_job(struct spawn_job *j)
{
	pending--;
	free(j);
}

/* On the loop: hand every finished job to its owner. */
static void on_done(void *ctx, int fd, short revents)
{
	uint64_t n;
	(void)ctx;
	(void)revents;
	if (read(fd, &n, sizeof n) < 0 && errno != EAGAIN && errno != EINTR)
		log_msg(LOG_WARNING, "spawner: read eventfd: %s", strerror(errno));
	pthread_mutex_lock(&mu);
	struct spawn_job *list = done.head;
	done.head = done.tail = NULL;
	pthread_mutex_unlock(&mu);
	while (list) {
		struct spawn_job *j = list;
		list = j->next;
		/* (An earlier callback in this list may abandon a later job.) */
		if (j->abandoned) {
			if (j->rc == 0)
				reaper_bury(&j->proc);
			free_job(j);
			continue;
		}
		j->abandoned = true; /* handed over: abandon after this is a no-op */
		j->cb(j->ctx, j->rc, &j->proc, &j->e);
		free_job(j);
	}
}

int spawner_init(struct err *e)
{
	if ((efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0)
		return err_sys(e, errno, "spawner: eventfd");
	if (loop_watch(efd, POLLIN, on_done, NULL, e) < 0) {
		close(efd);
		efd = -1;
		return -1;
	}
	/* The thread takes no signal: main.c's signalfd gets them. (A
	 * sandbox's init sets its own mask: jail_child.c.) */
	sigset_t all, old;
	pthread_attr_t attr;
	sigfillset(&all);
	int r = pthread_attr_init(&attr);
	if (r == 0) {
		r = pthread_attr_setstacksize(&attr, SPAWNER_STACK);
		if (r == 0 && (r = pthread_sigmask(SIG_SETMASK, &all, &old)) == 0) {
			r = pthread_create(&thread, &attr, thread_main, NULL);
			pthread_sigmask(SIG_SETMASK, &old, NULL);
		}
		pthread_attr_destroy(&attr);
	}
	threaded = r == 0;
	if (!threaded)
		log_msg(LOG_WARNING,
		        "spawner: no thread (%s); sandboxes are made on the event loop, "
		        "which then answers nothing else meanwhile",
		        strerror(r));
	return 0;
}

static void copy_str(const char **dst, char *buf, size_t len, const char *src, bool *ok)
{
	if (!src)
		return;
	size_t n = strlen(src);
	if (n >= len) {
		*ok = false;
		return;
	}
	memcpy(buf, src, n + 1);
	*dst = buf;
}

struct spawn_job *spawner_submit(const struct jail_spec *s, enum spawn_prio prio, spawn_done_cb *cb,
                                 void *ctx, struct err *e)
{
	if (efd < 0) {
		err_set(e, EINVAL, "spawner: not started");
		return NULL;
	}
	struct spawn_job *j = calloc(1, sizeof *j);
	if (!j) {
		err_set(e, ENOMEM, "spawner: out of memory");
		return NULL;
	}
	bool ok = true;
	j->spec = *s;
	copy_str(&j->spec.project_dir, j->project_dir, sizeof j->project_dir, s->project_dir, &ok);
	copy_str(&j->spec.project_mount, j->project_mount, sizeof j->project_mount,
	         s->project_mount, &ok);
	copy_str(&j->spec.agent_token, j->token, sizeof j->token, s->agent_token, &ok);
	if (!ok) {
		free(j);
		err_set(e, ENAMETOOLONG, "spawner: a path or token is too long");
		return NULL;
	}
	j->cb = cb;
	j->ctx = ctx;
	jail_proc_clear(&j->proc);
	pending++;
	if (!threaded) {
		run_job(j);
		pthread_mutex_lock(&mu);
		push(&done, j);
		pthread_mutex_unlock(&mu);
		wake_loop();
		return j;
	}
	pthread_mutex_lock(&mu);
	j->queued = true;
	push(&queue[prio == SPAWN_SPARE ? SPAWN_SPARE : SPAWN_NOW], j);
	pthread_cond_signal(&cv);
	pthread_mutex_unlock(&mu);
	return j;
}

void spawner_retarget(struct spawn_job *j, enum spawn_prio prio, spawn_done_cb *cb, void *ctx)
{
	pthread_mutex_lock(&mu);
	j->cb = cb;
	j->ctx = ctx;
	if (j->queued && prio == SPAWN_NOW && unlink_job(&queue[SPAWN_SPARE], j))
		push(&queue[SPAWN_NOW], j);
	pthread_mutex_unlock(&mu);
}

void spawner_abandon(struct spawn_job *j)
{
	if (!j)
		return;
	pthread_mutex_lock(&mu);
	bool was_queued =
	    j->queued && (unlink_job(&queue[SPAWN_NOW], j) || unlink_job(&queue[SPAWN_SPARE], j));
	j->abandoned = true;
	pthread_mutex_unlock(&mu);
	if (was_queued)
		free_job(j);
}

int spawner_pending(void)
{
	return pending;
}

void spawner_shutdown(void)
{
	if (efd < 0)
		return;
	struct spawn_job *left[2];
	pthread_mutex_lock(&mu);
	stopping = true;
	left[0] = queue[SPAWN_NOW].head;
	left[1] = queue[SPAWN_SPARE].head;
	queue[0].head = queue[0].tail = queue[1].head = queue[1].tail = NULL;
	pthread_cond_signal(&cv);
	pthread_mutex_unlock(&mu);
	for (int i = 0; i < 2; i++)
		while (left[i]) {
			struct spawn_job *j = left[i];
			left[i] = j->next;
			free_job(j);
		}
	if (threaded) {
		int r = pthread_join(thread, NULL);
		if (r != 0)
			log_msg(LOG_WARNING, "spawner: join: %s", strerror(r));
		threaded = false;
	}
	/* Nobody takes these now: the reaper ends them (reaper_shutdown). */
	for (struct spawn_job *j = done.head, *next; j; j = next) {
		next = j->next;
		if (j->rc == 0)
			reaper_bury(&j->proc);
		free_job(j);
	}
	done.head = done.tail = NULL;
	loop_unwatch(efd);
	close(efd);
	efd = -1;
	stopping = false;
}
