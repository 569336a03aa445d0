/* log.h - one structured (logfmt) line per notable event, on stderr.
 *
 *   log_event(LOG_INFO, "listening", "transport=otlp_http addr=%s", addr);
 *   -> time=2026-11-25T16:30:00.123Z level=info event=listening transport=otlp_http addr=...
 *
 * Thread-safe: each line is written with one write(2). Values that may hold
 * spaces should be quoted by the caller with %s inside \"...\" after passing
 * them through log_quote().
 */
#ifndef LOUPE_LOG_H
#define LOUPE_LOG_H

#include <stddef.h>

typedef enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR } log_level;

/* Lines below this level are not written. Default LOG_INFO. */
void log_set_level(log_level level);

/* Writes one line; fmt (may be NULL) adds key=value pairs. */
void log_event(log_level level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Copies s into out as a logfmt-safe quoted value body (escapes " \ and
 * control characters; truncates to fit). Returns out. */
const char *log_quote(const char *s, char *out, size_t outlen);

#endif
