/* log.c — see log.h. One write(2) per line so lines from a forked child
 * never interleave mid-line with the server's. */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static enum log_level threshold = LOG_INFO;
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

void log_msg(enum log_level l, const char *fmt, ...)
{
	char line[1024];
	int n, saved = errno;
	va_list ap;

	if (l < threshold)
		return;
	n = snprintf(line, sizeof line, "nix-sandbox-mcp: %s: ", names[l]);
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof line - 1)
		n = (int)sizeof line - 2;
	line[n++] = '\n';
	/* Best effort: a closed stderr must not take the server down. */
	ssize_t w = write(STDERR_FILENO, line, (size_t)n);
	(void)w;
	errno = saved;
}
