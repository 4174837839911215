/*
 * arecord.h through libsndfile. The file is created with open(2) and
 * handed to sf_open_fd, so the error on a missing directory or a
 * forbidden one is the system's own, and its mode is exactly 0640
 * whatever the daemon's umask (fchmod after creating; a replaced file
 * gets the same). Frames are mixed or interleaved into a fixed buffer
 * inside the object, so writing never allocates.
 *
 * The buffer holds BATCH frames (half a second of 8 kHz mono, 8 KiB) and
 * goes to libsndfile when full, or at close. libsndfile hands 16-bit PCM
 * to write(2) as it comes, so a frame at a time meant one system call
 * per recording per 20 ms tick: with 500 voicemail deposits on a worker,
 * 25000 writes a second (each dirtying the inode too), about a third of
 * the worker's time (tests/bench/vm_bench.c). The price: a daemon that
 * crashes loses the last BATCH frames of a recording (at most 0.5 s of
 * 8 kHz mono; voicemail mends such a file's header at start-up), and
 * a failing disk is noticed at the next flush instead of the next frame.
 *
 * A failed write closes the SNDFILE at once: the file keeps what made it
 * to disk (a WAV with its header sizes from the last update, which
 * libsndfile rewrites on close), and every later call says EIO.
 */
#include "arecord.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sndfile.h>

#define BATCH 4096u /* frames; 16 KiB of buffer */

struct arecord {
	SNDFILE *sf;
	uint32_t rate;
	bool stereo;
	bool failed;
	uint64_t frames;  /* taken, buffered ones included */
	size_t nbuf;      /* frames in buf, not yet given to libsndfile */
	/* frames in the first batch: recordings that start together (500
	 * deposits) would otherwise all write on the same 20 ms tick */
	size_t cut;
	int16_t buf[2 * BATCH];
};

static int16_t sat_add(int16_t a, int16_t b)
{
	int32_t s = (int32_t)a + b;
	return (int16_t)(s > INT16_MAX ? INT16_MAX : s < INT16_MIN ? INT16_MIN : s);
}

int arecord_open(struct arecord **out, const char *path, enum arecord_format fmt,
		 bool stereo, uint32_t rate)
{
	struct arecord *r;
	struct stat st;
	SF_INFO info = { 0 };
	int fd, err;

	if (!out || !path || !*path || (fmt != ARECORD_WAV && fmt != ARECORD_OGG_OPUS) ||
	    (rate != 8000 && rate != 16000 && rate != 48000))
		return EINVAL;
	info.samplerate = (int)rate;
	info.channels = stereo ? 2 : 1;
	info.format = fmt == ARECORD_WAV ? SF_FORMAT_WAV | SF_FORMAT_PCM_16
					 : SF_FORMAT_OGG | SF_FORMAT_OPUS;
	if (!sf_format_check(&info))
		return fmt == ARECORD_OGG_OPUS ? ENOTSUP : EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return ENOMEM;
	r->rate = rate;
	/* a quarter to all of a batch, by where the allocator put us: the
	 * first writes of recordings begun together spread over 0.4 s */
	r->cut = BATCH / 4 + ((uintptr_t)r >> 6) % (3 * BATCH / 4);
	r->stereo = stereo;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0) {
		err = errno;
		goto out;
	}
	if (fstat(fd, &st) < 0 || (S_ISREG(st.st_mode) && fchmod(fd, 0640) < 0)) {
		err = errno;
		close(fd);
		goto out;
	}
	/* libsndfile owns fd from here (and closes it if this fails) */
	r->sf = sf_open_fd(fd, SFM_WRITE, &info, SF_TRUE);
	if (!r->sf) {
		err = sf_error(NULL) == SF_ERR_UNSUPPORTED_ENCODING ? ENOTSUP : EIO;
		if (S_ISREG(st.st_mode))
			unlink(path);
		goto out;
	}
	*out = r;
	return 0;
out:
	free(r);
	return err;
}

static int fail(struct arecord *r)
{
	if (r->sf) {
		sf_close(r->sf);
		r->sf = NULL;
	}
	r->failed = true;
	return EIO;
}

static int flush(struct arecord *r)
{
	sf_count_t k = (sf_count_t)r->nbuf;
	if (!k)
		return 0;
	r->nbuf = 0;
	return sf_writef_short(r->sf, r->buf, k) == k ? 0 : fail(r);
}

int arecord_write(struct arecord *r, const int16_t *a, const int16_t *b, size_t n)
{
	if (!r)
		return EINVAL;
	if (r->failed)
		return EIO;
	for (size_t off = 0; off < n;) {
		size_t room = r->cut - r->nbuf;
		size_t k = n - off < room ? n - off : room;
		int16_t *out = r->buf + (r->stereo ? 2 : 1) * r->nbuf;

		for (size_t i = 0; i < k; i++) {
			int16_t x = a ? a[off + i] : 0, y = b ? b[off + i] : 0;
			if (r->stereo) {
				out[2 * i] = x;
				out[2 * i + 1] = y;
			} else {
				out[i] = sat_add(x, y);
			}
		}
		r->nbuf += k;
		r->frames += k;
		off += k;
		if (r->nbuf == r->cut) {
			r->cut = BATCH;
			if (flush(r))
				return EIO;
		}
	}
	return 0;
}

uint64_t arecord_duration_ms(const struct arecord *r)
{
	return r ? r->frames * 1000u / r->rate : 0;
}

int arecord_close(struct arecord *r)
{
	int err = 0;

	if (!r)
		return 0;
	if (r->failed || flush(r))
		err = EIO;
	else if (sf_close(r->sf) != 0)
		err = EIO;
	free(r);
	return err;
}
