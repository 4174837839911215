/*
 * Adaptive jitter buffer for the decoding paths of the media engine (a leg
 * whose audio is decoded: transcoding, conferences, voicemail recording,
 * in-band DTMF detection). Pass-through relay does not use it.
 *
 * The worker puts every RTP packet of the stream as it arrives and, once
 * per frame tick, gets what to play: the next frame, "lost" (that frame
 * will not come: run the decoder's concealment for it) or "not yet"
 * (nothing is due: play concealment or comfort noise without advancing the
 * decoder). The buffer holds frames back just long enough to absorb the
 * jitter it has observed, between cfg.min_ms and cfg.max_ms: it lengthens
 * the delay at once when packets arrive late and shortens it slowly, by
 * dropping a frame now and then, when the network calms down.
 *
 * Frames live in a fixed ring indexed by sequence number, allocated with
 * the buffer; put and get never allocate. Not thread-safe: one worker owns
 * it. Times are microseconds of one monotonic clock.
 */
#ifndef HF_JBUF_H
#define HF_JBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct jbuf;

struct jbuf_cfg {
	uint32_t clock_rate;  /* RTP clock; 0: 8000 */
	uint32_t ptime_ms;    /* frame length until learnt from the stream; 0: 20 */
	uint32_t min_ms;      /* least buffering delay; 0: 20 */
	uint32_t max_ms;      /* most buffering delay; 0: 200 */
	uint16_t slots;       /* ring size in frames, a power of two 8-1024; 0: 64 */
	uint16_t max_payload; /* largest frame in bytes; 0: 1280 (an Opus frame) */
};

enum jbuf_res {
	JBUF_FRAME = 0, /* *f is the next frame */
	JBUF_LOST,      /* f->seq, f->ts: the frame that will not come */
	JBUF_AGAIN,     /* nothing due yet (or the stream is silent) */
};

struct jbuf_frame {
	uint16_t seq;
	uint32_t ts;
	const uint8_t *payload; /* JBUF_FRAME: valid until the next jbuf_put */
	size_t len;
};

struct jbuf_stats {
	uint64_t put;        /* packets offered */
	uint64_t played;     /* frames handed out */
	uint64_t lost;       /* frames that never came (LOST, or skipped) */
	uint64_t late;       /* arrived after their turn: discarded */
	uint64_t dup;        /* duplicates: discarded */
	uint64_t dropped;    /* discarded to shorten the delay or on overflow */
	uint64_t refused;    /* too large, or held as a suspected jump */
	uint64_t resets;     /* new SSRC, or a confirmed jump in seq/timestamp */
	uint32_t delay_ms;   /* buffering delay of the last frame handed out */
	uint32_t max_delay_ms;
	uint32_t target_ms;  /* the delay the buffer aims for now */
	uint32_t jitter_ms;  /* spread between fastest and slowest recent packets */
};

/* EINVAL for a bad configuration (slots not a power of two, min > max),
 * ENOMEM. cfg may be NULL for all defaults. */
int jbuf_alloc(struct jbuf **out, const struct jbuf_cfg *cfg);
void jbuf_free(struct jbuf *jb);

/* Offers one received packet (arrived at now_us). Returns 0 when kept,
 * EALREADY for a duplicate, ETIMEDOUT when its turn has passed, EMSGSIZE
 * when larger than max_payload, EAGAIN when held back as the possible
 * start of a new stream (a jump in sequence number or timestamp, which the
 * next packet confirms, resetting the buffer, or not). A new SSRC resets the
 * buffer at once. Statistics carry over resets. */
int jbuf_put(struct jbuf *jb, uint32_t ssrc, uint16_t seq, uint32_t ts,
	     const uint8_t *payload, size_t len, uint64_t now_us);

/* What to play at now_us. Call once per frame tick; each call hands out at
 * most one frame. */
enum jbuf_res jbuf_get(struct jbuf *jb, uint64_t now_us, struct jbuf_frame *f);

/* The frame the next jbuf_get would hand out, when it is already here:
 * true and *f (payload valid until the next jbuf_put), without advancing.
 * For Opus FEC: after JBUF_LOST, the packet following the lost one. */
bool jbuf_peek(const struct jbuf *jb, struct jbuf_frame *f);

/* Empties the buffer and forgets the stream (statistics are kept). */
void jbuf_reset(struct jbuf *jb);

void jbuf_stats(const struct jbuf *jb, struct jbuf_stats *st);

#endif
