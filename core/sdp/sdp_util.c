/*
 * SDP helpers that are neither parsing nor printing: ownership (the walk
 * over every slice, deep copy, drafts, free), address and token checks,
 * directions and hold, and format lookups with RFC 3551's static payload
 * types. Kept apart so parse, print, anchor and answer share one notion
 * of what a valid address or token is.
 */
#include "sdp_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* --- characters and addresses ------------------------------------------ */

bool sdp_is_token_char(unsigned char c)
{
	if (c <= 0x20 || c >= 0x7f)
		return false;
	return !strchr("\"(),/:;<=>?@[\\]", c);
}

bool sdp_is_token(struct pl s)
{
	if (!s.p || !s.l)
		return false;
	for (size_t i = 0; i < s.l; i++)
		if (!sdp_is_token_char((unsigned char)s.p[i]))
			return false;
	return true;
}

bool sdp_is_nonws(struct pl s)
{
	if (!s.p || !s.l)
		return false;
	for (size_t i = 0; i < s.l; i++) {
		unsigned char c = (unsigned char)s.p[i];
		if (c <= 0x20 || c == 0x7f)
			return false;
	}
	return true;
}

static bool all_of(struct pl s, const char *set)
{
	for (size_t i = 0; i < s.l; i++)
		if (!strchr(set, s.p[i]))
			return false;
	return true;
}

/* Host names as RFC 8866 allows in c= and o= (a FQDN); '_' is tolerated
 * because some phones put their own host name there. */
static bool hostname_ok(struct pl s)
{
	if (s.l == 0 || s.l > 253)
		return false;
	return all_of(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		      "0123456789.-_");
}

static bool literal_ok(int family, struct pl s)
{
	char buf[64];
	unsigned char bin[16];
	if (s.l >= sizeof(buf))
		return false;
	memcpy(buf, s.p, s.l);
	buf[s.l] = '\0';
	return inet_pton(family, buf, bin) == 1;
}

static bool number_ok(struct pl s, uint64_t max)
{
	uint64_t v;
	return pl_u64(s, max, &v) == 0;
}

bool sdp_addr_ok(enum sdp_af af, struct pl a)
{
	if (!a.p || a.l == 0)
		return false;
	if (memchr(a.p, ':', a.l))
		return af == SDP_IP6 && literal_ok(AF_INET6, a);
	if (all_of(a, "0123456789."))
		return af == SDP_IP4 && literal_ok(AF_INET, a);
	return hostname_ok(a);
}

bool sdp_mcast_ok(enum sdp_af af, struct pl m)
{
	const char *s2 = m.p ? memchr(m.p, '/', m.l) : NULL;
	struct pl n1 = m, n2 = PL_NULL;
	if (s2) {
		n1.l = (size_t)(s2 - m.p);
		n2 = (struct pl){ s2 + 1, m.l - n1.l - 1 };
	}
	/* IP4: ttl (0..255) and an optional count; IP6: a count. */
	if (af == SDP_IP4)
		return number_ok(n1, 255) && (!n2.p || number_ok(n2, 65535));
	return af == SDP_IP6 && !n2.p && number_ok(n1, 65535);
}

bool sdp_addr_split(enum sdp_af af, struct pl s, bool allow_mcast,
		    struct pl *addr, struct pl *mcast)
{
	const char *slash = s.p ? memchr(s.p, '/', s.l) : NULL;
	struct pl a = s, m = PL_NULL;
	if (slash) {
		a.l = (size_t)(slash - s.p);
		m.p = slash + 1;
		m.l = s.l - a.l - 1;
	}
	if (!sdp_addr_ok(af, a) || (m.p && (!allow_mcast || !sdp_mcast_ok(af, m))))
		return false;
	*addr = a;
	*mcast = m;
	return true;
}

/* proto = token *("/" token) */
bool sdp_proto_ok(struct pl proto)
{
	if (!proto.p || !proto.l)
		return false;
	size_t start = 0;
	for (size_t i = 0; i <= proto.l; i++) {
		if (i < proto.l && proto.p[i] != '/')
			continue;
		if (!sdp_is_token((struct pl){ proto.p + start, i - start }))
			return false;
		start = i + 1;
	}
	return true;
}

enum sdp_af sdp_addr_af(struct pl addr)
{
	return addr.p && memchr(addr.p, ':', addr.l) ? SDP_IP6 : SDP_IP4;
}

/* --- walking, copying, freeing ----------------------------------------- */

static void visit_conn(struct sdp_conn *c, sdp_pl_h *fn, void *arg)
{
	fn(&c->addr, arg);
	fn(&c->mcast, arg);
}

static void visit_media(struct sdp_media *m, sdp_pl_h *fn, void *arg)
{
	fn(&m->type, arg);
	fn(&m->proto, arg);
	for (size_t i = 0; i < m->nfmts; i++) {
		fn(&m->fmts[i].id, arg);
		fn(&m->fmts[i].enc, arg);
		fn(&m->fmts[i].fmtp, arg);
	}
	fn(&m->info, arg);
	visit_conn(&m->conn, fn, arg);
	for (size_t i = 0; i < m->nbw; i++)
		fn(&m->bw[i].type, arg);
	fn(&m->key, arg);
	visit_conn(&m->rtcp_conn, fn, arg);
	for (size_t i = 0; i < m->ncrypto; i++) {
		fn(&m->crypto[i].suite, arg);
		fn(&m->crypto[i].key_params, arg);
		fn(&m->crypto[i].sess_params, arg);
	}
	for (size_t i = 0; i < m->nattrs; i++) {
		fn(&m->attrs[i].name, arg);
		fn(&m->attrs[i].value, arg);
	}
}

/* Every slice field must be listed here: a missing one would dangle after
 * sdp_clone's source is freed (the unit tests free sources early so ASan
 * would catch it). */
void sdp_visit(struct sdp_session *s, sdp_pl_h *fn, void *arg)
{
	fn(&s->origin.user, arg);
	fn(&s->origin.addr, arg);
	fn(&s->name, arg);
	fn(&s->info, arg);
	fn(&s->uri, arg);
	for (size_t i = 0; i < s->nemails; i++)
		fn(&s->emails[i], arg);
	for (size_t i = 0; i < s->nphones; i++)
		fn(&s->phones[i], arg);
	visit_conn(&s->conn, fn, arg);
	for (size_t i = 0; i < s->nbw; i++)
		fn(&s->bw[i].type, arg);
	for (size_t i = 0; i < s->ntimes; i++)
		for (size_t j = 0; j < s->times[i].nrepeat; j++)
			fn(&s->times[i].repeat[j], arg);
	fn(&s->zone, arg);
	fn(&s->key, arg);
	for (size_t i = 0; i < s->nattrs; i++) {
		fn(&s->attrs[i].name, arg);
		fn(&s->attrs[i].value, arg);
	}
	for (size_t i = 0; i < s->nmedia; i++)
		visit_media(&s->media[i], fn, arg);
}

static void count_pl(struct pl *pl, void *arg)
{
	if (pl->p)
		*(size_t *)arg += pl->l;
}

struct copy_ctx {
	char *at;
};

static void copy_pl(struct pl *pl, void *arg)
{
	struct copy_ctx *c = arg;
	if (!pl->p)
		return; /* unset stays unset; set-but-empty stays set */
	if (pl->l)
		memcpy(c->at, pl->p, pl->l);
	pl->p = c->at;
	c->at += pl->l;
}

int sdp_own(struct sdp_session *s)
{
	size_t total = 0;
	sdp_visit(s, count_pl, &total);
	char *mem = malloc(total + 1);
	if (!mem)
		return ENOMEM;
	struct copy_ctx c = { mem };
	sdp_visit(s, copy_pl, &c);
	*c.at = '\0';
	s->mem = mem;
	return 0;
}

int sdp_clone(struct sdp_session **out, const struct sdp_session *in)
{
	if (!out || !in)
		return EINVAL;
	struct sdp_session *d = sdp_draft(in);
	return sdp_draft_finish(out, d, d ? 0 : ENOMEM);
}

struct sdp_session *sdp_draft(const struct sdp_session *in)
{
	struct sdp_session *d = in ? malloc(sizeof(*d)) : calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	if (in)
		*d = *in;
	d->mem = NULL; /* borrowing until sdp_draft_finish */
	return d;
}

int sdp_draft_finish(struct sdp_session **out, struct sdp_session *d, int err)
{
	if (!d)
		return err ? err : ENOMEM;
	if (!err)
		err = sdp_own(d);
	if (err) {
		free(d);
		return err;
	}
	*out = d;
	return 0;
}

void sdp_free(struct sdp_session *s)
{
	if (!s)
		return;
	free(s->mem);
	free(s);
}

/* --- directions and hold ----------------------------------------------- */

enum sdp_dir sdp_direction_of(const struct sdp_session *s, const struct sdp_media *m)
{
	if (m && m->dir != SDP_DIR_UNSET)
		return m->dir;
	if (s && s->dir != SDP_DIR_UNSET)
		return s->dir;
	return SDP_SENDRECV;
}

const char *sdp_dir_name(enum sdp_dir d)
{
	switch (d) {
	case SDP_INACTIVE: return "inactive";
	case SDP_SENDONLY: return "sendonly";
	case SDP_RECVONLY: return "recvonly";
	case SDP_SENDRECV: return "sendrecv";
	default: return NULL;
	}
}

enum sdp_dir sdp_dir_parse(struct pl name)
{
	for (enum sdp_dir d = SDP_INACTIVE; d <= SDP_SENDRECV; d++)
		if (pl_casestr(name, sdp_dir_name(d)))
			return d;
	return SDP_DIR_UNSET;
}

enum sdp_dir sdp_dir_reverse(enum sdp_dir d)
{
	switch (d) {
	case SDP_SENDONLY: return SDP_RECVONLY;
	case SDP_RECVONLY: return SDP_SENDONLY;
	default: return d;
	}
}

const struct sdp_conn *sdp_media_conn(const struct sdp_session *s, const struct sdp_media *m)
{
	if (m && m->conn.af != SDP_AF_NONE)
		return &m->conn;
	if (s && s->conn.af != SDP_AF_NONE)
		return &s->conn;
	return NULL;
}

bool sdp_conn_is_null(const struct sdp_conn *c)
{
	if (!c)
		return false;
	if (c->af == SDP_IP4)
		return pl_casestr(c->addr, "0.0.0.0");
	if (c->af == SDP_IP6)
		return c->addr.l <= 45 && literal_ok(AF_INET6, c->addr) &&
		       all_of(c->addr, ":0");
	return false;
}

bool sdp_media_held(const struct sdp_session *s, const struct sdp_media *m)
{
	if (!m || m->port == 0)
		return false;
	enum sdp_dir d = sdp_direction_of(s, m);
	return d == SDP_SENDONLY || d == SDP_INACTIVE ||
	       sdp_conn_is_null(sdp_media_conn(s, m));
}

bool sdp_held(const struct sdp_session *s)
{
	size_t active = 0;
	for (size_t i = 0; s && i < s->nmedia; i++) {
		if (s->media[i].port == 0)
			continue;
		active++;
		if (!sdp_media_held(s, &s->media[i]))
			return false;
	}
	return active > 0;
}

/* --- formats ----------------------------------------------------------- */

const struct sdp_fmt *sdp_fmt_find(const struct sdp_media *m, struct pl id)
{
	for (size_t i = 0; m && i < m->nfmts; i++)
		if (pl_eq(m->fmts[i].id, id))
			return &m->fmts[i];
	return NULL;
}

/* RFC 3551 table 4 and 5: payload types a peer may use without rtpmap. */
static const struct {
	uint8_t pt;
	uint8_t channels;
	uint32_t clock;
	const char *name;
} static_pts[] = {
	{ 0, 1, 8000, "PCMU" },   { 3, 1, 8000, "GSM" },
	{ 4, 1, 8000, "G723" },   { 5, 1, 8000, "DVI4" },
	{ 6, 1, 16000, "DVI4" },  { 7, 1, 8000, "LPC" },
	{ 8, 1, 8000, "PCMA" },   { 9, 1, 8000, "G722" },
	{ 10, 2, 44100, "L16" },  { 11, 1, 44100, "L16" },
	{ 12, 1, 8000, "QCELP" }, { 13, 1, 8000, "CN" },
	{ 14, 0, 90000, "MPA" },  { 15, 1, 8000, "G728" },
	{ 16, 1, 11025, "DVI4" }, { 17, 1, 22050, "DVI4" },
	{ 18, 1, 8000, "G729" },  { 25, 0, 90000, "CelB" },
	{ 26, 0, 90000, "JPEG" }, { 28, 0, 90000, "nv" },
	{ 31, 0, 90000, "H261" }, { 32, 0, 90000, "MPV" },
	{ 33, 0, 90000, "MP2T" }, { 34, 0, 90000, "H263" },
};

int sdp_fmt_codec(const struct sdp_fmt *f, struct pl *enc, uint32_t *clock,
		  uint8_t *channels)
{
	if (!f)
		return ENOENT;
	if (f->enc.p) {
		*enc = f->enc;
		*clock = f->clock;
		*channels = f->channels;
		return 0;
	}
	for (size_t i = 0; f->pt >= 0 && i < sizeof(static_pts) / sizeof(static_pts[0]); i++) {
		if (static_pts[i].pt == f->pt) {
			*enc = pl_from(static_pts[i].name);
			*clock = static_pts[i].clock;
			*channels = static_pts[i].channels;
			return 0;
		}
	}
	return ENOENT;
}

static bool pl_contains(struct pl s, const char *needle)
{
	size_t n = strlen(needle);
	for (size_t i = 0; s.p && i + n <= s.l; i++)
		if (strncasecmp(s.p + i, needle, n) == 0)
			return true;
	return false;
}

bool sdp_proto_is_rtp(struct pl proto)
{
	return pl_contains(proto, "RTP/");
}

bool sdp_proto_is_secure(struct pl proto)
{
	return pl_contains(proto, "RTP/SAVP");
}
