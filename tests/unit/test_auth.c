/*
 * Tests of SIP digest authentication (core/sip/auth_*.c): the credential
 * parser on well-formed and odd headers, responses against RFC 7616 3.9.1
 * and against SIP vectors computed independently with Python's hashlib,
 * the refusal of unknown users and of qop-less answers, nonce freshness,
 * forgery and nonce-count replay, the bounded replay table, the challenge
 * lines, and auth_check's outcome for each kind of request.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "../../core/sip/auth.h"

static int parse(struct digest_cred *c, const char *s)
{
	return digest_cred_parse(c, pl_from(s));
}

static void assert_pl(struct pl a, const char *s)
{
	char buf[256];
	assert_true(pl_isset(a));
	pl_strcpy(a, buf, sizeof(buf));
	assert_string_equal(buf, s);
}

/* ---- RFC 7616 3.9.1 ---- */

/* The RFC's example: GET /dir/index.html, Mufasa / "Circle of Life". */
#define RFC_NONCE "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"
#define RFC_CNONCE "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"
#define RFC_OPAQUE "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"

static const char rfc_md5[] =
	"Digest username=\"Mufasa\",\r\n"
	"    realm=\"http-auth@example.org\",\r\n"
	"    uri=\"/dir/index.html\",\r\n"
	"    algorithm=MD5,\r\n"
	"    nonce=\"" RFC_NONCE "\",\r\n"
	"    nc=00000001,\r\n"
	"    cnonce=\"" RFC_CNONCE "\",\r\n"
	"    qop=auth,\r\n"
	"    response=\"8ca523f5e9506fed4657c9700eebdbec\",\r\n"
	"    opaque=\"" RFC_OPAQUE "\"";

static const char rfc_sha256[] =
	"Digest username=\"Mufasa\",\r\n"
	"    realm=\"http-auth@example.org\",\r\n"
	"    uri=\"/dir/index.html\",\r\n"
	"    algorithm=SHA-256,\r\n"
	"    nonce=\"" RFC_NONCE "\",\r\n"
	"    nc=00000001,\r\n"
	"    cnonce=\"" RFC_CNONCE "\",\r\n"
	"    qop=auth,\r\n"
	"    response=\"753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1\",\r\n"
	"    opaque=\"" RFC_OPAQUE "\"";

static void test_rfc7616_parse(void **state)
{
	struct digest_cred c;

	assert_int_equal(parse(&c, rfc_md5), 0);
	assert_pl(c.username, "Mufasa");
	assert_pl(c.realm, "http-auth@example.org");
	assert_pl(c.uri, "/dir/index.html");
	assert_pl(c.algorithm, "MD5");
	assert_int_equal(c.alg, DIGEST_MD5);
	assert_pl(c.nonce, RFC_NONCE);
	assert_pl(c.nc, "00000001");
	assert_int_equal(c.nc_val, 1);
	assert_pl(c.cnonce, RFC_CNONCE);
	assert_pl(c.qop, "auth");
	assert_pl(c.response, "8ca523f5e9506fed4657c9700eebdbec");
	assert_pl(c.opaque, RFC_OPAQUE);
}

static void test_rfc7616_md5(void **state)
{
	struct digest_cred c;
	char out[65];

	assert_int_equal(parse(&c, rfc_md5), 0);
	digest_expected(out, &c, PL("GET"), "Circle of Life");
	assert_string_equal(out, "8ca523f5e9506fed4657c9700eebdbec");
	assert_true(digest_verify(&c, PL("GET"), "Circle of Life"));
	assert_false(digest_verify(&c, PL("GET"), "Circle of life"));
	assert_false(digest_verify(&c, PL("POST"), "Circle of Life"));
}

static void test_rfc7616_sha256(void **state)
{
	struct digest_cred c;
	char out[65];

	assert_int_equal(parse(&c, rfc_sha256), 0);
	assert_int_equal(c.alg, DIGEST_SHA256);
	digest_expected(out, &c, PL("GET"), "Circle of Life");
	assert_string_equal(out, "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1");
	assert_true(digest_verify(&c, PL("GET"), "Circle of Life"));
	assert_false(digest_verify(&c, PL("GET"), "Circle of Lif"));
}

/* ---- SIP vectors ----
 *
 * Expected values computed with Python 3 hashlib, not with this code:
 *
 *   import hashlib
 *   def H(a, s): return hashlib.new(a, s.encode()).hexdigest()
 *   def resp(a, user, realm, pw, method, uri, nonce, nc, cnonce, qop):
 *       ha1 = H(a, f"{user}:{realm}:{pw}"); ha2 = H(a, f"{method}:{uri}")
 *       if qop: return H(a, f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")
 *       return H(a, f"{ha1}:{nonce}:{ha2}")
 *   N = "0000017f2a3b4c5d1a2b3c4d.00112233445566778899aabbccddeeff"
 *   resp("md5",    "1001", "hookflash", "s3cr3t!", "REGISTER",
 *        "sip:pbx.example.com", N, "00000001", "0a4f113b", "auth")
 *     -> 5d4ff3c56ced86e4b7ac88abb168543e
 *   resp("sha256", ...same...)
 *     -> e0730f062fb733180293f6138f128f1f7446a94906b9414f0fb24d192eddda7a
 *   resp("md5", ..., "00000002", "0a4f113b", "auth")
 *     -> 8d6fab90a78ceb71544787173a00c663
 *   resp("md5", ..., None, None, None)          # RFC 2617, no qop
 *     -> 1c9e1792f4262abfea5e0fea2b0f4c06
 *   resp("md5", 'al"ice\\x', "hookflash", "pw", "INVITE",
 *        "sip:1002@pbx.example.com", N, "0000000a", "xyz", "auth")
 *     -> ff65e0cc81cfb939bb3934fea8ccb2bb
 *   resp("sha256", ...same...)
 *     -> adaa184d322e10459cd5b989fb3e0acba723303f1acfded1f3dbe8466f5cc2c7
 */
#define SIP_NONCE "0000017f2a3b4c5d1a2b3c4d.00112233445566778899aabbccddeeff"

static void sip_hdr(char *buf, size_t cap, const char *alg, const char *nc, const char *resp)
{
	snprintf(buf, cap,
		 "Digest username=\"1001\", realm=\"hookflash\", nonce=\"" SIP_NONCE "\", "
		 "uri=\"sip:pbx.example.com\", response=\"%s\"%s%s, qop=auth, nc=%s, "
		 "cnonce=\"0a4f113b\"",
		 resp, alg ? ", algorithm=" : "", alg ? alg : "", nc);
}

static void test_sip_md5(void **state)
{
	struct digest_cred c;
	char h[512], out[65];

	/* no algorithm parameter: MD5 */
	sip_hdr(h, sizeof(h), NULL, "00000001", "5d4ff3c56ced86e4b7ac88abb168543e");
	assert_int_equal(parse(&c, h), 0);
	assert_int_equal(c.alg, DIGEST_MD5);
	assert_false(pl_isset(c.algorithm));
	digest_expected(out, &c, PL("REGISTER"), "s3cr3t!");
	assert_string_equal(out, "5d4ff3c56ced86e4b7ac88abb168543e");
	assert_true(digest_verify(&c, PL("REGISTER"), "s3cr3t!"));
	assert_false(digest_verify(&c, PL("INVITE"), "s3cr3t!"));
	assert_false(digest_verify(&c, PL("REGISTER"), "s3cr3t"));
	assert_false(digest_verify(&c, PL("REGISTER"), ""));

	sip_hdr(h, sizeof(h), "MD5", "00000002", "8d6fab90a78ceb71544787173a00c663");
	assert_int_equal(parse(&c, h), 0);
	assert_int_equal(c.nc_val, 2);
	assert_true(digest_verify(&c, PL("REGISTER"), "s3cr3t!"));

	/* upper-case hex from a sloppy phone is the same answer */
	sip_hdr(h, sizeof(h), "MD5", "00000002", "8D6FAB90A78CEB71544787173A00C663");
	assert_int_equal(parse(&c, h), 0);
	assert_true(digest_verify(&c, PL("REGISTER"), "s3cr3t!"));

	/* truncated or over-long responses */
	sip_hdr(h, sizeof(h), "MD5", "00000002", "8d6fab90a78ceb71544787173a00c66");
	assert_int_equal(parse(&c, h), 0);
	assert_false(digest_verify(&c, PL("REGISTER"), "s3cr3t!"));
	sip_hdr(h, sizeof(h), "MD5", "00000002", "8d6fab90a78ceb71544787173a00c6630");
	assert_int_equal(parse(&c, h), 0);
	assert_false(digest_verify(&c, PL("REGISTER"), "s3cr3t!"));
}

static void test_sip_sha256(void **state)
{
	struct digest_cred c;
	char h[512], out[65];

	sip_hdr(h, sizeof(h), "SHA-256", "00000001",
		"e0730f062fb733180293f6138f128f1f7446a94906b9414f0fb24d192eddda7a");
	assert_int_equal(parse(&c, h), 0);
	assert_int_equal(c.alg, DIGEST_SHA256);
	digest_expected(out, &c, PL("REGISTER"), "s3cr3t!");
	assert_string_equal(out, "e0730f062fb733180293f6138f128f1f7446a94906b9414f0fb24d192eddda7a");
	assert_true(digest_verify(&c, PL("REGISTER"), "s3cr3t!"));
	assert_false(digest_verify(&c, PL("REGISTER"), "s3cr3t?"));

	/* an MD5 answer labelled SHA-256 is wrong */
	sip_hdr(h, sizeof(h), "SHA-256", "00000001", "5d4ff3c56ced86e4b7ac88abb168543e");
	assert_int_equal(parse(&c, h), 0);
	assert_false(digest_verify(&c, PL("REGISTER"), "s3cr3t!"));
}

/* Escapes in quoted strings are removed before hashing (RFC 7616 3.4). */
static void test_sip_escaped_username(void **state)
{
	static const char *const h[] = {
		"Digest username=\"al\\\"ice\\\\x\", realm=\"hookflash\", nonce=\"" SIP_NONCE "\", "
		"uri=\"sip:1002@pbx.example.com\", response=\"ff65e0cc81cfb939bb3934fea8ccb2bb\", "
		"qop=auth, nc=0000000a, cnonce=\"xyz\"",
		"Digest username=\"al\\\"ice\\\\x\", realm=\"hook\\flash\", nonce=\"" SIP_NONCE "\", "
		"uri=\"sip:1002@pbx.example.com\", algorithm=sha-256, "
		"response=\"adaa184d322e10459cd5b989fb3e0acba723303f1acfded1f3dbe8466f5cc2c7\", "
		"qop=auth, nc=0000000a, cnonce=\"x\\yz\"",
	};
	struct digest_cred c;
	char user[32];

	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(parse(&c, h[i]), 0);
		assert_pl(c.username, "al\\\"ice\\\\x"); /* the slice keeps escapes */
		assert_int_equal(digest_unescape(c.username, user, sizeof(user)), 8);
		assert_string_equal(user, "al\"ice\\x");
		assert_int_equal(c.nc_val, 10);
		assert_true(digest_verify(&c, PL("INVITE"), "pw"));
	}
	/* truncation still reports the full length, like pl_strcpy */
	assert_int_equal(digest_unescape(PL("abcdef"), user, 4), 6);
	assert_string_equal(user, "abc");
}

/* ---- parser oddities ---- */

static void test_parse_oddities(void **state)
{
	struct digest_cred c;

	/* lower-case scheme, upper-case names, tabs and spaces around '=',
	 * any order, quoted tokens, empty list elements, unknown params */
	assert_int_equal(parse(&c, "  digest\tRESPONSE = \"abc\" ,,USERNAME=\"1001\",  "
				   "Realm=\"hookflash\",NONCE=\"n\" , URI=\"sip:x\","
				   "Algorithm=\"sha-256\", QOP=\"auth\", NC=000000ff, "
				   "CNONCE=\"c\", foo=bar, foo=\"baz\", userhash=false, ,  "),
			 0);
	assert_pl(c.username, "1001");
	assert_pl(c.realm, "hookflash");
	assert_pl(c.nonce, "n");
	assert_pl(c.uri, "sip:x");
	assert_pl(c.response, "abc");
	assert_int_equal(c.alg, DIGEST_SHA256);
	assert_int_equal(c.nc_val, 255);
	assert_false(pl_isset(c.opaque));

	/* folded continuation lines, bare uri with ';' and '=' */
	assert_int_equal(parse(&c, "Digest username=\"1001\",\r\n\trealm=\"hookflash\",\r\n "
				   "nonce=\"n\", uri=sip:1001@pbx;transport=udp, response=\"r\""),
			 0);
	assert_pl(c.uri, "sip:1001@pbx;transport=udp");
	assert_false(pl_isset(c.qop));
	assert_int_equal(c.alg, DIGEST_MD5);

	/* commas and equals signs inside quotes are data */
	assert_int_equal(parse(&c, "Digest username=\"a,b=c\", realm=\"r\", nonce=\"n\", "
				   "uri=\"u\", response=\"x\", opaque=\"\""),
			 0);
	assert_pl(c.username, "a,b=c");
	assert_true(pl_isset(c.opaque));
	assert_int_equal(c.opaque.l, 0);

	/* slices point into the caller's buffer */
	const char *s = "Digest username=\"u\", realm=\"r\", nonce=\"n\", uri=\"u\", response=\"x\"";
	assert_int_equal(parse(&c, s), 0);
	assert_ptr_equal(c.username.p, s + 17);
}

static void test_parse_errors(void **state)
{
	static const char *const einval[] = {
		"",
		"Digest",
		"Digest ",
		"Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==",
		"Digestusername=\"u\", realm=\"r\", nonce=\"n\", uri=\"u\", response=\"x\"",
		"Digest, username=\"u\", realm=\"r\", nonce=\"n\", uri=\"u\", response=\"x\"",
		/* each required field missing or empty */
		"Digest realm=\"r\", nonce=\"n\", uri=\"u\", response=\"x\"",
		"Digest username=\"u\", nonce=\"n\", uri=\"u\", response=\"x\"",
		"Digest username=\"u\", realm=\"r\", uri=\"u\", response=\"x\"",
		"Digest username=\"u\", realm=\"r\", nonce=\"n\", response=\"x\"",
		"Digest username=\"u\", realm=\"r\", nonce=\"n\", uri=\"u\"",
		"Digest username=\"\", realm=\"r\", nonce=\"n\", uri=\"u\", response=\"x\"",
		"Digest username=\"u\", realm=\"r\", nonce=\"n\", uri=\"u\", response=\"\"",
		/* syntax */
		"Digest username=\"u, realm=\"r\", nonce=\"n\", uri=\"u\", response=\"x\"",
		"Digest username=\"u\", realm=\"r\", nonce=\"n\", uri=\"u\", response=\"x\\",
		"Digest username=\"u\" realm=\"r\", nonce=\"n\", uri=\"u\", response=\"x\"",
		"Digest username=\"u\", realm, nonce=\"n\", uri=\"u\", response=\"x\"",
		"Digest username=\"u\", realm=, nonce=\"n\", uri=\"u\", response=\"x\"",
		"Digest username=\"u\", =\"r\", nonce=\"n\", uri=\"u\", response=\"x\"",
		"Digest username=\"u\", realm=\"r\", nonce=\"n\", uri=\"u\", response=\"x\"x",
		"Digest username=u\\v, realm=\"r\", nonce=\"n\", uri=\"u\", response=\"x\"",
		"Digest username=\"u\x01\", realm=\"r\", nonce=\"n\", uri=\"u\", response=\"x\"",
		/* duplicates of a known parameter are ambiguous */
		"Digest username=\"u\", realm=\"r\", nonce=\"n\", uri=\"u\", response=\"x\", "
		"USERNAME=\"v\"",
		"Digest username=\"u\", realm=\"r\", nonce=\"n\", uri=\"u\", response=\"x\", "
		"algorithm=MD5, algorithm=SHA-256",
		/* qop=auth needs nc (8 hex digits, not 0) and cnonce */
		"Digest username=\"u\", realm=\"r\", nonce=\"n\", uri=\"u\", response=\"x\", "
		"qop=auth, cnonce=\"c\"",
		"Digest username=\"u\", realm=\"r\", nonce=\"n\", uri=\"u\", response=\"x\", "
		"qop=auth, nc=00000001",
		"Digest username=\"u\", realm=\"r\", nonce=\"n\", uri=\"u\", response=\"x\", "
		"qop=auth, nc=1, cnonce=\"c\"",
		"Digest username=\"u\", realm=\"r\", nonce=\"n\", uri=\"u\", response=\"x\", "
		"qop=auth, nc=0000000g, cnonce=\"c\"",
		"Digest username=\"u\", realm=\"r\", nonce=\"n\", uri=\"u\", response=\"x\", "
		"qop=auth, nc=00000000, cnonce=\"c\"",
	};
	static const char *const unsupported[] = {
		"Digest username=\"u\", realm=\"r\", nonce=\"n\", uri=\"u\", response=\"x\", "
		"algorithm=MD5-sess",
		"Digest username=\"u\", realm=\"r\", nonce=\"n\", uri=\"u\", response=\"x\", "
		"algorithm=SHA-256-sess",
		"Digest username=\"u\", realm=\"r\", nonce=\"n\", uri=\"u\", response=\"x\", "
		"algorithm=SHA-512-256",
		"Digest username=\"u\", realm=\"r\", nonce=\"n\", uri=\"u\", response=\"x\", "
		"qop=auth-int, nc=00000001, cnonce=\"c\"",
		"Digest username=\"u\", realm=\"r\", nonce=\"n\", uri=\"u\", response=\"x\", "
		"qop=\"auth,auth-int\", nc=00000001, cnonce=\"c\"",
	};
	struct digest_cred c;

	for (size_t i = 0; i < sizeof(einval) / sizeof(einval[0]); i++) {
		memset(&c, 0x55, sizeof(c));
		if (parse(&c, einval[i]) != EINVAL)
			fail_msg("expected EINVAL for [%s]", einval[i]);
		assert_false(pl_isset(c.username)); /* nothing half-filled */
	}
	for (size_t i = 0; i < sizeof(unsupported) / sizeof(unsupported[0]); i++)
		if (parse(&c, unsupported[i]) != EPROTONOSUPPORT)
			fail_msg("expected EPROTONOSUPPORT for [%s]", unsupported[i]);
	assert_int_equal(digest_cred_parse(&c, PL_NULL), EINVAL);
	assert_int_equal(digest_cred_parse(NULL, PL("Digest x=y")), EINVAL);
}

/* ---- verification policy ---- */

/* Without qop there is no nonce-count, so a captured request could be
 * replayed for the nonce's lifetime: we offer qop=auth and require it. */
static void test_verify_requires_qop(void **state)
{
	struct digest_cred c;
	char out[65];

	assert_int_equal(parse(&c, "Digest username=\"1001\", realm=\"hookflash\", "
				   "nonce=\"" SIP_NONCE "\", uri=\"sip:pbx.example.com\", "
				   "response=\"1c9e1792f4262abfea5e0fea2b0f4c06\""),
			 0);
	digest_expected(out, &c, PL("REGISTER"), "s3cr3t!");
	assert_string_equal(out, "1c9e1792f4262abfea5e0fea2b0f4c06"); /* RFC 2617 form */
	assert_false(digest_verify(&c, PL("REGISTER"), "s3cr3t!"));
}

static void test_verify_unknown_user(void **state)
{
	struct digest_cred c;
	char h[512], out[65];

	sip_hdr(h, sizeof(h), NULL, "00000001", "5d4ff3c56ced86e4b7ac88abb168543e");
	assert_int_equal(parse(&c, h), 0);
	/* a NULL password fails even against the response of an empty or
	 * real password: it is not "no password" */
	assert_false(digest_verify(&c, PL("REGISTER"), NULL));
	digest_expected(out, &c, PL("REGISTER"), "");
	c.response = pl_from(out);
	assert_false(digest_verify(&c, PL("REGISTER"), NULL));
	assert_true(digest_verify(&c, PL("REGISTER"), ""));
	assert_false(digest_verify(NULL, PL("REGISTER"), "x"));
	digest_expected(out, &c, PL("REGISTER"), NULL);
	assert_string_equal(out, "");
}

static uint64_t ns_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A coarse guard against a shortcut for unknown users creeping in (an
 * early return costs ~1% of three hashes): the fastest of many interleaved
 * batches, which preemption cannot inflate, must be within a factor of
 * two for an unknown user and for a wrong password. */
static void test_verify_unknown_user_timing(void **state)
{
	struct digest_cred c;
	char h[512];
	uint64_t best_unknown = UINT64_MAX, best_wrong = UINT64_MAX;

	sip_hdr(h, sizeof(h), "SHA-256", "00000001",
		"e0730f062fb733180293f6138f128f1f7446a94906b9414f0fb24d192eddda7a");
	assert_int_equal(parse(&c, h), 0);
	for (int batch = 0; batch < 300; batch++) {
		bool r = false;
		uint64_t t0 = ns_now();
		for (int i = 0; i < 8; i++)
			r |= digest_verify(&c, PL("REGISTER"), NULL);
		uint64_t t1 = ns_now();
		for (int i = 0; i < 8; i++)
			r |= digest_verify(&c, PL("REGISTER"), "a-wrong-password");
		uint64_t t2 = ns_now();
		assert_false(r);
		if (t1 - t0 < best_unknown)
			best_unknown = t1 - t0;
		if (t2 - t1 < best_wrong)
			best_wrong = t2 - t1;
	}
	if (best_unknown * 2 < best_wrong || best_wrong * 2 < best_unknown)
		fail_msg("unknown user %llu ns vs wrong password %llu ns per 8",
			 (unsigned long long)best_unknown, (unsigned long long)best_wrong);
}

/* ---- nonces ---- */

static void test_nonce_fresh_and_stale(void **state)
{
	struct auth_nonces *n;
	char nonce[64];
	const uint64_t t = 1000000;

	assert_int_equal(auth_nonces_alloc(&n, 30), 0);
	auth_nonce_make(n, NULL, t, nonce, sizeof(nonce));
	assert_int_equal(strlen(nonce), 57);
	assert_int_equal(auth_nonce_check(n, NULL, pl_from(nonce), t), 0);
	assert_int_equal(auth_nonce_check(n, NULL, pl_from(nonce), t + 30000), 0);
	assert_int_equal(auth_nonce_check(n, NULL, pl_from(nonce), t + 30001), ESTALE);
	assert_int_equal(auth_nonce_check(n, NULL, pl_from(nonce), t + 86400000), ESTALE);
	/* made "later" than now: genuine, not stale */
	assert_int_equal(auth_nonce_check(n, NULL, pl_from(nonce), t - 5), 0);
	/* a stale nonce cannot be used either */
	assert_int_equal(auth_nonce_use(n, NULL, pl_from(nonce), 1, t + 30001), ESTALE);
	assert_int_equal(auth_nonces_used(n), 0);

	/* unique within the same millisecond */
	char other[64];
	auth_nonce_make(n, NULL, t, other, sizeof(other));
	assert_string_not_equal(nonce, other);
	assert_int_equal(auth_nonce_check(n, NULL, pl_from(other), t), 0);

	/* too small a buffer gives an empty (always refused) nonce */
	char tiny[32];
	auth_nonce_make(n, NULL, t, tiny, sizeof(tiny));
	assert_string_equal(tiny, "");
	assert_int_equal(auth_nonce_check(n, NULL, pl_from(tiny), t), EINVAL);
	auth_nonces_free(n);
}

static void test_nonce_forged(void **state)
{
	struct auth_nonces *n, *m;
	char nonce[64], bad[80];
	const uint64_t t = 5000;

	assert_int_equal(auth_nonces_alloc(&n, 30), 0);
	assert_int_equal(auth_nonces_alloc(&m, 30), 0);
	auth_nonce_make(n, NULL, t, nonce, sizeof(nonce));

	/* every single-character change is caught */
	for (size_t i = 0; i < strlen(nonce); i++) {
		strcpy(bad, nonce);
		bad[i] = bad[i] == '0' ? '1' : '0';
		if (auth_nonce_check(n, NULL, pl_from(bad), t) != EINVAL)
			fail_msg("altered nonce accepted at %zu: %s", i, bad);
		assert_int_equal(auth_nonce_use(n, NULL, pl_from(bad), 1, t), EINVAL);
	}
	/* upper case, truncated, extended, garbage, empty */
	strcpy(bad, nonce);
	for (char *p = bad; *p; p++)
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 'a' + 'A');
	if (strcmp(bad, nonce) != 0)
		assert_int_equal(auth_nonce_check(n, NULL, pl_from(bad), t), EINVAL);
	assert_int_equal(auth_nonce_check(n, NULL, (struct pl){ nonce, 56 }, t), EINVAL);
	snprintf(bad, sizeof(bad), "%s0", nonce);
	assert_int_equal(auth_nonce_check(n, NULL, pl_from(bad), t), EINVAL);
	assert_int_equal(auth_nonce_check(n, NULL, PL(RFC_NONCE), t), EINVAL);
	assert_int_equal(auth_nonce_check(n, NULL, PL(SIP_NONCE), t), EINVAL);
	assert_int_equal(auth_nonce_check(n, NULL, PL(""), t), EINVAL);
	assert_int_equal(auth_nonce_check(n, NULL, PL_NULL, t), EINVAL);
	/* another process's (another secret's) nonce, as after a restart */
	assert_int_equal(auth_nonce_check(m, NULL, pl_from(nonce), t), EINVAL);
	assert_int_equal(auth_nonce_check(n, NULL, pl_from(nonce), t), 0);
	auth_nonces_free(m);
	auth_nonces_free(n);
}

/* A nonce answers only from the address it was sent to (issue 16: a
 * spoofed sender must not be able to produce a countable failure). */
static void test_nonce_bound_to_source(void **state)
{
	struct auth_nonces *n;
	char nonce[64];
	struct sockaddr_in a, b, a2;
	struct sockaddr_in6 m6;
	(void)state;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	inet_pton(AF_INET, "192.0.2.1", &a.sin_addr);
	a.sin_port = htons(5060);
	b = a;
	inet_pton(AF_INET, "192.0.2.2", &b.sin_addr);
	a2 = a;
	a2.sin_port = htons(40000); /* same host, new connection */
	memset(&m6, 0, sizeof(m6));
	m6.sin6_family = AF_INET6;
	inet_pton(AF_INET6, "::ffff:192.0.2.1", &m6.sin6_addr);

	assert_int_equal(auth_nonces_alloc(&n, 30), 0);
	auth_nonce_make(n, (struct sockaddr *)&a, 1000, nonce, sizeof(nonce));
	assert_int_equal(auth_nonce_check(n, (struct sockaddr *)&a, pl_from(nonce), 1000), 0);
	assert_int_equal(auth_nonce_check(n, (struct sockaddr *)&a2, pl_from(nonce), 1000), 0);
	assert_int_equal(auth_nonce_check(n, (struct sockaddr *)&m6, pl_from(nonce), 1000), 0);
	assert_int_equal(auth_nonce_check(n, (struct sockaddr *)&b, pl_from(nonce), 1000), EINVAL);
	assert_int_equal(auth_nonce_check(n, NULL, pl_from(nonce), 1000), EINVAL);
	assert_int_equal(auth_nonce_use(n, (struct sockaddr *)&b, pl_from(nonce), 1, 1000), EINVAL);
	auth_nonces_free(n);
}

static void test_nc_replay(void **state)
{
	struct auth_nonces *n;
	char a[64], b[64];
	const uint64_t t = 77;

	assert_int_equal(auth_nonces_alloc(&n, 60), 0);
	auth_nonce_make(n, NULL, t, a, sizeof(a));
	auth_nonce_make(n, NULL, t, b, sizeof(b));
	assert_int_equal(auth_nonces_used(n), 0); /* challenges cost no state */

	assert_int_equal(auth_nonce_use(n, NULL, pl_from(a), 1, t + 10), 0);
	assert_int_equal(auth_nonce_use(n, NULL, pl_from(a), 1, t + 11), EALREADY);
	assert_int_equal(auth_nonce_use(n, NULL, pl_from(a), 2, t + 12), 0);
	assert_int_equal(auth_nonce_use(n, NULL, pl_from(a), 1, t + 13), EALREADY);
	assert_int_equal(auth_nonce_use(n, NULL, pl_from(a), 2, t + 13), EALREADY);
	assert_int_equal(auth_nonce_use(n, NULL, pl_from(a), 7, t + 14), 0); /* gaps are fine */
	assert_int_equal(auth_nonce_use(n, NULL, pl_from(b), 1, t + 15), 0); /* its own count */
	assert_int_equal(auth_nonce_use(n, NULL, pl_from(b), 0, t + 15), EALREADY);
	assert_int_equal(auth_nonces_used(n), 2);
	/* a used nonce is still fresh for checking */
	assert_int_equal(auth_nonce_check(n, NULL, pl_from(a), t + 16), 0);
	auth_nonces_free(n);
}

static void test_nc_table_bounded(void **state)
{
	struct auth_nonces *n;
	char nonce[100][64];
	char later[64];

	assert_int_equal(auth_nonces_alloc_sized(&n, 300, 8), 0);
	for (int i = 0; i < 100; i++) {
		auth_nonce_make(n, NULL, 1000 + (uint64_t)i, nonce[i], sizeof(nonce[i]));
		assert_int_equal(auth_nonce_use(n, NULL, pl_from(nonce[i]), 1, 2000), 0);
		assert_true(auth_nonces_used(n) <= 8);
	}
	assert_int_equal(auth_nonces_used(n), 8);
	/* the 8 newest keep their counts */
	for (int i = 92; i < 100; i++) {
		assert_int_equal(auth_nonce_check(n, NULL, pl_from(nonce[i]), 2001), 0);
		assert_int_equal(auth_nonce_use(n, NULL, pl_from(nonce[i]), 1, 2001), EALREADY);
		assert_int_equal(auth_nonce_use(n, NULL, pl_from(nonce[i]), 2, 2001), 0);
	}
	/* evicted ones must not become replayable: they are stale now */
	for (int i = 0; i < 92; i++) {
		assert_int_equal(auth_nonce_check(n, NULL, pl_from(nonce[i]), 2002), ESTALE);
		assert_int_equal(auth_nonce_use(n, NULL, pl_from(nonce[i]), 1, 2002), EALREADY);
	}
	/* ...and so are unused nonces from that time, but not newer ones */
	auth_nonce_make(n, NULL, 1050, later, sizeof(later));
	assert_int_equal(auth_nonce_check(n, NULL, pl_from(later), 2003), ESTALE);
	auth_nonce_make(n, NULL, 2003, later, sizeof(later));
	assert_int_equal(auth_nonce_check(n, NULL, pl_from(later), 2003), 0);
	assert_int_equal(auth_nonce_use(n, NULL, pl_from(later), 1, 2003), 0);
	assert_int_equal(auth_nonces_used(n), 8);
	auth_nonces_free(n);
}

/* Expired entries make room without marking anything stale. */
static void test_nc_table_expiry(void **state)
{
	struct auth_nonces *n;
	char nonce[64];

	assert_int_equal(auth_nonces_alloc_sized(&n, 10, 4), 0);
	for (int i = 0; i < 4; i++) {
		auth_nonce_make(n, NULL, 0, nonce, sizeof(nonce));
		assert_int_equal(auth_nonce_use(n, NULL, pl_from(nonce), 1, 100), 0);
	}
	assert_int_equal(auth_nonces_used(n), 4);
	/* 10 s later those four have expired */
	char fresh[64], unused[64];
	auth_nonce_make(n, NULL, 5000, unused, sizeof(unused));
	auth_nonce_make(n, NULL, 10001, fresh, sizeof(fresh));
	assert_int_equal(auth_nonce_use(n, NULL, pl_from(fresh), 1, 10001), 0);
	assert_int_equal(auth_nonces_used(n), 1);
	assert_int_equal(auth_nonce_check(n, NULL, pl_from(unused), 10001), 0);
	assert_int_equal(auth_nonce_check(n, NULL, pl_from(nonce), 10001), ESTALE);
	auth_nonces_free(n);
}

/* ---- challenge ---- */

static const enum digest_alg sha_first[] = { DIGEST_SHA256, DIGEST_MD5 };

static void test_challenge(void **state)
{
	struct auth_nonces *n;
	struct sbuf b;
	char want[1024], nonce[64];
	const char *p;

	assert_int_equal(auth_nonces_alloc(&n, 30), 0);
	sbuf_init(&b);
	auth_challenge(&b, n, NULL, 4242, "hookflash", false, false, sha_first, 2);
	assert_int_equal(b.err, 0);
	p = strstr(b.p, "nonce=\"");
	assert_non_null(p);
	p += 7;
	assert_non_null(strchr(p, '"'));
	pl_strcpy((struct pl){ p, (size_t)(strchr(p, '"') - p) }, nonce, sizeof(nonce));
	assert_int_equal(auth_nonce_check(n, NULL, pl_from(nonce), 4242), 0);
	snprintf(want, sizeof(want),
		 "WWW-Authenticate: Digest realm=\"hookflash\", nonce=\"%s\", algorithm=SHA-256, qop=\"auth\"\r\n"
		 "WWW-Authenticate: Digest realm=\"hookflash\", nonce=\"%s\", algorithm=MD5, qop=\"auth\"\r\n",
		 nonce, nonce);
	assert_string_equal(b.p, want);

	sbuf_reset(&b);
	auth_challenge(&b, n, NULL, 4242, "a\"b", true, true, sha_first, 2);
	p = strstr(b.p, "nonce=\"") + 7;
	pl_strcpy((struct pl){ p, (size_t)(strchr(p, '"') - p) }, nonce, sizeof(nonce));
	snprintf(want, sizeof(want),
		 "Proxy-Authenticate: Digest realm=\"a\\\"b\", nonce=\"%s\", algorithm=SHA-256, qop=\"auth\", stale=true\r\n"
		 "Proxy-Authenticate: Digest realm=\"a\\\"b\", nonce=\"%s\", algorithm=MD5, qop=\"auth\", stale=true\r\n",
		 nonce, nonce);
	assert_string_equal(b.p, want);

	/* the default order puts MD5 first: SIPp 3.6, baresip 1.0 and many
	 * desk phones read only the first challenge */
	sbuf_reset(&b);
	auth_challenge(&b, n, NULL, 4242, "hookflash", false, false, NULL, 0);
	p = strstr(b.p, "algorithm=MD5");
	assert_non_null(p);
	assert_true(p < strstr(b.p, "algorithm=SHA-256"));

	/* a CR LF in a misconfigured realm cannot start a header */
	sbuf_reset(&b);
	auth_challenge(&b, n, NULL, 4242, "x\r\nVia: evil", false, false, NULL, 0);
	assert_null(strstr(b.p, "\r\nVia"));
	assert_non_null(strstr(b.p, "realm=\"xVia: evil\""));
	sbuf_free(&b);
	auth_nonces_free(n);
}

/* ---- the whole exchange ---- */

struct client {
	char hdr[768];
	char resp[65];
};

/* What a phone does with a challenge; the response comes from
 * digest_expected, which the vectors above pin down independently. */
static int answer(struct client *cl, struct digest_cred *c, const char *nonce,
		  const char *user, const char *realm, const char *pw, const char *alg,
		  uint32_t nc)
{
	char first[768];
	int err;

	snprintf(first, sizeof(first),
		 "Digest username=\"%s\", realm=\"%s\", nonce=\"%s\", uri=\"sip:pbx\", "
		 "response=\"00\", algorithm=%s, qop=auth, nc=%08x, cnonce=\"deadbeef\"",
		 user, realm, nonce, alg, nc);
	err = parse(c, first);
	if (err)
		return err;
	digest_expected(cl->resp, c, PL("REGISTER"), pw);
	snprintf(cl->hdr, sizeof(cl->hdr),
		 "Digest username=\"%s\", realm=\"%s\", nonce=\"%s\", uri=\"sip:pbx\", "
		 "response=\"%s\", algorithm=%s, qop=auth, nc=%08x, cnonce=\"deadbeef\"",
		 user, realm, nonce, cl->resp, alg, nc);
	return parse(c, cl->hdr);
}

static void test_auth_check_flow(void **state)
{
	struct auth_nonces *n, *other;
	struct digest_cred c;
	struct client cl;
	char nonce[64], old[64];

	assert_int_equal(auth_nonces_alloc(&n, 30), 0);
	assert_int_equal(auth_nonces_alloc(&other, 30), 0);
	auth_nonce_make(n, NULL, 1000, nonce, sizeof(nonce));

	for (int alg = 0; alg < 2; alg++) {
		const char *an = alg ? "SHA-256" : "MD5";
		auth_nonce_make(n, NULL, 1000, nonce, sizeof(nonce));
		assert_int_equal(answer(&cl, &c, nonce, "1001", "hookflash", "s3cr3t!", an, 1), 0);
		assert_int_equal(auth_check(n, NULL, &c, PL("REGISTER"), "hookflash", "s3cr3t!", 1500), 0);
		/* the same request again */
		assert_int_equal(auth_check(n, NULL, &c, PL("REGISTER"), "hookflash", "s3cr3t!", 1600),
				 EALREADY);
		/* the next one from the same phone */
		assert_int_equal(answer(&cl, &c, nonce, "1001", "hookflash", "s3cr3t!", an, 2), 0);
		assert_int_equal(auth_check(n, NULL, &c, PL("REGISTER"), "hookflash", "s3cr3t!", 1700), 0);
		/* wrong password, unknown user, wrong realm: the same answer */
		assert_int_equal(answer(&cl, &c, nonce, "1001", "hookflash", "guess", an, 3), 0);
		assert_int_equal(auth_check(n, NULL, &c, PL("REGISTER"), "hookflash", "s3cr3t!", 1800),
				 EACCES);
		assert_int_equal(answer(&cl, &c, nonce, "9999", "hookflash", "guess", an, 3), 0);
		assert_int_equal(auth_check(n, NULL, &c, PL("REGISTER"), "hookflash", NULL, 1800), EACCES);
		assert_int_equal(answer(&cl, &c, nonce, "1001", "elsewhere", "s3cr3t!", an, 3), 0);
		assert_int_equal(auth_check(n, NULL, &c, PL("REGISTER"), "hookflash", "s3cr3t!", 1800),
				 EACCES);
		/* failures did not consume the nonce-count */
		assert_int_equal(answer(&cl, &c, nonce, "1001", "hookflash", "s3cr3t!", an, 3), 0);
		assert_int_equal(auth_check(n, NULL, &c, PL("REGISTER"), "hookflash", "s3cr3t!", 1900), 0);
	}

	/* right answer on an expired nonce: stale, and no state taken */
	auth_nonce_make(n, NULL, 1000, old, sizeof(old));
	assert_int_equal(answer(&cl, &c, old, "1001", "hookflash", "s3cr3t!", "MD5", 1), 0);
	size_t used = auth_nonces_used(n);
	assert_int_equal(auth_check(n, NULL, &c, PL("REGISTER"), "hookflash", "s3cr3t!", 31001), ESTALE);
	assert_int_equal(auth_nonces_used(n), used);
	/* wrong answer on an expired nonce is just wrong */
	assert_int_equal(answer(&cl, &c, old, "1001", "hookflash", "nope", "MD5", 1), 0);
	assert_int_equal(auth_check(n, NULL, &c, PL("REGISTER"), "hookflash", "s3cr3t!", 31001), EACCES);
	assert_int_equal(auth_check(n, NULL, &c, PL("REGISTER"), "hookflash", NULL, 31001), EACCES);

	/* a nonce from another secret (a restart) */
	auth_nonce_make(other, NULL, 1000, old, sizeof(old));
	assert_int_equal(answer(&cl, &c, old, "1001", "hookflash", "s3cr3t!", "MD5", 1), 0);
	assert_int_equal(auth_check(n, NULL, &c, PL("REGISTER"), "hookflash", "s3cr3t!", 1000), EINVAL);

	/* no qop: refused even with the right RFC 2617 answer */
	auth_nonce_make(n, NULL, 1000, nonce, sizeof(nonce));
	char h[512], resp[65];
	snprintf(h, sizeof(h), "Digest username=\"1001\", realm=\"hookflash\", nonce=\"%s\", "
			       "uri=\"sip:pbx\", response=\"00\"", nonce);
	assert_int_equal(parse(&c, h), 0);
	digest_expected(resp, &c, PL("REGISTER"), "s3cr3t!");
	snprintf(h, sizeof(h), "Digest username=\"1001\", realm=\"hookflash\", nonce=\"%s\", "
			       "uri=\"sip:pbx\", response=\"%s\"", nonce, resp);
	assert_int_equal(parse(&c, h), 0);
	assert_int_equal(auth_check(n, NULL, &c, PL("REGISTER"), "hookflash", "s3cr3t!", 1000), EACCES);

	auth_nonces_free(other);
	auth_nonces_free(n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc7616_parse),
		cmocka_unit_test(test_rfc7616_md5),
		cmocka_unit_test(test_rfc7616_sha256),
		cmocka_unit_test(test_sip_md5),
		cmocka_unit_test(test_sip_sha256),
		cmocka_unit_test(test_sip_escaped_username),
		cmocka_unit_test(test_parse_oddities),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_verify_requires_qop),
		cmocka_unit_test(test_verify_unknown_user),
		cmocka_unit_test(test_verify_unknown_user_timing),
		cmocka_unit_test(test_nonce_fresh_and_stale),
		cmocka_unit_test(test_nonce_forged),
		cmocka_unit_test(test_nonce_bound_to_source),
		cmocka_unit_test(test_nc_replay),
		cmocka_unit_test(test_nc_table_bounded),
		cmocka_unit_test(test_nc_table_expiry),
		cmocka_unit_test(test_challenge),
		cmocka_unit_test(test_auth_check_flow),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
