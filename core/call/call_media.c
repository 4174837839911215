/*
 * The call's media: the only call file that knows SDP and the media
 * engine. Each leg's SDP is rewritten to point at a Hookflash port pair
 * (media anchoring) and the other side's real addresses go to the media
 * worker. One audio stream per call is anchored (the first active RTP
 * audio m= line); other streams are refused with port 0, which every
 * endpoint understands.
 *
 * Hookflash terminates media per leg: each leg has its own codec (chosen
 * by call_nego.c from the offer and the two extensions' policies) and its
 * own SRTP keys (RFC 4568 SDES: our fresh key on each leg, never the other
 * phone's), and the worker relays unchanged when the legs agree and
 * transcodes when they do not.
 */
#include "call_media_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/log.h"
#include "../media/media.h"
#include "../ident/ext_table.h"
#include "../base/conf.h"
#include "../sdp/sdes.h"
#include "../sdp/sdp.h"
#include "../sip/transport.h"
#include "../sip/tsx.h"
#include "call_nego.h"

/* --- the engine ---------------------------------------------------------------- */

int callm_engine_alloc(struct call_mgr *m)
{
	const struct conf *cf = m->d.conf;
	struct cme *e = calloc(1, sizeof(*e));
	if (!e)
		return ENOMEM;
	char why[160];
	if (nego_codecs_parse(&e->dflt, cf->codecs, why, sizeof(why)) || !e->dflt.ncodecs) {
		log_err(CALL_TAG, "calls.codecs '%s': %s", cf->codecs,
			e->dflt.ncodecs ? why : "no codec");
		free(e);
		return EINVAL;
	}
	e->dflt.foreign = true; /* codecs we do not know still pass between phones */
	e->dflt.srtp = NEGO_SRTP_OPTIONAL;
	struct media_cfg mc = {
		.nworkers = cf->media_workers,
		.rtp_min = cf->rtp_min,
		.rtp_max = cf->rtp_max,
		.bind_addr = cf->nbinds ? cf->binds[0] : NULL,
		.rtp_timeout_ms = cf->rtp_timeout * 1000u,
		.coalesce_us = cf->media_coalesce_us,
		.opus_low_cpu = cf->opus_low_cpu,
		.opus_low_cpu_above = cf->opus_low_cpu_above,
	};
	int err = media_engine_alloc(&e->me, m->d.loop, &mc);
	if (err) {
		log_err(CALL_TAG, "cannot start the media engine: %s", strerror(err));
		free(e);
		return err;
	}
	m->media_engine = e;
	log_info(CALL_TAG, "media: %u worker(s), RTP ports %u-%u, codecs %s%s",
		 media_engine_nworkers(e->me), cf->rtp_min, cf->rtp_max, cf->codecs,
		 cf->opus_low_cpu ? ", opus low-CPU" : "");
	return 0;
}

void callm_engine_totals(const struct call_mgr *m, uint64_t *relayed, uint64_t *lost)
{
	const struct cme *e = m->media_engine;
	*relayed = *lost = 0;
	if (e)
		media_engine_totals(e->me, relayed, lost);
}

static void cm_free(struct call *c);

void callm_engine_free(struct call_mgr *m)
{
	/* calls still waiting for their final statistics end now, without */
	while (m->calls) {
		struct call *c = m->calls;
		struct cm *cm = c->media;
		if (!cm || !cm->done)
			break;
		void (*done)(struct call *) = cm->done;
		cm->done = NULL;
		cm_free(c);
		done(c);
	}
	struct cme *e = cme(m);
	if (!e)
		return;
	media_engine_free(e->me);
	free(e);
	m->media_engine = NULL;
}

static void cm_free(struct call *c)
{
	struct cm *cm = c->media;
	if (!cm)
		return;
	sdp_free(cm->sent[0]);
	sdp_free(cm->sent[1]);
	sdp_free(cm->offer);
	/* keys never linger in freed memory */
	for (int i = 0; i < 2; i++) {
		struct cm_leg *l = &cm->leg[i];
		sdes_key_wipe(&l->local);
		sdes_key_wipe(&l->remote);
		sdes_key_wipe(&l->pend_local);
		sdes_key_wipe(&l->pend_remote);
		for (size_t k = 0; k < SDES_NSUITES; k++)
			sdes_key_wipe(&l->offered[k]);
	}
	sdes_key_wipe(&cm->late_key);
	free(cm);
	c->media = NULL;
}

static void fill_stats(struct db_cdr *cdr, const struct media_call_stats *st)
{
	for (int i = 0; i < 2; i++) {
		cdr->leg[i].pkts_rx = st->leg[i].rx_packets;
		cdr->leg[i].pkts_tx = st->leg[i].tx_packets;
		cdr->leg[i].bytes_rx = st->leg[i].rx_bytes;
		cdr->leg[i].bytes_tx = st->leg[i].tx_bytes;
		cdr->leg[i].lost = st->leg[i].lost;
		cdr->leg[i].jitter_ms = st->leg[i].jitter_ms;
	}
}

static const char *dtmf_src_name(enum media_dtmf_src s)
{
	switch (s) {
	case MEDIA_DTMF_RFC4733: return "rfc4733";
	case MEDIA_DTMF_INBAND: return "inband";
	case MEDIA_DTMF_INFO: return "INFO";
	}
	return "?";
}

static void on_media_event(const struct media_event *ev, void *arg)
{
	struct call *c = arg;
	struct cm *cm = c->media;
	switch (ev->type) {
	case MEDIA_EV_RTP_TIMEOUT:
		log_warn(CALL_TAG, "call %u: no RTP from the %s for a while", c->id,
			 ev->leg == 0 ? "caller" : "callee");
		call_end(c, 408, "Request Timeout", "system", "rtp timeout");
		break;
	case MEDIA_EV_DESTROYED:
		fill_stats(&c->cdr, &ev->stats);
		if (cm && cm->done) {
			void (*done)(struct call *) = cm->done;
			cm_free(c);
			done(c);
		}
		break;
	case MEDIA_EV_ERROR:
		log_warn(CALL_TAG, "call %u: media command failed on leg %u: %s", c->id, ev->leg,
			 strerror(ev->err));
		break;
	case MEDIA_EV_DTMF:
		call_dtmf_note(c, ev->leg, ev->digit, dtmf_src_name(ev->dtmf_src));
		break;
	case MEDIA_EV_PLAY_DONE:
		if (cm && ev->leg == 0 && ev->err)
			cm->tone = false;
		break;
	case MEDIA_EV_LATCHED:
	case MEDIA_EV_STATS:
	case MEDIA_EV_RECORD_DONE:
	case MEDIA_EV_TALK:
	case MEDIA_EV_SILENCE:
		break;
	}
}

int callm_create(struct call *c, const struct ext *caller, const struct ext *callee)
{
	struct cm *cm = calloc(1, sizeof(*cm));
	if (!cm)
		return ENOMEM;
	struct cme *e = cme(c->m);
	cm->c = c;
	cm->audio_idx = -1;
	cm->sess_id = ((uint64_t)c->id << 20) ^ (uint64_t)call_wall_ms();
	/* the system default as it is now (a reload may have changed it;
	 * this call keeps what it started with) */
	struct nego_policy dflt = e->dflt;
	char why[128];
	if (nego_codecs_parse(&dflt, c->m->d.conf->codecs, why, sizeof(why)) || !dflt.ncodecs)
		dflt = e->dflt;
	nego_policy_for(&cm->pol[0], caller ? caller->codecs : NULL, caller ? caller->srtp : NULL,
			&dflt);
	nego_policy_for(&cm->pol[1], callee ? callee->codecs : NULL, callee ? callee->srtp : NULL,
			&dflt);
	cm->leg[0].cur.dtmf_pt = cm->leg[1].cur.dtmf_pt = -1;
	c->media = cm;
	int err = media_call_create(engine(c->m), &cm->mcall, on_media_event, c);
	if (!err)
		err = media_leg_alloc(engine(c->m), cm->mcall, 0, &cm->port[0]);
	if (!err)
		err = media_leg_alloc(engine(c->m), cm->mcall, 1, &cm->port[1]);
	if (err)
		log_warn(CALL_TAG, "call %u: no media ports: %s", c->id, strerror(err));
	return err;
}

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
 * stream (hold). The null address keeps the old remote. */
static int apply_remote(struct call *c, unsigned idx, const struct sdp_session *s, int mi)
{
	struct cm *cm = c->media;
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
	for (size_t i = 0; i < m->nfmts; i++) {
		struct pl enc;
		uint32_t clock;
		uint8_t ch;
		if (!sdp_fmt_codec(&m->fmts[i], &enc, &clock, &ch) && !pl_casestr(enc, "telephone-event")) {
			r.clock_rate = clock;
			break;
		}
	}
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
static int anchor(struct call *c, unsigned idx, struct leg *towards, const struct sdp_session *in,
		  int mi, struct sbuf *out)
{
	struct cm *cm = c->media;
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

static int parse(const char *sdp, size_t len, struct sdp_session **s, int *mi, uint16_t *status)
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
static struct sdp_session *draft_of(const struct sdp_session *s)
{
	struct sdp_session *d = malloc(sizeof(*d));
	if (d) {
		*d = *s;
		d->mem = NULL;
	}
	return d;
}

static void set_format(struct call *c, unsigned idx, const struct nego_leg *nl)
{
	struct cm *cm = c->media;
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

static void note_codec(struct call *c)
{
	struct cm *cm = c->media;
	const struct nego_leg *a = &cm->leg[0].cur, *b = &cm->leg[1].cur;
	if (!a->set)
		return;
	if (!b->set || nego_leg_same_codec(a, b))
		snprintf(c->codec, sizeof(c->codec), "%.20s/%u", a->enc, a->clock);
	else
		snprintf(c->codec, sizeof(c->codec), "%.10s/%u|%.10s/%u", a->enc, a->clock, b->enc,
			 b->clock);
}

/* --- offers ------------------------------------------------------------------- */

/* From leg fi's offer s (owned: kept until the answer), our offer to the
 * other leg, anchored, into out. */
static int make_offer(struct call *c, unsigned fi, struct sdp_session *s, int mi,
		      struct leg *towards, struct sbuf *out, uint16_t *status)
{
	struct cm *cm = c->media;
	unsigned ti = 1 - fi;
	int err = callm_take_offer_crypto(c, fi, &s->media[mi], status);
	struct sdp_session *d = err ? NULL : draft_of(s);
	if (!err && !d)
		err = ENOMEM;
	if (err) {
		sdp_free(s);
		return err;
	}
	callm_strip_crypto(d);
	struct nego_buf buf = { .n = 0 };
	struct nego_in in = {
		.offer = &s->media[mi],
		.from = &cm->pol[fi],
		.to = &cm->pol[ti],
		.transcode = true,
		.to_cur = &cm->leg[ti].cur,
		.from_cur = &cm->leg[fi].cur,
	};
	if (nego_offer(&d->media[mi], &in, &buf))
		err = callm_refuse(c, status, 488, "no common codec");
	if (!err)
		err = callm_make_offer_crypto(c, fi, ti, &d->media[mi], s->media[mi].proto, status);
	if (!err) {
		err = anchor(c, ti, towards, d, mi, out);
		if (err)
			*status = 500;
	}
	free(d);
	if (err) {
		sdp_free(s);
		return err;
	}
	sdp_free(cm->offer);
	cm->offer = s;
	cm->offer_from = fi;
	cm->audio_idx = mi;
	return 0;
}

int callm_late_offer(struct call *c, struct sbuf *out, uint16_t *status)
{
	struct cm *cm = c->media;
	const struct nego_policy *p = &cm->pol[0];
	if (p->srtp != NEGO_SRTP_OFF) {
		/* our 2xx will offer SRTP: best effort, or RTP/SAVP */
		if (sdes_key_generate(&cm->late_key, SDES_AES_CM_128_HMAC_SHA1_80, 1))
			return callm_refuse(c, status, 500, "no random numbers for SRTP keys");
		cm->late_srtp = true;
		cm->late_savp = p->srtp == NEGO_SRTP_REQUIRED;
	}
	/* well-known payload types where they exist; 101 for the events */
	char pts[64] = "", maps[512] = "";
	size_t np = 0, nm = 0;
	for (size_t i = 0; i < p->ncodecs; i++) {
		const struct codec_desc *d = p->codecs[i];
		int pt = d->pt >= 0 ? d->pt : 111;
		np += (size_t)snprintf(pts + np, sizeof(pts) - np, " %d", pt);
		if (d->channels > 1)
			nm += (size_t)snprintf(maps + nm, sizeof(maps) - nm, "a=rtpmap:%d %s/%u/%u\r\n", pt,
					       d->name, d->rtp_clock, d->channels);
		else
			nm += (size_t)snprintf(maps + nm, sizeof(maps) - nm, "a=rtpmap:%d %s/%u\r\n", pt,
					       d->name, d->rtp_clock);
		if (np >= sizeof(pts) || nm >= sizeof(maps))
			return callm_refuse(c, status, 500, "the caller's codec list is too long");
	}
	sbuf_printf(out, "v=0\r\no=- 0 0 IN IP4 0.0.0.0\r\ns=-\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\n"
			 "m=audio 9 RTP/AVP%s 101\r\n%s"
			 "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\n", pts, maps);
	*status = 500;
	return out->err;
}

int callm_offer_a_to_b(struct call *c, const char *sdp, size_t len, struct sbuf *out,
		       uint16_t *status)
{
	struct sdp_session *s;
	int mi;
	int err = parse(sdp, len, &s, &mi, status);
	if (err)
		return err;
	err = apply_remote(c, 0, s, mi);
	if (err) {
		sdp_free(s);
		*status = err == EBADMSG ? 488 : 500;
		return err;
	}
	/* the callee's SDP points at our B-side port; the address is the one
	 * the caller reaches us on (one interface, or external_address) */
	/* Not connected yet: the engine relays once both legs have their
	 * formats and keys (callee's answer, early or final), so nothing the
	 * callee sends before it answers can reach an SRTP caller in the
	 * clear, or the caller in a codec it never agreed to. */
	return make_offer(c, 0, s, mi, &c->a, out, status);
}

int callm_reoffer(struct call *c, struct leg *from, const char *sdp, size_t len,
		  struct sbuf *out, uint16_t *status)
{
	unsigned fi = from == &c->a ? 0 : 1;
	struct leg *to = call_other_leg(from);
	struct sdp_session *s;
	int mi;
	int err = parse(sdp, len, &s, &mi, status);
	if (err)
		return err;
	err = apply_remote(c, fi, s, mi);
	if (err) {
		sdp_free(s);
		*status = err == EBADMSG ? 488 : 500;
		return err;
	}
	return make_offer(c, fi, s, mi, to ? to : from, out, status);
}

/* --- answers ------------------------------------------------------------------ */

static void stop_tone(struct call *c)
{
	struct cm *cm = c->media;
	if (cm->tone) {
		cm->tone = false;
		media_leg_stop(engine(c->m), cm->mcall, 0);
	}
}

/* The answer from leg ti (sdp) to the pending offer of leg fi -> our
 * answer to fi in out. */
static int take_answer(struct call *c, unsigned fi, struct leg *from, const char *sdp, size_t len,
		       struct sbuf *out, uint16_t *status)
{
	struct cm *cm = c->media;
	unsigned ti = 1 - fi;
	struct sdp_session *a;
	int ami;
	int err = parse(sdp, len, &a, &ami, status);
	if (err)
		return err;
	err = apply_remote(c, ti, a, ami);
	if (err) {
		sdp_free(a);
		*status = err == EBADMSG ? 488 : 500;
		return err;
	}
	if (!cm->offer || cm->offer_from != fi) {
		/* no offer of ours pending (an offer in a 2xx to a re-INVITE
		 * without SDP): relay it anchored, as it is */
		struct sdp_session *d = draft_of(a);
		err = d ? 0 : ENOMEM;
		if (d) {
			callm_strip_crypto(d);
			err = anchor(c, fi, from, d, ami, out);
			free(d);
		}
		sdp_free(a);
		if (err)
			*status = 500;
		return err;
	}
	int mi = cm->audio_idx;
	if (ami != mi || (size_t)mi >= a->nmedia) {
		sdp_free(a);
		return callm_refuse(c, status, 488, "the answer moved or refused the audio stream");
	}

	bool t_on = false;
	struct sdes_key t_local, t_remote;
	memset(&t_local, 0, sizeof(t_local));
	memset(&t_remote, 0, sizeof(t_remote));
	struct nego_leg lf, lt;
	struct sdp_session *d = NULL;
	err = callm_take_answer_crypto(c, ti, &a->media[mi], &t_on, &t_local, &t_remote, status);

	/* only for the INVITE transaction that got it: re-INVITEs are new
	 * exchanges */
	bool fixed = fi == 0 && cm->a_fixed && c->a.inv_st;
	if (!err && fixed) {
		/* A has its answer: only leg B changes (the worker transcodes
		 * when the codecs now differ); the same SDP again for A */
		if (nego_leg_from_answer(&lt, &a->media[mi]))
			err = callm_refuse(c, status, 488, "the callee answered no codec");
		else
			err = sdp_print(out, cm->sent[0]);
	}
	if (!err && !fixed) {
		struct nego_buf buf = { .n = 0 };
		struct nego_in in = {
			.offer = &cm->offer->media[mi],
			.from = &cm->pol[fi],
			.to = &cm->pol[ti],
			.transcode = true,
			.to_cur = &cm->leg[ti].cur,
			.from_cur = &cm->leg[fi].cur,
		};
		d = draft_of(a);
		if (!d)
			err = ENOMEM;
		else if (nego_answer(&d->media[mi], &in, &a->media[mi], &buf, &lf, &lt))
			err = callm_refuse(c, status, 488, "no codec for both sides");
		if (!err) {
			struct cm_leg *fl = &cm->leg[fi];
			callm_strip_crypto(d);
			struct sdp_media *dm = &d->media[mi];
			dm->proto = cm->offer->media[mi].proto;
			if (fl->pend_srtp && !sdes_key_crypto(&fl->pend_local, &dm->crypto[0]))
				dm->ncrypto = 1;
			if (fi == 0 && cm->late_srtp && !sdes_key_crypto(&cm->late_key, &dm->crypto[0])) {
				/* our answer to B's is our offer to A */
				dm->ncrypto = 1;
				if (cm->late_savp)
					dm->proto = PL("RTP/SAVP");
			}
			err = anchor(c, fi, from, d, mi, out);
			if (err)
				*status = 500;
		}
		free(d);
		if (!err) {
			struct cm_leg *fl = &cm->leg[fi];
			set_format(c, fi, &lf);
			callm_set_srtp(c, fi, fl->pend_srtp, &fl->pend_local, &fl->pend_remote);
			if (fi == 0 && c->a.inv_st)
				cm->a_fixed = true;
		}
	}
	if (!err) {
		set_format(c, ti, &lt);
		callm_set_srtp(c, ti, t_on, &t_local, &t_remote);
		note_codec(c);
		if (fi == 0)
			stop_tone(c);
		if (!nego_leg_same_codec(&cm->leg[0].cur, &cm->leg[1].cur))
			log_debug(CALL_TAG, "call %u: transcoding %s/%u <-> %s/%u", c->id,
				  cm->leg[0].cur.enc, cm->leg[0].cur.clock, cm->leg[1].cur.enc,
				  cm->leg[1].cur.clock);
	}
	sdes_key_wipe(&t_local);
	sdes_key_wipe(&t_remote);
	sdp_free(a);
	if (err && err != EBADMSG && *status == 488)
		return EPROTONOSUPPORT;
	return err;
}

int callm_answer_b_to_a(struct call *c, struct leg *l, const char *sdp, size_t len,
			struct sbuf *out, uint16_t *status)
{
	(void)l;
	return take_answer(c, 0, &c->a, sdp, len, out, status);
}

int callm_reanswer(struct call *c, struct leg *from, const char *sdp, size_t len,
		   struct sbuf *out, uint16_t *status)
{
	unsigned fi = from == &c->a ? 0 : 1;
	int err = take_answer(c, fi, from, sdp, len, out, status);
	struct cm *cm = c->media;
	if (!err && cm->offer && cm->offer_from == fi) {
		sdp_free(cm->offer); /* answered: the next one is a new exchange */
		cm->offer = NULL;
	}
	return err;
}

void callm_forget_offer(struct call *c)
{
	struct cm *cm = c->media;
	if (cm) {
		sdp_free(cm->offer);
		cm->offer = NULL;
	}
}

int callm_our_sdp(struct call *c, const struct leg *l, struct sbuf *out)
{
	struct cm *cm = c->media;
	unsigned idx = l == &c->a ? 0 : 1;
	if (!cm || !cm->sent[idx])
		return ENOENT;
	return sdp_print(out, cm->sent[idx]);
}

void callm_ack_answer(struct call *c, struct leg *l, const char *sdp, size_t len)
{
	struct cm *cm = c->media;
	unsigned idx = l == &c->a ? 0 : 1;
	struct sdp_session *s;
	int mi;
	uint16_t status;
	if (!cm || parse(sdp, len, &s, &mi, &status)) {
		log_warn(CALL_TAG, "call %u: the %s's answer in its ACK is unusable; media unchanged",
			 c->id, idx ? "callee" : "caller");
		return;
	}
	int err = mi == cm->audio_idx ? apply_remote(c, idx, s, mi) : EPROTO;
	struct cm_leg *cl = &cm->leg[idx];
	struct nego_leg nl;
	if (!err && !nego_leg_from_answer(&nl, &s->media[mi]) && !nego_leg_same_codec(&nl, &cl->cur))
		set_format(c, idx, &nl);
	bool late = idx == 0 && cm->late_srtp && !cl->srtp;
	if (!err && (cl->srtp || late)) {
		/* it may answer our unchanged key with a new one of its own;
		 * after a delayed offer its answer brings its first key */
		struct sdes_key remote;
		size_t k;
		const struct sdp_media *m = &s->media[mi];
		const struct sdes_key *ours = late ? &cm->late_key : &cl->local;
		if (!sdes_answer_match(ours, 1, m->crypto, m->ncrypto, &remote, &k))
			callm_set_srtp(c, idx, true, ours, &remote);
		else if (late && cm->late_savp)
			err = EPROTO; /* SRTP required, answered without: no call */
		else if (!late)
			log_warn(CALL_TAG, "call %u: no usable crypto in the ACK's answer; SRTP keys unchanged",
				 c->id);
		sdes_key_wipe(&remote);
	}
	sdp_free(s);
	if (err == EPROTO && late) {
		call_end(c, 488, "Not Acceptable Here", "system", "caller answered our SRTP offer without SRTP");
		return;
	}
	if (err)
		log_warn(CALL_TAG, "call %u: the answer in the ACK moved the audio stream; media unchanged",
			 c->id);
}

bool callm_has_answer_for_a(const struct call *c)
{
	const struct cm *cm = c->media;
	return cm && cm->a_fixed && c->a.inv_st;
}

int callm_ringback(struct call *c, struct sbuf *out)
{
	struct cm *cm = c->media;
	if (!cm || !c->m->d.conf->ringback || cm->a_fixed || !cm->offer || cm->offer_from != 0)
		return ENOTSUP;
	int mi = cm->audio_idx;
	struct nego_buf buf = { .n = 0 };
	struct nego_in in = {
		.offer = &cm->offer->media[mi],
		.from = &cm->pol[0],
		.to = &cm->pol[1],
		.transcode = true,
	};
	struct nego_leg lf, lt;
	struct sdp_session *d = draft_of(cm->offer);
	if (!d)
		return ENOMEM;
	int err = nego_answer(&d->media[mi], &in, NULL, &buf, &lf, &lt);
	if (err) {
		free(d);
		return err;
	}
	/* the tone needs leg A's format; ENOSYS (no player) means no ringback */
	struct media_fmt f;
	nego_leg_media_fmt(&lf, &f);
	err = media_leg_set_format(engine(c->m), cm->mcall, 0, &f);
	/* keys before the first tone packet: an SRTP caller hears nothing
	 * in the clear */
	struct cm_leg *fl = &cm->leg[0];
	if (!err)
		err = callm_set_srtp(c, 0, fl->pend_srtp, &fl->pend_local, &fl->pend_remote);
	if (!err)
		err = media_leg_tone(engine(c->m), cm->mcall, 0, "ringback", 0);
	if (err) {
		free(d);
		if (err != ENOSYS)
			log_warn(CALL_TAG, "call %u: no ringback: %s", c->id, strerror(err));
		return err;
	}
	cm->tone = true;
	cm->leg[0].cur = lf;

	/* Our answer, from A's own offer: its attributes are A's and go;
	 * the direction is the offer's reversed. */
	const struct sdp_media *om = &cm->offer->media[mi];
	struct sdp_media *dm = &d->media[mi];
	d->nattrs = 0;
	d->dir = SDP_DIR_UNSET;
	d->nbw = 0;
	callm_strip_crypto(d);
	for (size_t i = 0; i < d->nmedia; i++) {
		d->media[i].nattrs = 0;
		d->media[i].nbw = 0;
	}
	enum sdp_dir rd = sdp_dir_reverse(sdp_direction_of(cm->offer, om));
	dm->dir = rd == SDP_SENDRECV ? SDP_DIR_UNSET : rd;
	if (fl->pend_srtp && !sdes_key_crypto(&fl->pend_local, &dm->crypto[0]))
		dm->ncrypto = 1;
	err = anchor(c, 0, &c->a, d, mi, out);
	free(d);
	if (!err) {
		cm->a_fixed = true;
		note_codec(c);
		log_debug(CALL_TAG, "call %u: ringback to the caller on %s/%u", c->id, lf.enc, lf.clock);
	} else {
		stop_tone(c);
	}
	return err;
}

/* --- DTMF ---------------------------------------------------------------------- */

int callm_send_dtmf(struct call *c, unsigned leg, char digit, uint32_t duration_ms)
{
	struct cm *cm = c->media;
	if (!cm)
		return ENOENT;
	return media_leg_send_dtmf(engine(c->m), cm->mcall, leg, digit, duration_ms);
}

/* --- life ---------------------------------------------------------------------- */

void callm_connect(struct call *c)
{
	struct cm *cm = c->media;
	if (cm && !cm->connected && !media_call_connect(engine(c->m), cm->mcall))
		cm->connected = true;
}

void callm_destroy(struct call *c, void (*done)(struct call *c))
{
	struct cm *cm = c->media;
	if (!cm) {
		done(c);
		return;
	}
	cm->done = done;
	if (media_call_destroy(engine(c->m), cm->mcall)) {
		cm_free(c);
		done(c);
	}
}
