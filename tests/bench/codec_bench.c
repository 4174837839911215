/*
 * Codec benchmark (core/media/codec*.c, resample.c): the CPU cost of one
 * 20 ms frame for encoding and decoding with each codec, of resampling,
 * and of a full opus <-> PCMU transcode in both directions of a call
 * (opus 48 kHz -> decode -> resample to 8 kHz -> PCMU, and PCMU -> 8 kHz ->
 * resample to 48 kHz -> opus), from which it derives how many such calls
 * one core could carry. The same transcode is also measured with
 * native_rate (opus running at 8 kHz itself, no resampler).
 *
 * The input is a synthetic speech-like signal (a voiced source with a
 * gliding pitch under a syllable envelope, with pauses and noisy
 * stretches), generated at each rate, because opus' cost depends on what
 * it codes: a pure tone or silence would flatter it.
 *
 * Times are this thread's CPU time (CLOCK_THREAD_CPUTIME_ID), so other
 * processes on a shared machine count little; each figure is the best of
 * five runs (the least disturbed one), over `seconds` of work in total.
 *
 * Built and run by `make bench`; by hand:
 *   make build/bench/codec_bench
 *   build/bench/codec_bench [seconds per figure]     (default 0.25: ~10 s)
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../core/media/codecs/codec.h"
#include "../../core/media/codecs/resample.h"

#define SIGNAL_S 10
#define FRAME_MS 20
#define RUNS 5

static double budget_s = 0.25;

static uint64_t cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void die(const char *what, int err)
{
	fprintf(stderr, "codec_bench: %s: %s\n", what, strerror(err < 0 ? -err : err));
	exit(1);
}

/* Speech-like test signal at rate: harmonics of a pitch gliding between
 * 100 and 220 Hz up to 7 kHz (or Nyquist), shaped by 4 Hz "syllables",
 * a 200 ms pause every 2 s, and a noisy stretch every 1.3 s. */
static int16_t *speechlike(uint32_t rate)
{
	size_t n = (size_t)rate * SIGNAL_S;
	int16_t *b = malloc(n * sizeof(int16_t));
	double phase = 0;
	uint32_t seed = 1;
	if (!b)
		die("malloc", ENOMEM);
	for (size_t i = 0; i < n; i++) {
		double t = (double)i / rate;
		double f0 = 160 + 60 * sin(2 * M_PI * 0.7 * t);
		double env = 0.5 + 0.5 * sin(2 * M_PI * 4 * t);
		double v = 0;
		phase += 2 * M_PI * f0 / rate;
		for (int h = 1; h * f0 < 7000 && h * f0 < rate / 2.0; h++)
			v += sin(h * phase) / h;
		seed = seed * 1664525u + 1013904223u;
		double nz = ((double)(seed >> 8) / (1 << 24)) * 2 - 1;
		if (fmod(t, 1.3) > 1.1)
			v = 1.5 * nz; /* fricative */
		if (fmod(t, 2.0) > 1.8)
			v = 0.01 * nz; /* pause: background noise */
		b[i] = (int16_t)lrint(6000 * env * v);
	}
	return b;
}

/* One figure: calls fn(frame index, arg) in five runs and returns the best
 * run's cost per call, in ns. */
typedef void(bench_h)(size_t k, void *arg);

static double measure(bench_h *fn, void *arg)
{
	size_t frames = SIGNAL_S * 1000 / FRAME_MS;
	uint64_t t0 = cpu_ns();
	size_t k = 0, calib = 0;
	double best = 1e30;

	/* warm up for 20 ms of CPU, which also says how long a call takes */
	while (cpu_ns() - t0 < 20000000u) {
		fn(k++ % frames, arg);
		calib++;
	}
	double per = 20e6 / (double)calib;
	size_t reps = (size_t)(budget_s / RUNS * 1e9 / per) + 1;
	for (int r = 0; r < RUNS; r++) {
		uint64_t a = cpu_ns();
		for (size_t i = 0; i < reps; i++)
			fn(k++ % frames, arg);
		double ns = (double)(cpu_ns() - a) / (double)reps;
		if (ns < best)
			best = ns;
	}
	return best;
}

/* --- codec encode / decode --------------------------------------------- */

struct cctx {
	struct codec_enc *enc;
	struct codec_dec *dec;
	const int16_t *pcm;
	size_t frame;               /* samples */
	uint8_t (*pkt)[1500];       /* every frame of the signal, encoded */
	int *len;
	int16_t out[2880];
	uint8_t buf[1500];
};

static void do_encode(size_t k, void *arg)
{
	struct cctx *c = arg;
	int n = codec_encode(c->enc, c->pcm + k * c->frame, c->frame, c->buf, sizeof(c->buf));
	if (n <= 0)
		die("encode", n);
}

static void do_decode(size_t k, void *arg)
{
	struct cctx *c = arg;
	int n = codec_decode(c->dec, c->pkt[k], (size_t)c->len[k], c->out, 2880);
	if (n != (int)c->frame)
		die("decode", n < 0 ? n : EIO);
}

static void bench_codec(const char *label, const struct codec_desc *d,
			const struct codec_params *p, const int16_t *pcm, uint32_t rate)
{
	size_t frames = SIGNAL_S * 1000 / FRAME_MS;
	struct cctx c = { .pcm = pcm, .frame = rate / 1000 * FRAME_MS };
	long bytes = 0;
	int err;

	c.pkt = malloc(frames * sizeof(*c.pkt));
	c.len = malloc(frames * sizeof(int));
	if (!c.pkt || !c.len)
		die("malloc", ENOMEM);
	if ((err = codec_enc_alloc(&c.enc, d, p)) || (err = codec_dec_alloc(&c.dec, d, rate)))
		die(d->name, err);
	for (size_t k = 0; k < frames; k++) {
		c.len[k] = codec_encode(c.enc, pcm + k * c.frame, c.frame, c.pkt[k], 1500);
		if (c.len[k] <= 0)
			die("encode", c.len[k]);
		bytes += c.len[k];
	}
	double enc = measure(do_encode, &c);
	double dec = measure(do_decode, &c);
	printf("| %-28s | %9.0f | %9.0f | %7.1f |\n", label, enc, dec,
	       (double)bytes * 8 / SIGNAL_S / 1000);
	codec_enc_free(c.enc);
	codec_dec_free(c.dec);
	free(c.pkt);
	free(c.len);
}

/* --- resampling ---------------------------------------------------------- */

struct rctx {
	struct resampler *rs;
	const int16_t *pcm;
	size_t frame;
	int16_t out[2000];
};

static void do_resample(size_t k, void *arg)
{
	struct rctx *r = arg;
	int n = resampler_run(r->rs, r->pcm + k * r->frame, r->frame, r->out, 2000);
	if (n <= 0)
		die("resample", n);
}

static double bench_resample(const int16_t *pcm, uint32_t from, uint32_t to)
{
	struct rctx r = { .pcm = pcm, .frame = from / 1000 * FRAME_MS };
	int err = resampler_alloc(&r.rs, from, to, RESAMPLER_QUALITY_VOIP);
	if (err)
		die("resampler", err);
	double ns = measure(do_resample, &r);
	resampler_free(r.rs);
	return ns;
}

/* --- transcoding ---------------------------------------------------------- */

struct tctx {
	struct transcoder *t;
	uint8_t (*pkt)[1500];
	int *len;
	uint8_t out[1500];
};

static void do_transcode(size_t k, void *arg)
{
	struct tctx *x = arg;
	int err = transcoder_push(x->t, x->pkt[k], (size_t)x->len[k]);
	if (err)
		die("push", err);
	int n = transcoder_pull(x->t, x->out, sizeof(x->out));
	if (n <= 0)
		die("pull", n ? n : EAGAIN);
}

/* Cost of one 20 ms packet through a transcoder from -> to, fed with the
 * signal encoded by `from` (at its own rate). */
static double bench_transcode(const struct codec_desc *from, const struct codec_desc *to,
			      const int16_t *pcm, bool native)
{
	size_t frames = SIGNAL_S * 1000 / FRAME_MS, f = from->pcm_rate / 1000 * FRAME_MS;
	struct transcoder_opts opts = { .native_rate = native };
	struct tctx x;
	struct codec_enc *enc;
	int err;

	x.pkt = malloc(frames * sizeof(*x.pkt));
	x.len = malloc(frames * sizeof(int));
	if (!x.pkt || !x.len)
		die("malloc", ENOMEM);
	if ((err = codec_enc_alloc(&enc, from, NULL)))
		die("encoder", err);
	for (size_t k = 0; k < frames; k++) {
		x.len[k] = codec_encode(enc, pcm + k * f, f, x.pkt[k], 1500);
		if (x.len[k] <= 0)
			die("encode", x.len[k]);
	}
	codec_enc_free(enc);
	if ((err = transcoder_alloc(&x.t, from, FRAME_MS, to, FRAME_MS, &opts)))
		die("transcoder", err);
	double ns = measure(do_transcode, &x);
	transcoder_free(x.t);
	free(x.pkt);
	free(x.len);
	return ns;
}

int main(int argc, char **argv)
{
	struct codec_params p;

	if (argc > 1)
		budget_s = atof(argv[1]);
	if (budget_s <= 0)
		budget_s = 0.25;
	int16_t *s8 = speechlike(8000), *s16 = speechlike(16000), *s48 = speechlike(48000);

	printf("CPU time per 20 ms frame, ns (best of %d runs; one thread)\n\n", RUNS);
	printf("| %-28s | %9s | %9s | %7s |\n", "codec", "encode", "decode", "kbit/s");
	printf("|------------------------------|----------:|----------:|--------:|\n");
	bench_codec("PCMU", &codec_pcmu, NULL, s8, 8000);
	bench_codec("PCMA", &codec_pcma, NULL, s8, 8000);
	bench_codec("G722 (16 kHz)", &codec_g722, NULL, s16, 16000);
	codec_params_default(&p);
	p.pcm_rate = 8000;
	bench_codec("G722 (8 kHz mode)", &codec_g722, &p, s8, 8000);
	static const unsigned cx[] = { 1, 5, 10 };
	for (size_t i = 0; i < 3; i++) {
		char label[64];
		codec_params_default(&p);
		p.complexity = cx[i];
		snprintf(label, sizeof(label), "opus 48k 24k c%u%s", cx[i], cx[i] == 5 ? " (default)" : "");
		bench_codec(label, &codec_opus, &p, s48, 48000);
	}
	codec_params_default(&p);
	p.pcm_rate = 8000;
	bench_codec("opus 8k 24k c5", &codec_opus, &p, s8, 8000);

	printf("\n| %-28s | %9s |\n", "resample (speexdsp q3)", "ns/frame");
	printf("|------------------------------|----------:|\n");
	printf("| %-28s | %9.0f |\n", "48000 -> 8000", bench_resample(s48, 48000, 8000));
	printf("| %-28s | %9.0f |\n", "8000 -> 48000", bench_resample(s8, 8000, 48000));
	printf("| %-28s | %9.0f |\n", "16000 -> 8000", bench_resample(s16, 16000, 8000));
	printf("| %-28s | %9.0f |\n", "8000 -> 16000", bench_resample(s8, 8000, 16000));

	printf("\n| %-34s | %9s | %9s | %9s | %11s |\n", "transcode (per 20 ms packet)",
	       "opus->PCMU", "PCMU->opus", "call", "calls/core");
	printf("|------------------------------------|----------:|----------:|----------:|------------:|\n");
	for (int native = 0; native < 2; native++) {
		double a = bench_transcode(&codec_opus, &codec_pcmu, s48, native);
		double b = bench_transcode(&codec_pcmu, &codec_opus, s8, native);
		/* a call sends one packet each way every 20 ms */
		printf("| %-34s | %9.0f | %9.0f | %9.0f | %11.0f |\n",
		       native ? "opus at 8 kHz (native_rate)" : "opus 48 kHz + resampler (default)",
		       a, b, a + b, 20e6 / (a + b));
	}
	double a = bench_transcode(&codec_g722, &codec_pcmu, s16, false);
	double b = bench_transcode(&codec_pcmu, &codec_g722, s8, false);
	printf("| %-34s | %9.0f | %9.0f | %9.0f | %11.0f |\n", "G722<->PCMU (16 kHz + resampler)",
	       a, b, a + b, 20e6 / (a + b));
	a = bench_transcode(&codec_g722, &codec_pcmu, s16, true);
	b = bench_transcode(&codec_pcmu, &codec_g722, s8, true);
	printf("| %-34s | %9.0f | %9.0f | %9.0f | %11.0f |\n", "G722<->PCMU (8 kHz mode)",
	       a, b, a + b, 20e6 / (a + b));
	printf("\n(columns of the G722 rows: G722->PCMU, PCMU->G722)\n");
	free(s8);
	free(s16);
	free(s48);
	return 0;
}
