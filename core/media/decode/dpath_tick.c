/*
 * The decoding path's clock (dpath.h): one loop timer per worker fires
 * every 20 ms on absolute deadlines and services every call that decodes,
 * encodes, records or sends digits. Per call and tick:
 *
 *   1. each decoded leg: jitter buffer -> decoder (PLC for a lost packet,
 *      Opus FEC when the packet after it is already here) -> a FIFO at the
 *      call's rate -> one 20 ms frame (or none: the phone is silent);
 *      in-band DTMF detection and the VAD read that frame;
 *   2. the recorder takes both legs' frames;
 *   3. each encoded leg: its play source, else the other leg's frame,
 *      with in-band digits written over it -> a FIFO -> packets of the
 *      leg's ptime -> RTP with our SSRC, sequence and timestamp -> SRTP
 *      -> the phone; RFC 4733 packets we generate go out alongside.
 *
 * The jitter buffer works in the receive timestamps' clock (the kernel's
 * SO_TIMESTAMPNS, CLOCK_REALTIME), so the tick reads that clock too.
 */
#include "dpath.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../../base/log.h"
#include "../codecs/codec.h"
#include "../dtmf/dtmf_inband.h"
#include "jbuf.h"
#include "../rtp/srtp.h"

/* packets of one leg's decoder per tick at most (10 ms ptime: 2) */
#define MAX_GETS 8

static void on_tick(void *arg);

static struct dpath *ticking_of(struct list_node *n)
{
	return container_of(n, struct dpath, tle);
}

void dpath_tick_start(struct dpath *mp)
{
	struct media_worker *w = mp->call->w;
	if (mp->ticking)
		return;
	mp->ticking = true;
	list_push_front(&w->ticking, &mp->tle);
	if (!loop_timer_active(&w->tick)) {
		w->next_tick = loop_now(w->loop) + MP_TICK_MS;
		if (loop_timer_start(w->loop, &w->tick, MP_TICK_MS, on_tick, w))
			log_err(MEDIA_TAG, "worker %u: no memory for the media tick", w->idx);
	}
}

void dpath_tick_stop(struct dpath *mp)
{
	struct media_worker *w = mp->call->w;
	if (!mp->ticking)
		return;
	list_remove(&w->ticking, &mp->tle);
	mp->ticking = false;
	if (list_empty(&w->ticking))
		loop_timer_cancel(&w->tick);
}

size_t dpath_rtp_hdr(uint8_t *b, uint8_t pt, bool marker, uint16_t seq,
		     uint32_t ts, uint32_t ssrc)
{
	b[0] = 0x80;
	b[1] = (uint8_t)((marker ? 0x80 : 0) | (pt & 0x7f));
	b[2] = (uint8_t)(seq >> 8);
	b[3] = (uint8_t)seq;
	b[4] = (uint8_t)(ts >> 24);
	b[5] = (uint8_t)(ts >> 16);
	b[6] = (uint8_t)(ts >> 8);
	b[7] = (uint8_t)ts;
	b[8] = (uint8_t)(ssrc >> 24);
	b[9] = (uint8_t)(ssrc >> 16);
	b[10] = (uint8_t)(ssrc >> 8);
	b[11] = (uint8_t)ssrc;
	return RTP_HDR_MIN;
}

void dpath_send(struct mleg *y, uint8_t *buf, size_t len)
{
	struct media_worker *w = y->call->w;
	const struct sockaddr_storage *dst = relay_target(&y->rtp);
	if (!dst || y->rtp.fd < 0 || !dpath_protect(y, buf, &len, RELAY_BUFSZ, false)) {
		y->tx_dropped++;
		return;
	}
	ssize_t r = sendto(y->rtp.fd, buf, len, MSG_DONTWAIT, (const struct sockaddr *)dst,
			   media_sa_len(dst));
	if (r < 0) {
		y->tx_dropped++;
		return;
	}
	y->tx_packets++;
	y->tx_bytes += len;
	atomic_fetch_add_explicit(&w->relayed, 1, memory_order_relaxed);
}

/* --- decoding side ---------------------------------------------------------- */

static void conceal(struct mp_in *in, const struct jbuf_frame *next)
{
	size_t room = MP_DEC_FIFO - in->flen;
	size_t n = in->plc_samples < room ? in->plc_samples : room;
	int k = next ? codec_decode_fec(in->dec, next->payload, next->len,
					in->fifo + in->flen, n)
		     : codec_plc(in->dec, in->fifo + in->flen, n);
	if (k > 0)
		in->flen += (size_t)k;
}

/* One tick's frame of leg in (n samples) into in->frame; in->have says
 * whether there was any audio. */
static void decode_tick(struct mp_in *in, size_t n, uint64_t now_us, uint32_t rate)
{
	in->have = false;
	for (int g = 0; g < MAX_GETS && in->flen < n; g++) {
		/* ask for what plays after the audio already decoded */
		uint64_t ahead = (uint64_t)in->flen * 1000000u / rate;
		struct jbuf_frame f, next;
		enum jbuf_res r = jbuf_get(in->jb, now_us + ahead, &f);
		if (r == JBUF_AGAIN)
			break;
		if (r == JBUF_LOST) {
			conceal(in, jbuf_peek(in->jb, &next) ? &next : NULL);
			continue;
		}
		size_t room = MP_DEC_FIFO - in->flen;
		int k = codec_decode(in->dec, f.payload, f.len, in->fifo + in->flen, room);
		if (k < 0) {
			conceal(in, NULL);
			continue;
		}
		in->flen += (size_t)k;
		if (k > 0)
			in->plc_samples = (size_t)k;
	}
	if (!in->flen)
		return;
	if (in->flen < n) {
		/* the stream paused mid-frame: pad with silence */
		memset(in->fifo + in->flen, 0, (n - in->flen) * sizeof(int16_t));
		in->flen = n;
	}
	memcpy(in->frame, in->fifo, n * sizeof(int16_t));
	in->flen -= n;
	memmove(in->fifo, in->fifo + n, in->flen * sizeof(int16_t));
	in->have = true;
}

static void push_event(struct mcall *c, enum media_event_type type, unsigned leg)
{
	struct mevent *e = media_event_new(c, type, leg);
	if (e)
		media_event_push(c->w->me, e);
}

/* --- encoding side ------------------------------------------------------------ */

static uint32_t rtp_units(const struct dpath *mp, unsigned y, size_t samples)
{
	return (uint32_t)((uint64_t)samples * mp->fmt[y].codec->rtp_clock / mp->rate);
}

static void send_audio(struct dpath *mp, unsigned y)
{
	struct mleg *leg = &mp->call->leg[y];
	struct mp_out *o = &mp->out[y];
	uint8_t *b = mp->call->w->obuf;
	size_t cap = RELAY_BUFSZ - RTP_HDR_MIN - SRTP_CTX_TRAILER - 16;
	while (o->flen >= o->pkt_samples) {
		int k = codec_encode(o->enc, o->fifo, o->pkt_samples, b + RTP_HDR_MIN, cap);
		if (k > 0) {
			dpath_rtp_hdr(b, mp->fmt[y].pt, o->marker, o->seq++, o->ts, o->ssrc);
			o->marker = false;
			dpath_send(leg, b, RTP_HDR_MIN + (size_t)k);
			o->sent_pkts++;
			o->sent_octets += (uint32_t)k;
		}
		o->ts += rtp_units(mp, y, o->pkt_samples);
		o->flen -= o->pkt_samples;
		memmove(o->fifo, o->fifo + o->pkt_samples, o->flen * sizeof(int16_t));
	}
}

static bool flows(const struct mcall *c, unsigned x, unsigned y)
{
	return c->connected && dir_sends(c->leg[x].dir) && dir_receives(c->leg[y].dir);
}

static void encode_tick(struct dpath *mp, unsigned y, size_t n)
{
	struct mcall *c = mp->call;
	struct mp_out *o = &mp->out[y];
	unsigned x = mp->echo[y] ? y : !y;
	const struct mp_in *src = &mp->in[x];
	int16_t *pcm = o->fifo + o->flen; /* room: MP_ENC_FIFO keeps a frame free */
	bool have = false;

	if (o->play) {
		have = playrec_play_read(mp, y, pcm, n);
		if (!have)
			mp->replan = true;
	} else if (x == y) {
		/* echo: the phone hears itself, without its in-band digits
		 * (silence while one is detected down) */
		if (src->have && dir_sends(c->leg[y].dir) && !src->ib_active) {
			memcpy(pcm, src->frame, n * sizeof(int16_t));
			have = true;
		}
	} else if (src->have && flows(c, x, y) &&
		   !(src->ib_active && mp->relay_dtmf && mp->fmt[y].dtmf_pt >= 0)) {
		/* (an in-band digit relayed as RFC 4733 is taken out) */
		memcpy(pcm, src->frame, n * sizeof(int16_t));
		have = true;
	}
	if (o->ib_busy && o->ibtx) {
		if (!have)
			memset(pcm, 0, n * sizeof(int16_t));
		if (dtmf_inband_tx_gen(o->ibtx, pcm, n) < n) {
			o->ib_busy = false;
			mp->replan = true;
		}
		have = true;
	}
	if (!have || !dir_receives(c->leg[y].dir)) {
		/* nothing to say: time goes on, the next packet is a new
		 * talkspurt (RFC 3551 4.1: marker after silence) */
		o->ts += rtp_units(mp, y, o->flen + n);
		o->flen = 0;
		o->marker = true;
		return;
	}
	o->flen += n;
	send_audio(mp, y);
}

/* RFC 4733 packets we generate towards y, in our stream (encoded leg) or
 * slipped into the stream we forward (pass-through). */
static void send_digits(struct dpath *mp, unsigned y, uint64_t now_ms)
{
	struct mp_out *o = &mp->out[y];
	struct mleg *leg = &mp->call->leg[y];
	uint8_t *b = mp->call->w->obuf;
	struct dtmf4733_pkt pk;
	uint8_t pt = (uint8_t)mp->fmt[y].dtmf_pt;
	while (dtmf4733_tx_poll(&o->tx4733, now_ms, &pk)) {
		if (mp->enc[y] || !o->fwd_known) {
			dpath_rtp_hdr(b, pt, pk.marker, o->seq++, pk.ts, o->ssrc);
			o->sent_pkts++;
			o->sent_octets += DTMF4733_LEN;
		} else {
			o->fwd_seq++;
			o->seq_off++;
			dpath_rtp_hdr(b, pt, pk.marker, o->fwd_seq, pk.ts, o->fwd_ssrc);
		}
		memcpy(b + RTP_HDR_MIN, pk.payload, DTMF4733_LEN);
		if (dir_receives(leg->dir))
			dpath_send(leg, b, RTP_HDR_MIN + DTMF4733_LEN);
	}
	if (!dtmf4733_tx_busy(&o->tx4733)) {
		o->tx_open = false;
		mp->replan = true;
	}
}

/* --- RTCP for our streams (rtcp_sr.c says why) ------------------------------- */

static uint64_t rtcp_interval(const struct mp_out *o, uint32_t mean_ms)
{
	/* 0.5-1.5 times the mean (RFC 3550 6.2), from a xorshift of our SSRC
	 * and what we sent: calls started together do not report in step */
	uint32_t x = o->ssrc ^ o->sent_pkts * 2654435761u;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return mean_ms / 2 + x % (mean_ms ? mean_ms : 1);
}

/* NTP time (32.32 since 1900) of a wall-clock instant */
static uint64_t ntp_of(uint64_t realtime_us)
{
	uint64_t sec = realtime_us / 1000000u + 2208988800u; /* 1900 -> 1970 */
	uint64_t frac = ((realtime_us % 1000000u) << 32) / 1000000u;
	return sec << 32 | frac;
}

static void send_rtcp(struct dpath *mp, unsigned y, uint64_t now_ms, uint64_t now_us)
{
	struct mp_out *o = &mp->out[y];
	struct mleg *leg = &mp->call->leg[y];
	uint32_t mean = mp->call->w->me->cfg.rtcp_interval_ms;
	if (!o->rtcp_due) {
		o->rtcp_due = now_ms + rtcp_interval(o, mean) / 2; /* the first: sooner */
		return;
	}
	if (now_ms < o->rtcp_due)
		return;
	o->rtcp_due = now_ms + rtcp_interval(o, mean);
	const struct sockaddr_storage *dst = relay_target(&leg->rtcp);
	if (!dst || leg->rtcp.fd < 0)
		return;
	char cname[32];
	snprintf(cname, sizeof(cname), "%08x@hookflash", (unsigned)o->ssrc);
	struct rtcp_sr sr = {
		.ssrc = o->ssrc,
		.ntp = ntp_of(now_us),
		.rtp_ts = o->ts,
		.packets = o->sent_pkts,
		.octets = o->sent_octets,
		.cname = cname,
	};
	sr.has_rb = rtp_stats_report(&leg->rx, &o->rtcp_prior, &sr.rb);
	if (sr.has_rb && leg->sr_lsr) {
		/* the phone's last SR and how long ago, in 1/65536 s: it
		 * works out the round trip from them */
		sr.rb.lsr = leg->sr_lsr;
		sr.rb.dlsr = (uint32_t)((now_ms - leg->sr_at_ms) * 65536u / 1000u);
	}
	uint8_t *b = mp->call->w->obuf;
	size_t len = rtcp_sr_build(b, RELAY_BUFSZ - SRTP_CTX_TRAILER - 16, &sr);
	if (!len || !dpath_protect(leg, b, &len, RELAY_BUFSZ, true))
		return;
	if (sendto(leg->rtcp.fd, b, len, MSG_DONTWAIT, (const struct sockaddr *)dst,
		   media_sa_len(dst)) == (ssize_t)len)
		leg->rtcp_tx++;
}

static void tick_call(struct dpath *mp, uint64_t now_ms, uint64_t now_us)
{
	struct mcall *c = mp->call;
	size_t n = codec_samples(mp->rate, MP_TICK_MS);

	for (unsigned i = 0; i < 2; i++) {
		struct mp_in *in = &mp->in[i];
		in->have = false;
		if (mp->dec[i] && in->jb) {
			decode_tick(in, n, now_us, mp->rate);
			if (in->have && in->ibrx)
				dtmf_inband_rx_put(in->ibrx, in->frame, n);
			if (in->have) {
				int v = vad_frame(&in->vad, in->frame, n);
				if (v)
					push_event(c, v > 0 ? MEDIA_EV_TALK : MEDIA_EV_SILENCE, i);
			}
		}
		if (mp->has_fmt[i] && mp->fmt[i].dtmf_pt >= 0 &&
		    in->rx4733.state == DTMF4733_ACTIVE)
			dtmf4733_rx_poll(&in->rx4733, now_ms);
	}
	if (mp->rec)
		playrec_record_write(mp, n);
	for (unsigned i = 0; i < 2; i++) {
		if (mp->enc[i] && mp->out[i].enc) {
			encode_tick(mp, i, n);
			if (leg_live(&c->leg[i]))
				send_rtcp(mp, i, now_ms, now_us);
		}
		if (mp->has_fmt[i] && mp->fmt[i].dtmf_pt >= 0 &&
		    dtmf4733_tx_busy(&mp->out[i].tx4733))
			send_digits(mp, i, now_ms);
	}
	if (mp->replan || (!mp->rec && !mp->enc[0] && !mp->enc[1] && !mp->dec[0] &&
			   !mp->dec[1]))
		dpath_plan(c);
}

/* Once a second: this thread's CPU over the last second, and the opus
 * mode that goes with it (media_cfg.opus_low_cpu_above). */
static void watch_load(struct media_worker *w, uint64_t now)
{
	uint32_t above = w->me->cfg.opus_low_cpu_above;
	if (!above || w->me->cfg.opus_low_cpu || now < w->load_ms + 1000)
		return;
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	uint64_t cpu = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	if (w->load_ms) {
		uint64_t wall_ns = (now - w->load_ms) * 1000000u;
		w->load_pct = (unsigned)((cpu - w->load_cpu_ns) * 100u / wall_ns);
	}
	w->load_ms = now;
	w->load_cpu_ns = cpu;
	bool lean = w->opus_lean ? w->load_pct * 3 >= above * 2 : w->load_pct > above;
	if (lean == w->opus_lean)
		return;
	w->opus_lean = lean;
	log_info(MEDIA_TAG, "worker %u: %u%% of a core: opus encoders now code %s", w->idx,
		 w->load_pct, lean ? "CELT (low CPU)" : "SILK again");
	struct list_node *n, *next;
	list_foreach_safe(&w->ticking, n, next) /* planning may unlink n */
		dpath_opus_remake(ticking_of(n));
}

static void on_tick(void *arg)
{
	struct media_worker *w = arg;
	uint64_t now = loop_now(w->loop), now_us = media_realtime_us();
	watch_load(w, now);
	struct list_node *n, *next;
	list_foreach_safe(&w->ticking, n, next) /* planning may unlink n */
		tick_call(ticking_of(n), now, now_us);
	if (list_empty(&w->ticking))
		return;
	/* absolute deadlines: a late tick does not shift the next ones; a
	 * worker that fell more than a tick behind skips, not bursts */
	w->next_tick += MP_TICK_MS;
	if (w->next_tick <= now)
		w->next_tick = now + MP_TICK_MS;
	if (loop_timer_start(w->loop, &w->tick, w->next_tick - now, on_tick, w))
		log_err(MEDIA_TAG, "worker %u: no memory for the media tick", w->idx);
}
