/*
 * RFC 4733 telephone-events (DTMF keys 0-15 and hook flash 16): the
 * payload parser, a receiver that turns a lossy, reordered, retransmitted
 * stream of event packets into exactly one DTMF_BEGIN and one DTMF_END per
 * key press, and a generator that emits the packets of one key press as a
 * caller-driven clock advances.
 *
 * All three run on a media worker, per packet or per 20 ms tick: they never
 * allocate, block or read the clock themselves. The structs are public so
 * an endpoint can embed them; treat their fields as private.
 */
#ifndef HF_DTMF4733_H
#define HF_DTMF4733_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dtmf.h"

#define DTMF4733_LEN 4u /* one event block */

/* One event block of a telephone-event payload (RFC 4733 section 2.3). */
struct dtmf4733_ev {
	uint8_t event;     /* 0-255; DTMF is 0-16 */
	bool end;          /* E bit */
	uint8_t volume;    /* 0-63: the power is -volume dBm0 */
	uint16_t duration; /* RTP timestamp units since the event (segment) began */
	unsigned nblocks;  /* blocks in the payload; only the first is used */
};

/* 0 when p[0..len) is a telephone-event payload: one to sixteen whole
 * 4-byte blocks. *ev is the first block, the one the packet's timestamp
 * belongs to. Further blocks are legal only as redundancy for events the
 * receiver has had its chance to see, so they are counted and checked for
 * size, not interpreted. EBADMSG otherwise. */
int dtmf4733_parse(struct dtmf4733_ev *ev, const uint8_t *p, size_t len);

/* Writes one block into p[0..4). */
void dtmf4733_encode(uint8_t p[DTMF4733_LEN], uint8_t event, bool end,
		     uint8_t volume, uint16_t duration);

/* --- receiver ------------------------------------------------------------ */

enum dtmf4733_rx_state {
	DTMF4733_IDLE = 0, /* no event seen since init/reset */
	DTMF4733_ACTIVE,   /* BEGIN reported, END not yet */
	DTMF4733_ENDED,    /* END reported; kept to recognise retransmissions */
};

struct dtmf4733_rx_stats {
	uint64_t packets;   /* payloads given to dtmf4733_rx_put */
	uint64_t malformed; /* refused by the parser */
	uint64_t ignored;   /* retransmissions, late updates, non-DTMF events */
	uint64_t digits;    /* BEGINs reported */
	uint64_t timeouts;  /* ENDs reported because the end packets never came */
};

struct dtmf4733_rx {
	dtmf_h *h;
	void *arg;
	uint32_t clock_rate;
	uint32_t timeout_ms;
	enum dtmf4733_rx_state state;
	uint8_t code;
	uint8_t volume;
	uint32_t start_ts; /* timestamp of the event's first segment */
	uint32_t seg_ts;   /* timestamp of its newest segment (long events) */
	uint32_t end_ts;   /* furthest ts + duration seen for the event */
	uint64_t last_ms;  /* arrival of its newest packet */
	struct dtmf4733_rx_stats stats;
};

/* clock_rate: the telephone-event rtpmap clock (0: 8000). Events go to h. */
void dtmf4733_rx_init(struct dtmf4733_rx *rx, uint32_t clock_rate,
		      dtmf_h *h, void *arg);

/* Forgets the current event without reporting its END (new SSRC, new
 * sender): the next packet is a new key press. Statistics are kept. */
void dtmf4733_rx_reset(struct dtmf4733_rx *rx);

/* How long an event may go without packets before dtmf4733_rx_poll ends
 * it (default 500 ms: ten 50 ms updates lost in a row). */
void dtmf4733_rx_set_timeout(struct dtmf4733_rx *rx, uint32_t timeout_ms);

/* Accounts one telephone-event payload with RTP timestamp ts, arrived at
 * now_ms (any monotonic millisecond clock). Reports through the handler:
 * BEGIN once for each key press even when its first packets were lost, END
 * once on its first end packet, or when a newer event supersedes it. The
 * marker bit is deliberately not an input: it is often missing or lost, and
 * the timestamp alone says whether a packet starts a new event. EBADMSG for
 * a malformed payload (nothing changes), else 0.
 *
 * Limit: a press longer than one segment (0xFFFF timestamp units, 8.2 s at
 * 8 kHz) stays one press only if some packet from the last 0x4000 units of
 * each segment arrives; after a loss burst that long it is reported as two.
 * The alternative, trusting the timestamp alone, would merge two presses
 * of the same key one segment apart whose end packets were all lost. */
int dtmf4733_rx_put(struct dtmf4733_rx *rx, uint32_t ts, const uint8_t *p,
		    size_t len, uint64_t now_ms);

/* Ends (reports END for) an event whose packets stopped coming for the
 * timeout, as when all three end packets were lost. Call it from the
 * worker's tick. */
void dtmf4733_rx_poll(struct dtmf4733_rx *rx, uint64_t now_ms);

/* --- generator ----------------------------------------------------------- */

#define DTMF4733_TX_DEFAULT_MS 100u
#define DTMF4733_TX_OPEN UINT32_MAX /* duration: until dtmf4733_tx_stop */
#define DTMF4733_TX_ENDS 3u         /* RFC 4733 2.5.1.4 */

/* One packet to send: the caller wraps it in an RTP header with its own
 * sequence number, the given timestamp and marker. */
struct dtmf4733_pkt {
	uint8_t payload[DTMF4733_LEN];
	uint32_t ts;
	bool marker;
	bool end;
};

struct dtmf4733_tx {
	uint32_t clock_rate;
	uint32_t interval_ms;
	uint8_t volume;
	bool active;
	bool open;          /* duration not known yet */
	bool first;         /* the next packet is the event's first: marker */
	uint8_t code;
	unsigned ends_sent;
	uint32_t ts0;       /* the event's RTP timestamp */
	uint32_t dur_ms;
	uint64_t seg_off;   /* ticks from ts0 to the current segment */
	uint64_t t0_ms;
	uint64_t next_ms;   /* when the next packet is due */
};

/* clock_rate 0: 8000. interval_ms: time between updates, 10-100 (0: 50;
 * RFC 4733 suggests 50 ms, many phones use their audio ptime, 20 ms).
 * volume: 0-63, -dBm0 (0 is taken as the usual 10). EINVAL for an interval
 * out of range. */
int dtmf4733_tx_init(struct dtmf4733_tx *tx, uint32_t clock_rate,
		     uint32_t interval_ms, uint8_t volume);

/* Starts a key press at now_ms whose packets carry timestamp ts (the RTP
 * clock of the stream at now_ms). duration_ms 0 means 100 ms;
 * DTMF4733_TX_OPEN lasts until dtmf4733_tx_stop. The first packet is due at
 * once. EINVAL for a character that is no key, EBUSY while the previous
 * event is still being sent (end packets included). */
int dtmf4733_tx_start(struct dtmf4733_tx *tx, char digit, uint32_t duration_ms,
		      uint32_t ts, uint64_t now_ms);

/* Ends the current press at now_ms (or at its planned end if earlier); the
 * end packets follow from the next poll. EINVAL when idle. */
int dtmf4733_tx_stop(struct dtmf4733_tx *tx, uint64_t now_ms);

/* Fills *pkt and returns true when a packet is due at now_ms; call again
 * until it returns false (a segment boundary of a very long press yields
 * two packets at once). Updates are spaced interval_ms apart with growing
 * durations; the first has the marker; the last is sent DTMF4733_TX_ENDS
 * times, interval_ms apart, with the same timestamp and duration. A caller
 * that polls late gets one update for the current time, not a burst. */
bool dtmf4733_tx_poll(struct dtmf4733_tx *tx, uint64_t now_ms,
		      struct dtmf4733_pkt *pkt);

/* True from start until the last end packet has been handed out. */
bool dtmf4733_tx_busy(const struct dtmf4733_tx *tx);

#endif
