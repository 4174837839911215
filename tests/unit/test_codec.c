/*
 * Unit tests for the codec layer (core/media/codec*.c, resample.c): the
 * descriptor table and lookups, G.711 against the ITU-T G.191 reference
 * code and G.711's own reference points, round-trip signal-to-noise
 * floors for every codec (measured with codec_test_util.h, after aligning
 * the codec's delay by cross-correlation), loss concealment and opus FEC, opus framing and
 * its RFC 7587 fmtp, and argument errors. test_codec_transcode.c covers
 * the resampler and the transcoder.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <opus.h>

#include "../../core/media/codecs/codec.h"
#include "codec_test_util.h"

#define SECONDS 2

/* --- codec round trip ----------------------------------------------------- */

/* Encodes in[] packet by packet (frame samples each), decodes every
 * packet, writes the decoded PCM to out[]; returns samples decoded. */
static size_t roundtrip(const struct codec_desc *d, const struct codec_params *p,
			const int16_t *in, size_t n, size_t frame, int16_t *out)
{
	struct codec_enc *enc;
	struct codec_dec *dec;
	uint8_t pkt[1500];
	size_t got = 0;

	assert_int_equal(codec_enc_alloc(&enc, d, p), 0);
	assert_int_equal(codec_dec_alloc(&dec, d, enc->rate), 0);
	for (size_t i = 0; i + frame <= n; i += frame) {
		int len = codec_encode(enc, in + i, frame, pkt, sizeof(pkt));
		assert_true(len > 0);
		int m = codec_decode(dec, pkt, (size_t)len, out + got, n - got);
		assert_int_equal(m, (int)frame);
		got += (size_t)m;
	}
	codec_enc_free(enc);
	codec_dec_free(dec);
	return got;
}

/* --- table and lookups ----------------------------------------------------- */

static void test_table(void **state)
{
	(void)state;
	assert_ptr_equal(codec_find(PL("PCMU"), 8000), &codec_pcmu);
	assert_ptr_equal(codec_find(PL("pcmu"), 8000), &codec_pcmu);
	assert_ptr_equal(codec_find(PL("PcMa"), 8000), &codec_pcma);
	assert_ptr_equal(codec_find(PL("g722"), 8000), &codec_g722);
	assert_ptr_equal(codec_find(PL("OPUS"), 48000), &codec_opus);
	assert_null(codec_find(PL("opus"), 8000));
	assert_null(codec_find(PL("G722"), 16000)); /* RFC 3551: the clock is 8000 */
	assert_null(codec_find(PL("PCM"), 8000));
	assert_null(codec_find(PL("PCMUX"), 8000));
	assert_null(codec_find(PL_NULL, 8000));
	assert_ptr_equal(codec_find_pt(0), &codec_pcmu);
	assert_ptr_equal(codec_find_pt(8), &codec_pcma);
	assert_ptr_equal(codec_find_pt(9), &codec_g722);
	assert_null(codec_find_pt(-1));
	assert_null(codec_find_pt(18));
	assert_null(codec_find_pt(111));

	size_t i = 0;
	while (codec_at(i))
		i++;
	assert_int_equal(i, 4);
	assert_int_equal(codec_g722.rtp_clock, 8000);
	assert_int_equal(codec_g722.pcm_rate, 16000);
	assert_int_equal(codec_opus.rtp_clock, 48000);
	assert_int_equal(codec_opus.pt, -1);
	assert_int_equal(codec_opus.channels, 2);
	assert_int_equal(codec_rtp_ticks(&codec_g722, 20), 160);
	assert_int_equal(codec_rtp_ticks(&codec_opus, 20), 960);
	assert_true(codec_rate_ok(&codec_opus, 16000));
	assert_false(codec_rate_ok(&codec_pcmu, 16000));
	assert_false(codec_rate_ok(&codec_g722, 44100));
}

/* --- G.711 ------------------------------------------------------------------ */

/* ITU-T G.191 STL g711.c, transcribed as the reference. */
static int stl_ulaw_compress(int16_t x)
{
	int absno = x < 0 ? ((~x) >> 2) + 33 : (x >> 2) + 33;
	if (absno > 0x1FFF)
		absno = 0x1FFF;
	int i = absno >> 6, segno = 1;
	while (i != 0) {
		segno++;
		i >>= 1;
	}
	int high = 8 - segno, low = 0xF - ((absno >> segno) & 0xF);
	int r = (high << 4) | low;
	return x >= 0 ? r | 0x80 : r;
}

static int stl_alaw_compress(int16_t x)
{
	int ix = x < 0 ? (~x) >> 4 : x >> 4;
	if (ix > 15) {
		int iexp = 1;
		while (ix > 16 + 15) {
			ix >>= 1;
			iexp++;
		}
		ix -= 16;
		ix += iexp << 4;
	}
	if (x >= 0)
		ix |= 0x80;
	return ix ^ 0x55;
}

static int stl_ulaw_expand(int c)
{
	int sign = c < 0x80 ? -1 : 1, m = ~c;
	int exponent = (m >> 4) & 7, segment = exponent + 1;
	m &= 0xF;
	int step = 4 << segment;
	return sign * ((0x80 << exponent) + step * m + step / 2 - 4 * 33);
}

static int stl_alaw_expand(int c)
{
	int ix = (c ^ 0x55) & 0x7F, iexp = ix >> 4, mant = ix & 0xF;
	if (iexp > 0)
		mant += 16;
	mant = (mant << 4) + 8;
	if (iexp > 1)
		mant <<= iexp - 1;
	return c > 127 ? mant : -mant;
}

static int enc1(struct codec_enc *e, int16_t x)
{
	uint8_t b;
	assert_int_equal(codec_encode(e, &x, 1, &b, 1), 1);
	return b;
}

static int dec1(struct codec_dec *d, uint8_t c)
{
	int16_t x;
	assert_int_equal(codec_decode(d, &c, 1, &x, 1), 1);
	return x;
}

static void test_g711_reference_points(void **state)
{
	(void)state;
	struct codec_enc *u, *a;
	struct codec_dec *ud, *ad;
	assert_int_equal(codec_enc_alloc(&u, &codec_pcmu, NULL), 0);
	assert_int_equal(codec_enc_alloc(&a, &codec_pcma, NULL), 0);
	assert_int_equal(codec_dec_alloc(&ud, &codec_pcmu, 0), 0);
	assert_int_equal(codec_dec_alloc(&ad, &codec_pcma, 0), 0);

	/* mu-law: zero is 0xFF, the negative zero 0x7F, full scale 0x80/0x00,
	 * and the largest output level is 8031 in 14-bit units (G.711 table 2) */
	assert_int_equal(enc1(u, 0), 0xFF);
	assert_int_equal(enc1(u, -1), 0x7F);
	assert_int_equal(enc1(u, 32767), 0x80);
	assert_int_equal(enc1(u, -32768), 0x00);
	assert_int_equal(dec1(ud, 0xFF), 0);
	assert_int_equal(dec1(ud, 0x7F), 0);
	assert_int_equal(dec1(ud, 0x80), 8031 * 4);
	assert_int_equal(dec1(ud, 0x00), -8031 * 4);
	/* G.711 table 2a in 14-bit units: decision values 1, 3, 5, ... 29,
	 * 31 with outputs 0, 2, 4, ... 30; decision value 31 opens the next
	 * segment, whose first output is 33 (steps of 4) */
	assert_int_equal(enc1(u, 1 * 4), 0xFE);
	assert_int_equal(enc1(u, 2 * 4), 0xFE);
	assert_int_equal(enc1(u, 3 * 4), 0xFD);
	assert_int_equal(dec1(ud, 0xFE), 2 * 4);
	assert_int_equal(enc1(u, 30 * 4), 0xF0);
	assert_int_equal(dec1(ud, 0xF0), 30 * 4);
	assert_int_equal(enc1(u, 31 * 4), 0xEF);
	assert_int_equal(dec1(ud, 0xEF), 33 * 4);
	/* A-law: zero is 0xD5 (even bits inverted), -1 its negative 0x55;
	 * the largest level is 4032 in 13-bit units (G.711 table 1) */
	assert_int_equal(enc1(a, 0), 0xD5);
	assert_int_equal(enc1(a, -1), 0x55);
	assert_int_equal(enc1(a, 32767), 0xAA);
	assert_int_equal(enc1(a, -32768), 0x2A);
	assert_int_equal(dec1(ad, 0xD5), 1 * 8);
	assert_int_equal(dec1(ad, 0x55), -1 * 8);
	/* G.711 table 1 in 13-bit units: 0..1 -> 1, 2..3 -> 3 (steps of 2);
	 * decision value 32 opens segment 2, output 33 */
	assert_int_equal(enc1(a, 2 * 8), 0xD4);
	assert_int_equal(dec1(ad, 0xD4), 3 * 8);
	assert_int_equal(enc1(a, 31 * 8), 0xDA);
	assert_int_equal(enc1(a, 32 * 8), 0xC5);
	assert_int_equal(dec1(ad, 0xC5), 33 * 8);
	assert_int_equal(dec1(ad, 0xAA), 4032 * 8);
	assert_int_equal(dec1(ad, 0x2A), -4032 * 8);

	codec_enc_free(u);
	codec_enc_free(a);
	codec_dec_free(ud);
	codec_dec_free(ad);
}

static void test_g711_full_tables(void **state)
{
	(void)state;
	static int16_t pcm[65536];
	static uint8_t code[65536];
	static int16_t back[256];
	uint8_t all[256];
	struct codec_enc *e;
	struct codec_dec *d;

	for (int i = 0; i < 65536; i++)
		pcm[i] = (int16_t)(i - 32768);
	for (int i = 0; i < 256; i++)
		all[i] = (uint8_t)i;

	for (int law = 0; law < 2; law++) {
		const struct codec_desc *desc = law ? &codec_pcma : &codec_pcmu;
		assert_int_equal(codec_enc_alloc(&e, desc, NULL), 0);
		assert_int_equal(codec_dec_alloc(&d, desc, 0), 0);
		assert_int_equal(codec_encode(e, pcm, 65536, code, sizeof(code)), 65536);
		for (int i = 0; i < 65536; i++) {
			int ref = law ? stl_alaw_compress(pcm[i]) : stl_ulaw_compress(pcm[i]);
			if (code[i] != ref)
				fail_msg("%s encode(%d) = 0x%02x, G.191 says 0x%02x",
					 desc->name, pcm[i], code[i], ref);
		}
		assert_int_equal(codec_decode(d, all, 256, back, 256), 256);
		for (int c = 0; c < 256; c++) {
			int ref = law ? stl_alaw_expand(c) : stl_ulaw_expand(c);
			assert_int_equal(back[c], ref);
			/* and every code survives a round trip through its level */
			int16_t lvl = back[c];
			uint8_t again;
			assert_int_equal(codec_encode(e, &lvl, 1, &again, 1), 1);
			if (c != 0x7F || law) /* mu-law's -0 level is +0 */
				assert_int_equal(again, c);
		}
		codec_enc_free(e);
		codec_dec_free(d);
	}
}

static void snr_case(const struct codec_desc *d, uint32_t rate, const int16_t *in,
		     size_t n, size_t maxlag, double floor, const char *what)
{
	int16_t *out = calloc(n, sizeof(int16_t));
	size_t lag;
	assert_non_null(out);
	size_t got = roundtrip(d, NULL, in, n, rate / 50, out);
	double snr = snr_aligned(in, out, got, rate / 10, maxlag, &lag);
	print_message("  %-5s %-22s SNR %5.1f dB (floor %.0f), delay %zu samples\n",
		      d->name, what, snr, floor, lag);
	assert_true(snr > floor);
	free(out);
}

static void test_g711_snr(void **state)
{
	(void)state;
	size_t n = 8000 * SECONDS;
	int16_t *in = malloc(n * sizeof(int16_t));
	assert_non_null(in);
	sine(in, n, 8000, 1000, -10);
	snr_case(&codec_pcmu, 8000, in, n, 0, 35, "1 kHz sine -10 dBFS");
	snr_case(&codec_pcma, 8000, in, n, 0, 35, "1 kHz sine -10 dBFS");
	/* 1 kHz at 8 kHz takes only five sample values; 1020 Hz (the ITU
	 * test tone, chosen for that reason) takes them all */
	sine(in, n, 8000, 1020, -10);
	snr_case(&codec_pcmu, 8000, in, n, 0, 35, "1020 Hz sine -10 dBFS");
	snr_case(&codec_pcma, 8000, in, n, 0, 35, "1020 Hz sine -10 dBFS");
	noise(in, n, -10);
	snr_case(&codec_pcmu, 8000, in, n, 0, 35, "white noise -10 dBFS");
	snr_case(&codec_pcma, 8000, in, n, 0, 35, "white noise -10 dBFS");
	/* the log law keeps the SNR steady 30 dB down, where linear 8-bit
	 * PCM would be at ~14 dB */
	noise(in, n, -40);
	snr_case(&codec_pcmu, 8000, in, n, 0, 33, "white noise -40 dBFS");
	snr_case(&codec_pcma, 8000, in, n, 0, 30, "white noise -40 dBFS");
	free(in);
}

static void test_g722_snr(void **state)
{
	(void)state;
	size_t n = 16000 * SECONDS;
	int16_t *in = malloc(n * sizeof(int16_t));
	assert_non_null(in);
	sine(in, n, 16000, 1000, -10);
	snr_case(&codec_g722, 16000, in, n, 200, 20, "1 kHz sine -10 dBFS");
	noise(in, n, -10);
	/* white noise puts half its power in the upper sub-band, which G.722
	 * codes with 2 bits a sample: ~10 dB is what the codec does */
	snr_case(&codec_g722, 16000, in, n, 200, 8, "white noise -10 dBFS");
	free(in);
}

static void test_opus_snr(void **state)
{
	(void)state;
	size_t n = 48000 * SECONDS;
	int16_t *in = malloc(n * sizeof(int16_t));
	assert_non_null(in);
	sine(in, n, 48000, 1000, -10);
	snr_case(&codec_opus, 48000, in, n, 2000, 10, "1 kHz sine -10 dBFS 24k");
	free(in);
}

/* low_cpu: every packet is CELT-only (TOC configurations 16-31, RFC 6716
 * 3.1) and a 1 kHz tone at 8 kHz comes back at its level and frequency. */
static void test_opus_low_cpu(void **state)
{
	(void)state;
	struct codec_params p;
	codec_params_default(&p);
	p.pcm_rate = 8000;
	p.low_cpu = true;
	p.complexity = 0;
	struct codec_enc *e;
	struct codec_dec *d;
	assert_int_equal(codec_enc_alloc(&e, &codec_opus, &p), 0);
	assert_int_equal(codec_dec_alloc(&d, &codec_opus, 8000), 0);
	size_t n = 8000; /* one second */
	int16_t *in = malloc(n * sizeof(int16_t)), *out = calloc(n, sizeof(int16_t));
	assert_non_null(in);
	assert_non_null(out);
	sine(in, n, 8000, 1000, -10);
	uint8_t pkt[400];
	for (size_t off = 0; off + 160 <= n; off += 160) {
		int len = codec_encode(e, in + off, 160, pkt, sizeof(pkt));
		assert_true(len > 0);
		assert_true((pkt[0] >> 3) >= 16);
		assert_int_equal(codec_decode(d, pkt, (size_t)len, out + off, 160), 160);
	}
	/* skip the codec's start-up, compare levels over the rest */
	double ein = 0, eout = 0;
	for (size_t i = 2000; i < n; i++) {
		ein += (double)in[i] * in[i];
		eout += (double)out[i] * out[i];
	}
	double db = 10 * log10(eout / ein);
	assert_true(db > -3 && db < 3);
	free(in);
	free(out);
	codec_enc_free(e);
	codec_dec_free(d);
}

/* A perceptual coder does not keep the waveform of noise (SNR ~0 dB is
 * normal), so for noise we check that the level survives instead. */
static void test_opus_noise_level(void **state)
{
	(void)state;
	size_t n = 48000 * SECONDS;
	int16_t *in = malloc(n * sizeof(int16_t)), *out = calloc(n, sizeof(int16_t));
	assert_non_null(in);
	assert_non_null(out);
	noise(in, n, -20);
	size_t got = roundtrip(&codec_opus, NULL, in, n, 960, out);
	double db = 20 * log10(rms(out + 4800, got - 4800) / rms(in + 4800, got - 4800));
	print_message("  opus  white noise -20 dBFS   level %+.1f dB\n", db);
	assert_true(fabs(db) < 3.0);
	free(in);
	free(out);
}

/* --- loss concealment --------------------------------------------------------- */

/* Normalised correlation of a and b: 1 when one is the other scaled. */
static double ncorr(const int16_t *a, const int16_t *b, size_t n)
{
	double ab = 0, aa = 0, bb = 0;
	for (size_t i = 0; i < n; i++) {
		ab += (double)a[i] * b[i];
		aa += (double)a[i] * a[i];
		bb += (double)b[i] * b[i];
	}
	return aa > 0 && bb > 0 ? ab / sqrt(aa * bb) : 0;
}

/* Two decoders get the same packets of a 440 Hz tone; at packet `lost`
 * one conceals instead. Its output must carry on the tone: nearly the
 * level and the shape of what the other decoded. */
static void plc_case(const struct codec_desc *d)
{
	enum { LOST = 10 };
	struct codec_enc *enc;
	struct codec_dec *ok, *cc;
	uint32_t rate = d->pcm_rate;
	size_t frame = rate / 50;
	int16_t *in = malloc((LOST + 5) * frame * sizeof(int16_t));
	int16_t good[960], conc[960], prev[960];
	uint8_t pkt[1500];

	assert_non_null(in);
	sine(in, (LOST + 5) * frame, rate, 440, -10);
	assert_int_equal(codec_enc_alloc(&enc, d, NULL), 0);
	assert_int_equal(codec_dec_alloc(&ok, d, 0), 0);
	assert_int_equal(codec_dec_alloc(&cc, d, 0), 0);
	for (int k = 0; k <= LOST; k++) {
		int len = codec_encode(enc, in + k * frame, frame, pkt, sizeof(pkt));
		assert_true(len > 0);
		memcpy(prev, good, sizeof(prev));
		assert_int_equal(codec_decode(ok, pkt, (size_t)len, good, frame), (int)frame);
		if (k < LOST)
			assert_int_equal(codec_decode(cc, pkt, (size_t)len, conc, frame), (int)frame);
		else
			assert_int_equal(codec_plc(cc, conc, frame), (int)frame);
	}
	double lvl = 20 * log10(rms(conc, frame) / rms(prev, frame));
	double shape = ncorr(conc, good, frame / 2);
	print_message("  %-5s PLC of a 440 Hz tone: level %+.1f dB, correlation %.2f\n",
		      d->name, lvl, shape);
	assert_true(lvl > -6.0 && lvl < 3.0);
	assert_true(shape > 0.7);
	/* repeated losses fade out rather than buzz on */
	double last = 0;
	for (int k = 0; k < 10; k++) {
		assert_int_equal(codec_plc(cc, conc, frame), (int)frame);
		last = rms(conc, frame);
	}
	assert_true(last < rms(prev, frame) / 10);
	codec_enc_free(enc);
	codec_dec_free(ok);
	codec_dec_free(cc);
	free(in);
}

static void test_plc(void **state)
{
	(void)state;
	plc_case(&codec_pcmu);
	plc_case(&codec_pcma);
	plc_case(&codec_g722);
	plc_case(&codec_opus);
}

/* Packet LOST carries a change of pitch (440 -> 880 Hz); the PLC can only
 * extrapolate the old one, the FEC copy in the next packet knows the new
 * one. */
static void test_opus_fec(void **state)
{
	(void)state;
	enum { LOST = 30, N = 40, F = 960 };
	struct codec_params p;
	struct codec_enc *enc;
	struct codec_dec *ref, *fec, *plc;
	static int16_t in[N * F];
	int16_t a[F], b[F], c[F];
	uint8_t pkt[N][400];
	int len[N];

	for (int i = 0; i < N * F; i++)
		in[i] = (int16_t)lround(10000 * sin(2 * M_PI * (i < LOST * F ? 440 : 880) * i / 48000.0));
	codec_params_default(&p);
	p.loss_pct = 20;
	assert_int_equal(codec_enc_alloc(&enc, &codec_opus, &p), 0);
	for (int k = 0; k < N; k++) {
		len[k] = codec_encode(enc, in + k * F, F, pkt[k], sizeof(pkt[k]));
		assert_true(len[k] > 0);
	}
	assert_int_equal(codec_dec_alloc(&ref, &codec_opus, 0), 0);
	assert_int_equal(codec_dec_alloc(&fec, &codec_opus, 0), 0);
	assert_int_equal(codec_dec_alloc(&plc, &codec_opus, 0), 0);
	for (int k = 0; k < LOST; k++) {
		assert_int_equal(codec_decode(ref, pkt[k], (size_t)len[k], a, F), F);
		assert_int_equal(codec_decode(fec, pkt[k], (size_t)len[k], b, F), F);
		assert_int_equal(codec_decode(plc, pkt[k], (size_t)len[k], c, F), F);
	}
	assert_int_equal(codec_decode(ref, pkt[LOST], (size_t)len[LOST], a, F), F);
	assert_int_equal(codec_decode_fec(fec, pkt[LOST + 1], (size_t)len[LOST + 1], b, F), F);
	assert_int_equal(codec_plc(plc, c, F), F);
	double cf = ncorr(a + F / 2, b + F / 2, F / 2), cp = ncorr(a + F / 2, c + F / 2, F / 2);
	print_message("  opus  lost frame vs decoded: FEC correlation %.2f, PLC %.2f\n", cf, cp);
	assert_true(cf > 0.5);
	assert_true(cf > cp + 0.2);
	/* the next packet then decodes normally */
	assert_int_equal(codec_decode(fec, pkt[LOST + 1], (size_t)len[LOST + 1], b, F), F);
	/* with no next packet it is plain PLC */
	assert_int_equal(codec_decode_fec(fec, NULL, 0, b, F), F);
	codec_enc_free(enc);
	codec_dec_free(ref);
	codec_dec_free(fec);
	codec_dec_free(plc);
}

/* --- opus framing and fmtp ------------------------------------------------------ */

static void test_opus_ptimes(void **state)
{
	(void)state;
	static const unsigned ms[] = { 10, 20, 30, 40, 50, 60, 80, 90, 120 };
	static int16_t in[48 * 120], out[48 * 120];
	struct codec_enc *enc;
	struct codec_dec *dec;
	uint8_t pkt[1500];

	sine(in, 48 * 120, 48000, 1000, -10);
	assert_int_equal(codec_enc_alloc(&enc, &codec_opus, NULL), 0);
	assert_int_equal(codec_dec_alloc(&dec, &codec_opus, 0), 0);
	for (size_t i = 0; i < sizeof(ms) / sizeof(ms[0]); i++) {
		size_t n = 48 * ms[i];
		int len = codec_encode(enc, in, n, pkt, sizeof(pkt));
		assert_true(len > 0);
		assert_int_equal(codec_dec_samples(dec, pkt, (size_t)len), (int)n);
		assert_int_equal(codec_decode(dec, pkt, (size_t)len, out, n), (int)n);
		/* a buffer one frame short is refused, not overrun */
		assert_int_equal(codec_decode(dec, pkt, (size_t)len, out, n - 1), -ENOBUFS);
	}
	assert_int_equal(codec_encode(enc, in, 48 * 25, pkt, sizeof(pkt)), -EINVAL);
	assert_int_equal(codec_encode(enc, in, 7, pkt, sizeof(pkt)), -EINVAL);
	assert_int_equal(codec_encode(enc, in, 48 * 30, pkt, 4), -ENOBUFS);
	/* 2.5 ms steps only for PLC */
	assert_int_equal(codec_plc(dec, out, 100), -EINVAL);
	assert_int_equal(codec_plc(dec, out, 120), 120);
	/* corrupt: code 3 packet announcing zero frames */
	uint8_t bad[2] = { 0x03, 0x00 };
	assert_int_equal(codec_decode(dec, bad, 2, out, 960), -EBADMSG);
	assert_int_equal(codec_dec_samples(dec, bad, 2), -EBADMSG);
	codec_enc_free(enc);
	codec_dec_free(dec);

	/* at 8 kHz (as the transcoder may run it next to G.711): 20 ms is
	 * 160 samples whatever the encoder's rate */
	assert_int_equal(codec_dec_alloc(&dec, &codec_opus, 8000), 0);
	assert_int_equal(codec_enc_alloc(&enc, &codec_opus, NULL), 0);
	int len = codec_encode(enc, in, 960, pkt, sizeof(pkt));
	assert_true(len > 0);
	assert_int_equal(codec_decode(dec, pkt, (size_t)len, out, 160), 160);
	codec_enc_free(enc);
	codec_dec_free(dec);
}

static void test_opus_fmtp(void **state)
{
	(void)state;
	struct codec_params p;
	char buf[100];

	assert_int_equal(codec_opus_fmtp_print(buf, sizeof(buf), 48000),
			 (int)strlen("maxplaybackrate=48000;useinbandfec=1;stereo=0"));
	assert_string_equal(buf, "maxplaybackrate=48000;useinbandfec=1;stereo=0");
	/* narrower than fullband: we say we send no more either */
	assert_int_equal(codec_opus_fmtp_print(buf, sizeof(buf), 16000),
			 (int)strlen("maxplaybackrate=16000;sprop-maxcapturerate=16000;useinbandfec=1;stereo=0"));
	assert_string_equal(buf, "maxplaybackrate=16000;sprop-maxcapturerate=16000;useinbandfec=1;stereo=0");
	assert_int_equal(codec_opus_fmtp_print(buf, 10, 16000), -ENOBUFS);

	codec_params_default(&p);
	codec_opus_fmtp_apply(PL("maxplaybackrate=16000; useinbandfec=1;stereo=1;"
				 "sprop-stereo=1;CBR=1;maxaveragebitrate=20000"), &p);
	assert_int_equal(p.max_playback, 16000);
	assert_true(p.fec);
	assert_true(p.cbr);
	assert_int_equal(p.bitrate, 20000);

	/* RFC 7587: no useinbandfec means 0; junk and out-of-range values are
	 * skipped; a higher maxaveragebitrate does not raise ours */
	codec_params_default(&p);
	codec_opus_fmtp_apply(PL("maxplaybackrate=abc;maxaveragebitrate=64000;"
				 "cbr=2;;=;foo;usedtx=1"), &p);
	assert_false(p.fec);
	assert_false(p.cbr);
	assert_int_equal(p.max_playback, 48000);
	assert_int_equal(p.bitrate, 24000);
	codec_params_default(&p);
	codec_opus_fmtp_apply(PL("maxplaybackrate=4000"), &p);
	assert_int_equal(p.max_playback, 48000);
	codec_params_default(&p);
	codec_opus_fmtp_apply(PL_NULL, &p); /* no fmtp at all */
	assert_false(p.fec);
	assert_int_equal(p.bitrate, 24000);

	/* the parameters reach the encoder: narrowband and constant size */
	struct codec_enc *enc;
	static int16_t in[960 * 10];
	uint8_t pkt[400];
	int first = 0;
	noise(in, 960 * 10, -20);
	codec_params_default(&p);
	codec_opus_fmtp_apply(PL("maxplaybackrate=8000;cbr=1"), &p);
	assert_int_equal(codec_enc_alloc(&enc, &codec_opus, &p), 0);
	for (int k = 0; k < 10; k++) {
		int len = codec_encode(enc, in + 960 * k, 960, pkt, sizeof(pkt));
		assert_true(len > 0);
		assert_int_equal(opus_packet_get_bandwidth(pkt), OPUS_BANDWIDTH_NARROWBAND);
		if (k == 0)
			first = len;
		assert_int_equal(len, first);
	}
	assert_int_equal(first, 24000 / 8 / 50);
	/* and can change on a live encoder */
	p.max_playback = 48000;
	p.bitrate = 32000;
	assert_int_equal(codec_enc_set(enc, &p), 0);
	int len = codec_encode(enc, in, 960, pkt, sizeof(pkt));
	assert_int_equal(len, 32000 / 8 / 50);
	p.bitrate = 1;
	assert_int_equal(codec_enc_set(enc, &p), EINVAL);
	codec_enc_free(enc);
}

/* --- arguments ------------------------------------------------------------------- */

static void test_errors(void **state)
{
	(void)state;
	struct codec_params p;
	struct codec_enc *e;
	struct codec_dec *d;
	int16_t pcm[320] = { 0 };
	uint8_t out[320];

	assert_int_equal(codec_enc_alloc(NULL, &codec_pcmu, NULL), EINVAL);
	assert_int_equal(codec_enc_alloc(&e, NULL, NULL), EINVAL);
	codec_params_default(&p);
	p.pcm_rate = 16000;
	assert_int_equal(codec_enc_alloc(&e, &codec_pcmu, &p), EINVAL);
	p.pcm_rate = 44100;
	assert_int_equal(codec_enc_alloc(&e, &codec_opus, &p), EINVAL);
	codec_params_default(&p);
	p.complexity = 11;
	assert_int_equal(codec_enc_alloc(&e, &codec_opus, &p), EINVAL);
	assert_int_equal(codec_dec_alloc(&d, &codec_g722, 48000), EINVAL);
	codec_enc_free(NULL);
	codec_dec_free(NULL);
	codec_params_default(&p);

	assert_int_equal(codec_enc_alloc(&e, &codec_pcmu, NULL), 0);
	assert_int_equal(codec_encode(e, pcm, 160, out, 159), -ENOBUFS);
	assert_int_equal(codec_encode(e, pcm, 0, out, 160), -EINVAL);
	assert_int_equal(codec_encode(e, NULL, 160, out, 160), -EINVAL);
	assert_int_equal(codec_enc_set(e, &p), 0); /* accepted, nothing to do */
	codec_enc_free(e);

	assert_int_equal(codec_enc_alloc(&e, &codec_g722, NULL), 0);
	assert_int_equal(e->rate, 16000);
	assert_int_equal(codec_encode(e, pcm, 319, out, 320), -EINVAL);
	assert_int_equal(codec_encode(e, pcm, 320, out, 159), -ENOBUFS);
	assert_int_equal(codec_encode(e, pcm, 320, out, 160), 160);
	codec_enc_free(e);

	assert_int_equal(codec_dec_alloc(&d, &codec_g722, 0), 0);
	assert_int_equal(codec_dec_samples(d, out, 160), 320);
	assert_int_equal(codec_decode(d, out, 160, pcm, 319), -ENOBUFS);
	assert_int_equal(codec_decode(d, out, 0, pcm, 320), -EINVAL);
	assert_int_equal(codec_plc(d, pcm, 0), -EINVAL);
	codec_dec_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_g711_reference_points),
		cmocka_unit_test(test_g711_full_tables),
		cmocka_unit_test(test_g711_snr),
		cmocka_unit_test(test_g722_snr),
		cmocka_unit_test(test_opus_snr),
		cmocka_unit_test(test_opus_noise_level),
		cmocka_unit_test(test_opus_low_cpu),
		cmocka_unit_test(test_plc),
		cmocka_unit_test(test_opus_fec),
		cmocka_unit_test(test_opus_ptimes),
		cmocka_unit_test(test_opus_fmtp),
		cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
