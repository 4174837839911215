/*
 * Codec negotiation of the B2BUA (see call_nego.h for the rules). The
 * choices worth a word:
 *
 * - The offer to the callee lists what the caller offered before anything
 *   we would have to transcode, so a callee that has one of the caller's
 *   codecs picks it and the worker only relays (cheapest, and no loss).
 *   Among those the caller's order stands, unless the callee's extension
 *   has its own codec list (an admin's explicit preference for it); the
 *   system default's order (wideband first) only ranks the codecs added
 *   for transcoding. It used to rank the caller's codecs too: two phones
 *   with PCMU first and opus too then got opus offered first, the ringback
 *   had already answered the caller PCMU, and the call was transcoded.
 * - Codecs added for transcoding come after, in the callee's order; they
 *   are only offered when the caller has a codec we can decode (there is
 *   nothing to transcode from otherwise).
 * - telephone-event is offered even when the caller has none, when we can
 *   transcode: the worker then turns RFC 4733 events into in-band tones
 *   towards the caller, so DTMF keeps working across the two forms.
 * - Answering the caller before the callee does (ringback in a 183) fixes
 *   the caller's codec for the call (RFC 6337 3.1: the 2xx repeats that
 *   answer): the caller's first codec the callee may use, which under the
 *   system default is the first of our offer to the callee, so a callee
 *   that takes the first codec offered (baresip, most phones) is relayed.
 *   Towards an extension with its own list whose order differs from the
 *   caller's, such a callee is still transcoded (we cannot know which
 *   codec it will pick; the log says so).
 * - CN (RFC 3389) is dropped: the worker does not decode comfort noise,
 *   and a phone that gets no CN simply sends none.
 */
#include "call_nego.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "../base/codec_names.h"
#include "../media/media.h"

/* --- policies ---------------------------------------------------------------- */

static const struct codec_desc *codec_by_name(const char *s, size_t n)
{
	for (size_t i = 0; codec_at(i); i++) {
		const struct codec_desc *d = codec_at(i);
		if (strlen(d->name) == n && strncasecmp(d->name, s, n) == 0)
			return d;
	}
	return NULL;
}

int nego_codecs_parse(struct nego_policy *p, const char *list, char *why, size_t cap)
{
	/* the one codec list parser (core/base/codec_names.h), its message */
	size_t idx[CODEC_LIST_MAX], n;
	p->ncodecs = 0;
	int err = codec_list_parse(list, idx, &n, why, cap);
	if (err)
		return err;
	for (size_t i = 0; i < n; i++) {
		const char *name = codec_name_at(idx[i])->name;
		const struct codec_desc *d = codec_by_name(name, strlen(name));
		if (!d) { /* test_codec_names keeps the two tables equal */
			snprintf(why, cap, "codec '%s' has no descriptor", name);
			return EINVAL;
		}
		p->codecs[p->ncodecs++] = d;
	}
	return 0;
}

static const char *const srtp_names[] = { "off", "optional", "required" };

int nego_srtp_parse(const char *s, enum nego_srtp *out)
{
	for (size_t i = 0; i < 3; i++)
		if (s && strcasecmp(s, srtp_names[i]) == 0) {
			*out = (enum nego_srtp)i;
			return 0;
		}
	return EINVAL;
}

const char *nego_srtp_name(enum nego_srtp s)
{
	return (unsigned)s < 3 ? srtp_names[s] : "?";
}

void nego_policy_for(struct nego_policy *out, const char *codecs, const char *srtp,
		     const struct nego_policy *dflt)
{
	char why[128];
	*out = *dflt;
	if (codecs && *codecs) {
		struct nego_policy own;
		memset(&own, 0, sizeof(own));
		if (!nego_codecs_parse(&own, codecs, why, sizeof(why)) && own.ncodecs) {
			memcpy(out->codecs, own.codecs, sizeof(out->codecs));
			out->ncodecs = own.ncodecs;
			out->foreign = false;
			out->own = true;
		}
	}
	if (nego_srtp_parse(srtp, &out->srtp))
		out->srtp = NEGO_SRTP_OPTIONAL;
}

/* --- formats ----------------------------------------------------------------- */

struct fmt_info {
	struct pl enc;
	uint32_t clock;
	uint8_t ch;
	const struct codec_desc *codec;
	bool known;     /* the encoding could be resolved at all */
};

static void fmt_info(const struct sdp_fmt *f, struct fmt_info *fi)
{
	memset(fi, 0, sizeof(*fi));
	if (sdp_fmt_codec(f, &fi->enc, &fi->clock, &fi->ch))
		return;
	fi->known = true;
	fi->codec = codec_find(fi->enc, fi->clock);
}

static bool is_dtmf(const struct fmt_info *fi)
{
	return fi->known && pl_casestr(fi->enc, "telephone-event");
}

static bool is_aux(const struct fmt_info *fi)
{
	return is_dtmf(fi) || (fi->known && pl_casestr(fi->enc, "CN"));
}

/* Rank of a codec in a policy; -1 when not allowed. Foreign codecs rank
 * after every listed one. */
static int rank(const struct nego_policy *p, const struct codec_desc *d)
{
	if (!d)
		return p->foreign ? (int)NEGO_MAX_CODECS : -1;
	for (size_t i = 0; i < p->ncodecs; i++)
		if (p->codecs[i] == d)
			return (int)i;
	return -1;
}

static bool allowed(const struct nego_policy *p, const struct fmt_info *fi)
{
	return rank(p, fi->codec) >= 0;
}

/* Where an offered codec goes in our offer to `to`: its rank in to's own
 * list, or under the system default the offerer's order, codecs we do
 * not know after the ones we do; -1 when not allowed. */
static int order(const struct nego_policy *to, const struct codec_desc *d)
{
	int r = rank(to, d);
	if (r < 0 || to->own)
		return r;
	return d ? 0 : 1;
}

static bool fi_same(const struct fmt_info *fi, const struct nego_leg *l)
{
	if (fi->codec || l->codec)
		return fi->codec == l->codec;
	return fi->known && fi->clock == l->clock && pl_casestr(fi->enc, l->enc);
}

bool nego_leg_same_codec(const struct nego_leg *a, const struct nego_leg *b)
{
	if (!a->set || !b->set)
		return false;
	if (a->codec || b->codec)
		return a->codec == b->codec;
	return a->clock == b->clock && strcasecmp(a->enc, b->enc) == 0;
}

/* A slice of text kept in buf; PL_NULL when it is full (the m= line is
 * then refused by the printer rather than written wrong). */
static struct pl buf_printf(struct nego_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static struct pl buf_printf(struct nego_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	size_t room = sizeof(b->s) - b->n;
	int n = vsnprintf(b->s + b->n, room, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= room)
		return PL_NULL;
	struct pl r = { b->s + b->n, (size_t)n };
	b->n += (size_t)n + 1;
	return r;
}

/* rate: the widest audio the other leg carries (its codec's PCM rate),
 * so a phone on opus that we transcode to G.711 is asked for narrowband:
 * fewer bits on the wire and a cheaper decoder here (RFC 7587 7.1). */
static struct pl our_fmtp(const struct codec_desc *d, uint32_t rate, struct nego_buf *b)
{
	if (d != &codec_opus)
		return PL_NULL;
	char tmp[128];
	if (!rate || rate > 48000)
		rate = 48000;
	if (codec_opus_fmtp_print(tmp, sizeof(tmp), rate < 8000 ? 8000 : rate) < 0)
		return PL_NULL;
	return buf_printf(b, "%s", tmp);
}

/* pt if it is free, else the first free dynamic type; -1 when none. */
static int take_pt(bool used[128], int pt)
{
	if (pt >= 0 && pt < 128 && !used[pt]) {
		used[pt] = true;
		return pt;
	}
	for (int p = 96; p < 128; p++)
		if (!used[p]) {
			used[p] = true;
			return p;
		}
	return -1;
}

/* One of our codecs as a format of the offer we write. */
static bool add_ours(struct sdp_fmt *out, size_t *n, const struct codec_desc *d, int pt,
		     uint32_t rate, struct nego_buf *b)
{
	if (pt < 0 || *n == SDP_MAX_FMTS)
		return false;
	struct sdp_fmt *f = &out[(*n)++];
	memset(f, 0, sizeof(*f));
	f->id = buf_printf(b, "%d", pt);
	f->pt = pt;
	f->enc = pl_from(d->name);
	f->clock = d->rtp_clock;
	f->channels = d->channels > 1 ? d->channels : 0;
	f->fmtp = our_fmtp(d, rate, b);
	return true;
}

static bool has_codec(const struct sdp_fmt *v, size_t n, const struct codec_desc *d)
{
	for (size_t i = 0; i < n; i++) {
		struct fmt_info fi;
		fmt_info(&v[i], &fi);
		if (fi.codec == d)
			return true;
	}
	return false;
}

struct cand {
	const struct sdp_fmt *f;
	struct fmt_info fi;
	int rank;
};

int nego_offer(struct sdp_media *m, const struct nego_in *in, struct nego_buf *buf)
{
	const struct sdp_media *o = in->offer;
	struct cand c[SDP_MAX_FMTS];
	size_t nc = 0;
	const struct sdp_fmt *te = NULL;
	bool decodable = false;
	uint32_t rate = 0; /* of the offerer's codec we would transcode from */
	bool used[128] = { false };

	for (size_t i = 0; i < o->nfmts; i++) {
		const struct sdp_fmt *f = &o->fmts[i];
		struct fmt_info fi;
		fmt_info(f, &fi);
		if (is_dtmf(&fi)) {
			if (!te && fi.clock == 8000 && f->pt >= 0)
				te = f;
			continue;
		}
		if (is_aux(&fi) || f->pt < 0 || !allowed(in->from, &fi))
			continue;
		if (fi.codec && !decodable) {
			decodable = true;
			rate = fi.codec->pcm_rate; /* nego_answer's choice */
		}
		int r = order(in->to, fi.codec);
		if (r < 0)
			continue;
		/* insertion keeps the offer's order among equal ranks */
		size_t at = nc;
		while (at > 0 && c[at - 1].rank > r) {
			c[at] = c[at - 1];
			at--;
		}
		c[at] = (struct cand){ f, fi, r };
		nc++;
	}
	decodable = decodable && in->transcode;

	struct sdp_fmt out[SDP_MAX_FMTS];
	size_t n = 0;
	for (size_t i = 0; i < nc; i++)
		used[c[i].f->pt] = true;
	if (te)
		used[te->pt] = true;

	/* a re-offer keeps the codec the leg uses now in first place */
	const struct nego_leg *cur = in->to_cur && in->to_cur->set ? in->to_cur : NULL;
	size_t first = nc;
	for (size_t i = 0; cur && i < nc && first == nc; i++)
		if (fi_same(&c[i].fi, cur))
			first = i;
	if (first < nc) {
		out[n++] = *c[first].f;
	} else if (cur && decodable && cur->codec && rank(in->to, cur->codec) >= 0) {
		add_ours(out, &n, cur->codec, take_pt(used, cur->pt), rate, buf);
	}
	for (size_t i = 0; i < nc; i++)
		if (i != first)
			out[n++] = *c[i].f;
	if (n == 0 && !decodable)
		return ENOENT;

	if (decodable) {
		for (size_t i = 0; i < in->to->ncodecs; i++) {
			const struct codec_desc *d = in->to->codecs[i];
			if (!has_codec(out, n, d))
				add_ours(out, &n, d, take_pt(used, d->pt), rate, buf);
		}
	}
	if (n == 0)
		return ENOENT;
	if (te && n < SDP_MAX_FMTS) {
		out[n++] = *te;
	} else if (decodable && n < SDP_MAX_FMTS) {
		int pt = take_pt(used, NEGO_PT_DTMF);
		if (pt >= 0) {
			struct sdp_fmt *f = &out[n++];
			memset(f, 0, sizeof(*f));
			f->id = buf_printf(buf, "%d", pt);
			f->pt = pt;
			f->enc = PL("telephone-event");
			f->clock = 8000;
			f->fmtp = PL("0-16");
		}
	}
	memcpy(m->fmts, out, n * sizeof(out[0]));
	m->nfmts = n;
	return 0;
}

static void leg_from_fmt(struct nego_leg *l, const struct sdp_fmt *f, const struct fmt_info *fi)
{
	memset(l, 0, sizeof(*l));
	l->set = true;
	l->codec = fi->codec;
	l->pt = f->pt;
	if (fi->known)
		pl_strcpy(fi->enc, l->enc, sizeof(l->enc));
	else
		pl_strcpy(f->id, l->enc, sizeof(l->enc));
	l->clock = fi->clock;
	l->dtmf_pt = -1;
	if (pl_isset(f->fmtp))
		pl_strcpy(f->fmtp, l->fmtp, sizeof(l->fmtp));
}

/* The telephone-event format of an m= line at 8 kHz, or NULL. */
static const struct sdp_fmt *dtmf_fmt(const struct sdp_media *m)
{
	for (size_t i = 0; i < m->nfmts; i++) {
		struct fmt_info fi;
		fmt_info(&m->fmts[i], &fi);
		if (is_dtmf(&fi) && fi.clock == 8000 && m->fmts[i].pt >= 0)
			return &m->fmts[i];
	}
	return NULL;
}

int nego_leg_from_answer(struct nego_leg *l, const struct sdp_media *ans)
{
	for (size_t i = 0; i < ans->nfmts; i++) {
		struct fmt_info fi;
		fmt_info(&ans->fmts[i], &fi);
		if (is_aux(&fi) || ans->fmts[i].pt < 0)
			continue;
		leg_from_fmt(l, &ans->fmts[i], &fi);
		l->ptime = ans->ptime;
		const struct sdp_fmt *te = dtmf_fmt(ans);
		l->dtmf_pt = te ? te->pt : -1;
		return 0;
	}
	memset(l, 0, sizeof(*l));
	l->dtmf_pt = -1;
	return ENOENT;
}

int nego_answer(struct sdp_media *m, const struct nego_in *in, const struct sdp_media *ans,
		struct nego_buf *buf, struct nego_leg *lf, struct nego_leg *lt)
{
	const struct sdp_media *o = in->offer;
	const struct sdp_fmt *chosen = NULL, *ans_f = NULL;
	struct fmt_info cfi;
	bool pass = false;

	if (ans) {
		if (nego_leg_from_answer(lt, ans))
			return ENOENT;
		for (size_t i = 0; i < ans->nfmts && !ans_f; i++)
			if (ans->fmts[i].pt == lt->pt)
				ans_f = &ans->fmts[i];
		for (size_t i = 0; i < o->nfmts && !chosen; i++) {
			fmt_info(&o->fmts[i], &cfi);
			if (!is_aux(&cfi) && o->fmts[i].pt >= 0 && allowed(in->from, &cfi) &&
			    fi_same(&cfi, lt)) {
				chosen = &o->fmts[i];
				pass = true;
			}
		}
	}
	if (!chosen) {
		if (!in->transcode || (ans && !lt->codec))
			return ENOENT;
		const struct nego_leg *cur = in->from_cur && in->from_cur->set ? in->from_cur : NULL;
		/* round 0: the codec in use (a re-offer); round 1, answering
		 * before the callee does (ringback): the offerer's first codec
		 * the callee's policy allows, which under the system default
		 * is the first of our offer to it, so a callee taking the first
		 * codec offered is relayed, not transcoded; round 2: the first
		 * we decode */
		for (int round = cur ? 0 : 1; round < 3 && !chosen; round++) {
			if (round == 1 && ans)
				continue;
			int best = -1;
			struct fmt_info bfi;
			for (size_t i = 0; i < o->nfmts && (round == 1 || !chosen); i++) {
				struct fmt_info fi;
				fmt_info(&o->fmts[i], &fi);
				if (!fi.codec || is_aux(&fi) || o->fmts[i].pt < 0 || !allowed(in->from, &fi))
					continue;
				int r = round == 1 && rank(in->to, fi.codec) < 0 ? -1 : 0;
				if ((round == 0 && fi.codec != cur->codec) || r < 0 || (best >= 0 && r >= best))
					continue;
				best = r;
				bfi = fi;
				chosen = &o->fmts[i];
			}
			if (chosen)
				cfi = bfi;
		}
		if (!chosen)
			return ENOENT;
	}

	struct sdp_fmt out[2];
	size_t n = 0;
	out[n] = *chosen;
	if (pass)
		out[n].fmtp = ans_f ? ans_f->fmtp : PL_NULL; /* the packets go to `to` as they are */
	else if (cfi.codec == &codec_opus)
		out[n].fmtp = our_fmtp(cfi.codec, ans && lt->codec ? lt->codec->pcm_rate : 0, buf);
	n++;
	/* A relay cannot turn events into tones: then only when the other
	 * phone takes them too */
	const struct sdp_fmt *te = dtmf_fmt(o);
	if (te && !in->transcode && ans && !dtmf_fmt(ans))
		te = NULL;
	if (te)
		out[n++] = *te;
	memcpy(m->fmts, out, n * sizeof(out[0]));
	m->nfmts = n;
	m->ptime = pass && ans ? ans->ptime : o->ptime;
	m->maxptime = pass && ans ? ans->maxptime : o->maxptime;

	leg_from_fmt(lf, chosen, &cfi);
	lf->ptime = o->ptime;
	lf->dtmf_pt = te ? te->pt : -1;
	return 0;
}

/* Appends the answer's codecs ("opus, G722") to out. */
static void codec_names(char *out, size_t cap, const struct sdp_media *m)
{
	size_t at = 0;
	out[0] = '\0';
	for (size_t i = 0; i < m->nfmts && at < cap; i++) {
		struct fmt_info fi;
		fmt_info(&m->fmts[i], &fi);
		if (is_aux(&fi) || m->fmts[i].pt < 0)
			continue;
		struct pl name = fi.known ? fi.enc : m->fmts[i].id;
		int n = snprintf(out + at, cap - at, "%s%.*s", at ? ", " : "", (int)name.l, name.p);
		if (n < 0)
			break;
		at += (size_t)n;
	}
}

void nego_why_transcode(char *out, size_t cap, const struct nego_in *in,
			const struct sdp_media *ans, const char *offerer,
			const char *answerer, const char *fixed_by,
			const struct nego_leg *lf, const struct nego_leg *lt)
{
	/* did the answer carry any codec the offerer offered? */
	bool shared = false;
	for (size_t i = 0; ans && i < ans->nfmts && !shared; i++) {
		struct fmt_info a;
		fmt_info(&ans->fmts[i], &a);
		if (is_aux(&a) || ans->fmts[i].pt < 0)
			continue;
		for (size_t j = 0; j < in->offer->nfmts && !shared; j++) {
			struct fmt_info o;
			fmt_info(&in->offer->fmts[j], &o);
			shared = !is_aux(&o) && allowed(in->from, &o) &&
				 (a.codec ? a.codec == o.codec
					  : a.known && o.known && a.clock == o.clock && pl_eq(a.enc, o.enc));
		}
	}
	char names[96] = "";
	if (ans)
		codec_names(names, sizeof(names), ans);
	if (!shared)
		snprintf(out, cap, "%s answered only %s", answerer, names[0] ? names : lt->enc);
	else if (fixed_by)
		snprintf(out, cap, "the %s was answered %s %s, then the %s chose %s", offerer, lf->enc,
			 fixed_by, answerer, lt->enc);
	else
		snprintf(out, cap, "%s put %s before the %s's %s", answerer, lt->enc, offerer, lf->enc);
}

void nego_leg_media_fmt(const struct nego_leg *l, struct media_fmt *f)
{
	memset(f, 0, sizeof(*f));
	f->codec = l->codec;
	f->pt = (uint8_t)(l->pt & 0x7f);
	f->ptime = (uint8_t)(l->ptime > 255 ? 0 : l->ptime);
	f->dtmf_pt = (int16_t)l->dtmf_pt;
	f->dtmf_clock = l->dtmf_pt >= 0 ? 8000 : 0;
	if (l->codec == &codec_opus) {
		struct codec_params p;
		codec_params_default(&p);
		codec_opus_fmtp_apply(l->fmtp[0] ? pl_from(l->fmtp) : PL_NULL, &p);
		f->opus_bitrate = p.bitrate;
		f->opus_max_playback = p.max_playback;
		f->opus_fec = p.fec;
	}
}
