/*
 * SIP message parsing (RFC 3261 section 7): copies the received bytes once
 * into the same allocation as the struct, splits the start line and the
 * header fields into slices of that copy, unfolds continuation lines in
 * place, splits list-valued headers at top-level commas, and parses the
 * handful of fields every step needs (top Via, From, To, Call-ID, CSeq,
 * Max-Forwards, Expires, Content-Length/-Type). Everything else is left
 * for whoever asks (sip_msg_hdr + the value parsers in msg_uri.c).
 *
 * A message is refused (EBADMSG) only when no response could be routed or
 * matched; otherwise its first defect is recorded in sip_msg.error so the
 * transaction layer can answer 400 (or 505) as RFC 4475 expects. That
 * includes a header line over SIP_MAX_HDR_LINE and more than SIP_MAX_HDRS
 * header values: a sender hitting a limit learns which one, where silence
 * would only make it retransmit.
 */
#include "msg_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* --- header names ------------------------------------------------------- */

struct hdr_name {
	const char *name;
	uint8_t len;
	uint8_t id;
};

static const struct hdr_name hdr_names[] = {
	{ "Via", 3, SIP_HDR_VIA },
	{ "From", 4, SIP_HDR_FROM },
	{ "To", 2, SIP_HDR_TO },
	{ "Call-ID", 7, SIP_HDR_CALL_ID },
	{ "CSeq", 4, SIP_HDR_CSEQ },
	{ "Contact", 7, SIP_HDR_CONTACT },
	{ "Max-Forwards", 12, SIP_HDR_MAX_FORWARDS },
	{ "Content-Length", 14, SIP_HDR_CONTENT_LENGTH },
	{ "Content-Type", 12, SIP_HDR_CONTENT_TYPE },
	{ "Content-Encoding", 16, SIP_HDR_CONTENT_ENCODING },
	{ "Expires", 7, SIP_HDR_EXPIRES },
	{ "Min-Expires", 11, SIP_HDR_MIN_EXPIRES },
	{ "Authorization", 13, SIP_HDR_AUTHORIZATION },
	{ "Proxy-Authorization", 19, SIP_HDR_PROXY_AUTHORIZATION },
	{ "WWW-Authenticate", 16, SIP_HDR_WWW_AUTHENTICATE },
	{ "Proxy-Authenticate", 18, SIP_HDR_PROXY_AUTHENTICATE },
	{ "Route", 5, SIP_HDR_ROUTE },
	{ "Record-Route", 12, SIP_HDR_RECORD_ROUTE },
	{ "Require", 7, SIP_HDR_REQUIRE },
	{ "Proxy-Require", 13, SIP_HDR_PROXY_REQUIRE },
	{ "Supported", 9, SIP_HDR_SUPPORTED },
	{ "Unsupported", 11, SIP_HDR_UNSUPPORTED },
	{ "Allow", 5, SIP_HDR_ALLOW },
	{ "Accept", 6, SIP_HDR_ACCEPT },
	{ "User-Agent", 10, SIP_HDR_USER_AGENT },
	{ "Subject", 7, SIP_HDR_SUBJECT },
	{ "Event", 5, SIP_HDR_EVENT },
	{ "Refer-To", 8, SIP_HDR_REFER_TO },
	{ "Session-Expires", 15, SIP_HDR_SESSION_EXPIRES },
	{ "Min-SE", 6, SIP_HDR_MIN_SE },
	{ "RSeq", 4, SIP_HDR_RSEQ },
	{ "RAck", 4, SIP_HDR_RACK },
	{ "Date", 4, SIP_HDR_DATE },
};

/* Compact forms (RFC 3261 7.3.3 and the extensions that define one). */
static enum sip_hdr_id compact_id(unsigned char c)
{
	switch (c | 0x20) {
	case 'v': return SIP_HDR_VIA;
	case 'f': return SIP_HDR_FROM;
	case 't': return SIP_HDR_TO;
	case 'i': return SIP_HDR_CALL_ID;
	case 'm': return SIP_HDR_CONTACT;
	case 'l': return SIP_HDR_CONTENT_LENGTH;
	case 'c': return SIP_HDR_CONTENT_TYPE;
	case 'e': return SIP_HDR_CONTENT_ENCODING;
	case 'k': return SIP_HDR_SUPPORTED;
	case 's': return SIP_HDR_SUBJECT;
	case 'o': return SIP_HDR_EVENT;
	case 'r': return SIP_HDR_REFER_TO;
	case 'x': return SIP_HDR_SESSION_EXPIRES;
	default: return SIP_HDR_OTHER;
	}
}

static enum sip_hdr_id hdr_lookup(struct pl name)
{
	if (name.l == 1)
		return compact_id((unsigned char)name.p[0]);
	unsigned char c0 = (unsigned char)name.p[0] | 0x20;
	for (size_t i = 0; i < sizeof(hdr_names) / sizeof(hdr_names[0]); i++) {
		const struct hdr_name *h = &hdr_names[i];
		if (h->len == name.l && ((unsigned char)h->name[0] | 0x20) == c0 &&
		    strncasecmp(h->name, name.p, name.l) == 0)
			return (enum sip_hdr_id)h->id;
	}
	return SIP_HDR_OTHER;
}

/* Headers whose grammar is a comma-separated list (see msg.h). */
static bool is_list(enum sip_hdr_id id)
{
	switch (id) {
	case SIP_HDR_VIA: case SIP_HDR_CONTACT: case SIP_HDR_ROUTE:
	case SIP_HDR_RECORD_ROUTE: case SIP_HDR_REQUIRE: case SIP_HDR_PROXY_REQUIRE:
	case SIP_HDR_SUPPORTED: case SIP_HDR_UNSUPPORTED: case SIP_HDR_ALLOW:
	case SIP_HDR_ACCEPT:
		return true;
	default:
		return false;
	}
}

/* --- parse state -------------------------------------------------------- */

/* Defects found while splitting, reported after the more important ones
 * so that e.g. a 505 is not masked by a stray header line. */
struct parse_ctx {
	struct sip_msg *m;
	bool bad_line;    /* header line without a colon or a token name */
	bool empty_elem;  /* ",," or a trailing ',' in a Via list */
	bool too_many;
	bool too_long;    /* a header line over SIP_MAX_HDR_LINE */
	bool essentials;  /* keep only what a response needs (too many) */
};

/* What an answer to a request must copy (RFC 3261 8.2.6.2). */
static bool essential(enum sip_hdr_id id)
{
	return id == SIP_HDR_VIA || id == SIP_HDR_FROM || id == SIP_HDR_TO ||
	       id == SIP_HDR_CALL_ID || id == SIP_HDR_CSEQ;
}

static void set_error(struct sip_msg *m, uint16_t status, const char *why)
{
	if (!m->error) {
		m->error = why;
		m->error_status = status;
	}
}

static void add_hdr(struct parse_ctx *c, enum sip_hdr_id id, struct pl name, struct pl value)
{
	struct sip_msg *m = c->m;
	if (c->essentials && !essential(id))
		return;
	if (m->nhdrs == m->hdrs_cap || m->nhdrs == SIP_MAX_HDRS) {
		c->too_many = true;
		return;
	}
	m->hdrs[m->nhdrs++] = (struct sip_hdr){ id, name, value };
}

/* Splits a list value at commas outside quotes and <>. */
static void add_list(struct parse_ctx *c, enum sip_hdr_id id, struct pl name, struct pl value)
{
	if (!value.l || !memchr(value.p, ',', value.l)) {
		add_hdr(c, id, name, value); /* one value; an empty "Supported:" means none */
		return;
	}
	size_t start = 0;
	bool angle = false;
	for (size_t i = 0; i <= value.l; i++) {
		if (i < value.l) {
			char ch = value.p[i];
			if (ch == '"') {
				size_t e = msg_quoted_end(value, i);
				i = (e ? e : value.l) - 1;
				continue;
			}
			if (ch == '<')
				angle = true;
			else if (ch == '>')
				angle = false;
			if (ch != ',' || angle)
				continue;
		}
		struct pl e = pl_trim(pl_sub(value, start, i));
		start = i + 1;
		if (!e.l) {
			if (id == SIP_HDR_VIA)
				c->empty_elem = true;
			continue;
		}
		add_hdr(c, id, name, e);
	}
}

/* One logical header line [s, e): CR/LF of folded continuation lines are
 * already spaces. */
static void header_line(struct parse_ctx *c, char *s, char *e)
{
	char *colon = memchr(s, ':', (size_t)(e - s));
	if (!colon) {
		c->bad_line = true;
		return;
	}
	struct pl name = pl_trim((struct pl){ s, (size_t)(colon - s) });
	for (size_t i = 0; i < name.l; i++)
		if (!cc_token((unsigned char)name.p[i]))
			name.l = 0;
	if (!name.l) {
		c->bad_line = true;
		return;
	}
	struct pl value = pl_trim((struct pl){ colon + 1, (size_t)(e - colon - 1) });
	enum sip_hdr_id id = hdr_lookup(name);
	if (is_list(id))
		add_list(c, id, name, value);
	else
		add_hdr(c, id, name, value);
}

/* Splits the header section starting at p; returns where the body starts.
 * A message may end without the empty line (a datagram cut short, or the
 * RFC 5118 archive): then the body is empty. */
static char *split_headers(struct parse_ctx *c, char *p, char *end)
{
	while (p < end) {
		if (*p == '\n')
			return p + 1;
		if (*p == '\r' && (p + 1 == end || p[1] == '\n'))
			return p + 1 < end ? p + 2 : end;
		char *s = p, *e = end;
		bool continuation = cc_wsp((unsigned char)*p);
		bool folded = false;
		for (;;) {
			char *nl = memchr(p, '\n', (size_t)(end - p));
			if (!nl) {
				p = end;
				break;
			}
			p = nl + 1;
			if (p < end && cc_wsp((unsigned char)*p)) {
				folded = true; /* the next line continues this one */
				continue;
			}
			e = nl;
			break;
		}
		/* the logical line without its final CR, before unfolding
		 * turns that CR into a space */
		if ((size_t)(e - s) - (e > s && e[-1] == '\r') > SIP_MAX_HDR_LINE)
			c->too_long = true;
		/* Unfold in place so values never contain CR or LF. Most lines
		 * are not folded and only end in CR, which trimming drops; a
		 * stray CR inside is rare, so memchr finds it cheaply. */
		char *q = folded ? s : memchr(s, '\r', (size_t)(e - s));
		for (; q && q < e; q++)
			if (*q == '\r' || *q == '\n')
				*q = ' ';
		if (continuation)
			c->bad_line = true; /* folding before any header */
		else
			header_line(c, s, e);
	}
	return end;
}

/* --- start line --------------------------------------------------------- */

static bool is_sip_version(struct pl v, bool *is_2_0)
{
	if (v.l < 7 || strncasecmp(v.p, "SIP/", 4) != 0)
		return false;
	size_t i = 4, d = i;
	while (i < v.l && cc_digit((unsigned char)v.p[i]))
		i++;
	if (i == d || i == v.l || v.p[i] != '.')
		return false;
	d = ++i;
	while (i < v.l && cc_digit((unsigned char)v.p[i]))
		i++;
	if (i == d || i != v.l)
		return false;
	*is_2_0 = v.l == 7 && v.p[4] == '2' && v.p[6] == '0';
	return true;
}

static int parse_status_line(struct sip_msg *m, struct pl line)
{
	const char *sp = memchr(line.p, ' ', line.l);
	bool v20;
	if (!sp)
		return EBADMSG;
	m->version = (struct pl){ line.p, (size_t)(sp - line.p) };
	if (!is_sip_version(m->version, &v20) || !v20)
		return EBADMSG;
	size_t i = (size_t)(sp - line.p) + 1;
	if (i + 3 > line.l)
		return EBADMSG;
	unsigned status = 0;
	for (size_t k = i; k < i + 3; k++) {
		if (!cc_digit((unsigned char)line.p[k]))
			return EBADMSG;
		status = status * 10 + (unsigned)(line.p[k] - '0');
	}
	i += 3;
	/* "SIP/2.0 100" without the SP is accepted too (RFC 4475 3.1.1.13). */
	if ((i < line.l && line.p[i] != ' ') || status < 100 || status > 699)
		return EBADMSG;
	m->status = (uint16_t)status;
	m->reason = i < line.l ? pl_sub(line, i + 1, line.l) : (struct pl){ line.p + i, 0 };
	return 0;
}

static int parse_request_line(struct sip_msg *m, struct pl line)
{
	/* Trailing SP before CRLF is tolerated (RFC 4475 3.1.2.10 allows it). */
	while (line.l && cc_wsp((unsigned char)line.p[line.l - 1]))
		line.l--;
	const char *sp1 = memchr(line.p, ' ', line.l);
	const char *sp2 = sp1 ? memrchr(line.p, ' ', line.l) : NULL;
	if (!sp1 || sp2 == sp1 || sp1 == line.p)
		return EBADMSG;
	m->method = (struct pl){ line.p, (size_t)(sp1 - line.p) };
	for (size_t i = 0; i < m->method.l; i++)
		if (!cc_token((unsigned char)m->method.p[i]))
			return EBADMSG;
	m->version = (struct pl){ sp2 + 1, line.l - (size_t)(sp2 + 1 - line.p) };
	bool v20;
	if (!is_sip_version(m->version, &v20))
		return EBADMSG;
	m->is_request = true;
	if (!v20)
		set_error(m, 505, "Version Not Supported");
	m->ruri_raw = (struct pl){ sp1 + 1, (size_t)(sp2 - sp1 - 1) };
	/* Extra SP between the elements (lwsstart), LWS inside the URI
	 * (lwsruri) or <> around it (ltgtruri) all land here. Headers are
	 * not allowed in a Request-URI (RFC 3261 19.1.1, escruri). */
	if (sip_uri_parse(&m->ruri, m->ruri_raw) || m->ruri.headers.p)
		set_error(m, 400, "Bad Request-URI");
	return 0;
}

/* --- the fields every step needs ---------------------------------------- */

static bool valid_call_id(struct pl v)
{
	const char *at = memchr(v.p, '@', v.l);
	if (!v.l || at == v.p || (at && at == v.p + v.l - 1))
		return false;
	for (size_t i = 0; i < v.l; i++)
		if (!cc_word((unsigned char)v.p[i]) && v.p + i != at)
			return false;
	return true;
}

static bool parse_cseq(struct sip_cseq *cs, struct pl v)
{
	size_t i = 0;
	while (i < v.l && cc_digit((unsigned char)v.p[i]))
		i++;
	uint64_t n;
	if (pl_u64(pl_sub(v, 0, i), UINT32_MAX, &n))
		return false;
	size_t ms = i;
	while (ms < v.l && cc_wsp((unsigned char)v.p[ms]))
		ms++;
	if (ms == i || ms == v.l)
		return false;
	cs->num = (uint32_t)n;
	cs->method = pl_sub(v, ms, v.l);
	for (i = 0; i < cs->method.l; i++)
		if (!cc_token((unsigned char)cs->method.p[i]))
			return false;
	return true;
}

static const char *const dup_reason[SIP_HDR__COUNT] = {
	[SIP_HDR_FROM] = "Multiple From",
	[SIP_HDR_TO] = "Multiple To",
	[SIP_HDR_CALL_ID] = "Multiple Call-ID",
	[SIP_HDR_CSEQ] = "Multiple CSeq",
	[SIP_HDR_MAX_FORWARDS] = "Multiple Max-Forwards",
	[SIP_HDR_CONTENT_LENGTH] = "Multiple Content-Length",
};

/* Fills the parsed fields; returns EBADMSG when a response could not be
 * routed back or matched (no usable top Via, From, To, Call-ID or CSeq). */
static int parse_fields(struct parse_ctx *c, char *body, char *end)
{
	struct sip_msg *m = c->m;
	const struct sip_hdr *first[SIP_HDR__COUNT] = { 0 };
	unsigned count[SIP_HDR__COUNT] = { 0 };
	for (size_t i = 0; i < m->nhdrs; i++) {
		const struct sip_hdr *h = &m->hdrs[i];
		if (!first[h->id])
			first[h->id] = h;
		count[h->id]++;
	}
	if (!first[SIP_HDR_VIA] || !first[SIP_HDR_FROM] || !first[SIP_HDR_TO] ||
	    !first[SIP_HDR_CALL_ID] || !first[SIP_HDR_CSEQ])
		return EBADMSG;

	bool params_ok;
	if (msg_via_parse(&m->via, first[SIP_HDR_VIA]->value, &params_ok))
		return EBADMSG;
	if (!params_ok || c->empty_elem)
		set_error(m, 400, "Bad Via");

	if (!parse_cseq(&m->cseq, first[SIP_HDR_CSEQ]->value))
		set_error(m, 400, "Bad CSeq");
	else if (m->is_request && !pl_eq(m->cseq.method, m->method))
		set_error(m, 400, "CSeq Method Mismatch");

	if (sip_addr_parse(&m->from, first[SIP_HDR_FROM]->value) || m->from.star)
		set_error(m, 400, "Bad From");
	if (sip_addr_parse(&m->to, first[SIP_HDR_TO]->value) || m->to.star)
		set_error(m, 400, "Bad To");
	m->call_id = first[SIP_HDR_CALL_ID]->value;
	if (!valid_call_id(m->call_id))
		set_error(m, 400, "Bad Call-ID");

	for (int id = 0; id < SIP_HDR__COUNT; id++)
		if (dup_reason[id] && count[id] > 1)
			set_error(m, 400, dup_reason[id]);

	uint64_t v;
	m->max_forwards = -1;
	if (first[SIP_HDR_MAX_FORWARDS]) {
		if (pl_u64(first[SIP_HDR_MAX_FORWARDS]->value, 255, &v)) {
			if (m->is_request)
				set_error(m, 400, "Bad Max-Forwards");
		} else {
			m->max_forwards = (int)v;
		}
	}
	/* An out-of-range or RFC 2543 date Expires is taken as absent, so the
	 * default applies (RFC 4475 3.1.2.4). */
	m->expires = -1;
	if (first[SIP_HDR_EXPIRES] && !pl_u64(first[SIP_HDR_EXPIRES]->value, UINT32_MAX, &v))
		m->expires = (int64_t)v;
	if (first[SIP_HDR_CONTENT_TYPE])
		m->content_type = first[SIP_HDR_CONTENT_TYPE]->value;

	size_t avail = (size_t)(end - body);
	m->body = (struct pl){ body, avail };
	if (first[SIP_HDR_CONTENT_LENGTH]) {
		if (pl_u64(first[SIP_HDR_CONTENT_LENGTH]->value, UINT32_MAX, &v)) {
			set_error(m, 400, "Bad Content-Length");
			m->body.l = 0;
		} else {
			m->has_content_length = true;
			m->content_length = (size_t)v;
			/* Over UDP, trailing octets are ignored (18.3, dblreq);
			 * a short body is an error (clerr). */
			if (v > avail)
				set_error(m, 400, "Content-Length Too Large");
			else
				m->body.l = (size_t)v;
		}
	}

	if (m->is_request) {
		struct sip_addr a;
		for (size_t i = 0; i < m->nhdrs; i++)
			if (m->hdrs[i].id == SIP_HDR_CONTACT && sip_addr_parse(&a, m->hdrs[i].value))
				set_error(m, 400, "Bad Contact");
	}
	if (c->bad_line)
		set_error(m, 400, "Malformed Header");
	return 0;
}

/* --- entry points ------------------------------------------------------- */

static size_t header_bound(const char *data, size_t len)
{
	size_t n = 1, i = 0;
	while (i < len && (data[i] == '\r' || data[i] == '\n'))
		i++; /* CRLF before the start line (7.5) is not a blank line */
	for (; i < len && n < SIP_MAX_HDRS + 1; i++) {
		if (data[i] == ',')
			n++;
		else if (data[i] == '\n') {
			n++;
			/* a blank line ends the header section */
			if ((i + 1 < len && data[i + 1] == '\n') ||
			    (i + 2 < len && data[i + 1] == '\r' && data[i + 2] == '\n'))
				break;
		}
	}
	/* one past the limit, so "too many" is still detected */
	return n > SIP_MAX_HDRS + 1 ? SIP_MAX_HDRS + 1 : n;
}

int sip_msg_parse(struct sip_msg **out, const char *data, size_t len)
{
	if (!out || (!data && len))
		return EINVAL;
	if (len > SIP_MAX_MSG)
		return EMSGSIZE;
	/* One allocation: the struct, the header table, then the private copy
	 * of the bytes. The table is sized by an upper bound on header values
	 * (one per line, plus one per comma of the header section). */
	size_t cap = header_bound(data, len);
	struct sip_msg *m = malloc(sizeof(*m) + cap * sizeof(struct sip_hdr) + len + 1);
	if (!m)
		return ENOMEM;
	memset(m, 0, sizeof(*m));
	m->hdrs = (struct sip_hdr *)(m + 1);
	m->hdrs_cap = cap;
	m->buf = (char *)(m->hdrs + cap);
	if (len)
		memcpy(m->buf, data, len);
	m->buf[len] = '\0';
	m->len = len;

	struct parse_ctx c = { .m = m };
	char *p = m->buf, *end = m->buf + len;
	int err = EBADMSG;
	/* CRLF before the start line is ignored (RFC 3261 7.5). */
	while (p < end && (*p == '\r' || *p == '\n'))
		p++;
	char *eol = p < end ? memchr(p, '\n', (size_t)(end - p)) : NULL;
	if (!eol)
		goto out;
	struct pl line = { p, (size_t)(eol - p) };
	if (line.l && line.p[line.l - 1] == '\r')
		line.l--;
	if (line.l >= 4 && strncasecmp(line.p, "SIP/", 4) == 0)
		err = parse_status_line(m, line);
	else
		err = parse_request_line(m, line);
	if (err)
		goto out;
	char *body = split_headers(&c, eol + 1, end);
	if (c.too_many) {
		/* Split again keeping only what the 400 needs; the lines were
		 * unfolded in place, which splitting again leaves as it is. */
		m->nhdrs = 0;
		c = (struct parse_ctx){ .m = m, .essentials = true };
		body = split_headers(&c, eol + 1, end);
		if (c.too_many) {
			err = EBADMSG; /* answering would drop Vias past the limit */
			goto out;
		}
		set_error(m, 400, "Too Many Headers");
	}
	if (c.too_long)
		set_error(m, 400, "Header Too Long");
	err = parse_fields(&c, body, end);
	if (!err && !m->is_request && m->error)
		err = EBADMSG; /* nobody answers a response: drop it */
out:
	if (err) {
		free(m);
		return err;
	}
	*out = m;
	return 0;
}

void sip_msg_free(struct sip_msg *m)
{
	free(m);
}

/* --- header access ------------------------------------------------------ */

const struct sip_hdr *sip_msg_hdr(const struct sip_msg *m, enum sip_hdr_id id)
{
	return sip_msg_hdr_next(m, id, NULL);
}

const struct sip_hdr *sip_msg_hdr_next(const struct sip_msg *m, enum sip_hdr_id id,
				       const struct sip_hdr *prev)
{
	if (!m)
		return NULL;
	size_t i = prev ? (size_t)(prev - m->hdrs) + 1 : 0;
	for (; i < m->nhdrs; i++)
		if (m->hdrs[i].id == id)
			return &m->hdrs[i];
	return NULL;
}

const struct sip_hdr *sip_msg_hdr_byname(const struct sip_msg *m, const char *name)
{
	if (!m || !name || !name[0])
		return NULL;
	struct pl n = pl_from(name);
	enum sip_hdr_id id = hdr_lookup(n);
	if (id != SIP_HDR_OTHER)
		return sip_msg_hdr(m, id);
	for (size_t i = 0; i < m->nhdrs; i++)
		if (m->hdrs[i].id == SIP_HDR_OTHER && pl_caseeq(m->hdrs[i].name, n))
			return &m->hdrs[i];
	return NULL;
}

size_t sip_msg_hdr_count(const struct sip_msg *m, enum sip_hdr_id id)
{
	size_t n = 0;
	for (size_t i = 0; m && i < m->nhdrs; i++)
		n += m->hdrs[i].id == id;
	return n;
}
