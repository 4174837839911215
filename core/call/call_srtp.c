/*
 * SRTP per leg (RFC 4568 SDES) for the call's media: Hookflash answers
 * each leg's crypto with a fresh key of its own, offers its own keys to
 * the other leg as that leg's policy says, and hands each leg's pair of
 * keys to the media worker. One phone's key never reaches the other.
 * Keys are never logged.
 */
#include "call_media_int.h"

#include <errno.h>
#include <string.h>

#include "../base/log.h"
#include "../media/media.h"

void callm_strip_crypto(struct sdp_session *d)
{
	for (size_t i = 0; i < d->nmedia; i++)
		d->media[i].ncrypto = 0;
}

/* "RTP/AVP" or "RTP/AVPF" with or without the S of SRTP; flip_fb: the
 * other of AVP/AVPF than in. */
static struct pl rtp_proto(struct pl in, bool secure, bool flip_fb)
{
	bool fb = in.l && (in.p[in.l - 1] == 'F' || in.p[in.l - 1] == 'f');
	fb = fb != flip_fb;
	if (secure)
		return fb ? PL("RTP/SAVPF") : PL("RTP/SAVP");
	return fb ? PL("RTP/AVPF") : PL("RTP/AVP");
}

static bool keys_equal(const struct sdes_key *a, const struct sdes_key *b)
{
	if (a->suite != b->suite || a->nkeys != b->nkeys)
		return false;
	size_t n = sdes_suite_key_len(a->suite);
	for (unsigned i = 0; i < a->nkeys; i++)
		if (memcmp(a->keys[i].key, b->keys[i].key, n) || a->keys[i].mki != b->keys[i].mki ||
		    a->keys[i].mki_len != b->keys[i].mki_len)
			return false;
	return true;
}

/* Turns SRTP on, off or to new keys on leg idx, when that changes
 * anything (a new context would lose the replay window and ROC). */
int callm_set_srtp(struct call *c, unsigned idx, bool on, const struct sdes_key *local,
		    const struct sdes_key *remote)
{
	struct call_media *cm = c->media;
	struct call_media_leg *l = &cm->leg[idx];
	if (!on && !l->srtp)
		return 0;
	if (on && l->srtp && keys_equal(&l->local, local) && keys_equal(&l->remote, remote))
		return 0;
	int err = on ? media_leg_set_srtp(engine(c->m), cm->mcall, idx, local, remote)
		     : media_leg_set_srtp(engine(c->m), cm->mcall, idx, NULL, NULL);
	if (err) {
		log_warn(CALL_TAG, "call %u: cannot %s SRTP on the %s leg: %s", c->id, on ? "start" : "stop",
			 idx ? "callee" : "caller", strerror(err));
		return err;
	}
	if (on) {
		struct sdes_key lk = *local, rk = *remote;
		l->local = lk;
		l->remote = rk;
		sdes_key_wipe(&lk);
		sdes_key_wipe(&rk);
	} else {
		sdes_key_wipe(&l->local);
		sdes_key_wipe(&l->remote);
	}
	l->srtp = on;
	log_debug(CALL_TAG, "call %u: %s leg %s", c->id, idx ? "callee" : "caller",
		  on ? "SRTP" : "plain RTP");
	return 0;
}

/* The offerer's crypto (RFC 4568 7.1.2): answered with a fresh key of
 * ours when the leg's policy allows SRTP. */
int callm_take_offer_crypto(struct call *c, unsigned fi, const struct sdp_media *m,
			     uint16_t *status)
{
	struct call_media *cm = c->media;
	struct call_media_leg *l = &cm->leg[fi];
	enum nego_srtp pol = cm->pol[fi].srtp;
	bool secure = sdp_proto_is_secure(m->proto);
	sdes_key_wipe(&l->pend_local);
	sdes_key_wipe(&l->pend_remote);
	l->pend_srtp = false;
	if (m->ncrypto && pol != NEGO_SRTP_OFF) {
		int err = sdes_answer(m->crypto, m->ncrypto, NULL, 0, &l->pend_local, &l->pend_remote, NULL);
		if (!err) {
			l->pend_srtp = true;
			/* the same leg, the same suite: keep our key (RFC 4568 7.1.4) */
			if (l->srtp && l->local.suite == l->pend_local.suite) {
				uint32_t tag = l->pend_local.tag;
				l->pend_local = l->local;
				l->pend_local.tag = tag;
			}
		} else if (err == EIO) {
			return callm_refuse(c, status, 500, "no random numbers for SRTP keys");
		}
	}
	if (l->pend_srtp) {
		l->phone_savp = secure;
		return 0;
	}
	if (secure && pol == NEGO_SRTP_OFF)
		return callm_refuse(c, status, 488, "SRTP is off for this extension");
	if (secure)
		return callm_refuse(c, status, 488, "no usable SDES crypto suite");
	if (pol == NEGO_SRTP_REQUIRED && !(fi == 0 && cm->late_savp))
		return callm_refuse(c, status, 488, "SRTP required"); /* (a delayed offer gets ours) */
	return 0;
}

/* Our crypto towards leg ti: RTP/SAVP with every suite when its policy
 * requires SRTP; best effort (RTP/AVP with a=crypto, RFC 4568 allows the
 * answerer to ignore it) when optional and the offerer's leg is SRTP, so
 * an encrypted call stays encrypted where the phone can; else none.
 * A phone that requires SRTP refuses RTP/AVP outright (488: baresip
 * srtp-mand, Yealink "compulsory", Grandstream "enabled and forced"), and
 * a plain one may refuse RTP/SAVP. The retries go through the profiles
 * the policy allows that the first offer did not use: the other of
 * RTP/AVP and RTP/SAVP, then RTP/SAVPF (baresip srtp-mandf takes nothing
 * else; with RTP/AVPF in the offer, RTP/SAVP), with the keys already
 * offered (other forks may still answer them). */
int callm_make_offer_crypto(struct call *c, unsigned fi, unsigned ti, struct sdp_media *m,
			     struct pl in_proto, int retry, uint16_t *status)
{
	struct call_media *cm = c->media;
	struct call_media_leg *l = &cm->leg[ti];
	enum nego_srtp pol = cm->pol[ti].srtp;
	bool want = pol == NEGO_SRTP_REQUIRED ||
		    (pol == NEGO_SRTP_OPTIONAL && cm->leg[fi].pend_srtp);
	bool savp = want && pol == NEGO_SRTP_REQUIRED;
	if (!retry && l->srtp && l->phone_savp && pol != NEGO_SRTP_OFF)
		want = savp = true; /* a re-offer to a phone on RTP/SAVP */
	bool fb_flip = false;
	if (retry) {
		/* step 1: the other of AVP/SAVP, where allowed; step 2: SAVPF */
		bool flip_ok = l->sent_savp ? pol != NEGO_SRTP_REQUIRED : pol != NEGO_SRTP_OFF;
		int step = flip_ok ? retry : retry + 1;
		if (step > 2 || (step == 2 && pol == NEGO_SRTP_OFF))
			return ENOENT;
		savp = step == 2 || !l->sent_savp;
		fb_flip = step == 2;
		want = want || savp;
	}
	bool keep = retry && l->noffered;
	if (!keep) {
		for (size_t k = 0; k < l->noffered; k++)
			sdes_key_wipe(&l->offered[k]);
		l->noffered = 0;
	}
	if (!retry)
		l->sent_savp = savp;
	l->offered_savp = false;
	m->ncrypto = 0;
	m->proto = rtp_proto(in_proto, savp, fb_flip);
	if (!want)
		return 0;
	int err = 0;
	if (keep) {
		/* the keys of the first offer */
	} else if (l->srtp) {
		/* a re-offer on an SRTP leg keeps its key */
		l->offered[0] = l->local;
		l->offered[0].tag = 1;
		l->noffered = 1;
		err = 0;
	} else {
		err = sdes_offer(l->offered, SDES_NSUITES, NULL, 0, &l->noffered);
	}
	if (err)
		return callm_refuse(c, status, 500, "no random numbers for SRTP keys");
	for (size_t k = 0; k < l->noffered; k++)
		if (!sdes_key_crypto(&l->offered[k], &m->crypto[m->ncrypto]))
			m->ncrypto++;
	l->offered_savp = pol == NEGO_SRTP_REQUIRED;
	return 0;
}

/* The answering leg's crypto, to our offer. */
int callm_take_answer_crypto(struct call *c, unsigned ti, const struct sdp_media *m,
			      bool *on, struct sdes_key *local, struct sdes_key *remote,
			      uint16_t *status)
{
	struct call_media_leg *l = &((struct call_media *)c->media)->leg[ti];
	*on = false;
	if (!m->ncrypto || !l->noffered) {
		if (l->offered_savp || sdp_proto_is_secure(m->proto))
			return callm_refuse(c, status, 488, "the callee answered RTP/SAVP without crypto");
		return 0;
	}
	size_t idx;
	if (sdes_answer_match(l->offered, l->noffered, m->crypto, m->ncrypto, remote, &idx))
		return callm_refuse(c, status, 488, "the callee's crypto answer does not match our offer");
	*local = l->offered[idx];
	*on = true;
	l->phone_savp = sdp_proto_is_secure(m->proto);
	return 0;
}

