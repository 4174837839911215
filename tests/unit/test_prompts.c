/*
 * Unit tests for the prompt cache (core/media/audio/prompts.c). Source
 * prompts are written with libsndfile into a temporary folder (an 8 kHz
 * mono one in a sub-folder like "digits/7", a 44.1 kHz stereo one, one
 * that is not audio); prepare converts them for 8 and 16 kHz calls and
 * the results are checked for format, length, frequency and that they
 * start at once (the resampler's latency dropped). A second prepare
 * converts nothing; a replaced source is converted again; missing and
 * broken names have no path; paths are refused for other rates and small
 * buffers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sndfile.h>

#include "../../core/media/audio/prompts.h"
#include "codec_test_util.h"

static char tmpdir[64];
static char src[128], cache[128];

static void write_wav(const char *name, uint32_t rate, int channels, double hz, unsigned ms)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s.wav", src, name);
	SF_INFO info = { .samplerate = (int)rate, .channels = channels,
			 .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16 };
	size_t n = (size_t)rate * ms / 1000;
	int16_t *mono = malloc(n * sizeof(*mono));
	int16_t *il = malloc(n * (size_t)channels * sizeof(*il));
	SNDFILE *sf = sf_open(path, SFM_WRITE, &info);
	assert_non_null(sf);
	sine(mono, n, rate, hz, -6.0);
	for (size_t i = 0; i < n; i++)
		for (int c = 0; c < channels; c++)
			il[i * (size_t)channels + (size_t)c] = mono[i];
	assert_int_equal(sf_writef_short(sf, il, (sf_count_t)n), (sf_count_t)n);
	assert_int_equal(sf_close(sf), 0);
	free(mono);
	free(il);
}

/* Reads a converted prompt: its samples (caller frees) and count. */
static int16_t *read_wav(const char *path, uint32_t rate, size_t *n)
{
	SF_INFO info;
	memset(&info, 0, sizeof(info));
	SNDFILE *sf = sf_open(path, SFM_READ, &info);
	if (!sf)
		fail_msg("cannot read %s", path);
	assert_int_equal(info.samplerate, rate);
	assert_int_equal(info.channels, 1);
	assert_int_equal(info.format, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
	int16_t *b = malloc((size_t)info.frames * sizeof(*b));
	assert_int_equal(sf_readf_short(sf, b, info.frames), info.frames);
	sf_close(sf);
	*n = (size_t)info.frames;
	return b;
}

static void check_prompt(const struct prompts *p, const char *name, uint32_t rate,
			 double hz, unsigned ms)
{
	char path[512];
	size_t n;
	assert_int_equal(prompts_path(p, name, rate, path, sizeof(path)), 0);
	char want[512];
	snprintf(want, sizeof(want), "%s/%u/%s.wav", cache, rate, name);
	assert_string_equal(path, want);
	int16_t *b = read_wav(path, rate, &n);
	/* as long as the recording, to the sample */
	assert_int_equal(n, (size_t)rate * ms / 1000);
	assert_true(peak_hz(b + n / 4, n / 2, rate) > hz - 20 &&
		    peak_hz(b + n / 4, n / 2, rate) < hz + 20);
	/* the tone starts at once: the resampler's latency is not in it */
	assert_true(rms(b, rate / 200) > 1000);
	/* and lasts to the end */
	assert_true(rms(b + n - rate / 200, rate / 200) > 1000);
	free(b);
}

static const char *const names[] = { "hello", "digits/7", "nothere", "broken", "cd", NULL };

static struct timespec mtime_of(const char *rel)
{
	char path[512];
	struct stat st;
	snprintf(path, sizeof(path), "%s/%s", cache, rel);
	assert_int_equal(stat(path, &st), 0);
	return st.st_mtim;
}

static void test_prepare(void **state)
{
	(void)state;
	char path[512];
	struct prompts *p;

	write_wav("hello", 8000, 1, 440, 1000);
	mkdir(strcat(strcpy(path, src), "/digits"), 0755);
	write_wav("digits/7", 8000, 1, 1000, 500);
	write_wav("cd", 44100, 2, 600, 700);
	snprintf(path, sizeof(path), "%s/broken.wav", src);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("not a wav file at all", f);
	fclose(f);

	assert_int_equal(prompts_prepare(&p, src, cache, names), 0);
	assert_int_equal(prompts_missing(p), 2);
	check_prompt(p, "hello", 8000, 440, 1000);
	check_prompt(p, "hello", 16000, 440, 1000);
	check_prompt(p, "digits/7", 8000, 1000, 500);
	check_prompt(p, "digits/7", 16000, 1000, 500);
	check_prompt(p, "cd", 8000, 600, 700);
	check_prompt(p, "cd", 16000, 600, 700);
	assert_int_equal(prompts_path(p, "nothere", 8000, path, sizeof(path)), ENOENT);
	assert_int_equal(prompts_path(p, "broken", 16000, path, sizeof(path)), ENOENT);
	assert_int_equal(prompts_path(p, "unlisted", 8000, path, sizeof(path)), ENOENT);
	assert_int_equal(prompts_path(p, "hello", 48000, path, sizeof(path)), EINVAL);
	assert_int_equal(prompts_path(p, "hello", 8000, path, 10), ENAMETOOLONG);
	/* no half-written file is left behind */
	snprintf(path, sizeof(path), "%s/8000/broken.wav.part", cache);
	assert_int_not_equal(access(path, F_OK), 0);
	snprintf(path, sizeof(path), "%s/8000/broken.wav", cache);
	assert_int_not_equal(access(path, F_OK), 0);
	prompts_free(p);

	/* again: nothing converted (the files keep their times)... */
	struct timespec before = mtime_of("16000/hello.wav");
	struct timespec before7 = mtime_of("8000/digits/7.wav");
	char probe[512];
	snprintf(probe, sizeof(probe), "%s/16000/hello.wav", cache);
	/* mark the converted file: a re-conversion would replace it */
	assert_int_equal(truncate(probe, 1000), 0);
	struct timespec times[2] = { before, before };
	assert_int_equal(utimensat(AT_FDCWD, probe, times, 0), 0);
	assert_int_equal(prompts_prepare(&p, src, cache, names), 0);
	struct stat st;
	assert_int_equal(stat(probe, &st), 0);
	assert_int_equal(st.st_size, 1000);
	struct timespec after7 = mtime_of("8000/digits/7.wav");
	assert_true(before7.tv_sec == after7.tv_sec && before7.tv_nsec == after7.tv_nsec);
	prompts_free(p);

	/* ...until the source changes: then it is converted again */
	write_wav("hello", 16000, 1, 500, 300);
	struct timespec old = { 1000000000, 0 }, olds[2] = { old, old };
	snprintf(path, sizeof(path), "%s/hello.wav", src);
	assert_int_equal(utimensat(AT_FDCWD, path, olds, 0), 0); /* an older file, as dpkg does */
	assert_int_equal(prompts_prepare(&p, src, cache, names), 0);
	check_prompt(p, "hello", 8000, 500, 300);
	check_prompt(p, "hello", 16000, 500, 300);
	prompts_free(p);
}

static void test_bad_names_and_args(void **state)
{
	(void)state;
	struct prompts *p;
	static const char *const bad[] = { "../etc/passwd", "/abs", "a b", "x/", "ok.wav", NULL };
	static const char *const none[] = { NULL };
	char path[64];

	assert_int_equal(prompts_prepare(&p, src, cache, bad), 0);
	assert_int_equal(prompts_missing(p), 5);
	assert_int_equal(prompts_path(p, "../etc/passwd", 8000, path, sizeof(path)), ENOENT);
	prompts_free(p);
	assert_int_equal(prompts_prepare(&p, src, cache, none), 0);
	assert_int_equal(prompts_missing(p), 0);
	prompts_free(p);
	assert_int_equal(prompts_prepare(NULL, src, cache, none), EINVAL);
	assert_int_equal(prompts_prepare(&p, NULL, cache, none), EINVAL);
	assert_int_equal(prompts_path(NULL, "x", 8000, path, sizeof(path)), EINVAL);
	prompts_free(NULL);
}

/* A cache that cannot be written: every name is without a path, nothing
 * fails. */
static void test_cache_unwritable(void **state)
{
	(void)state;
	struct prompts *p;
	char bad[256], path[256];
	snprintf(bad, sizeof(bad), "%s/file", tmpdir);
	FILE *f = fopen(bad, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(prompts_prepare(&p, src, bad, names), 0);
	assert_int_equal(prompts_missing(p), 5);
	assert_int_equal(prompts_path(p, "hello", 8000, path, sizeof(path)), ENOENT);
	prompts_free(p);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int main(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/hf-prompts-XXXXXX");
	if (!mkdtemp(tmpdir))
		return 1;
	snprintf(src, sizeof(src), "%s/src", tmpdir);
	snprintf(cache, sizeof(cache), "%s/cache", tmpdir);
	mkdir(src, 0755);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prepare),
		cmocka_unit_test(test_bad_names_and_args),
		cmocka_unit_test(test_cache_unwritable),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	if (nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS) != 0)
		fprintf(stderr, "temporary files left in %s\n", tmpdir);
	return rc;
}
