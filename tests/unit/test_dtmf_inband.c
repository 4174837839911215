/*
 * Unit tests for in-band DTMF (core/media/dtmf/dtmf_inband.c, over SpanDSP):
 * the sixteen keys generated with dtmf_tx are detected as exactly that
 * string, one BEGIN and one END each; nothing is detected on a 440 Hz tone,
 * on a speech-like signal or on silence, while a digit mixed into that
 * speech still is.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <spandsp.h>

#include "../../core/media/dtmf/dtmf.h"
#include "../../core/media/dtmf/dtmf_inband.h"
#include "dtmf_test_util.h"

/* The shared recorder, and in-band levels are in dBFS: never above 0. */
static void inband_rec_h(const struct dtmf_ev *ev, void *arg)
{
	rec_h(ev, arg);
	if (ev->type == DTMF_BEGIN)
		assert_true(ev->level <= 0);
}

static uint32_t rng_state = 1;
static uint32_t rnd(void)
{
	return xorshift32(&rng_state);
}

/* Feeds pcm to a detector in 20 ms frames. */
static void feed(struct dtmf_inband_rx *rx, const int16_t *pcm, size_t n)
{
	for (size_t i = 0; i < n; i += 160)
		dtmf_inband_rx_put(rx, pcm + i, n - i < 160 ? n - i : 160);
}

static void test_inband_roundtrip(void **state)
{
	(void)state;
	const char *keys = "0123456789*#ABCD";
	struct dtmf_inband_tx *tx;
	struct dtmf_inband_rx *rx;
	struct rec r = { 0 };
	assert_int_equal(dtmf_inband_tx_alloc(&tx), 0);
	assert_int_equal(dtmf_inband_rx_alloc(&rx, inband_rec_h, &r), 0);
	assert_false(dtmf_inband_tx_busy(tx));
	assert_int_equal(dtmf_inband_tx_put(tx, keys, 0, 0), 0);
	assert_true(dtmf_inband_tx_busy(tx));

	size_t cap = 8000 * 3, n = 0;
	int16_t *pcm = calloc(cap, sizeof(*pcm));
	assert_non_null(pcm);
	/* generated 20 ms at a time, as the worker would */
	while (n + 160 <= cap) {
		size_t got = dtmf_inband_tx_gen(tx, pcm + n, 160);
		n += 160; /* the rest of the frame stays silent */
		if (got < 160)
			break;
	}
	assert_false(dtmf_inband_tx_busy(tx));
	assert_true(n > 16 * 8 * 100 && n < 16 * 8 * 110 + 320);
	feed(rx, pcm, cap);
	assert_string_equal(r.begins, keys);
	assert_int_equal(r.nend, 16);
	assert_int_equal(dtmf_inband_rx_digits(rx), 16);
	for (unsigned i = 0; i < 16; i++)
		assert_true(r.dur[i] >= 30 && r.dur[i] <= 80);

	/* longer tones with a lost stretch of audio in silence, lower case */
	memset(&r, 0, sizeof(r));
	memset(pcm, 0, cap * sizeof(*pcm));
	assert_int_equal(dtmf_inband_tx_put(tx, "9a", 200, 100), 0);
	size_t got = dtmf_inband_tx_gen(tx, pcm, cap);
	assert_true(got >= 8 * 600 && got < cap);
	feed(rx, pcm, 8 * 250);
	dtmf_inband_rx_gap(rx, 8 * 60);
	feed(rx, pcm + 8 * 310, cap - 8 * 310);
	assert_string_equal(r.begins, "9A");
	assert_true(r.dur[0] >= 180 && r.dur[0] <= 220);

	assert_int_equal(dtmf_inband_tx_put(tx, "12x", 0, 0), EINVAL);
	assert_int_equal(dtmf_inband_tx_put(tx, "!", 0, 0), EINVAL);
	assert_int_equal(dtmf_inband_tx_put(tx, "", 0, 0), EINVAL);
	assert_false(dtmf_inband_tx_busy(tx));
	char many[200];
	memset(many, '1', sizeof(many) - 1);
	many[sizeof(many) - 1] = '\0';
	assert_int_equal(dtmf_inband_tx_put(tx, many, 0, 0), ENOSPC);
	free(pcm);
	dtmf_inband_rx_free(rx);
	dtmf_inband_tx_free(tx);
}

static void test_inband_no_false_digit(void **state)
{
	(void)state;
	struct dtmf_inband_rx *rx;
	struct rec r = { 0 };
	assert_int_equal(dtmf_inband_rx_alloc(&rx, inband_rec_h, &r), 0);
	size_t n = 8000 * 4;
	int16_t *pcm = calloc(n, sizeof(*pcm));
	assert_non_null(pcm);

	/* a 440 Hz tone (dial tone's half) at -10 dBm0 */
	uint32_t phase_acc = 0;
	int32_t rate = dds_phase_rate(440.0f);
	int16_t scale = dds_scaling_dbm0(-10.0f);
	for (size_t i = 0; i < n; i++)
		pcm[i] = dds_mod(&phase_acc, rate, scale, 0);
	feed(rx, pcm, n);
	assert_int_equal(r.nbegin, 0);

	/* speech-like: a glottal pulse train at a gliding pitch through three
	 * formant resonators (bandwidth 90 Hz) that move every syllable, with
	 * fricative noise, a syllabic envelope and pauses. Coefficients are
	 * 2 r cos(2 pi F / 8000) for the vowels of "hod heed head hawed who'd
	 * hud", r = exp(-pi 90 / 8000). */
	static const double coef[6][3] = {
		{ 1.621841519, 1.265281948, -0.653950052 },
		{ 1.887304289, -0.435920342, -1.375783367 },
		{ 1.765693664, 0.241961911, -0.710682377 },
		{ 1.740303005, 1.525432732, -0.610974198 },
		{ 1.877207486, 1.497132299, -0.361748753 },
		{ 1.676935441, 0.421136151, -0.610974198 },
	};
	const double r2 = 0.931754571;
	rng_state = 0xC0FFEE;
	double y[3][2] = { { 0 } };
	double phase = 0;
	double *sp = calloc(n, sizeof(*sp));
	assert_non_null(sp);
	double pow_sum = 0;
	for (size_t i = 0; i < n; i++) {
		size_t syl = i / 1200; /* 150 ms syllables */
		double pos = (double)(i % 1200) / 1200.0;
		const double *c = coef[(syl * 7) % 6];
		/* pitch 100-200 Hz: a slow triangle plus a step per syllable */
		double tri = (double)(i % 16000) / 8000.0;
		double f0 = 100 + 50 * (tri < 1 ? tri : 2 - tri) + (double)(syl % 3) * 25;
		double src;
		if (syl % 5 == 4) {
			src = ((int32_t)rnd() >> 16) / 8.0; /* fricative */
		} else {
			phase += f0 / 8000.0;
			src = 0;
			if (phase >= 1) {
				phase -= 1;
				src = 3000;
			}
			src += ((int32_t)rnd() >> 16) / 64.0; /* breath */
		}
		double out = 0;
		for (int k = 0; k < 3; k++) {
			double v = src + c[k] * y[k][0] - r2 * y[k][1];
			y[k][1] = y[k][0];
			y[k][0] = v;
			out += v / (k + 1);
		}
		double env = 4 * pos * (1 - pos);
		if (syl % 9 == 8)
			env = 0; /* pause */
		sp[i] = out * env;
		pow_sum += sp[i] * sp[i];
	}
	/* speech at about -16 dBm0 (RMS 2558), peaks clipped */
	double gain = 2558.0 / sqrt(pow_sum / (double)n);
	size_t clipped = 0;
	for (size_t i = 0; i < n; i++) {
		double v = sp[i] * gain;
		clipped += v > 32767 || v < -32768;
		pcm[i] = (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
	}
	assert_true(clipped < n / 1000); /* a signal, not a square wave */
	free(sp);
	feed(rx, pcm, n);
	assert_int_equal(r.nbegin, 0);

	/* the detector is not deaf: a digit mixed into that speech is found */
	struct dtmf_inband_tx *tx;
	assert_int_equal(dtmf_inband_tx_alloc(&tx), 0);
	assert_int_equal(dtmf_inband_tx_put(tx, "5", 120, 0), 0);
	int16_t tone[8 * 200] = { 0 };
	size_t got = dtmf_inband_tx_gen(tx, tone, 8 * 200);
	assert_true(got >= 8 * 120);
	for (size_t i = 0; i < got; i++) {
		int32_t v = pcm[8000 + i] / 4 + tone[i];
		pcm[8000 + i] = (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
	}
	feed(rx, pcm, n);
	assert_string_equal(r.begins, "5");
	dtmf_inband_tx_free(tx);

	/* and silence */
	memset(pcm, 0, n * sizeof(*pcm));
	feed(rx, pcm, n);
	assert_int_equal(r.nbegin, 1);
	free(pcm);
	dtmf_inband_rx_free(rx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inband_roundtrip),
		cmocka_unit_test(test_inband_no_false_digit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
