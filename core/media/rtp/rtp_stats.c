/*
 * Receiver statistics of one RTP stream (see rtp.h), following RFC 3550
 * appendix A: A.1 sequence tracking with wrap-around, dropout and misorder
 * limits; A.3 cumulative loss; A.8 interarrival jitter. Two departures,
 * both because a relay accounts rather than decodes: there is no probation
 * (the first packet of an SSRC starts the count, so counts match what was
 * relayed), and a new SSRC (a phone resuming from hold often picks one)
 * starts a new sequence space while the loss so far is carried over.
 */
#include "rtp.h"

#include <string.h>

#define SEQ_MOD (1u << 16)
#define MAX_DROPOUT 3000u
#define MAX_MISORDER 100u

void rtp_stats_init(struct rtp_stats *s, uint32_t clock_rate)
{
	memset(s, 0, sizeof(*s));
	s->clock_rate = clock_rate ? clock_rate : 8000;
	s->bad_seq = SEQ_MOD + 1;
}

void rtp_stats_set_clock(struct rtp_stats *s, uint32_t clock_rate)
{
	if (!clock_rate || clock_rate == s->clock_rate)
		return;
	s->clock_rate = clock_rate;
	s->have_transit = false;
	s->jitter = 0;
}

static void seq_init(struct rtp_stats *s, uint16_t seq)
{
	s->base_seq = seq;
	s->max_seq = seq;
	s->bad_seq = SEQ_MOD + 1;
	s->cycles = 0;
	s->received = 0;
}

int64_t rtp_stats_lost(const struct rtp_stats *s)
{
	if (!s->init)
		return s->lost_prev;
	int64_t expected = (int64_t)s->cycles + s->max_seq - s->base_seq + 1;
	return s->lost_prev + expected - (int64_t)s->received;
}

/* A.1 update_seq, returning false for a packet that is not counted. */
static bool seq_update(struct rtp_stats *s, uint16_t seq)
{
	uint16_t udelta = (uint16_t)(seq - s->max_seq);
	if (udelta < MAX_DROPOUT) {
		if (seq < s->max_seq)
			s->cycles += SEQ_MOD;
		s->max_seq = seq;
	} else if (udelta <= SEQ_MOD - MAX_MISORDER) {
		if (seq != s->bad_seq) {
			s->bad_seq = (seq + 1) & (SEQ_MOD - 1);
			return false;
		}
		/* two sequential packets after a big jump: the sender
		 * restarted; what was lost before stays lost */
		s->lost_prev = rtp_stats_lost(s);
		seq_init(s, seq);
	}
	/* else a duplicate or a reordered packet: counted, max unchanged */
	s->received++;
	return true;
}

bool rtp_stats_update(struct rtp_stats *s, const struct rtp_hdr *h,
		      uint64_t arrival_us)
{
	if (!s->init || h->ssrc != s->ssrc) {
		if (s->init) {
			s->lost_prev = rtp_stats_lost(s);
			s->have_transit = false;
			s->jitter = 0;
		} else {
			s->t0_us = arrival_us;
		}
		s->init = true;
		s->ssrc = h->ssrc;
		seq_init(s, h->seq);
		s->received = 1;
	} else if (!seq_update(s, h->seq)) {
		return false;
	}

	/* A.8: arrival in timestamp units. Only differences of transit
	 * times matter, so the clock is taken relative to the first packet,
	 * which also keeps the multiplication far from overflowing. */
	uint64_t rel = arrival_us > s->t0_us ? arrival_us - s->t0_us : 0;
	uint32_t arrival = (uint32_t)(rel * s->clock_rate / 1000000u);
	uint32_t transit = arrival - h->ts;
	if (s->have_transit) {
		int32_t d = (int32_t)(transit - s->transit);
		uint64_t ad = d < 0 ? (uint64_t)(-(int64_t)d) : (uint64_t)d;
		s->jitter = s->jitter - ((s->jitter + 8) >> 4) + ad;
	}
	s->transit = transit;
	s->have_transit = true;
	return true;
}

double rtp_stats_jitter_ms(const struct rtp_stats *s)
{
	return (double)s->jitter / 16.0 * 1000.0 / (double)s->clock_rate;
}
