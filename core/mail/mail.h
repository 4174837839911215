/*
 * Outgoing e-mail (voicemail to e-mail, the administrator's test message)
 * over SMTP with libcurl. Two halves:
 *
 *   mail_send    one blocking attempt: connect (smtp:// with STARTTLS as
 *                the tls setting asks, or smtps://), log in, MAIL FROM,
 *                RCPT TO, a MIME message (a text part and an optional
 *                attachment, e.g. the voicemail WAV). Runs on a worker
 *                thread (core/base/jobs.h), never on the signalling loop;
 *                its timeouts bound how long a dead server holds it.
 *   struct mailer  on the signalling loop: a queue in front of mail_send
 *                with retries and backoff (1 min, 5 min, 30 min, then the
 *                message is given up: "failed"), the last error kept for
 *                the web, failures logged without the password.
 *
 * This module sits above base and includes nothing else.
 */
#ifndef HF_MAIL_H
#define HF_MAIL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum mail_tls {
	MAIL_TLS_OFF = 0, /* plain SMTP (a server on this box or a LAN relay) */
	MAIL_TLS_TRY,     /* STARTTLS when the server offers it */
	MAIL_TLS_REQUIRE, /* STARTTLS or no mail (smtps:// is TLS anyway) */
};

struct mail_cfg {
	char smtp_url[256];  /* smtp://host:587 or smtps://host:465; "" = mail off */
	char from[256];      /* "pbx@example.com" or "Hookflash <pbx@example.com>" */
	char username[128];  /* "" = no login */
	char password[128];  /* a secret: never logged, never shown */
	enum mail_tls tls;
	uint32_t connect_timeout_s; /* 0: 10 s */
	uint32_t timeout_s;         /* the whole exchange; 0: 60 s */
	/* when not NULL and set, a transfer in progress stops (ECANCELED):
	 * how shutdown gets its worker back without waiting for a timeout */
	const atomic_bool *cancel;
};

#define MAIL_ADDR_MAX 256

struct mail_msg {
	char to[MAIL_ADDR_MAX], subject[256];
	char *text;               /* the body, UTF-8; may be NULL */
	const char *attach_path;  /* NULL: no attachment */
	const char *attach_name;  /* the file name the reader sees */
	const char *attach_type;  /* e.g. "audio/wav" */
};

/* Fills cfg's defaults (no server, tls "try", the timeouts). */
void mail_cfg_defaults(struct mail_cfg *cfg);

/* One attempt, blocking. 0 when the server accepted the message; else an
 * errno-style code with a one-line reason in err (never the password):
 * EINVAL (no server set, a bad address or header), ENOENT (attachment
 * missing), ECONNREFUSED, ETIMEDOUT, EACCES (login refused), ECANCELED,
 * EIO (anything else the server or TLS said). */
int mail_send(const struct mail_cfg *cfg, const struct mail_msg *m, char *err, size_t errcap);

/* A single address as RCPT TO takes it: local@domain, no spaces, angle
 * brackets, commas or line breaks. */
bool mail_addr_valid(const char *addr);
/* Copies the bare address of "Name <a@b>" or "a@b" into out; EINVAL when
 * there is none. */
int mail_addr_of(const char *from, char *out, size_t cap);

/* --- the queue on the signalling loop ----------------------------------- */

struct mailer;
struct jobs;
struct loop;

/* err 0: delivered; else the last attempt's error and why (the message
 * was given up). Runs on the loop. */
typedef void(mailer_done_h)(int err, const char *why, void *arg);

/* Retry delays (ms) after the first, second and third failed attempt;
 * after the last one the message is given up. */
#define MAILER_RETRIES 3
extern const uint32_t mailer_retry_ms[MAILER_RETRIES];

/* On loop's thread; jobs runs the sends (its completions must come home
 * to loop). cfg is copied. */
int mailer_alloc(struct mailer **out, struct jobs *jobs, struct loop *loop,
		 const struct mail_cfg *cfg);
/* New settings for messages sent from now on (a reload). */
void mailer_configure(struct mailer *m, const struct mail_cfg *cfg);
/* Queues msg (copied, attachment path included: the file must stay until
 * done) with retries; done (may be NULL) runs once, when it was delivered
 * or given up. EINVAL (bad address), ENOMEM, ENOTCONN (no server set). */
int mailer_send(struct mailer *m, const struct mail_msg *msg, mailer_done_h *done, void *arg);
/* One attempt, no retries: the administrator's "send a test e-mail",
 * which wants the outcome now, not in half an hour. */
int mailer_send_once(struct mailer *m, const struct mail_msg *msg, mailer_done_h *done,
		     void *arg);
/* The last failure's reason ("" when the last attempt succeeded or none
 * was made), with the unix time it happened (0: none). */
const char *mailer_last_error(const struct mailer *m, int64_t *when);
/* Messages queued, being sent or waiting to be retried. */
unsigned mailer_pending(const struct mailer *m);
/* Stops the sends in progress (they fail with ECANCELED) and drops the
 * queue; no done runs from now on. Memory still used by a send in
 * progress is released when its job completes (jobs_free at the latest). */
void mailer_free(struct mailer *m);

#endif
