/*
 * Request authentication (see authn.h): the ban list first (a banned
 * source costs one lookup), then auth_check, which hashes whether the user
 * exists or not and lets only a correct response learn that its nonce is
 * stale (RFC 7616 3.3); then the failure accounting that feeds the bans.
 */
#include "authn.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

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

static void challenge(struct authn *a, struct sbuf *hdrs, uint64_t now, bool stale, bool proxy)
{
	enum digest_alg algs[2];
	for (size_t i = 0; i < a->nalgs && i < 2; i++)
		algs[i] = (enum digest_alg)a->algs[i];
	auth_challenge(hdrs, a->nonces, now, a->realm, stale, proxy, algs, a->nalgs);
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
		challenge(a, hdrs, now, false, proxy);
		return AUTHN_CHALLENGE;
	}

	const struct ext *e = ext_table_find(exts, c.username);
	const char *password = (e && e->enabled) ? e->password : NULL;
	bool offered = false;
	for (size_t i = 0; i < a->nalgs; i++)
		offered |= (int)c.alg == a->algs[i];
	if (!offered) /* e.g. MD5 when the admin allows SHA-256 only */
		password = NULL;
	/* auth_check hashes whether the user exists or not: same work, same
	 * answer for unknown users and wrong passwords. */
	switch (auth_check(a->nonces, &c, req->method, a->realm, password, now)) {
	case 0:
		break;
	case ESTALE:
		/* a right answer to an expired nonce: not a failure */
		challenge(a, hdrs, now, true, proxy);
		return AUTHN_CHALLENGE;
	case EINVAL:
		/* A nonce that is not ours, typically minted before a restart
		 * (the nonce key is per process). It proves nothing either way,
		 * so it is not counted: an office behind one NAT address
		 * re-registering after a restart must not get itself banned. */
		challenge(a, hdrs, now, false, proxy);
		return AUTHN_CHALLENGE;
	default: /* EACCES wrong credentials, EALREADY replayed nonce count */
		note_failure(a, from, now, "wrong credentials or replay", c.username);
		if (ban_is_banned(a->bans, sa, now))
			return AUTHN_BANNED;
		challenge(a, hdrs, now, false, proxy);
		return AUTHN_CHALLENGE;
	}
	ban_record_success(a->bans, sa);
	*ext = e;
	return AUTHN_OK;
}

void authn_set_algs(struct authn *a, const char *list)
{
	a->nalgs = 0;
	struct pl rest = pl_from(list);
	while (rest.l && a->nalgs < 2) {
		const char *comma = memchr(rest.p, ',', rest.l);
		struct pl tok = { rest.p, comma ? (size_t)(comma - rest.p) : rest.l };
		enum digest_alg alg;
		if (!digest_alg_parse(tok, &alg))
			a->algs[a->nalgs++] = (int)alg;
		if (!comma)
			break;
		rest.l -= tok.l + 1;
		rest.p = comma + 1;
	}
	if (!a->nalgs) {
		a->algs[0] = DIGEST_MD5;
		a->algs[1] = DIGEST_SHA256;
		a->nalgs = 2;
	}
}
