/*
 * Unit tests for the conversion path of the codec layer: the resampler
 * (core/media/codecs/resample.c) and the transcoder (codec_transcode.c). A tone
 * goes in through one codec and must come out of another at the same
 * frequency (found by a Goertzel scan) and level; packet times convert
 * with the right packet sizes and counts; losses, bursts, bad payloads
 * and short buffers are handled. The codecs themselves are tested in
 * test_codec.c; the signal helpers both use are in codec_test_util.h.
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

#include "../../core/media/codecs/codec.h"
#include "../../core/media/codecs/resample.h"
#include "codec_test_util.h"

/* --- resampler -------------------------------------------------------------------- */

static void test_resample(void **state)
{
	(void)state;
	static const uint32_t rates[][2] = { { 8000, 48000 }, { 8000, 16000 }, { 16000, 48000 } };
	enum { MS = 1000 };

	for (size_t r = 0; r < 3; r++) {
		uint32_t lo = rates[r][0], hi = rates[r][1];
		struct resampler *up, *down;
		size_t nlo = lo / 1000 * MS, nhi = hi / 1000 * MS;
		int16_t *a = malloc(nlo * 2), *b = malloc(nhi * 2 + 64), *c = calloc(nlo + 32, 2);
		size_t fl = lo / 50, fh = hi / 50, gotb = 0, gotc = 0;

		assert_true(a && b && c);
		sine(a, nlo, lo, 1020, -10);
		assert_int_equal(resampler_alloc(&up, lo, hi, RESAMPLER_QUALITY_VOIP), 0);
		assert_int_equal(resampler_alloc(&down, hi, lo, RESAMPLER_QUALITY_VOIP), 0);
		/* 20 ms frames in give exactly 20 ms frames out */
		for (size_t i = 0; i + fl <= nlo; i += fl) {
			int m = resampler_run(up, a + i, fl, b + gotb, nhi + 32 - gotb);
			assert_int_equal(m, (int)fh);
			gotb += (size_t)m;
		}
		for (size_t i = 0; i + fh <= gotb; i += fh) {
			int m = resampler_run(down, b + i, fh, c + gotc, nlo + 32 - gotc);
			assert_int_equal(m, (int)fl);
			gotc += (size_t)m;
		}
		size_t lag;
		double snr = snr_aligned(a, c, gotc, lo / 10, lo / 20, &lag);
		print_message("  resample %u -> %u -> %u: SNR %.1f dB, delay %zu (reported %u+%u)\n",
			      lo, hi, lo, snr, lag, resampler_delay(up), resampler_delay(down));
		assert_true(snr > 30);
		assert_int_equal(resampler_run(up, a, fl, b, fh - 1), -ENOBUFS);
		resampler_reset(up);
		resampler_free(up);
		resampler_free(down);
		free(a);
		free(b);
		free(c);
	}
	/* going down, what the lower rate cannot carry is filtered, not
	 * folded back as an alias: a 6 kHz tone at 48 kHz (or 5 kHz at 16)
	 * must all but vanish at 8 kHz */
	static const uint32_t hz[][2] = { { 48000, 6000 }, { 16000, 5000 } };
	for (size_t r = 0; r < 2; r++) {
		struct resampler *down;
		uint32_t rate = hz[r][0];
		size_t f = rate / 50;
		int16_t *a = malloc(rate / 10 * 2), o[200];
		double e = 0, ein = 0;
		assert_non_null(a);
		sine(a, rate / 10, rate, hz[r][1], -10);
		assert_int_equal(resampler_alloc(&down, rate, 8000, RESAMPLER_QUALITY_VOIP), 0);
		for (size_t i = 0; i + f <= rate / 10; i += f) {
			int m = resampler_run(down, a + i, f, o, 200);
			assert_int_equal(m, 160);
			e += rms(o + 40, 120);
			ein += rms(a + i, f);
		}
		double att = 20 * log10(e / ein);
		print_message("  resample %u -> 8000 of %u Hz: %.1f dB\n", rate, hz[r][1], att);
		assert_true(att < -40);
		resampler_free(down);
		free(a);
	}
	struct resampler *rs;
	assert_int_equal(resampler_alloc(&rs, 0, 8000, 3), EINVAL);
	assert_int_equal(resampler_alloc(&rs, 8000, 8000, 11), EINVAL);
	resampler_free(NULL);
}

/* --- transcoding ------------------------------------------------------------ */

#define TONE_HZ 440
#define TONE_DB (-10.0)
#define TONE_MS 1500

/* A 440 Hz tone coded with `from` at from_ptime, transcoded to `to` at
 * to_ptime, decoded: checks packet count and size, frequency and level. */
static void tone_case(const struct codec_desc *from, unsigned fp,
		      const struct codec_desc *to, unsigned tp, bool native)
{
	struct transcoder_opts opts = { .native_rate = native };
	struct transcoder *t;
	struct codec_enc *enc;
	struct codec_dec *dec;
	uint32_t rin = from->pcm_rate, rout = to->pcm_rate;
	size_t fin = codec_samples(rin, fp), nin = codec_samples(rin, TONE_MS);
	size_t nout = codec_samples(rout, TONE_MS), got = 0, npk = 0;
	int16_t *in = malloc(nin * sizeof(int16_t)), *out = calloc(nout, sizeof(int16_t));
	uint8_t pkt[1500];

	assert_true(in && out);
	sine(in, nin, rin, TONE_HZ, TONE_DB);
	assert_int_equal(transcoder_alloc(&t, from, fp, to, tp, &opts), 0);
	assert_int_equal(codec_enc_alloc(&enc, from, NULL), 0);
	assert_int_equal(codec_dec_alloc(&dec, to, 0), 0);
	for (size_t i = 0; i + fin <= nin; i += fin) {
		int len = codec_encode(enc, in + i, fin, pkt, sizeof(pkt));
		assert_true(len > 0);
		assert_int_equal(transcoder_push(t, pkt, (size_t)len), 0);
		while ((len = transcoder_pull(t, pkt, sizeof(pkt))) > 0) {
			int m = codec_decode(dec, pkt, (size_t)len, out + got, nout - got);
			assert_int_equal(m, (int)codec_samples(rout, tp));
			if (to != &codec_opus)
				assert_int_equal(len, (int)codec_rtp_ticks(to, tp));
			got += (size_t)m;
			npk++;
		}
		assert_int_equal(len, 0);
	}
	assert_int_equal(npk, TONE_MS / tp);

	/* half a second from 0.5 s on: 220 whole periods of 440 Hz */
	size_t n = rout / 2;
	double hz = peak_hz(out + rout / 2, n, rout);
	double amp = goertzel_amp(out + rout / 2, n, rout, TONE_HZ);
	double db = 20 * log10(amp / (32767.0 * db2lin(TONE_DB)));
	/* whatever is not the tone: coding noise, and the clicks a sample
	 * lost or doubled where packets are cut and joined would make (each
	 * one shifts the phase of all that follows: far below 15 dB). The
	 * worst honest path, opus coding 8 kHz input, measures ~21 dB */
	double r = rms(out + rout / 2, n), tone = amp * amp / 2;
	double rest = r * r - tone;
	double tnr = 10 * log10(tone / (rest > 1e-3 ? rest : 1e-3));
	print_message("  %-4s %3u ms -> %-4s %3u ms%s: %3zu packets, peak %.0f Hz, level %+.2f dB, "
		      "tone/rest %.1f dB\n", from->name, fp, to->name, tp,
		      native ? " (native)" : "", npk, hz, db, tnr);
	assert_true(tnr > 15);
	assert_true(hz >= TONE_HZ - 10 && hz <= TONE_HZ + 10);
	assert_true(db > -3.0 && db < 3.0);

	struct transcoder_stats st;
	transcoder_get_stats(t, &st);
	assert_int_equal(st.pushed, nin / fin);
	assert_int_equal(st.pulled, npk);
	assert_int_equal(st.overrun + st.bad + st.lost, 0);
	transcoder_free(t);
	codec_enc_free(enc);
	codec_dec_free(dec);
	free(in);
	free(out);
}

static void test_tone_paths(void **state)
{
	(void)state;
	for (int native = 0; native < 2; native++) {
		tone_case(&codec_opus, 20, &codec_pcmu, 20, native);
		tone_case(&codec_pcmu, 20, &codec_g722, 20, native);
		tone_case(&codec_g722, 20, &codec_opus, 20, native);
		tone_case(&codec_pcmu, 20, &codec_opus, 20, native);
	}
	tone_case(&codec_pcma, 20, &codec_pcmu, 20, false);
	tone_case(&codec_g722, 20, &codec_pcma, 20, true);
}

static void test_ptime_conversion(void **state)
{
	(void)state;
	/* same codec: pure repacketisation, checked packet by packet */
	static const unsigned cases[][2] = { { 20, 30 }, { 30, 20 }, { 10, 40 }, { 40, 10 } };
	for (size_t c = 0; c < 4; c++) {
		unsigned fp = cases[c][0], tp = cases[c][1];
		struct transcoder *t;
		uint8_t in[320], out[400];
		size_t acc = 0, npk = 0;
		memset(in, 0xFF, sizeof(in)); /* mu-law silence */
		assert_int_equal(transcoder_alloc(&t, &codec_pcmu, fp, &codec_pcmu, tp, NULL), 0);
		for (unsigned k = 0; k < 600 / fp; k++) {
			int len;
			assert_int_equal(transcoder_push(t, in, 8 * fp), 0);
			acc += fp;
			size_t before = npk;
			while ((len = transcoder_pull(t, out, sizeof(out))) > 0) {
				assert_int_equal(len, (int)(8 * tp));
				npk++;
			}
			/* a packet leaves as soon as there is enough audio for it */
			assert_int_equal(npk - before, acc / tp - before);
		}
		assert_int_equal(npk, 600 / tp);
		transcoder_free(t);
	}
	/* across codecs and rates */
	tone_case(&codec_pcmu, 20, &codec_pcma, 30, false);
	tone_case(&codec_pcma, 30, &codec_pcmu, 20, false);
	tone_case(&codec_opus, 20, &codec_pcmu, 30, false);
	tone_case(&codec_pcmu, 30, &codec_opus, 20, true);
	tone_case(&codec_pcmu, 20, &codec_opus, 30, false);
	tone_case(&codec_g722, 30, &codec_opus, 60, false);
	tone_case(&codec_opus, 60, &codec_g722, 10, true);
}

static void test_loss(void **state)
{
	(void)state;
	struct transcoder *t;
	struct codec_enc *enc;
	struct transcoder_stats st;
	int16_t pcm[960];
	uint8_t pkt[10][400], out[400];
	int len[10];

	/* PCMU -> G.722: a lost packet still yields its output packet, and
	 * not a silent one */
	sine(pcm, 160, 8000, TONE_HZ, TONE_DB);
	assert_int_equal(codec_enc_alloc(&enc, &codec_pcmu, NULL), 0);
	assert_int_equal(transcoder_alloc(&t, &codec_pcmu, 20, &codec_g722, 20, NULL), 0);
	for (int k = 0; k < 5; k++) {
		len[0] = codec_encode(enc, pcm, 160, pkt[0], sizeof(pkt[0]));
		assert_int_equal(transcoder_push(t, pkt[0], (size_t)len[0]), 0);
		assert_int_equal(transcoder_pull(t, out, sizeof(out)), 160);
	}
	assert_int_equal(transcoder_lost(t), 0);
	assert_int_equal(transcoder_pull(t, out, sizeof(out)), 160);
	int silent = 0;
	for (int i = 0; i < 160; i++)
		silent += out[i] == out[0];
	assert_true(silent < 150);
	/* FEC asked of a codec without it: PLC */
	assert_int_equal(transcoder_lost_fec(t, pkt[0], (size_t)len[0]), 0);
	assert_int_equal(transcoder_pull(t, out, sizeof(out)), 160);
	transcoder_get_stats(t, &st);
	assert_int_equal(st.lost, 2);
	assert_int_equal(st.pushed, 5);
	transcoder_free(t);
	codec_enc_free(enc);

	/* opus -> PCMU with a packet rebuilt from the next one's FEC */
	struct codec_params p;
	codec_params_default(&p);
	p.loss_pct = 20;
	assert_int_equal(codec_enc_alloc(&enc, &codec_opus, &p), 0);
	assert_int_equal(transcoder_alloc(&t, &codec_opus, 20, &codec_pcmu, 20, NULL), 0);
	for (int k = 0; k < 10; k++) {
		sine(pcm, 960, 48000, TONE_HZ, TONE_DB);
		len[k] = codec_encode(enc, pcm, 960, pkt[k], sizeof(pkt[k]));
		assert_true(len[k] > 0);
	}
	for (int k = 0; k < 10; k++) {
		if (k == 6)
			assert_int_equal(transcoder_lost_fec(t, pkt[7], (size_t)len[7]), 0);
		else if (k == 8)
			assert_int_equal(transcoder_lost(t), 0);
		else
			assert_int_equal(transcoder_push(t, pkt[k], (size_t)len[k]), 0);
		assert_int_equal(transcoder_pull(t, out, sizeof(out)), 160);
	}
	transcoder_get_stats(t, &st);
	assert_int_equal(st.lost, 2);
	assert_int_equal(st.pushed, 8);
	assert_int_equal(st.pulled, 10);
	transcoder_free(t);
	codec_enc_free(enc);
}

static void test_bursts_and_errors(void **state)
{
	(void)state;
	struct transcoder *t;
	struct transcoder_stats st;
	uint8_t in[1000], out[400];
	int n = 0, len;

	memset(in, 0xFF, sizeof(in));
	/* 1 s arrives at once: the FIFO keeps its newest 260 ms */
	assert_int_equal(transcoder_alloc(&t, &codec_pcmu, 20, &codec_pcmu, 20, NULL), 0);
	for (int k = 0; k < 50; k++)
		assert_int_equal(transcoder_push(t, in, 160), 0);
	while ((len = transcoder_pull(t, out, sizeof(out))) > 0)
		n++;
	transcoder_get_stats(t, &st);
	assert_int_equal(n, 13);
	assert_int_equal(st.overrun, 50 * 160 - 13 * 160);
	/* 120 ms is the longest packet; beyond, refused */
	assert_int_equal(transcoder_push(t, in, 960), 0);
	assert_int_equal(transcoder_push(t, in, 961), EMSGSIZE);
	assert_int_equal(transcoder_push(t, in, 0), EINVAL);
	assert_int_equal(transcoder_push(t, NULL, 10), EINVAL);
	/* a short output buffer consumes nothing */
	assert_int_equal(transcoder_pull(t, out, 100), -ENOBUFS);
	assert_int_equal(transcoder_pull(t, out, 160), 160);
	transcoder_get_stats(t, &st);
	assert_int_equal(st.bad, 1);
	transcoder_free(t);

	assert_int_equal(transcoder_alloc(&t, &codec_opus, 20, &codec_pcmu, 20, NULL), 0);
	uint8_t bad[2] = { 0x03, 0x00 };
	assert_int_equal(transcoder_push(t, bad, 2), EBADMSG);
	assert_int_equal(transcoder_pull(t, out, sizeof(out)), 0);
	transcoder_free(t);

	assert_int_equal(transcoder_alloc(&t, &codec_pcmu, 25, &codec_pcma, 20, NULL), EINVAL);
	assert_int_equal(transcoder_alloc(&t, &codec_pcmu, 20, &codec_pcma, 0, NULL), EINVAL);
	assert_int_equal(transcoder_alloc(&t, &codec_pcmu, 20, &codec_opus, 130, NULL), EINVAL);
	assert_int_equal(transcoder_alloc(&t, NULL, 20, &codec_opus, 20, NULL), EINVAL);
	transcoder_free(NULL);
	assert_null(transcoder_enc(NULL));
}

/* Encoder settings given to the transcoder reach the encoder, and can be
 * changed later through transcoder_enc (e.g. from the peer's fmtp). */
static void test_encoder_settings(void **state)
{
	(void)state;
	struct codec_params p;
	struct transcoder_opts opts = { .enc = &p, .native_rate = true };
	struct transcoder *t;
	int16_t pcm[160];
	uint8_t in[160], out[400];
	struct codec_enc *g711;

	codec_params_default(&p);
	p.bitrate = 16000;
	p.cbr = true;
	sine(pcm, 160, 8000, TONE_HZ, TONE_DB);
	assert_int_equal(codec_enc_alloc(&g711, &codec_pcmu, NULL), 0);
	assert_int_equal(codec_encode(g711, pcm, 160, in, sizeof(in)), 160);
	assert_int_equal(transcoder_alloc(&t, &codec_pcmu, 20, &codec_opus, 20, &opts), 0);
	assert_int_equal(transcoder_enc(t)->rate, 8000); /* native: opus at 8 kHz */
	assert_int_equal(transcoder_push(t, in, 160), 0);
	assert_int_equal(transcoder_pull(t, out, sizeof(out)), 16000 / 8 / 50);
	codec_opus_fmtp_apply(PL("maxaveragebitrate=12000;cbr=1"), &p);
	assert_int_equal(codec_enc_set(transcoder_enc(t), &p), 0);
	assert_int_equal(transcoder_push(t, in, 160), 0);
	assert_int_equal(transcoder_pull(t, out, sizeof(out)), 12000 / 8 / 50);
	transcoder_free(t);
	codec_enc_free(g711);
}

/* --- no allocation on the packet path --------------------------------------- */

/* ASan's allocation hooks (the unit tests are built with it); weak, so the
 * check is skipped in a build without ASan. */
int __sanitizer_install_malloc_and_free_hooks(
	void (*malloc_hook)(const volatile void *, size_t),
	void (*free_hook)(const volatile void *)) __attribute__((weak));

static volatile bool counting;
static volatile unsigned allocs;

static void on_malloc(const volatile void *p, size_t n)
{
	(void)p;
	(void)n;
	if (counting)
		allocs++;
}

static void on_free(const volatile void *p)
{
	(void)p;
}

/* Every kind of packet-path call, on every path, after alloc: no malloc. */
static void test_no_alloc(void **state)
{
	(void)state;
	static const struct codec_desc *const pairs[][2] = {
		{ &codec_opus, &codec_pcmu }, { &codec_pcmu, &codec_opus },
		{ &codec_g722, &codec_opus }, { &codec_pcmu, &codec_g722 },
		{ &codec_opus, &codec_g722 }, { &codec_pcma, &codec_pcmu },
	};
	if (!__sanitizer_install_malloc_and_free_hooks) {
		print_message("  (no ASan: allocation check skipped)\n");
		return;
	}
	assert_int_not_equal(__sanitizer_install_malloc_and_free_hooks(on_malloc, on_free), 0);
	/* the hook sees a malloc (so that 0 below means something) */
	void *volatile probe;
	allocs = 0;
	counting = true;
	probe = malloc(16);
	counting = false;
	free(probe);
	assert_int_equal(allocs, 1);
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		const struct codec_desc *from = pairs[i][0], *to = pairs[i][1];
		for (int native = 0; native < 2; native++) {
			struct transcoder_opts opts = { .native_rate = native };
			struct transcoder *t;
			struct codec_enc *enc;
			size_t f = codec_samples(from->pcm_rate, 30);
			int16_t pcm[1440];
			uint8_t pkt[8][1500], out[1500];
			int len[8];

			sine(pcm, f, from->pcm_rate, TONE_HZ, TONE_DB);
			assert_int_equal(codec_enc_alloc(&enc, from, NULL), 0);
			for (int k = 0; k < 8; k++)
				len[k] = codec_encode(enc, pcm, f, pkt[k], sizeof(pkt[k]));
			assert_int_equal(transcoder_alloc(&t, from, 30, to, 20, &opts), 0);
			allocs = 0;
			counting = true;
			for (int k = 0; k < 8; k++) {
				if (k == 3)
					transcoder_lost(t);
				else if (k == 5)
					transcoder_lost_fec(t, pkt[6], (size_t)len[6]);
				else
					transcoder_push(t, pkt[k], (size_t)len[k]);
				while (transcoder_pull(t, out, sizeof(out)) > 0)
					;
			}
			counting = false;
			if (allocs)
				fail_msg("%s -> %s%s: %u allocations on the packet path",
					 from->name, to->name, native ? " (native)" : "", allocs);
			transcoder_free(t);
			codec_enc_free(enc);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resample),
		cmocka_unit_test(test_tone_paths),
		cmocka_unit_test(test_ptime_conversion),
		cmocka_unit_test(test_loss),
		cmocka_unit_test(test_bursts_and_errors),
		cmocka_unit_test(test_encoder_settings),
		cmocka_unit_test(test_no_alloc),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
