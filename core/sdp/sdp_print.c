/*
 * SDP printing: writes a struct sdp_session as a body with CRLF line ends,
 * in RFC 8866 order, known attributes in one fixed order (see sdp.h).
 * A session is checked before anything is written, because sessions are
 * also built by hand and by sdp_anchor/sdp_answer, and a body we send must
 * parse at the other end (our own parser being the yardstick): no slice
 * holds a control character other than TAB, the fields the grammar makes
 * tokens are non-empty tokens, numbers and addresses are in range.
 */
#include "sdp_int.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

/* --- checks ------------------------------------------------------------ */

/* The parser refuses control characters other than TAB anywhere. */
static void check_text(struct pl *pl, void *arg)
{
	bool *ok = arg;
	for (size_t i = 0; pl->p && i < pl->l; i++) {
		unsigned char c = (unsigned char)pl->p[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			*ok = false;
	}
}

static bool conn_ok(const struct sdp_conn *c)
{
	if (c->af == SDP_AF_NONE)
		return true;
	return (c->af == SDP_IP4 || c->af == SDP_IP6) && sdp_addr_ok(c->af, c->addr) &&
	       (!c->mcast.p || sdp_mcast_ok(c->af, c->mcast));
}

static bool bw_ok(const struct sdp_bw *bw, size_t n)
{
	if (n > SDP_MAX_BW)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!sdp_is_token(bw[i].type))
			return false;
	return true;
}

/* Names that have their own field must not hide among the others: the
 * parser would read them back into that field (or refuse a second one). */
static bool attrs_ok(const struct sdp_attr *a, size_t n, bool media)
{
	static const char *const own_field[] = {
		"ptime", "maxptime", "rtcp", "rtcp-mux", "crypto",
	};
	if (n > SDP_MAX_ATTRS)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!sdp_is_token(a[i].name) || sdp_dir_parse(a[i].name) != SDP_DIR_UNSET)
			return false;
		for (size_t j = 0; media && j < sizeof(own_field) / sizeof(own_field[0]); j++)
			if (pl_casestr(a[i].name, own_field[j]))
				return false;
	}
	return true;
}

/* On an RTP profile every format is a payload type, listed once, and an
 * rtpmap belongs to the type it names; elsewhere there is no rtpmap. */
static bool fmts_ok(const struct sdp_media *m)
{
	bool rtp = sdp_proto_is_rtp(m->proto);
	for (size_t i = 0; i < m->nfmts; i++) {
		const struct sdp_fmt *f = &m->fmts[i];
		uint64_t pt = 0;
		if (!sdp_is_token(f->id) || sdp_fmt_find(m, f->id) != f)
			return false;
		if (rtp && (pl_u64(f->id, 127, &pt) || (f->enc.p && (int)pt != f->pt)))
			return false;
		for (size_t j = 0; rtp && j < i; j++)
			if (m->fmts[j].pt == (int)pt)
				return false;
		if (f->enc.p && (!rtp || !sdp_is_token(f->enc) || f->clock == 0))
			return false;
	}
	return true;
}

static bool dir_ok(enum sdp_dir d)
{
	return d >= SDP_DIR_UNSET && d <= SDP_SENDRECV;
}

static bool media_ok(const struct sdp_media *m)
{
	if (!sdp_is_token(m->type) || !sdp_proto_ok(m->proto) ||
	    m->nfmts > SDP_MAX_FMTS || (m->nfmts == 0 && m->port != 0) ||
	    m->ncrypto > SDP_MAX_CRYPTO || !dir_ok(m->dir) ||
	    !conn_ok(&m->conn) || !bw_ok(m->bw, m->nbw) ||
	    !attrs_ok(m->attrs, m->nattrs, true) || !fmts_ok(m))
		return false;
	if (m->has_rtcp && !conn_ok(&m->rtcp_conn))
		return false;
	for (size_t i = 0; i < m->ncrypto; i++)
		if (m->crypto[i].tag > 999999999 || !sdp_is_token(m->crypto[i].suite) ||
		    !sdp_is_nonws(m->crypto[i].key_params))
			return false;
	return true;
}

static bool session_ok(const struct sdp_session *s)
{
	if (s->version != 0 || !sdp_is_nonws(s->origin.user) ||
	    s->origin.af == SDP_AF_NONE || !conn_ok(&(struct sdp_conn){
		    s->origin.af, s->origin.addr, PL_NULL }) ||
	    !conn_ok(&s->conn) || !bw_ok(s->bw, s->nbw) || !dir_ok(s->dir) ||
	    s->ntimes > SDP_MAX_TIMES || s->nemails > SDP_MAX_EP ||
	    s->nphones > SDP_MAX_EP || !attrs_ok(s->attrs, s->nattrs, false) ||
	    s->nmedia > SDP_MAX_MEDIA)
		return false;
	for (size_t i = 0; i < s->ntimes; i++)
		if (s->times[i].nrepeat > SDP_MAX_REPEAT)
			return false;
	for (size_t i = 0; i < s->nmedia; i++) {
		if (!media_ok(&s->media[i]))
			return false;
		if (s->media[i].port != 0 && !sdp_media_conn(s, &s->media[i]))
			return false;
	}
	bool ok = true;
	sdp_visit((struct sdp_session *)s, check_text, &ok);
	return ok;
}

/* --- writers ----------------------------------------------------------- */

static void line_pl(struct sbuf *b, const char *prefix, struct pl v)
{
	sbuf_adds(b, prefix);
	sbuf_addpl(b, v);
	sbuf_adds(b, "\r\n");
}

/* Optional free-text lines are skipped when blank: "i=" is not valid. */
static void opt_line(struct sbuf *b, const char *prefix, struct pl v)
{
	if (pl_trim(v).l)
		line_pl(b, prefix, v);
}

static const char *af_name(enum sdp_af af)
{
	return af == SDP_IP6 ? "IP6" : "IP4";
}

static void print_conn(struct sbuf *b, const struct sdp_conn *c)
{
	if (c->af == SDP_AF_NONE)
		return;
	sbuf_printf(b, "c=IN %s ", af_name(c->af));
	sbuf_addpl(b, c->addr);
	if (c->mcast.p) {
		sbuf_adds(b, "/");
		sbuf_addpl(b, c->mcast);
	}
	sbuf_adds(b, "\r\n");
}

static void print_bw(struct sbuf *b, const struct sdp_bw *bw, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		sbuf_adds(b, "b=");
		sbuf_addpl(b, bw[i].type);
		sbuf_printf(b, ":%" PRIu32 "\r\n", bw[i].value);
	}
}

static void print_attrs(struct sbuf *b, const struct sdp_attr *a, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		sbuf_adds(b, "a=");
		sbuf_addpl(b, a[i].name);
		if (a[i].value.p) {
			sbuf_adds(b, ":");
			sbuf_addpl(b, a[i].value);
		}
		sbuf_adds(b, "\r\n");
	}
}

static void print_dir(struct sbuf *b, enum sdp_dir d)
{
	if (d != SDP_DIR_UNSET)
		sbuf_printf(b, "a=%s\r\n", sdp_dir_name(d));
}

static void print_fmt_attrs(struct sbuf *b, const struct sdp_fmt *f)
{
	if (f->enc.p) {
		sbuf_printf(b, "a=rtpmap:%d ", f->pt);
		sbuf_addpl(b, f->enc);
		sbuf_printf(b, "/%" PRIu32, f->clock);
		if (f->channels)
			sbuf_printf(b, "/%u", (unsigned)f->channels);
		sbuf_adds(b, "\r\n");
	}
	if (f->fmtp.p) {
		sbuf_adds(b, "a=fmtp:");
		sbuf_addpl(b, f->id);
		if (f->fmtp.l) {
			sbuf_adds(b, " ");
			sbuf_addpl(b, f->fmtp);
		}
		sbuf_adds(b, "\r\n");
	}
}

static void print_media(struct sbuf *b, const struct sdp_media *m)
{
	sbuf_adds(b, "m=");
	sbuf_addpl(b, m->type);
	sbuf_printf(b, " %u", (unsigned)m->port);
	if (m->nports > 1)
		sbuf_printf(b, "/%u", (unsigned)m->nports);
	sbuf_adds(b, " ");
	sbuf_addpl(b, m->proto);
	for (size_t i = 0; i < m->nfmts; i++) {
		sbuf_adds(b, " ");
		sbuf_addpl(b, m->fmts[i].id);
	}
	sbuf_adds(b, "\r\n");

	opt_line(b, "i=", m->info);
	print_conn(b, &m->conn);
	print_bw(b, m->bw, m->nbw);
	opt_line(b, "k=", m->key);
	for (size_t i = 0; i < m->nfmts; i++)
		print_fmt_attrs(b, &m->fmts[i]);
	if (m->ptime)
		sbuf_printf(b, "a=ptime:%" PRIu32 "\r\n", m->ptime);
	if (m->maxptime)
		sbuf_printf(b, "a=maxptime:%" PRIu32 "\r\n", m->maxptime);
	if (m->has_rtcp) {
		sbuf_printf(b, "a=rtcp:%u", (unsigned)m->rtcp_port);
		if (m->rtcp_conn.af != SDP_AF_NONE) {
			sbuf_printf(b, " IN %s ", af_name(m->rtcp_conn.af));
			sbuf_addpl(b, m->rtcp_conn.addr);
			if (m->rtcp_conn.mcast.p) {
				sbuf_adds(b, "/");
				sbuf_addpl(b, m->rtcp_conn.mcast);
			}
		}
		sbuf_adds(b, "\r\n");
	}
	if (m->rtcp_mux)
		sbuf_adds(b, "a=rtcp-mux\r\n");
	for (size_t i = 0; i < m->ncrypto; i++) {
		const struct sdp_crypto *c = &m->crypto[i];
		sbuf_printf(b, "a=crypto:%" PRIu32 " ", c->tag);
		sbuf_addpl(b, c->suite);
		sbuf_adds(b, " ");
		sbuf_addpl(b, c->key_params);
		if (c->sess_params.p && c->sess_params.l) {
			sbuf_adds(b, " ");
			sbuf_addpl(b, c->sess_params);
		}
		sbuf_adds(b, "\r\n");
	}
	print_attrs(b, m->attrs, m->nattrs);
	print_dir(b, m->dir);
}

int sdp_print(struct sbuf *b, const struct sdp_session *s)
{
	if (!b || !s)
		return EINVAL;
	if (!session_ok(s))
		return EINVAL;

	sbuf_adds(b, "v=0\r\n");
	sbuf_adds(b, "o=");
	sbuf_addpl(b, s->origin.user);
	sbuf_printf(b, " %" PRIu64 " %" PRIu64 " IN %s ", s->origin.sess_id,
		    s->origin.sess_version, af_name(s->origin.af));
	sbuf_addpl(b, s->origin.addr);
	sbuf_adds(b, "\r\n");
	/* RFC 8866 5.3: "s=-" when a session has no meaningful name. */
	line_pl(b, "s=", s->name.l ? s->name : PL("-"));
	opt_line(b, "i=", s->info);
	opt_line(b, "u=", s->uri);
	for (size_t i = 0; i < s->nemails; i++)
		opt_line(b, "e=", s->emails[i]);
	for (size_t i = 0; i < s->nphones; i++)
		opt_line(b, "p=", s->phones[i]);
	print_conn(b, &s->conn);
	print_bw(b, s->bw, s->nbw);
	if (s->ntimes == 0)
		sbuf_adds(b, "t=0 0\r\n");
	for (size_t i = 0; i < s->ntimes; i++) {
		const struct sdp_time *t = &s->times[i];
		sbuf_printf(b, "t=%" PRIu64 " %" PRIu64 "\r\n", t->start, t->stop);
		for (size_t j = 0; j < t->nrepeat; j++)
			opt_line(b, "r=", t->repeat[j]);
	}
	opt_line(b, "z=", s->zone);
	opt_line(b, "k=", s->key);
	print_attrs(b, s->attrs, s->nattrs);
	print_dir(b, s->dir);
	for (size_t i = 0; i < s->nmedia; i++)
		print_media(b, &s->media[i]);
	return b->err;
}
