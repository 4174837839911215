/*
 * RTP/RTCP header parsing (see rtp.h). The relay forwards packets
 * untouched, so parsing is validation plus the few fields latching and the
 * statistics need: version, payload type, sequence number, timestamp and
 * SSRC. Every length read from the packet is checked against what is left
 * of the datagram before it is used; the fuzz harness
 * tests/fuzz/fuzz_rtp.c holds it to that.
 */
#include "rtp.h"

#include <errno.h>

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int rtp_hdr_parse(struct rtp_hdr *h, const uint8_t *p, size_t len)
{
	if (!h || !p || len < RTP_HDR_MIN)
		return EBADMSG;
	if ((p[0] >> 6) != 2)
		return EBADMSG;
	bool padding = p[0] & 0x20;
	bool ext = p[0] & 0x10;
	h->cc = p[0] & 0x0f;
	h->marker = p[1] & 0x80;
	h->pt = p[1] & 0x7f;
	/* RFC 5761: an RTCP packet's type byte reads as marker + PT 72-76;
	 * the whole 64-95 band is kept out of RTP for that reason */
	if (h->pt >= 64 && h->pt <= 95)
		return EBADMSG;
	h->seq = rd16(p + 2);
	h->ts = rd32(p + 4);
	h->ssrc = rd32(p + 8);

	size_t off = RTP_HDR_MIN + 4u * h->cc;
	if (off > len)
		return EBADMSG;
	if (ext) {
		if (len - off < 4)
			return EBADMSG;
		size_t words = rd16(p + off + 2);
		off += 4;
		if (words * 4 > len - off)
			return EBADMSG;
		off += words * 4;
	}
	h->pad_len = 0;
	if (padding) {
		/* the last octet counts the padding, itself included (5.1) */
		uint8_t n = p[len - 1];
		if (n == 0 || n > len - off)
			return EBADMSG;
		h->pad_len = n;
	}
	h->hdr_len = off;
	h->payload_len = len - off - h->pad_len;
	return 0;
}

int rtcp_parse(struct rtcp_info *ri, const uint8_t *p, size_t len)
{
	if (!ri || !p || len < 4)
		return EBADMSG;
	size_t off = 0;
	ri->count = 0;
	ri->ssrc = 0;
	ri->lsr = 0;
	while (off < len) {
		if (len - off < 4)
			return EBADMSG;
		const uint8_t *q = p + off;
		if ((q[0] >> 6) != 2 || q[1] < 192 || q[1] > 223)
			return EBADMSG;
		size_t plen = ((size_t)rd16(q + 2) + 1) * 4;
		if (plen > len - off)
			return EBADMSG;
		/* only the last packet of a compound may be padded (6.4.1) */
		if ((q[0] & 0x20) && off + plen != len)
			return EBADMSG;
		if (ri->count == 0) {
			ri->pt = q[1];
			/* SR, RR, SDES, BYE, APP and the feedback types all
			 * carry an SSRC right after the first word */
			if (plen >= 8)
				ri->ssrc = rd32(q + 4);
			if (q[1] == RTCP_SR && plen >= 28)
				ri->lsr = rd32(q + 10);
		}
		ri->count++;
		off += plen;
	}
	return 0;
}
