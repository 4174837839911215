/*
 * The signalling side of formats, SRTP, DTMF, playback and recording
 * (media.h, second half): checks the arguments, builds what is best built
 * here (SRTP contexts, which need no I/O and whose failure the caller must
 * hear at once), copies strings into the command and posts it to the
 * call's worker, where dpath.c runs it. Anything that needs the disk
 * (sound files, the recording) is opened on the worker and reported by
 * event.
 */
#include "media_int.h"

#include <errno.h>
#include <string.h>

#include "audio/asource.h"
#include "codecs/codec.h"
#include "dtmf/dtmf.h"
#include "rtp/srtp.h"

static int leg_call(struct media_engine *me, uint32_t call, unsigned leg,
		    struct mcall **out)
{
	struct mcall *c = media_live_call(me, call);
	if (!c)
		return ENOENT;
	if (leg > 1)
		return EINVAL;
	*out = c;
	return 0;
}

static bool ptime_ok(const struct codec_desc *d, unsigned ptime)
{
	return ptime >= d->min_ptime && ptime <= d->max_ptime && ptime % 10 == 0;
}

int media_leg_set_format(struct media_engine *me, uint32_t call, unsigned leg,
			 const struct media_fmt *f)
{
	loop_assert_owner(me ? me->sig : NULL);
	struct mcall *c;
	int err = leg_call(me, call, leg, &c);
	if (err)
		return err;
	if (!f || f->pt > 127 || f->dtmf_pt < -1 || f->dtmf_pt > 127)
		return EINVAL;
	struct media_fmt v = *f;
	if (!v.ptime)
		v.ptime = 20;
	if (v.codec && !ptime_ok(v.codec, v.ptime))
		return EINVAL;
	if (v.dtmf_pt >= 0 && !v.dtmf_clock)
		v.dtmf_clock = v.codec ? v.codec->rtp_clock : 8000;
	struct mcmd *cmd = media_cmd_new(CMD_FORMAT, c, leg, 0);
	if (!cmd)
		return ENOMEM;
	cmd->u.fmt = v;
	return media_cmd_post(cmd);
}

int media_leg_set_srtp(struct media_engine *me, uint32_t call, unsigned leg,
		       const struct sdes_key *local, const struct sdes_key *remote)
{
	loop_assert_owner(me ? me->sig : NULL);
	struct mcall *c;
	int err = leg_call(me, call, leg, &c);
	if (err)
		return err;
	if (!local != !remote)
		return EINVAL;
	struct srtp_ctx *ctx = NULL;
	if (local) {
		err = srtp_ctx_alloc(&ctx, local, remote);
		if (err)
			return err;
	}
	struct mcmd *cmd = media_cmd_new(CMD_SRTP, c, leg, 0);
	if (!cmd) {
		srtp_ctx_free(ctx);
		return ENOMEM;
	}
	cmd->u.srtp = ctx;
	err = media_cmd_post(cmd);
	if (err)
		srtp_ctx_free(ctx);
	return err;
}

int media_call_dtmf_relay(struct media_engine *me, uint32_t call, bool on)
{
	loop_assert_owner(me ? me->sig : NULL);
	struct mcall *c = media_live_call(me, call);
	if (!c)
		return ENOENT;
	struct mcmd *cmd = media_cmd_new(CMD_DTMF_RELAY, c, 0, 0);
	if (!cmd)
		return ENOMEM;
	cmd->u.on = on;
	return media_cmd_post(cmd);
}

int media_leg_echo(struct media_engine *me, uint32_t call, unsigned leg, bool on)
{
	struct mcall *c;
	int err = leg_call(me, call, leg, &c);
	if (err)
		return err;
	struct mcmd *cmd = media_cmd_new(CMD_ECHO, c, leg, 0);
	if (!cmd)
		return ENOMEM;
	cmd->u.on = on;
	return media_cmd_post(cmd);
}

int media_leg_send_dtmf(struct media_engine *me, uint32_t call, unsigned leg,
			char digit, uint32_t duration_ms)
{
	loop_assert_owner(me ? me->sig : NULL);
	struct mcall *c;
	int err = leg_call(me, call, leg, &c);
	if (err)
		return err;
	if (dtmf_code(digit) < 0 || (unsigned char)digit == '!')
		return EINVAL;
	struct mcmd *cmd = media_cmd_new(CMD_SEND_DTMF, c, leg, 0);
	if (!cmd)
		return ENOMEM;
	cmd->u.dtmf.digit = digit;
	cmd->u.dtmf.ms = duration_ms ? duration_ms : 100;
	if (cmd->u.dtmf.ms > 10000)
		cmd->u.dtmf.ms = 10000;
	return media_cmd_post(cmd);
}

/* A command carrying n strings, copied after it. */
static struct mcmd *strings_cmd(enum mcmd_op op, struct mcall *c, unsigned leg,
				const char *const *s, size_t n)
{
	size_t extra = 0;
	for (size_t i = 0; i < n; i++)
		extra += strlen(s[i]) + 1;
	struct mcmd *cmd = media_cmd_new(op, c, leg, extra);
	if (!cmd)
		return NULL;
	char *p = (char *)(cmd + 1);
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(s[i]) + 1;
		memcpy(p, s[i], l);
		cmd->u.app.s[i] = p;
		p += l;
	}
	cmd->u.app.n = n;
	return cmd;
}

int media_leg_play(struct media_engine *me, uint32_t call, unsigned leg,
		   const char *const *files, size_t nfiles, bool loop, uint32_t tag)
{
	loop_assert_owner(me ? me->sig : NULL);
	struct mcall *c;
	int err = leg_call(me, call, leg, &c);
	if (err)
		return err;
	if (!files || nfiles == 0 || nfiles > MCMD_MAX_FILES || nfiles > ASOURCE_MAX_FILES)
		return EINVAL;
	for (size_t i = 0; i < nfiles; i++)
		if (!files[i] || !*files[i])
			return EINVAL;
	struct mcmd *cmd = strings_cmd(CMD_PLAY, c, leg, files, nfiles);
	if (!cmd)
		return ENOMEM;
	cmd->u.app.loop = loop;
	cmd->u.app.tag = tag;
	return media_cmd_post(cmd);
}

int media_leg_tone(struct media_engine *me, uint32_t call, unsigned leg,
		   const char *tone, uint32_t tag)
{
	loop_assert_owner(me ? me->sig : NULL);
	struct mcall *c;
	int err = leg_call(me, call, leg, &c);
	if (err)
		return err;
	if (!tone)
		return EINVAL;
	/* the spec is checked here so a bad one is refused at once; a tone
	 * source is memory only (no I/O), so this costs microseconds */
	struct asource *probe;
	err = asource_open_tone(&probe, tone, 8000);
	if (err)
		return err;
	asource_free(probe);
	const char *s[1] = { tone };
	struct mcmd *cmd = strings_cmd(CMD_TONE, c, leg, s, 1);
	if (!cmd)
		return ENOMEM;
	cmd->u.app.tag = tag;
	return media_cmd_post(cmd);
}

int media_leg_stop(struct media_engine *me, uint32_t call, unsigned leg)
{
	loop_assert_owner(me ? me->sig : NULL);
	struct mcall *c;
	int err = leg_call(me, call, leg, &c);
	if (err)
		return err;
	return media_cmd_post(media_cmd_new(CMD_STOP, c, leg, 0));
}

int media_call_record(struct media_engine *me, uint32_t call, const char *path,
		      enum media_rec_format fmt, bool stereo, uint32_t tag)
{
	loop_assert_owner(me ? me->sig : NULL);
	struct mcall *c = media_live_call(me, call);
	if (!c)
		return ENOENT;
	if (!path || !*path || (fmt != MEDIA_REC_WAV && fmt != MEDIA_REC_OGG_OPUS))
		return EINVAL;
	if (c->recording)
		return EBUSY;
	const char *s[1] = { path };
	struct mcmd *cmd = strings_cmd(CMD_RECORD, c, 0, s, 1);
	if (!cmd)
		return ENOMEM;
	cmd->u.app.tag = tag;
	cmd->u.app.fmt = (int)fmt;
	cmd->u.app.stereo = stereo;
	int err = media_cmd_post(cmd);
	if (!err) {
		c->recording = true;
		c->rec_tag = tag;
	}
	return err;
}

int media_call_record_stop(struct media_engine *me, uint32_t call)
{
	loop_assert_owner(me ? me->sig : NULL);
	struct mcall *c = media_live_call(me, call);
	if (!c)
		return ENOENT;
	int err = media_cmd_post(media_cmd_new(CMD_RECORD_STOP, c, 0, 0));
	if (!err)
		c->recording = false;
	return err;
}
