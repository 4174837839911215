/*
 * Where each new SIP request goes. Checks every request must pass (RFC
 * 3261 8.2: parse errors, URI scheme, Require/Proxy-Require) come first,
 * then the method picks the handler: REGISTER to the registrar, INVITE,
 * CANCEL and in-dialog requests to the call layer, SUBSCRIBE (new or in
 * its dialog) to message waiting, OPTIONS answered here.
 */
#include <stdio.h>
#include <string.h>

#include "../base/log.h"
#include "../base/loop.h"
#include "../sip/ban.h"
#include "../call/call.h"
#include "../mwi/mwi.h"
#include "../reg/registrar.h"
#include "../sip/msg.h"
#include "../sip/tsx.h"
#include "../ident/domains.h"
#include "../ident/ext_table.h"
#include "pbx.h"

#define ALLOW_HDR "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, UPDATE, INFO, SUBSCRIBE\r\n"

static void reply(struct sip_tsx *st, uint16_t status, const char *reason, const char *hdrs)
{
	int err = sip_tsx_reply(st, status, reason, hdrs);
	if (err)
		log_debug("sip", "cannot send %u: %s", status, strerror(err));
}

static void on_register(struct pbx *p, struct sip_tsx *st, const struct sip_msg *m,
			const struct sip_peer *from)
{
	if (!domains_match(p->domains, m->ruri.host)) {
		reply(st, 404, "Domain Not Served", NULL);
		return;
	}
	struct sbuf hdrs;
	sbuf_init(&hdrs);
	const struct ext *e = NULL;
	switch (authn_check(&p->authn, m, from, p->exts, false, &e, &hdrs)) {
	case AUTHN_BANNED:
		sip_tsx_drop(st); /* silence: a scanner gets nothing to count */
		break;
	case AUTHN_CHALLENGE: {
		/* once, without a transaction (RFC 3261 26.3.2.4) */
		int err = sip_tsx_reply_stateless(st, 401, "Unauthorized", hdrs.err ? NULL : hdrs.p);
		if (err)
			log_debug("sip", "cannot send 401: %s", strerror(err));
		break;
	}
	case AUTHN_FORBIDDEN:
		/* this user failed too often from here; the address's other
		 * phones keep working */
		reply(st, 403, "Forbidden", NULL);
		break;
	case AUTHN_OK:
		/* The credentials must belong to the address registered:
		 * 1001 may not register 1002's phone (RFC 3261 10.3 step 3). */
		if (!pl_casestr(m->to.uri.user, e->number)) {
			reply(st, 403, "Forbidden", NULL);
			break;
		}
		registrar_register(p->reg, st, m, from, e);
		break;
	}
	sbuf_free(&hdrs);
}

static void on_options(struct pbx *p, struct sip_tsx *st, const struct sip_msg *m,
		       const struct sip_peer *from)
{
	(void)p;
	(void)m;
	(void)from;
	reply(st, 200, "OK", ALLOW_HDR "Accept: application/sdp\r\nSupported: \r\n");
}

static void on_no_dialog(struct pbx *p, struct sip_tsx *st, const struct sip_msg *m,
			 const struct sip_peer *from)
{
	(void)p;
	(void)m;
	(void)from;
	reply(st, 481, "Call/Transaction Does Not Exist", NULL);
}

static void on_subscribe(struct pbx *p, struct sip_tsx *st, const struct sip_msg *m,
			 const struct sip_peer *from)
{
	if (p->mwi)
		mwi_on_subscribe(p->mwi, st, m, from);
	else
		reply(st, 489, "Bad Event", NULL);
}

static void on_invite(struct pbx *p, struct sip_tsx *st, const struct sip_msg *m,
		      const struct sip_peer *from)
{
	call_on_invite(p->calls, st, m, from);
}

static void on_cancel(struct pbx *p, struct sip_tsx *st, const struct sip_msg *m,
		      const struct sip_peer *from)
{
	call_on_cancel(p->calls, st, m, from);
}

struct method {
	const char *name;
	void (*h)(struct pbx *p, struct sip_tsx *st, const struct sip_msg *m,
		  const struct sip_peer *from);
};

static const struct method methods[] = {
	{ "REGISTER", on_register },
	{ "OPTIONS", on_options },
	{ "INVITE", on_invite },
	{ "CANCEL", on_cancel },
	{ "BYE", on_no_dialog },
	{ "SUBSCRIBE", on_subscribe },
};

/* Require/Proxy-Require name extensions we must understand; we
 * understand none yet, so any is answered 420 naming them (8.2.2.3). */
static bool check_require(struct sip_tsx *st, const struct sip_msg *m)
{
	struct sbuf u;
	sbuf_init(&u);
	for (const struct sip_hdr *h = m->hdrs; h < m->hdrs + m->nhdrs; h++)
		if ((h->id == SIP_HDR_REQUIRE || h->id == SIP_HDR_PROXY_REQUIRE) && h->value.l)
			sbuf_printf(&u, "Unsupported: %.*s\r\n", (int)h->value.l, h->value.p);
	bool ok = u.len == 0;
	if (!ok)
		reply(st, 420, "Bad Extension", u.err ? NULL : u.p);
	sbuf_free(&u);
	return ok;
}

void pbx_on_request(struct sip_tsx *st, const struct sip_msg *m,
		    const struct sip_peer *from, void *arg)
{
	struct pbx *p = arg;
	if (!st) { /* ACK for a 2xx: it belongs to a dialog, never answered */
		if (!m->error)
			call_on_in_dialog(p->calls, NULL, m, from);
		return;
	}
	/* A banned source gets nothing at all, except inside a dialog it
	 * already has: a BYE that ends a call is never dropped (a ban must
	 * not leave calls and media hanging). Trusted networks are never
	 * banned. */
	const struct sockaddr *sa = (const struct sockaddr *)&from->addr;
	if (!authn_trusted(&p->authn, sa) && ban_is_banned(p->bans, sa, loop_now(p->loop))) {
		bool in_dialog = !m->error && m->to.tag.p && !pl_eq(m->method, PL("REGISTER")) &&
				 !pl_eq(m->method, PL("CANCEL"));
		if (in_dialog && (pl_eq(m->method, PL("SUBSCRIBE"))
					  ? mwi_on_in_dialog(p->mwi, st, m, from)
					  : call_on_in_dialog(p->calls, st, m, from)))
			return;
		sip_tsx_drop(st);
		return;
	}
	if (m->error) {
		reply(st, m->error_status ? m->error_status : 400, m->error, NULL);
		return;
	}
	if (!pl_casestr(m->ruri.scheme, "sip") && !pl_casestr(m->ruri.scheme, "sips")) {
		reply(st, 416, "Unsupported URI Scheme", NULL);
		return;
	}
	if (!check_require(st, m))
		return;
	/* Inside a dialog (To tag): the call it belongs to, or 481. CANCEL
	 * carries the INVITE's To and goes by transaction instead. */
	if (m->to.tag.p && !pl_eq(m->method, PL("CANCEL")) && !pl_eq(m->method, PL("REGISTER"))) {
		if (pl_eq(m->method, PL("SUBSCRIBE"))) {
			if (!mwi_on_in_dialog(p->mwi, st, m, from))
				reply(st, 481, "Call/Transaction Does Not Exist", NULL);
			return;
		}
		if (!call_on_in_dialog(p->calls, st, m, from))
			reply(st, 481, "Call/Transaction Does Not Exist", NULL);
		return;
	}
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (pl_eq(m->method, pl_from(methods[i].name))) { /* case-sensitive */
			methods[i].h(p, st, m, from);
			return;
		}
	reply(st, 501, "Not Implemented", ALLOW_HDR);
}
