/*
 * RTCP that Hookflash originates (RFC 3550 section 6): on a leg where the
 * audio is ours (transcoded, played, generated), the phone hears our
 * stream, not the other phone's, so the other phone's reports would name
 * an SSRC it never saw and are not forwarded (dpath_rtcp_fwd). Instead we
 * report for ourselves: a sender report on our stream with one report
 * block on the stream the phone sends us (A.3 loss, A.8 jitter, and LSR /
 * DLSR from its last sender report, so it can work out the round trip),
 * then SDES with our CNAME, as a compound packet. Phones show call quality from it,
 * and some end calls they believe dead without it.
 */
#include "rtp.h"

#include <string.h>

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* The RTCP common header: version 2, count, type, length in 32-bit words
 * minus one (6.4.1). */
static void header(uint8_t *p, unsigned count, uint8_t type, size_t bytes)
{
	p[0] = (uint8_t)(0x80 | (count & 0x1f));
	p[1] = type;
	uint16_t words = (uint16_t)(bytes / 4 - 1);
	p[2] = (uint8_t)(words >> 8);
	p[3] = (uint8_t)words;
}

size_t rtcp_sr_build(uint8_t *b, size_t cap, const struct rtcp_sr *sr)
{
	size_t sr_len = 28 + (sr->has_rb ? 24u : 0u);
	size_t cn = sr->cname ? strlen(sr->cname) : 0;
	if (cn > 255)
		cn = 255;
	/* SDES: header, SSRC, CNAME item (type, length, text), an end item,
	 * padded with zeros to a 32-bit boundary (6.5) */
	size_t sdes_len = (8 + 2 + cn + 1 + 3) & ~(size_t)3;
	if (cap < sr_len + sdes_len)
		return 0;
	memset(b, 0, sr_len + sdes_len);

	header(b, sr->has_rb ? 1 : 0, RTCP_SR, sr_len);
	put32(b + 4, sr->ssrc);
	put32(b + 8, (uint32_t)(sr->ntp >> 32));
	put32(b + 12, (uint32_t)sr->ntp);
	put32(b + 16, sr->rtp_ts);
	put32(b + 20, sr->packets);
	put32(b + 24, sr->octets);
	if (sr->has_rb) {
		const struct rtcp_rb *rb = &sr->rb;
		uint8_t *p = b + 28;
		int32_t lost = rb->lost;
		/* 24-bit signed, clamped (6.4.1) */
		if (lost > 0x7fffff)
			lost = 0x7fffff;
		if (lost < -0x800000)
			lost = -0x800000;
		put32(p, rb->ssrc);
		put32(p + 4, ((uint32_t)rb->fraction << 24) | ((uint32_t)lost & 0xffffff));
		put32(p + 8, rb->ext_max);
		put32(p + 12, rb->jitter);
		put32(p + 16, rb->lsr);
		put32(p + 20, rb->dlsr);
	}

	uint8_t *s = b + sr_len;
	header(s, 1, RTCP_SDES, sdes_len);
	put32(s + 4, sr->ssrc);
	s[8] = 1; /* CNAME */
	s[9] = (uint8_t)cn;
	if (cn)
		memcpy(s + 10, sr->cname, cn);
	return sr_len + sdes_len;
}

bool rtp_stats_report(const struct rtp_stats *s, struct rtcp_prior *prior, struct rtcp_rb *rb)
{
	if (!s->init)
		return false;
	if (!prior->init || prior->ssrc != s->ssrc) {
		/* a new stream: its interval starts at its first packet */
		prior->init = true;
		prior->ssrc = s->ssrc;
		prior->expected = 0;
		prior->received = 0;
	}
	uint32_t ext_max = s->cycles + s->max_seq;
	uint64_t expected = (uint64_t)ext_max - s->base_seq + 1;
	int64_t exp_iv = (int64_t)(expected - prior->expected);
	int64_t rec_iv = (int64_t)(s->received - prior->received);
	int64_t lost_iv = exp_iv - rec_iv;
	prior->expected = expected;
	prior->received = s->received;

	memset(rb, 0, sizeof(*rb));
	rb->ssrc = s->ssrc;
	rb->fraction = exp_iv > 0 && lost_iv > 0 ? (uint8_t)((lost_iv << 8) / exp_iv) : 0;
	int64_t lost = rtp_stats_lost(s);
	rb->lost = lost > INT32_MAX ? INT32_MAX : lost < INT32_MIN ? INT32_MIN : (int32_t)lost;
	rb->ext_max = ext_max;
	rb->jitter = (uint32_t)(s->jitter >> 4 > UINT32_MAX ? UINT32_MAX : s->jitter >> 4);
	return true;
}
