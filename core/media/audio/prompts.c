/*
 * prompts.h: checking and converting the apps' prompts at start. Each
 * source file (anything libsndfile reads, any rate, any channels) is mixed
 * down to mono and resampled once per call rate with speexdsp at a high
 * quality setting (it runs once, not per call), the resampler's latency
 * dropped at the start and its tail flushed at the end so the converted
 * prompt is as long as the recording and starts with its first word.
 *
 * A conversion is written to NAME.wav.part and renamed, so a daemon killed
 * half-way never leaves a truncated prompt that looks finished. The
 * converted file gets its source's modification time, and a conversion is
 * redone whenever the two times differ: dpkg installs files with the
 * package's (old) time, so "newer than the source" would keep a stale
 * conversion after a package upgrade, while "same time as the source"
 * notices any replacement.
 */
#include "prompts.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sndfile.h>

#include "../../base/log.h"
#include "../../base/sbuf.h"
#include "../codecs/resample.h"

/* The rates calls run at (every codec of a decoded call runs at one). */
static const unsigned rates[] = { 8000, 16000 };
#define NRATES (sizeof(rates) / sizeof(rates[0]))

/* Once per prompt, not per call, so better than the per-call setting (3):
 * the manifest's 137 prompts take about 1 s to convert at a first start of
 * the sanitised build, 0.3 s of it for this quality; a later start checks
 * them in 0.1 s. */
#define CONVERT_QUALITY 8
#define CHUNK 1024u

struct pent {
	char *name;
	bool ok; /* converted at every rate */
};

struct prompts {
	char *cache;
	size_t n, missing;
	struct pent e[];
};

struct counts {
	size_t converted, current;
};

static bool name_ok(const char *s)
{
	if (!*s || *s == '/' || strlen(s) > 200)
		return false;
	for (const char *p = s; *p; p++) {
		if (*p == '/' && (p[1] == '/' || p[1] == 0))
			return false;
		if (!(*p == '/' || *p == '-' || *p == '_' || (*p >= '0' && *p <= '9') ||
		      (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
			return false; /* no "..", no dots at all, no spaces */
	}
	return true;
}

/* mkdir -p of the folders of path (not its last component). */
static int make_parents(const char *path)
{
	char tmp[PATH_MAX];
	if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp))
		return ENAMETOOLONG;
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(tmp, 0755) && errno != EEXIST)
			return errno;
		*p = '/';
	}
	return 0;
}

static void mixdown(const int16_t *in, size_t frames, unsigned ch, int16_t *out)
{
	for (size_t i = 0; i < frames; i++) {
		int32_t sum = 0;
		for (unsigned c = 0; c < ch; c++)
			sum += in[i * ch + c];
		out[i] = (int16_t)(sum / (int32_t)ch);
	}
}

/* Writes n samples of buf, the first *skip of all writes dropped and no
 * more than *left in all. */
static int put(SNDFILE *out, const int16_t *buf, size_t n, unsigned *skip, uint64_t *left)
{
	if (*skip) {
		size_t d = *skip < n ? *skip : n;
		*skip -= (unsigned)d;
		buf += d;
		n -= d;
	}
	if (n > *left)
		n = (size_t)*left;
	if (!n)
		return 0;
	if (sf_writef_short(out, buf, (sf_count_t)n) != (sf_count_t)n)
		return EIO;
	*left -= n;
	return 0;
}

/* Converts the open in (described by info) into out at rate. */
static int convert_stream(SNDFILE *in, const SF_INFO *info, SNDFILE *out, unsigned rate)
{
	unsigned ch = (unsigned)info->channels, skip = 0;
	struct resampler *rs = NULL;
	int16_t *ibuf = NULL, *mono = NULL, *rbuf = NULL;
	size_t rcap = 0;
	uint64_t fed = 0, left = UINT64_MAX;
	int err = 0;

	if ((unsigned)info->samplerate != rate) {
		err = resampler_alloc(&rs, (uint32_t)info->samplerate, rate, CONVERT_QUALITY);
		if (err)
			return err;
		skip = resampler_delay(rs);
		rcap = resampler_out_max(rs, CHUNK);
	}
	ibuf = malloc((size_t)CHUNK * ch * sizeof(*ibuf));
	mono = malloc(CHUNK * sizeof(*mono));
	rbuf = rs ? malloc(rcap * sizeof(*rbuf)) : NULL;
	if (!ibuf || !mono || (rs && !rbuf)) {
		err = ENOMEM;
		goto out;
	}
	for (;;) {
		sf_count_t got = sf_readf_short(in, ibuf, CHUNK);
		if (got <= 0) {
			if (sf_error(in) != SF_ERR_NO_ERROR)
				err = EIO;
			break;
		}
		fed += (uint64_t)got;
		mixdown(ibuf, (size_t)got, ch, mono);
		if (!rs) {
			err = put(out, mono, (size_t)got, &skip, &left);
		} else {
			int r = resampler_run(rs, mono, (size_t)got, rbuf, rcap);
			err = r < 0 ? EIO : put(out, rbuf, (size_t)r, &skip, &left);
		}
		if (err)
			goto out;
	}
	if (!err && rs) {
		/* what the frames are worth at our rate; the resampler still
		 * holds its latency's worth: push zeros through for it */
		uint64_t want = (fed * rate + (unsigned)info->samplerate / 2) /
				(unsigned)info->samplerate;
		uint64_t made = UINT64_MAX - left;
		left = want > made ? want - made : 0;
		memset(mono, 0, CHUNK * sizeof(*mono));
		for (int i = 0; i < 64 && left; i++) {
			int r = resampler_run(rs, mono, CHUNK, rbuf, rcap);
			err = r < 0 ? EIO : put(out, rbuf, (size_t)r, &skip, &left);
			if (err)
				break;
		}
	}
out:
	free(ibuf);
	free(mono);
	free(rbuf);
	resampler_free(rs);
	return err;
}

/* src -> dst at rate, through dst.part; the result carries src's mtime. */
static int convert_file(const char *src, const struct stat *sst, const char *dst, unsigned rate)
{
	char part[PATH_MAX];
	SF_INFO in_info, out_info;
	SNDFILE *in, *out;
	int fd, err;

	if (snprintf(part, sizeof(part), "%s.part", dst) >= (int)sizeof(part))
		return ENAMETOOLONG;
	err = make_parents(dst);
	if (err)
		return err;
	fd = open(src, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	memset(&in_info, 0, sizeof(in_info));
	in = sf_open_fd(fd, SFM_READ, &in_info, SF_TRUE);
	if (!in)
		return EBADMSG;
	if (in_info.frames <= 0 || in_info.channels < 1 || in_info.channels > 8 ||
	    in_info.samplerate < 1000 || in_info.samplerate > 192000) {
		sf_close(in);
		return EBADMSG;
	}
	memset(&out_info, 0, sizeof(out_info));
	out_info.samplerate = (int)rate;
	out_info.channels = 1;
	out_info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
	out = sf_open(part, SFM_WRITE, &out_info);
	if (!out) {
		sf_close(in);
		return EACCES;
	}
	err = convert_stream(in, &in_info, out, rate);
	sf_close(in);
	if (sf_close(out) && !err)
		err = EIO;
	if (!err) {
		const struct timespec times[2] = { sst->st_atim, sst->st_mtim };
		if (utimensat(AT_FDCWD, part, times, 0) || rename(part, dst))
			err = errno;
	}
	if (err)
		unlink(part);
	return err;
}

static bool same_time(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

/* Makes every rate's file of one name; ENOENT when there is no source. */
static int prepare_one(const struct prompts *p, const char *sounds_dir, const char *name,
		       struct counts *cnt, int *bad_rate)
{
	char src[PATH_MAX], dst[PATH_MAX];
	struct stat sst, dstst;

	if (snprintf(src, sizeof(src), "%s/%s.wav", sounds_dir, name) >= (int)sizeof(src))
		return ENAMETOOLONG;
	if (stat(src, &sst))
		return errno;
	if (!S_ISREG(sst.st_mode))
		return ENOENT;
	for (size_t r = 0; r < NRATES; r++) {
		int err;
		if (snprintf(dst, sizeof(dst), "%s/%u/%s.wav", p->cache, rates[r], name) >=
		    (int)sizeof(dst))
			return ENAMETOOLONG;
		if (!stat(dst, &dstst) && same_time(&dstst.st_mtim, &sst.st_mtim) &&
		    dstst.st_size > 44) {
			cnt->current++;
			continue;
		}
		err = convert_file(src, &sst, dst, rates[r]);
		if (err) {
			*bad_rate = (int)rates[r];
			return err;
		}
		cnt->converted++;
	}
	return 0;
}

static int cmp_ent(const void *a, const void *b)
{
	return strcmp(((const struct pent *)a)->name, ((const struct pent *)b)->name);
}

/* The one line naming every missing prompt (broken ones have had their
 * own line, with the reason). */
static void report_missing(const struct prompts *p, const char *sounds_dir,
			   const char *const *names, const bool *absent)
{
	struct sbuf b;
	size_t k = 0;

	for (size_t i = 0; names[i]; i++)
		k += absent[i];
	if (!k)
		return;
	sbuf_init(&b);
	if (k == p->n && k > 1) {
		sbuf_printf(&b, "all %zu", k);
	} else {
		/* a log line holds 1 KiB: the rest is counted, not cut off */
		size_t total = k, shown = 0;
		for (size_t i = 0; names[i] && b.len < 700; i++) {
			if (absent[i])
				sbuf_printf(&b, "%s%s", shown++ ? ", " : "", names[i]);
		}
		if (shown < total)
			sbuf_printf(&b, " and %zu more", total - shown);
	}
	log_warn("prompts", "prompts missing: %s in %s (install asterisk-core-sounds-en-wav)",
		 b.p, sounds_dir);
	sbuf_free(&b);
}

int prompts_prepare(struct prompts **out, const char *sounds_dir, const char *cache_dir,
		    const char *const *names)
{
	struct counts cnt = { 0, 0 };
	struct prompts *p;
	bool *absent;
	size_t n = 0;

	if (!out || !sounds_dir || !cache_dir || !names)
		return EINVAL;
	while (names[n])
		n++;
	p = calloc(1, sizeof(*p) + n * sizeof(p->e[0]));
	absent = calloc(n + 1, sizeof(*absent));
	if (!p || !absent || !(p->cache = strdup(cache_dir))) {
		free(absent);
		prompts_free(p);
		return ENOMEM;
	}
	/* sorted for prompts_path's bsearch */
	for (size_t i = 0; i < n; i++) {
		if (!(p->e[i].name = strdup(names[i]))) {
			p->n = i;
			free(absent);
			prompts_free(p);
			return ENOMEM;
		}
	}
	p->n = n;
	qsort(p->e, n, sizeof(p->e[0]), cmp_ent);

	for (size_t i = 0; i < n; i++) {
		int bad_rate = 0, err;
		struct pent key = { .name = (char *)names[i] };
		struct pent *e = bsearch(&key, p->e, n, sizeof(p->e[0]), cmp_ent);

		if (!e || e->ok)
			continue; /* a name listed twice is done once */
		err = name_ok(names[i]) ? prepare_one(p, sounds_dir, names[i], &cnt, &bad_rate)
					: EINVAL;
		if (!err) {
			e->ok = true;
			continue;
		}
		p->missing++;
		if (err == ENOENT)
			absent[i] = true;
		else if (bad_rate)
			log_err("prompts", "cannot convert %s/%s.wav for %d Hz calls: %s",
				sounds_dir, names[i], bad_rate, strerror(err));
		else
			log_err("prompts", "cannot use prompt %s: %s", names[i], strerror(err));
	}
	report_missing(p, sounds_dir, names, absent);
	log_info("prompts", "%zu of %zu prompts ready in %s/{8000,16000} (%zu files converted, "
		 "%zu up to date)", n - p->missing, n, cache_dir, cnt.converted, cnt.current);
	free(absent);
	*out = p;
	return 0;
}

void prompts_free(struct prompts *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++)
		free(p->e[i].name);
	free(p->cache);
	free(p);
}

int prompts_path(const struct prompts *p, const char *name, unsigned rate, char *out,
		 size_t cap)
{
	if (!p || !name || !out || !cap)
		return EINVAL;
	if (rate != 8000 && rate != 16000)
		return EINVAL;
	struct pent key = { .name = (char *)name };
	const struct pent *e = bsearch(&key, p->e, p->n, sizeof(p->e[0]), cmp_ent);
	if (!e || !e->ok)
		return ENOENT;
	if (snprintf(out, cap, "%s/%u/%s.wav", p->cache, rate, name) >= (int)cap)
		return ENAMETOOLONG;
	return 0;
}

size_t prompts_missing(const struct prompts *p)
{
	return p ? p->missing : 0;
}
