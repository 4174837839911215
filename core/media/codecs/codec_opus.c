/*
 * Opus (RFC 6716) through libopus: mono, VOIP application, dynamic payload
 * type, RTP clock 48000 whatever the PCM rate (RFC 7587 section 4.1). Also
 * the RFC 7587 fmtp parameters: ours as a receiver, and the peer's applied
 * to our encoder.
 *
 * Each state is one allocation holding our header and libopus' state
 * (opus_*_init into our memory, not opus_*_create), so an encoder or
 * decoder is a single block owned by its leg.
 *
 * Packet times: libopus codes 10, 20, 40, 60, 80, 100 and 120 ms frames
 * directly. Others that SDP may ask for (30 ms above all, which some
 * phones use for everything) are coded as several 10 ms frames joined into
 * one packet with the repacketizer (a "code 3" packet, RFC 6716 3.2.5).
 *
 * Loss: libopus conceals on its own (decode with no data) and can rebuild
 * a lost frame from the low-bitrate copy (LBRR) the next packet carries
 * when the sender enabled in-band FEC and expected some loss.
 */
#include "codec.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <opus.h>

/* room for one 10 ms frame of the repacketized path: the most libopus
 * spends on 10 ms at 510 kbit/s */
#define FRAME10_MAX 640
#define SPLIT_MAX 11 /* 10 ms frames in a packet we split: up to 110 ms */

struct opus_enc {
	struct codec_enc base;
	OpusEncoder *oe;
	OpusRepacketizer *rp;
	uint8_t split[SPLIT_MAX * FRAME10_MAX]; /* frames awaiting joining */
};

struct opus_dec {
	struct codec_dec base;
	OpusDecoder *od;
};

static size_t align16(size_t n)
{
	return (n + 15) & ~(size_t)15;
}

static int opus_err(int err)
{
	switch (err) {
	case OPUS_BAD_ARG: return EINVAL;
	case OPUS_BUFFER_TOO_SMALL: return ENOBUFS;
	case OPUS_INVALID_PACKET: return EBADMSG;
	case OPUS_ALLOC_FAIL: return ENOMEM;
	default: return EIO;
	}
}

/* The widest band worth coding for a receiver playing at most rate. */
static int bandwidth_for(uint32_t rate)
{
	if (rate <= 8000)
		return OPUS_BANDWIDTH_NARROWBAND;
	if (rate <= 12000)
		return OPUS_BANDWIDTH_MEDIUMBAND;
	if (rate <= 16000)
		return OPUS_BANDWIDTH_WIDEBAND;
	if (rate <= 24000)
		return OPUS_BANDWIDTH_SUPERWIDEBAND;
	return OPUS_BANDWIDTH_FULLBAND;
}

static int enc_apply(struct codec_enc *e, const struct codec_params *p)
{
	struct opus_enc *o = (struct opus_enc *)e;
	int err;
	if ((err = opus_encoder_ctl(o->oe, OPUS_SET_BITRATE((opus_int32)p->bitrate))) ||
	    (err = opus_encoder_ctl(o->oe, OPUS_SET_COMPLEXITY((opus_int32)p->complexity))) ||
	    (err = opus_encoder_ctl(o->oe, OPUS_SET_INBAND_FEC(p->fec ? 1 : 0))) ||
	    (err = opus_encoder_ctl(o->oe, OPUS_SET_PACKET_LOSS_PERC((opus_int32)p->loss_pct))) ||
	    (err = opus_encoder_ctl(o->oe, OPUS_SET_VBR(p->cbr ? 0 : 1))) ||
	    (err = opus_encoder_ctl(o->oe, OPUS_SET_MAX_BANDWIDTH(
					   bandwidth_for(p->max_playback ? p->max_playback : 48000)))))
		return opus_err(err);
	return 0;
}

static int enc_alloc(struct codec_enc **out, const struct codec_desc *d,
		     const struct codec_params *p)
{
	uint32_t rate = p->pcm_rate ? p->pcm_rate : d->pcm_rate;
	size_t off_enc = align16(sizeof(struct opus_enc));
	size_t off_rp = off_enc + align16((size_t)opus_encoder_get_size(1));
	size_t total = off_rp + (size_t)opus_repacketizer_get_size();
	uint8_t *mem = malloc(total);
	struct opus_enc *o = (struct opus_enc *)mem;
	int err;

	if (!mem)
		return ENOMEM;
	o->oe = (OpusEncoder *)(mem + off_enc);
	o->rp = (OpusRepacketizer *)(mem + off_rp);
	o->base.desc = d;
	o->base.rate = rate;
	/* VOIP: favours intelligibility (SILK, high-pass, FEC-friendly) over
	 * fidelity, which is what a phone call wants; low_cpu trades some of
	 * that for density (CELT only, no SILK analysis) */
	err = opus_encoder_init(o->oe, (opus_int32)rate, 1,
				p->low_cpu ? OPUS_APPLICATION_RESTRICTED_LOWDELAY : OPUS_APPLICATION_VOIP);
	err = err == OPUS_OK ? enc_apply(&o->base, p) : opus_err(err);
	if (err) {
		free(mem);
		return err;
	}
	*out = &o->base;
	return 0;
}

static void enc_free(struct codec_enc *e)
{
	free(e);
}

/* Frame sizes (in units of 2.5 ms) opus_encode takes as they are. */
static bool direct_frame(size_t units)
{
	switch (units) {
	case 4: case 8: case 16: case 24: case 32: case 40: case 48:
		return true;
	default:
		return false;
	}
}

static int encode(struct codec_enc *e, const int16_t *pcm, size_t n,
		  uint8_t *out, size_t cap)
{
	struct opus_enc *o = (struct opus_enc *)e;
	size_t unit = e->rate / 400; /* 2.5 ms */
	size_t units, f10 = e->rate / 100, frames, each;
	int len;

	if (n % unit)
		return -EINVAL;
	units = n / unit;
	if (cap < 3) /* below this libopus cannot code even silence */
		return -ENOBUFS;
	if (direct_frame(units)) {
		/* cap also caps the size: libopus spends fewer bits to fit */
		len = opus_encode(o->oe, pcm, (int)n, out, (opus_int32)cap);
		return len < 0 ? -opus_err(len) : len;
	}
	if (n % f10 || n / f10 > SPLIT_MAX)
		return -EINVAL;
	frames = n / f10;
	/* a code 3 packet spends a TOC byte, a frame count byte and up to two
	 * length bytes per frame around the frames: share out the rest, so a
	 * packet that is encoded also fits */
	if (cap < 2 + 3 * frames)
		return -ENOBUFS;
	each = (cap - 2 - 2 * frames) / frames;
	if (each > FRAME10_MAX)
		each = FRAME10_MAX;
	opus_repacketizer_init(o->rp);
	for (size_t i = 0; i < frames; i++) {
		uint8_t *f = o->split + i * FRAME10_MAX;
		len = opus_encode(o->oe, pcm + i * f10, (int)f10, f, (opus_int32)each);
		if (len < 0)
			return -opus_err(len);
		len = opus_repacketizer_cat(o->rp, f, len);
		if (len != OPUS_OK)
			return -opus_err(len);
	}
	len = opus_repacketizer_out(o->rp, out, (opus_int32)cap);
	return len < 0 ? -opus_err(len) : len;
}

static int dec_alloc(struct codec_dec **out, const struct codec_desc *d, uint32_t rate)
{
	size_t off = align16(sizeof(struct opus_dec));
	uint8_t *mem = malloc(off + (size_t)opus_decoder_get_size(1));
	struct opus_dec *o = (struct opus_dec *)mem;
	int err;

	if (!mem)
		return ENOMEM;
	o->od = (OpusDecoder *)(mem + off);
	o->base.desc = d;
	o->base.rate = rate;
	err = opus_decoder_init(o->od, (opus_int32)rate, 1);
	if (err != OPUS_OK) {
		free(mem);
		return opus_err(err);
	}
	*out = &o->base;
	return 0;
}

static void dec_free(struct codec_dec *d)
{
	free(d);
}

static int decode(struct codec_dec *d, const uint8_t *in, size_t len,
		  int16_t *pcm, size_t cap)
{
	struct opus_dec *o = (struct opus_dec *)d;
	int n = opus_decoder_get_nb_samples(o->od, in, (opus_int32)len);
	if (n <= 0) /* a code 3 packet may claim zero frames */
		return -EBADMSG;
	if ((size_t)n > cap)
		return -ENOBUFS;
	n = opus_decode(o->od, in, (opus_int32)len, pcm, n, 0);
	return n < 0 ? -opus_err(n) : n;
}

static int dec_samples(struct codec_dec *d, const uint8_t *in, size_t len)
{
	struct opus_dec *o = (struct opus_dec *)d;
	int n = opus_decoder_get_nb_samples(o->od, in, (opus_int32)len);
	return n <= 0 ? -EBADMSG : n;
}

static int plc(struct codec_dec *d, int16_t *pcm, size_t n)
{
	struct opus_dec *o = (struct opus_dec *)d;
	if (n % (d->rate / 400) || n > (size_t)d->rate / 1000 * 120)
		return -EINVAL;
	int got = opus_decode(o->od, NULL, 0, pcm, (int)n, 0);
	return got < 0 ? -opus_err(got) : got;
}

static int decode_fec(struct codec_dec *d, const uint8_t *next, size_t len,
		      int16_t *pcm, size_t n)
{
	struct opus_dec *o = (struct opus_dec *)d;
	if (n % (d->rate / 400) || n > (size_t)d->rate / 1000 * 120)
		return -EINVAL;
	/* libopus runs its PLC for the part of n that next's FEC does not
	 * cover, and for all of it when next has no FEC (CELT-only) */
	int got = opus_decode(o->od, next, (opus_int32)len, pcm, (int)n, 1);
	if (got == OPUS_INVALID_PACKET)
		got = opus_decode(o->od, NULL, 0, pcm, (int)n, 0);
	return got < 0 ? -opus_err(got) : got;
}

const struct codec_desc codec_opus = {
	.name = "opus",
	.rtp_clock = 48000,
	.pcm_rate = 48000,
	.pt = -1,
	.channels = 2,
	.min_ptime = 10,
	.max_ptime = 120,
	.rates = CODEC_RATE_8K | CODEC_RATE_12K | CODEC_RATE_16K |
		 CODEC_RATE_24K | CODEC_RATE_48K,
	.enc_alloc = enc_alloc,
	.enc_free = enc_free,
	.enc_set = enc_apply,
	.encode = encode,
	.dec_alloc = dec_alloc,
	.dec_free = dec_free,
	.decode = decode,
	.dec_samples = dec_samples,
	.plc = plc,
	.decode_fec = decode_fec,
};

/* --- RFC 7587 fmtp -------------------------------------------------------- */

int codec_opus_fmtp_print(char *buf, size_t cap, uint32_t maxplaybackrate)
{
	if (!buf)
		return -EINVAL;
	/* stereo=0: we decode to mono; useinbandfec=1: our decoder uses the
	 * FEC the peer sends (RFC 7587: it is only a preference) */
	int n = maxplaybackrate < 48000
			? snprintf(buf, cap, "maxplaybackrate=%u;sprop-maxcapturerate=%u;"
				   "useinbandfec=1;stereo=0", (unsigned)maxplaybackrate,
				   (unsigned)maxplaybackrate)
			: snprintf(buf, cap, "maxplaybackrate=%u;useinbandfec=1;stereo=0",
				   (unsigned)maxplaybackrate);
	if (n < 0 || (size_t)n >= cap)
		return -ENOBUFS;
	return n;
}

static bool fmtp_u32(struct pl v, uint32_t min, uint32_t max, uint32_t *out)
{
	uint64_t x;
	if (pl_u64(v, max, &x) || x < min)
		return false;
	*out = (uint32_t)x;
	return true;
}

void codec_opus_fmtp_apply(struct pl fmtp, struct codec_params *p)
{
	uint32_t v;

	if (!p)
		return;
	/* no fmtp line is PL_NULL: NULL + 0 is undefined (clang's UBSan) */
	const char *s = fmtp.p, *end = fmtp.p ? fmtp.p + fmtp.l : NULL;
	p->fec = false; /* RFC 7587: useinbandfec defaults to 0 */
	while (s && s < end) {
		const char *semi = memchr(s, ';', (size_t)(end - s));
		const char *stop = semi ? semi : end;
		const char *eq = memchr(s, '=', (size_t)(stop - s));
		struct pl key, val;

		if (eq) {
			key = pl_trim((struct pl){ s, (size_t)(eq - s) });
			val = pl_trim((struct pl){ eq + 1, (size_t)(stop - eq - 1) });
			if (pl_casestr(key, "maxplaybackrate")) {
				if (fmtp_u32(val, 8000, 48000, &v))
					p->max_playback = v;
			} else if (pl_casestr(key, "maxaveragebitrate")) {
				if (fmtp_u32(val, 6000, 510000, &v) && v < p->bitrate)
					p->bitrate = v;
			} else if (pl_casestr(key, "useinbandfec")) {
				if (fmtp_u32(val, 0, 1, &v))
					p->fec = v == 1;
			} else if (pl_casestr(key, "cbr")) {
				if (fmtp_u32(val, 0, 1, &v))
					p->cbr = v == 1;
			}
		}
		if (!semi)
			break;
		s = semi + 1;
	}
}
