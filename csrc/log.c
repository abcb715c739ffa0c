/* log.c — see log.h. One write(2) per line so lines from a forked child
 * never interleave mid-line with the server's. */
#include "log.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <stdbool.h>
#include <sys/types.h>
#include <unistd.h>

static enum log_level threshold = LOG_INFO;
static log_sink_fn *sink;
static enum log_level sink_min;
static pid_t sink_pid;
static bool in_sink; /* a sink that logs must not recurse */
/* A worker thread's lines go to stderr only (log_off_sink). */
static _Thread_local bool no_sink_here;
static const char *const names[] = { "debug", "info", "warning", "error" };

int log_level_parse(const char *s)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

void log_set_level(enum log_level l)
{
	threshold = l;
}

void log_off_sink(void)
{
	no_sink_here = true;
}

void log_set_sink(log_sink_fn *fn, enum log_level min)
{
	sink = fn;
	sink_min = min;
	sink_pid = getpid();
}

/* Best effort, and never a wait: a client that does not read the server's
 * stderr pipe must not stall the server (and its deadlines) on a log
 * line. When stderr is a full pipe, lines are dropped and counted, and the
 * next line that fits says how many. POLLOUT on a pipe means at least
 * PIPE_BUF (4096) bytes fit, and a line is shorter: the write cannot block
 * then. A closed stderr must not take the server down either. */
static unsigned long dropped; /* (atomic: the spawner thread logs too) */

static void write_line(const char *line, size_t n)
{
	struct pollfd p = { STDERR_FILENO, POLLOUT, 0 };
	int r;
	while ((r = poll(&p, 1, 0)) < 0 && errno == EINTR)
		;
	if (r == 0) {
		__atomic_add_fetch(&dropped, 1, __ATOMIC_RELAXED);
		return;
	}
	unsigned long lost = __atomic_exchange_n(&dropped, 0, __ATOMIC_RELAXED);
	if (lost) {
		char note[96];
		int k = snprintf(
		    note, sizeof note,
		    "nix-sandbox-mcp: warning: %lu log line(s) dropped: stderr was full\n", lost);
		ssize_t w0 = write(STDERR_FILENO, note, (size_t)k);
		(void)w0;
		while ((r = poll(&p, 1, 0)) < 0 && errno == EINTR)
			;
		if (r == 0) {
			__atomic_add_fetch(&dropped, 1, __ATOMIC_RELAXED);
			return;
		}
	}
	ssize_t w = write(STDERR_FILENO, line, n);
	(void)w;
}

static bool to_sink(enum log_level l)
{
	return sink && l >= sink_min && !in_sink && !no_sink_here && getpid() == sink_pid;
}

bool log_wanted(enum log_level l)
{
	return l >= threshold || to_sink(l);
}

void log_msg(enum log_level l, const char *fmt, ...)
{
	char line[1024];
	int n, saved = errno;
	va_list ap;

	bool sink_too = to_sink(l);
	if (l < threshold && !sink_too)
		return;
	n = snprintf(line, sizeof line, "nix-sandbox-mcp: %s: ", names[l]);
	int head = n;
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
	va_end(ap);
	if (sink_too) {
		in_sink = true;
		sink(l, line + head);
		in_sink = false;
	}
	if (l < threshold) {
		errno = saved;
		return;
	}
	if (n >= (int)sizeof line - 1)
		n = (int)sizeof line - 2;
	line[n++] = '\n';
	write_line(line, (size_t)n);
	errno = saved;
}
