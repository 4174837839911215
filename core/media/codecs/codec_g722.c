/*
 * G.722 (payload type 9) at 64 kbit/s through SpanDSP's bit-exact ITU
 * implementation. PCM is 16 kHz; RTP still counts at 8000 Hz (RFC 3551
 * section 4.5.2 kept an error of the original RFC 1890 for compatibility),
 * which the descriptor says and the RTP layer must honour. One payload byte
 * codes two 16 kHz samples.
 *
 * 8 kHz mode: SpanDSP can encode from and decode to 8 kHz PCM (only the
 * lower sub-band, no QMF), which the transcoder uses towards G.711 instead
 * of a resampler: cheaper, no added delay, and G.711 has nothing above
 * 4 kHz to lose. On the wire it is still normal G.722.
 *
 * Loss concealment: G.722 has none of its own here (SpanDSP offers no
 * Appendix III/IV), so SpanDSP's generic plc_t runs on the decoded PCM.
 * It was tuned for 8 kHz: at 16 kHz its pitch search covers 133-400 Hz
 * instead of 67-200 Hz and its fade-out lasts 25 ms instead of 50 ms. That
 * is acceptable for the occasional lost packet; the ADPCM state simply
 * carries on, so the first packet after a loss may click slightly.
 */
#include "codec.h"
#include "plc_fillin.h"

#include <errno.h>
#include <stdlib.h>

#include <spandsp/telephony.h>
#include <spandsp/g722.h>

#define G722_BITRATE 64000

struct g722_enc {
	struct codec_enc base;
	g722_encode_state_t *st;
};

struct g722_dec {
	struct codec_dec base;
	g722_decode_state_t *st;
	plc_state_t plc;
};

/* Payload bytes for n samples at rate, or 0 if n does not fill whole
 * bytes: 2 samples a byte at 16 kHz, 1 at 8 kHz. */
static size_t bytes_for(uint32_t rate, size_t n)
{
	if (rate == 8000)
		return n;
	return n % 2 ? 0 : n / 2;
}

static int g722_enc_alloc(struct codec_enc **out, const struct codec_desc *d,
			  const struct codec_params *p)
{
	uint32_t rate = p->pcm_rate ? p->pcm_rate : d->pcm_rate;
	struct g722_enc *g = malloc(sizeof(*g));
	if (!g)
		return ENOMEM;
	/* SpanDSP allocates its (small) state itself: its layout is private
	 * in this SpanDSP version, so it cannot be embedded in ours */
	g->st = g722_encode_init(NULL, G722_BITRATE,
				 rate == 8000 ? G722_SAMPLE_RATE_8000 : 0);
	if (!g->st) {
		free(g);
		return ENOMEM;
	}
	g->base.desc = d;
	g->base.rate = rate;
	*out = &g->base;
	return 0;
}

static void g722_enc_free(struct codec_enc *e)
{
	struct g722_enc *g = (struct g722_enc *)e;
	g722_encode_free(g->st);
	free(g);
}

static int g722_enc_encode(struct codec_enc *e, const int16_t *pcm, size_t n,
			   uint8_t *out, size_t cap)
{
	struct g722_enc *g = (struct g722_enc *)e;
	size_t bytes = bytes_for(e->rate, n);
	if (bytes == 0)
		return -EINVAL;
	if (cap < bytes)
		return -ENOBUFS;
	return g722_encode(g->st, out, pcm, (int)n);
}

static int g722_dec_alloc(struct codec_dec **out, const struct codec_desc *d,
			  uint32_t rate)
{
	struct g722_dec *g = malloc(sizeof(*g));
	if (!g)
		return ENOMEM;
	g->st = g722_decode_init(NULL, G722_BITRATE,
				 rate == 8000 ? G722_SAMPLE_RATE_8000 : 0);
	if (!g->st) {
		free(g);
		return ENOMEM;
	}
	plc_init(&g->plc);
	g->base.desc = d;
	g->base.rate = rate;
	*out = &g->base;
	return 0;
}

static void g722_dec_free(struct codec_dec *d)
{
	struct g722_dec *g = (struct g722_dec *)d;
	g722_decode_free(g->st);
	free(g);
}

static int g722_dec_samples(struct codec_dec *d, const uint8_t *in, size_t len)
{
	(void)in;
	return (int)(d->rate == 8000 ? len : 2 * len);
}

static int g722_dec_decode(struct codec_dec *d, const uint8_t *in, size_t len,
			   int16_t *pcm, size_t cap)
{
	struct g722_dec *g = (struct g722_dec *)d;
	size_t n = d->rate == 8000 ? len : 2 * len;
	if (n > cap || n > INT32_MAX)
		return -ENOBUFS;
	int got = g722_decode(g->st, pcm, in, (int)len);
	plc_rx(&g->plc, pcm, got);
	return got;
}

static int g722_dec_plc(struct codec_dec *d, int16_t *pcm, size_t n)
{
	struct g722_dec *g = (struct g722_dec *)d;
	return plc_fillin_safe(&g->plc, pcm, (int)n);
}

const struct codec_desc codec_g722 = {
	.name = "G722",
	.rtp_clock = 8000,
	.pcm_rate = 16000,
	.pt = 9,
	.channels = 1,
	.min_ptime = 10,
	.max_ptime = 120,
	.rates = CODEC_RATE_8K | CODEC_RATE_16K,
	.enc_alloc = g722_enc_alloc,
	.enc_free = g722_enc_free,
	.encode = g722_enc_encode,
	.dec_alloc = g722_dec_alloc,
	.dec_free = g722_dec_free,
	.decode = g722_dec_decode,
	.dec_samples = g722_dec_samples,
	.plc = g722_dec_plc,
};
