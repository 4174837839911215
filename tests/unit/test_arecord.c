/*
 * Unit tests for call recording (core/media/audio/arecord.c). Recordings are
 * written into a temporary directory frame by frame, the way the media
 * worker does, and read back with libsndfile: format, channel count,
 * rate, length, what each channel holds (Goertzel, codec_test_util.h;
 * exact samples for PCM), saturation of the mono mix, silence for a
 * missing direction, Ogg/Opus length and tone, the duration counter,
 * the file mode whatever the umask, and the errors.
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
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sndfile.h>

#include "../../core/media/audio/arecord.h"
#include "codec_test_util.h"

static char tmpdir[64];

#define HZ_A 600.0
#define HZ_B 1000.0
#define DB (-12.0)

static const char *tpath(const char *name)
{
	static char p[4][128];
	static unsigned k;
	char *s = p[k++ % 4];
	snprintf(s, sizeof(p[0]), "%s/%s", tmpdir, name);
	return s;
}

/* Records secs seconds of a 600 Hz tone as a and 1000 Hz as b, in 20 ms
 * frames; b is NULL (silence) in the second half when b_gap. */
static void record(const char *path, enum arecord_format fmt, bool stereo, uint32_t rate,
		   unsigned secs, bool b_gap, int16_t *a, int16_t *b)
{
	struct arecord *r;
	size_t n = (size_t)rate * secs, f = rate / 50;

	sine(a, n, rate, HZ_A, DB);
	sine(b, n, rate, HZ_B, DB);
	assert_int_equal(arecord_open(&r, path, fmt, stereo, rate), 0);
	assert_int_equal(arecord_duration_ms(r), 0);
	for (size_t i = 0; i < n; i += f) {
		bool gap = b_gap && i >= n / 2;
		assert_int_equal(arecord_write(r, a + i, gap ? NULL : b + i, f), 0);
	}
	assert_int_equal(arecord_duration_ms(r), secs * 1000u);
	assert_int_equal(arecord_close(r), 0);
}

/* Opens path, checks its format, returns its samples (interleaved). */
static int16_t *load(const char *path, int major, int sub, int channels, uint32_t rate,
		     sf_count_t *frames)
{
	SF_INFO info = { 0 };
	SNDFILE *sf = sf_open(path, SFM_READ, &info);
	int16_t *x;

	assert_non_null(sf);
	assert_int_equal(info.format & SF_FORMAT_TYPEMASK, major);
	assert_int_equal(info.format & SF_FORMAT_SUBMASK, sub);
	assert_int_equal(info.channels, channels);
	assert_int_equal(info.samplerate, (int)rate);
	assert_true(info.frames > 0);
	x = calloc((size_t)info.frames * (size_t)channels, sizeof(*x));
	assert_int_equal(sf_readf_short(sf, x, info.frames), info.frames);
	sf_close(sf);
	*frames = info.frames;
	return x;
}

static void split(const int16_t *il, size_t n, int16_t *l, int16_t *r)
{
	for (size_t i = 0; i < n; i++) {
		l[i] = il[2 * i];
		r[i] = il[2 * i + 1];
	}
}

/* --- WAV ------------------------------------------------------------------- */

static void test_wav_mono(void **state)
{
	(void)state;
	const char *path = tpath("mono.wav");
	int16_t a[16000], b[16000];
	sf_count_t n;

	record(path, ARECORD_WAV, false, 8000, 2, false, a, b);
	int16_t *x = load(path, SF_FORMAT_WAV, SF_FORMAT_PCM_16, 1, 8000, &n);
	assert_int_equal(n, 16000);
	for (size_t i = 0; i < 16000; i++)
		assert_int_equal(x[i], a[i] + b[i]); /* -12 dBFS each: no clipping */
	double amp = 32767 * db2lin(DB);
	assert_true(fabs(goertzel_amp(x, 16000, 8000, HZ_A) - amp) < 0.01 * amp);
	assert_true(fabs(goertzel_amp(x, 16000, 8000, HZ_B) - amp) < 0.01 * amp);
	free(x);
}

static void test_wav_stereo(void **state)
{
	(void)state;
	const char *path = tpath("stereo.wav");
	int16_t a[32000], b[32000], l[32000], r[32000];
	sf_count_t n;

	record(path, ARECORD_WAV, true, 16000, 2, true, a, b);
	int16_t *x = load(path, SF_FORMAT_WAV, SF_FORMAT_PCM_16, 2, 16000, &n);
	assert_int_equal(n, 32000);
	split(x, 32000, l, r);
	/* left is exactly a, right exactly b, then silence where b was NULL */
	assert_memory_equal(l, a, sizeof(a));
	assert_memory_equal(r, b, 16000 * sizeof(*b));
	for (size_t i = 16000; i < 32000; i++)
		assert_int_equal(r[i], 0);
	double amp = 32767 * db2lin(DB);
	assert_true(goertzel_amp(l, 16000, 16000, HZ_A) > 0.99 * amp);
	assert_true(goertzel_amp(l, 16000, 16000, HZ_B) < 0.01 * amp);
	assert_true(goertzel_amp(r, 16000, 16000, HZ_B) > 0.99 * amp);
	assert_true(goertzel_amp(r, 16000, 16000, HZ_A) < 0.01 * amp);
	free(x);
}

/* The mono mix saturates instead of wrapping; NULL on both sides is
 * silence, and a frame of any length is taken whole. */
static void test_mono_saturation(void **state)
{
	(void)state;
	const char *path = tpath("sat.wav");
	int16_t hi[3000], lo[3000], mid[3000];
	struct arecord *r;
	sf_count_t n;

	for (size_t i = 0; i < 3000; i++) {
		hi[i] = 30000;
		lo[i] = -30000;
		mid[i] = (int16_t)(i % 2 ? 1234 : -4321);
	}
	assert_int_equal(arecord_open(&r, path, ARECORD_WAV, false, 8000), 0);
	assert_int_equal(arecord_write(r, hi, hi, 3000), 0);
	assert_int_equal(arecord_write(r, lo, lo, 3000), 0);
	assert_int_equal(arecord_write(r, hi, lo, 3000), 0);
	assert_int_equal(arecord_write(r, NULL, mid, 3000), 0);
	assert_int_equal(arecord_write(r, NULL, NULL, 3000), 0);
	assert_int_equal(arecord_write(r, hi, NULL, 0), 0);
	assert_int_equal(arecord_duration_ms(r), 15000 * 1000 / 8000);
	assert_int_equal(arecord_close(r), 0);
	int16_t *x = load(path, SF_FORMAT_WAV, SF_FORMAT_PCM_16, 1, 8000, &n);
	assert_int_equal(n, 15000);
	for (size_t i = 0; i < 3000; i++) {
		assert_int_equal(x[i], 32767);
		assert_int_equal(x[3000 + i], -32768);
		assert_int_equal(x[6000 + i], 0);
		assert_int_equal(x[9000 + i], mid[i]);
		assert_int_equal(x[12000 + i], 0);
	}
	free(x);
}

/* --- Ogg/Opus ---------------------------------------------------------------- */

static void opus_at(uint32_t rate, bool stereo)
{
	const char *path = tpath(stereo ? "stereo.opus" : "mono.opus");
	size_t secs = 2, len = rate * secs;
	int16_t *a = malloc(len * sizeof(*a)), *b = malloc(len * sizeof(*b));
	sf_count_t n;

	record(path, ARECORD_OGG_OPUS, stereo, rate, (unsigned)secs, false, a, b);
	int16_t *x = load(path, SF_FORMAT_OGG, SF_FORMAT_OPUS, stereo ? 2 : 1, rate, &n);
	/* the duration within one 20 ms frame */
	if (llabs((long long)n - (long long)len) > (long long)rate / 50)
		fail_msg("%u Hz: %lld frames for %zu", rate, (long long)n, len);
	/* the tones, over the middle second (past the codec's delay) */
	double amp = 32767 * db2lin(DB);
	if (stereo) {
		int16_t *l = malloc(len * sizeof(*l)), *r = malloc(len * sizeof(*r));
		split(x, (size_t)n, l, r);
		assert_true(fabs(peak_hz(l + rate / 2, rate, rate) - HZ_A) < 1);
		assert_true(fabs(peak_hz(r + rate / 2, rate, rate) - HZ_B) < 1);
		assert_true(goertzel_amp(l + rate / 2, rate, rate, HZ_A) > 0.8 * amp);
		assert_true(goertzel_amp(r + rate / 2, rate, rate, HZ_B) > 0.8 * amp);
		assert_true(goertzel_amp(l + rate / 2, rate, rate, HZ_B) < 0.1 * amp);
		free(l);
		free(r);
	} else {
		assert_true(goertzel_amp(x + rate / 2, rate, rate, HZ_A) > 0.8 * amp);
		assert_true(goertzel_amp(x + rate / 2, rate, rate, HZ_B) > 0.8 * amp);
		assert_true(goertzel_amp(x + rate / 2, rate, rate, 2500) < 0.1 * amp);
	}
	free(x);
	free(a);
	free(b);
	unlink(path);
}

static void test_ogg_opus(void **state)
{
	(void)state;
	opus_at(8000, false);
	opus_at(16000, false);
	opus_at(48000, false);
	opus_at(16000, true);
	opus_at(48000, true);
}

/* --- files and errors ------------------------------------------------------- */

static void test_mode(void **state)
{
	(void)state;
	const char *path = tpath("mode.wav");
	static const mode_t masks[] = { 0, 022, 077 };
	struct arecord *r;
	struct stat st;
	FILE *f;

	/* an existing file is replaced, with our mode, whatever the umask */
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("old contents", f);
	fclose(f);
	assert_int_equal(chmod(path, 0666), 0);
	for (size_t i = 0; i < sizeof(masks) / sizeof(masks[0]); i++) {
		mode_t old = umask(masks[i]);
		assert_int_equal(arecord_open(&r, path, i == 1 ? ARECORD_OGG_OPUS : ARECORD_WAV,
					      false, 8000), 0);
		umask(old);
		assert_int_equal(arecord_close(r), 0);
		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(st.st_mode & 07777, 0640);
		unlink(path);
	}
	/* an empty recording is still a valid file */
	assert_int_equal(arecord_open(&r, path, ARECORD_WAV, true, 8000), 0);
	assert_int_equal(arecord_close(r), 0);
	SF_INFO info = { 0 };
	SNDFILE *sf = sf_open(path, SFM_READ, &info);
	assert_non_null(sf);
	assert_int_equal(info.frames, 0);
	assert_int_equal(info.channels, 2);
	sf_close(sf);
	unlink(path);
}

static void test_errors(void **state)
{
	(void)state;
	char nodir[160];
	struct arecord *r = NULL;
	int16_t pcm[160] = { 0 };

	snprintf(nodir, sizeof(nodir), "%s/no/such/dir.wav", tmpdir);
	assert_int_equal(arecord_open(&r, nodir, ARECORD_WAV, false, 8000), ENOENT);
	assert_int_equal(arecord_open(&r, nodir, ARECORD_OGG_OPUS, true, 16000), ENOENT);
	assert_int_equal(arecord_open(&r, tpath("x.wav"), ARECORD_WAV, false, 44100), EINVAL);
	assert_int_equal(arecord_open(&r, tpath("x.wav"), ARECORD_WAV, false, 0), EINVAL);
	assert_int_equal(arecord_open(&r, tpath("x.wav"), (enum arecord_format)7, false, 8000),
			 EINVAL);
	assert_int_equal(arecord_open(&r, NULL, ARECORD_WAV, false, 8000), EINVAL);
	assert_int_equal(arecord_open(&r, "", ARECORD_WAV, false, 8000), EINVAL);
	assert_int_equal(arecord_open(NULL, tpath("x.wav"), ARECORD_WAV, false, 8000), EINVAL);
	assert_null(r);
	assert_int_equal(access(tpath("x.wav"), F_OK), -1);
	/* a directory where the file should be */
	assert_int_not_equal(arecord_open(&r, tmpdir, ARECORD_WAV, false, 8000), 0);
	assert_null(r);
	assert_int_equal(arecord_write(NULL, pcm, pcm, 160), EINVAL);
	assert_int_equal(arecord_duration_ms(NULL), 0);
	assert_int_equal(arecord_close(NULL), 0);
}

/* A write that fails says EIO, and so does everything after it, close
 * included. The failure comes from a file size limit (EFBIG from
 * write(2) once SIGXFSZ is ignored); /dev/full fails already at open,
 * where libsndfile writes the WAV header. */
static void test_eio(void **state)
{
	(void)state;
	const char *path = tpath("big.wav");
	int16_t pcm[960];
	struct rlimit old, lim;
	struct arecord *r;
	int err = 0;

	noise(pcm, 960, -20); /* silence would take Opus too long to fill it */
	if (access("/dev/full", W_OK) == 0) {
		assert_int_equal(arecord_open(&r, "/dev/full", ARECORD_WAV, false, 8000), EIO);
	}
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_IGN);
	lim = old;
	lim.rlim_cur = 64 * 1024;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	for (int fmt = ARECORD_WAV; fmt <= ARECORD_OGG_OPUS; fmt++) {
		int i;
		err = arecord_open(&r, path, (enum arecord_format)fmt, true, 48000);
		assert_int_equal(err, 0);
		/* 64 KiB is 0.35 s of 48 kHz stereo PCM, some 5 s of Opus */
		for (i = 0; i < 5000 && !err; i++)
			err = arecord_write(r, pcm, pcm, 960);
		assert_int_equal(err, EIO);
		assert_true(i > 1);
		assert_int_equal(arecord_write(r, pcm, NULL, 960), EIO);
		assert_int_equal(arecord_close(r), EIO);
		unlink(path);
	}
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_DFL);
}

int main(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/hf-arecord-XXXXXX");
	if (!mkdtemp(tmpdir))
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wav_mono),
		cmocka_unit_test(test_wav_stereo),
		cmocka_unit_test(test_mono_saturation),
		cmocka_unit_test(test_ogg_opus),
		cmocka_unit_test(test_mode),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_eio),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	unlink(tpath("mono.wav"));
	unlink(tpath("stereo.wav"));
	unlink(tpath("sat.wav"));
	if (rmdir(tmpdir) != 0)
		fprintf(stderr, "temporary files left in %s\n", tmpdir);
	return rc;
}
