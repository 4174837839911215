/*
 * Value parsers for SIP header fields (RFC 3261 sections 19.1 and 25):
 * SIP/SIPS/tel and other URIs, name-addr/addr-spec with header
 * parameters, Via values, parameter lookup, URI comparison (19.1.4) and
 * %-unescaping. They work on any slice, never copy and never write, so the
 * parser calls them on its private buffer and others on whatever they hold.
 * Validation follows the ABNF where getting it wrong would change meaning
 * (what is user, host, parameter) and is lenient elsewhere (RFC 4475).
 */
#include "msg_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <strings.h>

/* --- small scanners ----------------------------------------------------- */

size_t msg_quoted_end(struct pl s, size_t i)
{
	for (i++; i < s.l; i++) {
		if (s.p[i] == '\\') {
			i++; /* quoted-pair: the next octet, whatever it is */
			continue;
		}
		if (s.p[i] == '"')
			return i + 1;
	}
	return 0;
}

/* Next ';'-separated element of a parameter list at *pos, trimmed;
 * ';' inside a quoted string does not separate. False at the end. */
static bool next_param(struct pl params, size_t *pos, struct pl *out)
{
	size_t i = *pos;
	if (i > params.l || !params.p)
		return false;
	size_t start = i;
	while (i < params.l && params.p[i] != ';') {
		if (params.p[i] == '"') {
			size_t e = msg_quoted_end(params, i);
			i = e ? e : params.l;
			continue;
		}
		i++;
	}
	*out = pl_trim(pl_sub(params, start, i));
	*pos = i + 1;
	return true;
}

/* Splits one parameter into name and (possibly empty) value. Returns
 * false when it is not "token [SWS = SWS value]". */
static bool split_param(struct pl p, struct pl *name, struct pl *value, bool *has_value)
{
	size_t i = 0;
	while (i < p.l && cc_token((unsigned char)p.p[i]))
		i++;
	if (i == 0)
		return false;
	*name = pl_sub(p, 0, i);
	while (i < p.l && cc_wsp((unsigned char)p.p[i]))
		i++;
	*has_value = false;
	*value = (struct pl){ p.p + p.l, 0 };
	if (i == p.l)
		return true;
	if (p.p[i] != '=')
		return false;
	*has_value = true;
	*value = pl_trim(pl_sub(p, i + 1, p.l));
	return true;
}

bool msg_params_valid(struct pl params)
{
	size_t pos = 0;
	struct pl p, name, value;
	bool has_value;
	while (next_param(params, &pos, &p)) {
		if (!split_param(p, &name, &value, &has_value))
			return false;
		if (!has_value)
			continue;
		if (value.l == 0)
			return false;
		if (value.p[0] == '"') {
			if (msg_quoted_end(value, 0) != value.l)
				return false;
			continue;
		}
		for (size_t i = 0; i < value.l; i++)
			if (!cc_genvalue((unsigned char)value.p[i]))
				return false;
	}
	return true;
}

bool sip_param_get(struct pl params, const char *name, struct pl *value)
{
	if (!name || !params.p)
		return false;
	struct pl want = pl_from(name);
	size_t pos = 0;
	struct pl p, n, v;
	bool has_value;
	while (next_param(params, &pos, &p)) {
		if (!split_param(p, &n, &v, &has_value) || !pl_caseeq(n, want))
			continue;
		if (value)
			*value = v;
		return true;
	}
	return false;
}

/* Checks that every octet of s is allowed by ok() or is a %HEX HEX escape. */
static bool escaped_run(struct pl s, bool (*ok)(unsigned char))
{
	for (size_t i = 0; i < s.l; i++) {
		unsigned char c = (unsigned char)s.p[i];
		if (c == '%') {
			if (i + 2 >= s.l || cc_hexval((unsigned char)s.p[i + 1]) < 0 ||
			    cc_hexval((unsigned char)s.p[i + 2]) < 0)
				return false;
			i += 2;
			continue;
		}
		if (!ok(c))
			return false;
	}
	return true;
}

static bool cc_param_or_eq(unsigned char c)
{
	return cc_paramchar(c) || c == '=';
}

static bool cc_header_or_sep(unsigned char c)
{
	return cc_hnv(c) || c == '=' || c == '&';
}

static bool cc_uric(unsigned char c)
{
	/* RFC 2396 uric, plus brackets for IPv6 hosts and '#' fragments. */
	return cc_reserved(c) || cc_unreserved(c) || c == '[' || c == ']' || c == '#';
}

static bool cc_telchar(unsigned char c)
{
	return cc_alnum(c) || c == '+' || c == '-' || c == '.' || c == '(' || c == ')' ||
	       c == '*' || c == '#';
}

/* Every ';'-separated uri-parameter needs a name (pname = 1*paramchar),
 * optionally followed by "=" pvalue. */
static bool uri_params_valid(struct pl params)
{
	size_t start = 0;
	for (size_t i = 0; i <= params.l; i++) {
		if (i < params.l && params.p[i] != ';')
			continue;
		struct pl p = pl_sub(params, start, i);
		if (!p.l || p.p[0] == '=' || !escaped_run(p, cc_param_or_eq))
			return false;
		start = i + 1;
	}
	return true;
}

/* host [":" port] where host is a hostname, IPv4 address or [IPv6]. Sets
 * *used to the octets consumed; what follows is the caller's business. */
static int parse_hostport(struct pl s, bool allow_sws, struct pl *host, uint16_t *port,
			  bool *ipv6, size_t *used)
{
	size_t i = 0;
	*ipv6 = false;
	*port = 0;
	if (i < s.l && s.p[i] == '[') {
		const char *close = memchr(s.p, ']', s.l);
		if (!close || close == s.p + 1)
			return EINVAL;
		size_t n = (size_t)(close - s.p) - 1;
		bool colon = false;
		for (size_t k = 1; k <= n; k++) {
			if (!cc_ipv6((unsigned char)s.p[k]))
				return EINVAL;
			colon |= s.p[k] == ':';
		}
		if (!colon || n > 45)
			return EINVAL;
		*host = pl_sub(s, 1, n + 1);
		*ipv6 = true;
		i = n + 2;
	} else {
		while (i < s.l && cc_host((unsigned char)s.p[i]))
			i++;
		if (i == 0)
			return EINVAL;
		*host = pl_sub(s, 0, i);
	}
	size_t j = i;
	if (allow_sws)
		while (j < s.l && cc_wsp((unsigned char)s.p[j]))
			j++;
	if (j < s.l && s.p[j] == ':') {
		j++;
		if (allow_sws)
			while (j < s.l && cc_wsp((unsigned char)s.p[j]))
				j++;
		uint32_t v = 0;
		size_t d = j;
		while (j < s.l && cc_digit((unsigned char)s.p[j]) && j - d < 6)
			v = v * 10 + (uint32_t)(s.p[j++] - '0');
		if (j == d || v == 0 || v > 65535 || (j < s.l && cc_digit((unsigned char)s.p[j])))
			return EINVAL;
		*port = (uint16_t)v;
		i = j;
	}
	*used = i;
	return 0;
}

/* --- URIs --------------------------------------------------------------- */

static int parse_sip_uri(struct sip_uri *u, struct pl r)
{
	const char *at = memchr(r.p, '@', r.l);
	size_t i = 0;
	if (at) {
		struct pl ui = pl_sub(r, 0, (size_t)(at - r.p));
		const char *colon = memchr(ui.p, ':', ui.l);
		u->user = colon ? pl_sub(ui, 0, (size_t)(colon - ui.p)) : ui;
		if (colon)
			u->password = pl_sub(ui, (size_t)(colon - ui.p) + 1, ui.l);
		if (!u->user.l || !escaped_run(u->user, cc_user) ||
		    (colon && !escaped_run(u->password, cc_password)))
			return EINVAL;
		i = ui.l + 1;
	}
	struct pl hp = pl_sub(r, i, r.l);
	size_t used;
	if (parse_hostport(hp, false, &u->host, &u->port, &u->ipv6, &used))
		return EINVAL;
	i += used;
	if (i < r.l && r.p[i] == ';') {
		const char *q = memchr(r.p + i, '?', r.l - i);
		size_t e = q ? (size_t)(q - r.p) : r.l;
		u->params = pl_sub(r, i + 1, e);
		if (!uri_params_valid(u->params))
			return EINVAL;
		i = e;
	}
	if (i < r.l && r.p[i] == '?') {
		u->headers = pl_sub(r, i + 1, r.l);
		if (!u->headers.l || !escaped_run(u->headers, cc_header_or_sep))
			return EINVAL;
		i = r.l;
	}
	return i == r.l ? 0 : EINVAL;
}

static int parse_tel_uri(struct sip_uri *u, struct pl r)
{
	const char *semi = memchr(r.p, ';', r.l);
	u->user = semi ? pl_sub(r, 0, (size_t)(semi - r.p)) : r;
	if (!u->user.l || !escaped_run(u->user, cc_telchar))
		return EINVAL;
	if (semi) {
		u->params = pl_sub(r, u->user.l + 1, r.l);
		if (!uri_params_valid(u->params))
			return EINVAL;
	}
	return 0;
}

int sip_uri_parse(struct sip_uri *u, struct pl s)
{
	if (!u)
		return EINVAL;
	memset(u, 0, sizeof(*u));
	if (!s.p || !s.l || !cc_alpha((unsigned char)s.p[0]))
		return EINVAL;
	size_t i = 1;
	while (i < s.l && (cc_alnum((unsigned char)s.p[i]) || s.p[i] == '+' || s.p[i] == '-' ||
			   s.p[i] == '.'))
		i++;
	if (i == s.l || s.p[i] != ':')
		return EINVAL;
	u->scheme = pl_sub(s, 0, i);
	struct pl rest = pl_sub(s, i + 1, s.l);
	int err;
	if (!rest.l)
		err = EINVAL;
	else if (pl_casestr(u->scheme, "sip") || pl_casestr(u->scheme, "sips"))
		err = parse_sip_uri(u, rest);
	else if (pl_casestr(u->scheme, "tel"))
		err = parse_tel_uri(u, rest);
	else
		err = escaped_run(rest, cc_uric) ? 0 : EINVAL;
	if (err) {
		memset(u, 0, sizeof(*u));
		return err;
	}
	if (!u->host.p && !u->user.p)
		u->opaque = rest;
	return 0;
}

/* --- name-addr / addr-spec ---------------------------------------------- */

int sip_addr_parse(struct sip_addr *a, struct pl s)
{
	if (!a)
		return EINVAL;
	memset(a, 0, sizeof(*a));
	s = pl_trim(s);
	if (!s.p || !s.l)
		return EINVAL;
	if (s.l == 1 && s.p[0] == '*') {
		a->star = true;
		return 0;
	}
	size_t i = 0;
	bool angle = false;
	if (s.p[0] == '"') {
		size_t e = msg_quoted_end(s, 0);
		if (!e)
			return EINVAL; /* unterminated display name (quotbal) */
		a->dname = pl_sub(s, 1, e - 1);
		i = e;
		while (i < s.l && cc_wsp((unsigned char)s.p[i]))
			i++;
		if (i == s.l || s.p[i] != '<')
			return EINVAL;
		angle = true;
	} else {
		/* display-name = *(token LWS): stop at the first other octet. */
		while (i < s.l && (cc_token((unsigned char)s.p[i]) || cc_wsp((unsigned char)s.p[i])))
			i++;
		if (i < s.l && s.p[i] == '<') {
			a->dname = pl_trim(pl_sub(s, 0, i));
			if (!a->dname.l)
				a->dname = PL_NULL;
			angle = true;
		} else {
			i = 0;
		}
	}
	if (angle) {
		const char *gt = memchr(s.p + i, '>', s.l - i);
		if (!gt)
			return EINVAL;
		a->uri_raw = pl_sub(s, i + 1, (size_t)(gt - s.p));
		i = (size_t)(gt - s.p) + 1;
	} else {
		/* addr-spec form: header parameters begin at the first ';'
		 * (RFC 3261 20.10), so the URI cannot have any, nor headers. */
		size_t e = 0;
		while (e < s.l && s.p[e] != ';' && !cc_wsp((unsigned char)s.p[e]))
			e++;
		a->uri_raw = pl_sub(s, 0, e);
		if (memchr(a->uri_raw.p, '?', a->uri_raw.l) || memchr(a->uri_raw.p, ',', a->uri_raw.l))
			return EINVAL;
		i = e;
	}
	/* No LWS inside <> (badaspec): sip_uri_parse refuses spaces. */
	if (sip_uri_parse(&a->uri, a->uri_raw))
		return EINVAL;
	while (i < s.l && cc_wsp((unsigned char)s.p[i]))
		i++;
	if (i < s.l) {
		if (s.p[i] != ';')
			return EINVAL;
		a->params = pl_trim(pl_sub(s, i + 1, s.l));
		if (!msg_params_valid(a->params))
			return EINVAL;
		struct pl tag;
		if (sip_param_get(a->params, "tag", &tag))
			a->tag = tag;
	}
	return 0;
}

/* --- Via ---------------------------------------------------------------- */

static size_t skip_wsp(struct pl s, size_t i)
{
	while (i < s.l && cc_wsp((unsigned char)s.p[i]))
		i++;
	return i;
}

static size_t skip_token(struct pl s, size_t i)
{
	while (i < s.l && cc_token((unsigned char)s.p[i]))
		i++;
	return i;
}

int msg_via_parse(struct sip_via *v, struct pl s, bool *params_ok)
{
	memset(v, 0, sizeof(*v));
	*params_ok = true;
	s = pl_trim(s);
	if (!s.p)
		return EINVAL;
	/* sent-protocol = name SLASH version SLASH transport, SLASH = SWS "/" SWS */
	size_t i = skip_token(s, 0);
	if (i == 0)
		return EINVAL;
	i = skip_wsp(s, i);
	if (i == s.l || s.p[i] != '/')
		return EINVAL;
	size_t vs = skip_wsp(s, i + 1);
	size_t ve = skip_token(s, vs);
	if (ve == vs)
		return EINVAL;
	v->proto = pl_sub(s, 0, ve);
	i = skip_wsp(s, ve);
	if (i == s.l || s.p[i] != '/')
		return EINVAL;
	size_t ts = skip_wsp(s, i + 1);
	size_t te = skip_token(s, ts);
	if (te == ts)
		return EINVAL;
	v->transport = pl_sub(s, ts, te);
	i = skip_wsp(s, te);
	if (i == te)
		return EINVAL; /* LWS before sent-by is required */
	size_t used;
	if (parse_hostport(pl_sub(s, i, s.l), true, &v->host, &v->port, &v->ipv6, &used))
		return EINVAL;
	i = skip_wsp(s, i + used);
	if (i == s.l)
		return 0;
	if (s.p[i] != ';')
		return EINVAL;
	v->params = pl_trim(pl_sub(s, i + 1, s.l));
	*params_ok = msg_params_valid(v->params);
	sip_param_get(v->params, "branch", &v->branch);
	if (sip_param_get(v->params, "received", &v->received) && v->received.l >= 2 &&
	    v->received.p[0] == '[' && v->received.p[v->received.l - 1] == ']')
		v->received = pl_sub(v->received, 1, v->received.l - 1);
	v->rport = sip_param_get(v->params, "rport", &v->rport_val);
	return 0;
}

int sip_via_parse(struct sip_via *v, struct pl s)
{
	if (!v)
		return EINVAL;
	bool params_ok;
	int err = msg_via_parse(v, s, &params_ok);
	if (!err && !params_ok)
		err = EINVAL;
	if (err)
		memset(v, 0, sizeof(*v));
	return err;
}

/* --- unescaping and comparison ------------------------------------------ */

int sip_unescape(struct pl s, char *dst, size_t cap)
{
	if (!dst || !cap)
		return -1;
	size_t n = 0;
	for (size_t i = 0; i < s.l; i++) {
		unsigned char c = (unsigned char)s.p[i];
		if (c == '%') {
			if (i + 2 >= s.l || cc_hexval((unsigned char)s.p[i + 1]) < 0 ||
			    cc_hexval((unsigned char)s.p[i + 2]) < 0)
				return -1;
			c = (unsigned char)(cc_hexval((unsigned char)s.p[i + 1]) * 16 +
					    cc_hexval((unsigned char)s.p[i + 2]));
			i += 2;
		}
		if (n + 1 >= cap || n >= (size_t)INT32_MAX)
			return -1;
		dst[n++] = (char)c;
	}
	dst[n] = '\0';
	return (int)n;
}

/* Reads one character of a URI component at *i. An escaped reserved
 * character stays distinct from the literal one (19.1.4: only characters
 * outside the reserved set equal their %HEX HEX form), so it is returned
 * offset by 256. */
static int uri_char(struct pl s, size_t *i)
{
	unsigned char c = (unsigned char)s.p[*i];
	if (c == '%' && *i + 2 < s.l && cc_hexval((unsigned char)s.p[*i + 1]) >= 0 && cc_hexval((unsigned char)s.p[*i + 2]) >= 0) {
		c = (unsigned char)(cc_hexval((unsigned char)s.p[*i + 1]) * 16 +
				    cc_hexval((unsigned char)s.p[*i + 2]));
		*i += 3;
		return cc_reserved(c) ? 256 + c : c;
	}
	*i += 1;
	return c;
}

static int lower(int c)
{
	int base = c & 0xff;
	return (c & 0x100) | ((base >= 'A' && base <= 'Z') ? base + 32 : base);
}

static bool uri_part_eq(struct pl a, struct pl b, bool nocase)
{
	size_t i = 0, j = 0;
	while (i < a.l && j < b.l) {
		int x = uri_char(a, &i), y = uri_char(b, &j);
		if (nocase) {
			x = lower(x);
			y = lower(y);
		}
		if (x != y)
			return false;
	}
	return i == a.l && j == b.l;
}

/* Finds parameter `name` (compared unescaped, caseless) in a ';' list. */
static bool uri_param_find(struct pl params, struct pl name, struct pl *value)
{
	size_t start = 0;
	for (size_t k = 0; params.p && k <= params.l; k++) {
		if (k < params.l && params.p[k] != ';')
			continue;
		struct pl p = pl_sub(params, start, k);
		start = k + 1;
		const char *eq = memchr(p.p, '=', p.l);
		struct pl n = eq ? pl_sub(p, 0, (size_t)(eq - p.p)) : p;
		if (!uri_part_eq(n, name, true))
			continue;
		*value = eq ? pl_sub(p, (size_t)(eq - p.p) + 1, p.l) : (struct pl){ p.p + p.l, 0 };
		return true;
	}
	return false;
}

/* 19.1.4: user, ttl, method, maddr and transport must appear in both or
 * neither; any other parameter only has to agree when both have it. */
static bool uri_params_eq(struct pl a, struct pl b, bool reverse_pass)
{
	static const char *const must[] = { "user", "ttl", "method", "maddr", "transport" };
	size_t start = 0;
	for (size_t k = 0; a.p && k <= a.l; k++) {
		if (k < a.l && a.p[k] != ';')
			continue;
		struct pl p = pl_sub(a, start, k);
		start = k + 1;
		const char *eq = memchr(p.p, '=', p.l);
		struct pl n = eq ? pl_sub(p, 0, (size_t)(eq - p.p)) : p;
		struct pl va = eq ? pl_sub(p, (size_t)(eq - p.p) + 1, p.l) : (struct pl){ p.p, 0 };
		struct pl vb;
		/* A repeated name counts once, by its first value, as with
		 * sip_param_get; otherwise a URI could differ from itself. */
		if (uri_param_find(pl_sub(a, 0, (size_t)(p.p - a.p)), n, &vb))
			continue;
		if (uri_param_find(b, n, &vb)) {
			if (!reverse_pass && !uri_part_eq(va, vb, true))
				return false;
			continue;
		}
		for (size_t m = 0; m < sizeof(must) / sizeof(must[0]); m++)
			if (uri_part_eq(n, pl_from(must[m]), true))
				return false;
	}
	return true;
}

/* Every header of a must be in b with the same value, and the other way. */
static bool uri_headers_subset(struct pl a, struct pl b)
{
	size_t start = 0;
	for (size_t k = 0; a.p && k <= a.l; k++) {
		if (k < a.l && a.p[k] != '&')
			continue;
		struct pl h = pl_sub(a, start, k);
		start = k + 1;
		const char *eq = memchr(h.p, '=', h.l);
		struct pl n = eq ? pl_sub(h, 0, (size_t)(eq - h.p)) : h;
		struct pl v = eq ? pl_sub(h, (size_t)(eq - h.p) + 1, h.l) : (struct pl){ h.p, 0 };
		bool found = false;
		size_t s2 = 0;
		for (size_t j = 0; b.p && j <= b.l && !found; j++) {
			if (j < b.l && b.p[j] != '&')
				continue;
			struct pl hb = pl_sub(b, s2, j);
			s2 = j + 1;
			const char *eb = memchr(hb.p, '=', hb.l);
			struct pl nb = eb ? pl_sub(hb, 0, (size_t)(eb - hb.p)) : hb;
			struct pl vb = eb ? pl_sub(hb, (size_t)(eb - hb.p) + 1, hb.l)
					  : (struct pl){ hb.p, 0 };
			found = uri_part_eq(n, nb, true) && uri_part_eq(v, vb, false);
		}
		if (!found)
			return false;
	}
	return true;
}

static bool host_eq(const struct sip_uri *a, const struct sip_uri *b)
{
	if (a->ipv6 != b->ipv6)
		return false;
	if (pl_caseeq(a->host, b->host))
		return true;
	if (!a->ipv6 || a->host.l >= 64 || b->host.l >= 64)
		return false;
	/* Two spellings of one IPv6 address ("::1" and "0:0::1"). */
	char x[64], y[64];
	unsigned char ax[16], bx[16];
	pl_strcpy(a->host, x, sizeof(x));
	pl_strcpy(b->host, y, sizeof(y));
	return inet_pton(AF_INET6, x, ax) == 1 && inet_pton(AF_INET6, y, bx) == 1 &&
	       memcmp(ax, bx, 16) == 0;
}

bool sip_uri_equal(const struct sip_uri *a, const struct sip_uri *b)
{
	if (!a || !b || !a->scheme.p || !pl_caseeq(a->scheme, b->scheme))
		return false;
	bool sip = pl_casestr(a->scheme, "sip") || pl_casestr(a->scheme, "sips");
	if (!sip) {
		/* tel: and others: exact, parameters caseless. */
		return pl_eq(a->opaque, b->opaque) && pl_eq(a->user, b->user) &&
		       uri_part_eq(a->params, b->params, true);
	}
	if (pl_isset(a->user) != pl_isset(b->user) || !uri_part_eq(a->user, b->user, false) ||
	    pl_isset(a->password) != pl_isset(b->password) ||
	    !uri_part_eq(a->password, b->password, false))
		return false;
	if (!host_eq(a, b) || a->port != b->port)
		return false;
	if (!uri_params_eq(a->params, b->params, false) || !uri_params_eq(b->params, a->params, true))
		return false;
	return uri_headers_subset(a->headers, b->headers) &&
	       uri_headers_subset(b->headers, a->headers);
}
