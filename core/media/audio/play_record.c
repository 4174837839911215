/*
 * Playback and recording on the worker (dpath.h): the media side of
 * media_leg_play, media_leg_tone and media_call_record. Sources
 * (asource.h) and the recorder (arecord.h) are opened here, at the call's
 * PCM rate, and driven by the tick: a playing leg is encoded from its
 * source instead of the other leg's audio; the recorder takes both legs'
 * decoded frames. Each ends with its event (PLAY_DONE, RECORD_DONE).
 */
#include "../decode/dpath.h"

#include <errno.h>
#include <string.h>

#include "../../base/log.h"
#include "arecord.h"
#include "asource.h"

static void play_done(struct mcall *c, unsigned leg, uint32_t tag, int err)
{
	struct mevent *e = media_event_new(c, MEDIA_EV_PLAY_DONE, leg);
	if (!e)
		return;
	e->ev.tag = tag;
	e->ev.err = err;
	media_event_push(c->w->me, e);
}

static void record_done(struct mcall *c, uint32_t tag, uint32_t ms, int err)
{
	struct mevent *e = media_event_new(c, MEDIA_EV_RECORD_DONE, 0);
	if (!e)
		return;
	e->ev.tag = tag;
	e->ev.err = err;
	e->ev.duration_ms = ms;
	media_event_push(c->w->me, e);
}

void playrec_play_end(struct dpath *mp, unsigned leg, int err, bool event)
{
	struct mp_out *o = &mp->out[leg];
	if (!o->play)
		return;
	asource_free(o->play);
	o->play = NULL;
	log_debug(MEDIA_TAG, "call %u leg %u: play %u ended: %s", mp->call->id, leg,
		  o->play_tag, err ? strerror(err) : "done");
	if (event)
		play_done(mp->call, leg, o->play_tag, err);
}

/* The rate sources open at: the call's, as dpath_plan will set it. */
static uint32_t plan_rate(struct mcall *c)
{
	dpath_plan(c);
	return c->proc->rate;
}

static void play_start(struct mcall *c, unsigned leg, struct mcmd *cmd, bool tone)
{
	struct dpath *mp = c->proc;
	uint32_t tag = cmd->u.app.tag;
	playrec_play_end(mp, leg, ECANCELED, true); /* replaced */
	if (!mp->has_fmt[leg] || !mp->fmt[leg].codec) {
		/* nothing of ours can encode for this phone */
		play_done(c, leg, tag, ENOTCONN);
		return;
	}
	struct asource *s = NULL;
	uint32_t rate = plan_rate(c);
	int err = tone ? asource_open_tone(&s, cmd->u.app.s[0], rate)
		       : asource_open_files(&s, cmd->u.app.s, cmd->u.app.n,
					    cmd->u.app.loop, rate);
	if (err) {
		log_info(MEDIA_TAG, "call %u leg %u: cannot play %s: %s", c->id, leg,
			 cmd->u.app.s[0], strerror(err));
		play_done(c, leg, tag, err);
		return;
	}
	mp->out[leg].play = s;
	mp->out[leg].play_tag = tag;
	log_debug(MEDIA_TAG, "call %u leg %u: playing %s%s (tag %u)", c->id, leg,
		  tone ? "tone " : "", cmd->u.app.s[0], tag);
}

void playrec_play(struct mcall *c, unsigned leg, struct mcmd *cmd)
{
	play_start(c, leg, cmd, false);
}

void playrec_tone(struct mcall *c, unsigned leg, struct mcmd *cmd)
{
	play_start(c, leg, cmd, true);
}

bool playrec_play_read(struct dpath *mp, unsigned leg, int16_t *pcm, size_t n)
{
	struct mp_out *o = &mp->out[leg];
	size_t k = asource_read(o->play, pcm, n);
	if (k == 0) {
		playrec_play_end(mp, leg, asource_error(o->play), true);
		return false;
	}
	if (k < n)
		memset(pcm + k, 0, (n - k) * sizeof(int16_t));
	return true;
}

void playrec_record(struct mcall *c, struct mcmd *cmd)
{
	struct dpath *mp = c->proc;
	uint32_t tag = cmd->u.app.tag;
	if (mp->rec) {
		record_done(c, tag, 0, EBUSY);
		return;
	}
	struct arecord *r = NULL;
	enum arecord_format f = cmd->u.app.fmt == MEDIA_REC_OGG_OPUS ? ARECORD_OGG_OPUS
								       : ARECORD_WAV;
	uint32_t rate = plan_rate(c);
	int err = arecord_open(&r, cmd->u.app.s[0], f, cmd->u.app.stereo, rate);
	if (err) {
		log_warn(MEDIA_TAG, "call %u: cannot record to %s: %s", c->id,
			 cmd->u.app.s[0], strerror(err));
		record_done(c, tag, 0, err);
		return;
	}
	mp->rec = r;
	mp->rec_tag = tag;
	log_info(MEDIA_TAG, "call %u: recording to %s (%s, %u Hz)", c->id, cmd->u.app.s[0],
		 cmd->u.app.stereo ? "stereo" : "mono", rate);
}

void playrec_record_end(struct dpath *mp, int err, bool event)
{
	if (!mp->rec)
		return;
	uint32_t ms = (uint32_t)arecord_duration_ms(mp->rec);
	int cerr = arecord_close(mp->rec);
	mp->rec = NULL;
	if (!err)
		err = cerr;
	log_info(MEDIA_TAG, "call %u: recording ended after %u ms%s%s", mp->call->id, ms,
		 err ? ": " : "", err ? strerror(err) : "");
	if (event)
		record_done(mp->call, mp->rec_tag, ms, err);
}

void playrec_record_write(struct dpath *mp, size_t n)
{
	const int16_t *a = mp->in[0].have ? mp->in[0].frame : NULL;
	const int16_t *b = mp->in[1].have ? mp->in[1].frame : NULL;
	if (arecord_write(mp->rec, a, b, n)) {
		playrec_record_end(mp, EIO, true);
		mp->replan = true;
	}
}
