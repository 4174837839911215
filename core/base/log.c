/*
 * Logging (see log.h). The level and trace switches are atomics because any
 * thread may log; each line is formatted into a local buffer and written
 * with one write(2) so lines from different threads never interleave.
 */
#include "log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static atomic_int cur_level = LOG_INFO;
static atomic_bool sip_trace;

static const char *const names[] = { "error", "warn", "info", "debug" };

void log_set_level(enum log_level lvl)
{
	atomic_store(&cur_level, (int)lvl);
}

enum log_level log_get_level(void)
{
	return (enum log_level)atomic_load(&cur_level);
}

int log_level_parse(const char *s)
{
	for (int i = 0; i <= LOG_DEBUG; i++)
		if (strcasecmp(s, names[i]) == 0)
			return i;
	if (strcasecmp(s, "warning") == 0)
		return LOG_WARN;
	return -1;
}

const char *log_level_name(enum log_level lvl)
{
	return (unsigned)lvl <= LOG_DEBUG ? names[lvl] : "?";
}

void log_set_sip_trace(bool on)
{
	atomic_store(&sip_trace, on);
}

bool log_sip_trace(void)
{
	return atomic_load(&sip_trace);
}

static size_t stamp(char *buf, size_t cap)
{
	struct timeval tv;
	struct tm tm;
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	size_t n = strftime(buf, cap, "%Y-%m-%dT%H:%M:%S", &tm);
	int m = snprintf(buf + n, cap - n, ".%03dZ", (int)(tv.tv_usec / 1000));
	return n + (m > 0 ? (size_t)m : 0);
}

static void write_all(const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(STDERR_FILENO, p, n);
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

void log_write(enum log_level lvl, const char *tag, const char *fmt, ...)
{
	if ((int)lvl > atomic_load(&cur_level))
		return;
	char line[1024];
	size_t n = stamp(line, sizeof(line));
	int m = snprintf(line + n, sizeof(line) - n, " %-5s [%s] ",
			 log_level_name(lvl), tag);
	if (m > 0)
		n += (size_t)m;
	va_list ap;
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	va_end(ap);
	if (m > 0)
		n += (size_t)m;
	if (n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	/* Keep one event on one line even if a peer sent us CR/LF. */
	for (size_t i = 0; i < n; i++)
		if (line[i] == '\n' || line[i] == '\r')
			line[i] = ' ';
	line[n++] = '\n';
	write_all(line, n);
}

/* The first secret marker in [p, end), in any case: "inline:" (an SDES
 * key follows) or "response=" (a digest response follows: with the nonce
 * beside it, it is an offline dictionary attack on the password). *mlen
 * is the marker's length; NULL when none. */
static const char *find_secret(const char *p, const char *end, size_t *mlen)
{
	for (; end - p >= 7; p++) {
		if ((*p == 'i' || *p == 'I') && strncasecmp(p, "inline:", 7) == 0) {
			*mlen = 7;
			return p;
		}
		if ((*p == 'r' || *p == 'R') && end - p >= 9 && strncasecmp(p, "response=", 9) == 0) {
			*mlen = 9;
			return p;
		}
	}
	return NULL;
}

void log_sip_msg(bool incoming, const char *peer, const char *data, unsigned len)
{
	if (!log_sip_trace())
		return;
	char head[160];
	size_t n = stamp(head, sizeof(head));
	int m = snprintf(head + n, sizeof(head) - n, " trace [sip] %s %s (%u bytes)\n",
			 incoming ? "<<< from" : ">>> to", peer, len);
	if (m > 0)
		n += (size_t)m;
	if (n >= sizeof(head))
		n = sizeof(head) - 1;
	write_all(head, n);
	/* SDES keys (a=crypto ... inline:KEY) and digest responses
	 * (Authorization: ... response="...") are secrets: the trace shows
	 * everything else of the message, those values as '*'. Markers are
	 * matched in any case, as the parsers accept them. */
	const char *p = data, *end = data + len;
	while (p < end) {
		size_t mlen = 0;
		const char *k = find_secret(p, end, &mlen);
		if (!k) {
			write_all(p, (size_t)(end - p));
			break;
		}
		k += mlen;
		write_all(p, (size_t)(k - p));
		const char *e = k;
		if (mlen == 9 && e < end && *e == '"') { /* quoted: up to the closing quote */
			e++;
			while (e < end && *e != '"' && *e != '\r' && *e != '\n')
				e++;
			if (e < end && *e == '"')
				e++;
		} else {
			while (e < end && *e != '|' && *e != ';' && *e != ' ' && *e != ',' &&
			       *e != '\r' && *e != '\n')
				e++;
		}
		static const char stars[] = "********";
		write_all(stars, sizeof(stars) - 1);
		p = e;
	}
	write_all("\n", 1);
}
