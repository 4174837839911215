/*
 * Answers (RFC 3264 section 6) from a phone to an offer we passed on:
 * the callee's answer to the caller's INVITE (early or final), answers to
 * re-offers, and the answer in an ACK to an offer we made in a 2xx. Each
 * leg gets its own format and keys; the worker transcodes between them.
 */
#include "call_media_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/log.h"
#include "../media/media.h"
#include "../sdp/sdes.h"
#include "../sdp/sdp.h"
#include "call_nego.h"

/* --- answers ------------------------------------------------------------------ */


/* One line at info per answer: whether the call is relayed on one codec
 * or transcoded, and why (an admin asking "why is this call transcoded"
 * gets the answer from the log). fi made the offer, ans is the answer. */
static void log_codecs(struct call *c, unsigned fi, bool fixed, const struct sdp_media *ans)
{
	struct call_media *cm = c->media;
	const struct nego_leg *a = &cm->leg[0].cur, *b = &cm->leg[1].cur;
	if (!a->set || !b->set)
		return;
	if (nego_leg_same_codec(a, b)) {
		log_info(CALL_TAG, "call %u: relaying %s/%u, no transcoding (both phones use it)", c->id,
			 a->enc, a->clock);
		return;
	}
	unsigned ti = 1 - fi;
	const char *names[2] = { "caller", "callee" };
	struct nego_in in = {
		.offer = &cm->offer->media[cm->audio_idx],
		.from = &cm->pol[fi],
		.to = &cm->pol[ti],
	};
	char why[200];
	nego_why_transcode(why, sizeof(why), &in, ans, names[fi], names[ti],
			   fixed ? (cm->a_local ? "by an app" : "early (ringback or early media)") : NULL,
			   &cm->leg[fi].cur, &cm->leg[ti].cur);
	log_info(CALL_TAG, "call %u: transcoding %s/%u <-> %s/%u: %s", c->id, a->enc, a->clock, b->enc,
		 b->clock, why);
}

/* The answer from leg ti (sdp, sent by the phone of `by`) to the pending
 * offer of leg fi -> our answer to fi in out. */
static int take_answer(struct call *c, unsigned fi, struct leg *from, const struct leg *by,
		       const char *sdp, size_t len, struct sbuf *out, uint16_t *status)
{
	struct call_media *cm = c->media;
	unsigned ti = 1 - fi;
	struct sdp_session *a;
	int ami;
	int err = callm_parse(sdp, len, &a, &ami, status);
	if (err)
		return err;
	err = callm_apply_remote(c, ti, by, a, ami);
	if (err) {
		sdp_free(a);
		*status = err == EBADMSG ? 488 : 500;
		return err;
	}
	if (!cm->offer || cm->offer_from != fi) {
		/* no offer of ours pending (an offer in a 2xx to a re-INVITE
		 * without SDP): relay it anchored, as it is */
		struct sdp_session *d = callm_draft(a);
		err = d ? 0 : ENOMEM;
		if (d) {
			callm_strip_crypto(d);
			err = callm_anchor(c, fi, from, d, ami, out);
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
	bool fixed = fi == 0 && cm->a_fixed && (c->a.inv_st || cm->a_local);
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
		d = callm_draft(a);
		if (!d)
			err = ENOMEM;
		else if (nego_answer(&d->media[mi], &in, &a->media[mi], &buf, &lf, &lt))
			err = callm_refuse(c, status, 488, "no codec for both sides");
		if (!err) {
			struct call_media_leg *fl = &cm->leg[fi];
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
			err = callm_anchor(c, fi, from, d, mi, out);
			if (err)
				*status = 500;
		}
		free(d);
		if (!err) {
			struct call_media_leg *fl = &cm->leg[fi];
			callm_set_format(c, fi, &lf);
			callm_set_srtp(c, fi, fl->pend_srtp, &fl->pend_local, &fl->pend_remote);
			if (fi == 0 && c->a.inv_st)
				cm->a_fixed = true;
		}
	}
	if (!err) {
		callm_set_format(c, ti, &lt);
		callm_set_srtp(c, ti, t_on, &t_local, &t_remote);
		callm_note_codec(c);
		if (fi == 0)
			callm_stop_tone(c);
		log_codecs(c, fi, fixed, &a->media[mi]);
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
	int err = take_answer(c, 0, &c->a, l, sdp, len, out, status);
	struct call_media *cm = c->media;
	if (!err && cm && cm->a_local && !c->a.inv_st)
		cm->a_local = false; /* from now on offers are new exchanges */
	return err;
}

int callm_reanswer(struct call *c, struct leg *from, const char *sdp, size_t len,
		   struct sbuf *out, uint16_t *status)
{
	unsigned fi = from == &c->a ? 0 : 1;
	int err = take_answer(c, fi, from, call_other_leg(from), sdp, len, out, status);
	struct call_media *cm = c->media;
	if (!err && cm->offer && cm->offer_from == fi) {
		sdp_free(cm->offer); /* answered: the next one is a new exchange */
		cm->offer = NULL;
	}
	return err;
}
