/*
 * The SDP side of the call's media, shared by offers, answers and our
 * own answers: parsing a phone's SDP, telling the worker where a leg's
 * phone receives (apply_remote), anchoring what we send on our port pair,
 * and the codec bookkeeping of each leg.
 */
#include "call_media_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/log.h"
#include "../media/media.h"
#include "../sdp/sdes.h"
#include "../sdp/sdp.h"
#include "../sip/transport.h"
#include "call_nego.h"

/* --- SDP helpers ------------------------------------------------------------- */

/* The address our media is at, as seen from this leg's phone. */
static void local_addr(struct call *c, struct leg *l, char *out, size_t cap)
{
	uint16_t port;
	sip_transport_local_for(c->m->d.tp, &l->dlg.peer, out, cap, &port);
}

static enum media_dir to_media_dir(const struct sdp_session *s, const struct sdp_media *m)
{
	enum sdp_dir d = sdp_direction_of(s, m);
	const struct sdp_conn *cn = sdp_media_conn(s, m);
	bool null = cn && sdp_conn_is_null(cn);
	switch (d) {
	case SDP_SENDONLY:
		return MEDIA_SENDONLY;
	case SDP_RECVONLY:
		return null ? MEDIA_INACTIVE : MEDIA_RECVONLY;
	case SDP_INACTIVE:
		return MEDIA_INACTIVE;
	default:
		return null ? MEDIA_SENDONLY : MEDIA_SENDRECV;
	}
}

static int pick_audio(const struct sdp_session *s)
{
	for (size_t i = 0; i < s->nmedia; i++)
		if (s->media[i].port && pl_casestr(s->media[i].type, "audio") &&
		    sdp_proto_is_rtp(s->media[i].proto))
			return (int)i;
	return -1;
}

/* Tells the worker where leg idx's phone receives, and how it wants the
 * stream (hold); who is that phone's SIP leg (NULL: unknown), whose
 * address and payload types guard the latch. The null address keeps the
 * old remote. */
int callm_apply_remote(struct call *c, unsigned idx, const struct leg *who,
		       const struct sdp_session *s, int mi)
{
	struct call_media *cm = c->media;
	const struct sdp_media *m = &s->media[mi];
	const struct sdp_conn *cn = sdp_media_conn(s, m);
	if (!cn)
		return EBADMSG;
	enum media_dir dir = to_media_dir(s, m);
	int err = media_leg_set_direction(engine(c->m), cm->mcall, idx, dir);
	if (err)
		return err;
	if (idx == 0)
		c->on_hold = dir != MEDIA_SENDRECV;
	if (sdp_conn_is_null(cn))
		return 0;
	char host[64];
	pl_strcpy(cn->addr, host, sizeof(host));
	struct media_remote r;
	memset(&r, 0, sizeof(r));
	struct sockaddr_in *in4 = (struct sockaddr_in *)&r.rtp;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&r.rtp;
	if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons(m->port);
	} else if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(m->port);
	} else {
		return EBADMSG; /* a host name: no DNS on the signalling loop yet */
	}
	bool clock_set = false;
	for (size_t i = 0; i < m->nfmts; i++) {
		struct pl enc;
		uint32_t clock;
		uint8_t ch;
		if (m->fmts[i].pt >= 0 && m->fmts[i].pt < 128)
			r.pts[m->fmts[i].pt / 32] |= 1u << (m->fmts[i].pt % 32);
		if (!clock_set && !sdp_fmt_codec(&m->fmts[i], &enc, &clock, &ch) &&
		    !pl_casestr(enc, "telephone-event")) {
			r.clock_rate = clock;
			clock_set = true;
		}
	}
	/* comfort noise may come unannounced (RFC 3389 in RFC 3551's list) */
	if (r.pts[0] | r.pts[1] | r.pts[2] | r.pts[3])
		r.pts[0] |= 1u << 13;
	if (who && who->dlg.peer.addr.ss_family)
		memcpy(&r.peer, &who->dlg.peer.addr, sizeof(r.peer));
	if (m->has_rtcp && m->rtcp_port) {
		r.rtcp = r.rtp;
		if (r.rtp.ss_family == AF_INET)
			((struct sockaddr_in *)&r.rtcp)->sin_port = htons(m->rtcp_port);
		else
			((struct sockaddr_in6 *)&r.rtcp)->sin6_port = htons(m->rtcp_port);
	}
	return media_leg_set_remote(engine(c->m), cm->mcall, idx, &r);
}

/* Writes `in` (a draft that may borrow slices) anchored on our port of
 * leg idx into out, and keeps it as the last SDP sent there. */
int callm_anchor(struct call *c, unsigned idx, struct leg *towards, const struct sdp_session *in,
		  int mi, struct sbuf *out)
{
	struct call_media *cm = c->media;
	uint16_t ports[SDP_MAX_MEDIA] = { 0 };
	ports[mi] = cm->port[idx];
	char addr[64];
	local_addr(c, towards, addr, sizeof(addr));
	struct sdp_local loc = {
		.addr = addr,
		.ports = ports,
		.nports = in->nmedia,
		.user = "hookflash",
		.sess_id = cm->sess_id + idx,
		.sess_version = 1,
		.name = "Hookflash",
		.prev = cm->sent[idx],
		.keep_crypto = true, /* ours: the other leg's were stripped */
	};
	struct sdp_session *s = NULL;
	int err = sdp_anchor(&s, in, &loc);
	if (!err)
		err = sdp_print(out, s);
	if (!err) {
		sdp_free(cm->sent[idx]);
		cm->sent[idx] = s;
	} else {
		sdp_free(s);
	}
	return err;
}

int callm_parse(const char *sdp, size_t len, struct sdp_session **s, int *mi, uint16_t *status)
{
	*status = 488;
	if (!sdp || !len || sdp_parse(s, sdp, len))
		return EBADMSG;
	*mi = pick_audio(*s);
	if (*mi < 0) {
		sdp_free(*s);
		return EPROTONOSUPPORT;
	}
	return 0;
}

/* A refusal the phone is told about: status and a Warning (RFC 3261
 * 20.43, code 399: miscellaneous) that says why. */
int callm_refuse(struct call *c, uint16_t *status, uint16_t code, const char *why)
{
	*status = code;
	snprintf(c->warning, sizeof(c->warning), "Warning: 399 hookflash \"%s\"\r\n", why);
	log_info(CALL_TAG, "call %u: %s", c->id, why);
	return code == 488 ? EPROTONOSUPPORT : EIO;
}

/* A shallow, writable copy of a parsed session: its slices still point
 * into the original, which must outlive it. Freed with free(). */
struct sdp_session *callm_draft(const struct sdp_session *s)
{
	struct sdp_session *d = malloc(sizeof(*d));
	if (d) {
		*d = *s;
		d->mem = NULL;
	}
	return d;
}

void callm_set_format(struct call *c, unsigned idx, const struct nego_leg *nl)
{
	struct call_media *cm = c->media;
	cm->leg[idx].cur = *nl;
	struct media_fmt f;
	nego_leg_media_fmt(nl, &f);
	int err = media_leg_set_format(engine(c->m), cm->mcall, idx, &f);
	if (err == EINVAL && f.ptime) {
		f.ptime = 0; /* a packet time the codec cannot make: its default */
		err = media_leg_set_format(engine(c->m), cm->mcall, idx, &f);
	}
	if (err)
		log_warn(CALL_TAG, "call %u: cannot set the %s leg's format %s/%u: %s", c->id,
			 idx ? "callee" : "caller", nl->enc, nl->clock, strerror(err));
}

void callm_note_codec(struct call *c)
{
	struct call_media *cm = c->media;
	const struct nego_leg *a = &cm->leg[0].cur, *b = &cm->leg[1].cur;
	if (!a->set)
		return;
	if (!b->set || nego_leg_same_codec(a, b))
		snprintf(c->codec, sizeof(c->codec), "%.20s/%u", a->enc, a->clock);
	else
		snprintf(c->codec, sizeof(c->codec), "%.10s/%u|%.10s/%u", a->enc, a->clock, b->enc,
			 b->clock);
}
