/*
 * Live state for the web threads. The registrar, the calls and the ban
 * list belong to the signalling loop; a web thread never touches them.
 * Each function here posts a small job to the loop (loop_post), which
 * copies what was asked into plain structs, and waits for the answer a
 * bounded time, so a stuck loop costs a 503, not a hung web thread.
 * These functions are for web threads only: called on the loop they would
 * wait for themselves.
 */
#ifndef HF_PBX_WEB_H
#define HF_PBX_WEB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "pbx_status.h"

/* Made and freed by core/pbx (pbx.h), lent to the web server. */
struct pbx_web;

/* How long a web thread waits for the loop before giving up (ETIMEDOUT). */
#define PBX_WEB_WAIT_MS 2000
/* A reload also waits for the store thread to read the extensions. */
#define PBX_WEB_RELOAD_WAIT_MS 5000

/* Any thread: wakes every waiter (they return ESHUTDOWN) and refuses new
 * requests. */
void pbx_web_shutdown(struct pbx_web *pw);

struct pbx_web_reg {
	char ext[32];
	char contact[512];
	char source[96];
	uint32_t expires_in;
	char user_agent[256];
};

struct pbx_web_call {
	uint32_t id;
	char caller[64], callee[64];
	char state[16];
	uint32_t duration_s;
	char codec[32];
};

struct pbx_web_ban {
	char addr[64];
	char user[24];      /* whose failures started it; "" unknown */
	bool user_only;     /* only user is refused from addr (it holds phones) */
	uint32_t failures;
	uint32_t banned_for_s;
	int64_t since, until; /* wall clock, seconds since the epoch */
	char reason[160];
};

/* A recent authentication failure (the loop keeps the last 200). */
struct pbx_web_auth_failure {
	int64_t time_ms;    /* wall clock */
	char addr[64];
	char user[32];
	char reason[48];
};

/* Each returns 0, ETIMEDOUT (the loop did not answer in time),
 * ESHUTDOWN (stopping) or ENOMEM. Lists are malloc'd (free() them; NULL
 * when empty). ext, when not NULL, keeps only that extension's entries
 * (calls: as caller or callee). */
/* The snapshot the control socket's "status" renders too. */
int pbx_web_status(struct pbx_web *pw, struct pbx_status *out);
int pbx_web_registrations(struct pbx_web *pw, const char *ext, struct pbx_web_reg **out,
			  size_t *n);
int pbx_web_calls(struct pbx_web *pw, const char *ext, struct pbx_web_call **out, size_t *n);
int pbx_web_bans(struct pbx_web *pw, struct pbx_web_ban **out, size_t *n);
/* Newest first. */
int pbx_web_auth_failures(struct pbx_web *pw, struct pbx_web_auth_failure **out, size_t *n);
/* ENOENT when there is no such call / no such ban. */
int pbx_web_hangup(struct pbx_web *pw, uint32_t call_id);
int pbx_web_unban(struct pbx_web *pw, const char *addr);
/* Reloads the extensions from the database and returns once the new
 * snapshot is live (or with the reload's error). */
int pbx_web_reload(struct pbx_web *pw);
struct conf;
/* A copy of the settings in effect. */
int pbx_web_conf(struct pbx_web *pw, struct conf *out);
/* Re-reads the settings (file, then those saved in the database) and
 * applies the live ones (pbx_reconfigure); returns once they are in
 * effect. */
int pbx_web_reconfigure(struct pbx_web *pw);

/* Sending a test e-mail waits for the SMTP exchange: its connect and
 * total timeouts (core/mail), and a margin. */
#define PBX_WEB_MAIL_WAIT_MS 80000
/* Sends one test e-mail to to (pbx_email_test) and returns once the SMTP
 * server took it (0) or not: EINVAL (not an address), ENOTCONN (no
 * server set), EIO and the like with why filled (never the password). */
int pbx_web_email_test(struct pbx_web *pw, const char *to, char *why, size_t cap);

struct pbx_web_mail {
	bool configured;      /* email.smtp_url is set */
	unsigned pending;     /* queued, being sent, waiting to be retried */
	char last_error[300]; /* the last failure ("" after a success) */
	int64_t last_error_at; /* unix s; 0: none */
};
int pbx_web_email_status(struct pbx_web *pw, struct pbx_web_mail *out);

/* A mailbox's messages changed (a web thread marked one listened to or
 * deleted one): tells the signalling loop, whose MWI module updates the
 * phones' lamps. Does not wait; 0, ESHUTDOWN or ENOMEM. */
int pbx_web_mwi_changed(struct pbx_web *pw, const char *mailbox);

/* --- the daemon's log (any thread: no wait on the loop) --------------- */
#include "../base/log.h"
/* The recent log lines after seq since at or above max_level, oldest
 * first (log_ring_read); *next is the seq to ask after next time. */
size_t pbx_web_logs(uint64_t since, int max_level, struct log_line *out, size_t cap,
		    uint64_t *next);

#endif
