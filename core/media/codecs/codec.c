/*
 * The codec table and the checked entry points of codec.h. The codecs
 * themselves live one per file (codec_g711.c, codec_g722.c, codec_opus.c);
 * this file only knows them through their descriptors, so that adding one
 * is a new file plus a line in `codecs` below. Arguments are checked here,
 * once, so the implementations can trust what reaches them.
 */
#include "codec.h"

#include <errno.h>
#include <limits.h>

static const struct codec_desc *const codecs[] = {
	&codec_pcmu,
	&codec_pcma,
	&codec_g722,
	&codec_opus,
};

#define NCODECS (sizeof(codecs) / sizeof(codecs[0]))

void codec_params_default(struct codec_params *p)
{
	/* 24 kbit/s is where opus gives clean wideband speech; complexity 5
	 * costs about half of the maximum for a hardly audible loss, which
	 * matters when one core transcodes hundreds of calls; 5 % loss is
	 * the hint that makes the encoder spend bits on FEC at all */
	*p = (struct codec_params){
		.pcm_rate = 0,
		.bitrate = 24000,
		.complexity = 5,
		.fec = true,
		.loss_pct = 5,
		.cbr = false,
		.max_playback = 48000,
	};
}

const struct codec_desc *codec_find(struct pl name, uint32_t clock)
{
	for (size_t i = 0; i < NCODECS; i++)
		if (codecs[i]->rtp_clock == clock && pl_casestr(name, codecs[i]->name))
			return codecs[i];
	return NULL;
}

const struct codec_desc *codec_find_pt(int pt)
{
	if (pt < 0)
		return NULL;
	for (size_t i = 0; i < NCODECS; i++)
		if (codecs[i]->pt == pt)
			return codecs[i];
	return NULL;
}

const struct codec_desc *codec_at(size_t i)
{
	return i < NCODECS ? codecs[i] : NULL;
}

bool codec_rate_ok(const struct codec_desc *d, uint32_t rate)
{
	unsigned bit;
	switch (rate) {
	case 8000: bit = CODEC_RATE_8K; break;
	case 12000: bit = CODEC_RATE_12K; break;
	case 16000: bit = CODEC_RATE_16K; break;
	case 24000: bit = CODEC_RATE_24K; break;
	case 48000: bit = CODEC_RATE_48K; break;
	default: return false;
	}
	return d && (d->rates & bit);
}

static int params_check(const struct codec_params *p)
{
	if (p->bitrate < 6000 || p->bitrate > 510000 || p->complexity > 10 ||
	    p->loss_pct > 100)
		return EINVAL;
	return 0;
}

int codec_enc_alloc(struct codec_enc **out, const struct codec_desc *d,
		    const struct codec_params *p)
{
	struct codec_params def;
	if (!out || !d)
		return EINVAL;
	if (!p) {
		codec_params_default(&def);
		p = &def;
	}
	if (params_check(p))
		return EINVAL;
	if (p->pcm_rate && !codec_rate_ok(d, p->pcm_rate))
		return EINVAL;
	return d->enc_alloc(out, d, p);
}

void codec_enc_free(struct codec_enc *e)
{
	if (e)
		e->desc->enc_free(e);
}

int codec_enc_set(struct codec_enc *e, const struct codec_params *p)
{
	if (!e || !p || params_check(p))
		return EINVAL;
	return e->desc->enc_set ? e->desc->enc_set(e, p) : 0;
}

int codec_encode(struct codec_enc *e, const int16_t *pcm, size_t samples,
		 uint8_t *out, size_t cap)
{
	if (!e || !pcm || !out || samples == 0 || samples > INT_MAX)
		return -EINVAL;
	if (cap > INT_MAX)
		cap = INT_MAX;
	return e->desc->encode(e, pcm, samples, out, cap);
}

int codec_dec_alloc(struct codec_dec **out, const struct codec_desc *d, uint32_t rate)
{
	if (!out || !d)
		return EINVAL;
	if (rate == 0)
		rate = d->pcm_rate;
	if (!codec_rate_ok(d, rate))
		return EINVAL;
	return d->dec_alloc(out, d, rate);
}

void codec_dec_free(struct codec_dec *dec)
{
	if (dec)
		dec->desc->dec_free(dec);
}

int codec_decode(struct codec_dec *dec, const uint8_t *payload, size_t len,
		 int16_t *pcm, size_t cap)
{
	/* an empty payload is not a packet: a loss goes through codec_plc,
	 * so that the caller says how long the gap is */
	if (!dec || !payload || !pcm || len == 0 || len > INT_MAX)
		return -EINVAL;
	if (cap > INT_MAX)
		cap = INT_MAX;
	return dec->desc->decode(dec, payload, len, pcm, cap);
}

int codec_dec_samples(struct codec_dec *dec, const uint8_t *payload, size_t len)
{
	if (!dec || !payload || len == 0 || len > INT_MAX)
		return -EINVAL;
	return dec->desc->dec_samples(dec, payload, len);
}

int codec_plc(struct codec_dec *dec, int16_t *pcm, size_t samples)
{
	if (!dec || !pcm || samples == 0 || samples > INT_MAX)
		return -EINVAL;
	return dec->desc->plc(dec, pcm, samples);
}

int codec_decode_fec(struct codec_dec *dec, const uint8_t *next, size_t len,
		     int16_t *pcm, size_t samples)
{
	if (!dec || !pcm || samples == 0 || samples > INT_MAX || len > INT_MAX)
		return -EINVAL;
	if (!dec->desc->decode_fec || !next || len == 0)
		return dec->desc->plc(dec, pcm, samples);
	return dec->desc->decode_fec(dec, next, len, pcm, samples);
}
