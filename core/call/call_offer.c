/*
 * Offers (RFC 3264 section 5): the caller's INVITE offer kept until a
 * destination answers it, our offer to the B legs made from it, the
 * stand-in for a delayed offer, and offers in the middle of a call
 * (re-INVITE, UPDATE) passed to the other leg.
 */
#include "call_media_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/log.h"
#include "../ident/ext_table.h"
#include "../media/media.h"
#include "../sdp/sdes.h"
#include "../sdp/sdp.h"
#include "call_nego.h"

/* --- offers ------------------------------------------------------------------- */

/* Leg fi's offer s (owned: kept until the answer): its crypto is taken
 * (answered with a key of ours) and it waits for an answer. */
static int take_offer(struct call *c, unsigned fi, struct sdp_session *s, int mi,
		      uint16_t *status)
{
	struct call_media *cm = c->media;
	int err = callm_take_offer_crypto(c, fi, &s->media[mi], status);
	if (err) {
		sdp_free(s);
		return err;
	}
	if (cm->offer != s)
		sdp_free(cm->offer);
	cm->offer = s;
	cm->offer_from = fi;
	cm->audio_idx = mi;
	return 0;
}

/* Our offer to the other leg from the pending offer of leg fi, anchored,
 * into out; retry: 1, 2 for another RTP profile (callm_make_offer_crypto). */
static int offer_from(struct call *c, unsigned fi, struct leg *towards, struct sbuf *out,
		      int retry, uint16_t *status)
{
	struct call_media *cm = c->media;
	unsigned ti = 1 - fi;
	const struct sdp_session *s = cm->offer;
	int mi = cm->audio_idx;
	struct sdp_session *d = callm_draft(s);
	if (!d)
		return callm_refuse(c, status, 500, "out of memory");
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
	int err = 0;
	if (nego_offer(&d->media[mi], &in, &buf))
		err = callm_refuse(c, status, 488, "no common codec");
	if (!err)
		err = callm_make_offer_crypto(c, fi, ti, &d->media[mi], s->media[mi].proto, retry, status);
	if (!err) {
		err = callm_anchor(c, ti, towards, d, mi, out);
		if (err)
			*status = 500;
	}
	free(d);
	return err;
}

static int make_offer(struct call *c, unsigned fi, struct sdp_session *s, int mi,
		      struct leg *towards, struct sbuf *out, uint16_t *status)
{
	int err = take_offer(c, fi, s, mi, status);
	return err ? err : offer_from(c, fi, towards, out, 0, status);
}

int callm_late_offer(struct call *c, struct sbuf *out, uint16_t *status)
{
	struct call_media *cm = c->media;
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

int callm_take_offer_a(struct call *c, const char *sdp, size_t len, uint16_t *status)
{
	struct sdp_session *s;
	int mi;
	int err = callm_parse(sdp, len, &s, &mi, status);
	if (err)
		return err;
	err = callm_apply_remote(c, 0, &c->a, s, mi);
	if (err) {
		sdp_free(s);
		*status = err == EBADMSG ? 488 : 500;
		return err;
	}
	return take_offer(c, 0, s, mi, status);
}

void callm_set_callee(struct call *c, const struct ext *callee)
{
	struct call_media *cm = c->media;
	if (cm)
		nego_policy_for(&cm->pol[1], callee ? callee->codecs : NULL,
				callee ? callee->srtp : NULL, &cm->dflt);
}

int callm_offer_to_b(struct call *c, struct sbuf *out, uint16_t *status)
{
	struct call_media *cm = c->media;
	*status = 500;
	if (!cm || !cm->offer || cm->offer_from != 0)
		return EPROTO;
	/* the callee's SDP points at our B-side port; the address is the one
	 * the caller reaches us on (one interface, or external_address).
	 * Not connected yet: the engine relays once both legs have their
	 * formats and keys (callee's answer, early or final), so nothing the
	 * callee sends before it answers can reach an SRTP caller in the
	 * clear, or the caller in a codec it never agreed to. */
	return offer_from(c, 0, &c->a, out, 0, status);
}

int callm_retry_offer_to_b(struct call *c, uint16_t status, int attempt, struct sbuf *out)
{
	struct call_media *cm = c->media;
	if (status != 488 && status != 415 && status != 606)
		return ENOENT;
	if (!cm || !cm->offer || cm->offer_from != 0 || attempt < 1 || attempt > 2)
		return ENOENT;
	uint16_t st = 500;
	int err = offer_from(c, 0, &c->a, out, attempt, &st);
	if (!err) {
		char now[16];
		pl_strcpy(cm->sent[1]->media[cm->audio_idx].proto, now, sizeof(now));
		log_info(CALL_TAG, "call %u: the callee refused our offer (%u): offering %s (try %d)",
			 c->id, status, now, attempt + 1);
	}
	return err ? ENOENT : 0;
}

int callm_reoffer(struct call *c, struct leg *from, const char *sdp, size_t len,
		  struct sbuf *out, uint16_t *status)
{
	unsigned fi = from == &c->a ? 0 : 1;
	struct leg *to = call_other_leg(from);
	struct sdp_session *s;
	int mi;
	int err = callm_parse(sdp, len, &s, &mi, status);
	if (err)
		return err;
	err = callm_apply_remote(c, fi, from, s, mi);
	if (err) {
		sdp_free(s);
		*status = err == EBADMSG ? 488 : 500;
		return err;
	}
	return make_offer(c, fi, s, mi, to ? to : from, out, status);
}

void callm_forget_offer(struct call *c)
{
	struct call_media *cm = c->media;
	if (cm) {
		sdp_free(cm->offer);
		cm->offer = NULL;
	}
}

int callm_our_sdp(struct call *c, const struct leg *l, struct sbuf *out)
{
	struct call_media *cm = c->media;
	unsigned idx = l == &c->a ? 0 : 1;
	if (!cm || !cm->sent[idx])
		return ENOENT;
	return sdp_print(out, cm->sent[idx]);
}

void callm_ack_answer(struct call *c, struct leg *l, const char *sdp, size_t len)
{
	struct call_media *cm = c->media;
	unsigned idx = l == &c->a ? 0 : 1;
	struct sdp_session *s;
	int mi;
	uint16_t status;
	if (!cm || callm_parse(sdp, len, &s, &mi, &status)) {
		log_warn(CALL_TAG, "call %u: the %s's answer in its ACK is unusable; media unchanged",
			 c->id, idx ? "callee" : "caller");
		return;
	}
	int err = mi == cm->audio_idx ? callm_apply_remote(c, idx, l, s, mi) : EPROTO;
	struct call_media_leg *cl = &cm->leg[idx];
	struct nego_leg nl;
	if (!err && !nego_leg_from_answer(&nl, &s->media[mi]) && !nego_leg_same_codec(&nl, &cl->cur))
		callm_set_format(c, idx, &nl);
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
