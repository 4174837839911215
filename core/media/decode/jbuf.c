/*
 * Adaptive jitter buffer (see jbuf.h). How it decides:
 *
 * Timing. Each packet's transit is its arrival time minus its RTP
 * timestamp (in microseconds, timestamps unwrapped to 64 bits). Only
 * differences of transits matter, so the unknown clock offset cancels.
 * "lo" is the fastest recent transit (minimum over two 2 s windows, so it
 * follows a drifting sender clock); "hi" is the slowest, held at its peak
 * and decaying towards newer samples with an 8 s time constant. A frame
 * with timestamp T is due at T + P, P = hi + half a frame, kept between
 * lo + min and lo + max. A late packet raises hi at once (the delay grows
 * at the next get); calm traffic lets hi sink slowly.
 *
 * Playout. get hands out frames in sequence order. It waits while the next
 * frame is not due. A due frame that is missing is reported lost, so the
 * decoder conceals it. When the frame at hand is more than 1.25 frames past
 * due and the next is already here, it is dropped: that is how the delay
 * shrinks (one frame at a time, only as fast as hi decays). The quarter
 * frame of hysteresis keeps a worker tick that fires a little late from
 * dropping a frame it would have to conceal at the next tick.
 *
 * Silence. A sender in DTX stops sending and resumes with the next
 * sequence number but a later timestamp. With nothing buffered, a due
 * frame is reported lost at most SPEC_MAX times; after that get says "not
 * yet". If the next packet turns out to be the sender resuming (its
 * sequence number among those just reported lost, its timestamp ahead of
 * the play position), the play head steps back to it and those reports
 * are taken back from the loss count.
 *
 * Discontinuities. A new SSRC resets the buffer. A packet whose sequence
 * number or transit jumps far is held back; if the next packet continues
 * it, the sender restarted and the buffer resets to the pair, otherwise it
 * was a stray and is dropped (RFC 3550 A.1 uses the same two-packet rule).
 */
#include "jbuf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define WIN_US 2000000         /* one window of the lo (minimum) tracker */
#define TAU_US 8000000         /* decay time constant of hi */
#define TS_JUMP_US 3000000     /* transit change taken as a timestamp jump */
#define SEQ_JUMP 3000          /* RFC 3550 A.1 MAX_DROPOUT */
#define SEQ_MISORDER 100       /* ... and MAX_MISORDER */
#define SPEC_MAX 5u            /* losses reported with nothing buffered */

enum slot_state { S_EMPTY = 0, S_FULL, S_PLAYED, S_LOST };

struct slot {
	uint16_t seq;
	uint8_t state;
	uint16_t len;
	int64_t ext;    /* unwrapped timestamp */
	uint8_t *data;
};

struct held {           /* a packet held back as a suspected jump */
	bool valid;
	uint32_t ssrc;
	uint16_t seq;
	uint32_t ts;
	uint64_t arrival;
	uint16_t len;
	uint8_t *data;
};

struct jbuf {
	struct jbuf_cfg cfg;
	unsigned mask;
	struct slot *slots;
	uint8_t *arena;
	struct held held;

	bool started;
	bool played_any;
	uint32_t ssrc;
	uint16_t play_seq;  /* the next frame to hand out */
	int64_t play_ext;   /* its timestamp when it is missing (expected) */
	unsigned count;     /* FULL slots, all in [play_seq, play_seq + slots) */
	uint16_t top;       /* the furthest sequence number stored */
	uint32_t last_ts;   /* unwrapping reference: newest timestamp seen */
	int64_t last_ext;
	int64_t frame_ts;   /* timestamp units per frame */
	int64_t cand_ts;    /* a new frame length seen once */

	int64_t lo_cur, lo_prev, hi;
	uint64_t win_start, last_arrival;
	int64_t carry;      /* hi - lo kept across a reset: same network path */

	unsigned spec_n;    /* losses reported with nothing buffered, in a row */
	struct jbuf_stats st;
};

static int64_t ts_us(const struct jbuf *jb, int64_t ext)
{
	return ext * 1000000 / (int64_t)jb->cfg.clock_rate;
}

static int64_t frame_us(const struct jbuf *jb)
{
	return ts_us(jb, jb->frame_ts);
}

static int64_t lo(const struct jbuf *jb)
{
	return jb->lo_cur < jb->lo_prev ? jb->lo_cur : jb->lo_prev;
}

/* P: a frame with unwrapped timestamp E is due at ts_us(E) + P. */
static int64_t playout(const struct jbuf *jb)
{
	int64_t l = lo(jb);
	int64_t p = jb->hi + frame_us(jb) / 2;
	int64_t min = l + (int64_t)jb->cfg.min_ms * 1000;
	int64_t max = l + (int64_t)jb->cfg.max_ms * 1000;
	return p < min ? min : p > max ? max : p;
}

int jbuf_alloc(struct jbuf **out, const struct jbuf_cfg *cfg)
{
	struct jbuf_cfg c = cfg ? *cfg : (struct jbuf_cfg){ 0 };
	if (!out)
		return EINVAL;
	if (!c.clock_rate)
		c.clock_rate = 8000;
	if (!c.ptime_ms)
		c.ptime_ms = 20;
	if (!c.min_ms)
		c.min_ms = 20;
	if (!c.max_ms)
		c.max_ms = 200;
	if (!c.slots)
		c.slots = 64;
	if (!c.max_payload)
		c.max_payload = 1280;
	if (c.slots < 8 || c.slots > 1024 || (c.slots & (c.slots - 1)) ||
	    c.min_ms > c.max_ms || c.max_ms > 10000 || c.ptime_ms > 1000 ||
	    c.clock_rate > 1000000)
		return EINVAL;

	struct jbuf *jb = calloc(1, sizeof(*jb));
	if (!jb)
		return ENOMEM;
	jb->cfg = c;
	jb->mask = c.slots - 1u;
	jb->slots = calloc(c.slots, sizeof(*jb->slots));
	/* one arena for every slot and the held packet */
	jb->arena = malloc(((size_t)c.slots + 1) * c.max_payload);
	if (!jb->slots || !jb->arena) {
		free(jb->slots);
		free(jb->arena);
		free(jb);
		return ENOMEM;
	}
	for (unsigned i = 0; i < c.slots; i++)
		jb->slots[i].data = jb->arena + (size_t)i * c.max_payload;
	jb->held.data = jb->arena + (size_t)c.slots * c.max_payload;
	jbuf_reset(jb);
	*out = jb;
	return 0;
}

void jbuf_free(struct jbuf *jb)
{
	if (!jb)
		return;
	free(jb->slots);
	free(jb->arena);
	free(jb);
}

static void clear(struct jbuf *jb)
{
	for (unsigned i = 0; i <= jb->mask; i++)
		jb->slots[i].state = S_EMPTY;
	jb->count = 0;
	jb->started = false;
	jb->played_any = false;
	jb->spec_n = 0;
	jb->held.valid = false;
	jb->frame_ts = (int64_t)jb->cfg.clock_rate * jb->cfg.ptime_ms / 1000;
	if (jb->frame_ts <= 0)
		jb->frame_ts = 1;
	jb->cand_ts = 0;
}

void jbuf_reset(struct jbuf *jb)
{
	clear(jb);
	jb->carry = 0;
}

/* First packet of a stream: the timing trackers start from it, with the
 * jitter learnt on the previous stream of this leg (same network path). */
static void start(struct jbuf *jb, uint32_t ssrc, uint16_t seq, uint32_t ts,
		  uint64_t now)
{
	jb->started = true;
	jb->ssrc = ssrc;
	jb->play_seq = seq;
	jb->play_ext = ts;
	jb->last_ts = ts;
	jb->last_ext = ts;
	int64_t tr = (int64_t)now - ts_us(jb, ts);
	jb->lo_cur = jb->lo_prev = tr;
	jb->hi = tr + jb->carry;
	jb->win_start = jb->last_arrival = now;
}

static void restart(struct jbuf *jb)
{
	if (jb->started) {
		int64_t spread = jb->hi - lo(jb);
		jb->carry = spread > 0 ? spread : 0;
	}
	/* the old stream's last frames go: their timing means nothing to
	 * the new one, and a switch of source is audible anyway */
	jb->st.dropped += jb->count;
	clear(jb);
	jb->st.resets++;
}

static void track(struct jbuf *jb, int64_t tr, uint64_t now)
{
	if (now - jb->win_start >= WIN_US) {
		jb->lo_prev = jb->lo_cur;
		jb->lo_cur = tr;
		jb->win_start = now;
	} else if (tr < jb->lo_cur) {
		jb->lo_cur = tr;
	}
	if (tr > jb->hi) {
		jb->hi = tr; /* late: grow at once */
	} else {
		int64_t dt = now > jb->last_arrival ? (int64_t)(now - jb->last_arrival) : 0;
		if (dt > TAU_US)
			dt = TAU_US;
		jb->hi -= (jb->hi - tr) * dt / TAU_US;
	}
	if (jb->hi < lo(jb))
		jb->hi = lo(jb);
	if (now > jb->last_arrival)
		jb->last_arrival = now;
}

/* Frame length from two consecutive packets, believed when seen twice in
 * a row so that one DTX gap does not change it. */
static void learn_frame(struct jbuf *jb, uint16_t seq, int64_t ext)
{
	const struct slot *p = &jb->slots[(uint16_t)(seq - 1) & jb->mask];
	if (p->seq != (uint16_t)(seq - 1) || p->state == S_EMPTY || p->state == S_LOST)
		return;
	int64_t d = ext - p->ext;
	if (d <= 0 || d > (int64_t)jb->cfg.clock_rate / 5)
		return;
	if (d == jb->cand_ts)
		jb->frame_ts = d;
	jb->cand_ts = d;
}

/* Moves the play head past the frame at play_seq, leaving a record of what
 * happened to it for the late/duplicate verdict on stragglers. */
static void advance(struct jbuf *jb, enum slot_state how)
{
	struct slot *s = &jb->slots[jb->play_seq & jb->mask];
	if (s->state == S_FULL && s->seq == jb->play_seq) {
		jb->count--;
		jb->play_ext = s->ext;
	} else {
		if (s->state == S_FULL) {
			/* cannot happen while the invariant holds; if it
			 * did, keep the count honest */
			jb->count--;
			jb->st.dropped++;
		}
		s->seq = jb->play_seq;
		s->ext = jb->play_ext;
	}
	s->state = (uint8_t)how;
	jb->play_ext += jb->frame_ts;
	jb->play_seq++;
}

static void store(struct jbuf *jb, uint16_t seq, int64_t ext,
		  const uint8_t *p, size_t len)
{
	struct slot *s = &jb->slots[seq & jb->mask];
	if (s->state == S_FULL)
		jb->count--; /* cannot happen while the invariant holds */
	if (!jb->count || (int16_t)(seq - jb->top) > 0)
		jb->top = seq;
	s->seq = seq;
	s->ext = ext;
	s->len = (uint16_t)len;
	if (len)
		memcpy(s->data, p, len);
	s->state = S_FULL;
	jb->count++;
}

/* The stream ran more than a ring ahead of the play head (nobody called
 * get for a while): skip the oldest frames so the new one fits. */
static void overflow(struct jbuf *jb, unsigned n)
{
	for (unsigned i = 0; i < n && i <= jb->mask; i++) {
		const struct slot *s = &jb->slots[jb->play_seq & jb->mask];
		bool full = s->state == S_FULL && s->seq == jb->play_seq;
		if (full)
			jb->st.dropped++;
		else
			jb->st.lost++;
		advance(jb, full ? S_PLAYED : S_LOST);
	}
	if (n > jb->mask + 1) {
		unsigned rest = n - (jb->mask + 1);
		jb->st.lost += rest;
		jb->play_seq = (uint16_t)(jb->play_seq + rest);
		jb->play_ext += (int64_t)rest * jb->frame_ts;
	}
}

static int put_one(struct jbuf *jb, uint32_t ssrc, uint16_t seq, uint32_t ts,
		   const uint8_t *p, size_t len, uint64_t now);

/* A packet that breaks the stream's continuity. Held if it is the first;
 * if it continues the one held, both start a new stream. */
static int jump(struct jbuf *jb, uint32_t ssrc, uint16_t seq, uint32_t ts,
		const uint8_t *p, size_t len, uint64_t now)
{
	struct held *h = &jb->held;
	int32_t dts = (int32_t)(ts - h->ts);
	if (h->valid && seq == (uint16_t)(h->seq + 1) && dts >= 0 &&
	    dts <= (int32_t)jb->cfg.clock_rate) {
		restart(jb);
		start(jb, h->ssrc, h->seq, h->ts, h->arrival);
		store(jb, h->seq, h->ts, h->data, h->len);
		return put_one(jb, ssrc, seq, ts, p, len, now);
	}
	h->valid = true;
	h->ssrc = ssrc;
	h->seq = seq;
	h->ts = ts;
	h->arrival = now;
	h->len = (uint16_t)len;
	if (len)
		memcpy(h->data, p, len);
	jb->st.refused++;
	return EAGAIN;
}

/* A packet behind the play head. */
static int behind(struct jbuf *jb, uint16_t seq, int64_t ext, int64_t tr,
		  const uint8_t *p, size_t len, uint64_t now)
{
	uint16_t back = (uint16_t)(jb->play_seq - seq);
	const struct slot *s = &jb->slots[seq & jb->mask];
	if (back <= jb->mask && s->seq == seq && s->state == S_PLAYED) {
		jb->st.dup++;
		return EALREADY;
	}
	/* reordered before anything was played: start from the earlier one */
	bool early_start = !jb->played_any && jb->count &&
			   back + (uint16_t)(jb->top - jb->play_seq) <= jb->mask;
	/* the sender resuming after silence that we took for loss */
	bool resume = jb->spec_n && !jb->count && back <= jb->spec_n && ext >= jb->play_ext;
	if (early_start || resume) {
		if (resume)
			jb->st.lost -= back;
		jb->spec_n = 0;
		jb->play_seq = seq;
		jb->play_ext = ext;
		track(jb, tr, now);
		store(jb, seq, ext, p, len);
		return 0;
	}
	track(jb, tr, now); /* late: the delay must grow */
	jb->st.late++;
	return ETIMEDOUT;
}

static int put_one(struct jbuf *jb, uint32_t ssrc, uint16_t seq, uint32_t ts,
		   const uint8_t *p, size_t len, uint64_t now)
{
	if (!jb->started) {
		start(jb, ssrc, seq, ts, now);
		store(jb, seq, ts, p, len);
		return 0;
	}
	int64_t ext = jb->last_ext + (int32_t)(ts - jb->last_ts);
	int64_t tr = (int64_t)now - ts_us(jb, ext);
	int16_t d = (int16_t)(seq - jb->play_seq);
	if (d >= SEQ_JUMP || d <= -SEQ_MISORDER || tr > jb->hi + TS_JUMP_US ||
	    tr < lo(jb) - TS_JUMP_US)
		return jump(jb, ssrc, seq, ts, p, len, now);
	jb->held.valid = false;
	if (ext > jb->last_ext) {
		jb->last_ext = ext;
		jb->last_ts = ts;
	}
	if (d < 0)
		return behind(jb, seq, ext, tr, p, len, now);

	const struct slot *s = &jb->slots[seq & jb->mask];
	if (s->state == S_FULL && s->seq == seq) {
		jb->st.dup++;
		return EALREADY;
	}
	track(jb, tr, now);
	if ((unsigned)d > jb->mask)
		overflow(jb, (unsigned)d - jb->mask);
	store(jb, seq, ext, p, len);
	learn_frame(jb, seq, ext);
	return 0;
}

int jbuf_put(struct jbuf *jb, uint32_t ssrc, uint16_t seq, uint32_t ts,
	     const uint8_t *payload, size_t len, uint64_t now_us)
{
	if (!jb || (!payload && len))
		return EINVAL;
	jb->st.put++;
	if (len > jb->cfg.max_payload) {
		jb->st.refused++;
		return EMSGSIZE;
	}
	if (jb->started && ssrc != jb->ssrc)
		restart(jb);
	return put_one(jb, ssrc, seq, ts, payload, len, now_us);
}

enum jbuf_res jbuf_get(struct jbuf *jb, uint64_t now_us, struct jbuf_frame *f)
{
	if (!jb || !f || !jb->started)
		return JBUF_AGAIN;
	int64_t p = playout(jb);
	int64_t fus = frame_us(jb);
	for (;;) {
		const struct slot *s = &jb->slots[jb->play_seq & jb->mask];
		bool present = s->state == S_FULL && s->seq == jb->play_seq;
		int64_t ext = present ? s->ext : jb->play_ext;
		int64_t wait = (int64_t)now_us - ts_us(jb, ext);
		if (wait < p)
			return JBUF_AGAIN;
		if (!present) {
			if (!jb->count) {
				/* nothing behind it: lost, or the sender is
				 * silent; say "lost" only a few times */
				if (jb->spec_n >= SPEC_MAX)
					return JBUF_AGAIN;
				jb->spec_n++;
			} else {
				jb->spec_n = 0;
			}
			f->seq = jb->play_seq;
			f->ts = (uint32_t)ext;
			f->payload = NULL;
			f->len = 0;
			jb->st.lost++;
			advance(jb, S_LOST);
			return JBUF_LOST;
		}
		const struct slot *n = &jb->slots[(uint16_t)(jb->play_seq + 1) & jb->mask];
		bool next = n->state == S_FULL && n->seq == (uint16_t)(jb->play_seq + 1);
		if (next && wait >= p + fus + fus / 4) {
			jb->st.dropped++; /* too far behind: shorten the delay */
			advance(jb, S_PLAYED);
			continue;
		}
		f->seq = s->seq;
		f->ts = (uint32_t)s->ext;
		f->payload = s->data;
		f->len = s->len;
		uint32_t delay = (uint32_t)((wait - lo(jb)) / 1000);
		jb->st.delay_ms = delay;
		if (delay > jb->st.max_delay_ms)
			jb->st.max_delay_ms = delay;
		jb->st.played++;
		jb->spec_n = 0;
		jb->played_any = true;
		advance(jb, S_PLAYED);
		return JBUF_FRAME;
	}
}

bool jbuf_peek(const struct jbuf *jb, struct jbuf_frame *f)
{
	if (!jb || !f || !jb->started)
		return false;
	const struct slot *s = &jb->slots[jb->play_seq & jb->mask];
	if (s->state != S_FULL || s->seq != jb->play_seq)
		return false;
	f->seq = s->seq;
	f->ts = (uint32_t)s->ext;
	f->payload = s->data;
	f->len = s->len;
	return true;
}

void jbuf_stats(const struct jbuf *jb, struct jbuf_stats *st)
{
	*st = jb->st;
	if (jb->started) {
		int64_t l = lo(jb);
		st->target_ms = (uint32_t)((playout(jb) - l) / 1000);
		st->jitter_ms = (uint32_t)((jb->hi - l) / 1000);
	} else {
		st->target_ms = jb->cfg.min_ms;
		st->jitter_ms = 0;
	}
}
