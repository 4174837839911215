/*
 * Offer/answer (RFC 3264 section 6): builds our answer to an offer when
 * Hookflash itself is the media endpoint (voicemail, IVR, conference),
 * choosing codecs from a preference list. The rules applied, stream by
 * stream, are spelled out at sdp_answer in sdp.h; the choices worth a word
 * are here, next to the code that makes them.
 */
#include "sdp_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum { DIR_SEND = 1, DIR_RECV = 2 };

static unsigned dir_bits(enum sdp_dir d)
{
	switch (d) {
	case SDP_INACTIVE: return 0;
	case SDP_SENDONLY: return DIR_SEND;
	case SDP_RECVONLY: return DIR_RECV;
	default: return DIR_SEND | DIR_RECV;
	}
}

static enum sdp_dir bits_dir(unsigned b)
{
	static const enum sdp_dir by_bits[] = {
		SDP_INACTIVE, SDP_SENDONLY, SDP_RECVONLY, SDP_SENDRECV,
	};
	return by_bits[b & 3];
}

/* The offer reversed (what they send, we receive), narrowed by what we
 * want. c=0.0.0.0 in the offer does not change the answer: RFC 4317 5.2
 * answers such an offer with plain sendrecv, and the media layer simply
 * does not send to the null address. */
static enum sdp_dir answer_dir(enum sdp_dir offered, enum sdp_dir want)
{
	return bits_dir(dir_bits(sdp_dir_reverse(offered)) & dir_bits(want));
}

/* Answerable profiles: we hold no SRTP keys to offer yet, and TCP or
 * UDPTL media are not ours to terminate. AVPF is accepted as AVP with
 * feedback we may ignore (RFC 4585 keeps AVP's RTCP rules compatible). */
static bool answerable(struct pl proto)
{
	return pl_casestr(proto, "RTP/AVP") || pl_casestr(proto, "RTP/AVPF");
}

static bool codec_match(const struct sdp_fmt *f, const struct sdp_codec *c)
{
	struct pl enc;
	uint32_t clock;
	uint8_t ch;
	if (!c->name || sdp_fmt_codec(f, &enc, &clock, &ch))
		return false;
	return pl_casestr(enc, c->name) && clock == c->clock &&
	       (c->channels == 0 || (ch ? ch : 1) == c->channels);
}

/* telephone-event and comfort noise ride along with a voice codec. */
static bool is_aux(const struct sdp_fmt *f)
{
	struct pl enc;
	uint32_t clock;
	uint8_t ch;
	if (sdp_fmt_codec(f, &enc, &clock, &ch))
		return false;
	return pl_casestr(enc, "telephone-event") || pl_casestr(enc, "CN");
}

struct pick {
	const struct sdp_fmt *f;
	const struct sdp_codec *c; /* NULL: kept without being in prefs */
};

struct picks {
	struct pick v[SDP_MAX_FMTS];
	size_t n;
	size_t nmain;    /* voice/video codecs among them */
};

static bool picked(const struct picks *p, const struct sdp_fmt *f)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->v[i].f == f)
			return true;
	return false;
}

static void add_pick(struct picks *p, const struct sdp_fmt *f, const struct sdp_codec *c,
		     size_t max_main)
{
	bool aux = is_aux(f);
	if (picked(p, f) || p->n == SDP_MAX_FMTS || (!aux && max_main && p->nmain >= max_main))
		return;
	p->v[p->n].f = f;
	p->v[p->n].c = c;
	p->n++;
	if (!aux)
		p->nmain++;
}

static void choose(const struct sdp_media *om, const struct sdp_answer_prefs *prefs,
		   struct picks *p)
{
	memset(p, 0, sizeof(*p));
	if (prefs->our_order) {
		/* One offered format per codec of ours: the first that fits. */
		for (size_t c = 0; c < prefs->ncodecs; c++) {
			for (size_t i = 0; i < om->nfmts; i++) {
				if (!picked(p, &om->fmts[i]) && codec_match(&om->fmts[i], &prefs->codecs[c])) {
					add_pick(p, &om->fmts[i], &prefs->codecs[c], prefs->max_codecs);
					break;
				}
			}
		}
	} else {
		for (size_t i = 0; i < om->nfmts; i++) {
			for (size_t c = 0; c < prefs->ncodecs; c++) {
				if (codec_match(&om->fmts[i], &prefs->codecs[c])) {
					add_pick(p, &om->fmts[i], &prefs->codecs[c], prefs->max_codecs);
					break;
				}
			}
		}
	}

	/* DTMF keeps working whatever prefs say: telephone-event at the
	 * clock rate of the first voice codec chosen (RFC 4733 2.1 ties the
	 * event clock to the audio's), with the offer's fmtp. */
	if (!pl_casestr(om->type, "audio") || p->nmain == 0)
		return;
	uint32_t clock = 0;
	for (size_t i = 0; i < p->n && !clock; i++) {
		struct pl enc;
		uint8_t ch;
		if (!is_aux(p->v[i].f))
			sdp_fmt_codec(p->v[i].f, &enc, &clock, &ch);
	}
	for (size_t i = 0; i < p->n; i++) {
		struct pl enc;
		uint32_t c2;
		uint8_t ch;
		if (!sdp_fmt_codec(p->v[i].f, &enc, &c2, &ch) &&
		    pl_casestr(enc, "telephone-event") && c2 == clock)
			return; /* already there */
	}
	static const struct sdp_codec te = { .name = "telephone-event" };
	for (size_t i = 0; i < om->nfmts; i++) {
		struct sdp_codec want = te;
		want.clock = clock;
		if (codec_match(&om->fmts[i], &want)) {
			add_pick(p, &om->fmts[i], NULL, 0);
			return;
		}
	}
}

/* A stream of only telephone-event (RFC 4317 2.4) is a stream of its own;
 * otherwise aux formats alone do not make an accepted stream. */
static bool only_aux(const struct sdp_media *om)
{
	for (size_t i = 0; i < om->nfmts; i++)
		if (!is_aux(&om->fmts[i]))
			return false;
	return om->nfmts > 0;
}

static void answer_media(struct sdp_media *a, const struct sdp_session *offer,
			 const struct sdp_media *om, uint16_t port,
			 const struct sdp_answer_prefs *prefs)
{
	struct picks p;
	memset(a, 0, sizeof(*a));
	a->type = om->type;
	a->proto = om->proto;
	a->nports = 1;

	bool ok = om->port != 0 && port != 0 && answerable(om->proto);
	if (ok) {
		choose(om, prefs, &p);
		ok = p.nmain > 0 || (p.n > 0 && only_aux(om));
	}
	if (!ok) {
		/* Rejected (RFC 3264 6): port 0, and one format because the
		 * grammar wants one; the first offered, as RFC 4317 shows. */
		if (om->nfmts) {
			a->fmts[0] = om->fmts[0];
			a->nfmts = 1;
		}
		return;
	}

	a->port = port;
	for (size_t i = 0; i < p.n; i++) {
		struct sdp_fmt *f = &a->fmts[a->nfmts++];
		*f = *p.v[i].f; /* payload type, rtpmap and fmtp as offered */
		if (p.v[i].c && p.v[i].c->fmtp)
			f->fmtp = pl_from(p.v[i].c->fmtp);
	}
	enum sdp_dir want = prefs->dir == SDP_DIR_UNSET ? SDP_SENDRECV : prefs->dir;
	enum sdp_dir d = answer_dir(sdp_direction_of(offer, om), want);
	/* sendrecv is the default; RFC 4317's answers leave it out too. */
	a->dir = d == SDP_SENDRECV ? SDP_DIR_UNSET : d;
	if (pl_casestr(om->type, "audio"))
		a->ptime = prefs->ptime;
}

int sdp_answer(struct sdp_session **out, const struct sdp_session *offer,
	       const struct sdp_local *loc, const struct sdp_answer_prefs *prefs)
{
	if (!out || !offer || !loc || !loc->addr || !prefs ||
	    (prefs->ncodecs && !prefs->codecs) || offer->nmedia > SDP_MAX_MEDIA ||
	    offer->ntimes > SDP_MAX_TIMES ||
	    (offer->nmedia && (!loc->ports || loc->nports < offer->nmedia)))
		return EINVAL;
	struct sdp_session *d = sdp_draft(NULL);
	if (!d)
		return ENOMEM;

	d->name = PL("-");
	/* RFC 3264 6: the answer's t= equals the offer's. */
	memcpy(d->times, offer->times, sizeof(d->times));
	d->ntimes = offer->ntimes;
	for (size_t i = 0; i < offer->nmedia; i++)
		answer_media(&d->media[i], offer, &offer->media[i], loc->ports[i], prefs);
	d->nmedia = offer->nmedia;

	int err = sdp_draft_local(d, loc);
	return sdp_draft_finish(out, d, err);
}
