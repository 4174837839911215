/*
 * Unsolicited message-summary NOTIFYs (see mwi.h): for phones that are
 * configured to expect them instead of subscribing. Each is a request
 * outside any dialog, with a fresh Call-ID and tag, sent to the phone's
 * registered contact at the address it registered from; its answer
 * changes nothing (there is no subscription to end). The contacts are
 * copied while the counts are read on the store thread.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/log.h"
#include "../base/loop.h"
#include "../base/sbuf.h"
#include "../sip/msg.h"
#include "../sip/tsx.h"
#include "mwi_int.h"

struct unsol {
	struct list_node le;
	struct mwi *m;             /* NULL once mwi_free ran: done only frees */
	char mailbox[32];
	size_t n;
	struct {
		char uri[300];
		struct sip_peer peer;
	} to[MWI_UNSOL_MAX];
};

static void ignore_resp(const struct sip_msg *msg, int err, void *arg)
{
	(void)msg;
	(void)err;
	(void)arg;
}

static void send_one(struct mwi *m, const char *mailbox, const char *uri,
		     const struct sip_peer *peer, int new_msgs, int old_msgs)
{
	char via[128], contact[300], host[64], account[200], tag[24], cid[40], branch[40];
	mwi_local_for(m, peer, via, sizeof(via), contact, sizeof(contact), host, sizeof(host));
	mwi_account(m, mailbox, host, account, sizeof(account));
	sip_random_token(tag, sizeof(tag), 16);
	sip_random_token(cid, sizeof(cid), 32);
	sip_tsx_branch(branch, sizeof(branch));
	struct sbuf body, b;
	sbuf_init(&body);
	sbuf_init(&b);
	mwi_body(&body, account, new_msgs, old_msgs);
	sbuf_printf(&b,
		    "NOTIFY %s SIP/2.0\r\n"
		    "Via: %s;rport;branch=%s\r\n"
		    "Max-Forwards: 70\r\n"
		    "From: <%s>;tag=%s\r\n"
		    "To: <%s>\r\n"
		    "Call-ID: %s@hookflash\r\n"
		    "CSeq: 1 NOTIFY\r\n"
		    "Contact: <%s>\r\n"
		    "Event: message-summary\r\n"
		    "Subscription-State: active\r\n",
		    uri, via, branch, account, tag, account, cid, contact);
	sip_msg_build_end(&b, "application/simple-message-summary", body.p, body.len);
	int err = b.err || body.err ? ENOMEM : 0;
	if (!err)
		err = sip_tsx_send_request(m->d.tsx, peer, b.p, b.len, ignore_resp, NULL, NULL);
	if (err)
		log_warn(MWI_TAG, "cannot send an unsolicited NOTIFY for %s: %s", mailbox,
			 strerror(err));
	sbuf_free(&body);
	sbuf_free(&b);
}

static void on_counts(int new_msgs, int old_msgs, void *arg)
{
	struct unsol *u = arg;
	struct mwi *m = u->m;
	if (m) {
		list_remove(&m->unsol, &u->le);
		for (size_t i = 0; i < u->n; i++)
			send_one(m, u->mailbox, u->to[i].uri, &u->to[i].peer, new_msgs, old_msgs);
	}
	free(u);
}

int mwi_notify_unsolicited(struct mwi *m, const char *mailbox, const struct mwi_contact *to,
			   size_t n)
{
	loop_assert_owner(m ? m->d.loop : NULL);
	if (!m || !mailbox || !mailbox[0] || strlen(mailbox) >= 32 || (n && !to) || !m->d.counts)
		return EINVAL;
	if (n > MWI_UNSOL_MAX)
		return E2BIG;
	if (!n)
		return 0;
	struct unsol *u = calloc(1, sizeof(*u));
	if (!u)
		return ENOMEM;
	u->m = m;
	snprintf(u->mailbox, sizeof(u->mailbox), "%s", mailbox);
	for (size_t i = 0; i < n; i++) {
		if (!to[i].uri || strlen(to[i].uri) >= sizeof(u->to[i].uri)) {
			free(u);
			return EINVAL;
		}
		snprintf(u->to[i].uri, sizeof(u->to[i].uri), "%s", to[i].uri);
		u->to[i].peer = to[i].peer;
	}
	u->n = n;
	list_push_back(&m->unsol, &u->le);
	m->d.counts(u->mailbox, on_counts, u, m->d.deps_arg);
	return 0;
}

void mwi_unsol_orphan_all(struct mwi *m)
{
	struct list_node *n;
	while ((n = list_pop_front(&m->unsol)))
		container_of(n, struct unsol, le)->m = NULL;
}
