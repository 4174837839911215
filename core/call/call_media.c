/*
 * The call's media: the only call files that know SDP and the media
 * engine are this one (the engine, each call's media state, its events),
 * call_sdp.c (parsing and anchoring), call_offer.c, call_answer.c and
 * call_local.c (offer/answer by verb) and call_srtp.c (SDES keys). Each
 * leg's SDP is rewritten to point at a Hookflash port pair (media
 * anchoring) and the other side's real addresses go to the media worker.
 * One audio stream per call is anchored (the first active RTP audio m=
 * line); other streams are refused with port 0, which every endpoint
 * understands.
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
	struct call_media_engine *e = calloc(1, sizeof(*e));
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
	/* the workers and the RTP ports are the engine's line (the ports it
	 * really uses: whole pairs); this one adds only the codec policy */
	log_info(CALL_TAG, "media: codecs %s%s", cf->codecs,
		 cf->opus_low_cpu ? ", opus low-CPU" : "");
	return 0;
}

void callm_engine_totals(const struct call_mgr *m, uint64_t *relayed, uint64_t *lost)
{
	const struct call_media_engine *e = m->media_engine;
	*relayed = *lost = 0;
	if (e)
		media_engine_totals(e->me, relayed, lost);
}

static void media_free(struct call *c);

void callm_engine_free(struct call_mgr *m)
{
	/* calls still waiting for their final statistics end now, without */
	struct list_node *n, *tmp;
	list_foreach_safe(&m->calls, n, tmp) {
		struct call *c = container_of(n, struct call, le);
		struct call_media *cm = c->media;
		if (!cm || !cm->done)
			continue;
		void (*done)(struct call *) = cm->done;
		cm->done = NULL;
		media_free(c);
		done(c);
	}
	struct call_media_engine *e = cme(m);
	if (!e)
		return;
	media_engine_free(e->me);
	free(e);
	m->media_engine = NULL;
}

static void media_free(struct call *c)
{
	struct call_media *cm = c->media;
	if (!cm)
		return;
	sdp_free(cm->sent[0]);
	sdp_free(cm->sent[1]);
	sdp_free(cm->offer);
	/* keys never linger in freed memory */
	for (int i = 0; i < 2; i++) {
		struct call_media_leg *l = &cm->leg[i];
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
	struct call_media *cm = c->media;
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
			media_free(c);
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
		if (cm && ev->leg == 0 && ev->err && !ev->tag)
			cm->tone = false;
		if (ev->leg == 0 && ev->tag) /* an app's (callm_app_play) */
			call_app_event(c, &(struct app_event){ .type = APP_EV_PLAY_DONE,
							      .tag = ev->tag - 1, .err = ev->err });
		break;
	case MEDIA_EV_RECORD_DONE:
		call_app_event(c, &(struct app_event){ .type = APP_EV_RECORD_DONE, .tag = ev->tag,
						      .err = ev->err, .duration_ms = ev->duration_ms });
		break;
	case MEDIA_EV_TALK:
	case MEDIA_EV_SILENCE:
		if (ev->leg == 0)
			call_app_event(c, &(struct app_event){
				.type = ev->type == MEDIA_EV_TALK ? APP_EV_TALK : APP_EV_SILENCE });
		break;
	case MEDIA_EV_LATCHED:
	case MEDIA_EV_STATS:
		break;
	}
}

int callm_create(struct call *c, const struct ext *caller, const struct ext *callee)
{
	struct call_media *cm = calloc(1, sizeof(*cm));
	if (!cm)
		return ENOMEM;
	struct call_media_engine *e = cme(c->m);
	cm->c = c;
	cm->audio_idx = -1;
	cm->sess_id = ((uint64_t)c->id << 20) ^ (uint64_t)call_wall_ms();
	/* the system default as it is now (a reload may have changed it;
	 * this call keeps what it started with) */
	cm->dflt = e->dflt;
	char why[128];
	if (nego_codecs_parse(&cm->dflt, c->m->d.conf->codecs, why, sizeof(why)) || !cm->dflt.ncodecs)
		cm->dflt = e->dflt;
	nego_policy_for(&cm->pol[0], caller ? caller->codecs : NULL, caller ? caller->srtp : NULL,
			&cm->dflt);
	nego_policy_for(&cm->pol[1], callee ? callee->codecs : NULL, callee ? callee->srtp : NULL,
			&cm->dflt);
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

void callm_stop_tone(struct call *c)
{
	struct call_media *cm = c->media;
	if (cm->tone) {
		cm->tone = false;
		media_leg_stop(engine(c->m), cm->mcall, 0);
	}
}

/* --- DTMF ---------------------------------------------------------------------- */

int callm_send_dtmf(struct call *c, unsigned leg, char digit, uint32_t duration_ms)
{
	struct call_media *cm = c->media;
	if (!cm)
		return ENOENT;
	return media_leg_send_dtmf(engine(c->m), cm->mcall, leg, digit, duration_ms);
}

/* --- life ---------------------------------------------------------------------- */

void callm_connect(struct call *c)
{
	struct call_media *cm = c->media;
	if (cm && !cm->connected && !media_call_connect(engine(c->m), cm->mcall))
		cm->connected = true;
}

void callm_destroy(struct call *c, void (*done)(struct call *c))
{
	struct call_media *cm = c->media;
	if (!cm) {
		done(c);
		return;
	}
	cm->done = done;
	if (media_call_destroy(engine(c->m), cm->mcall)) {
		media_free(c);
		done(c);
	}
}

