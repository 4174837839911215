/*
 * Private to core/media: the per-call processing state of a call that is
 * more than a plain relay (a leg has a format, SRTP, a play source, the
 * call records, a digit is being generated). Allocated on the worker by
 * the first command that needs it (dpath_get), freed with the call; all of
 * it belongs to the call's worker thread.
 *
 * Two modes per direction, chosen again by dpath_plan after every change:
 *  - PASS towards leg Y: packets from X are forwarded as they came, with
 *    at most the payload type rewritten (legs numbering the codec or
 *    telephone-event differently), SRTP unprotected from X and protected
 *    towards Y, and RFC 4733 digits peeked at on the way. X may also be
 *    "tapped": its audio goes to its jitter buffer and decoder as well,
 *    for in-band DTMF detection or recording, without re-encoding.
 *  - ENC towards leg Y: Y hears PCM we encode ourselves at the worker's
 *    20 ms tick, with our own SSRC, sequence and timestamps: X's decoded
 *    audio (transcoding), a play source, in-band DTMF tones, Y's own
 *    decoded audio (echo), or nothing.
 *
 * Rates: every codec of a decoding call runs at one PCM rate, the call's
 * rate (8000 or 16000; see dpath_plan), in its native mode where it
 * needs to (opus and G.722 both code at 8 kHz), so no resampler sits in
 * the audio path: this is the transcoder's native_rate mode, and what
 * makes an opus <-> PCMU call affordable.
 *
 * Files: dpath.c (state, planning, commands), dpath_rx.c (the per-packet
 * hook called by relay.c), dpath_tick.c (the 20 ms tick: decode, detect,
 * record, encode, send), play_record.c (play, tone, record), vad.c (energy VAD).
 */
#ifndef HF_DPATH_H
#define HF_DPATH_H

#include <stdbool.h>
#include <stdint.h>

#include "../dtmf/dtmf4733.h"
#include "../media_int.h"

#define MP_TICK_MS 20u
#define MP_RATE_MAX 16000u
#define MP_FRAME_MAX (MP_RATE_MAX / 1000u * MP_TICK_MS) /* 320 */
/* decoded audio waiting for its tick: the longest packet (120 ms) plus
 * the rest of the previous one */
#define MP_DEC_FIFO (MP_RATE_MAX / 1000u * (120u + 2u * MP_TICK_MS))
/* PCM waiting for a whole packet of the leg's ptime (up to 120 ms) */
#define MP_ENC_FIFO (MP_RATE_MAX / 1000u * (120u + MP_TICK_MS))

struct jbuf;
struct codec_dec;
struct codec_enc;
struct srtp_ctx;
struct dtmf_inband_rx;
struct dtmf_inband_tx;
struct asource;
struct arecord;

/* Energy voice activity detector with hysteresis (vad.c). */
struct vad {
	bool talking;
	uint16_t run; /* frames in a row on the other side of the threshold */
};

/* Feeds one frame; returns 1 when talk starts, -1 when silence starts,
 * 0 otherwise. */
int vad_frame(struct vad *v, const int16_t *pcm, size_t n);

/* What we receive from a leg's phone (decoding side). */
struct mp_in {
	struct dpath *mp;
	unsigned idx;
	struct dtmf4733_rx rx4733;    /* when the leg has a dtmf_pt */
	struct jbuf *jb;              /* decoding: NULL otherwise */
	struct codec_dec *dec;
	struct dtmf_inband_rx *ibrx;  /* the leg has no dtmf_pt */
	bool ib_active;               /* an in-band digit is down */
	struct vad vad;
	size_t plc_samples;           /* one packet, for concealment */
	size_t flen;
	bool have;                    /* frame holds this tick's audio */
	int16_t frame[MP_FRAME_MAX];
	int16_t fifo[MP_DEC_FIFO];
};

/* What we send to a leg's phone (encoding side). */
struct mp_out {
	struct dpath *mp;
	unsigned idx;
	struct codec_enc *enc;        /* ENC mode */
	size_t pkt_samples;           /* one packet of the leg's ptime */
	uint32_t ssrc, ts;            /* our stream (ENC, and digits) */
	uint16_t seq;
	bool marker;                  /* the next packet starts a talkspurt */
	/* PASS: the stream we forward, so generated RFC 4733 packets can be
	 * slipped into it (our packets take sequence numbers; the forwarded
	 * ones are shifted by seq_off) */
	bool fwd_known;
	uint32_t fwd_ssrc, fwd_ts;
	uint16_t fwd_seq, seq_off;
	uint64_t fwd_ms;
	struct dtmf4733_tx tx4733;    /* when the leg has a dtmf_pt */
	bool tx_open;                 /* relaying a digit of open length */
	struct dtmf_inband_tx *ibtx;  /* the leg has no dtmf_pt */
	bool ib_busy;
	struct asource *play;
	uint32_t play_tag;
	/* our stream's RTCP (dpath_tick.c): what we sent, when the next
	 * report is due (loop ms; 0: schedule one), the last report's state */
	uint32_t sent_pkts, sent_octets;
	uint64_t rtcp_due;
	struct rtcp_prior rtcp_prior;
	size_t flen;
	int16_t fifo[MP_ENC_FIFO];
};

struct dpath {
	struct mcall *call;
	struct list_node tle;         /* in w->ticking, while ticking */
	bool ticking;
	bool replan;                  /* dpath_plan is due (set from inside
				       * detectors, run after them) */
	struct media_fmt fmt[2];
	bool has_fmt[2];
	struct srtp_ctx *srtp[2];
	bool relay_dtmf;
	bool echo[2];                 /* leg i hears its own audio (ENC) */
	uint32_t rate;                /* the call's PCM rate */
	bool enc[2];                  /* direction towards leg i is ENC */
	bool dec[2];                  /* leg i's audio is decoded */
	bool built;                   /* codec states match fmt/rate */
	struct arecord *rec;
	uint32_t rec_tag;
	struct mp_in in[2];
	struct mp_out out[2];
};

/* dpath.c: the state of c, allocated on first use; NULL (logged) when
 * memory is short. */
struct dpath *dpath_get(struct mcall *c);
void dpath_free(struct mcall *c);
/* Decides the mode of each direction and builds or frees the codec
 * states it needs; starts or stops the call's ticking. */
void dpath_plan(struct mcall *c);
/* Re-makes the call's opus encoders (the worker's opus_lean changed). */
void dpath_opus_remake(struct dpath *mp);
/* Runs a command of the new kinds (CMD_FORMAT .. CMD_RECORD_STOP). */
void dpath_cmd(struct media_worker *w, struct mcall *c, struct mcmd *cmd);
/* DTMF relay: a digit from leg x went down (BEGIN) or up (END). */
void dpath_dtmf_from(struct dpath *mp, unsigned x, const struct dtmf_ev *ev,
		     enum media_dtmf_src src);
/* Starts a digit towards leg y in its form; EINVAL, EBUSY, ENOTCONN (no
 * format), ENOTSUP (no codec to carry tones). Sets mp->replan. */
int dpath_dtmf_to(struct dpath *mp, unsigned y, char digit, uint32_t duration_ms,
		  uint64_t now_ms);

/* dpath_rx.c: one RTP packet accepted from leg x (SRTP removed, parsed)
 * in buf[0..*len); fwd says whether the call would relay it (connected,
 * directions). Returns true when it is to go on to the other leg as it
 * now is (payload type possibly rewritten). */
bool dpath_rtp_in(struct mleg *x, struct rtp_hdr *h, uint8_t *buf, size_t *len,
		  uint64_t arrival_us, bool fwd);
/* Unprotects an SRTP packet from x in place when x is an SRTP leg:
 * false when it must be dropped. */
bool dpath_unprotect(struct mleg *x, uint8_t *buf, size_t *len, bool rtcp);
/* Protects towards y when y is an SRTP leg; false: drop it. */
bool dpath_protect(struct mleg *y, uint8_t *buf, size_t *len, size_t cap, bool rtcp);
/* Whether RTCP from x goes on to the other leg. */
bool dpath_rtcp_fwd(const struct mleg *x);

/* dpath_tick.c */
void dpath_tick_start(struct dpath *mp);
void dpath_tick_stop(struct dpath *mp);
/* Sends one RTP packet we made towards leg y (protecting it); counts. */
void dpath_send(struct mleg *y, uint8_t *buf, size_t len);
/* The RTP packet header of our stream towards leg y. */
size_t dpath_rtp_hdr(uint8_t *b, uint8_t pt, bool marker, uint16_t seq,
		     uint32_t ts, uint32_t ssrc);

/* play_record.c: play sources and the recorder, on the worker. */
void playrec_play(struct mcall *c, unsigned leg, struct mcmd *cmd);
void playrec_tone(struct mcall *c, unsigned leg, struct mcmd *cmd);
/* Ends what plays to leg with err (PLAY_DONE follows); nothing: no-op. */
void playrec_play_end(struct dpath *mp, unsigned leg, int err, bool event);
void playrec_record(struct mcall *c, struct mcmd *cmd);
void playrec_record_end(struct dpath *mp, int err, bool event);
/* One tick's audio of leg to pcm (n samples); false when it ended. */
bool playrec_play_read(struct dpath *mp, unsigned leg, int16_t *pcm, size_t n);
void playrec_record_write(struct dpath *mp, size_t n);

#endif
