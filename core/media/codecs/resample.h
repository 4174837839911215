/*
 * Sample-rate conversion of 16-bit mono PCM (speexdsp's resampler), for a
 * transcoded call whose codecs run at different rates (8000 for G.711,
 * 16000 for G.722, 48000 for opus). One state per direction: it keeps the
 * filter history between frames, so consecutive frames join without
 * clicks. Allocated once; converting never allocates.
 */
#ifndef HF_RESAMPLE_H
#define HF_RESAMPLE_H

#include <stddef.h>
#include <stdint.h>

struct resampler;

/* speexdsp quality 0..10; 3 is its "VOIP" setting: ~60 dB of stopband
 * rejection at a fraction of the cost of the higher ones. */
#define RESAMPLER_QUALITY_VOIP 3

/* Rates 1000..192000 Hz. EINVAL, ENOMEM. */
int resampler_alloc(struct resampler **out, uint32_t in_rate, uint32_t out_rate,
		    int quality);
void resampler_free(struct resampler *rs);

/* The most samples resampler_run can produce from n input samples. */
size_t resampler_out_max(const struct resampler *rs, size_t n);

/* Converts all n input samples; returns the output samples written, or
 * -ENOBUFS (nothing converted) when cap is below resampler_out_max(n).
 * Output lags input by resampler_delay samples (filter latency); over
 * time, out/in is exactly out_rate/in_rate. */
int resampler_run(struct resampler *rs, const int16_t *in, size_t n,
		  int16_t *out, size_t cap);

/* Output-side latency, in output samples. */
unsigned resampler_delay(const struct resampler *rs);

/* Forgets the history (a new stream). */
void resampler_reset(struct resampler *rs);

#endif
