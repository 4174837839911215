/*
 * Digest credentials, server side (RFC 7616 sections 3.4 and 3.5, RFC 3261
 * section 22.4, RFC 8760 for SHA-256): parses an Authorization or
 * Proxy-Authorization value into slices of the received message, and
 * computes or checks the response in constant time. Nonces and their
 * replay state are auth_nonce.c's business, the challenge/check sequence
 * auth_challenge.c's.
 *
 * Parsing is lenient where real phones differ (case of names, order,
 * spaces and folded lines, quoted tokens such as qop="auth", empty list
 * elements, unknown parameters) and strict where ambiguity could be
 * abused: a known parameter given twice is refused, because two parties
 * reading the same header must not disagree on whose credentials it holds.
 */
#include "auth.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

static bool is_ws(char c)
{
	/* CR and LF too: a folded header line may reach us unfolded. */
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_ctl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

/* RFC 7230 tchar */
static bool is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	switch (c) {
	case '!': case '#': case '$': case '%': case '&': case '\'': case '*':
	case '+': case '-': case '.': case '^': case '_': case '`': case '|':
	case '~':
		return true;
	default:
		return false;
	}
}

struct scan {
	const char *p;
	const char *end;
};

static void skip_ws(struct scan *s)
{
	while (s->p < s->end && is_ws(*s->p))
		s->p++;
}

static int read_token(struct scan *s, struct pl *out)
{
	const char *start = s->p;
	while (s->p < s->end && is_tchar((unsigned char)*s->p))
		s->p++;
	if (s->p == start)
		return EINVAL;
	*out = (struct pl){ start, (size_t)(s->p - start) };
	return 0;
}

/*
 * A parameter value: a quoted-string, whose slice is what lies between the
 * quotes with its escapes kept, or a bare value. Bare values are wider than
 * RFC tokens (phones send uri=sip:a@b;x=y unquoted) but never hold a
 * backslash, so a backslash in any slice we hand out is always an escape.
 */
static int read_value(struct scan *s, struct pl *out)
{
	if (s->p < s->end && *s->p == '"') {
		const char *start = ++s->p;
		while (s->p < s->end) {
			unsigned char c = (unsigned char)*s->p;
			if (c == '"') {
				*out = (struct pl){ start, (size_t)(s->p - start) };
				s->p++;
				return 0;
			}
			if (c == '\\') {
				s->p++;
				if (s->p == s->end)
					return EINVAL;
				c = (unsigned char)*s->p;
			}
			if (is_ctl(c) && c != '\t')
				return EINVAL;
			s->p++;
		}
		return EINVAL; /* unterminated */
	}

	const char *start = s->p;
	while (s->p < s->end) {
		unsigned char c = (unsigned char)*s->p;
		if (is_ws((char)c) || c == ',' || c == '"' || c == '\\' || is_ctl(c))
			break;
		s->p++;
	}
	if (s->p == start)
		return EINVAL;
	*out = (struct pl){ start, (size_t)(s->p - start) };
	return 0;
}

static const struct {
	const char *name;
	size_t off;
} params[] = {
	{ "username", offsetof(struct digest_cred, username) },
	{ "realm", offsetof(struct digest_cred, realm) },
	{ "nonce", offsetof(struct digest_cred, nonce) },
	{ "uri", offsetof(struct digest_cred, uri) },
	{ "response", offsetof(struct digest_cred, response) },
	{ "algorithm", offsetof(struct digest_cred, algorithm) },
	{ "cnonce", offsetof(struct digest_cred, cnonce) },
	{ "opaque", offsetof(struct digest_cred, opaque) },
	{ "qop", offsetof(struct digest_cred, qop) },
	{ "nc", offsetof(struct digest_cred, nc) },
};

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* nc is exactly 8 hex digits (RFC 7616 3.4); counting starts at 1. */
static int parse_nc(struct pl nc, uint32_t *out)
{
	uint32_t v = 0;
	if (nc.l != 8)
		return EINVAL;
	for (size_t i = 0; i < 8; i++) {
		int d = hexval(nc.p[i]);
		if (d < 0)
			return EINVAL;
		v = (v << 4) | (uint32_t)d;
	}
	if (v == 0)
		return EINVAL;
	*out = v;
	return 0;
}

static int parse_params(struct digest_cred *c, struct scan *s)
{
	unsigned seen = 0;

	for (;;) {
		struct pl name, val;
		int err;

		skip_ws(s);
		if (s->p == s->end)
			return 0;
		if (*s->p == ',') { /* empty list element (RFC 7230 7) */
			s->p++;
			continue;
		}
		err = read_token(s, &name);
		if (err)
			return err;
		skip_ws(s);
		if (s->p == s->end || *s->p != '=')
			return EINVAL;
		s->p++;
		skip_ws(s);
		err = read_value(s, &val);
		if (err)
			return err;
		skip_ws(s);
		if (s->p < s->end && *s->p != ',')
			return EINVAL;

		for (size_t i = 0; i < sizeof(params) / sizeof(params[0]); i++) {
			if (!pl_casestr(name, params[i].name))
				continue;
			if (seen & (1u << i))
				return EINVAL;
			seen |= 1u << i;
			*(struct pl *)((char *)c + params[i].off) = val;
			break;
		}
		/* unknown parameters (userhash, auth-param extensions) are ignored */
	}
}

int digest_cred_parse(struct digest_cred *c, struct pl value)
{
	struct digest_cred d;
	struct scan s;
	struct pl scheme;
	int err;

	if (!c)
		return EINVAL;
	memset(c, 0, sizeof(*c));
	if (!value.p)
		return EINVAL;

	memset(&d, 0, sizeof(d));
	s.p = value.p;
	s.end = value.p + value.l;
	skip_ws(&s);
	err = read_token(&s, &scheme);
	if (err || !pl_casestr(scheme, "Digest"))
		return EINVAL;
	if (s.p == s.end || !is_ws(*s.p))
		return EINVAL;
	err = parse_params(&d, &s);
	if (err)
		return err;

	if (!d.username.l || !d.realm.l || !d.nonce.l || !d.uri.l || !d.response.l)
		return EINVAL;

	if (!pl_isset(d.algorithm) || pl_casestr(d.algorithm, "MD5"))
		d.alg = DIGEST_MD5; /* RFC 7616 3.3: absent means MD5 */
	else if (pl_casestr(d.algorithm, "SHA-256"))
		d.alg = DIGEST_SHA256;
	else
		return EPROTONOSUPPORT; /* -sess variants, SHA-512-256: never offered */

	if (pl_isset(d.qop)) {
		if (!pl_casestr(d.qop, "auth"))
			return EPROTONOSUPPORT; /* auth-int is never offered */
		if (!d.cnonce.l || parse_nc(d.nc, &d.nc_val))
			return EINVAL;
	}

	*c = d;
	return 0;
}

size_t digest_unescape(struct pl in, char *out, size_t cap)
{
	size_t n = 0;
	for (size_t i = 0; in.p && i < in.l; i++) {
		if (in.p[i] == '\\' && i + 1 < in.l)
			i++;
		if (n + 1 < cap)
			out[n] = in.p[i];
		n++;
	}
	if (cap)
		out[n < cap ? n : cap - 1] = '\0';
	return n;
}

/* Feeds a slice to the hash without its quoted-string escapes. */
static int hash_unq(EVP_MD_CTX *ctx, struct pl s)
{
	size_t i = 0;
	while (i < s.l) {
		size_t run = i;
		while (run < s.l && s.p[run] != '\\')
			run++;
		if (run > i && !EVP_DigestUpdate(ctx, s.p + i, run - i))
			return EIO;
		if (run >= s.l)
			break;
		/* the escaped character itself; a lone trailing backslash, which
		 * the parser never produces, stands for itself as in
		 * digest_unescape */
		size_t esc = run + 1 < s.l ? run + 1 : run;
		if (!EVP_DigestUpdate(ctx, s.p + esc, 1))
			return EIO;
		i = esc + 1;
	}
	return 0;
}

static int hash_add(EVP_MD_CTX *ctx, const void *p, size_t n)
{
	return EVP_DigestUpdate(ctx, p, n) ? 0 : EIO;
}

static int hash_hex(EVP_MD_CTX *ctx, char *out)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (!EVP_DigestFinal_ex(ctx, md, &n) || n > 32)
		return EIO;
	for (unsigned int i = 0; i < n; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[2 * n] = '\0';
	OPENSSL_cleanse(md, sizeof(md));
	return 0;
}

/*
 * RFC 7616 3.4.1: HA1 = H(user:realm:password), HA2 = H(method:uri),
 * response = H(HA1:nonce:nc:cnonce:qop:HA2), or H(HA1:nonce:HA2) without
 * qop (RFC 2069/2617 form, computed for completeness; digest_verify refuses
 * it). Does the same work whoever the user is.
 */
static int compute(char *out, const struct digest_cred *c, struct pl method,
		   const char *pw, size_t pwlen)
{
	const EVP_MD *md = c->alg == DIGEST_SHA256 ? EVP_sha256() : EVP_md5();
	char ha1[65], ha2[65];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int err = ctx ? 0 : ENOMEM;

	err = err ? err : (EVP_DigestInit_ex(ctx, md, NULL) ? 0 : EIO);
	err = err ? err : hash_unq(ctx, c->username);
	err = err ? err : hash_add(ctx, ":", 1);
	err = err ? err : hash_unq(ctx, c->realm);
	err = err ? err : hash_add(ctx, ":", 1);
	err = err ? err : hash_add(ctx, pw, pwlen);
	err = err ? err : hash_hex(ctx, ha1);

	err = err ? err : (EVP_DigestInit_ex(ctx, md, NULL) ? 0 : EIO);
	err = err ? err : hash_add(ctx, method.p, method.l);
	err = err ? err : hash_add(ctx, ":", 1);
	err = err ? err : hash_unq(ctx, c->uri);
	err = err ? err : hash_hex(ctx, ha2);

	err = err ? err : (EVP_DigestInit_ex(ctx, md, NULL) ? 0 : EIO);
	err = err ? err : hash_add(ctx, ha1, strlen(ha1));
	err = err ? err : hash_add(ctx, ":", 1);
	err = err ? err : hash_unq(ctx, c->nonce);
	err = err ? err : hash_add(ctx, ":", 1);
	if (pl_isset(c->qop)) {
		err = err ? err : hash_unq(ctx, c->nc);
		err = err ? err : hash_add(ctx, ":", 1);
		err = err ? err : hash_unq(ctx, c->cnonce);
		err = err ? err : hash_add(ctx, ":", 1);
		err = err ? err : hash_unq(ctx, c->qop);
		err = err ? err : hash_add(ctx, ":", 1);
	}
	err = err ? err : hash_add(ctx, ha2, strlen(ha2));
	err = err ? err : hash_hex(ctx, out);

	/* HA1 is as good as the password for this realm */
	OPENSSL_cleanse(ha1, sizeof(ha1));
	EVP_MD_CTX_free(ctx);
	if (err)
		out[0] = '\0';
	return err;
}

void digest_expected(char *out, const struct digest_cred *c, struct pl method,
		     const char *password)
{
	if (!out)
		return;
	if (!c || !password) {
		out[0] = '\0';
		return;
	}
	compute(out, c, method, password, strlen(password));
}

/*
 * The stand-in password for unknown users: random per process, so nobody
 * can know it, and checked anyway so that an unknown user costs the same
 * three hashes as a known one.
 */
static char dummy_pw[33];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

static void dummy_init(void)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char r[16];

	if (RAND_bytes(r, sizeof(r)) != 1)
		memset(r, 0x5a, sizeof(r)); /* still refused: see digest_verify */
	for (size_t i = 0; i < sizeof(r); i++) {
		dummy_pw[2 * i] = hex[r[i] >> 4];
		dummy_pw[2 * i + 1] = hex[r[i] & 15];
	}
	dummy_pw[32] = '\0';
	OPENSSL_cleanse(r, sizeof(r));
}

bool digest_verify(const struct digest_cred *c, struct pl method, const char *password)
{
	char exp[65], got[64];
	const char *pw = password;
	size_t n;
	int err, diff;

	if (!c)
		return false;
	if (!pw) {
		pthread_once(&dummy_once, dummy_init);
		pw = dummy_pw;
	}
	err = compute(exp, c, method, pw, strlen(pw));
	n = c->alg == DIGEST_SHA256 ? 64 : 32;

	/* RFC 7616 asks for lower-case hex; some phones send upper case */
	for (size_t i = 0; i < n; i++) {
		char ch = i < c->response.l ? c->response.p[i] : 0;
		got[i] = (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch;
	}
	diff = CRYPTO_memcmp(exp, got, n);
	OPENSSL_cleanse(exp, sizeof(exp));

	/*
	 * qop=auth is required, not merely accepted: we always offer it, and
	 * without it there is no nonce-count, so a captured request could be
	 * replayed for as long as its nonce lives. Clients that answer a qop
	 * challenge without qop are RFC 2069 relics. The hashing above runs
	 * either way.
	 *
	 * Non-short-circuit '&' so that the outcome costs the same whichever
	 * condition fails; an unknown user always fails, even if someone
	 * guessed the stand-in password.
	 */
	return (err == 0) & (c->response.l == n) & (diff == 0) &
	       pl_casestr(c->qop, "auth") & (password != NULL);
}
