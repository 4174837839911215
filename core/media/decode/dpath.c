/*
 * The processing state of a call (dpath.h): allocated on the worker by the
 * first command that needs more than a relay, planned again after every
 * change (which direction is encoded, which leg decoded, at what rate), and
 * the worker's side of the format, SRTP and DTMF commands. Codec, jitter
 * buffer and DTMF states are built here, at command time, never on the
 * packet path; a direction that goes back to pass-through frees them.
 *
 * Why not struct transcoder: the decoded PCM must be reachable in the
 * middle (play sources replace it, recording and in-band DTMF and VAD read
 * it, tones are mixed into it), so a leg has a decode stage (mp_in) and an
 * encode stage (mp_out) of its own, joined at the tick; the transcoder's
 * FIFO-and-ptime logic is what mp_out does.
 */
#include "dpath.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "../../base/log.h"
#include "../audio/asource.h"
#include "../audio/arecord.h"
#include "../codecs/codec.h"
#include "../dtmf/dtmf_inband.h"
#include "jbuf.h"
#include "../rtp/srtp.h"

/* Our opus encoder. Narrowband (the call runs at 8 kHz: a G.711 partner
 * or in-band DTMF) is what most transcoded calls are: there SILK alone
 * codes, complexity 1 costs about 60% of the default 5 for speech that
 * G.711 on the other side limits anyway, and 16 kbit/s is where SILK
 * narrowband stops improving (tests/bench/transcode_bench.c). Wideband
 * keeps libopus' defaults. In-band FEC only when the phone asked for it
 * (useinbandfec=1, RFC 7587): LBRR costs encoder time and bits. */
#define OPUS_COMPLEXITY_NB 1
#define OPUS_BITRATE_NB 16000
#define OPUS_COMPLEXITY_WB 5
/* --opus-low-cpu codes with CELT, which needs more bits than SILK for the
 * same speech; at 8 kHz 24 kbit/s costs ~2 us a frame more than 16 */
#define OPUS_BITRATE_NB_CELT 24000

static void dtmf_rx_h(const struct dtmf_ev *ev, void *arg);
static void dtmf_ib_h(const struct dtmf_ev *ev, void *arg);

/* Our streams' SSRC and first sequence number and timestamp (RFC 3550
 * 5.1, 8.1): random per stream, so two Hookflash processes (or one after
 * a restart) never start streams alike, and an off-path guess of the
 * sequence is hard. Not secrets, so a failed getrandom falls back to the
 * clock mixed with the stream's address. */
static void stream_ids(struct mp_out *o)
{
	uint32_t v[3];
	if (getrandom(v, sizeof(v), GRND_NONBLOCK) != (ssize_t)sizeof(v)) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		uint64_t x = ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec) ^
			     (uint64_t)(uintptr_t)o;
		for (int i = 0; i < 3; i++) {
			x = x * 6364136223846793005u + 1442695040888963407u; /* PCG step */
			v[i] = (uint32_t)(x >> 32);
		}
	}
	o->ssrc = v[0];
	o->seq = (uint16_t)v[1];
	o->ts = v[2];
}

struct dpath *dpath_get(struct mcall *c)
{
	if (c->proc)
		return c->proc;
	struct dpath *mp = calloc(1, sizeof(*mp));
	if (!mp) {
		log_err(MEDIA_TAG, "call %u: no memory for media processing", c->id);
		return NULL;
	}
	mp->call = c;
	mp->relay_dtmf = true;
	mp->rate = 8000;
	for (unsigned i = 0; i < 2; i++) {
		mp->in[i].mp = mp;
		mp->in[i].idx = i;
		mp->out[i].mp = mp;
		mp->out[i].idx = i;
		stream_ids(&mp->out[i]);
		mp->out[i].marker = true;
	}
	c->proc = mp;
	return mp;
}

static void in_codec_free(struct mp_in *in)
{
	jbuf_free(in->jb);
	codec_dec_free(in->dec);
	dtmf_inband_rx_free(in->ibrx);
	in->jb = NULL;
	in->dec = NULL;
	in->ibrx = NULL;
	in->ib_active = false;
	in->flen = 0;
	in->have = false;
}

static void out_codec_free(struct mp_out *o)
{
	codec_enc_free(o->enc);
	o->enc = NULL;
	o->flen = 0;
}

void dpath_free(struct mcall *c)
{
	struct dpath *mp = c->proc;
	if (!mp)
		return;
	dpath_tick_stop(mp);
	for (unsigned i = 0; i < 2; i++) {
		in_codec_free(&mp->in[i]);
		out_codec_free(&mp->out[i]);
		dtmf_inband_tx_free(mp->out[i].ibtx);
		playrec_play_end(mp, i, ECANCELED, false);
		srtp_ctx_free(mp->srtp[i]);
	}
	playrec_record_end(mp, 0, false);
	free(mp);
	c->proc = NULL;
}

static bool decodable(const struct dpath *mp, unsigned i)
{
	return mp->has_fmt[i] && mp->fmt[i].codec;
}

/* The call's PCM rate: 16 kHz when every leg with a format is wideband
 * and carries its digits as RFC 4733 (SpanDSP's in-band DTMF works at
 * 8 kHz), else 8 kHz. Every codec we have runs at either natively. */
static uint32_t call_rate(const struct dpath *mp)
{
	bool any = false;
	for (unsigned i = 0; i < 2; i++) {
		if (!mp->has_fmt[i])
			continue;
		const struct media_fmt *f = &mp->fmt[i];
		if (!f->codec || f->codec->pcm_rate < 16000 || f->dtmf_pt < 0 ||
		    !codec_rate_ok(f->codec, 16000))
			return 8000;
		any = true;
	}
	return any ? 16000 : 8000;
}

static bool same_format(const struct media_fmt *a, const struct media_fmt *b)
{
	return a->codec == b->codec && a->ptime == b->ptime;
}

static int in_build(struct dpath *mp, unsigned i)
{
	struct mp_in *in = &mp->in[i];
	const struct media_fmt *f = &mp->fmt[i];
	if (in->dec)
		return 0;
	struct jbuf_cfg jc = {
		.clock_rate = f->codec->rtp_clock,
		.ptime_ms = f->ptime,
	};
	int err = jbuf_alloc(&in->jb, &jc);
	if (!err)
		err = codec_dec_alloc(&in->dec, f->codec, mp->rate);
	if (!err && f->dtmf_pt < 0)
		err = dtmf_inband_rx_alloc(&in->ibrx, dtmf_ib_h, in);
	if (err) {
		in_codec_free(in);
		return err;
	}
	in->plc_samples = codec_samples(mp->rate, f->ptime);
	in->flen = 0;
	return 0;
}

static int out_build(struct dpath *mp, unsigned i)
{
	struct mp_out *o = &mp->out[i];
	const struct media_fmt *f = &mp->fmt[i];
	if (o->enc)
		return 0;
	struct codec_params p;
	codec_params_default(&p);
	p.pcm_rate = mp->rate;
	p.complexity = mp->rate > 8000 ? OPUS_COMPLEXITY_WB : OPUS_COMPLEXITY_NB;
	struct media_worker *w = mp->call->w;
	if (w->me->cfg.opus_low_cpu || w->opus_lean) {
		p.low_cpu = true;
		p.complexity = 0;
	}
	if (mp->rate == 8000)
		p.bitrate = p.low_cpu ? OPUS_BITRATE_NB_CELT : OPUS_BITRATE_NB;
	if (f->opus_bitrate && f->opus_bitrate < p.bitrate)
		p.bitrate = f->opus_bitrate;
	if (f->opus_max_playback)
		p.max_playback = f->opus_max_playback;
	p.fec = f->opus_fec;
	int err = codec_enc_alloc(&o->enc, f->codec, &p);
	if (err)
		return err;
	o->pkt_samples = codec_samples(mp->rate, f->ptime);
	o->flen = 0;
	o->marker = true;
	return 0;
}

static void emit_error(struct mcall *c, unsigned leg, int err)
{
	struct mevent *e = media_event_new(c, MEDIA_EV_ERROR, leg);
	if (!e)
		return;
	e->ev.err = err;
	media_event_push(c->w->me, e);
}

static bool needs_tick(const struct dpath *mp)
{
	if (mp->rec)
		return true;
	for (unsigned i = 0; i < 2; i++) {
		if (mp->enc[i] || mp->dec[i] || mp->out[i].play)
			return true;
		if (mp->has_fmt[i] && mp->fmt[i].dtmf_pt >= 0 &&
		    (dtmf4733_tx_busy(&mp->out[i].tx4733) ||
		     mp->in[i].rx4733.state == DTMF4733_ACTIVE))
			return true;
	}
	return false;
}

void dpath_plan(struct mcall *c)
{
	struct dpath *mp = c->proc;
	if (!mp)
		return;
	mp->replan = false;
	bool was_built = mp->built;
	uint32_t was_rate = mp->rate;
	bool was[4] = { mp->enc[0], mp->dec[0], mp->enc[1], mp->dec[1] };
	uint32_t rate = call_rate(mp);
	if (rate != mp->rate || !mp->built) {
		/* new formats or rate: every codec state is rebuilt */
		for (unsigned i = 0; i < 2; i++) {
			in_codec_free(&mp->in[i]);
			out_codec_free(&mp->out[i]);
		}
		mp->rate = rate;
		mp->built = true;
	}
	for (unsigned i = 0; i < 2; i++) {
		unsigned x = !i;
		const struct mp_out *o = &mp->out[i];
		bool conv = decodable(mp, x) && !same_format(&mp->fmt[x], &mp->fmt[i]);
		bool dtmf = mp->relay_dtmf && mp->has_fmt[x] &&
			    (mp->fmt[x].dtmf_pt < 0) != (mp->fmt[i].dtmf_pt < 0);
		mp->enc[i] = decodable(mp, i) &&
			     (o->play || conv || dtmf || o->ib_busy || mp->echo[i]);
	}
	for (unsigned i = 0; i < 2; i++) {
		unsigned y = !i;
		/* an echoing leg stays decoded while a prompt plays over it:
		 * its jitter buffer is warm when the echo resumes, and it
		 * keeps reporting TALK/SILENCE (barge-in) */
		mp->dec[i] = decodable(mp, i) &&
			     ((mp->enc[y] && !mp->out[y].play && !mp->echo[y]) || mp->rec ||
			      mp->fmt[i].dtmf_pt < 0 || mp->echo[i]);
	}
	for (unsigned i = 0; i < 2; i++) {
		int err = 0;
		if (mp->dec[i])
			err = in_build(mp, i);
		else
			in_codec_free(&mp->in[i]);
		if (err) {
			log_err(MEDIA_TAG, "call %u leg %u: cannot decode %s: %s", c->id, i,
				mp->fmt[i].codec->name, strerror(err));
			mp->dec[i] = false;
			emit_error(c, i, err);
		}
		err = 0;
		if (mp->enc[i])
			err = out_build(mp, i);
		else
			out_codec_free(&mp->out[i]);
		if (err) {
			log_err(MEDIA_TAG, "call %u leg %u: cannot encode %s: %s", c->id, i,
				mp->fmt[i].codec->name, strerror(err));
			mp->enc[i] = false;
			emit_error(c, i, err);
		}
	}
	if (needs_tick(mp))
		dpath_tick_start(mp);
	else
		dpath_tick_stop(mp);
	/* planning runs every tick while a digit lasts: say only what changed */
	if (was_built && was_rate == mp->rate && was[0] == mp->enc[0] && was[1] == mp->dec[0] &&
	    was[2] == mp->enc[1] && was[3] == mp->dec[1])
		return;
	log_debug(MEDIA_TAG, "call %u: %u Hz, leg 0 %s%s, leg 1 %s%s", c->id, mp->rate,
		  mp->enc[0] ? "encoded" : "pass", mp->dec[0] ? "+decoded" : "",
		  mp->enc[1] ? "encoded" : "pass", mp->dec[1] ? "+decoded" : "");
}

/* The worker's load crossed opus_low_cpu_above: opus encoders are made
 * again in the other mode (the stream, its SSRC and sequence go on; the
 * phone's decoder follows a SILK/CELT switch as opus streams do). */
void dpath_opus_remake(struct dpath *mp)
{
	bool any = false;
	for (unsigned i = 0; i < 2; i++) {
		if (mp->out[i].enc && mp->fmt[i].codec == &codec_opus) {
			out_codec_free(&mp->out[i]);
			any = true;
		}
	}
	if (any)
		dpath_plan(mp->call);
}

/* --- DTMF --------------------------------------------------------------------- */

static uint32_t out_ts_now(const struct dpath *mp, unsigned y, uint64_t now_ms)
{
	const struct mp_out *o = &mp->out[y];
	if (!mp->enc[y] && o->fwd_known) {
		const struct media_fmt *f = &mp->fmt[y];
		uint32_t clock = f->codec ? f->codec->rtp_clock : f->dtmf_clock;
		return o->fwd_ts + (uint32_t)((now_ms - o->fwd_ms) * clock / 1000);
	}
	return o->ts;
}

int dpath_dtmf_to(struct dpath *mp, unsigned y, char digit, uint32_t duration_ms,
		  uint64_t now_ms)
{
	if (!mp->has_fmt[y])
		return ENOTCONN;
	struct mp_out *o = &mp->out[y];
	int err;
	if (mp->fmt[y].dtmf_pt >= 0) {
		err = dtmf4733_tx_start(&o->tx4733, digit, duration_ms,
					out_ts_now(mp, y, now_ms), now_ms);
		if (!err)
			o->tx_open = duration_ms == DTMF4733_TX_OPEN;
	} else {
		if (!decodable(mp, y))
			return ENOTSUP; /* no codec of ours to carry tones */
		if (!o->ibtx) {
			err = dtmf_inband_tx_alloc(&o->ibtx);
			if (err)
				return err;
		}
		char d[2] = { digit, 0 };
		uint32_t on = duration_ms == DTMF4733_TX_OPEN ? 100 : duration_ms;
		err = dtmf_inband_tx_put(o->ibtx, d, on < 40 ? 40 : on, 60);
		if (!err)
			o->ib_busy = true;
	}
	if (!err)
		mp->replan = true; /* the caller plans: we may be inside a detector */
	return err;
}

void dpath_dtmf_from(struct dpath *mp, unsigned x, const struct dtmf_ev *ev,
		     enum media_dtmf_src src)
{
	struct mcall *c = mp->call;
	unsigned y = !x;
	uint64_t now = loop_now(c->w->loop);
	if (src == MEDIA_DTMF_INBAND)
		mp->in[x].ib_active = ev->type == DTMF_BEGIN;
	if (ev->type == DTMF_BEGIN) {
		log_debug(MEDIA_TAG, "call %u leg %u: DTMF %c (%s)", c->id, x, ev->digit,
			  src == MEDIA_DTMF_INBAND ? "in-band" : "RFC 4733");
		struct mevent *e = media_event_new(c, MEDIA_EV_DTMF, x);
		if (e) {
			e->ev.digit = ev->digit;
			e->ev.dtmf_src = src;
			media_event_push(c->w->me, e);
		}
	}
	if (ev->type == DTMF_BEGIN)
		mp->replan = true; /* tick while the event lasts (its timeout) */
	if (!mp->relay_dtmf || !mp->has_fmt[y] || ev->digit == '!')
		return;
	struct mp_out *o = &mp->out[y];
	if (mp->fmt[y].dtmf_pt >= 0) {
		/* forwarded as they came in pass-through */
		if (src == MEDIA_DTMF_RFC4733 && !mp->enc[y])
			return;
		if (ev->type == DTMF_BEGIN)
			dpath_dtmf_to(mp, y, ev->digit, DTMF4733_TX_OPEN, now);
		else if (o->tx_open && dtmf4733_tx_busy(&o->tx4733))
			dtmf4733_tx_stop(&o->tx4733, now);
	} else if (src == MEDIA_DTMF_RFC4733 && ev->type == DTMF_BEGIN) {
		/* in-band digits reach an in-band leg in the audio itself */
		dpath_dtmf_to(mp, y, ev->digit, 100, now);
	}
}

static void dtmf_rx_h(const struct dtmf_ev *ev, void *arg)
{
	struct mp_in *in = arg;
	dpath_dtmf_from(in->mp, in->idx, ev, MEDIA_DTMF_RFC4733);
}

static void dtmf_ib_h(const struct dtmf_ev *ev, void *arg)
{
	struct mp_in *in = arg;
	dpath_dtmf_from(in->mp, in->idx, ev, MEDIA_DTMF_INBAND);
}

/* --- commands ------------------------------------------------------------------ */

static void set_format(struct media_worker *w, struct mcall *c, struct dpath *mp,
		       unsigned leg, const struct media_fmt *f)
{
	bool same = mp->has_fmt[leg] && !memcmp(&mp->fmt[leg], f, sizeof(*f));
	if (same)
		return;
	mp->fmt[leg] = *f;
	mp->has_fmt[leg] = true;
	mp->built = false;
	struct mp_in *in = &mp->in[leg];
	struct mp_out *o = &mp->out[leg];
	if (f->dtmf_pt >= 0) {
		dtmf4733_rx_init(&in->rx4733, f->dtmf_clock, dtmf_rx_h, in);
		unsigned iv = f->ptime >= 10 && f->ptime <= 100 ? f->ptime : 50;
		dtmf4733_tx_init(&o->tx4733, f->dtmf_clock, iv, 0);
		o->tx_open = false;
	}
	if (f->dtmf_pt < 0 && f->codec && !o->ibtx && dtmf_inband_tx_alloc(&o->ibtx))
		log_err(MEDIA_TAG, "call %u leg %u: no memory for DTMF tones", c->id, leg);
	if (!c->connected) {
		/* listened to before the call connects (an app's caller) */
		struct mleg *l = &c->leg[leg];
		if (!l->rtp.latch.open && !l->rtp.latch.latched)
			media_leg_open_windows(l, loop_now(w->loop));
	}
	log_debug(MEDIA_TAG, "call %u leg %u: format %s/%u pt %u ptime %u dtmf %d", c->id,
		  leg, f->codec ? f->codec->name : "?", f->codec ? f->codec->rtp_clock : 0,
		  f->pt, f->ptime, f->dtmf_pt);
	if (mp->out[leg].play && call_rate(mp) != mp->rate)
		playrec_play_end(mp, leg, ECANCELED, true); /* opened at the old rate */
	if (mp->rec && call_rate(mp) != mp->rate) {
		log_warn(MEDIA_TAG, "call %u: the PCM rate changed: recording ends", c->id);
		playrec_record_end(mp, EIO, true);
	}
}

void dpath_cmd(struct media_worker *w, struct mcall *c, struct mcmd *cmd)
{
	unsigned leg = cmd->leg;
	if (cmd->op == CMD_SRTP && !cmd->u.srtp && !c->proc)
		return; /* plain RTP again on a call that never had SRTP */
	if (cmd->op == CMD_ECHO && !cmd->u.on && !c->proc)
		return; /* echo off on a call that never echoed */
	struct dpath *mp = dpath_get(c);
	if (!mp) {
		if (cmd->op == CMD_SRTP)
			srtp_ctx_free(cmd->u.srtp);
		emit_error(c, leg, ENOMEM);
		return;
	}
	switch (cmd->op) {
	case CMD_FORMAT:
		set_format(w, c, mp, leg, &cmd->u.fmt);
		break;
	case CMD_SRTP:
		srtp_ctx_free(mp->srtp[leg]);
		mp->srtp[leg] = cmd->u.srtp;
		log_debug(MEDIA_TAG, "call %u leg %u: SRTP %s", c->id, leg,
			  cmd->u.srtp ? "on" : "off");
		break;
	case CMD_DTMF_RELAY:
		mp->relay_dtmf = cmd->u.on;
		break;
	case CMD_ECHO:
		if (mp->echo[leg] == cmd->u.on)
			break;
		mp->echo[leg] = cmd->u.on;
		mp->out[leg].marker = true;
		log_debug(MEDIA_TAG, "call %u leg %u: echo %s", c->id, leg,
			  cmd->u.on ? "on" : "off");
		if (cmd->u.on && !decodable(mp, leg)) {
			/* kept: it starts when the leg gets a codec of ours */
			log_info(MEDIA_TAG, "call %u leg %u: echo waits for a format", c->id,
				 leg);
			emit_error(c, leg, ENOTCONN);
		}
		break;
	case CMD_SEND_DTMF: {
		int err = dpath_dtmf_to(mp, leg, cmd->u.dtmf.digit, cmd->u.dtmf.ms,
					loop_now(w->loop));
		if (err) {
			log_warn(MEDIA_TAG, "call %u leg %u: cannot send DTMF %c: %s", c->id,
				 leg, cmd->u.dtmf.digit, strerror(err));
			emit_error(c, leg, err);
		}
		break;
	}
	case CMD_PLAY:
		playrec_play(c, leg, cmd);
		break;
	case CMD_TONE:
		playrec_tone(c, leg, cmd);
		break;
	case CMD_STOP:
		playrec_play_end(mp, leg, ECANCELED, true);
		break;
	case CMD_RECORD:
		playrec_record(c, cmd);
		break;
	case CMD_RECORD_STOP:
		playrec_record_end(mp, 0, true);
		break;
	default:
		break;
	}
	dpath_plan(c);
}
