/*
 * The per-packet part of a call with processing state (dpath.h), called
 * by relay.c for every RTP packet accepted from a leg: SRTP off and on,
 * RFC 4733 digits peeked at, audio put into the jitter buffer when the leg
 * is decoded, and the decision whether the packet goes on to the other
 * leg as it is (pass-through, with its payload type renumbered for that
 * leg) or stops here because that leg hears audio we encode.
 *
 * Everything works in place on the worker's receive buffer; nothing here
 * allocates.
 */
#include "dpath.h"

#include "jbuf.h"
#include "../rtp/srtp.h"

bool dpath_unprotect(struct mleg *x, uint8_t *buf, size_t *len, bool rtcp)
{
	struct srtp_ctx *ctx = x->call->proc->srtp[x->idx];
	if (!ctx)
		return true;
	int err = rtcp ? srtp_ctx_unprotect_rtcp(ctx, buf, len)
		       : srtp_ctx_unprotect_rtp(ctx, buf, len);
	return err == 0;
}

bool dpath_protect(struct mleg *y, uint8_t *buf, size_t *len, size_t cap, bool rtcp)
{
	struct srtp_ctx *ctx = y->call->proc->srtp[y->idx];
	if (!ctx)
		return true;
	int err = rtcp ? srtp_ctx_protect_rtcp(ctx, buf, len, cap)
		       : srtp_ctx_protect_rtp(ctx, buf, len, cap);
	return err == 0;
}

/* RTCP describes SSRCs: x's reports go on to y while y hears x's stream
 * as it is (pass-through towards y). Towards a leg that hears our own
 * stream they would name a stream it never saw; there we send our own
 * (dpath_tick.c). */
bool dpath_rtcp_fwd(const struct mleg *x)
{
	const struct dpath *mp = x->call->proc;
	return !mp->enc[!x->idx];
}

static void set_pt(uint8_t *buf, uint8_t pt)
{
	buf[1] = (uint8_t)((buf[1] & 0x80) | (pt & 0x7f));
}

/* A packet forwarded towards leg y: shifts its sequence number past the
 * digits we slipped into the stream, and remembers where the stream is. */
static void pass_note(struct mp_out *o, uint8_t *buf, const struct rtp_hdr *h,
		      uint64_t now_ms)
{
	uint16_t seq = (uint16_t)(h->seq + o->seq_off);
	if (o->seq_off) {
		buf[2] = (uint8_t)(seq >> 8);
		buf[3] = (uint8_t)seq;
	}
	o->fwd_known = true;
	o->fwd_ssrc = h->ssrc;
	o->fwd_seq = seq;
	o->fwd_ts = h->ts;
	o->fwd_ms = now_ms;
}

bool dpath_rtp_in(struct mleg *x, struct rtp_hdr *h, uint8_t *buf, size_t *len,
		  uint64_t arrival_us, bool fwd)
{
	struct mcall *c = x->call;
	struct dpath *mp = c->proc;
	unsigned xi = x->idx, yi = !xi;
	const uint8_t *pl = buf + h->hdr_len;
	uint64_t now_ms = loop_now(c->w->loop);
	/* pass-through towards y: y hears x's packets, not our encoder */
	bool pass = fwd && !mp->enc[yi];
	(void)len;

	if (!mp->has_fmt[xi])
		return pass;
	const struct media_fmt *xf = &mp->fmt[xi];
	if (xf->dtmf_pt >= 0 && h->pt == (uint8_t)xf->dtmf_pt) {
		dtmf4733_rx_put(&mp->in[xi].rx4733, h->ts, pl, h->payload_len, now_ms);
		if (mp->replan)
			dpath_plan(c);
		if (!pass || !mp->relay_dtmf || !mp->has_fmt[yi] || mp->fmt[yi].dtmf_pt < 0)
			return false;
		set_pt(buf, (uint8_t)mp->fmt[yi].dtmf_pt);
		pass_note(&mp->out[yi], buf, h, now_ms);
		return true;
	}
	if (h->pt == xf->pt) {
		if (mp->dec[xi] && mp->in[xi].jb && h->payload_len)
			jbuf_put(mp->in[xi].jb, h->ssrc, h->seq, h->ts, pl, h->payload_len,
				 arrival_us);
		if (!pass)
			return false;
		if (mp->has_fmt[yi])
			set_pt(buf, mp->fmt[yi].pt);
		pass_note(&mp->out[yi], buf, h, now_ms);
		return true;
	}
	/* comfort noise and the like go on unchanged in pass-through */
	if (pass)
		pass_note(&mp->out[yi], buf, h, now_ms);
	return pass;
}
