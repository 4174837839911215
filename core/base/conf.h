/*
 * Daemon settings: built-in defaults, then hookflash.conf (a small INI file
 * in the data directory or given with --config), then command-line flags.
 * These are the process-level settings (where to listen, where the data
 * lives); the telephony configuration (extensions, later trunks and the
 * dialplan) lives in SQLite and is edited through the CLI and the web UI.
 */
#ifndef HF_CONF_H
#define HF_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec_names.h"

#define CONF_MAX_BINDS 4

struct conf {
	char data_dir[256];
	char config_file[256];
	char run_user[64]; /* the user a root-started daemon drops to; "": hookflash */
	char binds[CONF_MAX_BINDS][64]; /* IPv4 / IPv6 literals */
	int nbinds;
	uint16_t sip_udp_port;
	uint16_t sip_tcp_port;
	uint16_t rtp_min, rtp_max;
	uint16_t http_port, https_port;
	char external_addr[64];
	char domain[128];
	int log_level;
	bool sip_trace;

	/* registrar */
	uint32_t min_expires, max_expires, default_expires;
	/* digest */
	uint32_t nonce_ttl;
	char digest_algs[32]; /* offered in this order: "MD5,SHA-256" */
	/* brute-force protection */
	uint32_t auth_fail_limit;  /* failures ... */
	uint32_t auth_fail_window; /* ... within this many seconds ... */
	uint32_t ban_time;         /* ... ban the source this long */
	char trusted_networks[256]; /* CIDR list never banned ("": none) */
	/* server transactions holding a request, per source and in all */
	uint32_t tsx_max_per_source, tsx_max;
	/* calls */
	uint32_t max_calls;          /* system-wide concurrent calls */
	uint32_t ext_max_calls;      /* per extension, unless it sets its own */
	uint32_t no_answer_timeout;  /* s of ringing before giving up */
	uint32_t rtp_timeout;        /* s without RTP (not on hold) ends a call */
	uint32_t session_expires;    /* RFC 4028 interval we ask for (s) */
	uint32_t media_workers;      /* 0: one per core */
	uint32_t media_coalesce_us;  /* media worker interrupt coalescing */
	char codecs[CODEC_LIST_TEXT_MAX]; /* the default codec policy, a
				      * codec list (codec_names.h), never
				      * empty */
	bool ringback;               /* ringback tone while the callee rings */
	char sounds_dir[256];        /* prompts by name: DIR/NAME.wav */
	bool opus_low_cpu;           /* transcode to opus with CELT only */
	uint32_t opus_low_cpu_above; /* ... while a worker is busier (%) */
	/* voicemail (core/base/pin.h, db/voicemail.h) */
	uint32_t vm_pin_min_len;     /* digits a new PIN needs, 4..12 */
	uint32_t vm_pin_lock_after;  /* wrong PINs in a row that lock a mailbox */
	uint32_t vm_pin_lock_secs;   /* ... for this long */
	char vm_operator[64];        /* '0' during a greeting goes here; "": nowhere */
	/* TCP */
	uint32_t tcp_idle_timeout;
	uint32_t tcp_max_conns;
	uint32_t tcp_max_conns_per_addr; /* per address (IPv6: per /64); 0: none */
	uint32_t tcp_first_msg_timeout;  /* s to the first whole message; 0: none */
	/* e-mail (core/mail): voicemail to e-mail, the test message */
	char smtp_url[256];      /* smtp://host:587, smtps://host:465; "" = off */
	char mail_from[256];     /* "pbx@example.com" or "Name <pbx@example.com>" */
	char smtp_user[128];     /* "" = no login */
	char smtp_password[128]; /* a secret: conf_info.secret */
	int smtp_tls;            /* CONF_TLS_OFF, _TRY, _REQUIRE */
	/* scheduled backups (db/backup.c, core/pbx/backup_sched.c) */
	char backup_schedule[16]; /* off, hourly, daily, weekly, or Ns */
	uint32_t backup_keep;     /* the newest N stay */
	char backup_dir[256];     /* "": DATA_DIR/backups */
	bool backup_voicemail;    /* scheduled backups include voicemail */
};

/* Seconds between scheduled backups for a backup.schedule value: 0 for
 * "off", -1 when it is not one (off, hourly, daily, weekly, or a number
 * of seconds from 1 to 604800 followed by "s", for tests and the
 * unusual). */
long conf_backup_interval(const char *schedule);

enum { CONF_TLS_OFF = 0, CONF_TLS_TRY, CONF_TLS_REQUIRE };

void conf_defaults(struct conf *c);

/* Applies one "section.key = value" setting; EINVAL names the bad value
 * in err (cap bytes). */
int conf_set(struct conf *c, const char *section, const char *key,
	     const char *value, char *err, size_t cap);

/* Reads an INI file. ENOENT is returned (and is not fatal to callers
 * that use defaults) when the file does not exist. */
int conf_load_file(struct conf *c, const char *path, char *err, size_t cap);

/* Parses argv flags of hookflashd. Returns 0, EINVAL with err set, or
 * -1 when --help/--version was handled (caller exits 0). The --config and
 * --data-dir flags are looked at first so the file can be read before the
 * remaining flags override it. */
int conf_from_args(struct conf *c, int argc, char **argv, char *err, size_t cap);

/* --- the settings as data (for the web API) ---------------------------- */

enum conf_type { CONF_STRING, CONF_INT, CONF_BOOL, CONF_LEVEL, CONF_CHOICE };

struct conf_info {
	const char *section, *key, *help;
	enum conf_type type;
	uint32_t min, max; /* CONF_INT: the accepted range */
	bool live;         /* a reload applies it; otherwise the next start */
	bool editable;     /* false for where the data lives (data_dir) */
	bool secret;       /* a password: never logged, never shown back */
	const char *const *choices; /* CONF_CHOICE: the words, NULL-ended */
	const char *group;          /* "basic" or "advanced" (the settings page) */
	const char *label;          /* in plain words, e.g. "Public address (behind NAT)" */
};

/* The i-th setting (i < conf_info_count()), in the order of --help. */
size_t conf_info_count(void);
const struct conf_info *conf_info_at(size_t i);
/* By "section.key"; NULL when there is no such setting. */
const struct conf_info *conf_info_find(const char *name);
/* Writes the value of "section.key" in c as conf_set() would read it.
 * EINVAL for an unknown name, ENOSPC when out is too small. */
int conf_get(const struct conf *c, const char *name, char *out, size_t cap);
/* Sets "section.key" (conf_set() with the name joined). */
int conf_set_name(struct conf *c, const char *name, const char *value, char *err, size_t cap);
/* Checks what no single setting can: min_expires <= max_expires. EINVAL
 * with err "section.key: why" naming the setting at fault. */
int conf_check(const struct conf *c, char *err, size_t cap);
/* Copies every live setting of src into dst, leaving the others (what
 * only a restart changes) as they are. */
void conf_copy_live(struct conf *dst, const struct conf *src);

#endif
