/*
 * SDES (RFC 4568) key handling: parsing the key-params and session
 * parameters of an a=crypto line into a struct sdes_key, writing our own
 * keys back as text, and the offer/answer choice of a crypto line. See
 * sdes.h for what is accepted and refused.
 *
 * Key bytes are secret, so the base64 code below is branch-free and
 * table-free on the key data (a table indexed by key bytes leaks them
 * through cache timing; the arithmetic version costs nothing here), every
 * path that fails after key bytes were written wipes them, and nothing in
 * this file logs.
 */
#include "sdes.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

/*
 * Offer order. AES_CM_128_HMAC_SHA1_80 comes first because answerers
 * mostly take the first line they support and it is the one suite every
 * SDES implementation has (the SRTP default of RFC 3711, and RFC 4568's
 * own examples); RFC 7714 GCM came a decade later and many deployed
 * phones lack it. Leading with a line an older stack does not know risks
 * the call on that stack's tolerance of it; leading with the universal
 * suite risks nothing. What GCM would bring is cheaper crypto (with
 * Debian's libsrtp2, protect + unprotect of a 160-byte frame measured
 * about 8 us with AES-CM/HMAC-SHA1 against 3 us with GCM: a few percent
 * of one core for a hundred legs at 50 packets a second) and a 128-bit
 * tag where 80 bits already make forgery hopeless at voice rates. GCM
 * follows, 128 before 256 (same tag, cheaper, ample strength), for
 * answerers that choose by their own preference; the 32-bit tag suite is
 * last because its tag is the weakest. sdes_offer takes another order,
 * e.g. GCM first for a site with GCM-capable phones.
 */
const enum sdes_suite sdes_default_order[SDES_NSUITES] = {
	SDES_AES_CM_128_HMAC_SHA1_80,
	SDES_AEAD_AES_128_GCM,
	SDES_AEAD_AES_256_GCM,
	SDES_AES_CM_128_HMAC_SHA1_32,
};

static const struct {
	enum sdes_suite suite;
	const char *name;
	size_t key_len;       /* master key + master salt */
} suites[SDES_NSUITES] = {
	{ SDES_AES_CM_128_HMAC_SHA1_80, "AES_CM_128_HMAC_SHA1_80", 16 + 14 },
	{ SDES_AES_CM_128_HMAC_SHA1_32, "AES_CM_128_HMAC_SHA1_32", 16 + 14 },
	{ SDES_AEAD_AES_128_GCM, "AEAD_AES_128_GCM", 16 + 12 },
	{ SDES_AEAD_AES_256_GCM, "AEAD_AES_256_GCM", 32 + 12 },
};

enum sdes_suite sdes_suite_from_name(struct pl name)
{
	for (size_t i = 0; i < SDES_NSUITES; i++)
		if (pl_casestr(name, suites[i].name))
			return suites[i].suite;
	return SDES_SUITE_NONE;
}

const char *sdes_suite_name(enum sdes_suite s)
{
	for (size_t i = 0; i < SDES_NSUITES; i++)
		if (suites[i].suite == s)
			return suites[i].name;
	return "NONE";
}

size_t sdes_suite_key_len(enum sdes_suite s)
{
	for (size_t i = 0; i < SDES_NSUITES; i++)
		if (suites[i].suite == s)
			return suites[i].key_len;
	return 0;
}

void sdes_key_wipe(struct sdes_key *k)
{
	if (k)
		OPENSSL_cleanse(k, sizeof(*k));
}

/* --- constant-time base64 (RFC 4648 alphabet, as RFC 4568 uses) --------- */

/* 0xff when a < b, else 0; a and b below 256. */
static unsigned ct_lt(unsigned a, unsigned b)
{
	return ((a - b) >> 8) & 0xff;
}

static unsigned ct_ge(unsigned a, unsigned b)
{
	return ct_lt(a, b) ^ 0xff;
}

static unsigned ct_eq(unsigned a, unsigned b)
{
	return ct_lt(a ^ b, 1);
}

/* The 6-bit value of c; sets bits in *bad when c is not in the alphabet. */
static unsigned b64_val(unsigned c, unsigned *bad)
{
	unsigned up = ct_ge(c, 'A') & ct_lt(c, 'Z' + 1);
	unsigned lo = ct_ge(c, 'a') & ct_lt(c, 'z' + 1);
	unsigned di = ct_ge(c, '0') & ct_lt(c, '9' + 1);
	unsigned pl = ct_eq(c, '+');
	unsigned sl = ct_eq(c, '/');
	unsigned v = (up & (c - 'A')) | (lo & (c - 'a' + 26)) |
		     (di & (c - '0' + 52)) | (pl & 62) | (sl & 63);
	*bad |= (up | lo | di | pl | sl) ^ 0xff;
	return v & 0x3f;
}

static char b64_char(unsigned x)
{
	unsigned up = ct_lt(x, 26);
	unsigned lo = ct_ge(x, 26) & ct_lt(x, 52);
	unsigned di = ct_ge(x, 52) & ct_lt(x, 62);
	unsigned v = (up & (x + 'A')) | (lo & (x - 26 + 'a')) |
		     (di & (x - 52 + '0')) | (ct_eq(x, 62) & '+') | (ct_eq(x, 63) & '/');
	return (char)(v & 0xff);
}

/* Decodes exactly n bytes from in. Padding may be present (exactly as
 * RFC 4648 has it) or left out, which some senders do; anything else,
 * including non-zero bits after the last byte (a second spelling of the
 * same key), is EBADMSG. Only lengths, which are public, steer branches. */
static int b64_decode(struct pl in, uint8_t *out, size_t n)
{
	size_t npad = 0;
	while (npad < 2 && in.l > npad && in.p[in.l - 1 - npad] == '=')
		npad++;
	size_t m = in.l - npad;
	if (m != (4 * n + 2) / 3)
		return EBADMSG;
	if (npad && npad != (3 - n % 3) % 3)
		return EBADMSG;
	unsigned bad = 0, bits = 0;
	uint32_t acc = 0;
	size_t o = 0;
	for (size_t i = 0; i < m; i++) {
		acc = (acc << 6) | b64_val((unsigned char)in.p[i], &bad);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	bad |= acc & ((1u << bits) - 1);
	acc = 0;
	if (bad) {
		OPENSSL_cleanse(out, n);
		return EBADMSG;
	}
	return 0;
}

/* Writes the padded encoding of in[0..n) and returns its length. */
static size_t b64_encode(const uint8_t *in, size_t n, char *out)
{
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			out[o++] = b64_char((acc >> bits) & 0x3f);
		}
	}
	if (bits)
		out[o++] = b64_char((acc << (6 - bits)) & 0x3f);
	while (o % 4)
		out[o++] = '=';
	acc = 0;
	return o;
}

/* --- parsing ------------------------------------------------------------- */

/* Splits s at the first c: *head before it, s after it (unset if none). */
static struct pl cut(struct pl *s, char c)
{
	const char *p = memchr(s->p, c, s->l);
	struct pl head = *s;
	if (!p) {
		*s = PL_NULL;
		return head;
	}
	head.l = (size_t)(p - s->p);
	s->l -= head.l + 1;
	s->p = p + 1;
	return head;
}

static bool starts_with(struct pl s, const char *prefix)
{
	size_t n = strlen(prefix);
	return s.l >= n && strncasecmp(s.p, prefix, n) == 0;
}

static struct pl after(struct pl s, size_t n)
{
	return (struct pl){ s.p + n, s.l - n };
}

/* lifetime = ["2^"] 1*DIGIT, at most the suites' 2^48, not zero. */
static int parse_lifetime(struct pl s, uint64_t *out)
{
	uint64_t v;
	if (s.l > 2 && s.p[0] == '2' && s.p[1] == '^') {
		if (pl_u64(after(s, 2), 48, &v))
			return EBADMSG;
		*out = UINT64_C(1) << v;
		return 0;
	}
	if (pl_u64(s, SDES_LIFETIME_MAX, &v) || v == 0)
		return EBADMSG;
	*out = v;
	return 0;
}

/* mki = mki-value ":" mki-length; the length is 1..128 bytes and the
 * value must fit in it. Values beyond 64 bits are legal but absurd: we
 * do not carry them (ENOTSUP). */
static int parse_mki(struct pl s, struct sdes_master *mk)
{
	struct pl val = cut(&s, ':');
	uint64_t v, len;
	if (pl_u64(s, SDES_MKI_MAX_LEN, &len) || len == 0 || s.l > 3)
		return EBADMSG;
	int err = pl_u64(val, UINT64_MAX, &v);
	if (err == ERANGE)
		return ENOTSUP;
	if (err || val.l > 20)
		return EBADMSG;
	if (len < 8 && (v >> (8 * len)) != 0)
		return EBADMSG;
	mk->mki = v;
	mk->mki_len = (uint8_t)len;
	return 0;
}

/* One "inline:key-salt[|lifetime][|mki]". */
static int parse_inline(struct pl s, size_t key_len, struct sdes_master *mk)
{
	if (!starts_with(s, "inline:"))
		return s.l && memchr(s.p, ':', s.l) ? ENOTSUP : EBADMSG;
	s = after(s, 7);
	struct pl key = cut(&s, '|');
	int err = b64_decode(key, mk->key, key_len);
	if (err)
		return err;
	if (!pl_isset(s))
		return 0;
	struct pl p1 = cut(&s, '|');
	struct pl p2 = s;
	if (pl_isset(p2) && memchr(p2.p, '|', p2.l))
		return EBADMSG;
	if (pl_isset(p2)) { /* both: lifetime first, then the MKI */
		if ((err = parse_lifetime(p1, &mk->lifetime)))
			return err;
		return parse_mki(p2, mk);
	}
	if (p1.l && memchr(p1.p, ':', p1.l))
		return parse_mki(p1, mk);
	return parse_lifetime(p1, &mk->lifetime);
}

static int parse_keys(struct pl s, struct sdes_key *k)
{
	size_t key_len = sdes_suite_key_len(k->suite);
	size_t n = 0;
	int err;
	while (pl_isset(s)) {
		struct pl one = cut(&s, ';');
		if (n == SDES_MAX_KEYS)
			return ENOTSUP;
		if ((err = parse_inline(one, key_len, &k->keys[n])))
			return err;
		n++;
	}
	if (n == 0)
		return EBADMSG;
	k->nkeys = (uint8_t)n;
	/* With several keys only the MKI says which one a packet used
	 * (RFC 4568 6.1): each needs one, of one length, all different. */
	for (size_t i = 0; n > 1 && i < n; i++) {
		if (!k->keys[i].mki_len || k->keys[i].mki_len != k->keys[0].mki_len)
			return EBADMSG;
		for (size_t j = 0; j < i; j++)
			if (k->keys[j].mki == k->keys[i].mki)
				return EBADMSG;
	}
	return 0;
}

static int parse_session_param(struct pl p, struct sdes_key *k)
{
	uint64_t v;
	if (starts_with(p, "WSH=")) {
		int err = pl_u64(after(p, 4), UINT64_MAX, &v);
		if (err == EINVAL || (err == 0 && v < 64))
			return EBADMSG; /* RFC 4568 6.3.6: at least 64 */
		/* a hint: more than libsrtp's largest window (2^15 - 1) is
		 * served by that */
		k->wsh = (err == ERANGE || v > 0x7fff) ? 0x7fff : (uint16_t)v;
		return 0;
	}
	if (pl_casestr(p, "FEC_ORDER=FEC_SRTP"))
		return 0; /* the default order: nothing changes */
	if (starts_with(p, "FEC_ORDER="))
		return pl_casestr(after(p, 10), "SRTP_FEC") ? ENOTSUP : EBADMSG;
	if (p.p[0] == '-')
		return 0; /* an optional extension (RFC 4568 6.3.7) */
	/* KDR, UNENCRYPTED_SRTP, UNENCRYPTED_SRTCP, UNAUTHENTICATED_SRTP,
	 * FEC_KEY and unknown mandatory parameters: see sdes.h */
	return ENOTSUP;
}

static int parse_session_params(struct pl s, struct sdes_key *k)
{
	size_t i = 0;
	while (pl_isset(s) && i < s.l) {
		while (i < s.l && (s.p[i] == ' ' || s.p[i] == '\t'))
			i++;
		size_t start = i;
		while (i < s.l && s.p[i] != ' ' && s.p[i] != '\t')
			i++;
		if (i == start)
			break;
		int err = parse_session_param((struct pl){ s.p + start, i - start }, k);
		if (err)
			return err;
	}
	return 0;
}

int sdes_crypto_parse(const struct sdp_crypto *c, struct sdes_key *out)
{
	if (!out)
		return EINVAL;
	sdes_key_wipe(out);
	if (!c)
		return EINVAL;
	int err;
	out->tag = c->tag;
	out->suite = sdes_suite_from_name(c->suite);
	if (out->suite == SDES_SUITE_NONE)
		err = ENOTSUP;
	else if (!pl_isset(c->key_params) || c->key_params.l == 0)
		err = EBADMSG;
	else if (!(err = parse_keys(c->key_params, out)))
		err = parse_session_params(c->sess_params, out);
	if (err)
		sdes_key_wipe(out);
	return err;
}

/* --- our keys ------------------------------------------------------------ */

bool sdes_key_valid(const struct sdes_key *k)
{
	if (!k || sdes_suite_key_len(k->suite) == 0)
		return false;
	if (k->nkeys == 0 || k->nkeys > SDES_MAX_KEYS)
		return false;
	if (k->wsh != 0 && (k->wsh < 64 || k->wsh > 0x7fff))
		return false;
	for (size_t i = 0; i < k->nkeys; i++) {
		const struct sdes_master *m = &k->keys[i];
		if (m->lifetime > SDES_LIFETIME_MAX || m->mki_len > SDES_MKI_MAX_LEN)
			return false;
		if (m->mki_len && m->mki_len < 8 && (m->mki >> (8 * m->mki_len)))
			return false;
		if (k->nkeys > 1 && (!m->mki_len || m->mki_len != k->keys[0].mki_len))
			return false;
		for (size_t j = 0; j < i; j++)
			if (k->nkeys > 1 && k->keys[j].mki == m->mki)
				return false;
	}
	return true;
}

int sdes_key_generate(struct sdes_key *out, enum sdes_suite suite, uint32_t tag)
{
	if (!out)
		return EINVAL;
	sdes_key_wipe(out);
	size_t len = sdes_suite_key_len(suite);
	if (len == 0)
		return EINVAL;
	out->suite = suite;
	out->tag = tag;
	out->nkeys = 1;
	/* RAND_priv_bytes: OpenSSL's generator kept apart for secrets, so
	 * that public random values (nonces, SSRCs) never expose its state */
	if (RAND_priv_bytes(out->keys[0].key, (int)len) != 1) {
		sdes_key_wipe(out);
		return EIO;
	}
	return 0;
}

/* Appends "|2^n" when v is a power of two, else "|v". */
static size_t put_lifetime(char *p, size_t room, uint64_t v)
{
	int e = __builtin_ctzll(v);
	int n = (v & (v - 1)) == 0 ? snprintf(p, room, "|2^%d", e)
				   : snprintf(p, room, "|%llu", (unsigned long long)v);
	return n < 0 ? room : (size_t)n;
}

int sdes_key_crypto(struct sdes_key *k, struct sdp_crypto *c)
{
	if (!c || !sdes_key_valid(k))
		return EINVAL;
	size_t key_len = sdes_suite_key_len(k->suite);
	char *p = k->params;
	size_t room = sizeof(k->params);
	/* worst case per key: 8 + 60 + 6 ("|2^48") or 16 digits, 1 + 20 +
	 * 4; four keys and the WSH suffix fit in SDES_PARAMS_MAX */
	for (size_t i = 0; i < k->nkeys; i++) {
		const struct sdes_master *m = &k->keys[i];
		size_t n = 0;
		if (i)
			p[n++] = ';';
		memcpy(p + n, "inline:", 7);
		n += 7;
		n += b64_encode(m->key, key_len, p + n);
		if (m->lifetime)
			n += put_lifetime(p + n, room - n, m->lifetime);
		if (m->mki_len)
			n += (size_t)snprintf(p + n, room - n, "|%llu:%u",
					      (unsigned long long)m->mki, (unsigned)m->mki_len);
		p += n;
		room -= n;
	}
	*p = '\0';
	memset(c, 0, sizeof(*c));
	c->tag = k->tag;
	c->suite = pl_from(sdes_suite_name(k->suite));
	c->key_params = (struct pl){ k->params, (size_t)(p - k->params) };
	c->sess_params = PL_NULL;
	if (k->wsh) {
		/* after the key-params' NUL, in the same buffer */
		int n = snprintf(p + 1, room - 1, "WSH=%u", (unsigned)k->wsh);
		c->sess_params = (struct pl){ p + 1, (size_t)n };
	}
	return 0;
}

/* --- offer / answer ------------------------------------------------------ */

static bool in_list(enum sdes_suite s, const enum sdes_suite *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (list[i] == s)
			return true;
	return false;
}

int sdes_offer(struct sdes_key *keys, size_t cap, const enum sdes_suite *order,
	       size_t norder, size_t *n)
{
	if (!order) {
		order = sdes_default_order;
		norder = SDES_NSUITES;
	}
	if (!keys || !n || norder == 0 || norder > cap)
		return EINVAL;
	for (size_t i = 0; i < norder; i++)
		if (!sdes_suite_key_len(order[i]) || in_list(order[i], order, i))
			return EINVAL;
	for (size_t i = 0; i < norder; i++) {
		int err = sdes_key_generate(&keys[i], order[i], (uint32_t)(i + 1));
		if (err) {
			for (size_t j = 0; j < i; j++)
				sdes_key_wipe(&keys[j]);
			return err;
		}
	}
	*n = norder;
	return 0;
}

int sdes_answer(const struct sdp_crypto *offer, size_t noffer,
		const enum sdes_suite *allowed, size_t nallowed,
		struct sdes_key *local, struct sdes_key *remote, size_t *idx)
{
	if (!local || !remote || (!offer && noffer))
		return EINVAL;
	sdes_key_wipe(local);
	sdes_key_wipe(remote);
	if (!allowed) {
		allowed = sdes_default_order;
		nallowed = SDES_NSUITES;
	}
	for (size_t i = 0; i < noffer; i++) {
		enum sdes_suite s = sdes_suite_from_name(offer[i].suite);
		if (s == SDES_SUITE_NONE || !in_list(s, allowed, nallowed))
			continue;
		/* a line we cannot use is skipped, not fatal: the offerer
		 * listed alternatives for exactly this (RFC 4568 7.1.2) */
		if (sdes_crypto_parse(&offer[i], remote))
			continue;
		int err = sdes_key_generate(local, s, offer[i].tag);
		if (err) {
			sdes_key_wipe(remote);
			return err;
		}
		if (idx)
			*idx = i;
		return 0;
	}
	return ENOTSUP;
}

int sdes_answer_match(const struct sdes_key *keys, size_t nkeys,
		      const struct sdp_crypto *answer, size_t nanswer,
		      struct sdes_key *remote, size_t *idx)
{
	if (!remote || (!keys && nkeys) || (!answer && nanswer))
		return EINVAL;
	sdes_key_wipe(remote);
	if (nanswer == 0)
		return EBADMSG;
	const struct sdp_crypto *a = &answer[0];
	for (size_t i = 0; i < nkeys; i++) {
		if (keys[i].tag != a->tag)
			continue;
		if (sdes_suite_from_name(a->suite) != keys[i].suite)
			return EBADMSG; /* RFC 4568 7.1.3: same tag, same suite */
		int err = sdes_crypto_parse(a, remote);
		if (err)
			return err;
		if (idx)
			*idx = i;
		return 0;
	}
	return EBADMSG;
}
