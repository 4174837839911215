/*
 * libFuzzer harness for the media packet path's pure parts
 * (core/media/rtp/rtp.c, rtp_stats.c, latch.c): whatever arrives on an RTP or
 * RTCP port must parse or be refused without reading outside the
 * datagram, the parts the parser reports must add up to the datagram, the
 * RFC 3550 statistics must stay sane over any sequence of packets, the
 * latch must never accept a source other than the one it latched, and
 * never learn a source other than the signalled address before it sent
 * LATCH_PROBATION packets in a row (RTP bleed).
 *
 * Input: a sequence of records, each
 *   1 byte  selector: bits 0-1 source address, bits 2-3 clock rate,
 *           bit 4 reopen the latching window, bit 5 reset the latch
 *   2 bytes arrival step in microseconds (big-endian)
 *   2 bytes datagram length n (big-endian, clipped to what is left)
 *   n bytes datagram
 * Each datagram is copied to an exact-size heap buffer so AddressSanitizer
 * catches a read one byte past its end.
 */
#include <arpa/inet.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/media/media_int.h"
#include "../../core/media/rtp/rtp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct sockaddr_storage addr(unsigned i)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	struct sockaddr_in *a = (struct sockaddr_in *)&ss;
	a->sin_family = AF_INET;
	a->sin_port = htons((uint16_t)(4000 + 2 * i));
	a->sin_addr.s_addr = htonl(0x0a000001u + (i & 1));
	return ss;
}

/* Packets in a row (one SSRC, consecutive sequence numbers) each source
 * sent, counted whatever the others send: an upper bound of what the
 * latch's probation can have seen. */
struct runs {
	uint32_t n[4], ssrc[4];
	uint16_t next[4];
};

static void check_rtp(const uint8_t *buf, size_t n, struct rtp_stats *st,
		      uint64_t now_us, struct latch *l, const struct sockaddr_storage *src,
		      unsigned si, struct runs *runs, const struct sockaddr_storage *sig,
		      uint64_t now_ms)
{
	struct rtp_hdr h;
	if (rtp_hdr_parse(&h, buf, n))
		return;
	if (h.hdr_len < RTP_HDR_MIN || h.hdr_len + h.payload_len + h.pad_len != n)
		abort();
	if (h.hdr_len < RTP_HDR_MIN + 4u * h.cc)
		abort();
	if (h.pt >= 64 && h.pt <= 95)
		abort();
	/* nothing that parses as RTP may parse as RTCP: a shared port
	 * (RFC 5761) demultiplexes on exactly this */
	struct rtcp_info ri;
	if (rtcp_parse(&ri, buf, n) == 0)
		abort();

	if (runs->n[si] && h.ssrc == runs->ssrc[si] && h.seq == runs->next[si])
		runs->n[si]++;
	else
		runs->n[si] = 1;
	runs->ssrc[si] = h.ssrc;
	runs->next[si] = (uint16_t)(h.seq + 1);

	bool was_latched = l->latched, was_open = l->open;
	struct sockaddr_storage before = l->addr;
	struct sockaddr_storage peer = addr(2); /* the SIP peer's host: sources 0 and 2 */
	const struct latch_pkt p = { .src = src, .ssrc = h.ssrc, .seq = h.seq, .pt = h.pt };
	const struct latch_hint hint = { .sig = sig, .peer = &peer };
	enum latch_res r = latch_check(l, &p, &hint, now_ms);
	if (r != LATCH_DROP && (!l->latched || !media_sa_equal(&l->addr, src)))
		abort();
	if (r == LATCH_OK && (!was_latched || !media_sa_equal(&before, src)))
		abort();
	if (!was_open && !was_latched && r == LATCH_NEW)
		abort(); /* never opened (not connected): never learns */
	if (r == LATCH_NEW && !media_sa_equal(src, sig) && runs->n[si] < LATCH_PROBATION)
		abort(); /* learnt without probation */
	if (r == LATCH_DROP && was_latched && !media_sa_equal(&l->addr, &before))
		abort();
	if (r == LATCH_DROP)
		return;

	uint64_t before_rx = st->received;
	bool placed = rtp_stats_update(st, &h, now_us);
	if (placed && st->ssrc == h.ssrc && st->received == 0)
		abort();
	if (!placed && st->received != before_rx)
		abort();
	double j = rtp_stats_jitter_ms(st);
	if (!isfinite(j) || j < 0)
		abort();
	(void)rtp_stats_lost(st);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t rates[4] = { 8000, 16000, 48000, 90000 };
	struct rtp_stats st;
	struct latch l;
	memset(&l, 0, sizeof(l));
	rtp_stats_init(&st, 8000);
	uint64_t now_us = 1700000000000000ull;
	uint64_t now_ms = 1000;
	latch_open(&l, now_ms, 2000, 10);
	struct sockaddr_storage sig = addr(0);
	struct runs runs;
	memset(&runs, 0, sizeof(runs));

	size_t off = 0;
	while (size - off >= 5) {
		uint8_t sel = data[off];
		uint16_t step = (uint16_t)(data[off + 1] << 8 | data[off + 2]);
		size_t n = (size_t)(data[off + 3] << 8 | data[off + 4]);
		off += 5;
		if (n > size - off)
			n = size - off;
		now_us += step;
		now_ms += step / 100; /* a coarser clock, so windows expire */
		if (sel & 0x20)
			latch_reset(&l);
		if (sel & 0x10)
			latch_open(&l, now_ms, 2000, 10);
		rtp_stats_set_clock(&st, rates[(sel >> 2) & 3]);
		struct sockaddr_storage src = addr(sel & 3);

		uint8_t *buf = malloc(n ? n : 1);
		if (!buf)
			return 0;
		memcpy(buf, data + off, n);
		off += n;

		struct rtcp_info ri;
		if (rtcp_parse(&ri, buf, n) == 0) {
			if (ri.count == 0 || n < 4 || n % 4)
				abort();
			if (ri.pt < 192 || ri.pt > 223)
				abort();
		}
		check_rtp(buf, n, &st, now_us, &l, &src, sel & 3, &runs, &sig, now_ms);
		free(buf);
	}
	return 0;
}
