/*
 * speexdsp behind resample.h. The state is speexdsp's own allocation
 * (made once, at resampler_alloc); speex_resampler_process_int works in
 * place on caller buffers and its stack, so converting a frame never
 * allocates. We do not skip the filter's initial zeros: the output then
 * runs a fixed latency behind the input from the first frame on, which
 * is what a stream of fixed-size frames wants (the same number of
 * samples out for every frame in).
 */
#include "resample.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>

#include <speex/speex_resampler.h>

struct resampler {
	SpeexResamplerState *st;
	uint32_t in_rate, out_rate;
};

int resampler_alloc(struct resampler **out, uint32_t in_rate, uint32_t out_rate,
		    int quality)
{
	struct resampler *rs;
	int err = 0;

	if (!out || in_rate < 1000 || in_rate > 192000 || out_rate < 1000 ||
	    out_rate > 192000 || quality < 0 || quality > 10)
		return EINVAL;
	rs = malloc(sizeof(*rs));
	if (!rs)
		return ENOMEM;
	rs->st = speex_resampler_init(1, in_rate, out_rate, quality, &err);
	if (!rs->st) {
		free(rs);
		return err == RESAMPLER_ERR_ALLOC_FAILED ? ENOMEM : EINVAL;
	}
	rs->in_rate = in_rate;
	rs->out_rate = out_rate;
	*out = rs;
	return 0;
}

void resampler_free(struct resampler *rs)
{
	if (!rs)
		return;
	speex_resampler_destroy(rs->st);
	free(rs);
}

size_t resampler_out_max(const struct resampler *rs, size_t n)
{
	/* the fractional phase can round one sample either way per call */
	return (n * rs->out_rate + rs->in_rate - 1) / rs->in_rate + 1;
}

int resampler_run(struct resampler *rs, const int16_t *in, size_t n,
		  int16_t *out, size_t cap)
{
	spx_uint32_t in_len, out_len;

	if (!rs || (!in && n) || !out || n > INT_MAX / 8)
		return -EINVAL;
	if (cap < resampler_out_max(rs, n))
		return -ENOBUFS;
	in_len = (spx_uint32_t)n;
	out_len = (spx_uint32_t)(cap > INT_MAX ? INT_MAX : cap);
	if (speex_resampler_process_int(rs->st, 0, in, &in_len, out, &out_len) !=
	    RESAMPLER_ERR_SUCCESS)
		return -EIO;
	return (int)out_len;
}

unsigned resampler_delay(const struct resampler *rs)
{
	return (unsigned)speex_resampler_get_output_latency(rs->st);
}

void resampler_reset(struct resampler *rs)
{
	speex_resampler_reset_mem(rs->st);
}
