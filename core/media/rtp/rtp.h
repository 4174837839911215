/*
 * RTP and RTCP as far as a relay needs them (RFC 3550): a header parser
 * that only says whether a datagram is well-formed and where its parts
 * are, and the receiver statistics of one stream (sequence tracking and
 * loss from A.1/A.3, interarrival jitter from A.8). Both run once per
 * packet on a media worker, so neither allocates nor copies; the parser
 * reads only inside the given length.
 */
#ifndef HF_RTP_H
#define HF_RTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RTP_HDR_MIN 12u

struct rtp_hdr {
	uint8_t pt;
	bool marker;
	uint8_t cc;          /* CSRC count */
	uint16_t seq;
	uint32_t ts;
	uint32_t ssrc;
	size_t hdr_len;      /* fixed header + CSRCs + extension */
	size_t payload_len;  /* without padding */
	uint8_t pad_len;
};

/* 0 when p[0..len) is an RTP packet: version 2, CSRC list, extension and
 * padding inside the datagram, and a payload type that is not RTCP's
 * (RFC 5761 section 4: 64-95 are left to RTCP when both share a port).
 * EBADMSG otherwise. */
int rtp_hdr_parse(struct rtp_hdr *h, const uint8_t *p, size_t len);

struct rtcp_info {
	uint8_t pt;     /* of the first packet of the compound */
	uint32_t ssrc;  /* its sender SSRC */
	unsigned count; /* packets in the compound */
	uint32_t lsr;   /* first packet an SR: the middle 32 bits of its NTP
			 * time (what our report blocks echo as LSR); else 0 */
};

/* 0 when p[0..len) is a compound RTCP packet whose every part has version
 * 2, an RTCP packet type (192-223) and a length inside the datagram that
 * adds up to len exactly. EBADMSG otherwise. */
int rtcp_parse(struct rtcp_info *ri, const uint8_t *p, size_t len);

/* Receiver statistics of the packets of one phone. A new SSRC starts a new
 * sequence space; the loss of earlier ones is kept. */
struct rtp_stats {
	uint32_t clock_rate;
	bool init;
	uint32_t ssrc;
	uint16_t max_seq;
	uint32_t cycles;    /* sequence wraps, << 16 */
	uint32_t base_seq;
	uint32_t bad_seq;   /* RTP_SEQ_MOD + 1: none */
	uint64_t received;  /* this SSRC */
	int64_t lost_prev;  /* loss of earlier SSRCs */
	uint64_t t0_us;     /* arrival clock base */
	uint32_t transit;
	bool have_transit;
	uint64_t jitter;    /* A.8 scaled by 16, timestamp units; 64 bits so a
			     * hostile timestamp cannot wrap it */
};

void rtp_stats_init(struct rtp_stats *s, uint32_t clock_rate);
/* Accounts one parsed packet that arrived at arrival_us (microseconds of
 * one clock for the whole stream). Returns false when its sequence number
 * jumped too far to be placed: like A.1 it is then not counted, and a
 * second packet continuing the jump restarts the sequence (the sender
 * restarted). Duplicates and reordered packets are counted, so duplicates
 * make the loss smaller, as in RFC 3550. */
bool rtp_stats_update(struct rtp_stats *s, const struct rtp_hdr *h,
		      uint64_t arrival_us);
/* The SDP changed the clock rate: jitter starts over in the new units. */
void rtp_stats_set_clock(struct rtp_stats *s, uint32_t clock_rate);
/* RFC 3550 A.3 cumulative number of packets lost (negative with dups). */
int64_t rtp_stats_lost(const struct rtp_stats *s);
double rtp_stats_jitter_ms(const struct rtp_stats *s);

/* --- RTCP we originate (rtcp_sr.c) ------------------------------------------ */

#define RTCP_SR 200
#define RTCP_SDES 202

/* A report block (RFC 3550 6.4.1) on a stream we receive; LSR and DLSR
 * from the phone's last sender report (0 while none came). */
struct rtcp_rb {
	uint32_t ssrc;
	uint8_t fraction;  /* lost since the last report, /256 */
	int32_t lost;      /* cumulative; sent as 24-bit signed, clamped */
	uint32_t ext_max;  /* extended highest sequence number */
	uint32_t jitter;   /* timestamp units */
	uint32_t lsr, dlsr;
};

struct rtcp_sr {
	uint32_t ssrc;
	uint64_t ntp;      /* wallclock, NTP 32.32 */
	uint32_t rtp_ts;   /* the same instant in our stream's clock */
	uint32_t packets, octets; /* sent on our stream (payload octets) */
	bool has_rb;
	struct rtcp_rb rb;
	const char *cname; /* at most 255 bytes are sent */
};

/* Writes the compound SR (+ one report block) + SDES CNAME into b: its
 * length, or 0 when cap is too small. */
size_t rtcp_sr_build(uint8_t *b, size_t cap, const struct rtcp_sr *sr);

/* What one report told, for the next one's interval (A.3). */
struct rtcp_prior {
	bool init;
	uint32_t ssrc;
	uint64_t expected, received;
};

/* The report block on what s received; false when nothing arrived yet. */
bool rtp_stats_report(const struct rtp_stats *s, struct rtcp_prior *prior, struct rtcp_rb *rb);

#endif
