/*
 * Unit tests for the playback sources (core/media/audio/asource.c,
 * asource_tone.c). Files are written into a temporary directory with
 * libsndfile (a 44.1 kHz stereo WAV, 16 kHz and 8 kHz mono ones), played
 * at 8000 and 16000 Hz, and checked for their frequency (Goertzel scan,
 * codec_test_util.h), level, length at the new rate and order; lists,
 * looping and the open errors. Tones are checked for their frequencies,
 * level, cadence (exact silence in the pauses), one-shot ends, phase
 * continuity and long-run stability, and every kind of bad spec. Reading
 * must not allocate (ASan's malloc hook counts).
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
#include <unistd.h>

#include <sndfile.h>

#include "../../core/media/audio/asource.h"
#include "codec_test_util.h"

static char tmpdir[64];

/* dBFS of the test tones in the files, and the tones' expected peak
 * amplitude (-13 dBm0, a full-scale sine being +3.14 dBm0). */
#define FILE_DB (-6.0)
#define TONE_AMP (32767.0 * 0.15566)

static const char *tpath(const char *name)
{
	static char p[8][128];
	static unsigned k;
	char *s = p[k++ % 8];
	snprintf(s, sizeof(p[0]), "%s/%s", tmpdir, name);
	return s;
}

/* A 16-bit WAV of ms milliseconds of hz on every channel. */
static const char *write_wav(const char *name, uint32_t rate, int channels, double hz,
			     unsigned ms)
{
	const char *path = tpath(name);
	SF_INFO info = { .samplerate = (int)rate, .channels = channels,
			 .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16 };
	size_t n = (size_t)rate * ms / 1000;
	int16_t *mono = malloc(n * sizeof(*mono));
	int16_t *il = malloc(n * (size_t)channels * sizeof(*il));
	SNDFILE *sf = sf_open(path, SFM_WRITE, &info);

	assert_non_null(sf);
	sine(mono, n, rate, hz, FILE_DB);
	for (size_t i = 0; i < n; i++)
		for (int c = 0; c < channels; c++)
			il[i * (size_t)channels + (size_t)c] = mono[i];
	assert_int_equal(sf_writef_short(sf, il, (sf_count_t)n), (sf_count_t)n);
	assert_int_equal(sf_close(sf), 0);
	free(mono);
	free(il);
	return path;
}

/* Reads s in 20 ms frames until it ends (or cap): the samples read. Every
 * frame but the last must be whole, and a read after the end gives 0. */
static size_t read_all(struct asource *s, int16_t *buf, size_t cap, uint32_t rate)
{
	size_t f = rate / 50, got = 0;

	for (;;) {
		size_t want = cap - got < f ? cap - got : f;
		if (!want)
			return got;
		size_t k = asource_read(s, buf + got, want);
		got += k;
		if (k < want)
			break;
	}
	assert_int_equal(asource_read(s, buf, f), 0);
	assert_int_equal(asource_error(s), 0);
	return got;
}

/* --- files ---------------------------------------------------------------- */

static void play_resampled(uint32_t rate)
{
	const char *path = write_wav("cd.wav", 44100, 2, 600, 1000);
	struct asource *s;
	size_t cap = rate * 2;
	int16_t *buf = calloc(cap, sizeof(*buf));

	assert_int_equal(asource_open_files(&s, &path, 1, false, rate), 0);
	size_t n = read_all(s, buf, cap, rate);
	/* one second at the new rate, to the sample */
	assert_int_equal(n, rate);
	/* a 600 Hz tone at its level, over the middle half second */
	size_t a = rate / 4, len = rate / 2;
	assert_true(fabs(peak_hz(buf + a, len, rate) - 600) < 1);
	double amp = goertzel_amp(buf + a, len, rate, 600);
	assert_true(fabs(amp - 32767 * db2lin(FILE_DB)) < 0.05 * 32767 * db2lin(FILE_DB));
	/* the resampler's latency is dropped: the tone is there from the
	 * first millisecond, and runs to the last */
	assert_true(rms(buf + rate / 1000, rate / 200) > 0.8 * amp / sqrt(2));
	assert_true(rms(buf + n - rate / 200, rate / 200) > 0.8 * amp / sqrt(2));
	asource_free(s);
	free(buf);
}

static void test_file_8k(void **state)
{
	(void)state;
	play_resampled(8000);
}

static void test_file_16k(void **state)
{
	(void)state;
	play_resampled(16000);
}

/* A file at the rate asked for comes out sample for sample. */
static void test_file_native(void **state)
{
	(void)state;
	const char *path = write_wav("native.wav", 8000, 1, 440, 300);
	int16_t ref[2400], buf[4000];
	struct asource *s;

	sine(ref, 2400, 8000, 440, FILE_DB);
	assert_int_equal(asource_open_files(&s, &path, 1, false, 8000), 0);
	assert_int_equal(read_all(s, buf, 4000, 8000), 2400);
	assert_memory_equal(buf, ref, sizeof(ref));
	asource_free(s);
}

/* Channels are averaged: a three-channel file with 600 Hz on the first
 * channel only and 1000 Hz on the other two. */
static void test_file_mixdown(void **state)
{
	(void)state;
	const char *path = tpath("three.wav");
	SF_INFO info = { .samplerate = 8000, .channels = 3,
			 .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16 };
	int16_t a[4000], b[4000], il[12000], buf[5000];
	struct asource *s;
	SNDFILE *sf = sf_open(path, SFM_WRITE, &info);

	assert_non_null(sf);
	sine(a, 4000, 8000, 600, FILE_DB);
	sine(b, 4000, 8000, 1000, FILE_DB);
	for (size_t i = 0; i < 4000; i++) {
		il[3 * i] = a[i];
		il[3 * i + 1] = il[3 * i + 2] = b[i];
	}
	assert_int_equal(sf_writef_short(sf, il, 4000), 4000);
	sf_close(sf);
	assert_int_equal(asource_open_files(&s, &path, 1, false, 8000), 0);
	assert_int_equal(read_all(s, buf, 5000, 8000), 4000);
	double full = 32767 * db2lin(FILE_DB);
	assert_true(fabs(goertzel_amp(buf, 4000, 8000, 600) - full / 3) < 0.02 * full);
	assert_true(fabs(goertzel_amp(buf, 4000, 8000, 1000) - full * 2 / 3) < 0.02 * full);
	asource_free(s);
}

/* Two files of different rates play in order, each at its full length. */
static void test_file_list(void **state)
{
	(void)state;
	const char *paths[2] = {
		write_wav("a.wav", 44100, 2, 600, 500),
		write_wav("b.wav", 16000, 1, 1000, 300),
	};
	int16_t buf[16000];
	struct asource *s;

	assert_int_equal(asource_open_files(&s, paths, 2, false, 8000), 0);
	assert_int_equal(read_all(s, buf, 16000, 8000), 4000 + 2400);
	assert_true(fabs(peak_hz(buf + 800, 2400, 8000) - 600) < 1);
	assert_true(fabs(peak_hz(buf + 4400, 1600, 8000) - 1000) < 1);
	/* each part holds only its own tone */
	assert_true(goertzel_amp(buf + 800, 2400, 8000, 1000) < 100);
	assert_true(goertzel_amp(buf + 4400, 1600, 8000, 600) < 100);
	asource_free(s);
}

/* A looped list starts over: the native file repeats exactly, and a
 * resampled one keeps its tone across the seams. */
static void test_file_loop(void **state)
{
	(void)state;
	const char *native = write_wav("loop8k.wav", 8000, 1, 500, 200);
	const char *cd = write_wav("loopcd.wav", 44100, 2, 600, 250);
	int16_t buf[8000];
	struct asource *s;

	assert_int_equal(asource_open_files(&s, &native, 1, true, 8000), 0);
	for (size_t i = 0; i < 8000; i += 160)
		assert_int_equal(asource_read(s, buf + i, 160), 160);
	for (size_t i = 1600; i < 8000; i++)
		assert_int_equal(buf[i], buf[i - 1600]);
	asource_free(s);

	assert_int_equal(asource_open_files(&s, &cd, 1, true, 16000), 0);
	for (int pass = 0; pass < 3; pass++) {
		assert_int_equal(asource_read(s, buf, 4000), 4000); /* one pass */
		assert_true(fabs(peak_hz(buf + 400, 3200, 16000) - 600) < 1);
	}
	assert_int_equal(asource_read(s, buf, 8000), 8000);
	asource_free(s);
}

static void test_file_errors(void **state)
{
	(void)state;
	const char *good = write_wav("good.wav", 8000, 1, 440, 100);
	const char *missing = tpath("missing.wav");
	const char *text = tpath("notes.txt");
	const char *empty = tpath("empty.wav");
	struct asource *s = NULL;
	FILE *f;

	f = fopen(text, "w");
	assert_non_null(f);
	fputs("This is a text file, not a sound.\nIt has two lines.\n", f);
	fclose(f);
	SF_INFO info = { .samplerate = 8000, .channels = 1,
			 .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16 };
	SNDFILE *sf = sf_open(empty, SFM_WRITE, &info);
	assert_non_null(sf);
	sf_close(sf);

	assert_int_equal(asource_open_files(&s, &missing, 1, false, 8000), ENOENT);
	assert_int_equal(asource_open_files(&s, &text, 1, false, 8000), EBADMSG);
	assert_int_equal(asource_open_files(&s, &empty, 1, false, 8000), EBADMSG);
	const char *dir = tmpdir;
	assert_int_equal(asource_open_files(&s, &dir, 1, false, 8000), EBADMSG);
	/* every file of a list is checked */
	const char *list[3] = { good, good, missing };
	assert_int_equal(asource_open_files(&s, list, 3, false, 8000), ENOENT);
	list[2] = text;
	assert_int_equal(asource_open_files(&s, list, 3, false, 8000), EBADMSG);
	list[2] = NULL;
	assert_int_equal(asource_open_files(&s, list, 3, false, 8000), EINVAL);
	/* arguments */
	assert_int_equal(asource_open_files(&s, list, 0, false, 8000), EINVAL);
	const char *many[ASOURCE_MAX_FILES + 1];
	for (size_t i = 0; i <= ASOURCE_MAX_FILES; i++)
		many[i] = good;
	assert_int_equal(asource_open_files(&s, many, ASOURCE_MAX_FILES + 1, false, 8000),
			 EINVAL);
	assert_int_equal(asource_open_files(&s, &good, 1, false, 44100), EINVAL);
	assert_int_equal(asource_open_files(&s, &good, 1, false, 0), EINVAL);
	assert_int_equal(asource_open_files(NULL, &good, 1, false, 8000), EINVAL);
	assert_int_equal(asource_open_files(&s, NULL, 1, false, 8000), EINVAL);
	assert_null(s);
	/* the full list opens (and 16 files are allowed) */
	assert_int_equal(asource_open_files(&s, many, ASOURCE_MAX_FILES, false, 8000), 0);
	int16_t buf[16 * 800 + 160];
	assert_int_equal(read_all(s, buf, sizeof(buf) / 2, 8000), 16 * 800);
	asource_free(s);
	/* NULL is harmless */
	assert_int_equal(asource_read(NULL, buf, 160), 0);
	assert_int_equal(asource_error(NULL), 0);
	asource_free(NULL);
	unlink(text);
	unlink(empty);
}

/* --- tones ---------------------------------------------------------------- */

static void check_on(const int16_t *x, size_t n, uint32_t rate, double f1, double f2)
{
	assert_true(fabs(goertzel_amp(x, n, rate, f1) - TONE_AMP) < 0.05 * TONE_AMP);
	if (f2 > 0)
		assert_true(fabs(goertzel_amp(x, n, rate, f2) - TONE_AMP) < 0.05 * TONE_AMP);
	/* and nothing else (no tone here uses 2500 Hz) */
	assert_true(goertzel_amp(x, n, rate, 2500) < 0.02 * TONE_AMP);
}

static void check_silent(const int16_t *x, size_t n)
{
	for (size_t i = 0; i < n; i++)
		assert_int_equal(x[i], 0);
}

static void ringback_at(uint32_t rate)
{
	size_t n = (size_t)rate * 8;
	int16_t *buf = malloc(n * sizeof(*buf));
	struct asource *s;

	assert_int_equal(asource_open_tone(&s, "ringback", rate), 0);
	for (size_t i = 0; i < n; i += rate / 50)
		assert_int_equal(asource_read(s, buf + i, rate / 50), rate / 50);
	/* 440 + 480 for the first 2 s (and only during them), 4 s of silence,
	 * then again */
	check_on(buf, 2 * rate, rate, 440, 480);
	assert_true(rms(buf + 2 * rate - rate / 100, rate / 100) > 0.5 * TONE_AMP);
	check_silent(buf + 2 * rate, 4 * rate);
	check_on(buf + 6 * rate, 2 * rate, rate, 440, 480);
	assert_int_equal(asource_error(s), 0);
	asource_free(s);
	free(buf);
}

static void test_ringback(void **state)
{
	(void)state;
	ringback_at(8000);
	ringback_at(16000);
	ringback_at(48000);
}

static void test_busy_congestion(void **state)
{
	(void)state;
	int16_t buf[16000];
	struct asource *s;

	assert_int_equal(asource_open_tone(&s, "busy", 8000), 0);
	assert_int_equal(asource_read(s, buf, 16000), 16000);
	for (int k = 0; k < 2; k++) {
		check_on(buf + 8000 * k, 4000, 8000, 480, 620);
		check_silent(buf + 8000 * k + 4000, 4000);
	}
	asource_free(s);
	assert_int_equal(asource_open_tone(&s, "congestion", 16000), 0);
	assert_int_equal(asource_read(s, buf, 16000), 16000);
	for (int k = 0; k < 2; k++) {
		check_on(buf + 8000 * k, 4000, 16000, 480, 620);
		check_silent(buf + 8000 * k + 4000, 4000);
	}
	asource_free(s);
}

static void test_beep(void **state)
{
	(void)state;
	int16_t buf[16000];
	struct asource *s;

	assert_int_equal(asource_open_tone(&s, "beep", 8000), 0);
	assert_int_equal(read_all(s, buf, 16000, 8000), 2000); /* 250 ms */
	check_on(buf, 2000, 8000, 1000, 0);
	asource_free(s);
	/* the same as a spec without a pause: once */
	assert_int_equal(asource_open_tone(&s, "1000/250", 48000), 0);
	assert_int_equal(read_all(s, buf, 16000, 48000), 12000);
	asource_free(s);
}

/* "dial" never ends; its level holds over a minute at 48 kHz (the
 * oscillator neither grows nor fades) and parts of the same frequencies
 * join without a click. */
static void test_dial_and_continuity(void **state)
{
	(void)state;
	int16_t buf[9600];
	struct asource *s;

	assert_int_equal(asource_open_tone(&s, "dial", 48000), 0);
	for (int i = 0; i < 60 * 5; i++)
		assert_int_equal(asource_read(s, buf, 9600), 9600);
	check_on(buf, 9600, 48000, 350, 440);
	asource_free(s);

	/* 250 Hz for 1001 ms is 250.25 periods: the first part ends on a crest,
	 * and a phase restart there would drop by the whole amplitude */
	assert_int_equal(asource_open_tone(&s, "250/1001,250/1001", 8000), 0);
	int16_t *x = malloc(20000 * sizeof(*x));
	assert_int_equal(read_all(s, x, 20000, 8000), 16016);
	assert_true(x[8007] > 0.95 * TONE_AMP);
	double maxstep = TONE_AMP * 2 * M_PI * 250 / 8000 * 1.01 + 1;
	for (size_t i = 1; i < 16016; i++)
		assert_true(fabs((double)x[i] - x[i - 1]) <= maxstep);
	free(x);
	asource_free(s);

	/* after a pause a part starts at phase 0 */
	assert_int_equal(asource_open_tone(&s, "700/100/50", 8000), 0);
	assert_int_equal(asource_read(s, buf, 2400), 2400);
	assert_int_equal(buf[0], 0);
	assert_int_equal(buf[1200], 0);
	assert_true(buf[1201] > 0);
	asource_free(s);
}

/* A spec with parts and a pause plays them in order and repeats. */
static void test_spec(void **state)
{
	(void)state;
	int16_t buf[8000];
	struct asource *s;

	assert_int_equal(asource_open_tone(&s, "1000/100,2000+500/100/50", 16000), 0);
	assert_int_equal(asource_read(s, buf, 8000), 8000); /* 500 ms: 2 rounds */
	for (int k = 0; k < 2; k++) {
		const int16_t *r = buf + 4000 * k;
		assert_true(fabs(goertzel_amp(r, 1600, 16000, 1000) - TONE_AMP) < 0.05 * TONE_AMP);
		assert_true(goertzel_amp(r, 1600, 16000, 2000) < 0.02 * TONE_AMP);
		check_on(r + 1600, 1600, 16000, 2000, 500);
		check_silent(r + 3200, 800);
	}
	asource_free(s);
	/* 4000 Hz is fine where the rate can carry it */
	assert_int_equal(asource_open_tone(&s, "4000/10", 16000), 0);
	asource_free(s);
	assert_int_equal(asource_open_tone(&s, "50+4000/60000/60000", 48000), 0);
	asource_free(s);
	assert_int_equal(asource_open_tone(&s, "1/10,2/10,3/10,4/10,5/10,6/10,7/10,8/10",
					   8000), EINVAL);
	assert_int_equal(asource_open_tone(&s, "51/10,52/10,53/10,54/10,55/10,56/10,57/10,58/10",
					   8000), 0);
	asource_free(s);
}

static void test_bad_specs(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"", "ring", "Ringback", "440", "440/", "440/9", "440/60001", "49/100",
		"4001/100", "440+480+620/100", "440+/100", "+440/100", "440++480/100",
		"440/100/", "440/100/60001", "440/100,", ",440/100", "440/100,,480/100",
		"440/100x", " 440/100", "440 /100", "-440/100", "440/-100", "440.5/100",
		"440/100/100/100", "99999999999999999999/100", "440/99999999999999999999",
		"1000/100,1000/100,1000/100,1000/100,1000/100,1000/100,1000/100,1000/100,1000/100",
	};
	struct asource *s = NULL;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (asource_open_tone(&s, bad[i], 8000) != EINVAL)
			fail_msg("spec \"%s\" was accepted", bad[i]);
	}
	/* at 8 kHz 4000 Hz is the Nyquist frequency: it cannot be played */
	assert_int_equal(asource_open_tone(&s, "4000/100", 8000), EINVAL);
	assert_int_equal(asource_open_tone(&s, NULL, 8000), EINVAL);
	assert_int_equal(asource_open_tone(&s, "ringback", 44100), EINVAL);
	assert_int_equal(asource_open_tone(NULL, "ringback", 8000), EINVAL);
	assert_null(s);
}

/* --- no allocation when reading ---------------------------------------------- */

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

static void test_no_alloc(void **state)
{
	(void)state;
	const char *paths[2] = {
		write_wav("na1.wav", 44100, 2, 600, 100),
		write_wav("na2.wav", 8000, 1, 600, 100),
	};
	struct asource *src[3];
	int16_t buf[960];

	if (!__sanitizer_install_malloc_and_free_hooks) {
		print_message("  (no ASan: allocation check skipped)\n");
		return;
	}
	assert_int_not_equal(__sanitizer_install_malloc_and_free_hooks(on_malloc, on_free), 0);
	void *volatile probe;
	allocs = 0;
	counting = true;
	probe = malloc(16);
	counting = false;
	free(probe);
	assert_int_equal(allocs, 1);

	assert_int_equal(asource_open_files(&src[0], paths, 2, true, 48000), 0);
	assert_int_equal(asource_open_tone(&src[1], "ringback", 16000), 0);
	assert_int_equal(asource_open_tone(&src[2], "1000/100,2000/100/100", 8000), 0);
	allocs = 0;
	counting = true;
	for (int i = 0; i < 100; i++) /* 2 s: the file list loops ten times */
		for (int k = 0; k < 3; k++)
			asource_read(src[k], buf, 960);
	counting = false;
	assert_int_equal(allocs, 0);
	for (int k = 0; k < 3; k++)
		asource_free(src[k]);
}

static int cleanup(void)
{
	static const char *const names[] = { "cd.wav", "native.wav", "a.wav", "b.wav",
		"loop8k.wav", "loopcd.wav", "good.wav", "na1.wav", "na2.wav", "three.wav" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		unlink(tpath(names[i]));
	return rmdir(tmpdir);
}

int main(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/hf-asource-XXXXXX");
	if (!mkdtemp(tmpdir))
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_file_8k),
		cmocka_unit_test(test_file_16k),
		cmocka_unit_test(test_file_native),
		cmocka_unit_test(test_file_mixdown),
		cmocka_unit_test(test_file_list),
		cmocka_unit_test(test_file_loop),
		cmocka_unit_test(test_file_errors),
		cmocka_unit_test(test_ringback),
		cmocka_unit_test(test_busy_congestion),
		cmocka_unit_test(test_beep),
		cmocka_unit_test(test_dial_and_continuity),
		cmocka_unit_test(test_spec),
		cmocka_unit_test(test_bad_specs),
		cmocka_unit_test(test_no_alloc),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	if (cleanup() != 0)
		fprintf(stderr, "temporary files left in %s\n", tmpdir);
	return rc;
}
