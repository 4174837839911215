/*
 * Codec and SRTP negotiation of the B2BUA (private to core/call): the
 * rules that turn one leg's SDP offer into our offer to the other leg, and
 * the other leg's answer into our answer to the first, when Hookflash
 * terminates media on each leg and the media worker may transcode between
 * them. Pure functions on parsed SDP (no sockets, no engine), so they are
 * unit-tested on their own (tests/unit/test_call_nego.c); call_media.c
 * applies their results to the media engine.
 *
 * Words used below: the offerer ("from", leg A for the INVITE) sent an
 * offer; "to" is the leg we offer to. A format is "allowed" by a policy
 * when its codec is in the policy's list or, for a codec unknown to us,
 * when the policy lets foreign codecs pass (the system default does).
 */
#ifndef HF_CALL_NEGO_H
#define HF_CALL_NEGO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../base/codec_names.h"
#include "../media/codecs/codec.h"
#include "../sdp/sdp.h"

struct media_fmt;

#define NEGO_MAX_CODECS CODEC_LIST_MAX
#define NEGO_PT_DTMF 101         /* telephone-event when the offerer has none */

enum nego_srtp {
	NEGO_SRTP_OFF = 0,       /* plain RTP only; SRTP offers are declined */
	NEGO_SRTP_OPTIONAL,      /* SRTP when the phone offers it (or, towards
				  * it, best effort when the other leg is) */
	NEGO_SRTP_REQUIRED,      /* SRTP or no call (488) */
};

/* An extension's media policy: the codecs allowed on its leg in its order
 * of preference, whether codecs we do not know may pass through it, and
 * what it wants of SRTP. */
struct nego_policy {
	const struct codec_desc *codecs[NEGO_MAX_CODECS];
	size_t ncodecs;
	bool foreign;
	/* the extension's own list: its order also ranks the caller's
	 * codecs offered to it. The system default's order does not: the
	 * caller's preference stands (see call_nego.c) */
	bool own;
	enum nego_srtp srtp;
};

/* "opus,G722,PCMU" (names as in SDP, any case, no blanks) -> p->codecs.
 * An empty list gives no codecs. EINVAL with a message in why for an
 * unknown name, a name listed twice, an empty entry or too many. */
int nego_codecs_parse(struct nego_policy *p, const char *list, char *why, size_t cap);
/* "off" | "optional" | "required" (case-insensitive); EINVAL otherwise. */
int nego_srtp_parse(const char *s, enum nego_srtp *out);
const char *nego_srtp_name(enum nego_srtp s);

/* The policy of an extension: its own codec list when set (foreign codecs
 * then do not pass), else the system default's; its SRTP setting, else
 * optional. Unusable values (validated when stored, so only a database
 * edited by hand has them) fall back to the defaults. */
void nego_policy_for(struct nego_policy *out, const char *codecs, const char *srtp,
		     const struct nego_policy *dflt);

/* Text behind the slices the functions below write (payload type
 * numbers, fmtp); must outlive the m= line that points into it. */
struct nego_buf {
	char s[512];
	size_t n;
};

/* What a leg's phone and Hookflash agreed on for its audio. */
struct nego_leg {
	bool set;
	const struct codec_desc *codec;  /* NULL: a codec we cannot decode */
	int pt;
	char enc[24];                    /* rtpmap name, for logs and the CDR */
	uint32_t clock;
	uint32_t ptime;                  /* the phone's a=ptime; 0: none */
	int dtmf_pt;                     /* telephone-event PT; -1: none */
	char fmtp[160];                  /* the phone's fmtp for the codec */
};

/* One negotiation: from's offer (its audio m= line) and the two
 * policies. transcode: the media engine decodes and encodes (false:
 * relay only, so only codecs the offerer has can be offered on). */
struct nego_in {
	const struct sdp_media *offer;
	const struct nego_policy *from, *to;
	bool transcode;
	const struct nego_leg *to_cur;   /* the codec in use towards `to`
					  * (a re-offer keeps it), or NULL */
	const struct nego_leg *from_cur; /* the same for `from`, or NULL */
};

/* Replaces the formats of m (a copy of the offer's m= line) by our offer
 * to `to`: the offered formats both policies allow, in the offerer's
 * order, or in to's order of preference when to has its own list (a
 * codec in use towards `to` first); then, when we can
 * transcode and the offerer has a codec we decode, the codecs of to's
 * policy the offer lacks; then telephone-event (the offerer's payload
 * type, else NEGO_PT_DTMF or the next free one). No payload type is used
 * twice. ENOENT when no codec is left (the caller answers 488). */
int nego_offer(struct sdp_media *m, const struct nego_in *in, struct nego_buf *buf);

/* Our answer to the offerer: replaces the formats of m (the audio m= line
 * of the answer being built) and its ptime. ans is to's answer to our
 * offer, or NULL to answer before it (ringback: then the offerer's first
 * codec we decode that to's policy allows too, else its first allowed
 * codec we decode). When to chose a codec the offerer offered,
 * that codec (pass-through); else the offerer's codec in use (re-offer)
 * or its most preferred allowed one we decode, which the worker
 * transcodes. telephone-event iff the offerer offered it. *lf (and *lt
 * when ans) describe each leg. ENOENT when there is nothing to answer
 * with (to chose a codec we cannot transcode and the offerer has no
 * other). */
int nego_answer(struct sdp_media *m, const struct nego_in *in, const struct sdp_media *ans,
		struct nego_buf *buf, struct nego_leg *lf, struct nego_leg *lt);

/* A leg's format from the answer it gave (its first codec). ENOENT when
 * the answer has none. */
int nego_leg_from_answer(struct nego_leg *l, const struct sdp_media *ans);

/* Same codec on both legs (payload type numbers may differ)? */
bool nego_leg_same_codec(const struct nego_leg *a, const struct nego_leg *b);

/* Why the offerer's leg (lf) and the answerer's (lt) ended up on
 * different codecs, for the log: "callee answered only opus", "callee
 * put opus before the caller's PCMU", or, when fixed_by says how the
 * offerer's codec was fixed before the answer ("early (ringback)"),
 * that. in is the negotiation the answer answered, ans the answer. */
void nego_why_transcode(char *out, size_t cap, const struct nego_in *in,
			const struct sdp_media *ans, const char *offerer,
			const char *answerer, const char *fixed_by,
			const struct nego_leg *lf, const struct nego_leg *lt);

/* The media engine's view of a leg (opus fmtp applied). */
void nego_leg_media_fmt(const struct nego_leg *l, struct media_fmt *f);

#endif
