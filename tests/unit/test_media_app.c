/*
 * Playback, tones and recording through the media engine (media_leg_tone,
 * media_leg_play, media_leg_stop, media_call_record): what a leg hears and
 * what the recorder receives, and the PLAY_DONE / RECORD_DONE events.
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

#include "../../core/media/arecord.h"
#include "../../core/media/asource.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ringback_alone, mt_setup, mt_teardown),
		cmocka_unit_test_setup_teardown(test_play_files, mt_setup, mt_teardown),
		cmocka_unit_test_setup_teardown(test_record_stereo, mt_setup, mt_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
