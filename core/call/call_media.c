/*
 * The call's media: the only call file that knows SDP and the media
 * engine. Each leg's SDP is rewritten to point at a Hookflash port pair
 * (media anchoring) and the other side's real addresses go to the media
 * worker, which relays between them. One audio stream per call is
 * anchored (the first active RTP audio m= line); other streams are
 * refused with port 0, which every endpoint understands. The codec list
 * offered to the callee is what the caller offered: transcoding is the
 * media engine issue's.
 */
#include "call_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/log.h"
#include "../media/media.h"
#include "../pbx/pbx.h"
#include "../sdp/sdp.h"
#include "../sip/transport.h"
#include "../sip/tsx.h"

struct cm {
	uint32_t mcall;
	uint16_t port[2];              /* our RTP port towards A (0), B (1) */
	int audio_idx;                 /* the anchored m= line */
	struct sdp_session *sent[2];   /* last SDP we sent on A, on B */
	uint64_t sess_id;
	void (*done)(struct call *c);
	struct call *c;
	bool connected, destroying;
};

static struct media_engine *engine(struct call_mgr *m)
{
	return m->media_engine;
}

int callm_engine_alloc(struct call_mgr *m)
{
	const struct conf *cf = &m->p->conf;
	struct media_cfg mc = {
		.nworkers = cf->media_workers,
		.rtp_min = cf->rtp_min,
		.rtp_max = cf->rtp_max,
		.bind_addr = cf->nbinds ? cf->binds[0] : NULL,
		.rtp_timeout_ms = cf->rtp_timeout * 1000u,
		.coalesce_us = cf->media_coalesce_us,
		.opus_low_cpu = cf->opus_low_cpu,
	};
	struct media_engine *me;
	int err = media_engine_alloc(&me, m->p->loop, &mc);
	if (err) {
		log_err(CALL_TAG, "cannot start the media engine: %s", strerror(err));
		return err;
	}
	m->media_engine = me;
	log_info(CALL_TAG, "media: %u worker(s), RTP ports %u-%u", media_engine_nworkers(me),
		 cf->rtp_min, cf->rtp_max);
	return 0;
}

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
		sdp_free(cm->sent[0]);
		sdp_free(cm->sent[1]);
		free(cm);
		c->media = NULL;
		done(c);
	}
	media_engine_free(engine(m));
}

static void cm_free(struct call *c)
{
	struct cm *cm = c->media;
	if (!cm)
		return;
	sdp_free(cm->sent[0]);
	sdp_free(cm->sent[1]);
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
	case MEDIA_EV_LATCHED:
	case MEDIA_EV_STATS:
	case MEDIA_EV_DTMF:
	case MEDIA_EV_PLAY_DONE:
	case MEDIA_EV_RECORD_DONE:
	case MEDIA_EV_TALK:
	case MEDIA_EV_SILENCE:
		break;
	}
}

int callm_create(struct call *c)
{
	struct cm *cm = calloc(1, sizeof(*cm));
	if (!cm)
		return ENOMEM;
	cm->c = c;
	cm->audio_idx = -1;
	cm->sess_id = ((uint64_t)c->id << 20) ^ (uint64_t)call_wall_ms();
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

/* The address our media is at, as seen from this leg's phone. */
static void local_addr(struct call *c, struct leg *l, char *out, size_t cap)
{
	uint16_t port;
	sip_transport_local_for(c->m->p->tp, &l->dlg.peer, out, cap, &port);
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

/* Writes SDP `in` re-anchored on our port of leg idx into out. */
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

static void note_codec(struct call *c, const struct sdp_session *s, int mi)
{
	const struct sdp_media *m = &s->media[mi];
	for (size_t i = 0; i < m->nfmts; i++) {
		struct pl enc;
		uint32_t clock;
		uint8_t ch;
		if (!sdp_fmt_codec(&m->fmts[i], &enc, &clock, &ch) && !pl_casestr(enc, "telephone-event")) {
			snprintf(c->codec, sizeof(c->codec), "%.*s/%u", (int)(enc.l > 20 ? 20 : enc.l), enc.p, clock);
			return;
		}
	}
}

int callm_offer_a_to_b(struct call *c, const char *sdp, size_t len, struct sbuf *out,
		       uint16_t *status)
{
	struct cm *cm = c->media;
	struct sdp_session *s;
	int mi;
	int err = parse(sdp, len, &s, &mi, status);
	if (err)
		return err;
	cm->audio_idx = mi;
	err = apply_remote(c, 0, s, mi);
	/* the callee's SDP points at our B-side port; the address is the one
	 * the caller reaches us on (one interface, or external_address) */
	if (!err)
		err = anchor(c, 1, &c->a, s, mi, out);
	sdp_free(s);
	if (err && err != EBADMSG)
		*status = 500;
	/* Relay from the start: early media (183, or a callee that talks the
	 * instant it answers) must not be lost waiting for the 200. Packets
	 * towards a leg whose address is not known yet are simply dropped. */
	if (!err)
		callm_connect(c);
	return err;
}

int callm_answer_b_to_a(struct call *c, struct leg *l, const char *sdp, size_t len,
			struct sbuf *out, uint16_t *status)
{
	(void)l;
	struct sdp_session *s;
	int mi;
	int err = parse(sdp, len, &s, &mi, status);
	if (err)
		return err;
	err = apply_remote(c, 1, s, mi);
	if (!err)
		err = anchor(c, 0, &c->a, s, mi, out);
	if (!err)
		note_codec(c, s, mi);
	sdp_free(s);
	if (err && err != EBADMSG)
		*status = 500;
	return err;
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
	if (!err)
		err = anchor(c, 1 - fi, to ? to : from, s, mi, out);
	sdp_free(s);
	if (err && err != EBADMSG)
		*status = 500;
	return err;
}

int callm_reanswer(struct call *c, struct leg *from, const char *sdp, size_t len,
		   struct sbuf *out, uint16_t *status)
{
	unsigned fi = from == &c->a ? 0 : 1;
	struct sdp_session *s;
	int mi;
	int err = parse(sdp, len, &s, &mi, status);
	if (err)
		return err;
	err = apply_remote(c, 1 - fi, s, mi);
	if (!err)
		err = anchor(c, fi, from, s, mi, out);
	if (!err)
		note_codec(c, s, mi);
	sdp_free(s);
	if (err && err != EBADMSG)
		*status = 500;
	return err;
}

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
