/*
 * Request authentication (see authn.h): the ban list first (a banned
 * source costs one lookup), then auth_check, which hashes whether the user
 * exists or not and lets only a correct response learn that its nonce is
 * stale (RFC 7616 3.3); then the failure accounting that feeds the bans.
 *
 * What counts as a failure is deliberately narrow: a wrong response (or
 * unknown user) answering a nonce we issued to this same address.
 * Unreadable headers, credentials for another realm, foreign, forged or
 * stale nonces, replays and a digest uri that names another resource all
 * get a fresh challenge and are never counted: each of them can be sent
 * by anyone with a forged source address, and none of them proves that
 * somebody at that address tried a password.
 */
#include "authn.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../base/log.h"
#include "../sip/auth.h"
#include "../sip/ban.h"
#include "../sip/msg.h"
#include "ext_table.h"

static int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void remember(struct authn *a, const char *addr, const char *user, const char *why)
{
	struct authn_failure *f = &a->ring[a->ring_next];
	f->time_ms = wall_ms();
	snprintf(f->addr, sizeof(f->addr), "%s", addr);
	snprintf(f->user, sizeof(f->user), "%s", user);
	snprintf(f->reason, sizeof(f->reason), "%s", why);
	a->ring_next = (a->ring_next + 1) % AUTHN_FAIL_RING;
	if (a->ring_n < AUTHN_FAIL_RING)
		a->ring_n++;
}

void authn_failures_each(const struct authn *a, authn_failure_h *h, void *arg)
{
	for (size_t i = 0; i < a->ring_n; i++)
		h(&a->ring[(a->ring_next + AUTHN_FAIL_RING - 1 - i) % AUTHN_FAIL_RING], arg);
}

bool authn_trusted(const struct authn *a, const struct sockaddr *sa)
{
	for (int i = 0; i < a->ntrusted; i++)
		if (ext_cidr_match(&a->trusted[i], sa))
			return true;
	return false;
}

int authn_set_trusted(struct authn *a, const char *list)
{
	int err = 0;
	a->ntrusted = 0;
	for (const char *p = list ? list : ""; *p;) {
		size_t n = strcspn(p, ", ");
		if (n) {
			if (a->ntrusted >= AUTHN_TRUSTED_MAX ||
			    ext_cidr_parse(&a->trusted[a->ntrusted], p, n))
				err = EINVAL;
			else
				a->ntrusted++;
		}
		p += n;
		while (*p == ',' || *p == ' ')
			p++;
	}
	return err;
}

/* A wrong response to our nonce from this address: counted against
 * (address, user). The user name is the extension the phone claims;
 * clipped, and only ever printed with %s after that. */
static void note_failure(struct authn *a, const struct sip_peer *from, uint64_t now,
			 const struct digest_cred *c)
{
	char who[96], addr[64], user[32];
	a->failures++;
	digest_unescape(c->username, user, sizeof(user));
	for (char *p = user; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	sip_peer_str(from, who, sizeof(who));
	sip_peer_addr_str(from, addr, sizeof(addr));
	log_info("authn", "authentication failed from %s for user '%s': wrong credentials", who,
		 user);
	remember(a, addr, user, "wrong password or unknown user");
	const struct sockaddr *sa = (const struct sockaddr *)&from->addr;
	if (authn_trusted(a, sa))
		return; /* a trusted network is never banned */
	bool busy = a->addr_busy && a->addr_busy(a->busy_arg, sa);
	switch (ban_record_user_failure(a->bans, sa, user, busy, now)) {
	case BAN_ADDR:
		a->bans_started++;
		log_warn("authn", "banning %s after repeated authentication failures for "
			 "extension '%s'", addr, user);
		break;
	case BAN_USER:
		a->bans_started++;
		log_warn("authn", "refusing extension '%s' from %s after repeated authentication "
			 "failures (the address holds working phones, so only this user is "
			 "refused)", user, addr);
		break;
	case BAN_NONE:
		break;
	}
}

static void challenge(struct authn *a, const struct sip_peer *from, struct sbuf *hdrs,
		      uint64_t now, bool stale, bool proxy)
{
	enum digest_alg algs[2];
	for (size_t i = 0; i < a->nalgs && i < 2; i++)
		algs[i] = (enum digest_alg)a->algs[i];
	auth_challenge(hdrs, a->nonces, (const struct sockaddr *)&from->addr, now, a->realm,
		       stale, proxy, algs, a->nalgs);
}

/* Picks the credentials meant for our realm among possibly several
 * Authorization headers (a phone may carry ones for other realms). */
static const struct sip_hdr *find_cred(const struct sip_msg *req, enum sip_hdr_id id,
				       const char *realm, struct digest_cred *c)
{
	for (const struct sip_hdr *h = sip_msg_hdr_next(req, id, NULL); h;
	     h = sip_msg_hdr_next(req, id, h)) {
		if (digest_cred_parse(c, h->value))
			continue;
		if (pl_casestr(c->realm, realm))
			return h;
	}
	return NULL;
}

/* RFC 7616 3.4.6 / RFC 3261 22.4: the response covers the digest uri, so
 * a response computed for another Request-URI must not authenticate this
 * one. Byte equality is what most phones send; RFC 3261 19.1.4 equality
 * forgives a different spelling of the same URI; and a uri without a user
 * part naming the same host and port is accepted, as SIPp (and other
 * tools built on it) put the server's address there. What is refused is
 * a uri naming another user, host or port. */
static bool uri_matches(const struct digest_cred *c, const struct sip_msg *req)
{
	char buf[512];
	size_t n = digest_unescape(c->uri, buf, sizeof(buf));
	if (n >= sizeof(buf) - 1)
		return false;
	if (pl_eq(pl_from(buf), req->ruri_raw))
		return true;
	struct sip_uri u;
	if (sip_uri_parse(&u, pl_from(buf)))
		return false;
	if (sip_uri_equal(&u, &req->ruri))
		return true;
	return !u.user.l && pl_caseeq(u.scheme, req->ruri.scheme) &&
	       pl_caseeq(u.host, req->ruri.host) && u.port == req->ruri.port;
}

enum authn_result authn_check(struct authn *a, const struct sip_msg *req,
			      const struct sip_peer *from, const struct ext_table *exts,
			      bool proxy, const struct ext **ext, struct sbuf *hdrs)
{
	uint64_t now = a->now_ms(a->now_arg);
	const struct sockaddr *sa = (const struct sockaddr *)&from->addr;
	bool trusted = authn_trusted(a, sa);
	if (!trusted && ban_is_banned(a->bans, sa, now))
		return AUTHN_BANNED;

	struct digest_cred c;
	enum sip_hdr_id id = proxy ? SIP_HDR_PROXY_AUTHORIZATION : SIP_HDR_AUTHORIZATION;
	if (!find_cred(req, id, a->realm, &c)) {
		/* none, unreadable, or for another realm: a challenge, never a
		 * failure (anyone can send garbage with a forged source) */
		if (sip_msg_hdr(req, id))
			log_debug("authn", "unusable credentials: challenged again");
		challenge(a, from, hdrs, now, false, proxy);
		return AUTHN_CHALLENGE;
	}

	char user[32];
	digest_unescape(c.username, user, sizeof(user));
	if (!trusted && ban_user_is_banned(a->bans, sa, user, now))
		return AUTHN_FORBIDDEN;

	const struct ext *e = ext_table_find(exts, c.username);
	const char *password = (e && e->enabled) ? e->password : NULL;
	bool offered = false;
	for (size_t i = 0; i < a->nalgs; i++)
		offered |= (int)c.alg == a->algs[i];
	if (!offered) /* e.g. MD5 when the admin allows SHA-256 only */
		password = NULL;
	/* auth_check hashes whether the user exists or not: same work, same
	 * answer for unknown users and wrong passwords. */
	switch (auth_check(a->nonces, sa, &c, req->method, a->realm, password, now)) {
	case 0:
		break;
	case ESTALE:
	case EALREADY:
		/* a right answer to an expired nonce, or a nonce-count seen
		 * before: not a failure (RFC 7616 3.3: stale=true) */
		challenge(a, from, hdrs, now, true, proxy);
		return AUTHN_CHALLENGE;
	case EINVAL:
		/* A nonce that is not ours or not this address's: minted
		 * before a restart, or a forgery. It proves nothing either
		 * way, so it is not counted. */
		challenge(a, from, hdrs, now, false, proxy);
		return AUTHN_CHALLENGE;
	default: /* EACCES: wrong credentials against our nonce */
		note_failure(a, from, now, &c);
		if (!trusted && ban_is_banned(a->bans, sa, now))
			return AUTHN_BANNED;
		if (!trusted && ban_user_is_banned(a->bans, sa, user, now))
			return AUTHN_FORBIDDEN;
		challenge(a, from, hdrs, now, false, proxy);
		return AUTHN_CHALLENGE;
	}
	if (!uri_matches(&c, req)) {
		/* a response made for another Request-URI: not accepted, not
		 * counted (it was the right password) */
		log_info("authn", "digest uri of '%s' does not match the Request-URI: "
			 "challenged again", user);
		challenge(a, from, hdrs, now, false, proxy);
		return AUTHN_CHALLENGE;
	}
	ban_record_user_success(a->bans, sa, e->number);
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
