/*
 * One direction of a transcoded call (codec.h, struct transcoder): decoder
 * of codec X -> resampler when the PCM rates differ -> FIFO -> encoder of
 * codec Y. The FIFO is what lets packet times differ on the two sides:
 * push adds whatever one packet decodes to, pull takes exactly one output
 * packet's worth when there is that much. Everything is sized and
 * allocated in transcoder_alloc, so the packet path never allocates
 * (test_codec_transcode.c checks that with ASan's allocation hooks).
 *
 * The FIFO is a linear buffer with a read offset rather than a ring: the
 * encoder needs its frame contiguous, and moving the few samples left over
 * to the front before an append costs less than copying each frame out of
 * a ring.
 */
#include "codec.h"
#include "resample.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PACKET_MS 120 /* the longest packet we decode (opus' maximum) */
#define SLACK_MS 120      /* bursts the FIFO absorbs before dropping */

struct transcoder {
	struct codec_dec *dec;
	struct codec_enc *enc;
	struct resampler *rs;   /* NULL when both run at the same rate */
	size_t from_frame;      /* samples of one lost packet, decoder rate */
	size_t to_frame;        /* samples of one output packet, encoder rate */
	int16_t *dec_buf;       /* MAX_PACKET_MS at the decoder's rate */
	size_t dec_cap;
	int16_t *rs_buf;        /* resampled dec_buf */
	size_t rs_cap;
	int16_t *fifo;          /* at the encoder's rate */
	size_t fifo_cap, head, len;
	struct transcoder_stats st;
};

static bool ptime_ok(const struct codec_desc *d, unsigned ptime)
{
	return ptime >= d->min_ptime && ptime <= d->max_ptime && ptime % 10 == 0;
}

/* The PCM rates both sides run at. With native_rate, the side that can
 * runs at the other's rate, the lower of the two where there is a choice:
 * the narrower codec limits the audio band anyway. */
static void pick_rates(const struct codec_desc *from, const struct codec_desc *to,
		       bool native, uint32_t *fr, uint32_t *tr)
{
	*fr = from->pcm_rate;
	*tr = to->pcm_rate;
	if (!native || *fr == *tr)
		return;
	if (*fr < *tr && codec_rate_ok(to, *fr))
		*tr = *fr;
	else if (*tr < *fr && codec_rate_ok(from, *tr))
		*fr = *tr;
	else if (codec_rate_ok(to, *fr))
		*tr = *fr;
	else if (codec_rate_ok(from, *tr))
		*fr = *tr;
}

int transcoder_alloc(struct transcoder **out, const struct codec_desc *from,
		     unsigned from_ptime, const struct codec_desc *to,
		     unsigned to_ptime, const struct transcoder_opts *opts)
{
	struct codec_params params;
	struct transcoder *t;
	uint32_t fr, tr;
	size_t dec_cap, rs_cap = 0, fifo_cap;
	int err;

	if (!out || !from || !to || !ptime_ok(from, from_ptime) ||
	    !ptime_ok(to, to_ptime))
		return EINVAL;
	if (opts && opts->enc)
		params = *opts->enc;
	else
		codec_params_default(&params);
	pick_rates(from, to, opts && opts->native_rate, &fr, &tr);
	params.pcm_rate = tr;

	dec_cap = codec_samples(fr, MAX_PACKET_MS);
	fifo_cap = codec_samples(tr, MAX_PACKET_MS + SLACK_MS + to_ptime);
	t = calloc(1, sizeof(*t) + (dec_cap + fifo_cap) * sizeof(int16_t));
	if (!t)
		return ENOMEM;
	t->dec_buf = (int16_t *)(t + 1);
	t->dec_cap = dec_cap;
	t->fifo = t->dec_buf + dec_cap;
	t->fifo_cap = fifo_cap;
	t->from_frame = codec_samples(fr, from_ptime);
	t->to_frame = codec_samples(tr, to_ptime);

	err = codec_dec_alloc(&t->dec, from, fr);
	if (err)
		goto out;
	err = codec_enc_alloc(&t->enc, to, &params);
	if (err)
		goto out;
	if (fr != tr) {
		err = resampler_alloc(&t->rs, fr, tr, RESAMPLER_QUALITY_VOIP);
		if (err)
			goto out;
		rs_cap = resampler_out_max(t->rs, dec_cap);
		t->rs_buf = malloc(rs_cap * sizeof(int16_t));
		if (!t->rs_buf) {
			err = ENOMEM;
			goto out;
		}
		t->rs_cap = rs_cap;
	}
	*out = t;
	return 0;
out:
	transcoder_free(t);
	return err;
}

void transcoder_free(struct transcoder *t)
{
	if (!t)
		return;
	codec_dec_free(t->dec);
	codec_enc_free(t->enc);
	resampler_free(t->rs);
	free(t->rs_buf);
	free(t);
}

/* Appends n samples at the encoder's rate; drops the oldest on overflow. */
static void fifo_put(struct transcoder *t, const int16_t *pcm, size_t n)
{
	if (n > t->fifo_cap) {
		/* cannot happen with our sizes; keep the newest if it did */
		t->st.overrun += n - t->fifo_cap;
		pcm += n - t->fifo_cap;
		n = t->fifo_cap;
	}
	if (t->len + n > t->fifo_cap) {
		size_t drop = t->len + n - t->fifo_cap;
		t->head += drop;
		t->len -= drop;
		t->st.overrun += drop;
	}
	if (t->head + t->len + n > t->fifo_cap) {
		memmove(t->fifo, t->fifo + t->head, t->len * sizeof(int16_t));
		t->head = 0;
	}
	memcpy(t->fifo + t->head + t->len, pcm, n * sizeof(int16_t));
	t->len += n;
}

/* Feeds n decoded samples (decoder rate, in dec_buf) on to the FIFO. */
static int feed(struct transcoder *t, size_t n)
{
	if (!t->rs) {
		fifo_put(t, t->dec_buf, n);
		return 0;
	}
	int m = resampler_run(t->rs, t->dec_buf, n, t->rs_buf, t->rs_cap);
	if (m < 0)
		return -m;
	fifo_put(t, t->rs_buf, (size_t)m);
	return 0;
}

int transcoder_push(struct transcoder *t, const uint8_t *payload, size_t len)
{
	if (!t || !payload || len == 0)
		return EINVAL;
	int n = codec_decode(t->dec, payload, len, t->dec_buf, t->dec_cap);
	if (n < 0) {
		t->st.bad++;
		return n == -ENOBUFS ? EMSGSIZE : EBADMSG;
	}
	t->st.pushed++;
	return feed(t, (size_t)n);
}

int transcoder_lost(struct transcoder *t)
{
	if (!t)
		return EINVAL;
	int n = codec_plc(t->dec, t->dec_buf, t->from_frame);
	if (n < 0)
		return -n;
	t->st.lost++;
	return feed(t, (size_t)n);
}

int transcoder_lost_fec(struct transcoder *t, const uint8_t *next, size_t len)
{
	if (!t)
		return EINVAL;
	int n = codec_decode_fec(t->dec, next, len, t->dec_buf, t->from_frame);
	if (n < 0)
		return -n;
	t->st.lost++;
	return feed(t, (size_t)n);
}

int transcoder_pull(struct transcoder *t, uint8_t *out, size_t cap)
{
	if (!t || !out)
		return -EINVAL;
	if (t->len < t->to_frame)
		return 0;
	/* the codecs refuse a short buffer before coding anything, so on
	 * error the frame stays in the FIFO */
	int n = codec_encode(t->enc, t->fifo + t->head, t->to_frame, out, cap);
	if (n < 0)
		return n;
	t->head += t->to_frame;
	t->len -= t->to_frame;
	if (t->len == 0)
		t->head = 0;
	t->st.pulled++;
	return n;
}

struct codec_enc *transcoder_enc(struct transcoder *t)
{
	return t ? t->enc : NULL;
}

void transcoder_get_stats(const struct transcoder *t, struct transcoder_stats *st)
{
	if (t && st)
		*st = t->st;
}
