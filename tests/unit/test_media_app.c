/*
 * Playback, tones and recording through the media engine (media_leg_tone,
 * media_leg_play, media_leg_stop, media_call_record): what a leg hears and
 * what the recorder receives, and the PLAY_DONE / RECORD_DONE events.
 * Also what an app does with a caller's leg alone (leg 1 never
 * allocated): media_leg_start, and media_leg_echo with its digits, a tone
 * over it and its end.
 *
 * The units behind them (asource*.c: files and tones; arecord.c: the
 * WAV/Ogg writer) have their own tests (test_asource, test_arecord); this
 * test links small stand-ins (below) so it checks the engine's side: which
 * spec and rate it opens, that the source's PCM is encoded for the leg,
 * that both legs' decoded audio reaches the recorder on the right channel,
 * and the events. The stand-ins replace the library's symbols at link time
 * (an object's definitions win over an archive's).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>

#include "codec_test_util.h"
#include "media_test_util.h"

#include "../../core/media/audio/arecord.h"
#include "../../core/media/audio/asource.h"
#include "../../core/media/dtmf/dtmf4733.h"
#include "../../core/media/dtmf/dtmf_inband.h"
#include "../../core/sdp/sdes.h"

/* packets a new RTP source sends before it is latched (latch.c) */
#define PROBATION 4

/* --- stand-in sources: sums of up to two sines, on/off cadence ------------- */

struct asource {
	double f1, f2;
	uint32_t on, off, rate; /* ms; off 0: continuous */
	uint64_t n, total;      /* samples made; total 0: forever */
	int err;
};

static int src_new(struct asource **out, double f1, double f2, uint32_t on,
		   uint32_t off, uint32_t rate, uint64_t total)
{
	struct asource *s = calloc(1, sizeof(*s));
	if (!s)
		return ENOMEM;
	*s = (struct asource){ .f1 = f1, .f2 = f2, .on = on, .off = off, .rate = rate,
			       .total = total };
	*out = s;
	return 0;
}

static uint32_t opened_rate;

int asource_open_tone(struct asource **out, const char *spec, uint32_t rate)
{
	opened_rate = rate;
	if (!strcmp(spec, "ringback"))
		return src_new(out, 440, 480, 2000, 4000, rate, 0);
	if (!strcmp(spec, "beep"))
		return src_new(out, 1000, 0, 250, 0, rate, rate / 4);
	unsigned a, b = 0, on = 0, off = 0;
	if (sscanf(spec, "%u+%u/%u/%u", &a, &b, &on, &off) >= 3 ||
	    (b = 0, sscanf(spec, "%u/%u/%u", &a, &on, &off) >= 2))
		return src_new(out, a, b, on, off, rate, 0);
	return EINVAL;
}

int asource_open_files(struct asource **out, const char *const *paths, size_t n,
		       bool loop, uint32_t rate)
{
	for (size_t i = 0; i < n; i++)
		if (access(paths[i], R_OK))
			return ENOENT;
	opened_rate = rate;
	/* each "file" is 300 ms of 1 kHz */
	return src_new(out, 1000, 0, 0, 0, rate, loop ? 0 : (uint64_t)rate * 3 / 10 * n);
}

size_t asource_read(struct asource *s, int16_t *pcm, size_t n)
{
	size_t k = 0;
	for (; k < n && (!s->total || s->n < s->total); k++, s->n++) {
		uint64_t ms = s->n * 1000 / s->rate;
		bool on = !s->off || ms % (s->on + s->off) < s->on;
		double t = (double)s->n / s->rate, v = 0;
		if (on) {
			v = sin(2 * M_PI * s->f1 * t);
			if (s->f2)
				v += sin(2 * M_PI * s->f2 * t);
		}
		pcm[k] = (int16_t)(v * 6000);
	}
	return k;
}

int asource_error(const struct asource *s)
{
	return s->err;
}

void asource_free(struct asource *s)
{
	free(s);
}

/* --- stand-in recorder: keeps the channels in memory ------------------------ */

#define REC_MAX (16000 * 5)

struct arecord {
	bool stereo;
	uint32_t rate;
	int16_t *a, *b;
	size_t n;
};

static struct arecord last_rec;
static bool rec_closed;

int arecord_open(struct arecord **out, const char *path, enum arecord_format fmt,
		 bool stereo, uint32_t rate)
{
	(void)fmt;
	if (strncmp(path, "/tmp/", 5))
		return ENOENT;
	struct arecord *r = calloc(1, sizeof(*r));
	if (!r)
		return ENOMEM;
	r->stereo = stereo;
	r->rate = rate;
	r->a = calloc(REC_MAX, sizeof(int16_t));
	r->b = calloc(REC_MAX, sizeof(int16_t));
	*out = r;
	rec_closed = false;
	return 0;
}

int arecord_write(struct arecord *r, const int16_t *a, const int16_t *b, size_t n)
{
	if (r->n + n > REC_MAX)
		return 0;
	if (a)
		memcpy(r->a + r->n, a, n * sizeof(int16_t));
	if (b)
		memcpy(r->b + r->n, b, n * sizeof(int16_t));
	r->n += n;
	return 0;
}

uint64_t arecord_duration_ms(const struct arecord *r)
{
	return r->n * 1000 / r->rate;
}

int arecord_close(struct arecord *r)
{
	free(last_rec.a);
	free(last_rec.b);
	last_rec = *r;
	free(r);
	rec_closed = true;
	return 0;
}

/* --- tests ------------------------------------------------------------------------ */

/* Ringback to the caller before the callee has a leg at all. */
static void test_ringback_alone(void **state)
{
	struct mt *t = *state;
	uint32_t id;
	uint16_t port;
	struct mt_phone a;
	assert_int_equal(media_call_create(t->me, &id, mt_on_ev, t), 0);
	assert_int_equal(media_leg_alloc(t->me, id, 0, &port), 0);
	mt_phone_open(&a);
	struct media_remote r;
	memset(&r, 0, sizeof(r));
	memcpy(&r.rtp, &a.addr, sizeof(r.rtp));
	assert_int_equal(media_leg_set_remote(t->me, id, 0, &r), 0);
	struct media_fmt f = mt_fmt(&codec_pcmu, 0, 20, 101);
	assert_int_equal(media_leg_set_format(t->me, id, 0, &f), 0);
	assert_int_equal(media_leg_tone(t->me, id, 0, "no such tone", 1), EINVAL);
	assert_int_equal(media_leg_tone(t->me, id, 0, "ringback", 7), 0);
	struct mt_rx rx;
	mt_rx_init(&rx, &codec_pcmu, 0);
	mt_stream(t, NULL, -1, 0, 40, &rx, a.fd, NULL, -1);
	/* 800 ms of ringback is 40 packets; a worker late on a loaded machine
	 * gets up to 2 s more to deliver 35 of them */
	for (uint64_t end = mt_now_ms() + 2000; rx.pkts < 35 && mt_now_ms() < end;)
		mt_stream(t, NULL, -1, 0, 5, &rx, a.fd, NULL, -1);
	assert_int_equal(opened_rate, 8000);
	assert_true(rx.pkts >= 35);
	assert_int_equal(rx.ts_step, 160);
	size_t n = 4000, off = rx.n - n;
	double a440 = goertzel_amp(rx.pcm + off, n, 8000, 440);
	double a480 = goertzel_amp(rx.pcm + off, n, 8000, 480);
	double a1k = goertzel_amp(rx.pcm + off, n, 8000, 1000);
	print_message("    440 Hz %.0f, 480 Hz %.0f, 1000 Hz %.0f\n", a440, a480, a1k);
	assert_true(a440 > 4000 && a480 > 4000 && a1k < 300);
	/* stopped: PLAY_DONE with ECANCELED and our tag; silence after */
	assert_int_equal(media_leg_stop(t->me, id, 0), 0);
	const struct media_event *e = mt_wait(t, MEDIA_EV_PLAY_DONE, id, 0, 1000);
	assert_non_null(e);
	assert_int_equal(e->tag, 7);
	assert_int_equal(e->err, ECANCELED);
	mt_run(t, 60);
	mt_rx_drain(&rx, a.fd);
	unsigned before = rx.pkts;
	mt_run(t, 200);
	mt_rx_drain(&rx, a.fd);
	assert_int_equal(rx.pkts, before);
	mt_destroy(t, id);
	mt_rx_free(&rx);
	close(a.fd);
}

/* A prompt replaces the other leg's audio for its length; a second play
 * replaces the first; a missing file ends with ENOENT. */
static void test_play_files(void **state)
{
	struct mt *t = *state;
	struct mt_call c;
	struct media_fmt f0 = mt_fmt(&codec_opus, 111, 20, 101);
	struct media_fmt f1 = mt_fmt(&codec_opus, 111, 20, 101);
	mt_call_up(t, &c, &f0, &f1);
	const char *missing[] = { "/nonexistent/x.wav" };
	assert_int_equal(media_leg_play(t->me, c.id, 1, missing, 1, false, 3), 0);
	const struct media_event *e = mt_wait(t, MEDIA_EV_PLAY_DONE, c.id, 1, 1000);
	assert_non_null(e);
	assert_int_equal(e->err, ENOENT);
	assert_int_equal(e->tag, 3);
	const char *files[] = { "/etc/hostname", "/etc/hostname" };
	assert_int_equal(media_leg_play(t->me, c.id, 1, files, 2, true, 4), 0);
	assert_int_equal(media_leg_play(t->me, c.id, 1, files, 2, false, 5), 0);
	e = mt_wait(t, MEDIA_EV_PLAY_DONE, c.id, 1, 1000);
	assert_non_null(e);
	assert_int_equal(e->tag, 4);
	assert_int_equal(e->err, ECANCELED);
	/* leg 0's phone talks at 500 Hz meanwhile: leg 1 hears the prompt */
	struct mt_tx a;
	struct mt_rx rb;
	mt_tx_init(&a, &codec_opus, 111, 20, 500, -12, 0xa);
	mt_rx_init(&rb, &codec_opus, 111);
	mt_stream(t, &a, c.ph[0].fd, c.port[0], 20, &rb, c.ph[1].fd, NULL, -1);
	assert_int_equal(opened_rate, 16000); /* opus both sides: wideband */
	size_t off;
	mt_level_db(&rb, 200, &off);
	assert_true(fabs(peak_hz(rb.pcm + off, rb.n - off, rb.rate) - 1000) <= 10);
	e = mt_wait(t, MEDIA_EV_PLAY_DONE, c.id, 1, 1000); /* 600 ms of prompt */
	assert_non_null(e);
	assert_int_equal(e->tag, 5);
	assert_int_equal(e->err, 0);
	/* then the other leg again, in pass-through (same format) */
	rb.n = 0;
	mt_stream(t, &a, c.ph[0].fd, c.port[0], 30, &rb, c.ph[1].fd, NULL, -1);
	mt_level_db(&rb, 200, &off);
	assert_true(fabs(peak_hz(rb.pcm + off, rb.n - off, rb.rate) - 500) <= 10);
	assert_int_equal(rb.ssrc, 0xa);
	mt_destroy(t, c.id);
	mt_tx_free(&a);
	mt_rx_free(&rb);
	mt_phones_close(&c);
}

/* Stereo recording: leg 0's phone on the left, leg 1's on the right. */
static void test_record_stereo(void **state)
{
	struct mt *t = *state;
	struct mt_call c;
	struct media_fmt f0 = mt_fmt(&codec_pcmu, 0, 20, 101);
	struct media_fmt f1 = mt_fmt(&codec_pcma, 8, 20, 101);
	mt_call_up(t, &c, &f0, &f1);
	assert_int_equal(media_call_record(t->me, c.id, "/nodir/x.wav", MEDIA_REC_WAV, true, 1), 0);
	const struct media_event *e = mt_wait(t, MEDIA_EV_RECORD_DONE, c.id, -1, 1000);
	assert_non_null(e);
	assert_int_equal(e->err, ENOENT);
	assert_int_equal(media_call_record(t->me, c.id, "/tmp/rec.wav", MEDIA_REC_WAV, true, 2), 0);
	assert_int_equal(media_call_record(t->me, c.id, "/tmp/rec.wav", MEDIA_REC_WAV, true, 3), EBUSY);
	struct mt_tx a, b;
	mt_tx_init(&a, &codec_pcmu, 0, 20, 1000, -12, 0xa);
	mt_tx_init(&b, &codec_pcma, 8, 20, 400, -12, 0xb);
	uint8_t buf[1600];
	uint64_t due = mt_now_ms(), rec_t0 = due;
	for (int i = 0; i < 50; i++) {
		mt_send(c.ph[0].fd, c.port[0], buf, mt_tx_next(&a, buf));
		mt_send(c.ph[1].fd, c.port[1], buf, mt_tx_next(&b, buf));
		due += 20;
		mt_run(t, (int)(due - mt_now_ms()));
	}
	/* how long the recording ran by our clock (1 s, more when this thread
	 * was held up on a loaded machine) */
	uint64_t rec_ms = mt_now_ms() - rec_t0;
	assert_int_equal(media_call_record_stop(t->me, c.id), 0);
	e = mt_wait(t, MEDIA_EV_RECORD_DONE, c.id, -1, 1000);
	assert_non_null(e);
	assert_int_equal(e->err, 0);
	assert_int_equal(e->tag, 2);
	assert_true(rec_closed);
	assert_true(last_rec.stereo);
	print_message("    recorded %u ms in %llu ms\n", e->duration_ms, (unsigned long long)rec_ms);
	/* the worker writes one frame per 20 ms tick while it records: never
	 * more than our clock saw, and a busy worker on a loaded machine skips
	 * ticks (840 ms of 1000 seen), but not half of them */
	assert_true(e->duration_ms >= rec_ms / 2 && e->duration_ms <= rec_ms + 200);
	assert_int_equal(e->duration_ms, last_rec.n * 1000 / 8000);
	size_t n = 2400, off = last_rec.n - 2400 - 800;
	assert_true(fabs(peak_hz(last_rec.a + off, n, 8000) - 1000) <= 10);
	assert_true(fabs(peak_hz(last_rec.b + off, n, 8000) - 400) <= 10);
	mt_destroy(t, c.id);
	mt_tx_free(&a);
	mt_tx_free(&b);
	free(last_rec.a);
	free(last_rec.b);
	memset(&last_rec, 0, sizeof(last_rec));
	mt_phones_close(&c);
}

/* --- an app's lone leg: media_leg_start and media_leg_echo ----------------- */

static bool sa_same(const struct sockaddr_storage *a,
				const struct sockaddr_storage *b)
{
	const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
	return x->sin_family == y->sin_family && x->sin_port == y->sin_port &&
	       x->sin_addr.s_addr == y->sin_addr.s_addr;
}

/* A media call with only leg 0: its phone, the port to send to. */
struct app {
	uint32_t id;
	uint16_t port;
	struct mt_phone ph;
};

/* sig: where the phone "said" it receives (NULL: its own socket, else a
 * NAT's outside address that is not where its packets come from). */
static void app_up(struct mt *t, struct app *a, const struct media_fmt *f,
		   const struct sockaddr_storage *sig, bool start)
{
	assert_int_equal(media_call_create(t->me, &a->id, mt_on_ev, t), 0);
	assert_int_equal(media_leg_alloc(t->me, a->id, 0, &a->port), 0);
	mt_phone_open(&a->ph);
	struct media_remote r;
	memset(&r, 0, sizeof(r));
	memcpy(&r.rtp, sig ? sig : &a->ph.addr, sizeof(r.rtp));
	r.clock_rate = f->codec->rtp_clock;
	assert_int_equal(media_leg_set_remote(t->me, a->id, 0, &r), 0);
	assert_int_equal(media_leg_set_format(t->me, a->id, 0, f), 0);
	/* no leg 1: nothing to connect, and nothing needs it */
	assert_int_equal(media_call_connect(t->me, a->id), ENOTCONN);
	assert_int_equal(media_leg_start(t->me, a->id, 1), ENOTCONN);
	if (start)
		assert_int_equal(media_leg_start(t->me, a->id, 0), 0);
	mt_barrier(t, a->id);
}

/* The phone talks at hz for n packets; rx takes what comes back. */
static void app_talk(struct mt *t, struct app *a, struct mt_tx *tx, unsigned n,
		     struct mt_rx *rx)
{
	mt_stream(t, tx, a->ph.fd, a->port, n, rx, a->ph.fd, NULL, -1);
}

/* The phone hears its 1000 Hz back, in our stream, in its own codec. */
static void echo_codec(struct mt *t, const struct codec_desc *d, uint8_t pt)
{
	struct app a;
	struct media_fmt f = mt_fmt(d, pt, 20, 101);
	app_up(t, &a, &f, NULL, true);
	assert_int_equal(media_leg_echo(t->me, a.id, 0, true), 0);
	struct mt_tx tx;
	struct mt_rx rx;
	mt_tx_init(&tx, d, pt, 20, 1000, -12, 0xe1);
	mt_rx_init(&rx, d, pt);
	app_talk(t, &a, &tx, 50, &rx);
	mt_run(t, 100);
	mt_rx_drain(&rx, a.ph.fd);
	size_t off;
	double db = mt_level_db(&rx, 400, &off);
	double hz = peak_hz(rx.pcm + off, rx.n - off, rx.rate);
	print_message("    %s: %u packets back, %.1f dBFS at %.0f Hz, ssrc %08x\n", d->name,
		      rx.pkts, db, hz, rx.ssrc);
	assert_true(rx.pkts >= 40);
	assert_int_not_equal(rx.ssrc, 0xe1); /* our stream, not the phone's */
	assert_int_equal(rx.ssrcs, 0);
	assert_int_equal(rx.bad_seq, 0);
	assert_true(fabs(hz - 1000) <= 10);
	assert_true(db > -20 && db < -6);
	struct media_call_stats st = mt_destroy(t, a.id);
	assert_true(st.leg[0].latched);
	assert_true(st.leg[0].decoded);
	assert_int_equal(st.leg[0].rx_packets, 50);
	/* and what the phone's last frames' concealment made after the drain */
	assert_true(st.leg[0].tx_packets >= rx.pkts && st.leg[0].tx_packets <= rx.pkts + 4);
	assert_int_equal(st.leg[1].rx_packets + st.leg[1].tx_packets, 0);
	assert_true(st.duration_ms >= 900); /* since media_leg_start */
	mt_tx_free(&tx);
	mt_rx_free(&rx);
	close(a.ph.fd);
}

static void test_echo_pcmu(void **state)
{
	echo_codec(*state, &codec_pcmu, 0);
}

static void test_echo_g722(void **state)
{
	echo_codec(*state, &codec_g722, 9);
}

static void test_echo_opus(void **state)
{
	echo_codec(*state, &codec_opus, 111);
}

/* Goertzel amplitude at hz of the last ms of what rx decoded. */
static double tail_amp(const struct mt_rx *rx, unsigned ms, double hz)
{
	size_t n = (size_t)rx->rate / 1000 * ms;
	assert_true(rx->n >= n);
	return goertzel_amp(rx->pcm + rx->n - n, n, rx->rate, hz);
}

/* During an echo: '#' comes as an event and is not sent back; a beep to
 * the leg is heard instead of the echo, which resumes after it; echo off
 * is silence. */
static void test_echo_dtmf_tone_off(void **state)
{
	struct mt *t = *state;
	struct app a;
	struct media_fmt f = mt_fmt(&codec_pcmu, 0, 20, 101);
	app_up(t, &a, &f, NULL, true);
	assert_int_equal(media_leg_echo(t->me, a.id, 0, true), 0);
	struct mt_tx tx;
	struct mt_rx rx;
	mt_tx_init(&tx, &codec_pcmu, 0, 20, 600, -12, 0xe2);
	mt_rx_init(&rx, &codec_pcmu, 0);
	app_talk(t, &a, &tx, 20, &rx);
	assert_true(fabs(peak_hz(rx.pcm + rx.n - 1600, 1600, 8000) - 600) <= 10);

	/* '#' for 200 ms as a phone sends it (the audio pauses meanwhile) */
	uint8_t b[64];
	for (int i = 1; i <= 13; i++) {
		bool end = i >= 11;
		size_t h = mt_rtp_hdr(b, 101, i == 1, tx.seq++, tx.ts, tx.ssrc);
		dtmf4733_encode(b + h, 11, end, 10, (uint16_t)((end ? 10 : i) * 160));
		mt_send(a.ph.fd, a.port, b, h + 4);
		mt_run(t, end ? 5 : 20);
	}
	tx.ts += 10 * 160;
	const struct media_event *e = mt_wait(t, MEDIA_EV_DTMF, a.id, 0, 500);
	assert_non_null(e);
	assert_int_equal(e->digit, '#');
	assert_int_equal(e->dtmf_src, MEDIA_DTMF_RFC4733);
	app_talk(t, &a, &tx, 10, &rx);
	assert_int_equal(rx.other, 0); /* no telephone-event came back */
	assert_int_equal(mt_count(t, MEDIA_EV_DTMF, a.id), 0);

	/* a beep (1000 Hz, 250 ms) overrides the echo while it plays */
	assert_int_equal(media_leg_tone(t->me, a.id, 0, "beep", 9), 0);
	rx.n = 0;
	app_talk(t, &a, &tx, 8, &rx);
	double b1k = tail_amp(&rx, 80, 1000), b600 = tail_amp(&rx, 80, 600);
	print_message("    during the beep: 1000 Hz %.0f, 600 Hz %.0f\n", b1k, b600);
	assert_true(b1k > 3000 && b600 < 300);
	app_talk(t, &a, &tx, 10, &rx);
	e = mt_wait(t, MEDIA_EV_PLAY_DONE, a.id, 0, 500);
	assert_non_null(e);
	assert_int_equal(e->tag, 9);
	assert_int_equal(e->err, 0);
	/* ... and the echo is back */
	rx.n = 0;
	app_talk(t, &a, &tx, 20, &rx);
	double a1k = tail_amp(&rx, 200, 1000), a600 = tail_amp(&rx, 200, 600);
	print_message("    after the beep: 1000 Hz %.0f, 600 Hz %.0f\n", a1k, a600);
	assert_true(a600 > 3000 && a1k < 300);

	/* echo off: the phone is still heard (stats) but hears nothing */
	assert_int_equal(media_leg_echo(t->me, a.id, 0, false), 0);
	app_talk(t, &a, &tx, 5, &rx);
	unsigned before = rx.pkts;
	app_talk(t, &a, &tx, 20, &rx);
	print_message("    echo off: %u packets back in 400 ms\n", rx.pkts - before);
	assert_int_equal(rx.pkts, before);
	struct media_call_stats st = mt_destroy(t, a.id);
	assert_int_equal(st.leg[0].rx_packets, 20 + 13 + 10 + 8 + 10 + 20 + 25);
	mt_tx_free(&tx);
	mt_rx_free(&rx);
	close(a.ph.fd);
}

/* An SRTP phone (G.722) hears its echo protected with our key, which
 * its context unprotects; the leg was started after its keys were set. */
static void test_echo_srtp(void **state)
{
	struct mt *t = *state;
	struct app a;
	struct media_fmt f = mt_fmt(&codec_g722, 9, 20, 101);
	app_up(t, &a, &f, NULL, false);
	struct sdes_key ours, phone;
	struct srtp_ctx *ph;
	assert_int_equal(sdes_key_generate(&ours, SDES_AES_CM_128_HMAC_SHA1_80, 1), 0);
	assert_int_equal(sdes_key_generate(&phone, SDES_AES_CM_128_HMAC_SHA1_80, 1), 0);
	assert_int_equal(srtp_ctx_alloc(&ph, &phone, &ours), 0);
	assert_int_equal(media_leg_set_srtp(t->me, a.id, 0, &ours, &phone), 0);
	assert_int_equal(media_leg_start(t->me, a.id, 0), 0);
	assert_int_equal(media_leg_echo(t->me, a.id, 0, true), 0);
	struct mt_tx tx;
	struct mt_rx rx;
	mt_tx_init(&tx, &codec_g722, 9, 20, 800, -12, 0xe5);
	mt_rx_init(&rx, &codec_g722, 9);
	tx.srtp = ph;
	rx.srtp = ph;
	app_talk(t, &a, &tx, 40, &rx);
	size_t off;
	double db = mt_level_db(&rx, 300, &off);
	double hz = peak_hz(rx.pcm + off, rx.n - off, rx.rate);
	print_message("    SRTP G.722: %u packets back, %.1f dBFS at %.0f Hz\n", rx.pkts, db, hz);
	assert_true(rx.pkts >= 30);
	assert_true(fabs(hz - 800) <= 10 && db > -20);
	mt_destroy(t, a.id);
	srtp_ctx_free(ph);
	mt_tx_free(&tx);
	mt_rx_free(&rx);
	close(a.ph.fd);
}

/* Both phones talk for n packets; ra/rb take what each hears. */
static void both_talk(struct mt *t, struct mt_call *c, struct mt_tx *a, struct mt_tx *b,
		      unsigned n, struct mt_rx *ra, struct mt_rx *rb)
{
	uint8_t buf[1600];
	uint64_t due = mt_now_ms();
	for (unsigned i = 0; i < n; i++) {
		mt_send(c->ph[0].fd, c->port[0], buf, mt_tx_next(a, buf));
		mt_send(c->ph[1].fd, c->port[1], buf, mt_tx_next(b, buf));
		due += 20;
		mt_run(t, (int)(due - mt_now_ms()));
		mt_rx_drain(ra, c->ph[0].fd);
		mt_rx_drain(rb, c->ph[1].fd);
	}
}

/* Echo on one leg of a bridged call: that phone hears itself instead of
 * the other, which still hears it as before (pass-through); off: the
 * relay as it was. */
static void test_echo_bridged(void **state)
{
	struct mt *t = *state;
	struct mt_call c;
	struct media_fmt f = mt_fmt(&codec_pcmu, 0, 20, 101);
	mt_call_up(t, &c, &f, &f);
	struct mt_tx a, b;
	struct mt_rx ra, rb;
	mt_tx_init(&a, &codec_pcmu, 0, 20, 1000, -12, 0xa);
	mt_tx_init(&b, &codec_pcmu, 0, 20, 500, -12, 0xb);
	mt_rx_init(&ra, &codec_pcmu, 0);
	mt_rx_init(&rb, &codec_pcmu, 0);
	assert_int_equal(media_leg_echo(t->me, c.id, 0, true), 0);
	both_talk(t, &c, &a, &b, 30, &ra, &rb);
	double a1k = tail_amp(&ra, 200, 1000), a500 = tail_amp(&ra, 200, 500);
	print_message("    echo on leg 0: A hears 1000 Hz %.0f, 500 Hz %.0f; B ssrc %x\n", a1k,
		      a500, rb.ssrc);
	assert_true(a1k > 3000 && a500 < 300);
	assert_int_not_equal(ra.ssrc, 0xb);
	assert_int_equal(rb.ssrc, 0xa); /* B: A's own packets, untouched */
	assert_true(fabs(peak_hz(rb.pcm + rb.n - 1600, 1600, 8000) - 1000) <= 10);
	assert_int_equal(media_leg_echo(t->me, c.id, 0, false), 0);
	ra.n = 0;
	both_talk(t, &c, &a, &b, 20, &ra, &rb);
	a1k = tail_amp(&ra, 200, 1000);
	a500 = tail_amp(&ra, 200, 500);
	print_message("    echo off: A hears 1000 Hz %.0f, 500 Hz %.0f, ssrc %x\n", a1k, a500,
		      ra.ssrc);
	assert_true(a500 > 3000 && a1k < 300);
	assert_int_equal(ra.ssrc, 0xb); /* pass-through again */
	mt_destroy(t, c.id);
	mt_tx_free(&a);
	mt_tx_free(&b);
	mt_rx_free(&ra);
	mt_rx_free(&rb);
	mt_phones_close(&c);
}

/* An in-band '5' from a phone without telephone-event: reported, and
 * replaced by silence in the echo (but for the detector's first frames). */
static void test_echo_inband_digit(void **state)
{
	struct mt *t = *state;
	struct app a;
	struct media_fmt f = mt_fmt(&codec_pcmu, 0, 20, -1);
	app_up(t, &a, &f, NULL, true);
	assert_int_equal(media_leg_echo(t->me, a.id, 0, true), 0);
	struct dtmf_inband_tx *gen;
	assert_int_equal(dtmf_inband_tx_alloc(&gen), 0);
	struct codec_enc *enc;
	assert_int_equal(codec_enc_alloc(&enc, &codec_pcmu, NULL), 0);
	struct mt_rx rx;
	mt_rx_init(&rx, &codec_pcmu, 0);
	uint8_t b[300];
	uint64_t due = mt_now_ms();
	for (uint16_t s = 0; s < 40; s++) {
		int16_t pcm[160] = { 0 };
		if (s == 10)
			assert_int_equal(dtmf_inband_tx_put(gen, "5", 200, 60), 0);
		if (s >= 10)
			dtmf_inband_tx_gen(gen, pcm, 160);
		size_t h = mt_rtp_hdr(b, 0, false, s, s * 160u, 0x15);
		assert_int_equal(codec_encode(enc, pcm, 160, b + h, 200), 160);
		mt_send(a.ph.fd, a.port, b, h + 160);
		due += 20;
		mt_run(t, (int)(due - mt_now_ms()));
		mt_rx_drain(&rx, a.ph.fd);
	}
	mt_run(t, 100);
	mt_rx_drain(&rx, a.ph.fd);
	const struct media_event *e = mt_wait(t, MEDIA_EV_DTMF, a.id, 0, 500);
	assert_non_null(e);
	assert_int_equal(e->digit, '5');
	assert_int_equal(e->dtmf_src, MEDIA_DTMF_INBAND);
	/* 20 ms frames of the echo that still carry the digit's tones */
	unsigned loud = 0;
	for (size_t i = 0; i + 160 <= rx.n; i += 160)
		if (rms(rx.pcm + i, 160) > 500)
			loud++;
	print_message("    %u packets back, %u of them with the digit (sent: 10)\n",
		      rx.pkts, loud);
	assert_true(rx.pkts >= 30);
	assert_true(loud <= 4);
	mt_destroy(t, a.id);
	dtmf_inband_tx_free(gen);
	codec_enc_free(enc);
	mt_rx_free(&rx);
	close(a.ph.fd);
}

/* A phone behind NAT: its SDP names an address its packets do not come
 * from; the echo follows its packets all the same (the window of
 * media_leg_set_format). Its silence is reported, and a re-INVITE that
 * moves it followed, only once media_leg_start made the leg live. */
static void test_lone_leg_start(void **state)
{
	struct mt *t = *state;
	struct mt_phone outside; /* the NAT's address: never hears anything */
	mt_phone_open(&outside);
	struct app a;
	struct media_fmt f = mt_fmt(&codec_pcmu, 0, 20, 101);
	app_up(t, &a, &f, &outside.addr, false);
	assert_int_equal(media_leg_echo(t->me, a.id, 0, true), 0);
	struct mt_tx tx;
	struct mt_rx rx, rxo;
	mt_tx_init(&tx, &codec_pcmu, 0, 20, 1000, -12, 0xe3);
	mt_rx_init(&rx, &codec_pcmu, 0);
	mt_rx_init(&rxo, &codec_pcmu, 0);
	app_talk(t, &a, &tx, 15, &rx);
	mt_rx_drain(&rxo, outside.fd);
	print_message("    not started: %u packets to the phone, %u to its SDP address\n",
		      rx.pkts, rxo.pkts);
	assert_true(rx.pkts >= 8);
	assert_int_equal(rxo.pkts, 0);
	assert_non_null(mt_wait(t, MEDIA_EV_LATCHED, a.id, 0, 100));
	/* silent for twice rtp_timeout_ms: not live, so no timeout */
	mt_run(t, 1200);
	assert_int_equal(mt_count(t, MEDIA_EV_RTP_TIMEOUT, a.id), 0);

	assert_int_equal(media_leg_start(t->me, a.id, 0), 0);
	assert_int_equal(media_leg_start(t->me, a.id, 0), 0); /* again: no-op */
	mt_barrier(t, a.id);
	app_talk(t, &a, &tx, 5, &rx);
	const struct media_event *e = mt_wait(t, MEDIA_EV_RTP_TIMEOUT, a.id, 0, 1500);
	assert_non_null(e);

	/* a re-INVITE moves the phone to another address */
	struct app b = a;
	mt_phone_open(&b.ph);
	struct media_remote r;
	memset(&r, 0, sizeof(r));
	memcpy(&r.rtp, &b.ph.addr, sizeof(r.rtp));
	assert_int_equal(media_leg_set_remote(t->me, a.id, 0, &r), 0);
	mt_barrier(t, a.id);
	struct mt_rx rxb;
	mt_rx_init(&rxb, &codec_pcmu, 0);
	app_talk(t, &b, &tx, 25, &rxb);
	print_message("    moved: %u packets to its new address\n", rxb.pkts);
	assert_true(rxb.pkts >= 15);
	size_t off;
	mt_level_db(&rxb, 200, &off);
	assert_true(fabs(peak_hz(rxb.pcm + off, rxb.n - off, 8000) - 1000) <= 10);
	struct media_call_stats st = mt_destroy(t, a.id);
	assert_true(st.leg[0].latched);
	assert_true(sa_same(&st.leg[0].rtp_peer, &b.ph.addr));
	/* the first PROBATION - 1 from the unsignalled source were
	 * its probation: dropped */
	assert_int_equal(st.leg[0].rx_packets, 15 + 5 + 25 - (PROBATION - 1));
	assert_true(st.duration_ms >= 500 && st.duration_ms < 1500); /* since start */
	mt_tx_free(&tx);
	mt_rx_free(&rx);
	mt_rx_free(&rxo);
	mt_rx_free(&rxb);
	close(a.ph.fd);
	close(b.ph.fd);
	close(outside.fd);
}

/* mt_setup with a short latching window and RTP timeout. */
static int app_setup(void **state)
{
	struct media_cfg cfg = { .rtcp_interval_ms = 60000, .latch_ms = 300, .rtp_timeout_ms = 600 };
	return mt_setup_cfg(state, &cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ringback_alone, mt_setup, mt_teardown),
		cmocka_unit_test_setup_teardown(test_play_files, mt_setup, mt_teardown),
		cmocka_unit_test_setup_teardown(test_record_stereo, mt_setup, mt_teardown),
		cmocka_unit_test_setup_teardown(test_echo_pcmu, mt_setup, mt_teardown),
		cmocka_unit_test_setup_teardown(test_echo_g722, mt_setup, mt_teardown),
		cmocka_unit_test_setup_teardown(test_echo_opus, mt_setup, mt_teardown),
		cmocka_unit_test_setup_teardown(test_echo_dtmf_tone_off, mt_setup, mt_teardown),
		cmocka_unit_test_setup_teardown(test_echo_inband_digit, mt_setup, mt_teardown),
		cmocka_unit_test_setup_teardown(test_echo_bridged, mt_setup, mt_teardown),
		cmocka_unit_test_setup_teardown(test_echo_srtp, mt_setup, mt_teardown),
		cmocka_unit_test_setup_teardown(test_lone_leg_start, app_setup, mt_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
