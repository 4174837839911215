/*
 * G.711 mu-law (PCMU, payload type 0) and A-law (PCMA, 8), built in rather
 * than taken from SpanDSP: a decode is one lookup in a 256-entry table and
 * an encode one lookup in a table indexed by the bits of the sample that the
 * law can tell apart, which is as cheap as audio coding gets.
 *
 * The tables follow the ITU-T G.191 reference code (g711.c of the STL):
 * negative samples are coded from their ones' complement, so the laws are
 * symmetric and -1 codes like 0 (the negative zero). mu-law's finest step
 * is 2 in 14-bit units and its +33 bias makes the last of the 14 bits
 * count, so its encoder table has 2^14 entries (16 KiB); A-law's finest
 * step is 2 in 13-bit units, so 2^12 entries (4 KiB) are enough. Measured
 * against computing the segment (a 128-entry segment table plus shifts):
 * ~0.34 -> ~0.15 us per 20 ms frame with warm caches, and still faster
 * with cold ones, where a 64 KiB table indexed by the whole sample lost its
 * edge to cache misses. The encoder tables are filled once, on the first
 * encoder allocation (pthread_once), since C cannot compute them at build
 * time and 20 KiB of literals would drown this file.
 *
 * Loss concealment is SpanDSP's plc_t (pitch-period repetition with a
 * fade-out over 50 ms; plc_fillin.c): every decoded frame goes through plc_rx so it has
 * the recent history when a packet goes missing.
 */
#include "codec.h"
#include "plc_fillin.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <spandsp/telephony.h>

/* ITU-T G.191 ulaw_expand / alaw_expand, for codes 0..255 (generated). */
static const int16_t ulaw_dec[256] = {
	-32124, -31100, -30076, -29052, -28028, -27004, -25980, -24956,
	-23932, -22908, -21884, -20860, -19836, -18812, -17788, -16764,
	-15996, -15484, -14972, -14460, -13948, -13436, -12924, -12412,
	-11900, -11388, -10876, -10364, -9852, -9340, -8828, -8316,
	-7932, -7676, -7420, -7164, -6908, -6652, -6396, -6140,
	-5884, -5628, -5372, -5116, -4860, -4604, -4348, -4092,
	-3900, -3772, -3644, -3516, -3388, -3260, -3132, -3004,
	-2876, -2748, -2620, -2492, -2364, -2236, -2108, -1980,
	-1884, -1820, -1756, -1692, -1628, -1564, -1500, -1436,
	-1372, -1308, -1244, -1180, -1116, -1052, -988, -924,
	-876, -844, -812, -780, -748, -716, -684, -652,
	-620, -588, -556, -524, -492, -460, -428, -396,
	-372, -356, -340, -324, -308, -292, -276, -260,
	-244, -228, -212, -196, -180, -164, -148, -132,
	-120, -112, -104, -96, -88, -80, -72, -64,
	-56, -48, -40, -32, -24, -16, -8, 0,
	32124, 31100, 30076, 29052, 28028, 27004, 25980, 24956,
	23932, 22908, 21884, 20860, 19836, 18812, 17788, 16764,
	15996, 15484, 14972, 14460, 13948, 13436, 12924, 12412,
	11900, 11388, 10876, 10364, 9852, 9340, 8828, 8316,
	7932, 7676, 7420, 7164, 6908, 6652, 6396, 6140,
	5884, 5628, 5372, 5116, 4860, 4604, 4348, 4092,
	3900, 3772, 3644, 3516, 3388, 3260, 3132, 3004,
	2876, 2748, 2620, 2492, 2364, 2236, 2108, 1980,
	1884, 1820, 1756, 1692, 1628, 1564, 1500, 1436,
	1372, 1308, 1244, 1180, 1116, 1052, 988, 924,
	876, 844, 812, 780, 748, 716, 684, 652,
	620, 588, 556, 524, 492, 460, 428, 396,
	372, 356, 340, 324, 308, 292, 276, 260,
	244, 228, 212, 196, 180, 164, 148, 132,
	120, 112, 104, 96, 88, 80, 72, 64,
	56, 48, 40, 32, 24, 16, 8, 0,
};
static const int16_t alaw_dec[256] = {
	-5504, -5248, -6016, -5760, -4480, -4224, -4992, -4736,
	-7552, -7296, -8064, -7808, -6528, -6272, -7040, -6784,
	-2752, -2624, -3008, -2880, -2240, -2112, -2496, -2368,
	-3776, -3648, -4032, -3904, -3264, -3136, -3520, -3392,
	-22016, -20992, -24064, -23040, -17920, -16896, -19968, -18944,
	-30208, -29184, -32256, -31232, -26112, -25088, -28160, -27136,
	-11008, -10496, -12032, -11520, -8960, -8448, -9984, -9472,
	-15104, -14592, -16128, -15616, -13056, -12544, -14080, -13568,
	-344, -328, -376, -360, -280, -264, -312, -296,
	-472, -456, -504, -488, -408, -392, -440, -424,
	-88, -72, -120, -104, -24, -8, -56, -40,
	-216, -200, -248, -232, -152, -136, -184, -168,
	-1376, -1312, -1504, -1440, -1120, -1056, -1248, -1184,
	-1888, -1824, -2016, -1952, -1632, -1568, -1760, -1696,
	-688, -656, -752, -720, -560, -528, -624, -592,
	-944, -912, -1008, -976, -816, -784, -880, -848,
	5504, 5248, 6016, 5760, 4480, 4224, 4992, 4736,
	7552, 7296, 8064, 7808, 6528, 6272, 7040, 6784,
	2752, 2624, 3008, 2880, 2240, 2112, 2496, 2368,
	3776, 3648, 4032, 3904, 3264, 3136, 3520, 3392,
	22016, 20992, 24064, 23040, 17920, 16896, 19968, 18944,
	30208, 29184, 32256, 31232, 26112, 25088, 28160, 27136,
	11008, 10496, 12032, 11520, 8960, 8448, 9984, 9472,
	15104, 14592, 16128, 15616, 13056, 12544, 14080, 13568,
	344, 328, 376, 360, 280, 264, 312, 296,
	472, 456, 504, 488, 408, 392, 440, 424,
	88, 72, 120, 104, 24, 8, 56, 40,
	216, 200, 248, 232, 152, 136, 184, 168,
	1376, 1312, 1504, 1440, 1120, 1056, 1248, 1184,
	1888, 1824, 2016, 1952, 1632, 1568, 1760, 1696,
	688, 656, 752, 720, 560, 528, 624, 592,
	944, 912, 1008, 976, 816, 784, 880, 848,
};

static uint8_t ulaw_enc[1 << 14]; /* index: (uint16_t)sample >> 2 */
static uint8_t alaw_enc[1 << 12]; /* index: (uint16_t)sample >> 4 */
static pthread_once_t enc_once = PTHREAD_ONCE_INIT;

/* ITU-T G.191 ulaw_compress for one 16-bit sample. */
static uint8_t ulaw_code(int16_t x)
{
	int absno = (x < 0 ? (~x) >> 2 : x >> 2) + 33;
	if (absno > 0x1fff)
		absno = 0x1fff;
	int segno = 1;
	for (int i = absno >> 6; i; i >>= 1)
		segno++;
	int code = ((8 - segno) << 4) | (15 - ((absno >> segno) & 15));
	return (uint8_t)(x >= 0 ? code | 0x80 : code);
}

/* ITU-T G.191 alaw_compress for one 16-bit sample. */
static uint8_t alaw_code(int16_t x)
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
	return (uint8_t)(ix ^ 0x55);
}

static void enc_tables_fill(void)
{
	/* every sample with the same upper bits codes alike (see above), so
	 * the index's lowest sample stands for all of them */
	for (unsigned i = 0; i < (1u << 14); i++)
		ulaw_enc[i] = ulaw_code((int16_t)(uint16_t)(i << 2));
	for (unsigned i = 0; i < (1u << 12); i++)
		alaw_enc[i] = alaw_code((int16_t)(uint16_t)(i << 4));
}

struct g711_dec {
	struct codec_dec base;
	const int16_t *tab;
	plc_state_t plc;
};

static int g711_enc_alloc(struct codec_enc **out, const struct codec_desc *d,
			  const struct codec_params *p)
{
	(void)p;
	/* stateless, but allocated like every other encoder so that callers
	 * need no special case */
	struct codec_enc *e = malloc(sizeof(*e));
	if (!e)
		return ENOMEM;
	pthread_once(&enc_once, enc_tables_fill);
	e->desc = d;
	e->rate = 8000;
	*out = e;
	return 0;
}

static void g711_enc_free(struct codec_enc *e)
{
	free(e);
}

static int pcmu_encode(struct codec_enc *e, const int16_t *pcm, size_t n,
		       uint8_t *out, size_t cap)
{
	(void)e;
	if (cap < n)
		return -ENOBUFS;
	for (size_t i = 0; i < n; i++)
		out[i] = ulaw_enc[(uint16_t)pcm[i] >> 2];
	return (int)n;
}

static int pcma_encode(struct codec_enc *e, const int16_t *pcm, size_t n,
		       uint8_t *out, size_t cap)
{
	(void)e;
	if (cap < n)
		return -ENOBUFS;
	for (size_t i = 0; i < n; i++)
		out[i] = alaw_enc[(uint16_t)pcm[i] >> 4];
	return (int)n;
}

static int g711_dec_alloc(struct codec_dec **out, const struct codec_desc *d,
			  uint32_t rate)
{
	struct g711_dec *g = malloc(sizeof(*g));
	if (!g)
		return ENOMEM;
	g->base.desc = d;
	g->base.rate = rate;
	g->tab = d == &codec_pcmu ? ulaw_dec : alaw_dec;
	plc_init(&g->plc);
	*out = &g->base;
	return 0;
}

static void g711_dec_free(struct codec_dec *d)
{
	free(d);
}

static int g711_decode(struct codec_dec *d, const uint8_t *in, size_t len,
		       int16_t *pcm, size_t cap)
{
	struct g711_dec *g = (struct g711_dec *)d;
	if (cap < len)
		return -ENOBUFS;
	for (size_t i = 0; i < len; i++)
		pcm[i] = g->tab[in[i]];
	/* history for concealment; after a loss this also cross-fades the
	 * synthetic signal into the real one */
	plc_rx(&g->plc, pcm, (int)len);
	return (int)len;
}

static int g711_dec_samples(struct codec_dec *d, const uint8_t *in, size_t len)
{
	(void)d;
	(void)in;
	return (int)len;
}

static int g711_plc(struct codec_dec *d, int16_t *pcm, size_t n)
{
	struct g711_dec *g = (struct g711_dec *)d;
	return plc_fillin_safe(&g->plc, pcm, (int)n);
}

const struct codec_desc codec_pcmu = {
	.name = "PCMU",
	.rtp_clock = 8000,
	.pcm_rate = 8000,
	.pt = 0,
	.channels = 1,
	.min_ptime = 10,
	.max_ptime = 120,
	.rates = CODEC_RATE_8K,
	.enc_alloc = g711_enc_alloc,
	.enc_free = g711_enc_free,
	.encode = pcmu_encode,
	.dec_alloc = g711_dec_alloc,
	.dec_free = g711_dec_free,
	.decode = g711_decode,
	.dec_samples = g711_dec_samples,
	.plc = g711_plc,
};

const struct codec_desc codec_pcma = {
	.name = "PCMA",
	.rtp_clock = 8000,
	.pcm_rate = 8000,
	.pt = 8,
	.channels = 1,
	.min_ptime = 10,
	.max_ptime = 120,
	.rates = CODEC_RATE_8K,
	.enc_alloc = g711_enc_alloc,
	.enc_free = g711_enc_free,
	.encode = pcma_encode,
	.dec_alloc = g711_dec_alloc,
	.dec_free = g711_dec_free,
	.decode = g711_decode,
	.dec_samples = g711_dec_samples,
	.plc = g711_plc,
};
