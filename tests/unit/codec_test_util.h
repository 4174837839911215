/*
 * Shared signal helpers for the codec tests (test_codec.c,
 * test_codec_transcode.c): a tone and white noise at a level in dBFS, the
 * RMS level of a buffer, the SNR of a decoded signal against its source
 * once the codec's delay is aligned by cross-correlation, and a Goertzel
 * scan for the amplitude and the strongest frequency of a tone.
 * Header-only (static inline) because each test file is its own binary;
 * include it once, from the test's .c file. Needs libm (config.mk links it).
 */
#ifndef HF_TESTS_CODEC_TEST_UTIL_H
#define HF_TESTS_CODEC_TEST_UTIL_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

/* 10^(db/20): the linear gain of a level in dB. */
static inline double db2lin(double db)
{
	return pow(10.0, db / 20.0);
}

/* A sine of hz at dbfs peak level, sampled at rate. */
static inline void sine(int16_t *b, size_t n, uint32_t rate, double hz, double dbfs)
{
	double a = 32767.0 * db2lin(dbfs);
	for (size_t i = 0; i < n; i++)
		b[i] = (int16_t)lround(a * sin(2.0 * M_PI * hz * (double)i / rate));
}

/* Uniform white noise at dbfs RMS (a deterministic LCG: reproducible). */
static inline void noise(int16_t *b, size_t n, double dbfs)
{
	double a = 32767.0 * db2lin(dbfs) * sqrt(3.0);
	uint32_t s = 12345;
	for (size_t i = 0; i < n; i++) {
		s = s * 1664525u + 1013904223u;
		b[i] = (int16_t)lround(a * ((double)(s >> 8) / (1 << 24) * 2.0 - 1.0));
	}
}

static inline double rms(const int16_t *b, size_t n)
{
	double e = 0;
	for (size_t i = 0; i < n; i++)
		e += (double)b[i] * b[i];
	return sqrt(e / (double)n);
}

/* The delay of out against ref (0..maxlag) that maximises their
 * correlation over a stretch after skip. */
static inline size_t best_lag(const int16_t *ref, const int16_t *out, size_t n,
			      size_t skip, size_t maxlag)
{
	size_t win = n - skip - maxlag, best = 0;
	double bestc = -1e300;
	if (win > 4800)
		win = 4800;
	for (size_t lag = 0; lag <= maxlag; lag++) {
		double c = 0;
		for (size_t i = skip; i < skip + win; i++)
			c += (double)ref[i] * out[i + lag];
		if (c > bestc) {
			bestc = c;
			best = lag;
		}
	}
	return best;
}

/* SNR in dB of out against ref once out's delay is taken out. */
static inline double snr_aligned(const int16_t *ref, const int16_t *out, size_t n,
				 size_t skip, size_t maxlag, size_t *lag_out)
{
	size_t lag = best_lag(ref, out, n, skip, maxlag);
	double s = 0, e = 0;
	for (size_t i = skip; i + lag < n && i < n - maxlag; i++) {
		double d = (double)out[i + lag] - ref[i];
		s += (double)ref[i] * ref[i];
		e += d * d;
	}
	if (lag_out)
		*lag_out = lag;
	return 10.0 * log10(s / (e > 0 ? e : 1e-9));
}

/* Amplitude of the hz component of x (Goertzel); exact when n holds a
 * whole number of its periods. */
static inline double goertzel_amp(const int16_t *x, size_t n, uint32_t rate, double hz)
{
	double c = 2 * cos(2 * M_PI * hz / rate), s1 = 0, s2 = 0;
	for (size_t i = 0; i < n; i++) {
		double s0 = x[i] + c * s1 - s2;
		s2 = s1;
		s1 = s0;
	}
	double p = s1 * s1 + s2 * s2 - c * s1 * s2;
	return 2 * sqrt(p > 0 ? p : 0) / (double)n;
}

/* The strongest frequency of x between 100 and 3900 Hz, in 10 Hz steps. */
static inline double peak_hz(const int16_t *x, size_t n, uint32_t rate)
{
	double best = 0, besta = -1;
	for (double hz = 100; hz < 3900; hz += 10) {
		double a = goertzel_amp(x, n, rate, hz);
		if (a > besta) {
			besta = a;
			best = hz;
		}
	}
	return best;
}

#endif
