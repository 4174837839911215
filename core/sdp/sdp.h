/*
 * SDP (RFC 8866, formerly RFC 4566) and the offer/answer model (RFC 3264):
 * parse a received body into a struct of slices, print a struct back as a
 * valid body, and build the SDP the B2BUA sends: an anchored copy of the
 * other leg's SDP pointing at Hookflash's own RTP ports (sdp_anchor), or an
 * answer chosen from a list of codecs we support (sdp_answer).
 *
 * Every slice in a struct sdp_session points into memory the session owns
 * (one block, freed by sdp_free); slices are never NUL-terminated. A caller
 * may also fill a struct by hand with slices of its own strings and then
 * print it or sdp_clone it into an owned copy.
 *
 * The parser is strict about structure (v/o/s first, known type letters
 * only, t= present, numbers and addresses well formed, well-formed values
 * for the attributes it understands) and tolerant of what real phones do
 * (LF or CRLF line ends, trailing blank lines, runs of spaces between
 * fields, unknown attributes, an empty s=). Bounded: a body over
 * SDP_MAX_BODY or over any of the limits below is refused.
 */
#ifndef HF_SDP_H
#define HF_SDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../base/pl.h"
#include "../base/sbuf.h"

#define SDP_MAX_BODY   16384 /* bytes; larger bodies are refused */
#define SDP_MAX_MEDIA  8     /* m= lines */
#define SDP_MAX_FMTS   32    /* formats on one m= line */
#define SDP_MAX_ATTRS  64    /* "other" a= lines per level */
#define SDP_MAX_CRYPTO 8     /* a=crypto lines per m= */
#define SDP_MAX_BW     4     /* b= lines per level */
#define SDP_MAX_TIMES  4     /* t= lines */
#define SDP_MAX_REPEAT 4     /* r= lines after one t= */
#define SDP_MAX_EP     4     /* e= lines, and p= lines */

enum sdp_af {
	SDP_AF_NONE = 0,
	SDP_IP4,
	SDP_IP6,
};

/* Media direction (RFC 8866 6.7). SDP_DIR_UNSET means no direction
 * attribute at that level; see sdp_direction_of for the effective one. */
enum sdp_dir {
	SDP_DIR_UNSET = 0,
	SDP_INACTIVE,
	SDP_SENDONLY,
	SDP_RECVONLY,
	SDP_SENDRECV,
};

/* c= line, or the address of a=rtcp. addr is a unicast or multicast IP
 * literal or a host name; mcast is what followed the first '/' (TTL and
 * number of addresses for IP4, number of addresses for IP6), unset when
 * absent. */
struct sdp_conn {
	enum sdp_af af;          /* SDP_AF_NONE: no c= at this level */
	struct pl addr;
	struct pl mcast;
};

struct sdp_bw {
	struct pl type;          /* "AS", "CT", "TIAS", ... */
	uint32_t value;
};

/* An attribute the parser keeps as text, in the order received. value is
 * unset for a property attribute ("a=foo"), set (maybe empty) after ':'. */
struct sdp_attr {
	struct pl name;
	struct pl value;
};

/* One format of an m= line with what a=rtpmap and a=fmtp say about it. */
struct sdp_fmt {
	struct pl id;            /* as on the m= line: "0", "97", "t38", "*" */
	int pt;                  /* 0..127 for an RTP profile, else -1 */
	struct pl enc;           /* rtpmap encoding name; unset without rtpmap */
	uint32_t clock;          /* rtpmap clock rate; 0 without rtpmap */
	uint8_t channels;        /* rtpmap encoding parameter; 0 when absent */
	struct pl fmtp;          /* a=fmtp parameters; unset without fmtp */
};

/* a=crypto (RFC 4568). The keys stay text: only SRTP code reads them. */
struct sdp_crypto {
	uint32_t tag;
	struct pl suite;         /* "AES_CM_128_HMAC_SHA1_80", ... */
	struct pl key_params;    /* "inline:..." (one or more, ';'-separated) */
	struct pl sess_params;   /* the rest of the line; unset when none */
};

struct sdp_media {
	struct pl type;          /* "audio", "video", "image", ... */
	uint16_t port;           /* 0: stream rejected/disabled */
	uint16_t nports;         /* port count ("49170/2"); 1 when absent */
	struct pl proto;         /* "RTP/AVP", "UDP/TLS/RTP/SAVPF", "udptl" ... */
	struct sdp_fmt fmts[SDP_MAX_FMTS];
	size_t nfmts;

	struct pl info;          /* i= */
	struct sdp_conn conn;    /* media-level c= (af NONE: use the session's) */
	struct sdp_bw bw[SDP_MAX_BW];
	size_t nbw;
	struct pl key;           /* k= (obsolete, kept for fidelity) */

	enum sdp_dir dir;        /* direction attribute at this level */
	uint32_t ptime;          /* ms; 0 when absent */
	uint32_t maxptime;       /* ms; 0 when absent */
	bool has_rtcp;           /* a=rtcp (RFC 3605) present */
	uint16_t rtcp_port;
	struct sdp_conn rtcp_conn; /* af NONE when a=rtcp gave only a port */
	bool rtcp_mux;           /* a=rtcp-mux (RFC 5761) */
	struct sdp_crypto crypto[SDP_MAX_CRYPTO];
	size_t ncrypto;
	struct sdp_attr attrs[SDP_MAX_ATTRS]; /* everything else, in order */
	size_t nattrs;
};

struct sdp_origin {
	struct pl user;          /* "-" when the creator has no user name */
	uint64_t sess_id;
	uint64_t sess_version;
	enum sdp_af af;
	struct pl addr;
};

struct sdp_time {
	uint64_t start, stop;    /* NTP seconds; 0 0 for an unbounded session */
	struct pl repeat[SDP_MAX_REPEAT]; /* r= lines, as text */
	size_t nrepeat;
};

struct sdp_session {
	unsigned version;        /* v=, always 0 */
	struct sdp_origin origin;
	struct pl name;          /* s=; may be empty (printed as "-") */
	struct pl info;          /* i= */
	struct pl uri;           /* u= */
	struct pl emails[SDP_MAX_EP];
	size_t nemails;
	struct pl phones[SDP_MAX_EP];
	size_t nphones;
	struct sdp_conn conn;    /* session-level c= (af NONE when absent) */
	struct sdp_bw bw[SDP_MAX_BW];
	size_t nbw;
	struct sdp_time times[SDP_MAX_TIMES];
	size_t ntimes;           /* >= 1 after sdp_parse */
	struct pl zone;          /* z=, as text */
	struct pl key;           /* k= */
	enum sdp_dir dir;        /* session-level default direction */
	struct sdp_attr attrs[SDP_MAX_ATTRS];
	size_t nattrs;
	struct sdp_media media[SDP_MAX_MEDIA];
	size_t nmedia;

	char *mem;               /* private: the block all slices point into */
};

/* Parses one SDP body. Returns 0 and sets *out; EBADMSG when the body is
 * not SDP this module accepts (see the top of this file and sdp_parse.c),
 * is empty or over SDP_MAX_BODY, or exceeds a limit; ENOMEM; EINVAL for
 * a NULL out. *out is left alone on error. */
int sdp_parse(struct sdp_session **out, const char *body, size_t len);
void sdp_free(struct sdp_session *s);

/* Deep copy into one owned block; in may hold slices of anything. */
int sdp_clone(struct sdp_session **out, const struct sdp_session *in);

/* Appends s as an SDP body with CRLF line ends. Known attributes are
 * written in a fixed order (per format rtpmap then fmtp, then ptime,
 * maxptime, rtcp, rtcp-mux, crypto), then the other attributes in their
 * order, then the direction; so print(parse(print(x))) == print(x).
 * Returns 0, EINVAL when s cannot be written as valid SDP (a slice holds
 * CR, LF or NUL, a required token is empty or has spaces, an active m=
 * line has no format, v is not 0), or ENOMEM. Nothing is appended on
 * EINVAL. Output may exceed SDP_MAX_BODY by the CRs it adds. */
int sdp_print(struct sbuf *b, const struct sdp_session *s);

/* --- reading a session ------------------------------------------------- */

/* The media's direction, else the session's, else sendrecv. */
enum sdp_dir sdp_direction_of(const struct sdp_session *s, const struct sdp_media *m);
const char *sdp_dir_name(enum sdp_dir d);
/* What the other side's direction means for us: sendonly <-> recvonly. */
enum sdp_dir sdp_dir_reverse(enum sdp_dir d);

/* The c= that applies to m (media-level, else session-level), or NULL. */
const struct sdp_conn *sdp_media_conn(const struct sdp_session *s, const struct sdp_media *m);
/* True for the "send nothing here" address: 0.0.0.0 (RFC 2543 hold,
 * RFC 3264 8.4) or its IPv6 twin "::". */
bool sdp_conn_is_null(const struct sdp_conn *c);

/* Is this stream on hold, i.e. does its sender ask us not to send: an
 * active stream (port != 0) whose direction is sendonly or inactive, or
 * whose address is the null address. */
bool sdp_media_held(const struct sdp_session *s, const struct sdp_media *m);
/* "Held SDP" (RFC 3264 8.4): at least one active stream, all held. */
bool sdp_held(const struct sdp_session *s);

/* Format lookups. sdp_fmt_codec resolves the encoding of f from its
 * rtpmap or, for static payload types without one, from RFC 3551's table.
 * Returns 0, or ENOENT when the encoding is unknown. */
const struct sdp_fmt *sdp_fmt_find(const struct sdp_media *m, struct pl id);
int sdp_fmt_codec(const struct sdp_fmt *f, struct pl *enc, uint32_t *clock,
		  uint8_t *channels);
/* RTP profile (proto contains "RTP/"), and RTP secured by SDES crypto or
 * DTLS (SAVP, SAVPF). */
bool sdp_proto_is_rtp(struct pl proto);
bool sdp_proto_is_secure(struct pl proto);

/* --- building what we send --------------------------------------------- */

/* Our side of a leg: where our media is and who we are in o=. */
struct sdp_local {
	const char *addr;          /* IP literal (or host name) for c= and o= */
	const uint16_t *ports;     /* one per m= line; 0 rejects that stream */
	size_t nports;
	const char *user;          /* o= user name; NULL means "-" */
	uint64_t sess_id;          /* o= of the first SDP on this leg */
	uint64_t sess_version;
	const char *name;          /* s=; NULL: anchor keeps the other leg's,
				    * answer writes "-" */
	/* The SDP we last sent on this leg, or NULL for the first. When set,
	 * the o= line is prev's, and its version goes up by one only if the
	 * new SDP differs from prev (RFC 3264 section 8); user, sess_id and
	 * sess_version above are then ignored. */
	const struct sdp_session *prev;
	/* sdp_anchor only: the a=crypto lines of its input are ours (the
	 * B2BUA wrote its own keys for this leg) and stay. False, the
	 * default: they are the other leg's keys and go, since Hookflash
	 * terminates SRTP per leg and one phone's key must never reach the
	 * other. */
	bool keep_crypto;
};

/* Media anchoring: a copy of in (the other leg's SDP) that points at our
 * ports, for the B2BUA to send on this leg. Per m= line, in order:
 *  - the port becomes loc->ports[i] and the port count 1; a stream that
 *    in rejected (port 0) stays rejected, and so does one whose transport
 *    the relay cannot carry (only RTP/AVP, RTP/AVPF, RTP/SAVP, RTP/SAVPF,
 *    udptl and udp are relayed; TCP and DTLS-based ones get port 0);
 *  - all c= lines go; one session-level c= gives loc->addr;
 *  - a stream addressed to the null address (RFC 2543 hold) keeps that
 *    meaning as a direction: sendrecv becomes sendonly, recvonly inactive;
 *  - kept: formats, rtpmap, fmtp, direction, ptime, maxptime, b=, and
 *    the attributes that describe the media itself; crypto only with
 *    loc->keep_crypto (see struct sdp_local);
 *  - dropped, because they describe the other leg's transport and would
 *    be wrong through a relay: a=rtcp (the relay's RTCP is on port+1,
 *    which is the default without it), a=rtcp-mux (the relay uses RTP and
 *    RTCP port pairs, which every endpoint must accept), ICE (candidate,
 *    remote-candidates, end-of-candidates, ice-*), DTLS/TCP setup
 *    (fingerprint, setup, connection), a=group:BUNDLE and k=.
 * o= comes from loc (see struct sdp_local). Returns 0, EINVAL (bad
 * address, fewer ports than m= lines), ENOMEM. */
int sdp_anchor(struct sdp_session **out, const struct sdp_session *in,
	       const struct sdp_local *loc);

/* A codec we support, for sdp_answer. */
struct sdp_codec {
	const char *name;          /* encoding name, matched without case */
	uint32_t clock;            /* RTP clock rate */
	uint8_t channels;          /* 0 matches any */
	const char *fmtp;          /* fmtp we answer with; NULL echoes the offer's */
};

struct sdp_answer_prefs {
	const struct sdp_codec *codecs; /* in our order of preference */
	size_t ncodecs;
	/* List the chosen formats in our order instead of the offer's (RFC
	 * 3264 6.1 recommends keeping the offer's unless there is a reason). */
	bool our_order;
	/* At most this many codecs per stream (0: all in common). RFC 4733
	 * telephone-event and CN do not count. */
	size_t max_codecs;
	/* What we want for a stream offered sendrecv; UNSET means sendrecv.
	 * For other offers the answer is the offer reversed, narrowed by this
	 * (e.g. offered sendonly -> recvonly; with SDP_SENDONLY -> inactive). */
	enum sdp_dir dir;
	uint32_t ptime;            /* a=ptime for accepted audio; 0: none */
};

/* Builds our answer to offer (RFC 3264 section 6): the same m= lines in
 * the same order; an RTP/AVP or RTP/AVPF stream with codecs in common is
 * accepted on loc->ports[i] with the common codecs (payload type numbers,
 * rtpmap and, unless our codec says otherwise, fmtp as offered); an audio
 * stream that offers telephone-event at the chosen codec's clock rate
 * keeps it even if prefs does not list it; a stream offering only
 * telephone-event/CN is accepted when prefs lists them. Other streams are
 * rejected: port 0 with the first offered format. No session attributes
 * and no crypto are answered. t= is the offer's; o= and s= come from loc.
 * Returns 0, EINVAL (bad address or user, fewer ports than m= lines, NULL
 * arguments), ENOMEM. */
int sdp_answer(struct sdp_session **out, const struct sdp_session *offer,
	       const struct sdp_local *loc, const struct sdp_answer_prefs *prefs);

#endif
