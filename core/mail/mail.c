/*
 * One SMTP attempt with libcurl (see mail.h), on a worker thread. The
 * message is a curl_mime tree: a quoted-printable text part and, for
 * voicemail, the recording as a base64 attachment read from disk at send
 * time. curl speaks EHLO, STARTTLS (CURLOPT_USE_SSL), AUTH, MAIL FROM,
 * RCPT TO and DATA; we add the headers a reader sees (Date, From, To,
 * Subject, Message-ID). Every wait is bounded (connect and total
 * timeouts, a minimum speed), so a server that accepts and then says
 * nothing frees the worker within a minute. Error texts come from curl
 * and the server, and are scrubbed of the password before anyone sees
 * them.
 */
#include "mail.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_CONNECT_TIMEOUT_S 10
#define DEFAULT_TIMEOUT_S 60

void mail_cfg_defaults(struct mail_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->tls = MAIL_TLS_TRY;
	cfg->connect_timeout_s = DEFAULT_CONNECT_TIMEOUT_S;
	cfg->timeout_s = DEFAULT_TIMEOUT_S;
}

/* curl_global_init is not thread-safe in Debian 12's curl (7.88): it
 * runs once, the first time anyone sends. */
static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

bool mail_addr_valid(const char *a)
{
	size_t n = a ? strlen(a) : 0;
	if (!n || n >= MAIL_ADDR_MAX)
		return false;
	const char *at = strrchr(a, '@');
	if (!at || at == a || !at[1] || strchr(at + 1, '.') == NULL)
		return false;
	for (const char *p = a; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f || strchr("<>()[],;:\\\"", *p))
			return false;
	return true;
}

int mail_addr_of(const char *from, char *out, size_t cap)
{
	if (!from || !out || !cap)
		return EINVAL;
	const char *s = from;
	size_t n = strlen(from);
	const char *lt = strrchr(from, '<');
	if (lt) {
		const char *gt = strchr(lt, '>');
		if (!gt || gt[1])
			return EINVAL;
		s = lt + 1;
		n = (size_t)(gt - s);
	}
	if (n >= cap)
		return EINVAL;
	memcpy(out, s, n);
	out[n] = '\0';
	return mail_addr_valid(out) ? 0 : EINVAL;
}

static bool has_line_break(const char *s)
{
	return s && strpbrk(s, "\r\n") != NULL;
}

/* A header value as RFC 2047 wants it: printable ASCII as is, anything
 * else as one UTF-8 base64 encoded word. */
static void header_text(const char *in, char *out, size_t cap)
{
	bool ascii = true;
	for (const unsigned char *p = (const unsigned char *)in; *p; p++)
		if (*p < 0x20 || *p > 0x7e)
			ascii = false;
	if (ascii) {
		snprintf(out, cap, "%s", in);
		return;
	}
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = (size_t)snprintf(out, cap, "=?UTF-8?B?");
	size_t n = strlen(in);
	const unsigned char *p = (const unsigned char *)in;
	for (size_t i = 0; i < n && o + 7 < cap; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		out[o++] = b64[(v >> 18) & 63];
		out[o++] = b64[(v >> 12) & 63];
		out[o++] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < n ? b64[v & 63] : '=';
	}
	snprintf(out + o, cap - o, "?=");
}

/* The From header: "Name <addr>" with the name encoded when it needs it. */
static void from_header(const char *from, const char *addr, char *out, size_t cap)
{
	const char *lt = strrchr(from, '<');
	if (!lt) {
		snprintf(out, cap, "From: %s", addr);
		return;
	}
	char name[256], enc[400];
	size_t n = (size_t)(lt - from);
	while (n && from[n - 1] == ' ')
		n--;
	if (n >= sizeof(name))
		n = sizeof(name) - 1;
	memcpy(name, from, n);
	name[n] = '\0';
	if (!n) {
		snprintf(out, cap, "From: %s", addr);
		return;
	}
	header_text(name, enc, sizeof(enc));
	snprintf(out, cap, "From: %s <%s>", enc, addr);
}

/* Replaces every occurrence of secret in s by "***". */
static void scrub(char *s, const char *secret)
{
	size_t k = strlen(secret);
	if (!k)
		return;
	char *p;
	while ((p = strstr(s, secret))) {
		size_t rest = strlen(p + k);
		if (k >= 3) {
			memcpy(p, "***", 3);
			memmove(p + 3, p + k, rest + 1);
		} else {
			memset(p, '*', k);
		}
	}
}

static int progress_cb(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	const atomic_bool *cancel = arg;
	(void)dt, (void)dn, (void)ut, (void)un;
	return atomic_load(cancel) ? 1 : 0;
}

static int errno_of(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
		return ECONNREFUSED;
	case CURLE_OPERATION_TIMEDOUT:
		return ETIMEDOUT;
	case CURLE_LOGIN_DENIED:
		return EACCES;
	case CURLE_COULDNT_RESOLVE_HOST:
		return EHOSTUNREACH;
	case CURLE_ABORTED_BY_CALLBACK:
		return ECANCELED;
	case CURLE_URL_MALFORMAT:
	case CURLE_UNSUPPORTED_PROTOCOL:
		return EINVAL;
	case CURLE_USE_SSL_FAILED:
		return EPROTO;
	default:
		return EIO;
	}
}

/* What the administrator reads: curl's words for the code, the server's
 * or the library's detail when there is one. */
static void describe(CURLcode rc, const char *detail, char *err, size_t cap)
{
	const char *what = curl_easy_strerror(rc);
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
		what = "cannot connect to the SMTP server";
		break;
	case CURLE_OPERATION_TIMEDOUT:
		what = "the SMTP server did not answer in time";
		break;
	case CURLE_LOGIN_DENIED:
		what = "the SMTP server refused the username or password";
		break;
	case CURLE_USE_SSL_FAILED:
		what = "the SMTP server does not offer STARTTLS (email.tls = require)";
		break;
	case CURLE_ABORTED_BY_CALLBACK:
		what = "cancelled (shutting down)";
		break;
	default:
		break;
	}
	if (detail && *detail && strcmp(detail, what))
		snprintf(err, cap, "%s: %s", what, detail);
	else
		snprintf(err, cap, "%s", what);
}

static int fail(char *err, size_t cap, int code, const char *fmt, const char *arg)
{
	snprintf(err, cap, fmt, arg);
	return code;
}

/* Builds the MIME tree: the text, then the attachment. */
static curl_mime *build_mime(CURL *c, const struct mail_msg *m)
{
	curl_mime *mime = curl_mime_init(c);
	if (!mime)
		return NULL;
	curl_mimepart *part = curl_mime_addpart(mime);
	if (!part || curl_mime_data(part, m->text ? m->text : "", CURL_ZERO_TERMINATED) ||
	    curl_mime_type(part, "text/plain; charset=utf-8") ||
	    curl_mime_encoder(part, "quoted-printable"))
		goto bad;
	if (m->attach_path) {
		part = curl_mime_addpart(mime);
		if (!part || curl_mime_filedata(part, m->attach_path) ||
		    curl_mime_filename(part, m->attach_name ? m->attach_name : "attachment") ||
		    curl_mime_type(part, m->attach_type ? m->attach_type : "application/octet-stream") ||
		    curl_mime_encoder(part, "base64"))
			goto bad;
	}
	return mime;
bad:
	curl_mime_free(mime);
	return NULL;
}

static struct curl_slist *build_headers(const struct mail_cfg *cfg, const struct mail_msg *m,
					const char *from_addr)
{
	char line[700], enc[600], date[64];
	struct curl_slist *h = NULL, *t;
	time_t now = time(NULL);
	struct tm tm;
	localtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z", &tm);
	snprintf(line, sizeof(line), "Date: %s", date);
	if (!(t = curl_slist_append(h, line)))
		goto bad;
	h = t;
	from_header(cfg->from, from_addr, line, sizeof(line));
	if (!(t = curl_slist_append(h, line)))
		goto bad;
	h = t;
	snprintf(line, sizeof(line), "To: <%s>", m->to);
	if (!(t = curl_slist_append(h, line)))
		goto bad;
	h = t;
	header_text(m->subject, enc, sizeof(enc));
	snprintf(line, sizeof(line), "Subject: %s", enc);
	if (!(t = curl_slist_append(h, line)))
		goto bad;
	h = t;
	/* the id's right side is the sender's domain, as RFC 5322 suggests */
	unsigned long r = (unsigned long)random();
	snprintf(line, sizeof(line), "Message-ID: <%lld.%lx.%d@%s>", (long long)now, r,
		 (int)getpid(), strrchr(from_addr, '@') + 1);
	if (!(t = curl_slist_append(h, line)))
		goto bad;
	h = t;
	if (!(t = curl_slist_append(h, "X-Mailer: Hookflash")))
		goto bad;
	return t;
bad:
	curl_slist_free_all(h);
	return NULL;
}

int mail_send(const struct mail_cfg *cfg, const struct mail_msg *m, char *err, size_t errcap)
{
	char dummy[8];
	if (!err || !errcap) {
		err = dummy;
		errcap = sizeof(dummy);
	}
	err[0] = '\0';
	if (!cfg || !m)
		return fail(err, errcap, EINVAL, "%s", "no settings or message");
	if (!cfg->smtp_url[0])
		return fail(err, errcap, EINVAL, "%s", "no SMTP server set (email.smtp_url)");
	char from_addr[MAIL_ADDR_MAX];
	if (mail_addr_of(cfg->from, from_addr, sizeof(from_addr)))
		return fail(err, errcap, EINVAL, "%s", "no valid sender address set (email.from)");
	if (!mail_addr_valid(m->to))
		return fail(err, errcap, EINVAL, "not an e-mail address: '%.200s'", m->to);
	if (has_line_break(m->subject) || has_line_break(m->attach_name) ||
	    has_line_break(m->attach_type))
		return fail(err, errcap, EINVAL, "%s", "a line break in a header");
	if (m->attach_path && access(m->attach_path, R_OK))
		return fail(err, errcap, ENOENT, "cannot read the attachment %.200s", m->attach_path);
	if (cfg->cancel && atomic_load(cfg->cancel))
		return fail(err, errcap, ECANCELED, "%s", "cancelled (shutting down)");

	pthread_once(&curl_once, curl_init);
	CURL *c = curl_easy_init();
	if (!c)
		return fail(err, errcap, ENOMEM, "%s", "out of memory");
	char envelope_from[MAIL_ADDR_MAX + 2], rcpt[MAIL_ADDR_MAX + 2];
	snprintf(envelope_from, sizeof(envelope_from), "<%s>", from_addr);
	snprintf(rcpt, sizeof(rcpt), "<%s>", m->to);
	struct curl_slist *rcpts = curl_slist_append(NULL, rcpt);
	struct curl_slist *headers = build_headers(cfg, m, from_addr);
	curl_mime *mime = build_mime(c, m);
	int code = 0;
	if (!rcpts || !headers || !mime) {
		code = fail(err, errcap, ENOMEM, "%s", "out of memory");
		goto out;
	}
	char detail[CURL_ERROR_SIZE] = "";
	long use_ssl = cfg->tls == MAIL_TLS_REQUIRE ? CURLUSESSL_ALL
		     : cfg->tls == MAIL_TLS_TRY     ? CURLUSESSL_TRY
						    : CURLUSESSL_NONE;
	curl_easy_setopt(c, CURLOPT_URL, cfg->smtp_url);
	/* only mail: a URL typed as http:// or file:// is refused */
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	/* no SIGALRM-based DNS timeouts: we are one thread of many */
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)(cfg->connect_timeout_s ? cfg->connect_timeout_s : DEFAULT_CONNECT_TIMEOUT_S));
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)(cfg->timeout_s ? cfg->timeout_s : DEFAULT_TIMEOUT_S));
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 30L);
	curl_easy_setopt(c, CURLOPT_USE_SSL, use_ssl);
	if (cfg->username[0]) {
		curl_easy_setopt(c, CURLOPT_USERNAME, cfg->username);
		curl_easy_setopt(c, CURLOPT_PASSWORD, cfg->password);
	}
	curl_easy_setopt(c, CURLOPT_MAIL_FROM, envelope_from);
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpts);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(c, CURLOPT_MIMEPOST, mime);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, detail);
	if (cfg->cancel) {
		curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, progress_cb);
		curl_easy_setopt(c, CURLOPT_XFERINFODATA, (void *)cfg->cancel);
		curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	}
	CURLcode rc = curl_easy_perform(c);
	if (rc != CURLE_OK) {
		describe(rc, detail, err, errcap);
		code = errno_of(rc);
	}
out:
	curl_mime_free(mime);
	curl_slist_free_all(headers);
	curl_slist_free_all(rcpts);
	curl_easy_cleanup(c);
	scrub(err, cfg->password);
	return code;
}
