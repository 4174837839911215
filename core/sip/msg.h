/*
 * SIP messages (RFC 3261 section 7, 20, 25): parse a received request or
 * response into slices of one private copy of the bytes, and find headers
 * by id. Parsing is strict where the grammar matters for routing and
 * lenient where RFC 4475 says a robust element should be (case, compact
 * forms, folding, odd whitespace, several values on one header line).
 *
 * Outgoing messages are built by msg_build.c into an sbuf.
 */
#ifndef HF_SIP_MSG_H
#define HF_SIP_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../base/pl.h"
#include "../base/sbuf.h"

#define SIP_MAX_MSG 65535 /* larger messages are refused */
#define SIP_MAX_HDRS 128  /* header field values after splitting lists; more is answered 400 */
#define SIP_MAX_HDR_LINE 8192 /* one logical header line (unfolded); longer is answered 400 */

enum sip_hdr_id {
	SIP_HDR_OTHER = 0,
	SIP_HDR_VIA,             /* v */
	SIP_HDR_FROM,            /* f */
	SIP_HDR_TO,              /* t */
	SIP_HDR_CALL_ID,         /* i */
	SIP_HDR_CSEQ,
	SIP_HDR_CONTACT,         /* m */
	SIP_HDR_MAX_FORWARDS,
	SIP_HDR_CONTENT_LENGTH,  /* l */
	SIP_HDR_CONTENT_TYPE,    /* c */
	SIP_HDR_CONTENT_ENCODING,/* e */
	SIP_HDR_EXPIRES,
	SIP_HDR_MIN_EXPIRES,
	SIP_HDR_AUTHORIZATION,
	SIP_HDR_PROXY_AUTHORIZATION,
	SIP_HDR_WWW_AUTHENTICATE,
	SIP_HDR_PROXY_AUTHENTICATE,
	SIP_HDR_ROUTE,
	SIP_HDR_RECORD_ROUTE,
	SIP_HDR_REQUIRE,
	SIP_HDR_PROXY_REQUIRE,
	SIP_HDR_SUPPORTED,       /* k */
	SIP_HDR_UNSUPPORTED,
	SIP_HDR_ALLOW,
	SIP_HDR_ACCEPT,
	SIP_HDR_USER_AGENT,
	SIP_HDR_SUBJECT,         /* s */
	SIP_HDR_EVENT,           /* o */
	SIP_HDR_REFER_TO,        /* r */
	SIP_HDR_SESSION_EXPIRES, /* x */
	SIP_HDR_MIN_SE,
	SIP_HDR_RSEQ,
	SIP_HDR_RACK,
	SIP_HDR_DATE,
	SIP_HDR__COUNT
};

/* One header field value. Headers whose grammar is a comma-separated list
 * (Via, Contact, Route, Record-Route, Require, Proxy-Require, Supported,
 * Unsupported, Allow, Accept) are split so each element is its own entry;
 * commas inside quotes or <> do not split. Folded lines are unfolded in the
 * private copy (CRLF+WSP become spaces), so values never contain CR or LF. */
struct sip_hdr {
	enum sip_hdr_id id;
	struct pl name;  /* as received, e.g. "v" or "VIA" */
	struct pl value; /* trimmed */
};

/* sip:, sips: or tel: URI. host excludes the brackets of an IPv6
 * reference; port is 0 when absent. params is everything after the first
 * ';' up to '?' (without the leading ';'); headers is what follows '?'.
 * For tel: the number is in user. Any other scheme (RFC 3261 absoluteURI)
 * parses too: only scheme and opaque are set, and answering it (416) is
 * the caller's business. */
struct sip_uri {
	struct pl scheme;
	struct pl user;     /* still %-escaped */
	struct pl password;
	struct pl host;
	uint16_t port;
	bool ipv6;          /* host was an IPv6 reference [...] */
	struct pl params;
	struct pl headers;
	struct pl opaque;   /* other schemes: everything after "scheme:" */
};

/* name-addr or addr-spec with its header parameters (From, To, Contact,
 * Route ...). */
struct sip_addr {
	struct pl dname;    /* display name, quotes removed, escapes kept */
	struct pl uri_raw;  /* the URI text without < > */
	struct sip_uri uri;
	struct pl params;   /* header params after the URI, without leading ';' */
	struct pl tag;      /* value of ;tag=, if any */
	bool star;          /* Contact: * */
};

struct sip_via {
	struct pl proto;      /* "SIP/2.0", as received: LWS around '/' is kept */
	struct pl transport;  /* "UDP", "TCP", "TLS", ... */
	struct pl host;       /* sent-by host, IPv6 without brackets */
	uint16_t port;        /* 0 when absent */
	bool ipv6;
	struct pl params;     /* everything after the sent-by, without ';' */
	struct pl branch;
	struct pl received;
	bool rport;           /* ;rport present (with or without value) */
	struct pl rport_val;
};

struct sip_cseq {
	uint32_t num;
	struct pl method;
};

struct sip_msg {
	char *buf;            /* private, NUL-terminated copy; slices point here */
	size_t len;

	bool is_request;
	/* request line */
	struct pl method;
	struct pl ruri_raw;
	struct sip_uri ruri;
	/* status line */
	uint16_t status;
	struct pl reason;
	struct pl version;    /* "SIP/2.0" */

	/* nhdrs entries, stored after the struct: sized per message so a
	 * transaction that keeps its request for 32 s keeps ~1 KiB, not the
	 * 5 KiB a fixed SIP_MAX_HDRS array would cost */
	struct sip_hdr *hdrs;
	size_t nhdrs;
	size_t hdrs_cap;

	/* Parsed once, because every step needs them. */
	struct sip_via via;       /* topmost Via */
	struct sip_addr from, to;
	struct pl call_id;
	struct sip_cseq cseq;
	int max_forwards;         /* -1 when absent */
	int64_t expires;          /* Expires header, -1 when absent */
	bool has_content_length;
	size_t content_length;
	struct pl content_type;
	struct pl body;

	/* Set when the message could be parsed far enough to be answered
	 * (Via, From, To, Call-ID and CSeq are usable) but is invalid in
	 * some other way: the receiver answers error_status with this as the
	 * reason phrase. NULL for a valid message. Always a static string.
	 * Only requests carry it: an invalid response is refused (EBADMSG),
	 * since nobody answers a response (RFC 3261 18.1.2). */
	const char *error;
	uint16_t error_status; /* 400, or 505 for an unknown SIP version; 0 when valid */
};

/* Parses one whole message (a UDP datagram or a framed stream message).
 * Returns 0 and sets *out on a message that is valid or answerable (see
 * sip_msg.error); EBADMSG when nothing useful can be answered (the caller
 * drops it); EMSGSIZE when len > SIP_MAX_MSG; ENOMEM. For UDP, a body
 * shorter than Content-Length makes the message answerable-invalid; bytes
 * beyond Content-Length are ignored (RFC 3261 18.3); without
 * Content-Length the body is the rest of the datagram. Bare LF line ends
 * are accepted, and a datagram may end without the empty line. */
int sip_msg_parse(struct sip_msg **out, const char *data, size_t len);
void sip_msg_free(struct sip_msg *m);

/* Stream framing (TCP/TLS): given the bytes received so far, returns 0 and
 * the length of the first whole message in *msg_len; EAGAIN when more bytes
 * are needed; EBADMSG when the stream cannot be framed (missing or bad
 * Content-Length, header part over SIP_MAX_MSG); EMSGSIZE when the
 * announced message exceeds SIP_MAX_MSG. Leading CRLF keep-alives
 * (RFC 5626) are reported as a message of only those bytes; callers skip
 * messages that are all CR/LF. */
int sip_msg_frame(const char *data, size_t len, size_t *msg_len);

/* The same, resumable: a stream keeps one of these per connection
 * (zeroed for each new message; sip_msg_frame_next zeroes it again when
 * it returns a message) so that a read of a few bytes costs a few bytes
 * of scanning, not a re-scan of everything buffered: a peer trickling
 * one byte at a time behind 60 KB of unfinished headers must not cost the
 * signalling thread 60 KB of work per byte. data must start where the
 * message starts, and hold at least what it held on the previous call. */
struct sip_frame_state {
	size_t scanned;  /* the header end is not before this offset */
	size_t msg_len;  /* the whole message's length once known, else 0 */
};
int sip_msg_frame_next(struct sip_frame_state *st, const char *data, size_t len,
		       size_t *msg_len);

/* Header access. */
const struct sip_hdr *sip_msg_hdr(const struct sip_msg *m, enum sip_hdr_id id);
/* Next header with the same id after prev (NULL to start). */
const struct sip_hdr *sip_msg_hdr_next(const struct sip_msg *m, enum sip_hdr_id id,
				       const struct sip_hdr *prev);
/* First header with this name (case-insensitive, long name; compact forms
 * of known headers match too). */
const struct sip_hdr *sip_msg_hdr_byname(const struct sip_msg *m, const char *name);
size_t sip_msg_hdr_count(const struct sip_msg *m, enum sip_hdr_id id);

/* Value parsers, usable on any header value. */
int sip_uri_parse(struct sip_uri *u, struct pl s);
int sip_addr_parse(struct sip_addr *a, struct pl s);
int sip_via_parse(struct sip_via *v, struct pl s);
/* Finds ";name" or ";name=value" in a parameter list (case-insensitive
 * name). Returns true when present; *value is set (possibly empty). */
bool sip_param_get(struct pl params, const char *name, struct pl *value);

/* RFC 3261 19.1.4 URI comparison (used for Contact matching). */
bool sip_uri_equal(const struct sip_uri *a, const struct sip_uri *b);

/* Unescapes %XX in s into dst (cap bytes, NUL-terminated). Returns the
 * unescaped length, or -1 on a bad escape or overflow. */
int sip_unescape(struct pl s, char *dst, size_t cap);

/* --- building (msg_build.c) ---------------------------------------------- */

/* Starts a response to req in b: status line, all Vias (the top one with
 * received=/rport= filled from src_host/src_port as RFC 3261 18.2.1 and
 * RFC 3581 ask), From, To (adding ;tag=to_tag when the request had none
 * and to_tag is non-NULL), Call-ID, CSeq. The caller appends more headers
 * and ends with sip_msg_build_end(). */
void sip_msg_build_response(struct sbuf *b, const struct sip_msg *req,
			    uint16_t status, const char *reason,
			    const char *to_tag, const char *src_host,
			    uint16_t src_port);
/* Appends Content-Length (and Content-Type when body is set), the blank
 * line and the body. */
void sip_msg_build_end(struct sbuf *b, const char *content_type,
		       const char *body, size_t body_len);

const char *sip_reason_phrase(uint16_t status);

#endif
