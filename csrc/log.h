/* log.h — the server's own log lines, to stderr (and later MCP notifications).
 *
 * Owns: the level threshold and the line format. Must not: write to stdout
 * (protocol only) or log code output or secrets.
 */
#ifndef NSM_LOG_H
#define NSM_LOG_H

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARNING, LOG_ERROR };

/* Parse "debug"|"info"|"warning"|"error"; returns -1 when unknown. */
int log_level_parse(const char *s);
void log_set_level(enum log_level l);
enum log_level log_get_level(void);
void log_msg(enum log_level l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
