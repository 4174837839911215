/*
 * Private to the call's media files (call_media.c, call_sdp.c,
 * call_offer.c, call_answer.c, call_local.c, call_srtp.c): the per-call
 * media state (struct call_media), the engine every call shares (struct
 * call_media_engine), and the helpers they share.
 */
#ifndef HF_CALL_MEDIA_INT_H
#define HF_CALL_MEDIA_INT_H

#include "../sdp/sdes.h"
#include "../sdp/sdp.h"
#include "call_int.h"
#include "call_nego.h"

struct media_engine;

/* The engine, shared by every call. */
struct call_media_engine {
	struct media_engine *me;
	struct nego_policy dflt;       /* the system default policy at start */
};

struct call_media_leg {
	struct nego_leg cur;           /* the format in use */
	bool srtp;                     /* SRTP on now, with these keys: */
	struct sdes_key local, remote;
	/* this leg offered crypto and we accepted: the keys to answer with */
	bool pend_srtp;
	struct sdes_key pend_local, pend_remote;
	/* we offered crypto to this leg: our keys, one per a=crypto line */
	struct sdes_key offered[SDES_NSUITES];
	size_t noffered;
	bool offered_savp;             /* ... on RTP/SAVP: the answer must take one */
	bool sent_savp;                /* the first offer to this leg was RTP/SAVP */
	bool phone_savp;               /* its phone uses RTP/SAVP (offered or
					* answered it): re-offers keep it */
};

struct call_media {
	uint32_t mcall;
	uint16_t port[2];              /* our RTP port towards A (0), B (1) */
	int audio_idx;                 /* the anchored m= line */
	struct sdp_session *sent[2];   /* last SDP we sent on A, on B */
	uint64_t sess_id;
	void (*done)(struct call *c);
	struct call *c;
	bool connected, destroying;

	struct nego_policy dflt;       /* the system default when the call began */
	struct nego_policy pol[2];     /* the caller's, the callee's */
	struct call_media_leg leg[2];
	/* The offer waiting for the other leg's answer, and who made it. */
	struct sdp_session *offer;
	unsigned offer_from;
	/* A has our answer to its INVITE: later answers from B only change
	 * leg 1 (RFC 3264: one answer per offer; the 2xx repeats it). */
	bool a_fixed;
	/* ... because an app answered A: the first answer from a B leg
	 * (the call moved on to an extension) changes only leg 1 too */
	bool a_local;
	bool tone;                     /* ringback plays to A */
	/* A delayed offer: our key in the 2xx's offer to A (RTP/SAVP when
	 * A's policy requires SRTP); A's key comes in its ACK */
	bool late_srtp, late_savp;
	struct sdes_key late_key;
};

static inline struct call_media_engine *cme(struct call_mgr *m)
{
	return m->media_engine;
}

static inline struct media_engine *engine(struct call_mgr *m)
{
	return cme(m)->me;
}

/* call_media.c */
/* Stops the ringback (or other tone of ours) playing to A. */
void callm_stop_tone(struct call *c);

/* call_sdp.c */
/* Parses sdp and finds its audio stream (*mi); 488 in *status when it
 * has none or does not parse. */
int callm_parse(const char *sdp, size_t len, struct sdp_session **s, int *mi, uint16_t *status);
/* Tells the worker where leg idx's phone receives and how (hold); who is
 * that phone's SIP leg (its address guards the latch; NULL: unknown). */
int callm_apply_remote(struct call *c, unsigned idx, const struct leg *who,
		       const struct sdp_session *s, int mi);
/* Writes `in` anchored on our port of leg idx into out, and keeps it as
 * the last SDP sent there. */
int callm_anchor(struct call *c, unsigned idx, struct leg *towards, const struct sdp_session *in,
		 int mi, struct sbuf *out);
/* A shallow, writable copy of s (slices still point into s). free() it. */
struct sdp_session *callm_draft(const struct sdp_session *s);
void callm_set_format(struct call *c, unsigned idx, const struct nego_leg *nl);
/* c->codec from the legs' formats. */
void callm_note_codec(struct call *c);

/* call_sdp.c: refuses the offer or answer with code (488 or 500) and a
 * Warning naming why; returns the errno the callers pass up. */
int callm_refuse(struct call *c, uint16_t *status, uint16_t code, const char *why);

/* call_srtp.c (each returns 0, or callm_refuse's errno with *status) */
void callm_strip_crypto(struct sdp_session *d);
/* Turns SRTP on, off or to new keys on leg idx when that changes anything. */
int callm_set_srtp(struct call *c, unsigned idx, bool on, const struct sdes_key *local,
		   const struct sdes_key *remote);
/* The offer from leg fi: its crypto, answered with a key of ours. */
int callm_take_offer_crypto(struct call *c, unsigned fi, const struct sdp_media *m,
			    uint16_t *status);
/* Our crypto in the offer m towards leg ti (offerer fi). retry 1, 2: the
 * same keys with the next RTP profile the first offer did not use (the
 * other of RTP/AVP and RTP/SAVP, then RTP/SAVPF) that ti's policy
 * allows; ENOENT, nothing refused, when none is left. */
int callm_make_offer_crypto(struct call *c, unsigned fi, unsigned ti, struct sdp_media *m,
			    struct pl in_proto, int retry, uint16_t *status);
/* Leg ti's crypto answer to our offer: the keys to use (*on). */
int callm_take_answer_crypto(struct call *c, unsigned ti, const struct sdp_media *m,
			     bool *on, struct sdes_key *local, struct sdes_key *remote,
			     uint16_t *status);

#endif
