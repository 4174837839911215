/*
 * SDP Security Descriptions (RFC 4568, "SDES"): the a=crypto attribute as
 * SRTP keys. Reads the key parameters and session parameters of a crypto
 * line that sdp_parse left as text, checks them against what our SRTP
 * layer (core/media/rtp/srtp.h, libsrtp2) can do, and makes our own lines
 * with fresh keys for offers and answers.
 *
 * Suites: AES_CM_128_HMAC_SHA1_80, AES_CM_128_HMAC_SHA1_32 (RFC 4568),
 * AEAD_AES_128_GCM and AEAD_AES_256_GCM (RFC 7714). Key method "inline"
 * only. Session parameters: WSH (kept as the replay window hint) and
 * FEC_ORDER=FEC_SRTP (the default, so it changes nothing) are accepted,
 * so are unknown ones marked optional with a leading '-' (RFC 4568
 * 6.3.7); KDR (libsrtp cannot re-derive keys), UNENCRYPTED_SRTP,
 * UNENCRYPTED_SRTCP, UNAUTHENTICATED_SRTP (we want confidentiality and
 * authentication, always), FEC_ORDER=SRTP_FEC, FEC_KEY and unknown
 * mandatory parameters make a line unacceptable.
 *
 * Secrets. A struct sdes_key holds master keys; whoever owns one calls
 * sdes_key_wipe before its memory is freed or reused (the SRTP context
 * copies what it needs into libsrtp). There is deliberately no function
 * that formats a key for humans, and none must be added: keys are never
 * logged. The only text form is the key-params of an a=crypto line we
 * send (sdes_key_crypto), which belongs in SDP and nowhere else; note
 * that SDP carrying it must not be logged either.
 *
 * Threads: no shared state; any thread may call these. Key generation
 * uses OpenSSL's RAND_priv_bytes, which is thread-safe.
 */
#ifndef HF_SDES_H
#define HF_SDES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../base/pl.h"
#include "sdp.h"

enum sdes_suite {
	SDES_SUITE_NONE = 0,
	SDES_AES_CM_128_HMAC_SHA1_80,
	SDES_AES_CM_128_HMAC_SHA1_32,
	SDES_AEAD_AES_128_GCM,
	SDES_AEAD_AES_256_GCM,
};

#define SDES_NSUITES     4
#define SDES_MAX_KEYS    4    /* inline keys per line (each with an MKI) */
#define SDES_KEY_MAX     44   /* master key + salt of AEAD_AES_256_GCM */
#define SDES_MKI_MAX_LEN 128  /* bytes, RFC 4568 9.2 */
#define SDES_LIFETIME_MAX (UINT64_C(1) << 48) /* SRTP packets, RFC 3711 */
/* Room for the key-params text of SDES_MAX_KEYS keys with every option. */
#define SDES_PARAMS_MAX  512

/* One master key of a line: "inline:<key||salt>[|lifetime][|mki:len]". */
struct sdes_master {
	uint8_t key[SDES_KEY_MAX];  /* master key then master salt; the first
				     * sdes_suite_key_len(suite) bytes count */
	uint64_t lifetime;          /* packets; 0 when the line gave none */
	uint64_t mki;               /* MKI value (valid when mki_len != 0) */
	uint8_t mki_len;            /* MKI bytes on the wire; 0: no MKI */
};

/* The keys of one a=crypto line, ours or the peer's. Plain data with no
 * pointers, so it can travel inside a command to a media worker. Wipe
 * with sdes_key_wipe; never print or log any part of it. */
struct sdes_key {
	uint32_t tag;
	enum sdes_suite suite;
	uint8_t nkeys;              /* 1..SDES_MAX_KEYS; more than one only
				     * with MKIs */
	struct sdes_master keys[SDES_MAX_KEYS];
	uint16_t wsh;               /* WSH= replay window hint; 0: none */
	char params[SDES_PARAMS_MAX]; /* key-params text sdes_key_crypto
				       * wrote; holds the key too */
};

/* Suite by name (RFC 4568 / RFC 7714 spelling, matched without case);
 * SDES_SUITE_NONE when we do not support it. */
enum sdes_suite sdes_suite_from_name(struct pl name);
const char *sdes_suite_name(enum sdes_suite s);
/* Master key + master salt bytes: 30, 30, 28, 44; 0 for NONE. */
size_t sdes_suite_key_len(enum sdes_suite s);

/* Reads one a=crypto line into *out. 0; EBADMSG when the line is not
 * well formed (key-params syntax, base64, key length for the suite,
 * lifetime above 2^48 or zero, MKI value not fitting its length, keys
 * without MKIs or with different MKI lengths when there are several,
 * malformed WSH); ENOTSUP when it is well formed but not something we do
 * (suite, key method, session parameter, more than SDES_MAX_KEYS keys);
 * EINVAL for NULL arguments. On error *out is wiped. */
int sdes_crypto_parse(const struct sdp_crypto *c, struct sdes_key *out);

/* A fresh key of suite with tag: key and salt from RAND_priv_bytes, one
 * master key, no lifetime or MKI. 0, EINVAL (suite NONE), EIO when the
 * random generator fails (*out is then wiped). */
int sdes_key_generate(struct sdes_key *out, enum sdes_suite suite, uint32_t tag);

/* Fills *c with k as an a=crypto line (tag, suite, key-params, WSH when
 * set). key_params points into k->params, which this writes: valid until
 * k changes or is wiped. 0, or EINVAL when k is not a valid key. */
int sdes_key_crypto(struct sdes_key *k, struct sdp_crypto *c);

/* Our default offer order (see sdes.c for why): AES_CM_128_HMAC_SHA1_80,
 * AEAD_AES_128_GCM, AEAD_AES_256_GCM, AES_CM_128_HMAC_SHA1_32. */
extern const enum sdes_suite sdes_default_order[SDES_NSUITES];

/* Makes one fresh key per suite of order (NULL: sdes_default_order),
 * with tags 1, 2, ... in that order, into keys[0..*n). Duplicate or NONE
 * suites are EINVAL, as is cap < the number of suites. EIO from the
 * generator (keys then all wiped). */
int sdes_offer(struct sdes_key *keys, size_t cap, const enum sdes_suite *order,
	       size_t norder, size_t *n);

/* Answerer (RFC 4568 7.1.2): takes the first of the offered lines whose
 * suite is in allowed (NULL: all we support) and which sdes_crypto_parse
 * accepts; *remote is that line's key, *local a fresh key of the same
 * suite with the same tag, *idx (may be NULL) the line's index. 0;
 * ENOTSUP when no line is acceptable; EINVAL; EIO (generator). On error
 * both keys are wiped. */
int sdes_answer(const struct sdp_crypto *offer, size_t noffer,
		const enum sdes_suite *allowed, size_t nallowed,
		struct sdes_key *local, struct sdes_key *remote, size_t *idx);

/* Offerer, reading the answer to sdes_offer: the answer's first crypto
 * line must carry the tag and suite of one of our keys[0..nkeys). *remote
 * is its key and *idx (may be NULL) the index of our key to use. 0;
 * EBADMSG when the answer has no crypto line, names a tag we did not
 * offer or changes its suite; the error of sdes_crypto_parse when that
 * line does not parse; EINVAL. On error *remote is wiped. */
int sdes_answer_match(const struct sdes_key *keys, size_t nkeys,
		      const struct sdp_crypto *answer, size_t nanswer,
		      struct sdes_key *remote, size_t *idx);

/* True when k is a key the parser could have produced: a supported suite,
 * 1..SDES_MAX_KEYS keys (several only with distinct MKIs of one length),
 * lifetimes and MKIs in range, WSH 0 or 64..32767. */
bool sdes_key_valid(const struct sdes_key *k);

/* Erases k with OPENSSL_cleanse (a store the compiler may not drop). */
void sdes_key_wipe(struct sdes_key *k);

#endif
