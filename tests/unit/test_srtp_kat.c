/*
 * Known-answer tests for the SRTP context (core/media/rtp/srtp.c), in three
 * layers:
 *  1. a small reference SRTP written here on OpenSSL (RFC 3711 key
 *     derivation and AES-CM, HMAC-SHA1 tags, RFC 7714 AES-GCM), checked
 *     against the test vectors of RFC 3711 Appendix B.2 and B.3;
 *  2. our context against libsrtp's own reference packets (srtp_driver.c
 *     srtp_validate and srtp_validate_gcm: AES_CM_128_HMAC_SHA1_80 and,
 *     by tag truncation, _32; AEAD_AES_128_GCM), which the reference
 *     must reproduce too;
 *  3. our context against the reference where libsrtp publishes no
 *     vector (AEAD_AES_256_GCM) and over longer runs: CSRCs, a header
 *     extension, sequence wrap into ROC 1, successive SRTCP indexes.
 * Agreement between two independent implementations is what makes these
 * more than round trips.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "../../core/media/rtp/srtp.h"

static void hex(const char *s, uint8_t *out)
{
	for (size_t i = 0; s[2 * i]; i++) {
		unsigned v;
		sscanf(s + 2 * i, "%2x", &v);
		out[i] = (uint8_t)v;
	}
}

/* --- reference SRTP on OpenSSL ------------------------------------------- */

static void aes_ctr(const uint8_t *key, size_t klen, const uint8_t iv[16],
		    const uint8_t *in, uint8_t *out, size_t n)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int l = 0;
	assert_non_null(c);
	assert_int_equal(EVP_EncryptInit_ex(c, klen == 32 ? EVP_aes_256_ctr() : EVP_aes_128_ctr(),
					    NULL, key, iv), 1);
	assert_int_equal(EVP_EncryptUpdate(c, out, &l, in, (int)n), 1);
	assert_int_equal((size_t)l, n);
	EVP_CIPHER_CTX_free(c);
}

/* RFC 3711 4.3 with kdr 0: AES-CM under the master key from
 * IV = (master_salt XOR label at octet 7) * 2^16. A 12-byte GCM salt is
 * zero-padded to 14 on the right, as libsrtp does. */
static void kdf(const uint8_t *mkey, size_t klen, const uint8_t *msalt, size_t slen,
		uint8_t label, uint8_t *out, size_t n)
{
	uint8_t iv[16] = { 0 }, zero[64] = { 0 };
	memcpy(iv, msalt, slen);
	iv[7] ^= label;
	aes_ctr(mkey, klen, iv, zero, out, n);
}

struct ref_keys {
	uint8_t k[32], s[14], a[20]; /* session cipher key, salt, auth key */
	size_t klen;
};

static void ref_derive(struct ref_keys *r, const uint8_t *master, size_t klen,
		       size_t slen, bool rtcp)
{
	uint8_t base = rtcp ? 3 : 0;
	r->klen = klen;
	kdf(master, klen, master + klen, slen, base + 0, r->k, klen);
	kdf(master, klen, master + klen, slen, base + 2, r->s, slen);
	kdf(master, klen, master + klen, slen, base + 1, r->a, 20);
}

static size_t rtp_hdr_len(const uint8_t *p)
{
	size_t h = 12 + 4u * (p[0] & 0x0f);
	if (p[0] & 0x10)
		h += 4 + 4u * ((size_t)p[h + 2] << 8 | p[h + 3]);
	return h;
}

/* AES_CM_128_HMAC_SHA1_80/32 (RFC 3711 4.1.1, 4.2.1) of one RTP packet,
 * in place; returns the new length. */
static size_t ref_srtp_cm(const uint8_t *master, uint8_t *p, size_t n, uint32_t roc,
			  size_t tag_len)
{
	struct ref_keys r;
	ref_derive(&r, master, 16, 14, false);
	size_t h = rtp_hdr_len(p);
	uint64_t idx = (uint64_t)roc << 16 | (uint64_t)p[2] << 8 | p[3];
	uint8_t iv[16] = { 0 };
	memcpy(iv, r.s, 14);
	for (int i = 0; i < 4; i++)
		iv[4 + i] ^= p[8 + i];
	for (int i = 0; i < 6; i++)
		iv[8 + i] ^= (uint8_t)(idx >> (40 - 8 * i));
	aes_ctr(r.k, 16, iv, p + h, p + h, n - h);
	uint8_t md[20], rocb[4] = { (uint8_t)(roc >> 24), (uint8_t)(roc >> 16),
				    (uint8_t)(roc >> 8), (uint8_t)roc };
	unsigned mdlen = 0;
	memcpy(p + n, rocb, 4); /* the tag covers packet || ROC */
	assert_non_null(HMAC(EVP_sha1(), r.a, 20, p, n + 4, md, &mdlen));
	memcpy(p + n, md, tag_len);
	return n + tag_len;
}

/* SRTCP with AES-CM and an 80-bit tag (RFC 3711 3.4, 4.1.1). */
static size_t ref_srtcp_cm(const uint8_t *master, uint8_t *p, size_t n, uint32_t index)
{
	struct ref_keys r;
	ref_derive(&r, master, 16, 14, true);
	uint8_t iv[16] = { 0 };
	memcpy(iv, r.s, 14);
	for (int i = 0; i < 4; i++) {
		iv[4 + i] ^= p[4 + i];
		iv[10 + i] ^= (uint8_t)(index >> (24 - 8 * i));
	}
	aes_ctr(r.k, 16, iv, p + 8, p + 8, n - 8);
	uint32_t e = 0x80000000u | index;
	for (int i = 0; i < 4; i++)
		p[n + i] = (uint8_t)(e >> (24 - 8 * i));
	uint8_t md[20];
	unsigned mdlen = 0;
	assert_non_null(HMAC(EVP_sha1(), r.a, 20, p, n + 4, md, &mdlen));
	memcpy(p + n + 4, md, 10);
	return n + 14;
}

static void gcm(const uint8_t *key, size_t klen, const uint8_t iv[12], const uint8_t *aad,
		size_t aadlen, uint8_t *data, size_t n, uint8_t tag[16])
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int l = 0;
	assert_non_null(c);
	assert_int_equal(EVP_EncryptInit_ex(c, klen == 32 ? EVP_aes_256_gcm() : EVP_aes_128_gcm(),
					    NULL, key, iv), 1);
	assert_int_equal(EVP_EncryptUpdate(c, NULL, &l, aad, (int)aadlen), 1);
	assert_int_equal(EVP_EncryptUpdate(c, data, &l, data, (int)n), 1);
	assert_int_equal(EVP_EncryptFinal_ex(c, data + l, &l), 1);
	assert_int_equal(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, tag), 1);
	EVP_CIPHER_CTX_free(c);
}

/* AEAD_AES_{128,256}_GCM of one RTP packet (RFC 7714 8.1). */
static size_t ref_srtp_gcm(const uint8_t *master, size_t klen, uint8_t *p, size_t n,
			   uint32_t roc)
{
	struct ref_keys r;
	ref_derive(&r, master, klen, 12, false);
	size_t h = rtp_hdr_len(p);
	uint8_t iv[12] = { 0 };
	memcpy(iv + 2, p + 8, 4);
	for (int i = 0; i < 4; i++)
		iv[6 + i] = (uint8_t)(roc >> (24 - 8 * i));
	memcpy(iv + 10, p + 2, 2);
	for (int i = 0; i < 12; i++)
		iv[i] ^= r.s[i];
	gcm(r.k, klen, iv, p, h, p + h, n - h, p + n);
	return n + 16;
}

/* SRTCP with AES-GCM (RFC 7714 9.1): AAD is the first 8 octets and the
 * E flag with the index, which follows the tag. */
static size_t ref_srtcp_gcm(const uint8_t *master, size_t klen, uint8_t *p, size_t n,
			    uint32_t index)
{
	struct ref_keys r;
	ref_derive(&r, master, klen, 12, true);
	uint8_t iv[12] = { 0 }, aad[12];
	memcpy(iv + 2, p + 4, 4);
	for (int i = 0; i < 4; i++)
		iv[8 + i] = (uint8_t)(index >> (24 - 8 * i));
	for (int i = 0; i < 12; i++)
		iv[i] ^= r.s[i];
	uint32_t e = 0x80000000u | index;
	memcpy(aad, p, 8);
	for (int i = 0; i < 4; i++)
		aad[8 + i] = (uint8_t)(e >> (24 - 8 * i));
	gcm(r.k, klen, iv, aad, 12, p + 8, n - 8, p + n);
	memcpy(p + n + 16, aad + 8, 4);
	return n + 20;
}

/* --- helpers for the context under test ---------------------------------- */

static struct sdes_key key_of(enum sdes_suite s, const uint8_t *bytes)
{
	struct sdes_key k;
	memset(&k, 0, sizeof(k));
	k.suite = s;
	k.tag = 1;
	k.nkeys = 1;
	memcpy(k.keys[0].key, bytes, sdes_suite_key_len(s));
	return k;
}

/* A sender protecting with master, and a receiver unprotecting with it. */
static void pair(enum sdes_suite s, const uint8_t *master, struct srtp_ctx **tx,
		 struct srtp_ctx **rx)
{
	struct sdes_key ours = key_of(s, master), other;
	assert_int_equal(sdes_key_generate(&other, s, 1), 0);
	assert_int_equal(srtp_ctx_alloc(tx, &ours, &other), 0);
	assert_int_equal(srtp_ctx_alloc(rx, &other, &ours), 0);
	sdes_key_wipe(&ours);
	sdes_key_wipe(&other);
}

/* libsrtp's srtp_validate test key is RFC 3711 B.3's master key + salt. */
static const char *const b3_master = "e1f97a0d3e018be0d64fa32c06de4139" "0ec675ad498afeebb6960b3aabe6";
static const char *const rtp_plain =
	"800f1234decafbadcafebabeabababababababababababababababab";
static const char *const rtcp_plain = "81c8000bcafebabeabababababababababababababababab";

/* --- 1. the reference against RFC 3711 Appendix B ------------------------ */

static void test_rfc3711_b2_aes_cm(void **state)
{
	(void)state;
	uint8_t key[16], iv[16] = { 0 }, want[16];
	hex("2b7e151628aed2a6abf7158809cf4f3c", key);
	hex("f0f1f2f3f4f5f6f7f8f9fafbfcfd", iv); /* salt * 2^16, SSRC 0, index 0 */
	size_t n = 0xff02 * 16;
	uint8_t *zero = calloc(1, n), *ks = malloc(n);
	assert_non_null(zero);
	assert_non_null(ks);
	aes_ctr(key, 16, iv, zero, ks, n);
	static const struct { size_t block; const char *hex; } t[] = {
		{ 0x0000, "e03ead0935c95e80e166b16dd92b4eb4" },
		{ 0x0001, "d23513162b02d0f72a43a2fe4a5f97ab" },
		{ 0x0002, "41e95b3bb0a2e8dd477901e4fca894c0" },
		{ 0xfeff, "ec8cdf7398607cb0f2d21675ea9ea1e4" },
		{ 0xff00, "362b7c3c6773516318a077d7fc5073ae" },
		{ 0xff01, "6a2cc3787889374fbeb4c81b17ba6c44" },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		hex(t[i].hex, want);
		assert_memory_equal(ks + 16 * t[i].block, want, 16);
	}
	free(zero);
	free(ks);
}

static void test_rfc3711_b3_kdf(void **state)
{
	(void)state;
	uint8_t master[30], want[20];
	struct ref_keys r;
	hex(b3_master, master);
	ref_derive(&r, master, 16, 14, false);
	hex("c61e7a93744f39ee10734afe3ff7a087", want);
	assert_memory_equal(r.k, want, 16);
	hex("30cbbc08863d8c85d49db34a9ae1", want);
	assert_memory_equal(r.s, want, 14);
	hex("cebe321f6ff7716b6fd4ab49af256a156d38baa4", want);
	assert_memory_equal(r.a, want, 20);
}

/* --- 2. libsrtp's reference packets -------------------------------------- */

static void check_kat(enum sdes_suite s, const char *master_hex, const char *srtp_hex,
		      size_t srtp_len, const char *srtcp_hex, size_t srtcp_len)
{
	uint8_t master[44], want[64], buf[64] __attribute__((aligned(4)));
	uint8_t plain[64], rplain[64];
	size_t len, plen = strlen(rtp_plain) / 2, rlen = strlen(rtcp_plain) / 2;
	struct srtp_ctx *tx, *rx;
	hex(master_hex, master);
	hex(rtp_plain, plain);
	hex(rtcp_plain, rplain);
	pair(s, master, &tx, &rx);

	hex(srtp_hex, want);
	memcpy(buf, plain, plen);
	len = plen;
	assert_int_equal(srtp_ctx_protect_rtp(tx, buf, &len, sizeof(buf)), 0);
	assert_int_equal(len, srtp_len);
	assert_memory_equal(buf, want, srtp_len);
	assert_int_equal(srtp_ctx_unprotect_rtp(rx, buf, &len), 0);
	assert_int_equal(len, plen);
	assert_memory_equal(buf, plain, plen);

	hex(srtcp_hex, want);
	memcpy(buf, rplain, rlen);
	len = rlen;
	assert_int_equal(srtp_ctx_protect_rtcp(tx, buf, &len, sizeof(buf)), 0);
	assert_int_equal(len, srtcp_len);
	assert_memory_equal(buf, want, srtcp_len);
	assert_int_equal(srtp_ctx_unprotect_rtcp(rx, buf, &len), 0);
	assert_int_equal(len, rlen);
	assert_memory_equal(buf, rplain, rlen);

	/* and the reference agrees with libsrtp's packets */
	size_t klen = s == SDES_AEAD_AES_256_GCM ? 32 : 16;
	memcpy(buf, plain, plen);
	len = s == SDES_AEAD_AES_128_GCM ? ref_srtp_gcm(master, klen, buf, plen, 0)
					 : ref_srtp_cm(master, buf, plen, 0, srtp_len - plen);
	hex(srtp_hex, want);
	assert_int_equal(len, srtp_len);
	assert_memory_equal(buf, want, len);
	memcpy(buf, rplain, rlen);
	len = s == SDES_AEAD_AES_128_GCM ? ref_srtcp_gcm(master, klen, buf, rlen, 1)
					 : ref_srtcp_cm(master, buf, rlen, 1);
	hex(srtcp_hex, want);
	assert_int_equal(len, srtcp_len);
	assert_memory_equal(buf, want, len);
	srtp_ctx_free(tx);
	srtp_ctx_free(rx);
}

static const char *const cm_srtp =
	"800f1234decafbadcafebabe4e55dc4ce79978d88ca4d215949d2402b78d6acc99ea179b8dbb";
static const char *const cm_srtcp =
	"81c8000bcafebabe7128035be487b9bdbef89041f977a5a880000001993e08cd54d6c1230798";

static void test_libsrtp_kat_aes_cm_80(void **state)
{
	(void)state;
	check_kat(SDES_AES_CM_128_HMAC_SHA1_80, b3_master, cm_srtp, 38, cm_srtcp, 38);
}

/* The 32-bit tag is the first 4 bytes of the same HMAC; SRTCP keeps 80. */
static void test_libsrtp_kat_aes_cm_32(void **state)
{
	(void)state;
	check_kat(SDES_AES_CM_128_HMAC_SHA1_32, b3_master, cm_srtp, 32, cm_srtcp, 38);
}

static void test_libsrtp_kat_gcm_128(void **state)
{
	(void)state;
	check_kat(SDES_AEAD_AES_128_GCM, "000102030405060708090a0b0c0d0e0f" "a0a1a2a3a4a5a6a7a8a9aaab",
		  "800f1234decafbadcafebabec5002ede04cfdd2eb91159e0880aa06ed2976826f796b201df3131a127e8a392", 44,
		  "81c8000bcafebabec98b8b5df0392a55852b6c21ac8e7025c52c6fbea2b3b446ea31123ba88ce61e80000001", 44);
}

/* --- 3. the context against the reference -------------------------------- */

/* Packets with two CSRCs and a header extension, across the sequence
 * wrap (ROC 0 -> 1), then ten SRTCP compounds, for one suite. */
static void check_against_ref(enum sdes_suite s, const uint8_t *master)
{
	struct srtp_ctx *tx, *rx;
	pair(s, master, &tx, &rx);
	size_t tag = s == SDES_AES_CM_128_HMAC_SHA1_32 ? 4 : s == SDES_AES_CM_128_HMAC_SHA1_80 ? 10 : 16;
	size_t klen = s == SDES_AEAD_AES_256_GCM ? 32 : 16;
	bool aead = s == SDES_AEAD_AES_128_GCM || s == SDES_AEAD_AES_256_GCM;
	uint8_t plain[300], a[320] __attribute__((aligned(4))), b[320];
	uint32_t roc = 0;
	for (unsigned i = 0; i < 80; i++) {
		uint16_t seq = (uint16_t)(65500 + i);
		size_t n = 0;
		plain[n++] = 0x92; /* V=2, X, CC=2 */
		plain[n++] = 0x08;
		plain[n++] = (uint8_t)(seq >> 8);
		plain[n++] = (uint8_t)seq;
		memcpy(plain + n, "\x00\x01\xe2\x40\x11\x22\x33\x44", 8); /* ts, SSRC */
		n += 8;
		memcpy(plain + n, "\xaa\xaa\xaa\xa1\xbb\xbb\xbb\xb2", 8); /* CSRCs */
		n += 8;
		memcpy(plain + n, "\xbe\xde\x00\x01\x10\xff\x00\x00", 8); /* RFC 8285 */
		n += 8;
		for (size_t j = 0; j < 160 + i % 7; j++)
			plain[n++] = (uint8_t)(j * 13 + i);
		if (seq == 0)
			roc++;
		memcpy(a, plain, n);
		memcpy(b, plain, n);
		size_t la = n;
		assert_int_equal(srtp_ctx_protect_rtp(tx, a, &la, sizeof(a)), 0);
		size_t lb = aead ? ref_srtp_gcm(master, klen, b, n, roc)
				 : ref_srtp_cm(master, b, n, roc, tag);
		assert_int_equal(la, n + tag);
		assert_int_equal(la, lb);
		assert_memory_equal(a, b, la);
		assert_int_equal(srtp_ctx_unprotect_rtp(rx, a, &la), 0);
		assert_int_equal(la, n);
		assert_memory_equal(a, plain, n);
	}
	assert_int_equal(roc, 1);
	for (uint32_t idx = 1; idx <= 10; idx++) {
		size_t n = 0;
		memcpy(plain, "\x80\xc9\x00\x07\x11\x22\x33\x44", 8); /* RR, 1 block */
		n = 8;
		for (size_t j = 0; j < 24; j++)
			plain[n++] = (uint8_t)(j + idx);
		memcpy(a, plain, n);
		memcpy(b, plain, n);
		size_t la = n;
		assert_int_equal(srtp_ctx_protect_rtcp(tx, a, &la, sizeof(a)), 0);
		size_t lb = aead ? ref_srtcp_gcm(master, klen, b, n, idx) : ref_srtcp_cm(master, b, n, idx);
		assert_int_equal(la, lb);
		assert_memory_equal(a, b, la);
		assert_int_equal(srtp_ctx_unprotect_rtcp(rx, a, &la), 0);
		assert_int_equal(la, n);
		assert_memory_equal(a, plain, n);
	}
	srtp_ctx_free(tx);
	srtp_ctx_free(rx);
}

static void test_ref_all_suites(void **state)
{
	(void)state;
	static const enum sdes_suite all[] = {
		SDES_AES_CM_128_HMAC_SHA1_80, SDES_AES_CM_128_HMAC_SHA1_32,
		SDES_AEAD_AES_128_GCM, SDES_AEAD_AES_256_GCM,
	};
	uint8_t master[44];
	for (size_t i = 0; i < 4; i++) {
		for (size_t j = 0; j < sizeof(master); j++)
			master[j] = (uint8_t)(0x5a ^ (j * 29 + i));
		check_against_ref(all[i], master);
	}
}

/* AEAD_AES_256_GCM, for which libsrtp has no published packet: key
 * 00..1f, salt a0..ab, libsrtp's plaintexts; the expected packets come
 * from the reference, and the context must produce exactly them. */
static void test_gcm_256_vector(void **state)
{
	(void)state;
	uint8_t master[44], buf[64] __attribute__((aligned(4))), want[64], plain[64];
	for (int i = 0; i < 32; i++)
		master[i] = (uint8_t)i;
	for (int i = 0; i < 12; i++)
		master[32 + i] = (uint8_t)(0xa0 + i);
	struct srtp_ctx *tx, *rx;
	pair(SDES_AEAD_AES_256_GCM, master, &tx, &rx);
	size_t n = strlen(rtp_plain) / 2, len = n;
	hex(rtp_plain, plain);
	memcpy(want, plain, n);
	assert_int_equal(ref_srtp_gcm(master, 32, want, n, 0), 44);
	memcpy(buf, plain, n);
	assert_int_equal(srtp_ctx_protect_rtp(tx, buf, &len, sizeof(buf)), 0);
	assert_int_equal(len, 44);
	assert_memory_equal(buf, want, 44);
	assert_memory_not_equal(buf + 12, plain + 12, n - 12);
	assert_int_equal(srtp_ctx_unprotect_rtp(rx, buf, &len), 0);
	assert_memory_equal(buf, plain, n);

	n = strlen(rtcp_plain) / 2;
	hex(rtcp_plain, plain);
	memcpy(want, plain, n);
	assert_int_equal(ref_srtcp_gcm(master, 32, want, n, 1), 44);
	memcpy(buf, plain, n);
	len = n;
	assert_int_equal(srtp_ctx_protect_rtcp(tx, buf, &len, sizeof(buf)), 0);
	assert_int_equal(len, 44);
	assert_memory_equal(buf, want, 44);
	assert_int_equal(srtp_ctx_unprotect_rtcp(rx, buf, &len), 0);
	assert_memory_equal(buf, plain, n);
	srtp_ctx_free(tx);
	srtp_ctx_free(rx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc3711_b2_aes_cm),
		cmocka_unit_test(test_rfc3711_b3_kdf),
		cmocka_unit_test(test_libsrtp_kat_aes_cm_80),
		cmocka_unit_test(test_libsrtp_kat_aes_cm_32),
		cmocka_unit_test(test_libsrtp_kat_gcm_128),
		cmocka_unit_test(test_ref_all_suites),
		cmocka_unit_test(test_gcm_256_vector),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
