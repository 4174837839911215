/*
 * The per-leg SRTP context of srtp.h over libsrtp2: turning SDES keys
 * into libsrtp policies (one session per direction), the once-per-process
 * library start, the per-direction SSRC bound, and mapping libsrtp's
 * status codes to the errno values the media worker acts on.
 */
#include "srtp.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <srtp2/srtp.h>

#include "../../base/log.h"
#include "rtp.h"

#define RTCP_HDR_MIN 8u /* version .. sender SSRC */
#define REPLAY_WINDOW 128 /* libsrtp's default; RFC 3711 asks for >= 64 */

struct srtp_ctx {
	srtp_t in;               /* the phone's key: unprotect */
	srtp_t out;              /* our key: protect */
	unsigned in_mki, out_mki; /* libsrtp's use_mki flags */
	size_t rtp_trailer, rtcp_trailer;
	uint32_t ssrc_in[SRTP_CTX_MAX_SSRC];
	uint32_t ssrc_out[SRTP_CTX_MAX_SSRC];
	unsigned nin, nout;
};

/* --- library start -------------------------------------------------------- */

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static srtp_err_status_t init_status = srtp_err_status_init_fail;

/* libsrtp prints keys only in debug messages (when one of its debug
 * modules is switched on, which we never do). Those are dropped here all
 * the same, as is "info"; errors and warnings reach our log. */
static void srtp_log(srtp_log_level_t level, const char *msg, void *arg)
{
	(void)arg;
	if (level == srtp_log_level_error)
		log_err("srtp", "libsrtp: %s", msg);
	else if (level == srtp_log_level_warning)
		log_warn("srtp", "libsrtp: %s", msg);
}

static void srtp_start(void)
{
	srtp_install_log_handler(srtp_log, NULL);
	init_status = srtp_init();
	if (init_status != srtp_err_status_ok)
		log_err("srtp", "libsrtp init failed (status %d)", (int)init_status);
	/* never srtp_shutdown: contexts may live until the process exits */
}

/* --- policies ------------------------------------------------------------- */

/* Key material handed to libsrtp for one direction; wiped after use. */
struct keyset {
	/* libsrtp reads key||salt; the zero tail is what its KDF expects
	 * for GCM's shorter salt anyway */
	uint8_t key[SDES_MAX_KEYS][SRTP_MAX_KEY_LEN];
	uint8_t mki[SDES_MAX_KEYS][SDES_MKI_MAX_LEN];
	srtp_master_key_t mk[SDES_MAX_KEYS];
	srtp_master_key_t *mkp[SDES_MAX_KEYS];
};

static void set_crypto(srtp_policy_t *p, enum sdes_suite s)
{
	switch (s) {
	case SDES_AES_CM_128_HMAC_SHA1_80:
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p->rtp);
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p->rtcp);
		break;
	case SDES_AES_CM_128_HMAC_SHA1_32:
		/* the 32-bit tag is for RTP only: SRTCP keeps 80 bits
		 * (RFC 4568 6.2.2, RFC 3711 5.2) */
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&p->rtp);
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p->rtcp);
		break;
	case SDES_AEAD_AES_128_GCM:
		/* RFC 7714: the 16-byte tag, for RTP and RTCP */
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&p->rtp);
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&p->rtcp);
		break;
	case SDES_AEAD_AES_256_GCM:
		srtp_crypto_policy_set_aes_gcm_256_16_auth(&p->rtp);
		srtp_crypto_policy_set_aes_gcm_256_16_auth(&p->rtcp);
		break;
	default:
		break;
	}
}

/* Fills *p for key k in direction dir, pointing into ks. Returns libsrtp's
 * use_mki flag for the direction. */
static unsigned set_policy(srtp_policy_t *p, struct keyset *ks,
			   const struct sdes_key *k, srtp_ssrc_type_t dir)
{
	size_t len = sdes_suite_key_len(k->suite);
	memset(p, 0, sizeof(*p));
	set_crypto(p, k->suite);
	p->ssrc.type = dir;
	/* WSH is the sender's hint for the receiver's window: it applies to
	 * what we unprotect with its key (sdes_crypto_parse keeps it within
	 * libsrtp's 64..32767) */
	p->window_size = (dir == ssrc_any_inbound && k->wsh) ? k->wsh : REPLAY_WINDOW;
	p->allow_repeat_tx = 0;
	p->next = NULL;
	for (size_t i = 0; i < k->nkeys; i++)
		memcpy(ks->key[i], k->keys[i].key, len);
	if (k->nkeys == 1 && k->keys[0].mki_len == 0) {
		p->key = ks->key[0];
		return 0;
	}
	for (size_t i = 0; i < k->nkeys; i++) {
		const struct sdes_master *m = &k->keys[i];
		/* the MKI on the wire is its value, big-endian, in mki_len
		 * bytes (RFC 4568 6.1, RFC 3711 3.1) */
		uint64_t v = m->mki;
		for (size_t j = m->mki_len; j > 0; j--) {
			ks->mki[i][j - 1] = (uint8_t)v;
			v >>= 8;
		}
		ks->mk[i].key = ks->key[i];
		ks->mk[i].mki_id = ks->mki[i];
		ks->mk[i].mki_size = m->mki_len;
		ks->mkp[i] = &ks->mk[i];
	}
	p->keys = ks->mkp;
	p->num_master_keys = k->nkeys;
	return 1;
}

static int map_create(srtp_err_status_t st)
{
	return st == srtp_err_status_alloc_fail ? ENOMEM : EIO;
}

static int trailers(struct srtp_ctx *ctx)
{
	uint32_t rtp = 0, rtcp = 0;
	if (srtp_get_protect_trailer_length(ctx->out, ctx->out_mki, 0, &rtp) ||
	    srtp_get_protect_rtcp_trailer_length(ctx->out, ctx->out_mki, 0, &rtcp))
		return EIO;
	ctx->rtp_trailer = rtp;
	ctx->rtcp_trailer = rtcp;
	return 0;
}

int srtp_ctx_alloc(struct srtp_ctx **out, const struct sdes_key *local,
		   const struct sdes_key *remote)
{
	if (!out || !sdes_key_valid(local) || !sdes_key_valid(remote))
		return EINVAL;
	if (local->suite != remote->suite)
		return EINVAL;
	size_t len = sdes_suite_key_len(local->suite);
	for (size_t i = 0; i < local->nkeys; i++)
		for (size_t j = 0; j < remote->nkeys; j++)
			if (!CRYPTO_memcmp(local->keys[i].key, remote->keys[j].key, len))
				return EINVAL;

	pthread_once(&init_once, srtp_start);
	if (init_status != srtp_err_status_ok)
		return EIO;

	struct srtp_ctx *ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return ENOMEM;
	struct keyset *ks = malloc(sizeof(*ks));
	if (!ks) {
		free(ctx);
		return ENOMEM;
	}
	memset(ks, 0, sizeof(*ks));
	srtp_policy_t pol;
	int err = 0;
	srtp_err_status_t st;

	ctx->out_mki = set_policy(&pol, ks, local, ssrc_any_outbound);
	st = srtp_create(&ctx->out, &pol);
	OPENSSL_cleanse(ks, sizeof(*ks));
	if (st) {
		ctx->out = NULL;
		err = map_create(st);
		goto out;
	}
	ctx->in_mki = set_policy(&pol, ks, remote, ssrc_any_inbound);
	st = srtp_create(&ctx->in, &pol);
	OPENSSL_cleanse(ks, sizeof(*ks));
	if (st) {
		ctx->in = NULL;
		err = map_create(st);
		goto out;
	}
	err = trailers(ctx);
out:
	OPENSSL_cleanse(&pol, sizeof(pol));
	free(ks);
	if (err) {
		srtp_ctx_free(ctx);
		return err;
	}
	*out = ctx;
	return 0;
}

void srtp_ctx_free(struct srtp_ctx *ctx)
{
	if (!ctx)
		return;
	/* srtp_dealloc erases the session keys it derived */
	if (ctx->in)
		srtp_dealloc(ctx->in);
	if (ctx->out)
		srtp_dealloc(ctx->out);
	OPENSSL_cleanse(ctx, sizeof(*ctx));
	free(ctx);
}

size_t srtp_ctx_trailer(const struct srtp_ctx *ctx, bool rtcp)
{
	if (!ctx)
		return 0;
	return rtcp ? ctx->rtcp_trailer : ctx->rtp_trailer;
}

/* --- packets -------------------------------------------------------------- */

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static bool ssrc_known(const uint32_t *set, unsigned n, uint32_t ssrc)
{
	for (unsigned i = 0; i < n; i++)
		if (set[i] == ssrc)
			return true;
	return false;
}

static int map_protect(srtp_err_status_t st)
{
	switch (st) {
	case srtp_err_status_replay_fail:
	case srtp_err_status_replay_old:
		return EALREADY;
	case srtp_err_status_alloc_fail:
		return ENOMEM;
	case srtp_err_status_key_expired:
		return EKEYEXPIRED;
	default:
		return EINVAL;
	}
}

static int map_unprotect(srtp_err_status_t st)
{
	switch (st) {
	case srtp_err_status_replay_fail:
	case srtp_err_status_replay_old:
	case srtp_err_status_pkt_idx_old:
		return EALREADY;
	case srtp_err_status_alloc_fail:
		return ENOMEM;
	case srtp_err_status_key_expired:
		return EKEYEXPIRED;
	default:
		return EBADMSG; /* auth_fail, bad_mki, parse_err, bad_param ... */
	}
}

/* One protect call. RTP goes to libsrtp only when our parser accepts it
 * (libsrtp reads the CSRC list and extension header), RTCP when it has a
 * full header (libsrtp reads nothing past it); then nothing the sender
 * controls makes libsrtp fail after it created the stream for a new
 * SSRC, so outbound SSRCs can be counted before the call and the count
 * never falls behind libsrtp's streams. */
static int protect(struct srtp_ctx *ctx, uint8_t *buf, size_t *len, size_t cap,
		   bool rtcp)
{
	size_t trailer = rtcp ? ctx->rtcp_trailer : ctx->rtp_trailer;
	size_t n = *len;
	struct rtp_hdr h;
	if (rtcp ? (n < RTCP_HDR_MIN || (buf[0] >> 6) != 2) : rtp_hdr_parse(&h, buf, n) != 0)
		return EINVAL;
	if (cap < n || cap - n < trailer || n > (size_t)INT_MAX - trailer)
		return EMSGSIZE;
	uint32_t ssrc = rd32(buf + (rtcp ? 4 : 8));
	if (!ssrc_known(ctx->ssrc_out, ctx->nout, ssrc)) {
		if (ctx->nout == SRTP_CTX_MAX_SSRC)
			return ENOSPC;
		ctx->ssrc_out[ctx->nout++] = ssrc;
	}
	int l = (int)n;
	srtp_err_status_t st = rtcp
		? srtp_protect_rtcp_mki(ctx->out, buf, &l, ctx->out_mki, 0)
		: srtp_protect_mki(ctx->out, buf, &l, ctx->out_mki, 0);
	if (st)
		return map_protect(st);
	*len = (size_t)l;
	return 0;
}

/* Inbound SSRCs are counted after success: libsrtp makes a stream for a
 * new SSRC only once a packet of it authenticated, so forged packets
 * cannot use up the slots. */
static int unprotect(struct srtp_ctx *ctx, uint8_t *buf, size_t *len, bool rtcp)
{
	size_t min = rtcp ? RTCP_HDR_MIN : RTP_HDR_MIN;
	size_t n = *len;
	if (n < min || n > INT_MAX || (buf[0] >> 6) != 2)
		return EBADMSG;
	uint32_t ssrc = rd32(buf + (rtcp ? 4 : 8));
	bool known = ssrc_known(ctx->ssrc_in, ctx->nin, ssrc);
	if (!known && ctx->nin == SRTP_CTX_MAX_SSRC)
		return ENOSPC;
	int l = (int)n;
	srtp_err_status_t st = rtcp
		? srtp_unprotect_rtcp_mki(ctx->in, buf, &l, ctx->in_mki)
		: srtp_unprotect_mki(ctx->in, buf, &l, ctx->in_mki);
	if (st)
		return map_unprotect(st);
	if (l < 0 || (size_t)l > n)
		return EBADMSG; /* cannot happen; never trust a length blindly */
	if (!known)
		ctx->ssrc_in[ctx->nin++] = ssrc;
	*len = (size_t)l;
	return 0;
}

int srtp_ctx_protect_rtp(struct srtp_ctx *ctx, uint8_t *buf, size_t *len, size_t cap)
{
	if (!ctx || !buf || !len)
		return EINVAL;
	return protect(ctx, buf, len, cap, false);
}

int srtp_ctx_unprotect_rtp(struct srtp_ctx *ctx, uint8_t *buf, size_t *len)
{
	if (!ctx || !buf || !len)
		return EINVAL;
	return unprotect(ctx, buf, len, false);
}

int srtp_ctx_protect_rtcp(struct srtp_ctx *ctx, uint8_t *buf, size_t *len, size_t cap)
{
	if (!ctx || !buf || !len)
		return EINVAL;
	return protect(ctx, buf, len, cap, true);
}

int srtp_ctx_unprotect_rtcp(struct srtp_ctx *ctx, uint8_t *buf, size_t *len)
{
	if (!ctx || !buf || !len)
		return EINVAL;
	return unprotect(ctx, buf, len, true);
}
