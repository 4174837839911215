/*
 * Audio codecs of the media engine: G.711 (PCMU, PCMA), G.722 and Opus,
 * each described by a static descriptor (SDP name, RTP clock, PCM rate,
 * static payload type) with its operations, plus per-direction encoder and
 * decoder states and a transcoder (decode -> resample -> re-frame ->
 * encode) for legs whose codecs or packet times differ.
 *
 * PCM is 16-bit signed mono at the state's rate (codec_desc.pcm_rate unless
 * codec_params.pcm_rate asked for another one the codec supports). States
 * are allocated once per leg and direction; encode, decode, PLC and the
 * transcoder's push/pull never allocate, so they are fit for the worker's
 * packet path. A state belongs to one thread (the leg's media worker).
 *
 * Counting functions return a count (bytes or samples, >= 0) or a negative
 * errno value, like libopus does: the count is the result the packet path
 * needs, and an out-parameter for it would cost every caller a variable.
 * Everything else follows the house rule (0 or a positive errno).
 *
 * Adding a codec: a new codec_<name>.c defining its descriptor, and one line
 * in the table of codec.c.
 */
#ifndef HF_CODEC_H
#define HF_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../base/pl.h"

struct codec_desc;

/* PCM rates a codec may run at (codec_desc.rates). */
enum {
	CODEC_RATE_8K = 1 << 0,
	CODEC_RATE_12K = 1 << 1,
	CODEC_RATE_16K = 1 << 2,
	CODEC_RATE_24K = 1 << 3,
	CODEC_RATE_48K = 1 << 4,
};

/* Encoder settings. codec_params_default fills the defaults; the G.711
 * codecs ignore all of it, G.722 reads only pcm_rate. */
struct codec_params {
	uint32_t pcm_rate;     /* 0: desc->pcm_rate. Opus: 8000, 12000, 16000,
				* 24000 or 48000; G.722: 8000 or 16000 */
	uint32_t bitrate;      /* opus, bit/s (6000..510000); default 24000 */
	unsigned complexity;   /* opus 0..10; default 5 */
	bool fec;              /* opus in-band FEC (LBRR); default on */
	unsigned loss_pct;     /* opus expected loss hint 0..100; default 5.
				* FEC is only coded when this is > 0 */
	bool cbr;              /* opus constant bitrate; default off */
	bool low_cpu;          /* opus: CELT only (restricted low-delay),
				* fixed at allocation: about 40% of the CPU
				* of SILK's VOIP mode per frame, at some cost
				* in speech quality at low bitrates. Off */
	uint32_t max_playback; /* opus: the peer's maxplaybackrate; caps the
				* coded bandwidth. Default 48000 */
};

void codec_params_default(struct codec_params *p);

/* The per-direction states. Codec files embed these as their first member;
 * users treat them as opaque apart from the two fields. */
struct codec_enc {
	const struct codec_desc *desc;
	uint32_t rate;         /* PCM sample rate of this state */
};

struct codec_dec {
	const struct codec_desc *desc;
	uint32_t rate;
};

/* A codec. The operations are called through the codec_* functions below,
 * which check arguments; implementations may trust them. */
struct codec_desc {
	const char *name;      /* SDP encoding name (rtpmap), e.g. "PCMU" */
	uint32_t rtp_clock;    /* RTP timestamp rate; G.722 says 8000 although
				* it samples at 16000 (RFC 3551 section 4.5.2) */
	uint32_t pcm_rate;     /* default rate of the PCM frames */
	int pt;                /* static RTP payload type; -1: dynamic */
	uint8_t channels;      /* rtpmap channel count: opus is always
				* written "opus/48000/2" (RFC 7587 section 7)
				* though we code mono */
	uint8_t min_ptime;     /* packet times (ms) the encoder can produce: */
	uint8_t max_ptime;     /* any multiple of 10 in [min, max] */
	uint8_t rates;         /* CODEC_RATE_* bits: PCM rates it can run at */

	int (*enc_alloc)(struct codec_enc **out, const struct codec_desc *d,
			 const struct codec_params *p);
	void (*enc_free)(struct codec_enc *e);
	int (*enc_set)(struct codec_enc *e, const struct codec_params *p);
	int (*encode)(struct codec_enc *e, const int16_t *pcm, size_t samples,
		      uint8_t *out, size_t cap);

	int (*dec_alloc)(struct codec_dec **out, const struct codec_desc *d,
			 uint32_t rate);
	void (*dec_free)(struct codec_dec *d);
	int (*decode)(struct codec_dec *d, const uint8_t *payload, size_t len,
		      int16_t *pcm, size_t cap);
	/* Samples of PCM a payload decodes to, without decoding it. */
	int (*dec_samples)(struct codec_dec *d, const uint8_t *payload, size_t len);
	int (*plc)(struct codec_dec *d, int16_t *pcm, size_t samples);
	/* NULL: the codec has no FEC; codec_decode_fec falls back to plc. */
	int (*decode_fec)(struct codec_dec *d, const uint8_t *next, size_t len,
			  int16_t *pcm, size_t samples);
};

extern const struct codec_desc codec_pcmu, codec_pcma, codec_g722, codec_opus;

/* --- lookup ---------------------------------------------------------------- */

/* The codec with this SDP encoding name (any case) and RTP clock rate;
 * NULL if we have none. */
const struct codec_desc *codec_find(struct pl name, uint32_t clock);
/* The codec of a static payload type; NULL if none of ours. */
const struct codec_desc *codec_find_pt(int pt);
/* The i-th codec of the table, NULL past the end (for listing). */
const struct codec_desc *codec_at(size_t i);

/* Whether the codec can run at this PCM rate. */
bool codec_rate_ok(const struct codec_desc *d, uint32_t rate);

/* RTP timestamp increment of a packet of ptime_ms. */
static inline uint32_t codec_rtp_ticks(const struct codec_desc *d, unsigned ptime_ms)
{
	return d->rtp_clock / 1000 * ptime_ms;
}

/* PCM samples of ptime_ms at rate. */
static inline size_t codec_samples(uint32_t rate, unsigned ptime_ms)
{
	return (size_t)rate / 1000 * ptime_ms;
}

/* --- encoding ---------------------------------------------------------------- */

/* p NULL: defaults. EINVAL when a parameter is out of range or the codec
 * cannot run at p->pcm_rate; ENOMEM. */
int codec_enc_alloc(struct codec_enc **out, const struct codec_desc *d,
		    const struct codec_params *p);
void codec_enc_free(struct codec_enc *e);

/* Changes settings of a live encoder (opus: bitrate, complexity, FEC, loss
 * hint, CBR, bandwidth; pcm_rate is ignored). The others accept and ignore
 * it. */
int codec_enc_set(struct codec_enc *e, const struct codec_params *p);

/* Encodes samples of PCM (a whole packet: G.711 and G.722 take any count,
 * G.722 at 16 kHz an even one; opus any multiple of 10 ms up to 120 ms)
 * into out. Returns the payload length, -EINVAL for a count the codec
 * cannot frame, -ENOBUFS when cap is too small (nothing coded then).
 * Opus fits its packet into cap, spending fewer bits if it must. */
int codec_encode(struct codec_enc *e, const int16_t *pcm, size_t samples,
		 uint8_t *out, size_t cap);

/* --- decoding ---------------------------------------------------------------- */

/* rate 0: d->pcm_rate. */
int codec_dec_alloc(struct codec_dec **out, const struct codec_desc *d, uint32_t rate);
void codec_dec_free(struct codec_dec *dec);

/* Decodes one payload; returns the number of samples written to pcm,
 * -ENOBUFS when they would not fit in cap, -EBADMSG for a corrupt one. */
int codec_decode(struct codec_dec *dec, const uint8_t *payload, size_t len,
		 int16_t *pcm, size_t cap);

/* Samples the payload would decode to (for sizing a lost packet or a jitter
 * buffer); -EBADMSG for a corrupt one. */
int codec_dec_samples(struct codec_dec *dec, const uint8_t *payload, size_t len);

/* Conceals a lost packet: writes samples of plausible PCM continuing what
 * was decoded before (fading out over repeated losses). Returns samples.
 * Opus needs a multiple of 2.5 ms (-EINVAL otherwise). */
int codec_plc(struct codec_dec *dec, int16_t *pcm, size_t samples);

/* Recovers the lost packet just before `next` (samples long) from the
 * redundancy that `next` carries (opus in-band FEC), then the caller
 * decodes `next` itself as usual. Codecs without FEC, and opus packets
 * without it, give the same as codec_plc. */
int codec_decode_fec(struct codec_dec *dec, const uint8_t *next, size_t len,
		     int16_t *pcm, size_t samples);

/* --- Opus SDP parameters (RFC 7587 section 7) ---------------------------- */

/* Our a=fmtp for opus: what we accept as a receiver. Writes
 * "maxplaybackrate=<rate>;useinbandfec=1;stereo=0" (NUL-terminated) and
 * returns its length, or -ENOBUFS. Below 48000 it also says
 * sprop-maxcapturerate=<rate>: a call we transcode to a narrower codec
 * neither needs nor sends more bandwidth. */
int codec_opus_fmtp_print(char *buf, size_t cap, uint32_t maxplaybackrate);

/* Applies the peer's opus fmtp to the parameters of our encoder towards it:
 * maxplaybackrate caps the bandwidth, maxaveragebitrate caps the bitrate,
 * useinbandfec turns FEC on or off (absent means off, RFC 7587), cbr=1
 * asks for constant bitrate. stereo/sprop-stereo are ignored (we send mono,
 * which every opus decoder takes), so are usedtx and sprop-maxcapturerate.
 * Unknown or malformed parameters are skipped. Call it with PL_NULL when
 * the peer sent no fmtp: the RFC's defaults (no FEC) apply then too. */
void codec_opus_fmtp_apply(struct pl fmtp, struct codec_params *p);

/* --- transcoding -------------------------------------------------------------- */

/*
 * One direction of a transcoded call: payloads of codec X at X's packet time
 * in, payloads of codec Y at Y's packet time out. Decoded PCM is resampled
 * when the rates differ and collected in a FIFO, so packet times may differ
 * (20 -> 30 ms gives two packets for every three in). Everything is
 * allocated by transcoder_alloc.
 */
struct transcoder;

struct transcoder_opts {
	/* Encoder settings (NULL: defaults); pcm_rate is chosen here. */
	const struct codec_params *enc;
	/* Run a codec that can (opus, G.722) at its partner's PCM rate, so no
	 * resampler is needed (opus decodes and encodes at 8 kHz itself;
	 * SpanDSP's G.722 has an 8 kHz mode). Off: every codec runs at its
	 * descriptor's rate and speexdsp converts. On, opus <-> PCMU costs
	 * about 0.6x and G.722 <-> PCMU 0.4x the CPU (codec_bench.c), and
	 * what opus sends is narrowband, all that G.711 carries anyway. */
	bool native_rate;
};

struct transcoder_stats {
	uint64_t pushed, lost, pulled; /* packets */
	uint64_t bad;                  /* payloads that did not decode */
	uint64_t overrun;              /* samples dropped: FIFO full */
};

/* ptimes in ms: from_ptime is what the PLC of one lost packet produces;
 * to_ptime must be a packet time the encoder can produce. opts NULL:
 * defaults. EINVAL for unsupported ptimes or rates, ENOMEM. */
int transcoder_alloc(struct transcoder **out, const struct codec_desc *from,
		     unsigned from_ptime, const struct codec_desc *to,
		     unsigned to_ptime, const struct transcoder_opts *opts);
void transcoder_free(struct transcoder *t);

/* Decodes one received payload into the FIFO. EBADMSG: not decodable
 * (nothing added), EMSGSIZE: more than 120 ms. When the FIFO is full the
 * oldest audio is dropped (counted): a relay must not fall behind. */
int transcoder_push(struct transcoder *t, const uint8_t *payload, size_t len);

/* A packet of codec X was lost: conceals it (one from_ptime of PLC). */
int transcoder_lost(struct transcoder *t);

/* A packet was lost and the one after it (next) is already here: recovers
 * the lost one from next's FEC where the codec has it (opus), PLC
 * otherwise. The caller then pushes next as usual. */
int transcoder_lost_fec(struct transcoder *t, const uint8_t *next, size_t len);

/* Encodes one to_ptime packet into out when the FIFO holds enough audio:
 * returns its length, 0 when no packet is ready yet, or a negative errno
 * (-ENOBUFS: cap too small, nothing consumed). Call until it returns 0. */
int transcoder_pull(struct transcoder *t, uint8_t *out, size_t cap);

/* The encoder, e.g. to feed it the loss rate RTCP reports (codec_enc_set)
 * or the peer's fmtp; and the counters. */
struct codec_enc *transcoder_enc(struct transcoder *t);
void transcoder_get_stats(const struct transcoder *t, struct transcoder_stats *st);

#endif
