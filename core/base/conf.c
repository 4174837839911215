/*
 * Settings (see conf.h). One table maps each setting to its INI section/key
 * and its command-line flag, so a new setting is one line here, and the
 * file and the flags can never disagree about names or ranges.
 */
#include "conf.h"

#include "dest.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "codec_names.h"
#include "log.h"

#ifndef HF_VERSION
#define HF_VERSION "0.1.0"
#endif

void conf_defaults(struct conf *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->data_dir, sizeof(c->data_dir), "/var/lib/hookflash");
	c->sip_udp_port = 5060;
	c->sip_tcp_port = 5060;
	c->rtp_min = 10000;
	c->rtp_max = 20000;
	c->http_port = 8080;
	c->https_port = 8443;
	c->log_level = LOG_INFO;
	c->min_expires = 60;
	c->max_expires = 7200;
	c->default_expires = 3600;
	c->nonce_ttl = 300;
	/* MD5 alone by default: Debian 12's baresip (libre 1.x) fails
	 * outright on any challenge set holding SHA-256, and SIPp 3.6 reads
	 * only the first challenge. With generated 16-character passwords
	 * MD5 digest is not the weak point; fleets that support it can opt in
	 * with "SHA-256,MD5" or "SHA-256". */
	snprintf(c->digest_algs, sizeof(c->digest_algs), "MD5");
	c->auth_fail_limit = 10;
	c->auth_fail_window = 60;
	c->ban_time = 600;
	c->tsx_max_per_source = 200;
	c->tsx_max = 20000;
	c->max_calls = 1000;
	c->ext_max_calls = 4;
	c->no_answer_timeout = 25;
	c->rtp_timeout = 30;
	c->session_expires = 1800;
	c->media_workers = 0;
	/* Wideband first. The order only decides among codecs the caller
	 * offered (the callee is offered those first, so a shared codec is
	 * relayed untouched whatever this says) and which codec a callee
	 * with none of the caller's gets first, i.e. what we transcode to:
	 * there the best quality is worth the CPU. PCMU before PCMA: what
	 * North American phones and most trunks expect first. */
	snprintf(c->codecs, sizeof(c->codecs), "opus,G722,PCMU,PCMA");
	c->ringback = true;
	snprintf(c->sounds_dir, sizeof(c->sounds_dir), "%s", "/usr/share/asterisk/sounds/en");
	/* a busy worker sheds load by coding opus with CELT before its
	 * calls break up (tests/bench/transcode_bench.c) */
	c->opus_low_cpu_above = 70;
	c->vm_pin_min_len = 6;      /* PIN_MIN_DEFAULT (pin.h) */
	c->vm_pin_lock_after = 3;
	c->vm_pin_lock_secs = 600;
	c->tcp_idle_timeout = 600;
	c->tcp_max_conns = 1024;
	/* a PBX's phones behind one NAT rarely pass a few dozen; a flood
	 * from one host must leave the other 992 slots to everyone else */
	c->tcp_max_conns_per_addr = 32;
	/* a phone sends its REGISTER right after connecting; 10 s covers a
	 * slow link, and a peer holding a slot silently is cut off then */
	c->tcp_first_msg_timeout = 10;
	/* STARTTLS when offered: a relay on the LAN may have none, and a
	 * provider's port 587 always has it */
	c->smtp_tls = CONF_TLS_TRY;
	snprintf(c->backup_schedule, sizeof(c->backup_schedule), "off");
	c->backup_keep = 7;
	c->backup_voicemail = true;
}

long conf_backup_interval(const char *s)
{
	static const struct {
		const char *name;
		long secs;
	} t[] = { { "off", 0 }, { "hourly", 3600 }, { "daily", 86400 }, { "weekly", 604800 } };
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (!strcasecmp(s, t[i].name))
			return t[i].secs;
	char *end;
	long n = strtol(s, &end, 10);
	if (end == s || *s == '-' || *s == '+' || strcmp(end, "s") || n < 1 || n > 604800)
		return -1;
	return n;
}

enum kind { K_STR, K_U16, K_U32, K_BINDS, K_RANGE, K_LEVEL, K_BOOL, K_ALGS, K_CODECS,
	    K_SMTP_URL, K_MAIL_FROM, K_SECRET, K_TLS, K_DEST, K_SCHED, K_CIDRS };

/* When a changed value takes effect: C_LIVE at a reload (SIGHUP, or the
 * web's settings page), C_RESTART at the next start; C_FIXED is never
 * offered outside the file and the flags (where the data lives). */
enum apply { C_LIVE, C_RESTART, C_FIXED };

struct setting {
	const char *section, *key, *flag, *help;
	enum kind kind;
	size_t off, size;
	uint32_t min, max;
	enum apply when;
	/* the settings page: "basic" (what an office sets up) or "advanced"
	 * (tuning), and a label in plain words */
	const char *group, *label;
};

#define F(field) offsetof(struct conf, field), sizeof(((struct conf *)0)->field)

static const struct setting settings[] = {
	{ "general", "data_dir", "--data-dir", "data directory (database, keys, control socket)", K_STR, F(data_dir), 0, 0, C_FIXED, "advanced", "Data folder" },
	{ "general", "log_level", "--log-level", "error|warn|info|debug", K_LEVEL, F(log_level), 0, 0, C_LIVE, "advanced", "Log detail" },
	{ "general", "user", "--user", "user to run as when started as root, after taking the lock and opening the sockets (default hookflash; root stays root, not recommended)", K_STR, F(run_user), 0, 0, C_FIXED, "advanced", "Run as user" },
	{ "sip", "bind", "--bind", "listen address(es), comma-separated IPv4/IPv6 (default: all)", K_BINDS, F(binds), 0, 0, C_RESTART, "basic", "Listen on addresses" },
	{ "sip", "udp_port", "--sip-port", "SIP port for UDP and TCP", K_U16, F(sip_udp_port), 1, 65535, C_RESTART, "basic", "SIP port" },
	{ "sip", "tcp_port", "--sip-tcp-port", "SIP TCP port if different from --sip-port", K_U16, F(sip_tcp_port), 1, 65535, C_RESTART, "advanced", "SIP TCP port" },
	{ "sip", "domain", "--domain", "SIP domain name accepted besides the box's addresses", K_STR, F(domain), 0, 0, C_RESTART, "basic", "SIP domain name" },
	{ "sip", "external_address", "--external-address", "public address announced behind NAT", K_STR, F(external_addr), 0, 0, C_RESTART, "basic", "Public address (behind NAT)" },
	{ "sip", "trace", "--sip-trace", "log every SIP message (yes/no)", K_BOOL, F(sip_trace), 0, 0, C_LIVE, "advanced", "Log every SIP message" },
	{ "rtp", "ports", "--rtp-ports", "RTP port range, e.g. 10000-20000", K_RANGE, F(rtp_min), 1024, 65535, C_RESTART, "basic", "Audio (RTP) ports" },
	{ "http", "port", "--http-port", "web UI HTTP port (redirects to HTTPS)", K_U16, F(http_port), 1, 65535, C_RESTART, "basic", "Web port (HTTP)" },
	{ "http", "https_port", "--https-port", "web UI HTTPS port", K_U16, F(https_port), 1, 65535, C_RESTART, "basic", "Web port (HTTPS)" },
	{ "registrar", "min_expires", "--min-expires", "shortest registration accepted (s)", K_U32, F(min_expires), 1, 86400, C_LIVE, "advanced", "Shortest registration" },
	{ "registrar", "max_expires", "--max-expires", "longest registration granted (s)", K_U32, F(max_expires), 1, 604800, C_LIVE, "advanced", "Longest registration" },
	{ "registrar", "default_expires", "--default-expires", "registration time when the phone asks none (s)", K_U32, F(default_expires), 1, 604800, C_LIVE, "advanced", "Default registration time" },
	{ "security", "nonce_ttl", "--nonce-ttl", "digest nonce lifetime (s)", K_U32, F(nonce_ttl), 5, 86400, C_RESTART, "advanced", "Login challenge lifetime" },
	{ "security", "digest_algorithms", "--digest-algorithms", "digest algorithms offered, preferred first (MD5 | SHA-256,MD5 | SHA-256 | MD5,SHA-256)", K_ALGS, F(digest_algs), 0, 0, C_LIVE, "advanced", "Password hash algorithms" },
	{ "security", "auth_fail_limit", "--auth-fail-limit", "failed authentications before a source is banned", K_U32, F(auth_fail_limit), 1, 100000, C_LIVE, "advanced", "Failed logins before a ban" },
	{ "security", "auth_fail_window", "--auth-fail-window", "window in which failures are counted (s)", K_U32, F(auth_fail_window), 1, 86400, C_LIVE, "advanced", "Failed logins counted over" },
	{ "security", "ban_time", "--ban-time", "how long a banned source is ignored (s)", K_U32, F(ban_time), 1, 604800, C_LIVE, "advanced", "Ban duration" },
	{ "calls", "max_calls", "--max-calls", "most concurrent calls system-wide (503 past it)", K_U32, F(max_calls), 1, 100000, C_LIVE, "advanced", "Most calls at once" },
	{ "calls", "extension_max_calls", "--extension-max-calls", "concurrent calls per extension unless set on it (486 past it)", K_U32, F(ext_max_calls), 1, 1000, C_LIVE, "advanced", "Calls at once per extension" },
	{ "calls", "no_answer_timeout", "--no-answer-timeout", "seconds an extension rings before its no-answer destination takes the call (an extension may set its own)", K_U32, F(no_answer_timeout), 1, 3600, C_LIVE, "basic", "Ring time" },
	{ "calls", "rtp_timeout", "--rtp-timeout", "seconds without RTP (not on hold) that end a call", K_U32, F(rtp_timeout), 1, 3600, C_RESTART, "advanced", "Hang up after silence on the line" },
	{ "calls", "session_expires", "--session-expires", "RFC 4028 session interval asked for (s)", K_U32, F(session_expires), 90, 86400, C_LIVE, "advanced", "Call keep-alive interval" },
	{ "calls", "media_coalesce_us", "--media-coalesce-us", "media workers batch packets for up to this long (us; 0: off)", K_U32, F(media_coalesce_us), 0, 10000, C_RESTART, "advanced", "Media batching" },
	{ "calls", "codecs", "--codecs", "codecs allowed by default and offered for transcoding", K_CODECS, F(codecs), 0, 0, C_LIVE, "basic", "Default codecs" },
	{ "calls", "sounds_dir", "--sounds-dir", "folder of the prompts apps play (NAME.wav; Debian's asterisk-core-sounds-en-wav)", K_STR, F(sounds_dir), 0, 0, C_LIVE, "advanced", "Prompts folder" },
	{ "calls", "ringback", "--ringback", "play ringback to the caller when the callee rings without early media (yes/no)", K_BOOL, F(ringback), 0, 0, C_LIVE, "advanced", "Play ringback tone" },
	{ "calls", "opus_low_cpu", "--opus-low-cpu", "transcode to opus with CELT only, always: about 1.6 times the calls per core, rougher speech (yes/no)", K_BOOL, F(opus_low_cpu), 0, 0, C_RESTART, "advanced", "Opus: always low-CPU mode" },
	{ "calls", "opus_low_cpu_above", "--opus-low-cpu-above", "while a media worker is busier than this (% of a core) its opus encoders code CELT, back to SILK below two thirds of it (0: never)", K_U32, F(opus_low_cpu_above), 0, 100, C_RESTART, "advanced", "Opus: low-CPU mode above load" },
	{ "calls", "media_workers", "--media-workers", "media threads (0: one per core)", K_U32, F(media_workers), 0, 64, C_RESTART, "advanced", "Media threads" },
	{ "voicemail", "pin_min_length", "--vm-pin-min-length", "digits a new voicemail PIN needs (4-12)", K_U32, F(vm_pin_min_len), 4, 12, C_LIVE, "advanced", "Voicemail PIN length" },
	{ "voicemail", "pin_lock_after", "--vm-pin-lock-after", "wrong voicemail PINs in a row that lock the mailbox", K_U32, F(vm_pin_lock_after), 1, 100, C_LIVE, "advanced", "Wrong PINs before lock" },
	{ "voicemail", "operator", "--vm-operator", "where a caller pressing 0 during a voicemail greeting goes (a destination, e.g. ext:1001; empty: 0 does nothing)", K_DEST, F(vm_operator), 0, 0, C_LIVE, "basic", "Voicemail operator (press 0)" },
	{ "voicemail", "pin_lock_seconds", "--vm-pin-lock-seconds", "how long a mailbox stays locked after them (s)", K_U32, F(vm_pin_lock_secs), 1, 86400, C_LIVE, "advanced", "Mailbox lock time" },
	{ "tcp", "idle_timeout", "--tcp-idle-timeout", "close idle SIP TCP connections after (s)", K_U32, F(tcp_idle_timeout), 1, 86400, C_RESTART, "advanced", "Close idle TCP connections after" },
	{ "tcp", "max_connections", "--tcp-max-connections", "most concurrent SIP TCP connections", K_U32, F(tcp_max_conns), 1, 100000, C_RESTART, "advanced", "Most TCP connections" },
	{ "tcp", "max_connections_per_address", "--tcp-max-connections-per-address", "most concurrent SIP TCP connections from one address (IPv6: one /64; 0: no limit)", K_U32, F(tcp_max_conns_per_addr), 0, 100000, C_RESTART, "advanced", "Most TCP connections per address" },
	{ "tcp", "first_message_timeout", "--tcp-first-message-timeout", "close a SIP TCP connection that has not sent a whole message this long after connecting (s; 0: only the idle timeout)", K_U32, F(tcp_first_msg_timeout), 0, 3600, C_RESTART, "advanced", "First message deadline (TCP)" },
	{ "email", "smtp_url", "--smtp-url", "SMTP server for voicemail e-mail: smtp://host:587 (STARTTLS per tls) or smtps://host:465; empty: no e-mail", K_SMTP_URL, F(smtp_url), 0, 0, C_LIVE, "basic", "Mail server (SMTP)" },
	{ "email", "from", "--mail-from", "sender of the e-mail: pbx@example.com or Name <pbx@example.com>", K_MAIL_FROM, F(mail_from), 0, 0, C_LIVE, "basic", "Mail sender" },
	{ "email", "username", "--smtp-username", "SMTP login (empty: none)", K_STR, F(smtp_user), 0, 0, C_LIVE, "basic", "Mail login" },
	{ "email", "password", "--smtp-password", "SMTP password (never shown; prefer hookflash.conf or the web to this flag)", K_SECRET, F(smtp_password), 0, 0, C_LIVE, "basic", "Mail password" },
	{ "email", "tls", "--smtp-tls", "STARTTLS on smtp:// URLs: off, try (when offered) or require", K_TLS, F(smtp_tls), 0, 0, C_LIVE, "basic", "Mail encryption (STARTTLS)" },
	{ "backup", "schedule", "--backup-schedule", "take a backup by itself: off, hourly, daily or weekly", K_SCHED, F(backup_schedule), 0, 0, C_LIVE, "basic", "Scheduled backup" },
	{ "backup", "keep", "--backup-keep", "scheduled backups kept (the oldest beyond are deleted)", K_U32, F(backup_keep), 1, 1000, C_LIVE, "basic", "Backups kept" },
	{ "backup", "dir", "--backup-dir", "folder of the scheduled backups (empty: DATA_DIR/backups)", K_STR, F(backup_dir), 0, 0, C_LIVE, "advanced", "Backup folder" },
	{ "backup", "voicemail", "--backup-voicemail", "scheduled backups include voicemail (yes/no)", K_BOOL, F(backup_voicemail), 0, 0, C_LIVE, "basic", "Back up voicemail" },
	{ "security", "trusted_networks", "--trusted-networks", "addresses never banned, e.g. 192.168.1.0/24, 10.0.0.5 (comma-separated; empty: none)", K_CIDRS, F(trusted_networks), 0, 0, C_LIVE, "basic", "Trusted networks (never banned)" },
	{ "security", "max_transactions_per_source", "--max-transactions-per-source", "SIP requests in progress one address may have before it gets 503 (0: no limit)", K_U32, F(tsx_max_per_source), 0, 1000000, C_LIVE, "advanced", "SIP requests in progress per address" },
	{ "security", "max_transactions", "--max-transactions", "SIP requests in progress in all before new ones get 503 (0: no limit)", K_U32, F(tsx_max), 0, 10000000, C_LIVE, "advanced", "SIP requests in progress in all" },
};

static const char *const tls_names[] = { "off", "try", "require", NULL };

#define NSETTINGS (sizeof(settings) / sizeof(settings[0]))

static int parse_u32(const char *v, uint32_t min, uint32_t max, uint32_t *out)
{
	char *end;
	errno = 0;
	unsigned long n = strtoul(v, &end, 10);
	if (errno || end == v || *end || v[0] == '-' || n < min || n > max)
		return EINVAL;
	*out = (uint32_t)n;
	return 0;
}

/* A setting's help; the codec list's names come from the codec table. */
static char codecs_help[256];

static void codecs_help_init(void)
{
	for (size_t i = 0; i < NSETTINGS; i++)
		if (settings[i].kind == K_CODECS)
			snprintf(codecs_help, sizeof(codecs_help), "%s (%s)", settings[i].help,
				 codec_list_help());
}

static const char *help_of(const struct setting *s)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	if (s->kind != K_CODECS)
		return s->help;
	pthread_once(&once, codecs_help_init);
	return codecs_help;
}

/* smtp:// or smtps://, a host, no credentials (they have settings of
 * their own, kept out of logs; a URL is printed in messages), no blanks. */
static bool smtp_url_ok(const char *v, size_t cap)
{
	size_t n = strlen(v);
	const char *host = !strncasecmp(v, "smtp://", 7) ? v + 7 : !strncasecmp(v, "smtps://", 8) ? v + 8 : NULL;
	if (!host || !*host || *host == '/' || *host == ':' || n >= cap || strchr(v, '@'))
		return false;
	for (const char *p = v; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return false;
	return true;
}

/* "a@b.c" or "Name <a@b.c>": the address part has one local@domain and
 * no blanks. The full check of what SMTP accepts is core/mail's. */
static bool mail_from_ok(const char *v, size_t cap)
{
	if (strlen(v) >= cap)
		return false;
	const char *a = v, *end = v + strlen(v);
	const char *lt = strrchr(v, '<');
	if (lt) {
		const char *gt = strchr(lt, '>');
		if (!gt || gt[1])
			return false;
		a = lt + 1;
		end = gt;
	}
	const char *at = NULL;
	for (const char *p = a; p < end; p++) {
		if ((unsigned char)*p <= ' ' || *p == 0x7f || strchr("<>()[],;:\\\"", *p))
			return false;
		if (*p == '@')
			at = p;
	}
	return at && at > a && at + 1 < end && memchr(at + 1, '.', (size_t)(end - at - 1));
}

/* "10.0.0.0/8, 192.168.1.5, 2001:db8::/32": addresses with an optional
 * prefix length, at most 32 of them (AUTHN_TRUSTED_MAX), commas or blanks
 * between. Empty is fine (none). */
static bool cidr_list_ok(const char *v, size_t size)
{
	int count = 0;
	if (strlen(v) >= size)
		return false;
	for (const char *p = v; *p;) {
		size_t n = strcspn(p, ", ");
		if (n) {
			char buf[64];
			unsigned char a[16];
			if (n >= sizeof(buf) || ++count > 32)
				return false;
			memcpy(buf, p, n);
			buf[n] = '\0';
			char *slash = strchr(buf, '/');
			unsigned max = strchr(buf, ':') ? 128 : 32;
			if (slash) {
				char *end;
				*slash = '\0';
				errno = 0;
				unsigned long pl = strtoul(slash + 1, &end, 10);
				if (!slash[1] || *end || errno || pl > max)
					return false;
			}
			if (inet_pton(max == 128 ? AF_INET6 : AF_INET, buf, a) != 1)
				return false;
		}
		p += n;
		while (*p == ',' || *p == ' ')
			p++;
	}
	return true;
}

static int apply(struct conf *c, const struct setting *s, const char *v,
		 char *err, size_t cap)
{
	char *base = (char *)c + s->off;
	uint32_t n;
	switch (s->kind) {
	case K_STR:
		if (strlen(v) >= s->size)
			goto bad;
		snprintf(base, s->size, "%s", v);
		return 0;
	case K_U16:
		if (parse_u32(v, s->min, s->max, &n))
			goto bad;
		*(uint16_t *)(void *)base = (uint16_t)n;
		if (s->off == offsetof(struct conf, sip_udp_port))
			c->sip_tcp_port = (uint16_t)n;
		return 0;
	case K_U32:
		if (parse_u32(v, s->min, s->max, &n))
			goto bad;
		*(uint32_t *)(void *)base = n;
		return 0;
	case K_LEVEL: {
		int lvl = log_level_parse(v);
		if (lvl < 0)
			goto bad;
		c->log_level = lvl;
		return 0;
	}
	case K_BOOL:
		if (!strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcmp(v, "1") || !strcasecmp(v, "on"))
			*(bool *)(void *)base = true;
		else if (!strcasecmp(v, "no") || !strcasecmp(v, "false") || !strcmp(v, "0") || !strcasecmp(v, "off"))
			*(bool *)(void *)base = false;
		else
			goto bad;
		return 0;
	case K_RANGE: {
		uint32_t lo, hi;
		char tmp[32];
		snprintf(tmp, sizeof(tmp), "%s", v);
		char *dash = strchr(tmp, '-');
		if (!dash)
			goto bad;
		*dash = '\0';
		if (parse_u32(tmp, s->min, s->max, &lo) || parse_u32(dash + 1, s->min, s->max, &hi) || hi < lo + 1)
			goto bad;
		/* RTP takes even ports, RTCP the odd one above */
		c->rtp_min = (uint16_t)(lo + (lo & 1));
		c->rtp_max = (uint16_t)hi;
		if (c->rtp_max < c->rtp_min + 1)
			goto bad;
		return 0;
	}
	case K_ALGS: {
		/* checked here so a typo stops the daemon at start, not at the
		 * first REGISTER */
		char tmp[64];
		int count = 0;
		snprintf(tmp, sizeof(tmp), "%s", v);
		for (char *save = NULL, *t = strtok_r(tmp, ", ", &save); t; t = strtok_r(NULL, ", ", &save), count++)
			if (strcasecmp(t, "MD5") && strcasecmp(t, "SHA-256"))
				goto bad;
		if (count == 0 || count > 2 || strlen(v) >= s->size)
			goto bad;
		snprintf(base, s->size, "%s", v);
		return 0;
	}
	case K_CODECS: {
		/* The one codec list parser (codec_names.h): a typo stops the
		 * daemon or is refused by the settings page, in the same words
		 * as the tool and the API, instead of failing calls. */
		char why[160];
		if (codec_list_validate(v, why, sizeof(why)) == 0) {
			if (*v && strlen(v) < s->size) {
				snprintf(base, s->size, "%s", v);
				return 0;
			}
			char known[96];
			codec_names_join(known, sizeof(known), ", ");
			snprintf(why, sizeof(why), "at least one codec, of %s", known);
		}
		snprintf(err, cap, "invalid value '%s' for %s.%s: %s", v, s->section, s->key, why);
		return EINVAL;
	}
	case K_SECRET:
		if (strlen(v) >= s->size) {
			/* the value is a password: not repeated in the message */
			snprintf(err, cap, "invalid value for %s.%s: longer than %zu characters",
				 s->section, s->key, s->size - 1);
			return EINVAL;
		}
		snprintf(base, s->size, "%s", v);
		return 0;
	case K_CIDRS:
		if (!cidr_list_ok(v, s->size))
			goto bad;
		snprintf(base, s->size, "%s", v);
		return 0;
	case K_SMTP_URL:
		if (*v && !smtp_url_ok(v, s->size))
			goto bad;
		snprintf(base, s->size, "%s", v);
		return 0;
	case K_MAIL_FROM:
		if (*v && !mail_from_ok(v, s->size))
			goto bad;
		snprintf(base, s->size, "%s", v);
		return 0;
	case K_DEST: {
		struct dest d;
		if (*v && (strlen(v) >= s->size || dest_parse(v, &d, NULL, 0)))
			goto bad;
		snprintf(base, s->size, "%s", v);
		return 0;
	}
	case K_SCHED:
		if (strlen(v) >= s->size || conf_backup_interval(v) < 0)
			goto bad;
		snprintf(base, s->size, "%s", v);
		return 0;
	case K_TLS:
		for (int i = 0; tls_names[i]; i++)
			if (!strcasecmp(v, tls_names[i])) {
				*(int *)(void *)base = i;
				return 0;
			}
		goto bad;
	case K_BINDS: {
		char tmp[256];
		snprintf(tmp, sizeof(tmp), "%s", v);
		c->nbinds = 0;
		for (char *save = NULL, *t = strtok_r(tmp, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
			if (c->nbinds == CONF_MAX_BINDS || strlen(t) >= sizeof(c->binds[0]))
				goto bad;
			snprintf(c->binds[c->nbinds++], sizeof(c->binds[0]), "%s", t);
		}
		return 0;
	}
	}
bad:
	snprintf(err, cap, "invalid value '%s' for %s.%s (%s)", v, s->section, s->key, help_of(s));
	return EINVAL;
}

int conf_set(struct conf *c, const char *section, const char *key,
	     const char *value, char *err, size_t cap)
{
	for (size_t i = 0; i < NSETTINGS; i++)
		if (!strcasecmp(settings[i].section, section) && !strcasecmp(settings[i].key, key))
			return apply(c, &settings[i], value, err, cap);
	snprintf(err, cap, "unknown setting %s.%s", section, key);
	return EINVAL;
}

/* --- the settings as data ------------------------------------------------ */

static struct conf_info infos[NSETTINGS];

static void infos_init(void)
{
	/* filled once (pthread_once) from the one table */
	static const enum conf_type types[] = {
		[K_STR] = CONF_STRING, [K_U16] = CONF_INT,   [K_U32] = CONF_INT,
		[K_BINDS] = CONF_STRING, [K_RANGE] = CONF_STRING, [K_LEVEL] = CONF_LEVEL,
		[K_BOOL] = CONF_BOOL,  [K_ALGS] = CONF_STRING, [K_CODECS] = CONF_STRING,
		[K_SMTP_URL] = CONF_STRING, [K_MAIL_FROM] = CONF_STRING, [K_DEST] = CONF_STRING, [K_SECRET] = CONF_STRING,
		[K_TLS] = CONF_CHOICE, [K_SCHED] = CONF_STRING, [K_CIDRS] = CONF_STRING,
	};
	for (size_t i = 0; i < NSETTINGS; i++) {
		const struct setting *s = &settings[i];
		bool num = s->kind == K_U16 || s->kind == K_U32;
		infos[i] = (struct conf_info){ .section = s->section, .key = s->key, .help = help_of(s),
					       .type = types[s->kind], .min = num ? s->min : 0,
					       .max = num ? s->max : 0, .live = s->when == C_LIVE,
					       .editable = s->when != C_FIXED,
					       .secret = s->kind == K_SECRET,
					       .choices = s->kind == K_TLS ? tls_names : NULL,
					       .group = s->group ? s->group : "advanced",
					       .label = s->label ? s->label : s->key };
	}
}

size_t conf_info_count(void)
{
	return NSETTINGS;
}

const struct conf_info *conf_info_at(size_t i)
{
	if (i >= NSETTINGS)
		return NULL;
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, infos_init);
	return &infos[i];
}

static const struct setting *by_name(const char *name, size_t *idx)
{
	const char *dot = name ? strchr(name, '.') : NULL;
	if (!dot)
		return NULL;
	size_t sl = (size_t)(dot - name);
	for (size_t i = 0; i < NSETTINGS; i++)
		if (strlen(settings[i].section) == sl && !strncmp(settings[i].section, name, sl) &&
		    !strcmp(settings[i].key, dot + 1)) {
			if (idx)
				*idx = i;
			return &settings[i];
		}
	return NULL;
}

const struct conf_info *conf_info_find(const char *name)
{
	size_t i;
	return by_name(name, &i) ? conf_info_at(i) : NULL;
}

int conf_get(const struct conf *c, const char *name, char *out, size_t cap)
{
	const struct setting *s = by_name(name, NULL);
	if (!s || !out || !cap)
		return EINVAL;
	const char *base = (const char *)c + s->off;
	int n = 0;
	switch (s->kind) {
	case K_STR:
	case K_ALGS:
	case K_CODECS:
	case K_SMTP_URL:
	case K_MAIL_FROM:
	case K_SECRET:
	case K_DEST:
	case K_SCHED:
	case K_CIDRS:
		n = snprintf(out, cap, "%s", base);
		break;
	case K_TLS: {
		int t = *(const int *)(const void *)base;
		n = snprintf(out, cap, "%s", t >= 0 && t <= 2 ? tls_names[t] : "try");
		break;
	}
	case K_U16:
		n = snprintf(out, cap, "%u", (unsigned)*(const uint16_t *)(const void *)base);
		break;
	case K_U32:
		n = snprintf(out, cap, "%u", (unsigned)*(const uint32_t *)(const void *)base);
		break;
	case K_LEVEL:
		n = snprintf(out, cap, "%s", log_level_name((enum log_level)c->log_level));
		break;
	case K_BOOL:
		n = snprintf(out, cap, "%s", *(const bool *)(const void *)base ? "yes" : "no");
		break;
	case K_RANGE:
		n = snprintf(out, cap, "%u-%u", c->rtp_min, c->rtp_max);
		break;
	case K_BINDS:
		out[0] = '\0';
		for (int i = 0; i < c->nbinds; i++) {
			size_t used = strlen(out);
			n = snprintf(out + used, cap - used, "%s%s", i ? "," : "", c->binds[i]);
			if (n < 0 || (size_t)n >= cap - used)
				return ENOSPC;
		}
		return 0;
	}
	return n < 0 || (size_t)n >= cap ? ENOSPC : 0;
}

int conf_set_name(struct conf *c, const char *name, const char *value, char *err, size_t cap)
{
	const struct setting *s = by_name(name, NULL);
	if (!s) {
		snprintf(err, cap, "unknown setting %s", name ? name : "(none)");
		return EINVAL;
	}
	return apply(c, s, value, err, cap);
}

int conf_check(const struct conf *c, char *err, size_t cap)
{
	if (c->min_expires > c->max_expires) {
		snprintf(err, cap, "registrar.min_expires: %u is larger than registrar.max_expires (%u)",
			 c->min_expires, c->max_expires);
		return EINVAL;
	}
	return 0;
}

void conf_copy_live(struct conf *dst, const struct conf *src)
{
	for (size_t i = 0; i < NSETTINGS; i++)
		if (settings[i].when == C_LIVE)
			memcpy((char *)dst + settings[i].off, (const char *)src + settings[i].off,
			       settings[i].size);
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	char *e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
		*--e = '\0';
	return s;
}

int conf_load_file(struct conf *c, const char *path, char *err, size_t cap)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, cap, "%s: %s", path, strerror(errno));
		return errno;
	}
	char line[512], section[64] = "general";
	int lineno = 0, rc = 0;
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		char *s = trim(line);
		if (!*s || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			char *e = strchr(s, ']');
			if (!e) {
				snprintf(err, cap, "%s:%d: unclosed section", path, lineno);
				rc = EINVAL;
				break;
			}
			*e = '\0';
			snprintf(section, sizeof(section), "%s", trim(s + 1));
			continue;
		}
		char *eq = strchr(s, '=');
		if (!eq) {
			snprintf(err, cap, "%s:%d: expected key = value", path, lineno);
			rc = EINVAL;
			break;
		}
		*eq = '\0';
		char msg[256];
		if (conf_set(c, section, trim(s), trim(eq + 1), msg, sizeof(msg))) {
			snprintf(err, cap, "%s:%d: %s", path, lineno, msg);
			rc = EINVAL;
			break;
		}
	}
	fclose(f);
	return rc;
}

static void usage(void)
{
	printf("Usage: hookflashd [options]\n\n"
	       "Hookflash IP-PBX daemon. Settings come from defaults, then the\n"
	       "config file (default DATA_DIR/hookflash.conf), then these flags.\n\n"
	       "  %-28s read settings from FILE\n", "--config FILE");
	/* the flag with what it takes, as man pages write it */
	for (size_t i = 0; i < NSETTINGS; i++) {
		char flag[64];
		snprintf(flag, sizeof(flag), "%s %s", settings[i].flag,
			 settings[i].kind == K_BOOL ? "[yes|no]" : "VALUE");
		printf("  %-28s [%s] %s\n", flag, settings[i].section, help_of(&settings[i]));
	}
	printf("  --help, --version\n");
}

static const struct setting *by_flag(const char *flag)
{
	for (size_t i = 0; i < NSETTINGS; i++)
		if (!strcmp(settings[i].flag, flag))
			return &settings[i];
	return NULL;
}

int conf_from_args(struct conf *c, int argc, char **argv, char *err, size_t cap)
{
	/* Pass 1: where are the data and the file? */
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage();
			return -1;
		}
		if (!strcmp(argv[i], "--version")) {
			printf("hookflashd %s\n", HF_VERSION);
			return -1;
		}
		if (i + 1 < argc && !strcmp(argv[i], "--config"))
			snprintf(c->config_file, sizeof(c->config_file), "%s", argv[i + 1]);
		if (i + 1 < argc && !strcmp(argv[i], "--data-dir"))
			snprintf(c->data_dir, sizeof(c->data_dir), "%s", argv[i + 1]);
	}
	int rc;
	if (c->config_file[0]) {
		rc = conf_load_file(c, c->config_file, err, cap);
		if (rc)
			return EINVAL;
	} else {
		char path[300];
		snprintf(path, sizeof(path), "%s/hookflash.conf", c->data_dir);
		rc = conf_load_file(c, path, err, cap);
		if (rc && rc != ENOENT)
			return EINVAL;
	}
	/* Pass 2: flags override the file. */
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--config")) {
			i++;
			continue;
		}
		const struct setting *s = by_flag(argv[i]);
		if (!s) {
			snprintf(err, cap, "unknown option '%s' (try --help)", argv[i]);
			return EINVAL;
		}
		if (s->kind == K_BOOL && (i + 1 >= argc || argv[i + 1][0] == '-')) {
			*(bool *)(void *)((char *)c + s->off) = true;
			continue;
		}
		if (i + 1 >= argc) {
			snprintf(err, cap, "option %s needs a value", argv[i]);
			return EINVAL;
		}
		if (apply(c, s, argv[++i], err, cap))
			return EINVAL;
	}
	return conf_check(c, err, cap);
}
