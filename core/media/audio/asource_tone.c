/*
 * Tone sources: the named call-progress tones and "f1[+f2]/on[/off][,...]"
 * specs, generated directly at the rate asked for. We do not use SpanDSP's
 * tone generator here: it runs at 8 kHz only, so a wideband leg would need
 * a resampler after it, whose latency smears the cadence edges and costs
 * more than the oscillator itself. Each frequency is a unit phasor turned
 * by a fixed rotation per sample (two multiplies and adds, no libm call
 * per sample), renormalised once per read so rounding cannot make it grow
 * or fade over an hour of ringback. A part starts at phase 0 (no click out
 * of silence); a part that follows one of the same frequencies without a
 * pause continues its phase, so "dial" is seamless.
 *
 * Levels are -13 dBm0 per frequency, with SpanDSP's reference (a full
 * scale sine is +3.14 dBm0), so two frequencies together stay well clear
 * of clipping.
 */
#include "asource_int.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PARTS 8
#define LEVEL_DBM0 (-13.0)
#define FULL_SCALE_DBM0 3.14

struct tone_part {
	uint16_t freq[2];
	unsigned nfreq;
	uint32_t on, off; /* ms while parsing, then samples */
};

struct tone_source {
	struct asource base;
	uint32_t rate;
	bool repeat;
	size_t nparts, cur;
	uint32_t pos; /* samples into the current part */
	double amp;
	double re[2], im[2]; /* the phasors */
	double cr[2], ci[2]; /* their rotation per sample */
	struct tone_part part[MAX_PARTS];
};

static const struct {
	const char *name;
	const char *spec;
	bool repeat;
} named[] = {
	{ "ringback", "440+480/2000/4000", true },
	{ "busy", "480+620/500/500", true },
	{ "congestion", "480+620/250/250", true },
	{ "dial", "350+440/1000", true }, /* repeated without a pause */
	{ "beep", "1000/250", false },
};

/* Decimal digits into *v (at most max); advances *p. */
static bool parse_num(const char **p, uint32_t max, uint32_t *v)
{
	const char *s = *p;
	uint32_t x = 0;

	if (*s < '0' || *s > '9')
		return false;
	while (*s >= '0' && *s <= '9') {
		x = x * 10 + (uint32_t)(*s - '0');
		if (x > max)
			return false;
		s++;
	}
	*p = s;
	*v = x;
	return true;
}

static int parse_spec(struct tone_source *ts, const char *s)
{
	bool pauses = false;

	ts->nparts = 0;
	for (;;) {
		struct tone_part *tp;
		uint32_t v;

		if (ts->nparts == MAX_PARTS)
			return EINVAL;
		tp = &ts->part[ts->nparts++];
		for (;;) {
			if (tp->nfreq == 2 || !parse_num(&s, 4000, &v) || v < 50 ||
			    v * 2 >= ts->rate)
				return EINVAL;
			tp->freq[tp->nfreq++] = (uint16_t)v;
			if (*s != '+')
				break;
			s++;
		}
		if (*s++ != '/' || !parse_num(&s, 60000, &tp->on) || tp->on < 10)
			return EINVAL;
		if (*s == '/') {
			s++;
			if (!parse_num(&s, 60000, &tp->off))
				return EINVAL;
		}
		pauses |= tp->off > 0;
		tp->on = tp->on * (ts->rate / 1000);
		tp->off = tp->off * (ts->rate / 1000);
		if (*s == '\0')
			break;
		if (*s++ != ',')
			return EINVAL;
	}
	ts->repeat = pauses;
	return 0;
}

/* Sets up the oscillators for part i; keeps their phase when it follows,
 * without a pause, a part of the same frequencies. */
static void enter_part(struct tone_source *ts, size_t i, const struct tone_part *prev)
{
	const struct tone_part *tp = &ts->part[i];
	bool keep = prev && prev->off == 0 && prev->nfreq == tp->nfreq &&
		    !memcmp(prev->freq, tp->freq, sizeof(tp->freq));

	ts->cur = i;
	ts->pos = 0;
	for (unsigned k = 0; k < tp->nfreq; k++) {
		double w = 2.0 * M_PI * tp->freq[k] / ts->rate;
		ts->cr[k] = cos(w);
		ts->ci[k] = sin(w);
		if (!keep) {
			ts->re[k] = 1.0;
			ts->im[k] = 0.0;
		}
	}
}

static void synth(struct tone_source *ts, const struct tone_part *tp, int16_t *pcm,
		  size_t n)
{
	for (size_t i = 0; i < n; i++) {
		double v = 0;
		for (unsigned k = 0; k < tp->nfreq; k++) {
			double re = ts->re[k], im = ts->im[k];
			v += im;
			ts->re[k] = re * ts->cr[k] - im * ts->ci[k];
			ts->im[k] = re * ts->ci[k] + im * ts->cr[k];
		}
		pcm[i] = (int16_t)lrint(v * ts->amp);
	}
	for (unsigned k = 0; k < tp->nfreq; k++) {
		double g = 1.0 / sqrt(ts->re[k] * ts->re[k] + ts->im[k] * ts->im[k]);
		ts->re[k] *= g;
		ts->im[k] *= g;
	}
}

static size_t tone_read(struct asource *s, int16_t *pcm, size_t n)
{
	struct tone_source *ts = (struct tone_source *)s;
	size_t got = 0;

	while (got < n) {
		const struct tone_part *tp = &ts->part[ts->cur];
		size_t k = n - got;

		if (ts->pos < tp->on) {
			if (k > tp->on - ts->pos)
				k = tp->on - ts->pos;
			synth(ts, tp, pcm + got, k);
		} else if (ts->pos < tp->on + tp->off) {
			if (k > tp->on + tp->off - ts->pos)
				k = tp->on + tp->off - ts->pos;
			memset(pcm + got, 0, k * sizeof(*pcm));
		} else {
			if (ts->cur + 1 < ts->nparts)
				enter_part(ts, ts->cur + 1, tp);
			else if (ts->repeat)
				enter_part(ts, 0, tp);
			else
				break;
			continue;
		}
		got += k;
		ts->pos += (uint32_t)k;
	}
	return got;
}

static void tone_destroy(struct asource *s)
{
	free(s);
}

static const struct asource_ops tone_ops = {
	.read = tone_read,
	.destroy = tone_destroy,
};

int asource_open_tone(struct asource **out, const char *spec, uint32_t rate)
{
	struct tone_source *ts;
	bool repeat = false, is_named = false;
	int err;

	if (!out || !spec || !asource_rate_ok(rate))
		return EINVAL;
	for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++) {
		if (!strcmp(spec, named[i].name)) {
			spec = named[i].spec;
			repeat = named[i].repeat;
			is_named = true;
			break;
		}
	}
	ts = calloc(1, sizeof(*ts));
	if (!ts)
		return ENOMEM;
	ts->base.ops = &tone_ops;
	ts->rate = rate;
	ts->amp = 32767.0 * pow(10.0, (LEVEL_DBM0 - FULL_SCALE_DBM0) / 20.0);
	err = parse_spec(ts, spec);
	if (err) {
		free(ts);
		return err;
	}
	if (is_named)
		ts->repeat = repeat;
	enter_part(ts, 0, NULL);
	*out = &ts->base;
	return 0;
}
