/*
 * asource.h's dispatch, and the file source. Every file of the list is
 * opened (open(2), so a missing or forbidden file says why with its own
 * errno) and its header read by libsndfile when the source is made, and
 * stays open until the source is freed: reading then never allocates and
 * a file that vanishes mid-list cannot end a prompt half-way. Each file
 * whose rate differs from the one asked for gets its own resampler, made
 * at open.
 *
 * Reading pulls CHUNK frames at a time, averages the channels into mono,
 * resamples, and keeps what the caller did not take in a pending buffer.
 * The resampler's latency is dropped at the start of each file and its
 * tail flushed with zeros at the end, so a file of F frames at rate R
 * yields F * rate / R samples (rounded), aligned with its own start: a
 * list plays back to back without gaps or cut words.
 */
#include "asource_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sndfile.h>

#include "../codecs/resample.h"

/* Frames read from a file at a time. */
#define CHUNK 480u

/* The result of refill when the current file has nothing more. */
#define END (-1)

struct file_ent {
	SNDFILE *sf;
	struct resampler *rs; /* NULL when the file is at the rate asked for */
	unsigned channels;
	uint32_t rate;
	uint64_t fed;  /* frames read from the file this play */
	uint64_t want; /* samples it yields; known once the file ends */
	uint64_t made; /* samples it has yielded (into pend) */
	unsigned skip; /* leading resampler latency still to drop */
	unsigned flushes; /* chunks of zeros fed after the end (a bound) */
	bool eof;
};

struct file_source {
	struct asource base;
	bool loop;
	uint32_t rate;
	size_t nfiles, cur;
	uint64_t pass_out; /* samples made in this pass over the list */
	int16_t *ibuf;     /* CHUNK frames of the widest file */
	int16_t *mono;     /* CHUNK samples */
	int16_t *pend;     /* resampled, not yet read */
	size_t pend_cap, pend_pos, pend_len;
	struct file_ent f[];
};

/* --- dispatch ------------------------------------------------------------ */

size_t asource_read(struct asource *s, int16_t *pcm, size_t n)
{
	size_t got;

	if (!s || !pcm || !n || s->done)
		return 0;
	got = s->ops->read(s, pcm, n);
	if (got < n)
		s->done = true;
	return got;
}

int asource_error(const struct asource *s)
{
	return s ? s->err : 0;
}

void asource_free(struct asource *s)
{
	if (s)
		s->ops->destroy(s);
}

/* --- files --------------------------------------------------------------- */

static int start_file(struct file_ent *e, bool rewind)
{
	if (rewind && sf_seek(e->sf, 0, SEEK_SET) != 0)
		return EIO;
	if (e->rs)
		resampler_reset(e->rs);
	e->fed = e->made = 0;
	e->want = UINT64_MAX;
	e->skip = e->rs ? resampler_delay(e->rs) : 0;
	e->flushes = 0;
	e->eof = false;
	return 0;
}

static void mixdown(const int16_t *in, size_t frames, unsigned ch, int16_t *out)
{
	if (ch == 1) {
		memcpy(out, in, frames * sizeof(*out));
		return;
	}
	for (size_t i = 0; i < frames; i++) {
		int32_t sum = 0;
		for (unsigned c = 0; c < ch; c++)
			sum += in[i * ch + c];
		out[i] = (int16_t)(sum / (int32_t)ch);
	}
}

/* Puts the next samples of e into pend: 0, END, or EIO. */
static int refill(struct file_source *fs, struct file_ent *e)
{
	for (;;) {
		size_t m = CHUNK, len;
		int r;

		if (e->made >= e->want)
			return END;
		if (!e->eof) {
			sf_count_t got = sf_readf_short(e->sf, fs->ibuf, CHUNK);
			if (got <= 0) {
				if (sf_error(e->sf) != SF_ERR_NO_ERROR)
					return EIO;
				e->eof = true;
				/* what the frames read are worth at our rate */
				e->want = (e->fed * fs->rate + e->rate / 2) / e->rate;
				continue;
			}
			m = (size_t)got;
			e->fed += m;
			mixdown(fs->ibuf, m, e->channels, fs->mono);
		} else {
			if (!e->rs || ++e->flushes > 64)
				return END; /* nothing held back, or a bound on it */
			memset(fs->mono, 0, CHUNK * sizeof(*fs->mono));
		}
		if (!e->rs) {
			memcpy(fs->pend, fs->mono, m * sizeof(*fs->pend));
			len = m;
		} else {
			r = resampler_run(e->rs, fs->mono, m, fs->pend, fs->pend_cap);
			if (r < 0)
				return EIO;
			len = (size_t)r;
		}
		fs->pend_pos = 0;
		if (e->skip) {
			size_t d = e->skip < len ? e->skip : len;
			e->skip -= (unsigned)d;
			fs->pend_pos = d;
		}
		if (len - fs->pend_pos > e->want - e->made)
			len = fs->pend_pos + (size_t)(e->want - e->made);
		fs->pend_len = len;
		e->made += len - fs->pend_pos;
		fs->pass_out += len - fs->pend_pos;
		if (fs->pend_len > fs->pend_pos)
			return 0;
	}
}

static size_t files_read(struct asource *s, int16_t *pcm, size_t n)
{
	struct file_source *fs = (struct file_source *)s;
	size_t got = 0;

	while (got < n) {
		if (fs->pend_pos < fs->pend_len) {
			size_t k = fs->pend_len - fs->pend_pos;
			if (k > n - got)
				k = n - got;
			memcpy(pcm + got, fs->pend + fs->pend_pos, k * sizeof(*pcm));
			fs->pend_pos += k;
			got += k;
			continue;
		}
		int r = refill(fs, &fs->f[fs->cur]);
		if (r == 0)
			continue;
		if (r != END) {
			s->err = r;
			break;
		}
		if (fs->cur + 1 < fs->nfiles) {
			fs->cur++;
		} else if (fs->loop && fs->pass_out > 0) {
			/* a pass that made nothing would spin forever */
			fs->cur = 0;
			fs->pass_out = 0;
		} else {
			break;
		}
		r = start_file(&fs->f[fs->cur], true);
		if (r) {
			s->err = r;
			break;
		}
	}
	return got;
}

static void files_destroy(struct asource *s)
{
	struct file_source *fs = (struct file_source *)s;

	for (size_t i = 0; i < fs->nfiles; i++) {
		if (fs->f[i].sf)
			sf_close(fs->f[i].sf);
		resampler_free(fs->f[i].rs);
	}
	free(fs->ibuf);
	free(fs->mono);
	free(fs->pend);
	free(fs);
}

static const struct asource_ops files_ops = {
	.read = files_read,
	.destroy = files_destroy,
};

static int open_one(struct file_ent *e, const char *path, uint32_t rate)
{
	SF_INFO info;
	int fd, err;

	if (!path || !*path)
		return EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	memset(&info, 0, sizeof(info));
	/* close_desc: libsndfile owns fd from here, and closes it when the
	 * open fails too */
	e->sf = sf_open_fd(fd, SFM_READ, &info, SF_TRUE);
	if (!e->sf)
		return EBADMSG;
	if (info.frames <= 0 || info.channels < 1 || info.samplerate < 1000 ||
	    info.samplerate > 192000)
		return EBADMSG;
	e->channels = (unsigned)info.channels;
	e->rate = (uint32_t)info.samplerate;
	if (e->rate != rate) {
		err = resampler_alloc(&e->rs, e->rate, rate, RESAMPLER_QUALITY_VOIP);
		if (err)
			return err;
	}
	return 0;
}

int asource_open_files(struct asource **out, const char *const *paths, size_t n,
		       bool loop, uint32_t rate)
{
	struct file_source *fs;
	unsigned maxch = 1;
	size_t cap = CHUNK;
	int err = 0;

	if (!out || !paths || !n || n > ASOURCE_MAX_FILES || !asource_rate_ok(rate))
		return EINVAL;
	fs = calloc(1, sizeof(*fs) + n * sizeof(fs->f[0]));
	if (!fs)
		return ENOMEM;
	fs->base.ops = &files_ops;
	fs->loop = loop;
	fs->rate = rate;
	fs->nfiles = n;
	for (size_t i = 0; i < n; i++) {
		struct file_ent *e = &fs->f[i];
		err = open_one(e, paths[i], rate);
		if (err)
			goto out;
		if (e->channels > maxch)
			maxch = e->channels;
		if (e->rs && resampler_out_max(e->rs, CHUNK) > cap)
			cap = resampler_out_max(e->rs, CHUNK);
	}
	fs->ibuf = malloc((size_t)CHUNK * maxch * sizeof(*fs->ibuf));
	fs->mono = malloc(CHUNK * sizeof(*fs->mono));
	fs->pend = malloc(cap * sizeof(*fs->pend));
	fs->pend_cap = cap;
	if (!fs->ibuf || !fs->mono || !fs->pend) {
		err = ENOMEM;
		goto out;
	}
	err = start_file(&fs->f[0], false);
out:
	if (err) {
		files_destroy(&fs->base);
		return err;
	}
	*out = &fs->base;
	return 0;
}
