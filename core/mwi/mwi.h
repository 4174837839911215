/*
 * Message waiting indication: the lamp on a phone that says a voicemail
 * is waiting. Phones subscribe to their mailbox's "message-summary" event
 * (RFC 3842 over RFC 6665 SUBSCRIBE/NOTIFY); we answer with a NOTIFY of
 * the counts at once, again whenever they change (mwi_changed) or the
 * subscription is refreshed, and a last one when it ends. Subscriptions
 * live on the signalling loop and are written behind to the database
 * through the store thread, so a restart finds them and re-sends the
 * lamp state without waiting for the phones to subscribe again. How many
 * messages a mailbox holds is asked of whoever wires us (struct
 * mwi_deps.counts), asynchronously: that read is a database read, which
 * never happens on the loop.
 */
#ifndef HF_MWI_H
#define HF_MWI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../sip/transport.h"

struct loop;
struct store;
struct sip_transport;
struct sip_tsx_layer;
struct sip_tsx;
struct sip_msg;
struct authn;
struct ext_table;
struct conf;
struct sbuf;
struct db_mwi_sub;

#define MWI_DEFAULT_EXPIRES 3600
#define MWI_MIN_EXPIRES 60
#define MWI_MAX_EXPIRES 86400

/* Answers a counts request: done runs later, on the loop, exactly once
 * (new_msgs/old_msgs -1 when the mailbox could not be read). */
typedef void(mwi_counts_done_h)(int new_msgs, int old_msgs, void *arg);
typedef void(mwi_counts_h)(const char *mailbox, mwi_counts_done_h *done, void *arg,
			   void *deps_arg);

struct mwi_deps {
	struct loop *loop;
	struct store *store;             /* persistence; NULL: none */
	struct sip_transport *tp;        /* our Via and Contact towards a phone */
	struct sip_tsx_layer *tsx;       /* NOTIFYs go out as client transactions */
	struct authn *authn;
	struct ext_table *const *exts;   /* the live snapshot, swapped on reload */
	const struct conf *conf;         /* [sip] domain: the Message-Account host */
	mwi_counts_h *counts;
	void *deps_arg;
};

struct mwi;

int mwi_alloc(struct mwi **out, const struct mwi_deps *d);
/* Frees every subscription (no NOTIFY: the database keeps them for the
 * next start). */
void mwi_free(struct mwi *m);

/* A SUBSCRIBE outside any dialog (dispatch checked nothing but the
 * generic rules): Event message-summary is authenticated (digest 401, or
 * a trusted source), must name the subscriber's own mailbox (403), gets
 * 200 with Expires and a NOTIFY; any other event 489. */
void mwi_on_subscribe(struct mwi *m, struct sip_tsx *st, const struct sip_msg *req,
		      const struct sip_peer *from);
/* A SUBSCRIBE inside a dialog (To tag): refresh or unsubscribe (Expires:
 * 0). false when no subscription has that dialog (the caller answers
 * 481). */
bool mwi_on_in_dialog(struct mwi *m, struct sip_tsx *st, const struct sip_msg *req,
		      const struct sip_peer *from);

/* The messages of mailbox changed (a message left, listened to, deleted;
 * or an administrator asks to re-send the lamp state): every
 * subscription to it gets a NOTIFY with fresh counts. */
void mwi_changed(struct mwi *m, const char *mailbox);

/* A subscription read back at start (no store write); its NOTIFY with
 * the current counts goes out at once. ESTALE when it has expired. */
int mwi_restore(struct mwi *m, const struct db_mwi_sub *row, int64_t now_wall);

/* Ends (terminated;reason=noresource) the subscriptions of every mailbox
 * for which keep() says false: its extension was removed or disabled. */
typedef bool(mwi_keep_h)(const char *mailbox, void *arg);
void mwi_retain(struct mwi *m, mwi_keep_h *keep, void *arg);

size_t mwi_count(const struct mwi *m);

/* Unsolicited NOTIFY, for phones that light their lamp without
 * subscribing (RFC 3842 5.1.1 allows a notifier to send them): asks the
 * counts of mailbox, then sends each contact (at most MWI_UNSOL_MAX) an
 * out-of-dialog NOTIFY. The contacts are the registrar's bindings, which
 * whoever calls (pbx) looks up; they are copied. EINVAL, E2BIG, ENOMEM. */
#define MWI_UNSOL_MAX 16
struct mwi_contact {
	const char *uri;         /* the registered Contact: the Request-URI */
	struct sip_peer peer;    /* where it registered from: where to send */
};
int mwi_notify_unsolicited(struct mwi *m, const char *mailbox, const struct mwi_contact *to,
			   size_t n);

/* The application/simple-message-summary body (RFC 3842 5.2) into b:
 * "Messages-Waiting: yes|no", "Message-Account: ACCOUNT" (left out when
 * account is NULL or ""), "Voice-Message: NEW/OLD" (with " (0/0)" urgent
 * counts, which we do not keep). Negative counts (unknown) are sent as 0. */
void mwi_body(struct sbuf *b, const char *account, int new_msgs, int old_msgs);

#endif
