/* log.c — see log.h. One write(2) per line so lines from a forked child
 * never interleave mid-line with the server's. */
#include "log.h"

#include <errno.h>
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

enum log_level log_get_level(void)
{
	return threshold;
}

void log_set_sink(log_sink_fn *fn, enum log_level min)
{
	sink = fn;
	sink_min = min;
	sink_pid = getpid();
}

void log_msg(enum log_level l, const char *fmt, ...)
{
	char line[1024];
	int n, saved = errno;
	va_list ap;

	bool to_sink = sink && l >= sink_min && !in_sink && getpid() == sink_pid;
	if (l < threshold && !to_sink)
		return;
	n = snprintf(line, sizeof line, "nix-sandbox-mcp: %s: ", names[l]);
	int head = n;
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
	va_end(ap);
	if (to_sink) {
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
	/* Best effort: a closed stderr must not take the server down. */
	ssize_t w = write(STDERR_FILENO, line, (size_t)n);
	(void)w;
	errno = saved;
}
