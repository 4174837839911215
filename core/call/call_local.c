/*
 * Answers we give ourselves, with no phone on the other side: ringback
 * while the callee rings without early media, and the caller answered
 * for an app (voicemail, echo test, announcements), which then drives the
 * caller's media through the callm_app_* commands.
 */
#include "call_media_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/conf.h"
#include "../base/log.h"
#include "../media/codecs/codec.h"
#include "../media/media.h"
#include "../sdp/sdes.h"
#include "../sdp/sdp.h"
#include "call_nego.h"

bool callm_has_answer_for_a(const struct call *c)
{
	const struct call_media *cm = c->media;
	return cm && cm->a_fixed && c->a.inv_st;
}

/* Our answer to A's pending offer, chosen from it by A's policy: A's
 * format and keys are set (keys before the first packet we send: an SRTP
 * caller hears nothing in the clear), then tone (NULL: none) plays. */
static int answer_a(struct call *c, struct sbuf *out, const char *tone)
{
	struct call_media *cm = c->media;
	if (!cm || cm->a_fixed || !cm->offer || cm->offer_from != 0)
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
	struct sdp_session *d = callm_draft(cm->offer);
	if (!d)
		return ENOMEM;
	int err = nego_answer(&d->media[mi], &in, NULL, &buf, &lf, &lt);
	if (err) {
		free(d);
		return err;
	}
	struct media_fmt f;
	nego_leg_media_fmt(&lf, &f);
	err = media_leg_set_format(engine(c->m), cm->mcall, 0, &f);
	struct call_media_leg *fl = &cm->leg[0];
	if (!err)
		err = callm_set_srtp(c, 0, fl->pend_srtp, &fl->pend_local, &fl->pend_remote);
	if (!err && tone)
		err = media_leg_tone(engine(c->m), cm->mcall, 0, tone, 0);
	if (err) {
		free(d);
		/* ENOSYS: the engine cannot play (no ringback) */
		if (err != ENOSYS)
			log_warn(CALL_TAG, "call %u: cannot answer the caller ourselves: %s", c->id,
				 strerror(err));
		return err;
	}
	cm->tone = tone != NULL;
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
	if (c->late_offer && cm->late_srtp && !sdes_key_crypto(&cm->late_key, &dm->crypto[0])) {
		/* a delayed offer: this is our offer to A, with our key (and
		 * RTP/SAVP when A requires SRTP); its ACK answers it */
		dm->ncrypto = 1;
		if (cm->late_savp)
			dm->proto = PL("RTP/SAVP");
	}
	err = callm_anchor(c, 0, &c->a, d, mi, out);
	free(d);
	if (!err) {
		cm->a_fixed = true;
		callm_note_codec(c);
		log_debug(CALL_TAG, "call %u: we answer the caller on %s/%u%s%s", c->id, lf.enc,
			  lf.clock, tone ? " with " : "", tone ? tone : "");
	} else {
		callm_stop_tone(c);
	}
	return err;
}

int callm_ringback(struct call *c, struct sbuf *out)
{
	if (!c->media || !c->m->d.conf->ringback)
		return ENOTSUP;
	return answer_a(c, out, "ringback");
}

int callm_answer_local(struct call *c, struct sbuf *out)
{
	struct call_media *cm = c->media;
	int err;
	if (cm && cm->a_fixed && !cm->a_local && c->a.inv_st) {
		/* A has our answer already, in a 183 (ringback, or a callee's
		 * early media): the 2xx repeats it, one answer per offer */
		callm_stop_tone(c);
		err = cm->sent[0] ? sdp_print(out, cm->sent[0]) : EPROTO;
	} else {
		err = answer_a(c, out, NULL);
	}
	if (err)
		return err;
	cm->a_local = true;
	/* the caller's leg goes live alone: latching (NAT), RTP timeout, our
	 * RTCP, as a connected call's would */
	err = media_leg_start(engine(c->m), cm->mcall, 0);
	if (err)
		log_warn(CALL_TAG, "call %u: cannot start the caller's media: %s", c->id, strerror(err));
	return 0;
}

void callm_detach_b(struct call *c)
{
	struct call_media *cm = c->media;
	if (cm && cm->connected)
		media_leg_set_direction(engine(c->m), cm->mcall, 1, MEDIA_INACTIVE);
}

int callm_tone_a(struct call *c, const char *tone)
{
	struct call_media *cm = c->media;
	if (!cm)
		return ENOENT;
	int err = media_leg_tone(engine(c->m), cm->mcall, 0, tone, 0);
	if (!err)
		cm->tone = true;
	return err;
}

/* --- apps ---------------------------------------------------------------------- */

/* App plays carry tag + 1 on the wire, so the ringback's tag 0 never
 * reaches an app as its own */
int callm_app_play(struct call *c, const char *const *files, size_t n, bool loop, uint32_t tag)
{
	struct call_media *cm = c->media;
	if (!cm)
		return ENOENT;
	cm->tone = false;
	return media_leg_play(engine(c->m), cm->mcall, 0, files, n, loop, tag + 1);
}

int callm_app_tone(struct call *c, const char *tone, uint32_t tag)
{
	struct call_media *cm = c->media;
	if (!cm)
		return ENOENT;
	cm->tone = false;
	return media_leg_tone(engine(c->m), cm->mcall, 0, tone, tag + 1);
}

int callm_app_stop(struct call *c)
{
	struct call_media *cm = c->media;
	if (!cm)
		return ENOENT;
	cm->tone = false;
	return media_leg_stop(engine(c->m), cm->mcall, 0);
}

unsigned callm_app_rate(const struct call *c)
{
	const struct call_media *cm = c->media;
	const struct codec_desc *d = cm ? cm->leg[0].cur.codec : NULL;
	return d && d->pcm_rate >= 16000 ? 16000 : 8000;
}

int callm_app_record(struct call *c, const char *path, uint32_t tag)
{
	struct call_media *cm = c->media;
	if (!cm)
		return ENOENT;
	return media_call_record(engine(c->m), cm->mcall, path, MEDIA_REC_WAV, false, tag);
}

int callm_app_record_stop(struct call *c)
{
	struct call_media *cm = c->media;
	if (!cm)
		return ENOENT;
	return media_call_record_stop(engine(c->m), cm->mcall);
}

int callm_app_echo(struct call *c, bool on)
{
	struct call_media *cm = c->media;
	if (!cm)
		return ENOENT;
	return media_leg_echo(engine(c->m), cm->mcall, 0, on);
}
