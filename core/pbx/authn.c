/*
 * Request authentication (see authn.h). The order of checks matters:
 * the ban list first (a banned source costs one lookup), then the
 * response, computed whether the user exists or not; only a correct
 * response may learn that its nonce is stale or replayed, as RFC 7616
 * 3.3 intends for stale=true.
 */
#include "authn.h"

#include <errno.h>
#include <stdio.h>

#include "../base/log.h"
#include "../sip/auth.h"
#include "../sip/ban.h"
#include "../sip/msg.h"
#include "ext_table.h"

static void note_failure(struct authn *a, const struct sip_peer *from,
			 uint64_t now, const char *why, struct pl user)
{
	char who[96];
	a->failures++;
	sip_peer_str(from, who, sizeof(who));
	log_info("authn", "authentication failed from %s for user '%.*s': %s", who,
		 (int)(user.l > 64 ? 64 : user.l), user.p ? user.p : "", why);
	if (ban_record_failure(a->bans, (const struct sockaddr *)&from->addr, now)) {
		a->bans_started++;
		char addr[64];
		sip_peer_addr_str(from, addr, sizeof(addr));
		log_warn("authn", "banning %s after repeated authentication failures", addr);
	}
}

/* Picks the credentials meant for our realm among possibly several
 * Authorization headers (a phone may carry ones for other realms). */
static const struct sip_hdr *find_cred(const struct sip_msg *req, enum sip_hdr_id id,
				       const char *realm, struct digest_cred *c, int *perr)
{
	*perr = 0;
	for (const struct sip_hdr *h = sip_msg_hdr_next(req, id, NULL); h;
	     h = sip_msg_hdr_next(req, id, h)) {
		int err = digest_cred_parse(c, h->value);
		if (err) {
			*perr = err;
			continue;
		}
		if (pl_casestr(c->realm, realm))
			return h;
	}
	return NULL;
}

enum authn_result authn_check(struct authn *a, const struct sip_msg *req,
			      const struct sip_peer *from, const struct ext_table *exts,
			      bool proxy, const struct ext **ext, struct sbuf *hdrs)
{
	uint64_t now = a->now_ms(a->now_arg);
	const struct sockaddr *sa = (const struct sockaddr *)&from->addr;
	if (ban_is_banned(a->bans, sa, now))
		return AUTHN_BANNED;

	struct digest_cred c;
	int perr;
	enum sip_hdr_id id = proxy ? SIP_HDR_PROXY_AUTHORIZATION : SIP_HDR_AUTHORIZATION;
	if (!find_cred(req, id, a->realm, &c, &perr)) {
		if (perr) /* credentials we cannot even read */
			note_failure(a, from, now, "malformed credentials", PL_NULL);
		else if (sip_msg_hdr(req, id))
			note_failure(a, from, now, "credentials for another realm", PL_NULL);
		if (ban_is_banned(a->bans, sa, now))
			return AUTHN_BANNED;
		auth_challenge(hdrs, a->nonces, now, a->realm, false, proxy);
		return AUTHN_CHALLENGE;
	}

	int nerr = auth_nonce_check(a->nonces, c.nonce, now);
	const struct ext *e = ext_table_find(exts, c.username);
	const char *password = (e && e->enabled) ? e->password : NULL;
	/* Always verify, even with a foreign nonce or an unknown user: same
	 * work, same timing, same answer. */
	bool ok = digest_verify(&c, req->method, password) && password;
	if (!ok) {
		note_failure(a, from, now, "wrong credentials", c.username);
		if (ban_is_banned(a->bans, sa, now))
			return AUTHN_BANNED;
		auth_challenge(hdrs, a->nonces, now, a->realm, false, proxy);
		return AUTHN_CHALLENGE;
	}
	/* The password is right but the nonce is not one of ours any more:
	 * expired, or minted before a restart (the nonce key is per process).
	 * Not a failure: a whole office behind one NAT address re-registering
	 * after a restart must not get itself banned. */
	if (nerr == ESTALE || nerr == EINVAL) {
		auth_challenge(hdrs, a->nonces, now, a->realm, true, proxy);
		return AUTHN_CHALLENGE;
	}
	if (auth_nonce_use(a->nonces, c.nonce, c.nc_val, now)) {
		note_failure(a, from, now, "replayed nonce count", c.username);
		if (ban_is_banned(a->bans, sa, now))
			return AUTHN_BANNED;
		auth_challenge(hdrs, a->nonces, now, a->realm, false, proxy);
		return AUTHN_CHALLENGE;
	}
	ban_record_success(a->bans, sa);
	*ext = e;
	return AUTHN_OK;
}
