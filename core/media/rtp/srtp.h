/*
 * SRTP/SRTCP (RFC 3711, RFC 7714) for one call leg, keyed by SDES
 * (core/sdp/sdes.h), on top of libsrtp2. A context holds two libsrtp
 * sessions: outbound, which protects what we send with our key, and
 * inbound, which unprotects what the phone sends with its key. Both
 * accept any SSRC (wildcard policies), so a phone or the relayed side may
 * change SSRC without new keys, up to SRTP_CTX_MAX_SSRC of them.
 *
 * Replay protection is on in both directions: unprotect refuses an RTP
 * packet index or SRTCP index already accepted or older than the window
 * (128 packets, or the peer's WSH hint; SRTCP always 128), and protect
 * refuses to encrypt an RTP index twice, which would reuse keystream.
 *
 * Packets are processed in place: protect appends the tag (and SRTCP
 * index, and MKI when our key has one) after the packet, so the buffer
 * must have srtp_ctx_trailer() bytes of room past it, SRTP_CTX_TRAILER
 * always being enough for keys without MKI. Buffers should be 4-byte
 * aligned (libsrtp reads headers as 32-bit words). Nothing here calls
 * malloc per packet; libsrtp allocates once per new SSRC.
 *
 * Threads. libsrtp is initialised once per process, on the first
 * srtp_ctx_alloc (pthread_once); after that its crypto kernel is only
 * read, so contexts may be created on any thread. One context (its two
 * srtp_t) has no lock and must be used by one thread at a time: the media
 * worker that owns the leg. Different contexts may be used concurrently.
 *
 * Secrets. The context keeps no copy of the master keys (libsrtp keeps
 * only the derived session keys, and erases them when freed); libsrtp's
 * debug output, the one place it prints keys, is never forwarded to our
 * log.
 */
#ifndef HF_SRTP_H
#define HF_SRTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../sdp/sdes.h"

struct srtp_ctx;

/* Most bytes protect adds for keys without MKI: SRTCP with a GCM suite,
 * 16-byte tag + 4-byte E flag and index. An MKI adds its length. */
#define SRTP_CTX_TRAILER 20
/* Distinct SSRCs per direction; packets of more are refused (ENOSPC), so
 * a sender spraying SSRCs cannot make libsrtp allocate without bound. A
 * leg whose peer needs more gets a new context with new keys. */
#define SRTP_CTX_MAX_SSRC 16

/* Creates a context that protects with local (our key, which we sent in
 * SDP) and unprotects with remote (the phone's). Both must be valid
 * (sdes_key_valid), of the same suite (RFC 4568 negotiates one suite for
 * both directions), and different: a peer that echoes our key would make
 * both directions share keystream whenever SSRCs collide. Several remote
 * keys are all installed and chosen per packet by MKI. The keys are
 * copied into libsrtp; the caller still owns and wipes its structs.
 * 0; EINVAL; ENOMEM; EIO when libsrtp cannot start or refuses the keys. */
int srtp_ctx_alloc(struct srtp_ctx **out, const struct sdes_key *local,
		   const struct sdes_key *remote);
void srtp_ctx_free(struct srtp_ctx *ctx);

/* Bytes protect adds to an RTP (rtcp false) or RTCP packet. */
size_t srtp_ctx_trailer(const struct srtp_ctx *ctx, bool rtcp);

/* Turns the RTP packet buf[0..*len) into SRTP in place; *len grows by
 * srtp_ctx_trailer(ctx, false). 0; EMSGSIZE when cap leaves no room for
 * the trailer; EINVAL for a packet rtp_hdr_parse refuses (rtp.h), or one
 * libsrtp refuses; EALREADY when this SSRC and index
 * were already protected (sending it again would reuse keystream: drop
 * it); ENOSPC (SSRC limit); EKEYEXPIRED when the key has protected 2^48
 * packets; ENOMEM (first packet of an SSRC). On error buf and *len are
 * unchanged unless the error came from libsrtp itself. */
int srtp_ctx_protect_rtp(struct srtp_ctx *ctx, uint8_t *buf, size_t *len, size_t cap);

/* Checks and decrypts the SRTP packet buf[0..*len) in place; *len
 * shrinks to the RTP packet. 0; EBADMSG when it fails authentication or
 * is malformed, too short, or names an unknown MKI; EALREADY when its
 * index was already accepted or is older than the replay window (checked
 * before authentication, so a forgery reusing an old index also gets
 * this); ENOSPC (SSRC limit); EKEYEXPIRED; ENOMEM; EINVAL for NULL
 * arguments. On error *len is unchanged and buf must be dropped (a
 * failed AEAD check may leave it partly decrypted). */
int srtp_ctx_unprotect_rtp(struct srtp_ctx *ctx, uint8_t *buf, size_t *len);

/* The same for a compound RTCP packet (RFC 3711 3.4): SRTCP adds the E
 * flag and 31-bit SRTCP index before the tag; encryption is always on
 * (we never send or accept UNENCRYPTED_SRTCP). Errors as above; EINVAL
 * for a packet shorter than an RTCP header (8 bytes) or not version 2
 * (the relay checks compounds with rtcp_parse before this). */
int srtp_ctx_protect_rtcp(struct srtp_ctx *ctx, uint8_t *buf, size_t *len, size_t cap);
int srtp_ctx_unprotect_rtcp(struct srtp_ctx *ctx, uint8_t *buf, size_t *len);

#endif
