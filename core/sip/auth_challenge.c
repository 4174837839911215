/*
 * The server's half of the digest exchange: the challenge header lines of
 * a 401/407, and auth_check, which runs nonce, response and nonce-count
 * checks in the one order that neither tells a scanner which extensions
 * exist nor counts honest clients (stale or restarted) as attackers.
 */
#include "auth.h"

#include <errno.h>

/* realm goes inside a quoted-string: escape what would end it early, and
 * drop control characters, a CR LF from a bad configuration would
 * otherwise start a header of its own */
static void add_quoted(struct sbuf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c == 0x7f)
			continue;
		if (c == '"' || c == '\\')
			sbuf_add(b, "\\", 1);
		sbuf_add(b, s, 1);
	}
}

const char *digest_alg_name(enum digest_alg alg)
{
	return alg == DIGEST_SHA256 ? "SHA-256" : "MD5";
}

int digest_alg_parse(struct pl name, enum digest_alg *out)
{
	name = pl_trim(name);
	if (pl_casestr(name, "MD5"))
		*out = DIGEST_MD5;
	else if (pl_casestr(name, "SHA-256"))
		*out = DIGEST_SHA256;
	else
		return EINVAL;
	return 0;
}

void auth_challenge(struct sbuf *b, struct auth_nonces *n, const struct sockaddr *src,
		    uint64_t now_ms,
		    const char *realm, bool stale, bool proxy,
		    const enum digest_alg *algs, size_t nalgs)
{
	static const enum digest_alg defaults[] = { DIGEST_MD5, DIGEST_SHA256 };
	const char *hdr = proxy ? "Proxy-Authenticate" : "WWW-Authenticate";
	char nonce[64];
	if (!b)
		return;
	if (!algs || !nalgs) {
		algs = defaults;
		nalgs = sizeof(defaults) / sizeof(defaults[0]);
	}
	/* one nonce for all lines: the client answers only one of them */
	auth_nonce_make(n, src, now_ms, nonce, sizeof(nonce));
	for (size_t i = 0; i < nalgs; i++) {
		sbuf_printf(b, "%s: Digest realm=\"", hdr);
		add_quoted(b, realm ? realm : "");
		sbuf_printf(b, "\", nonce=\"%s\", algorithm=%s, qop=\"auth\"%s\r\n", nonce,
			    digest_alg_name(algs[i]), stale ? ", stale=true" : "");
	}
}

/* Compares a quoted-string slice, escapes removed, with a C string. */
static bool unq_eq(struct pl a, const char *s)
{
	size_t j = 0;
	for (size_t i = 0; i < a.l; i++, j++) {
		if (a.p[i] == '\\' && i + 1 < a.l)
			i++;
		if (s[j] == '\0' || s[j] != a.p[i])
			return false;
	}
	return s[j] == '\0';
}

int auth_check(struct auth_nonces *n, const struct sockaddr *src, const struct digest_cred *c,
	       struct pl method,
	       const char *realm, const char *password, uint64_t now_ms)
{
	int nerr;
	bool ok;

	if (!n || !c)
		return EINVAL;

	/* A nonce that is not ours says nothing about the user, so returning
	 * before any hashing leaks nothing. */
	nerr = auth_nonce_check(n, src, c->nonce, now_ms);
	if (nerr == EINVAL)
		return EINVAL;

	/* Always hash, known user or not, right realm or not. */
	ok = digest_verify(c, method, password);
	ok = ok & (realm != NULL && unq_eq(c->realm, realm));
	if (!ok)
		return EACCES;

	/* RFC 7616 3.3: stale=true only for a right answer on an old nonce,
	 * so the client retries at once instead of asking its user */
	if (nerr)
		return nerr;
	return auth_nonce_use(n, src, c->nonce, c->nc_val, now_ms);
}
