/*
 * libFuzzer harness for SDES keys (core/sdp/sdes.c) and the SRTP context
 * (core/media/rtp/srtp.c). The first byte picks the target.
 *
 * Even first byte: an a=crypto line, the rest of the input being
 * "suite\nkey-params[\nsession-params]". Promises checked:
 *  - a refusal is EBADMSG or ENOTSUP and leaves the key all zero;
 *  - an accepted key is valid, prints, parses back to the same key and
 *    prints to the same text again, is what sdes_answer takes from an
 *    offer of that one line, and libsrtp accepts it (srtp_ctx_alloc).
 *
 * Odd first byte: packets to a context with fixed keys, suite in bits 1-2.
 * Records of [flags][length, 2 bytes big-endian][bytes]; flags bit 0:
 * RTCP; bit 1: "genuine": the bytes (made RTP/RTCP version 2) are
 * protected by the peer first; bit 2: then flip one bit; bit 3: then cut
 * 1 + (flags >> 4) bytes. Promises:
 *  - nothing reads or writes outside the datagram (each one is copied to
 *    an exact-size heap buffer for AddressSanitizer), lengths only
 *    shrink, results are 0, EBADMSG, EALREADY or ENOSPC;
 *  - a changed genuine packet never passes (except under the 32-bit tag,
 *    where a forgery has a 2^-32 chance and is not asserted);
 *  - an unchanged genuine packet passes and gives back the plaintext
 *    (RTP only while both ends have seen the same packets, since their
 *    ROC guesses may differ after a jump the receiver did not see).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/media/rtp/srtp.h"
#include "../../core/sdp/sdes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *what)
{
	fprintf(stderr, "fuzz_sdes: %s\n", what);
	abort();
}

static bool all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

static bool same_key(const struct sdes_key *a, const struct sdes_key *b)
{
	if (a->tag != b->tag || a->suite != b->suite || a->nkeys != b->nkeys || a->wsh != b->wsh)
		return false;
	for (size_t i = 0; i < a->nkeys; i++)
		if (memcmp(a->keys[i].key, b->keys[i].key, SDES_KEY_MAX) ||
		    a->keys[i].lifetime != b->keys[i].lifetime || a->keys[i].mki != b->keys[i].mki ||
		    a->keys[i].mki_len != b->keys[i].mki_len)
			return false;
	return true;
}

/* An exact-size heap copy, so a read past the slice is caught. */
static struct pl dup_field(const uint8_t *p, size_t n, char **keep)
{
	*keep = malloc(n ? n : 1);
	if (!*keep)
		abort();
	memcpy(*keep, p, n);
	return (struct pl){ *keep, n };
}

static void fuzz_line(const uint8_t *data, size_t size)
{
	const uint8_t *nl1 = memchr(data, '\n', size);
	if (!nl1)
		return;
	size_t l1 = (size_t)(nl1 - data);
	const uint8_t *kp = nl1 + 1;
	size_t rest = size - l1 - 1;
	const uint8_t *nl2 = memchr(kp, '\n', rest);
	size_t l2 = nl2 ? (size_t)(nl2 - kp) : rest;
	char *f1, *f2, *f3 = NULL;
	struct sdp_crypto c;
	c.tag = 7;
	c.suite = dup_field(data, l1, &f1);
	c.key_params = dup_field(kp, l2, &f2);
	c.sess_params = nl2 ? dup_field(nl2 + 1, rest - l2 - 1, &f3) : PL_NULL;

	struct sdes_key k, back, local, remote;
	memset(&k, 0x5a, sizeof(k));
	int err = sdes_crypto_parse(&c, &k);
	if (err) {
		if (err != EBADMSG && err != ENOTSUP)
			die("unexpected error");
		if (!all_zero(&k, sizeof(k)))
			die("refused key not wiped");
		goto out;
	}
	if (!sdes_key_valid(&k) || k.suite != sdes_suite_from_name(c.suite) || k.tag != 7)
		die("accepted key not valid");

	struct sdp_crypto printed, again;
	if (sdes_key_crypto(&k, &printed))
		die("accepted key does not print");
	char text[SDES_PARAMS_MAX];
	size_t tlen = printed.key_params.l;
	memcpy(text, printed.key_params.p, tlen);
	if (sdes_crypto_parse(&printed, &back) || !same_key(&k, &back))
		die("printed key does not parse back");
	if (sdes_key_crypto(&back, &again) || again.key_params.l != tlen ||
	    memcmp(again.key_params.p, text, tlen))
		die("print is not a fixpoint");

	size_t idx = 1;
	if (sdes_answer(&c, 1, NULL, 0, &local, &remote, &idx) || idx != 0 ||
	    !same_key(&remote, &k) || local.suite != k.suite || local.tag != k.tag)
		die("answer does not take the line");

	struct srtp_ctx *ctx;
	err = srtp_ctx_alloc(&ctx, &local, &k);
	if (err == ENOMEM)
		goto wipe;
	if (err)
		die("libsrtp refuses an accepted key");
	srtp_ctx_free(ctx);
wipe:
	sdes_key_wipe(&back);
	sdes_key_wipe(&local);
	sdes_key_wipe(&remote);
	sdes_key_wipe(&k);
out:
	free(f1);
	free(f2);
	free(f3);
}

static struct sdes_key fixed_key(enum sdes_suite s, uint8_t seed)
{
	struct sdes_key k;
	memset(&k, 0, sizeof(k));
	k.suite = s;
	k.tag = 1;
	k.nkeys = 1;
	for (size_t i = 0; i < sdes_suite_key_len(s); i++)
		k.keys[0].key[i] = (uint8_t)(seed + i * 17);
	return k;
}

static void fuzz_packets(const uint8_t *data, size_t size, enum sdes_suite suite)
{
	struct sdes_key ours = fixed_key(suite, 0x11), theirs = fixed_key(suite, 0x22);
	struct srtp_ctx *rx, *peer;
	if (srtp_ctx_alloc(&rx, &ours, &theirs))
		die("context");
	if (srtp_ctx_alloc(&peer, &theirs, &ours))
		die("peer context");
	bool strong = suite != SDES_AES_CM_128_HMAC_SHA1_32;
	bool in_sync = true;
	size_t off = 0;
	while (size - off >= 3) {
		uint8_t fl = data[off];
		size_t n = (size_t)data[off + 1] << 8 | data[off + 2];
		off += 3;
		if (n > size - off)
			n = size - off;
		bool rtcp = fl & 1;
		size_t room = n + SRTP_CTX_TRAILER;
		uint8_t *plain = malloc(room ? room : 1), *pkt = NULL;
		if (!plain)
			abort();
		memcpy(plain, data + off, n);
		off += n;
		size_t len = n;
		bool changed = false;
		if (fl & 2) {
			if (n == 0)
				goto next;
			plain[0] = (uint8_t)((plain[0] & 0x3f) | 0x80);
			pkt = malloc(room);
			if (!pkt)
				abort();
			memcpy(pkt, plain, n);
			int err = rtcp ? srtp_ctx_protect_rtcp(peer, pkt, &len, room)
				       : srtp_ctx_protect_rtp(peer, pkt, &len, room);
			if (err)
				goto next; /* not RTP, an index used twice, SSRC bound */
			if (len != n + srtp_ctx_trailer(peer, rtcp))
				die("protect grew the packet wrongly");
			if (fl & 4) {
				size_t bit = (n * 131 + fl * 7u) % (len * 8);
				pkt[bit / 8] ^= (uint8_t)(1u << (bit % 8));
				changed = true;
			}
			if (fl & 8) {
				size_t cut = 1 + (fl >> 4);
				len = cut < len ? len - cut : 0;
				changed = true;
			}
			/* an exact-size copy of the datagram */
			uint8_t *exact = malloc(len ? len : 1);
			if (!exact)
				abort();
			memcpy(exact, pkt, len);
			free(pkt);
			pkt = exact;
		} else {
			pkt = malloc(n ? n : 1);
			if (!pkt)
				abort();
			memcpy(pkt, plain, n);
		}
		size_t before = len;
		int err = rtcp ? srtp_ctx_unprotect_rtcp(rx, pkt, &len)
			       : srtp_ctx_unprotect_rtp(rx, pkt, &len);
		if (err != 0 && err != EBADMSG && err != EALREADY && err != ENOSPC && err != ENOMEM)
			die("unexpected unprotect error");
		if (err && len != before)
			die("length changed on error");
		if (!err && (len > before || len < (rtcp ? 8u : 12u)))
			die("bad length after unprotect");
		if (!(fl & 2) && !err)
			in_sync = false; /* not the peer's doing: states may part */
		if (fl & 2) {
			if (changed && !err && strong)
				die("a changed packet passed");
			if (!changed && (rtcp || in_sync)) {
				if (err)
					die("a genuine packet failed");
				if (len != n || memcmp(pkt, plain, n))
					die("plaintext differs");
			}
			if (changed && !rtcp)
				in_sync = false;
		}
next:
		free(plain);
		free(pkt);
	}
	srtp_ctx_free(rx);
	srtp_ctx_free(peer);
	sdes_key_wipe(&ours);
	sdes_key_wipe(&theirs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum sdes_suite suites[4] = {
		SDES_AES_CM_128_HMAC_SHA1_80, SDES_AES_CM_128_HMAC_SHA1_32,
		SDES_AEAD_AES_128_GCM, SDES_AEAD_AES_256_GCM,
	};
	if (size < 1)
		return 0;
	if (data[0] & 1)
		fuzz_packets(data + 1, size - 1, suites[(data[0] >> 1) & 3]);
	else
		fuzz_line(data + 1, size - 1);
	return 0;
}
