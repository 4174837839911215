/*
 * SDP parsing (RFC 8866 section 5 and 9): copies the body once, walks it
 * line by line and fills struct sdp_session with slices of the copy.
 *
 * What is refused, and why: a body that does not start v=0, o=, s= (every
 * SDP in the field does, so anything else is not SDP); a type letter RFC
 * 8866 does not define (section 5 says to ignore the whole description);
 * session-only lines inside a media section; a missing t=; a second v/o/s/
 * i/u/c/k/z at one level; malformed numbers, ports over 65535, addresses
 * that are not IP literals of the stated family or host names; an active
 * m= line without formats or without any c=; RTP payload types over 127;
 * a format listed twice; and malformed values of the attributes we read
 * (rtpmap, fmtp, ptime, maxptime, rtcp, rtcp-mux, crypto, directions),
 * because acting on a half-understood codec or key is worse than a 488.
 *
 * What is tolerated: LF or CRLF line ends and blank lines at the end (some
 * stacks add one), runs of spaces or tabs between fields, trailing spaces,
 * attribute names in any case, an empty s=, unknown attributes (kept in
 * order), and an rtpmap or fmtp that names no format of its m= line or
 * repeats one (kept as an ordinary attribute, as RFC 8866 says to ignore
 * what one does not understand rather than fail).
 */
#include "sdp_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum {
	SEEN_I = 1 << 0,
	SEEN_U = 1 << 1,
	SEEN_C = 1 << 2,
	SEEN_Z = 1 << 3,
	SEEN_K = 1 << 4,
	SEEN_T = 1 << 5,
	SEEN_PTIME = 1 << 6,
	SEEN_MAXPTIME = 1 << 7,
	SEEN_RTCP = 1 << 8,
	SEEN_MUX = 1 << 9,
};

struct parser {
	struct sdp_session *s;
	struct sdp_media *m;   /* current media section; NULL at session level */
	unsigned seen;         /* singletons seen at session level */
	unsigned mseen;        /* singletons seen in the current media */
	size_t nlines;
};

/* --- small scanners ---------------------------------------------------- */

static bool is_ws(char c)
{
	return c == ' ' || c == '\t';
}

/* Next field separated by spaces or tabs; empty (l == 0) at the end. */
static struct pl next_tok(struct pl *rest)
{
	size_t i = 0;
	while (i < rest->l && is_ws(rest->p[i]))
		i++;
	size_t start = i;
	while (i < rest->l && !is_ws(rest->p[i]))
		i++;
	struct pl t = { rest->p + start, i - start };
	rest->p += i;
	rest->l -= i;
	return t;
}

static bool at_end(struct pl rest)
{
	return next_tok(&rest).l == 0;
}

/* Splits s at the first c: *a before it, *b after (unset without c). */
static void split_at(struct pl s, char c, struct pl *a, struct pl *b)
{
	const char *x = s.l ? memchr(s.p, c, s.l) : NULL;
	*a = s;
	*b = PL_NULL;
	if (x) {
		a->l = (size_t)(x - s.p);
		b->p = x + 1;
		b->l = s.l - a->l - 1;
	}
}

static int num(struct pl s, uint64_t min, uint64_t max, uint64_t *out)
{
	if (pl_u64(s, max, out) || *out < min)
		return EBADMSG;
	return 0;
}

static bool once(unsigned *seen, unsigned bit)
{
	if (*seen & bit)
		return false;
	*seen |= bit;
	return true;
}

static int af_of(struct pl nettype, struct pl addrtype, enum sdp_af *af)
{
	if (!pl_casestr(nettype, "IN"))
		return EBADMSG;
	if (pl_casestr(addrtype, "IP4"))
		*af = SDP_IP4;
	else if (pl_casestr(addrtype, "IP6"))
		*af = SDP_IP6;
	else
		return EBADMSG;
	return 0;
}

/* "IN IP4 addr" from rest; allows a multicast suffix when told. */
static int conn_fields(struct pl *rest, bool mcast, struct sdp_conn *c)
{
	struct pl nt = next_tok(rest), at = next_tok(rest), a = next_tok(rest);
	enum sdp_af af;
	if (af_of(nt, at, &af) || !sdp_addr_split(af, a, mcast, &c->addr, &c->mcast))
		return EBADMSG;
	c->af = af;
	return 0;
}

/* --- session-level lines ----------------------------------------------- */

static int parse_origin(struct sdp_session *s, struct pl v)
{
	struct sdp_origin *o = &s->origin;
	o->user = next_tok(&v);
	if (!sdp_is_nonws(o->user))
		return EBADMSG;
	if (num(next_tok(&v), 0, UINT64_MAX, &o->sess_id) ||
	    num(next_tok(&v), 0, UINT64_MAX, &o->sess_version))
		return EBADMSG;
	struct sdp_conn c = { 0 };
	if (conn_fields(&v, false, &c) || !at_end(v))
		return EBADMSG;
	o->af = c.af;
	o->addr = c.addr;
	return 0;
}

static int parse_conn(struct sdp_conn *c, struct pl v)
{
	if (conn_fields(&v, true, c) || !at_end(v))
		return EBADMSG;
	return 0;
}

static int parse_bw(struct sdp_bw *bw, size_t *n, struct pl v)
{
	struct pl type, val;
	uint64_t x;
	if (*n == SDP_MAX_BW)
		return EBADMSG;
	split_at(v, ':', &type, &val);
	if (!sdp_is_token(type) || num(val, 0, UINT32_MAX, &x))
		return EBADMSG;
	bw[*n].type = type;
	bw[*n].value = (uint32_t)x;
	(*n)++;
	return 0;
}

static int parse_time(struct sdp_session *s, struct pl v)
{
	if (s->ntimes == SDP_MAX_TIMES)
		return EBADMSG;
	struct sdp_time *t = &s->times[s->ntimes];
	if (num(next_tok(&v), 0, UINT64_MAX, &t->start) ||
	    num(next_tok(&v), 0, UINT64_MAX, &t->stop) || !at_end(v))
		return EBADMSG;
	s->ntimes++;
	return 0;
}

static int parse_repeat(struct sdp_session *s, struct pl v)
{
	if (s->ntimes == 0 || at_end(v))
		return EBADMSG;
	struct sdp_time *t = &s->times[s->ntimes - 1];
	if (t->nrepeat == SDP_MAX_REPEAT)
		return EBADMSG;
	t->repeat[t->nrepeat++] = v;
	return 0;
}

/* --- attributes -------------------------------------------------------- */

static int add_other(struct sdp_attr *attrs, size_t *n, struct pl name, struct pl value)
{
	if (*n == SDP_MAX_ATTRS)
		return EBADMSG;
	attrs[*n].name = name;
	attrs[*n].value = value;
	(*n)++;
	return 0;
}

/* A direction attribute at one level: once, and without a value. */
static int set_dir(enum sdp_dir *at, enum sdp_dir d, struct pl value)
{
	if (*at != SDP_DIR_UNSET || value.p)
		return EBADMSG;
	*at = d;
	return 0;
}

static int parse_rtpmap(struct sdp_media *m, struct pl name, struct pl value)
{
	struct pl rest = value, enc, clock, params, extra;
	struct pl pt_s = next_tok(&rest), spec = next_tok(&rest);
	uint64_t pt, rate, ch = 0;
	if (!at_end(rest) || num(pt_s, 0, 127, &pt))
		return EBADMSG;
	split_at(spec, '/', &enc, &clock);
	split_at(clock, '/', &clock, &params);
	split_at(params, '/', &params, &extra);
	if (!sdp_is_token(enc) || num(clock, 1, UINT32_MAX, &rate) || extra.p ||
	    (params.p && num(params, 1, 255, &ch)))
		return EBADMSG;

	for (size_t i = 0; sdp_proto_is_rtp(m->proto) && i < m->nfmts; i++) {
		struct sdp_fmt *f = &m->fmts[i];
		if (f->pt != (int)pt)
			continue;
		if (f->enc.p)
			break; /* a second rtpmap for one type: keep it as text */
		f->enc = enc;
		f->clock = (uint32_t)rate;
		f->channels = (uint8_t)ch;
		return 0;
	}
	return add_other(m->attrs, &m->nattrs, name, value);
}

static int parse_fmtp(struct sdp_media *m, struct pl name, struct pl value)
{
	struct pl rest = value;
	struct pl id = next_tok(&rest);
	if (!sdp_is_token(id))
		return EBADMSG;
	struct pl params = pl_trim(rest);
	struct sdp_fmt *f = (struct sdp_fmt *)sdp_fmt_find(m, id);
	if (!f || f->fmtp.p)
		return add_other(m->attrs, &m->nattrs, name, value);
	f->fmtp = params; /* set even when empty: a=fmtp:101 */
	return 0;
}

static int parse_rtcp(struct sdp_media *m, struct pl value)
{
	struct pl rest = value;
	uint64_t port;
	if (num(next_tok(&rest), 0, 65535, &port))
		return EBADMSG;
	if (!at_end(rest) && (conn_fields(&rest, true, &m->rtcp_conn) || !at_end(rest)))
		return EBADMSG;
	m->has_rtcp = true;
	m->rtcp_port = (uint16_t)port;
	return 0;
}

static int parse_crypto(struct sdp_media *m, struct pl value)
{
	if (m->ncrypto == SDP_MAX_CRYPTO)
		return EBADMSG;
	struct sdp_crypto *c = &m->crypto[m->ncrypto];
	struct pl rest = value;
	uint64_t tag;
	struct pl tag_s = next_tok(&rest);
	if (tag_s.l > 9 || num(tag_s, 0, 999999999, &tag))
		return EBADMSG;
	c->tag = (uint32_t)tag;
	c->suite = next_tok(&rest);
	c->key_params = next_tok(&rest);
	if (!sdp_is_token(c->suite) || !sdp_is_nonws(c->key_params))
		return EBADMSG;
	rest = pl_trim(rest);
	c->sess_params = rest.l ? rest : PL_NULL;
	m->ncrypto++;
	return 0;
}

/* "name" or "name:value"; the value is trimmed and set even when empty. */
static int split_attr(struct pl v, struct pl *name, struct pl *value)
{
	split_at(v, ':', name, value);
	*name = pl_trim(*name);
	if (value->p)
		*value = pl_trim(*value);
	if (!sdp_is_token(*name) || name->p != v.p)
		return EBADMSG; /* "a= x" is not an attribute */
	return 0;
}

static int session_attr(struct parser *ps, struct pl v)
{
	struct sdp_session *s = ps->s;
	struct pl name, value;
	if (split_attr(v, &name, &value))
		return EBADMSG;
	enum sdp_dir d = sdp_dir_parse(name);
	if (d != SDP_DIR_UNSET)
		return set_dir(&s->dir, d, value);
	return add_other(s->attrs, &s->nattrs, name, value);
}

static int ms(struct pl value, uint32_t *out)
{
	uint64_t x;
	if (num(value, 1, UINT32_MAX, &x))
		return EBADMSG;
	*out = (uint32_t)x;
	return 0;
}

static int media_attr(struct parser *ps, struct pl v)
{
	struct sdp_media *m = ps->m;
	struct pl name, value;
	if (split_attr(v, &name, &value))
		return EBADMSG;
	enum sdp_dir d = sdp_dir_parse(name);
	if (d != SDP_DIR_UNSET)
		return set_dir(&m->dir, d, value);
	if (pl_casestr(name, "rtpmap"))
		return value.p ? parse_rtpmap(m, name, value) : EBADMSG;
	if (pl_casestr(name, "fmtp"))
		return value.p ? parse_fmtp(m, name, value) : EBADMSG;
	if (pl_casestr(name, "ptime"))
		return once(&ps->mseen, SEEN_PTIME) ? ms(value, &m->ptime) : EBADMSG;
	if (pl_casestr(name, "maxptime"))
		return once(&ps->mseen, SEEN_MAXPTIME) ? ms(value, &m->maxptime) : EBADMSG;
	if (pl_casestr(name, "rtcp"))
		return once(&ps->mseen, SEEN_RTCP) && value.p ? parse_rtcp(m, value) : EBADMSG;
	if (pl_casestr(name, "rtcp-mux")) {
		if (!once(&ps->mseen, SEEN_MUX) || value.p)
			return EBADMSG;
		m->rtcp_mux = true;
		return 0;
	}
	if (pl_casestr(name, "crypto"))
		return value.p ? parse_crypto(m, value) : EBADMSG;
	return add_other(m->attrs, &m->nattrs, name, value);
}

/* --- m= lines ---------------------------------------------------------- */

static int parse_media(struct parser *ps, struct pl v)
{
	struct sdp_session *s = ps->s;
	if (s->nmedia == SDP_MAX_MEDIA)
		return EBADMSG;
	struct sdp_media *m = &s->media[s->nmedia];
	struct pl port_s, count_s;
	uint64_t port, count = 1;

	m->type = next_tok(&v);
	split_at(next_tok(&v), '/', &port_s, &count_s);
	m->proto = next_tok(&v);
	if (!sdp_is_token(m->type) || num(port_s, 0, 65535, &port) ||
	    (count_s.p && num(count_s, 1, 65535, &count)) || !sdp_proto_ok(m->proto))
		return EBADMSG;
	m->port = (uint16_t)port;
	m->nports = (uint16_t)count;

	bool rtp = sdp_proto_is_rtp(m->proto);
	for (struct pl id = next_tok(&v); id.l; id = next_tok(&v)) {
		uint64_t pt = 0;
		if (m->nfmts == SDP_MAX_FMTS || !sdp_is_token(id) ||
		    (rtp && num(id, 0, 127, &pt)) || sdp_fmt_find(m, id))
			return EBADMSG;
		/* "97" and "097" are one payload type listed twice */
		for (size_t i = 0; rtp && i < m->nfmts; i++)
			if (m->fmts[i].pt == (int)pt)
				return EBADMSG;
		struct sdp_fmt *f = &m->fmts[m->nfmts++];
		f->id = id;
		f->pt = rtp ? (int)pt : -1;
	}
	/* A rejected stream may come without formats; an active one may not. */
	if (m->nfmts == 0 && m->port != 0)
		return EBADMSG;
	s->nmedia++;
	ps->m = m;
	ps->mseen = 0;
	return 0;
}

/* --- lines ------------------------------------------------------------- */

static int session_line(struct parser *ps, char type, struct pl v)
{
	struct sdp_session *s = ps->s;
	switch (type) {
	case 'i':
		return once(&ps->seen, SEEN_I) ? (s->info = v, 0) : EBADMSG;
	case 'u':
		return once(&ps->seen, SEEN_U) ? (s->uri = v, 0) : EBADMSG;
	case 'e':
		if (s->nemails == SDP_MAX_EP)
			return EBADMSG;
		s->emails[s->nemails++] = v;
		return 0;
	case 'p':
		if (s->nphones == SDP_MAX_EP)
			return EBADMSG;
		s->phones[s->nphones++] = v;
		return 0;
	case 'c':
		return once(&ps->seen, SEEN_C) ? parse_conn(&s->conn, v) : EBADMSG;
	case 'b':
		return parse_bw(s->bw, &s->nbw, v);
	case 't':
		ps->seen |= SEEN_T;
		return parse_time(s, v);
	case 'r':
		return parse_repeat(s, v);
	case 'z':
		return once(&ps->seen, SEEN_Z) && !at_end(v) ? (s->zone = v, 0) : EBADMSG;
	case 'k':
		return once(&ps->seen, SEEN_K) ? (s->key = v, 0) : EBADMSG;
	case 'a':
		return session_attr(ps, v);
	case 'm':
		/* t= is mandatory and belongs before the first m= */
		return ps->seen & SEEN_T ? parse_media(ps, v) : EBADMSG;
	default:
		return EBADMSG;
	}
}

static int media_line(struct parser *ps, char type, struct pl v)
{
	struct sdp_media *m = ps->m;
	switch (type) {
	case 'm':
		return parse_media(ps, v);
	case 'i':
		return once(&ps->mseen, SEEN_I) ? (m->info = v, 0) : EBADMSG;
	case 'c':
		return once(&ps->mseen, SEEN_C) ? parse_conn(&m->conn, v) : EBADMSG;
	case 'b':
		return parse_bw(m->bw, &m->nbw, v);
	case 'k':
		return once(&ps->mseen, SEEN_K) ? (m->key = v, 0) : EBADMSG;
	case 'a':
		return media_attr(ps, v);
	default:
		return EBADMSG; /* includes session-only letters */
	}
}

static int parse_line(struct parser *ps, struct pl line)
{
	if (line.l < 2 || line.p[1] != '=')
		return EBADMSG;
	for (size_t i = 0; i < line.l; i++) {
		unsigned char c = (unsigned char)line.p[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return EBADMSG; /* NUL, stray CR, other controls */
	}
	char type = line.p[0];
	struct pl v = { line.p + 2, line.l - 2 };

	switch (ps->nlines++) {
	case 0:
		if (type != 'v' || !pl_eq(v, PL("0")))
			return EBADMSG;
		ps->s->version = 0;
		return 0;
	case 1:
		return type == 'o' ? parse_origin(ps->s, v) : EBADMSG;
	case 2:
		if (type != 's')
			return EBADMSG;
		ps->s->name = v;
		return 0;
	default:
		return ps->m ? media_line(ps, type, v) : session_line(ps, type, v);
	}
}

static int finish(struct parser *ps)
{
	struct sdp_session *s = ps->s;
	if (!(ps->seen & SEEN_T))
		return EBADMSG;
	for (size_t i = 0; i < s->nmedia; i++)
		if (s->media[i].port != 0 && !sdp_media_conn(s, &s->media[i]))
			return EBADMSG;
	return 0;
}

int sdp_parse(struct sdp_session **out, const char *body, size_t len)
{
	if (!out || (!body && len))
		return EINVAL;
	if (len == 0 || len > SDP_MAX_BODY)
		return EBADMSG;

	struct sdp_session *s = calloc(1, sizeof(*s));
	if (!s)
		return ENOMEM;
	s->mem = malloc(len + 1);
	if (!s->mem) {
		free(s);
		return ENOMEM;
	}
	memcpy(s->mem, body, len);
	s->mem[len] = '\0';

	struct parser ps = { .s = s };
	const char *p = s->mem, *end = s->mem + len;
	bool blank = false;
	int err = 0;
	while (p < end && !err) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		struct pl line = { p, (size_t)((nl ? nl : end) - p) };
		p = nl ? nl + 1 : end;
		if (line.l && line.p[line.l - 1] == '\r')
			line.l--;
		if (line.l == 0) {
			blank = true; /* only allowed at the end */
			continue;
		}
		err = blank ? EBADMSG : parse_line(&ps, line);
	}
	if (!err)
		err = finish(&ps);
	if (err) {
		sdp_free(s);
		return err;
	}
	*out = s;
	return 0;
}
