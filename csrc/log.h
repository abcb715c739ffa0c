/* log.h — the server's own log lines, to stderr (and later MCP notifications).
 *
 * Owns: the level threshold and the line format. Must not: write to stdout
 * (protocol only) or log code output or secrets.
 */
#ifndef NSM_LOG_H
#define NSM_LOG_H

#include <stdbool.h>

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARNING, LOG_ERROR };

/* Parse "debug"|"info"|"warning"|"error"; returns -1 when unknown. */
int log_level_parse(const char *s);
void log_set_level(enum log_level l);
void log_msg(enum log_level l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Whether log_msg(l, ...) would write anywhere (stderr or the sink): lets
 * a caller skip building a message nobody reads. */
bool log_wanted(enum log_level l);

/* A second destination for log lines at or above `min` (MCP
 * notifications/message once the client asked for them with
 * logging/setLevel). Only the process that installed it uses it: a forked
 * sandbox child logging before its exec never writes protocol. NULL removes. */
typedef void log_sink_fn(enum log_level l, const char *msg);
void log_set_sink(log_sink_fn *fn, enum log_level min);
/* The calling thread's lines go to stderr only, never to the sink (a
 * worker thread: spawner.c; the sink writes the loop's protocol state). */
void log_off_sink(void);

#endif
