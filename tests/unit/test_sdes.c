/*
 * Unit tests for SDES key handling (core/sdp/sdes.c): a=crypto lines from
 * RFC 4568's examples and in the styles desk phones and PBXs send, the
 * refusals (bad base64, key lengths, suites, lifetimes, MKIs, session
 * parameters), generated keys and their text round trip, the offer and
 * answer choice, and wiping. The base64 coder is checked against
 * OpenSSL's.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "../../core/sdp/sdes.h"
#include "../../core/sdp/sdp.h"

/* bytes 0, 1, ... 29 / 27 / 43 */
#define K30 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd"
#define K28 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGw=="
#define K44 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKis="
/* RFC 4568 section 8 / 4 example keys */
#define RFC_K1 "PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR"
#define RFC_K2 "WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz"

static struct sdp_crypto line(uint32_t tag, const char *suite, const char *kp,
			      const char *sp)
{
	struct sdp_crypto c;
	c.tag = tag;
	c.suite = pl_from(suite);
	c.key_params = pl_from(kp);
	c.sess_params = sp ? pl_from(sp) : PL_NULL;
	return c;
}

static int parse(const char *suite, const char *kp, const char *sp, struct sdes_key *k)
{
	struct sdp_crypto c = line(1, suite, kp, sp);
	return sdes_crypto_parse(&c, k);
}

static bool all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

static bool counting(const uint8_t *key, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (key[i] != i)
			return false;
	return true;
}

static void hex(const char *s, uint8_t *out)
{
	for (size_t i = 0; s[2 * i]; i++) {
		unsigned v;
		sscanf(s + 2 * i, "%2x", &v);
		out[i] = (uint8_t)v;
	}
}

static bool keys_equal(const struct sdes_key *a, const struct sdes_key *b)
{
	if (a->tag != b->tag || a->suite != b->suite || a->nkeys != b->nkeys || a->wsh != b->wsh)
		return false;
	for (size_t i = 0; i < a->nkeys; i++) {
		const struct sdes_master *x = &a->keys[i], *y = &b->keys[i];
		if (memcmp(x->key, y->key, sizeof(x->key)) || x->lifetime != y->lifetime ||
		    x->mki != y->mki || x->mki_len != y->mki_len)
			return false;
	}
	return true;
}

/* --- parsing ------------------------------------------------------------- */

static void test_rfc4568_examples(void **state)
{
	(void)state;
	struct sdes_key k;
	uint8_t want[30];

	assert_int_equal(parse("AES_CM_128_HMAC_SHA1_80", "inline:" RFC_K1 "|2^20|1:32", NULL, &k), 0);
	assert_int_equal(k.suite, SDES_AES_CM_128_HMAC_SHA1_80);
	assert_int_equal(k.tag, 1);
	assert_int_equal(k.nkeys, 1);
	hex("3d2d6e40255e7821426a75667239293f2c2335685c603d265d7b71695051", want);
	assert_memory_equal(k.keys[0].key, want, 30);
	assert_true(all_zero(k.keys[0].key + 30, SDES_KEY_MAX - 30));
	assert_int_equal(k.keys[0].lifetime, 1u << 20);
	assert_int_equal(k.keys[0].mki, 1);
	assert_int_equal(k.keys[0].mki_len, 32);
	assert_int_equal(k.wsh, 0);

	assert_int_equal(parse("AES_CM_128_HMAC_SHA1_80", "inline:" RFC_K2 "|2^20|1:4",
			       "FEC_ORDER=FEC_SRTP", &k), 0);
	hex("59535f5f5f73656d63746c202829207b093232303b7d0a7d0a756e6c6573", want);
	assert_memory_equal(k.keys[0].key, want, 30);
	assert_int_equal(k.keys[0].mki_len, 4);

	/* the second line of the example: a suite nobody implements */
	assert_int_equal(parse("F8_128_HMAC_SHA1_80",
			       "inline:MTIzNDU2Nzg5QUJDREUwMTIzNDU2Nzg5QUJjZGVm|2^20|1:4;"
			       "inline:QUJjZGVmMTIzNDU2Nzg5QUJDREUwMTIzNDU2Nzg5|2^20|2:4",
			       "FEC_ORDER=FEC_SRTP", &k), ENOTSUP);
	/* the same keys under a suite we do: two keys told apart by MKI */
	assert_int_equal(parse("AES_CM_128_HMAC_SHA1_32",
			       "inline:MTIzNDU2Nzg5QUJDREUwMTIzNDU2Nzg5QUJjZGVm|2^20|1:4;"
			       "inline:QUJjZGVmMTIzNDU2Nzg5QUJDREUwMTIzNDU2Nzg5|2^20|2:4",
			       "FEC_ORDER=FEC_SRTP", &k), 0);
	assert_int_equal(k.nkeys, 2);
	assert_memory_equal(k.keys[0].key, "123456789ABCDE0123456789ABcdef", 30);
	assert_memory_equal(k.keys[1].key, "ABcdef123456789ABCDE0123456789", 30);
	assert_int_equal(k.keys[1].mki, 2);
	sdes_key_wipe(&k);
}

static void test_phone_lines(void **state)
{
	(void)state;
	struct sdes_key k;
	/* Yealink / Polycom / Cisco: lifetime 2^31, no MKI */
	assert_int_equal(parse("AES_CM_128_HMAC_SHA1_80", "inline:" K30 "|2^31", NULL, &k), 0);
	assert_true(counting(k.keys[0].key, 30));
	assert_int_equal(k.keys[0].lifetime, UINT64_C(1) << 31);
	assert_int_equal(k.keys[0].mki_len, 0);
	assert_int_equal(parse("AES_CM_128_HMAC_SHA1_32", "inline:" K30 "|2^31", NULL, &k), 0);
	assert_int_equal(k.suite, SDES_AES_CM_128_HMAC_SHA1_32);
	/* Asterisk, baresip, Linphone: the key alone */
	assert_int_equal(parse("AES_CM_128_HMAC_SHA1_80", "inline:" K30, NULL, &k), 0);
	assert_int_equal(k.keys[0].lifetime, 0);
	/* Snom style: MKI without lifetime; decimal lifetime */
	assert_int_equal(parse("AES_CM_128_HMAC_SHA1_80", "inline:" K30 "|1:4", NULL, &k), 0);
	assert_int_equal(k.keys[0].mki, 1);
	assert_int_equal(k.keys[0].lifetime, 0);
	assert_int_equal(parse("AES_CM_128_HMAC_SHA1_80", "inline:" K30 "|1048576", NULL, &k), 0);
	assert_int_equal(k.keys[0].lifetime, 1048576);
	/* RFC 7714 suites, with and without base64 padding */
	assert_int_equal(parse("AEAD_AES_128_GCM", "inline:" K28, NULL, &k), 0);
	assert_int_equal(k.suite, SDES_AEAD_AES_128_GCM);
	assert_true(counting(k.keys[0].key, 28));
	assert_true(all_zero(k.keys[0].key + 28, SDES_KEY_MAX - 28));
	assert_int_equal(parse("AEAD_AES_128_GCM", "inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGw", NULL, &k), 0);
	assert_true(counting(k.keys[0].key, 28));
	assert_int_equal(parse("AEAD_AES_256_GCM", "inline:" K44 "|2^31", NULL, &k), 0);
	assert_true(counting(k.keys[0].key, 44));
	assert_int_equal(parse("AEAD_AES_256_GCM",
			       "inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKis", NULL, &k), 0);
	/* names are matched without case, as some stacks lower-case them */
	assert_int_equal(parse("aes_cm_128_hmac_sha1_80", "INLINE:" K30, NULL, &k), 0);
	assert_int_equal(k.suite, SDES_AES_CM_128_HMAC_SHA1_80);
	sdes_key_wipe(&k);
}

static void test_bad_base64(void **state)
{
	(void)state;
	struct sdes_key k;
	static const char *bad[] = {
		"inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBka#xwd",   /* not base64 */
		"inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBka xwd",   /* space */
		"inline:AAECAwQFBgcICQoLDA0ODxAREh=UFRYXGBkaGxwd",   /* '=' inside */
		"inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxw",    /* 39 chars */
		"inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdA",  /* 41 chars */
		"inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd=",  /* padding on 30 */
		"inline:" K28,                                        /* 28 bytes */
		"inline:" K44,                                        /* 44 bytes */
		"inline:",
		"inline:|2^31",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&k, 0xa5, sizeof(k));
		assert_int_equal(parse("AES_CM_128_HMAC_SHA1_80", bad[i], NULL, &k), EBADMSG);
		assert_true(all_zero(&k, sizeof(k))); /* wiped on error */
	}
	/* GCM: wrong padding count, non-zero spare bits, a 30-byte key */
	assert_int_equal(parse("AEAD_AES_128_GCM", "inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGw=", NULL, &k), EBADMSG);
	assert_int_equal(parse("AEAD_AES_128_GCM", "inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGx==", NULL, &k), EBADMSG);
	assert_int_equal(parse("AEAD_AES_128_GCM", "inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGw===", NULL, &k), EBADMSG);
	assert_int_equal(parse("AEAD_AES_128_GCM", "inline:" K30, NULL, &k), EBADMSG);
	assert_int_equal(parse("AEAD_AES_256_GCM", "inline:" K30, NULL, &k), EBADMSG);
	assert_int_equal(parse("AEAD_AES_256_GCM", "inline:" K28, NULL, &k), EBADMSG);
	assert_int_equal(parse("AEAD_AES_256_GCM",
			       "inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKiv=", NULL, &k), EBADMSG);
}

static void test_unknown_suites_and_methods(void **state)
{
	(void)state;
	struct sdes_key k;
	static const char *suites[] = {
		"F8_128_HMAC_SHA1_80", "AES_256_CM_HMAC_SHA1_80", "AES_192_CM_HMAC_SHA1_80",
		"AEAD_AES_128_GCM_8", "NULL_HMAC_SHA1_80", "AES_CM_128_HMAC_SHA1_80_X", "",
	};
	for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++)
		assert_int_equal(parse(suites[i], "inline:" K30, NULL, &k), ENOTSUP);
	/* another key method is well formed but not ours; garbage is not */
	assert_int_equal(parse("AES_CM_128_HMAC_SHA1_80", "uri:https://kms.example/k1", NULL, &k), ENOTSUP);
	assert_int_equal(parse("AES_CM_128_HMAC_SHA1_80", "inlinex" K30, NULL, &k), EBADMSG);
	assert_int_equal(parse("AES_CM_128_HMAC_SHA1_80", "", NULL, &k), EBADMSG);
	assert_int_equal(sdes_crypto_parse(NULL, &k), EINVAL);
	struct sdp_crypto c = line(1, "AES_CM_128_HMAC_SHA1_80", "inline:" K30, NULL);
	assert_int_equal(sdes_crypto_parse(&c, NULL), EINVAL);
	c.key_params = PL_NULL;
	assert_int_equal(sdes_crypto_parse(&c, &k), EBADMSG);
}

static void test_lifetimes(void **state)
{
	(void)state;
	struct sdes_key k;
	static const struct { const char *kp; int err; uint64_t lt; } t[] = {
		{ "inline:" K30 "|2^48", 0, UINT64_C(1) << 48 },
		{ "inline:" K30 "|2^0", 0, 1 },
		{ "inline:" K30 "|281474976710656", 0, UINT64_C(1) << 48 },
		{ "inline:" K30 "|1", 0, 1 },
		{ "inline:" K30 "|2^49", EBADMSG, 0 },
		{ "inline:" K30 "|281474976710657", EBADMSG, 0 },
		{ "inline:" K30 "|99999999999999999999999", EBADMSG, 0 },
		{ "inline:" K30 "|0", EBADMSG, 0 },
		{ "inline:" K30 "|2^", EBADMSG, 0 },
		{ "inline:" K30 "|2^x", EBADMSG, 0 },
		{ "inline:" K30 "|3^4", EBADMSG, 0 },
		{ "inline:" K30 "|-5", EBADMSG, 0 },
		{ "inline:" K30 "|", EBADMSG, 0 },
		{ "inline:" K30 "|2^20|", EBADMSG, 0 },
		{ "inline:" K30 "||1:4", EBADMSG, 0 },
		{ "inline:" K30 "|2^20|1:4|x", EBADMSG, 0 },
		{ "inline:" K30 "|1:4|2^20", EBADMSG, 0 },   /* MKI before lifetime */
		{ "inline:" K30 "|2^20|2^20", EBADMSG, 0 },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_int_equal(parse("AES_CM_128_HMAC_SHA1_80", t[i].kp, NULL, &k), t[i].err);
		if (!t[i].err)
			assert_int_equal(k.keys[0].lifetime, t[i].lt);
	}
}

static void test_mki(void **state)
{
	(void)state;
	struct sdes_key k;
	static const struct { const char *kp; int err; uint64_t mki; unsigned len; } t[] = {
		{ "inline:" K30 "|1:4", 0, 1, 4 },
		{ "inline:" K30 "|255:1", 0, 255, 1 },
		{ "inline:" K30 "|65535:2", 0, 65535, 2 },
		{ "inline:" K30 "|0:1", 0, 0, 1 },
		{ "inline:" K30 "|7:128", 0, 7, 128 },
		{ "inline:" K30 "|18446744073709551615:8", 0, UINT64_MAX, 8 },
		{ "inline:" K30 "|256:1", EBADMSG, 0, 0 },       /* does not fit */
		{ "inline:" K30 "|65536:2", EBADMSG, 0, 0 },
		{ "inline:" K30 "|1:0", EBADMSG, 0, 0 },
		{ "inline:" K30 "|1:129", EBADMSG, 0, 0 },
		{ "inline:" K30 "|1:0004", EBADMSG, 0, 0 },
		{ "inline:" K30 "|1:", EBADMSG, 0, 0 },
		{ "inline:" K30 "|:4", EBADMSG, 0, 0 },
		{ "inline:" K30 "|a:4", EBADMSG, 0, 0 },
		{ "inline:" K30 "|1:4:4", EBADMSG, 0, 0 },
		{ "inline:" K30 "|18446744073709551616:16", ENOTSUP, 0, 0 },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_int_equal(parse("AES_CM_128_HMAC_SHA1_80", t[i].kp, NULL, &k), t[i].err);
		if (!t[i].err) {
			assert_int_equal(k.keys[0].mki, t[i].mki);
			assert_int_equal(k.keys[0].mki_len, t[i].len);
		}
	}
	/* several keys: each with an MKI, one length, distinct values */
	assert_int_equal(parse("AES_CM_128_HMAC_SHA1_80",
			       "inline:" K30 "|2^20|1:4;inline:" RFC_K1 "|2^20|2:4;inline:" RFC_K2 "|3:4",
			       NULL, &k), 0);
	assert_int_equal(k.nkeys, 3);
	assert_int_equal(k.keys[2].mki, 3);
	assert_int_equal(k.keys[2].lifetime, 0);
	assert_int_equal(parse("AES_CM_128_HMAC_SHA1_80", "inline:" K30 ";inline:" RFC_K1, NULL, &k), EBADMSG);
	assert_int_equal(parse("AES_CM_128_HMAC_SHA1_80", "inline:" K30 "|1:4;inline:" RFC_K1, NULL, &k), EBADMSG);
	assert_int_equal(parse("AES_CM_128_HMAC_SHA1_80", "inline:" K30 "|1:4;inline:" RFC_K1 "|2:2", NULL, &k), EBADMSG);
	assert_int_equal(parse("AES_CM_128_HMAC_SHA1_80", "inline:" K30 "|1:4;inline:" RFC_K1 "|1:4", NULL, &k), EBADMSG);
	assert_int_equal(parse("AES_CM_128_HMAC_SHA1_80", "inline:" K30 "|1:4;", NULL, &k), EBADMSG);
	assert_int_equal(parse("AES_CM_128_HMAC_SHA1_80",
			       "inline:" K30 "|1:1;inline:" K30 "|2:1;inline:" K30 "|3:1;"
			       "inline:" K30 "|4:1", NULL, &k), 0);
	assert_int_equal(k.nkeys, SDES_MAX_KEYS);
	assert_int_equal(parse("AES_CM_128_HMAC_SHA1_80",
			       "inline:" K30 "|1:1;inline:" K30 "|2:1;inline:" K30 "|3:1;"
			       "inline:" K30 "|4:1;inline:" K30 "|5:1", NULL, &k), ENOTSUP);
	sdes_key_wipe(&k);
}

static void test_session_params(void **state)
{
	(void)state;
	struct sdes_key k;
	static const struct { const char *sp; int err; uint16_t wsh; } t[] = {
		{ "WSH=64", 0, 64 },
		{ "WSH=256", 0, 256 },
		{ "WSH=32767", 0, 32767 },
		{ "WSH=100000", 0, 32767 },                 /* a hint: clamped */
		{ "WSH=99999999999999999999999", 0, 32767 },
		{ "WSH=63", EBADMSG, 0 },
		{ "WSH=", EBADMSG, 0 },
		{ "WSH=x", EBADMSG, 0 },
		{ "FEC_ORDER=FEC_SRTP", 0, 0 },
		{ "FEC_ORDER=SRTP_FEC", ENOTSUP, 0 },
		{ "FEC_ORDER=SIDEWAYS", EBADMSG, 0 },
		{ "FEC_KEY=inline:" K30, ENOTSUP, 0 },
		{ "KDR=0", ENOTSUP, 0 },
		{ "KDR=10", ENOTSUP, 0 },
		{ "UNENCRYPTED_SRTP", ENOTSUP, 0 },
		{ "UNENCRYPTED_SRTCP", ENOTSUP, 0 },
		{ "UNAUTHENTICATED_SRTP", ENOTSUP, 0 },
		{ "X_NEW_MANDATORY", ENOTSUP, 0 },
		{ "-X_NEW_OPTIONAL=1", 0, 0 },
		{ "WSH=128  FEC_ORDER=FEC_SRTP\t-X", 0, 128 },
		{ "-X UNENCRYPTED_SRTCP", ENOTSUP, 0 },
		{ "", 0, 0 },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_int_equal(parse("AES_CM_128_HMAC_SHA1_80", "inline:" K30, t[i].sp, &k), t[i].err);
		if (!t[i].err)
			assert_int_equal(k.wsh, t[i].wsh);
	}
}

/* --- our keys ------------------------------------------------------------ */

static void test_generate_roundtrip(void **state)
{
	(void)state;
	static const enum sdes_suite all[] = {
		SDES_AES_CM_128_HMAC_SHA1_80, SDES_AES_CM_128_HMAC_SHA1_32,
		SDES_AEAD_AES_128_GCM, SDES_AEAD_AES_256_GCM,
	};
	static const size_t lens[] = { 30, 30, 28, 44 };
	static const size_t text[] = { 40, 40, 40, 60 };
	for (size_t i = 0; i < 4; i++) {
		struct sdes_key a, b, back;
		struct sdp_crypto c;
		assert_int_equal(sdes_suite_key_len(all[i]), lens[i]);
		assert_int_equal(sdes_key_generate(&a, all[i], 7), 0);
		assert_int_equal(sdes_key_generate(&b, all[i], 7), 0);
		assert_true(sdes_key_valid(&a));
		assert_memory_not_equal(a.keys[0].key, b.keys[0].key, lens[i]);
		assert_false(all_zero(a.keys[0].key, lens[i]));
		assert_true(all_zero(a.keys[0].key + lens[i], SDES_KEY_MAX - lens[i]));
		assert_int_equal(a.nkeys, 1);
		assert_int_equal(a.keys[0].lifetime, 0);
		assert_int_equal(a.keys[0].mki_len, 0);

		assert_int_equal(sdes_key_crypto(&a, &c), 0);
		assert_int_equal(c.tag, 7);
		assert_true(pl_casestr(c.suite, sdes_suite_name(all[i])));
		assert_int_equal(c.key_params.l, 7 + text[i]);
		assert_memory_equal(c.key_params.p, "inline:", 7);
		assert_false(pl_isset(c.sess_params));
		assert_int_equal(sdes_crypto_parse(&c, &back), 0);
		assert_true(keys_equal(&a, &back));
		sdes_key_wipe(&a);
		sdes_key_wipe(&b);
		sdes_key_wipe(&back);
	}
	struct sdes_key k;
	assert_int_equal(sdes_key_generate(&k, SDES_SUITE_NONE, 1), EINVAL);
	assert_int_equal(sdes_key_generate(NULL, SDES_AEAD_AES_128_GCM, 1), EINVAL);
}

static void test_print_roundtrip(void **state)
{
	(void)state;
	static const struct { const char *suite, *kp, *sp, *want_kp, *want_sp; } t[] = {
		{ "AES_CM_128_HMAC_SHA1_80", "inline:" RFC_K1 "|2^20|1:32", NULL, NULL, NULL },
		{ "AES_CM_128_HMAC_SHA1_32", "inline:" K30 "|1048576", "WSH=128",
		  "inline:" K30 "|2^20", "WSH=128" },
		{ "AES_CM_128_HMAC_SHA1_80", "inline:" K30 "|1000000", NULL, NULL, NULL },
		{ "AEAD_AES_128_GCM", "inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGw|7:2", "-X FEC_ORDER=FEC_SRTP",
		  "inline:" K28 "|7:2", NULL },
		{ "AES_CM_128_HMAC_SHA1_80",
		  "inline:" K30 "|2^48|18446744073709551615:128;inline:" RFC_K1 "|281474976710655|1:128;"
		  "inline:" RFC_K2 "|2^31|2:128;inline:" K30 "|3:128", "WSH=100000", NULL, "WSH=32767" },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct sdes_key a, back;
		struct sdp_crypto c;
		assert_int_equal(parse(t[i].suite, t[i].kp, t[i].sp, &a), 0);
		assert_int_equal(sdes_key_crypto(&a, &c), 0);
		const char *want = t[i].want_kp ? t[i].want_kp : t[i].kp;
		assert_int_equal(c.key_params.l, strlen(want));
		assert_memory_equal(c.key_params.p, want, c.key_params.l);
		if (t[i].want_sp) {
			assert_true(pl_isset(c.sess_params));
			assert_int_equal(c.sess_params.l, strlen(t[i].want_sp));
			assert_memory_equal(c.sess_params.p, t[i].want_sp, c.sess_params.l);
		} else {
			assert_false(pl_isset(c.sess_params));
		}
		assert_int_equal(sdes_crypto_parse(&c, &back), 0);
		assert_true(keys_equal(&a, &back));
		sdes_key_wipe(&a);
		sdes_key_wipe(&back);
	}
	/* what would not parse back is not printed */
	struct sdes_key k;
	struct sdp_crypto c;
	assert_int_equal(sdes_key_generate(&k, SDES_AEAD_AES_256_GCM, 1), 0);
	k.wsh = 10;
	assert_int_equal(sdes_key_crypto(&k, &c), EINVAL);
	k.wsh = 0;
	k.keys[0].mki = 256;
	k.keys[0].mki_len = 1;
	assert_int_equal(sdes_key_crypto(&k, &c), EINVAL);
	k.keys[0].mki_len = 0;
	k.nkeys = 2;
	assert_int_equal(sdes_key_crypto(&k, &c), EINVAL);
	k.nkeys = 1;
	k.keys[0].lifetime = SDES_LIFETIME_MAX + 1;
	assert_int_equal(sdes_key_crypto(&k, &c), EINVAL);
	sdes_key_wipe(&k);
}

/* Our constant-time coder against OpenSSL's, over every byte value in
 * every position of a 30, 28 and 44-byte key. */
static void test_base64_vs_openssl(void **state)
{
	(void)state;
	static const enum sdes_suite s[] = {
		SDES_AES_CM_128_HMAC_SHA1_80, SDES_AEAD_AES_128_GCM, SDES_AEAD_AES_256_GCM
	};
	for (size_t si = 0; si < 3; si++) {
		size_t len = sdes_suite_key_len(s[si]);
		for (unsigned start = 0; start < 256; start += 3) {
			struct sdes_key k, back;
			struct sdp_crypto c;
			memset(&k, 0, sizeof(k));
			k.suite = s[si];
			k.nkeys = 1;
			for (size_t i = 0; i < len; i++)
				k.keys[0].key[i] = (uint8_t)(start * 7 + i * 37);
			unsigned char ref[80];
			int n = EVP_EncodeBlock(ref, k.keys[0].key, (int)len);
			assert_int_equal(sdes_key_crypto(&k, &c), 0);
			assert_int_equal(c.key_params.l, 7 + (size_t)n);
			assert_memory_equal(c.key_params.p + 7, ref, (size_t)n);
			assert_int_equal(sdes_crypto_parse(&c, &back), 0);
			assert_memory_equal(back.keys[0].key, k.keys[0].key, SDES_KEY_MAX);
		}
	}
}

/* --- offer / answer ------------------------------------------------------ */

static void test_offer(void **state)
{
	(void)state;
	struct sdes_key keys[SDES_NSUITES];
	size_t n = 0;
	assert_int_equal(sdes_offer(keys, SDES_NSUITES, NULL, 0, &n), 0);
	assert_int_equal(n, 4);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(keys[i].tag, i + 1);
		assert_int_equal(keys[i].suite, sdes_default_order[i]);
		assert_true(sdes_key_valid(&keys[i]));
	}
	assert_int_equal(keys[0].suite, SDES_AES_CM_128_HMAC_SHA1_80);
	assert_int_equal(keys[3].suite, SDES_AES_CM_128_HMAC_SHA1_32);

	static const enum sdes_suite gcm_first[] = { SDES_AEAD_AES_256_GCM, SDES_AEAD_AES_128_GCM };
	assert_int_equal(sdes_offer(keys, SDES_NSUITES, gcm_first, 2, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(keys[0].suite, SDES_AEAD_AES_256_GCM);
	assert_int_equal(keys[1].tag, 2);

	static const enum sdes_suite dup[] = { SDES_AEAD_AES_128_GCM, SDES_AEAD_AES_128_GCM };
	static const enum sdes_suite none[] = { SDES_SUITE_NONE };
	assert_int_equal(sdes_offer(keys, SDES_NSUITES, dup, 2, &n), EINVAL);
	assert_int_equal(sdes_offer(keys, SDES_NSUITES, none, 1, &n), EINVAL);
	assert_int_equal(sdes_offer(keys, 3, NULL, 0, &n), EINVAL);
	assert_int_equal(sdes_offer(keys, SDES_NSUITES, gcm_first, 0, &n), EINVAL);
	for (size_t i = 0; i < SDES_NSUITES; i++)
		sdes_key_wipe(&keys[i]);
}

static void test_answer(void **state)
{
	(void)state;
	struct sdes_key local, remote;
	size_t idx = 99;
	/* unknown suite first, then one whose session parameters we refuse,
	 * then one we take */
	struct sdp_crypto offer[] = {
		line(1, "F8_128_HMAC_SHA1_80", "inline:" K30, NULL),
		line(2, "AES_CM_128_HMAC_SHA1_80", "inline:" K30, "UNENCRYPTED_SRTCP"),
		line(3, "AES_CM_128_HMAC_SHA1_80", "inline:broken", NULL),
		line(4, "AES_CM_128_HMAC_SHA1_32", "inline:" RFC_K1 "|2^31", NULL),
		line(5, "AEAD_AES_128_GCM", "inline:" K28, NULL),
	};
	assert_int_equal(sdes_answer(offer, 5, NULL, 0, &local, &remote, &idx), 0);
	assert_int_equal(idx, 3);
	assert_int_equal(remote.tag, 4);
	assert_int_equal(local.tag, 4);
	assert_int_equal(local.suite, SDES_AES_CM_128_HMAC_SHA1_32);
	assert_int_equal(remote.suite, SDES_AES_CM_128_HMAC_SHA1_32);
	assert_int_equal(remote.keys[0].lifetime, UINT64_C(1) << 31);
	assert_memory_not_equal(local.keys[0].key, remote.keys[0].key, 30);
	assert_int_equal(local.keys[0].lifetime, 0);

	/* our policy may narrow the suites: GCM only */
	static const enum sdes_suite gcm[] = { SDES_AEAD_AES_256_GCM, SDES_AEAD_AES_128_GCM };
	assert_int_equal(sdes_answer(offer, 5, gcm, 2, &local, &remote, NULL), 0);
	assert_int_equal(local.tag, 5);
	assert_int_equal(local.suite, SDES_AEAD_AES_128_GCM);
	assert_true(counting(remote.keys[0].key, 28));

	/* nothing acceptable: both keys wiped */
	assert_int_equal(sdes_answer(offer, 3, NULL, 0, &local, &remote, &idx), ENOTSUP);
	assert_true(all_zero(&local, sizeof(local)));
	assert_true(all_zero(&remote, sizeof(remote)));
	assert_int_equal(sdes_answer(NULL, 0, NULL, 0, &local, &remote, NULL), ENOTSUP);
	assert_int_equal(sdes_answer(NULL, 1, NULL, 0, &local, &remote, NULL), EINVAL);
}

static void test_answer_match(void **state)
{
	(void)state;
	struct sdes_key ours[SDES_NSUITES], theirs, remote;
	size_t n, idx = 99;
	struct sdp_crypto c;
	assert_int_equal(sdes_offer(ours, SDES_NSUITES, NULL, 0, &n), 0);
	/* the phone took our third line (tag 3) with its own key */
	assert_int_equal(sdes_key_generate(&theirs, ours[2].suite, 3), 0);
	assert_int_equal(sdes_key_crypto(&theirs, &c), 0);
	assert_int_equal(sdes_answer_match(ours, n, &c, 1, &remote, &idx), 0);
	assert_int_equal(idx, 2);
	assert_true(keys_equal(&remote, &theirs));

	c.tag = 9; /* never offered */
	assert_int_equal(sdes_answer_match(ours, n, &c, 1, &remote, &idx), EBADMSG);
	assert_true(all_zero(&remote, sizeof(remote)));
	c.tag = 1; /* tag 1 was AES_CM_128_HMAC_SHA1_80, not GCM */
	assert_int_equal(sdes_answer_match(ours, n, &c, 1, &remote, &idx), EBADMSG);
	assert_int_equal(sdes_answer_match(ours, n, &c, 0, &remote, &idx), EBADMSG);
	c.tag = 3;
	c.sess_params = pl_from("UNENCRYPTED_SRTP");
	assert_int_equal(sdes_answer_match(ours, n, &c, 1, &remote, &idx), ENOTSUP);
	for (size_t i = 0; i < n; i++)
		sdes_key_wipe(&ours[i]);
	sdes_key_wipe(&theirs);
}

/* A phone's SDP through sdp_parse, our answer's line through sdp_print. */
static void test_with_sdp(void **state)
{
	(void)state;
	static const char body[] =
		"v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\n"
		"m=audio 4000 RTP/SAVP 0\r\n"
		"a=crypto:1 AEAD_AES_256_GCM inline:" K44 "|2^31 WSH=256\r\n"
		"a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:" K30 "|2^31\r\n";
	struct sdp_session *s;
	assert_int_equal(sdp_parse(&s, body, strlen(body)), 0);
	struct sdes_key local, remote;
	size_t idx;
	struct sdp_media *m = &s->media[0];
	assert_int_equal(sdes_answer(m->crypto, m->ncrypto, NULL, 0, &local, &remote, &idx), 0);
	assert_int_equal(idx, 0);
	assert_int_equal(remote.wsh, 256);
	assert_true(counting(remote.keys[0].key, 44));

	/* put our line in place of the offered ones and print */
	assert_int_equal(sdes_key_crypto(&local, &m->crypto[0]), 0);
	m->ncrypto = 1;
	struct sbuf b;
	sbuf_init(&b);
	assert_int_equal(sdp_print(&b, s), 0);
	assert_non_null(strstr(b.p, "a=crypto:1 AEAD_AES_256_GCM inline:"));
	struct sdp_session *again;
	assert_int_equal(sdp_parse(&again, b.p, b.len), 0);
	struct sdes_key back;
	assert_int_equal(sdes_crypto_parse(&again->media[0].crypto[0], &back), 0);
	assert_true(keys_equal(&back, &local));
	/* the printed SDP holds our key: it is secret too */
	OPENSSL_cleanse(b.p, b.len);
	sbuf_free(&b);
	sdp_free(again);
	sdp_free(s);
	sdes_key_wipe(&local);
	sdes_key_wipe(&remote);
	sdes_key_wipe(&back);
}

static void test_wipe(void **state)
{
	(void)state;
	struct sdes_key k;
	struct sdp_crypto c;
	assert_int_equal(parse("AES_CM_128_HMAC_SHA1_80", "inline:" RFC_K1 "|2^20|1:32", "WSH=64", &k), 0);
	assert_int_equal(sdes_key_crypto(&k, &c), 0); /* text copy of the key too */
	assert_false(all_zero(&k, sizeof(k)));
	sdes_key_wipe(&k);
	assert_true(all_zero(&k, sizeof(k)));
	sdes_key_wipe(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc4568_examples),
		cmocka_unit_test(test_phone_lines),
		cmocka_unit_test(test_bad_base64),
		cmocka_unit_test(test_unknown_suites_and_methods),
		cmocka_unit_test(test_lifetimes),
		cmocka_unit_test(test_mki),
		cmocka_unit_test(test_session_params),
		cmocka_unit_test(test_generate_roundtrip),
		cmocka_unit_test(test_print_roundtrip),
		cmocka_unit_test(test_base64_vs_openssl),
		cmocka_unit_test(test_offer),
		cmocka_unit_test(test_answer),
		cmocka_unit_test(test_answer_match),
		cmocka_unit_test(test_with_sdp),
		cmocka_unit_test(test_wipe),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
