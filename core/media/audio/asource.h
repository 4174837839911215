/*
 * Audio sources for playback to a call leg: a list of sound files (read
 * with libsndfile, any rate and channel count, mixed down to mono and
 * resampled to the rate asked for) or a tone sequence (ringback, busy,
 * congestion, dial, beep, or a spec; generated at the rate asked for, so
 * wideband legs need no resampler). The media worker pulls one 20 ms
 * frame per tick with asource_read.
 *
 * A source belongs to the worker thread that plays it. Opening a file
 * source reads the file headers (disk I/O on the worker, bounded and
 * cached by the kernel for prompts); reading never allocates.
 */
#ifndef HF_ASOURCE_H
#define HF_ASOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct asource;

#define ASOURCE_MAX_FILES 16

/* Files played one after the other at rate (8000, 16000 or 48000), the
 * whole list again when loop is set; a file of F frames at rate R plays
 * as F * rate / R samples (rounded). Every file is opened and checked here (and
 * stays open until asource_free): ENOENT (missing), EACCES, EBADMSG
 * (libsndfile cannot read it, or it has no frames), EINVAL (no files, too
 * many, a NULL path, bad rate), ENOMEM. */
int asource_open_files(struct asource **out, const char *const *paths, size_t n,
		       bool loop, uint32_t rate);

/* A tone (media.h, media_leg_tone, says the syntax): "ringback" (440+480
 * Hz 2 s on, 4 s off), "busy" (480+620, 0.5/0.5), "congestion"
 * (480+620, 0.25/0.25), "dial" (350+440 continuous), "beep" (1000 Hz
 * 250 ms, once), or "f1[+f2]/on[/off][,...]" (Hz and ms; a spec with a
 * pause anywhere repeats, one without plays once). Levels are -13 dBm0
 * per frequency. EINVAL for a bad spec (integer frequencies 50..4000 Hz
 * and below rate/2, at most two per part, at most 8 parts, on 10..60000
 * ms, off 0..60000 ms, nothing else in the string) or rate. */
int asource_open_tone(struct asource **out, const char *spec, uint32_t rate);

/* Writes up to n samples of the next audio into pcm; returns how many
 * (n while there is more; fewer, then 0, at the end; never negative: a
 * read error ends the source early and asource_error says so). */
size_t asource_read(struct asource *s, int16_t *pcm, size_t n);

/* 0, or why the source ended early (EIO). */
int asource_error(const struct asource *s);

void asource_free(struct asource *s);

#endif
