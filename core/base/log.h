/*
 * Levelled logging with a module tag, one line per event, to stderr (which
 * systemd's journal collects). Callers pass the call/leg/source they are
 * about; secrets are never passed here. The level and SIP message tracing
 * can be changed while running (control socket, SIGHUP reload).
 */
#ifndef HF_LOG_H
#define HF_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

/* --- the recent lines, for the web's log page ----------------------------
 * The last LOG_RING_LINES lines written (as log_write formatted them, after
 * its level check) are kept in memory; readers copy them out under a
 * mutex, so any thread may read while others log. */
#define LOG_RING_LINES 2000
#define LOG_RING_TEXT 600

struct log_line {
	uint64_t seq;      /* 1, 2, 3 ... since the process started */
	int64_t time_ms;   /* unix ms */
	enum log_level level;
	char tag[16];
	char text[LOG_RING_TEXT]; /* the message, after "[tag] " */
};

/* Copies into out (oldest first, at most cap) the kept lines with seq >
 * since and level <= max_level; returns how many. *next (when not NULL)
 * becomes the seq to pass as since next time: the newest seq looked at,
 * so lines filtered out are not looked at again. */
size_t log_ring_read(uint64_t since, enum log_level max_level, struct log_line *out, size_t cap,
		     uint64_t *next);

#define log_err(tag, ...) log_write(LOG_ERROR, tag, __VA_ARGS__)
#define log_warn(tag, ...) log_write(LOG_WARN, tag, __VA_ARGS__)
#define log_info(tag, ...) log_write(LOG_INFO, tag, __VA_ARGS__)
#define log_debug(tag, ...) log_write(LOG_DEBUG, tag, __VA_ARGS__)

#endif
