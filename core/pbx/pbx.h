/*
 * The PBX context: everything the signalling loop owns, wired together and
 * passed around explicitly (no global struct). main.c builds one; the
 * control socket and signal handlers act on it.
 */
#ifndef HF_PBX_H
#define HF_PBX_H

#include <stdint.h>
#include <time.h>

#include "../base/conf.h"
#include "../base/loop.h"
#include "../call/app.h"
#include "../ident/authn.h"
#include "pbx_settings.h"

struct loop;
struct store;
struct sip_transport;
struct sip_tsx_layer;
struct registrar;
struct ext_table;
struct numplan;
struct ban_list;
struct auth_nonces;
struct domains;
struct ctl_server;
struct call_mgr;
struct prompts;
struct web_server;
struct jobs;
struct mailer;
struct mwi;

struct pbx {
	struct conf conf;
	char db_path[320];
	struct loop *loop;
	struct store *store;
	struct sip_transport *tp;
	struct sip_tsx_layer *tsx;
	struct auth_nonces *nonces;
	struct ban_list *bans;
	struct authn authn;
	struct registrar *reg;
	struct ext_table *exts;
	struct numplan *plan;
	struct app_services services; /* what the apps may ask of us */       /* read when a call is routed; swapped on reload */
	struct domains *domains;
	struct ctl_server *ctl;
	struct call_mgr *calls;
	struct prompts *prompts;    /* the apps' prompts at 8 and 16 kHz; immutable */
	struct mwi *mwi;            /* message waiting (core/mwi) */
	struct web_server *web;
	struct pbx_web *pw;
	struct jobs *jobs;     /* blocking work off the loop: SMTP */
	struct mailer *mailer; /* e-mail queue with retries ([email]) */
	uint64_t started_ms;
	time_t started_wall;
	uint64_t reloads;
	int sigfd;
	struct loop_timer housekeeping;
	/* On the loop: a mailbox's messages changed from the web (listened
	 * to, deleted), so its lamp may have to change (pbx_web_mwi_changed).
	 * NULL until the MWI module is connected. */
	void (*mwi_changed)(struct pbx *p, const char *mailbox);
};

/* Builds the whole signalling side from conf: opens sockets, loads the
 * extensions and the saved registrations. */
int pbx_alloc(struct pbx **out, const struct conf *conf);
void pbx_free(struct pbx *p);
int pbx_run(struct pbx *p);

typedef void(pbx_reload_done_h)(int err, void *arg);
/* Re-reads the extensions on the store thread and swaps them in on the
 * loop; done (may be NULL) runs on the loop when it has taken effect. */
void pbx_reload(struct pbx *p, pbx_reload_done_h *done, void *arg);
/* SIGHUP, and the web's settings page: re-reads hookflash.conf, then the
 * settings saved in the database (keys PBX_SETTING_PREFIX + "section.key",
 * written by the web UI; they win over the file), applies the live ones
 * (conf_info.live: log level, tracing, security, registrar and call
 * limits; addresses and ports wait for a restart), then reloads the
 * extensions; done (may be NULL) runs on the loop at the end. Calls in
 * progress keep what they were set up with. */
void pbx_reconfigure(struct pbx *p, pbx_reload_done_h *done, void *arg);


/* The administrator's "send a test e-mail" (control socket and web):
 * one attempt, no retries, to address to, with the file attach (NULL:
 * none) attached. done(err, why, arg) runs on the loop with the outcome,
 * unless this returns an error: EINVAL (not an address), ENOTCONN (no
 * SMTP server set), ENOMEM. */
typedef void(pbx_mail_done_h)(int err, const char *why, void *arg);
int pbx_email_test(struct pbx *p, const char *to, const char *attach, pbx_mail_done_h *done,
		   void *arg);

/* The one live-state snapshot (pbx_status.h), on the loop: what the
 * control socket's "status" and the web's /api/v1/status and /metrics
 * render. */
struct pbx_status;
void pbx_status_fill(const struct pbx *p, struct pbx_status *out);

/* The web threads' queue to the loop (pbx_web.h): pbx_alloc makes it for
 * the web server, which borrows it. pbx_web_free runs on the loop's
 * thread once the loop no longer runs and every web thread stopped
 * (pbx_free): it frees jobs the loop never answered. */
struct pbx_web;
int pbx_web_alloc(struct pbx_web **out, struct pbx *p);
void pbx_web_free(struct pbx_web *pw);

/* Message waiting (pbx_mwi.c), on the loop. pbx_mwi_changed: the
 * messages of mailbox changed (voicemail, the web): its subscribers get
 * NOTIFYs with fresh counts. pbx_mwi_notify: the same for the control
 * socket's "mwi notify N", ENOENT when N is no enabled extension.
 * pbx_mwi_counts is struct mwi_deps.counts (deps_arg: the pbx);
 * pbx_mwi_load restores the saved subscriptions at start. */
void pbx_mwi_changed(struct pbx *p, const char *mailbox);
int pbx_mwi_notify(struct pbx *p, const char *mailbox);
void pbx_mwi_counts(const char *mailbox, void (*done)(int new_msgs, int old_msgs, void *arg),
		    void *arg, void *deps_arg);
int pbx_mwi_load(struct pbx *p);
/* Unsolicited NOTIFYs (no subscription) with mailbox's counts to every
 * phone registered for that extension, for phones configured to expect
 * them; nothing calls it yet (an extension setting will). */
int pbx_mwi_unsolicited(struct pbx *p, const char *mailbox);

/* The SIP request entry point (dispatch.c). */
struct sip_tsx;
struct sip_msg;
struct sip_peer;
void pbx_on_request(struct sip_tsx *st, const struct sip_msg *msg,
		    const struct sip_peer *from, void *arg);

#endif
