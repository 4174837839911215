/*
 * Levelled logging with a module tag, one line per event, to stderr (which
 * systemd's journal collects). Callers pass the call/leg/source they are
 * about; secrets are never passed here. The level and SIP message tracing
 * can be changed while running (control socket, SIGHUP reload).
 */
#ifndef HF_LOG_H
#define HF_LOG_H

#include <stdbool.h>

enum log_level { LOG_ERROR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG };

void log_set_level(enum log_level lvl);
enum log_level log_get_level(void);
/* Parses "error", "warn", "info", "debug"; -1 when unknown. */
int log_level_parse(const char *s);
const char *log_level_name(enum log_level lvl);

void log_set_sip_trace(bool on);
bool log_sip_trace(void);

void log_write(enum log_level lvl, const char *tag, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Writes a whole SIP message framed by a header line, when tracing is on. */
void log_sip_msg(bool incoming, const char *peer, const char *data, unsigned len);

#define log_err(tag, ...) log_write(LOG_ERROR, tag, __VA_ARGS__)
#define log_warn(tag, ...) log_write(LOG_WARN, tag, __VA_ARGS__)
#define log_info(tag, ...) log_write(LOG_INFO, tag, __VA_ARGS__)
#define log_debug(tag, ...) log_write(LOG_DEBUG, tag, __VA_ARGS__)

#endif
