/*
 * Logging (see log.h). The level and trace switches are atomics because any
 * thread may log; each line is formatted into a local buffer and written
 * with one write(2) so lines from different threads never interleave.
 * What a peer sent (a User-Agent, a display name) ends up in log lines, so
 * control bytes are written as \xNN: a CR/LF cannot forge a line and an
 * ESC cannot drive the terminal of whoever reads the log.
 * The last lines are also kept in a ring (log_ring_add, below) for the
 * web's log page; it takes the line log_write formatted, so how a line is
 * formatted stays in one place.
 */
#include "log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
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

/* Copies in to out with every byte below 0x20 and 0x7f as \xNN (in a
 * SIP trace, CR LF and LF stay: they are the message's structure). Stops
 * before a byte that would not fit whole; returns the bytes written and
 * sets *used to the input consumed. */
static size_t escape_ctl(char *out, size_t cap, const char *in, size_t n, bool trace,
			 size_t *used)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0, i = 0;
	for (; i < n; i++) {
		unsigned char c = (unsigned char)in[i];
		bool keep = c >= 0x20 && c != 0x7f;
		if (trace && (c == '\n' || (c == '\r' && i + 1 < n && in[i + 1] == '\n')))
			keep = true;
		if (keep) {
			if (o + 1 > cap)
				break;
			out[o++] = (char)c;
			continue;
		}
		if (o + 4 > cap)
			break;
		out[o++] = '\\';
		out[o++] = 'x';
		out[o++] = hex[c >> 4];
		out[o++] = hex[c & 15];
	}
	if (used)
		*used = i;
	return o;
}

/* --- the ring -------------------------------------------------------------
 * A mutex, not a lock-free ring: a line costs one uncontended lock and a
 * copy of under a kilobyte, small beside its write(2), and readers (the
 * web, once a second at most per viewer) need a consistent copy. The
 * storage is allocated at the first line, so a process that never logs
 * (the CLI) pays nothing. */
static pthread_mutex_t ring_mu = PTHREAD_MUTEX_INITIALIZER;
static struct log_line *ring; /* LOG_RING_LINES, ring[seq % LOG_RING_LINES] */
static uint64_t ring_seq;     /* the last seq written */
static bool ring_failed;

static void log_ring_add(enum log_level lvl, const char *tag, const char *line, size_t n)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	/* the message follows the first "] " (the end of the tag) */
	const char *t = memmem(line, n, "] ", 2);
	t = t ? t + 2 : line;
	size_t tn = (size_t)(line + n - t);
	while (tn && (t[tn - 1] == '\n' || t[tn - 1] == '\r'))
		tn--;
	if (tn >= LOG_RING_TEXT)
		tn = LOG_RING_TEXT - 1;
	pthread_mutex_lock(&ring_mu);
	if (!ring && !ring_failed) {
		ring = calloc(LOG_RING_LINES, sizeof(*ring));
		ring_failed = !ring;
	}
	if (ring) {
		struct log_line *l = &ring[++ring_seq % LOG_RING_LINES];
		l->seq = ring_seq;
		l->time_ms = (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
		l->level = lvl;
		size_t k = 0;
		for (; tag[k] && k < sizeof(l->tag) - 1; k++)
			l->tag[k] = tag[k];
		l->tag[k] = '\0';
		memcpy(l->text, t, tn);
		l->text[tn] = '\0';
	}
	pthread_mutex_unlock(&ring_mu);
}

size_t log_ring_read(uint64_t since, enum log_level max_level, struct log_line *out, size_t cap,
		     uint64_t *next)
{
	size_t n = 0;
	pthread_mutex_lock(&ring_mu);
	uint64_t first = ring_seq > LOG_RING_LINES ? ring_seq - LOG_RING_LINES + 1 : 1;
	if (since + 1 > first)
		first = since + 1;
	uint64_t seq = first;
	for (; ring && seq <= ring_seq && n < cap; seq++) {
		const struct log_line *l = &ring[seq % LOG_RING_LINES];
		if (l->level <= max_level)
			out[n++] = *l;
	}
	if (next)
		*next = seq > first ? seq - 1 : (since > ring_seq ? ring_seq : since);
	pthread_mutex_unlock(&ring_mu);
	return n;
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
	if (n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	char msg[sizeof(line)];
	va_list ap;
	va_start(ap, fmt);
	m = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (m > 0)
		n += escape_ctl(line + n, sizeof(line) - 1 - n, msg,
				(size_t)m < sizeof(msg) ? (size_t)m : sizeof(msg) - 1, false, NULL);
	line[n++] = '\n';
	log_ring_add(lvl, tag, line, n);
	write_all(line, n);
}

/* A piece of a SIP trace, escaped (see escape_ctl). */
static void write_escaped(const char *p, size_t n)
{
	char out[1024];
	while (n) {
		size_t used;
		size_t o = escape_ctl(out, sizeof(out), p, n, true, &used);
		write_all(out, o);
		p += used;
		n -= used;
	}
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
			write_escaped(p, (size_t)(end - p));
			break;
		}
		k += mlen;
		write_escaped(p, (size_t)(k - p));
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
