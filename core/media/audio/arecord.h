/*
 * Writing a call recording: 16-bit PCM WAV or Ogg/Opus through libsndfile,
 * mono (both directions mixed) or two channels (one per direction). The
 * media worker hands it one frame of each direction per tick; a direction
 * with no audio that tick is passed as NULL and recorded as silence, so
 * both channels stay aligned with the wall clock.
 *
 * Belongs to the worker thread that records. Frames are kept in the
 * object and written in batches (at most half a second of 8 kHz mono,
 * less at higher rates or in stereo), and at close.
 */
#ifndef HF_ARECORD_H
#define HF_ARECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct arecord;

enum arecord_format {
	ARECORD_WAV = 0,
	ARECORD_OGG_OPUS,
};

/* Creates (or replaces) path, mode 0640 whatever the umask, at rate
 * (8000, 16000 or 48000; Ogg/Opus files are written at the rate given,
 * which libopus accepts). ENOENT (no such directory), EACCES, ENOTSUP
 * (Ogg/Opus and this libsndfile cannot), EIO (the header could not be
 * written; the file is removed), EINVAL, ENOMEM. */
int arecord_open(struct arecord **out, const char *path, enum arecord_format fmt,
		 bool stereo, uint32_t rate);

/* One frame of n samples per direction: a is what leg 0's phone said,
 * b what leg 1's said (either may be NULL: silence). Mono sums them with
 * saturation. 0, or EIO when a batch could not be written (the file is
 * then closed for writing; later calls return EIO too). */
int arecord_write(struct arecord *r, const int16_t *a, const int16_t *b, size_t n);

/* Milliseconds of audio taken so far (the file has them once closed). */
uint64_t arecord_duration_ms(const struct arecord *r);

/* Finishes the file (WAV header sizes, Ogg end of stream) and frees r.
 * Returns 0 or EIO when the file could not be completed. */
int arecord_close(struct arecord *r);

#endif
