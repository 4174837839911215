/*
 * A mailbox's greetings from the web: POST (or PUT) an audio file to
 * /api/v1/voicemail/{mailbox}/greetings/{unavail|busy|name} and it becomes
 * DATA_DIR/voicemail/<mailbox>/greet-<kind>.wav, 8 kHz 16-bit mono, what
 * the voicemail app plays without converting on the call's path. The
 * server spooled the body to a temporary file (WR_UPLOAD, at most
 * WEB_UPLOAD_MAX, announced larger is 413 before a byte is read);
 * libsndfile reads whatever it can (WAV, Ogg Vorbis/Opus, FLAC, and MP3
 * with Debian 12's libsndfile 1.2), anything else is 415. Channels are
 * averaged, the rate changed with speexdsp's resampler, and the result
 * written to a temporary file in the same folder that is renamed over
 * the old greeting only once complete: a failed upload leaves the old
 * greeting as it was. Runs on a web thread (disk and CPU, never the
 * signalling loop).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sndfile.h>
#include <speex/speex_resampler.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/base/log.h"
#include "../db/voicemail.h"
#include "web_int.h"

#define GREETING_MAX_S 300 /* five minutes */
#define OUT_RATE 8000
#define BLOCK 4096 /* frames read at a time */
#define RESAMPLE_QUALITY 5

static bool kind_ok(const char *k)
{
	return !strcmp(k, "unavail") || !strcmp(k, "busy") || !strcmp(k, "name");
}

/* Sets the mailbox's has_<kind> flag (what the voicemail app and the CLI
 * read besides the file). */
static int set_flag(struct db *db, const char *mailbox, const char *kind, bool on)
{
	struct db_mailbox m;
	int err = db_vm_mailbox_get(db, mailbox, &m);
	if (err)
		return err;
	if (!strcmp(kind, "unavail"))
		m.has_unavail = on;
	else if (!strcmp(kind, "busy"))
		m.has_busy = on;
	else
		m.has_name = on;
	return db_vm_mailbox_set(db, &m);
}

struct conv {
	SNDFILE *in, *out;
	SF_INFO ii;
	SpeexResamplerState *rs;
	float *buf, *mono, *res;
	size_t res_cap;
	sf_count_t written;
	const char *why; /* the client's fault, for a 400 */
};

/* Writes mono samples at the input rate, resampled. */
static int put(struct conv *c, const float *x, size_t n)
{
	if (!c->rs) {
		c->written += (sf_count_t)n;
		return sf_writef_float(c->out, x, (sf_count_t)n) == (sf_count_t)n ? 0 : EIO;
	}
	while (n) {
		spx_uint32_t in_len = (spx_uint32_t)n, out_len = (spx_uint32_t)c->res_cap;
		speex_resampler_process_float(c->rs, 0, x, &in_len, c->res, &out_len);
		if (sf_writef_float(c->out, c->res, out_len) != (sf_count_t)out_len)
			return EIO;
		c->written += out_len;
		x += in_len;
		n -= in_len;
	}
	return 0;
}

static int convert(struct conv *c)
{
	int ch = c->ii.channels;
	sf_count_t max_frames = (sf_count_t)c->ii.samplerate * GREETING_MAX_S;
	sf_count_t total = 0, k;
	while ((k = sf_readf_float(c->in, c->buf, BLOCK)) > 0) {
		total += k;
		if (total > max_frames) { /* a length the header did not admit to */
			c->why = "the greeting is longer than 5 minutes";
			return EINVAL;
		}
		for (sf_count_t i = 0; i < k; i++) {
			float s = 0;
			for (int j = 0; j < ch; j++)
				s += c->buf[i * ch + j];
			c->mono[i] = s / (float)ch;
		}
		int err = put(c, c->mono, (size_t)k);
		if (err)
			return err;
	}
	if (total == 0) {
		c->why = "the file holds no audio";
		return EINVAL;
	}
	if (c->rs) { /* what the resampler still holds */
		size_t lat = (size_t)speex_resampler_get_input_latency(c->rs);
		memset(c->mono, 0, sizeof(float) * BLOCK);
		while (lat) {
			size_t n = lat < BLOCK ? lat : BLOCK;
			int err = put(c, c->mono, n);
			if (err)
				return err;
			lat -= n;
		}
	}
	return 0;
}

/* Opens the upload as audio; false having answered 415. */
static bool open_input(struct web_req *r, struct conv *c)
{
	int fd = r->upload_fd >= 0 ? dup(r->upload_fd) : -1;
	if (fd >= 0 && lseek(fd, 0, SEEK_SET) == 0)
		c->in = sf_open_fd(fd, SFM_READ, &c->ii, SF_TRUE);
	else if (fd >= 0)
		close(fd);
	if (!c->in || c->ii.channels < 1 || c->ii.channels > 8 || c->ii.samplerate < 1000 ||
	    c->ii.samplerate > 384000) {
		web_error(r, 415,
			  "not an audio file that can be read: send WAV, Ogg (Vorbis or Opus), "
			  "FLAC or MP3",
			  NULL);
		return false;
	}
	/* a header that says so is refused before any work */
	if (c->ii.frames > 0 && c->ii.frames != SF_COUNT_MAX &&
	    c->ii.frames / c->ii.samplerate > GREETING_MAX_S) {
		web_error(r, 400, "the greeting is longer than 5 minutes", NULL);
		return false;
	}
	return true;
}

/* Converts the upload into tmp (a new file in the mailbox's folder);
 * false having answered. */
static bool write_greeting(struct web_req *r, struct conv *c, int tfd)
{
	SF_INFO oi = { .samplerate = OUT_RATE, .channels = 1,
		       .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16 };
	c->out = sf_open_fd(tfd, SFM_WRITE, &oi, SF_FALSE);
	if (!c->out) {
		web_error(r, 500, "cannot write the greeting", NULL);
		return false;
	}
	sf_command(c->out, SFC_SET_CLIPPING, NULL, SF_TRUE);
	int err = 0;
	if (c->ii.samplerate != OUT_RATE) {
		c->rs = speex_resampler_init(1, (spx_uint32_t)c->ii.samplerate, OUT_RATE,
					     RESAMPLE_QUALITY, &err);
		if (!c->rs) {
			web_error(r, 500, "cannot resample the greeting", NULL);
			return false;
		}
		speex_resampler_skip_zeros(c->rs);
	}
	c->res_cap = (size_t)BLOCK * OUT_RATE / 1000 + 64;
	c->buf = malloc(sizeof(float) * BLOCK * (size_t)c->ii.channels);
	c->mono = malloc(sizeof(float) * BLOCK);
	c->res = malloc(sizeof(float) * c->res_cap);
	if (!c->buf || !c->mono || !c->res) {
		web_error(r, 500, "out of memory", NULL);
		return false;
	}
	err = convert(c);
	if (err == EINVAL) {
		web_error(r, 400, c->why, NULL);
		return false;
	}
	if (!err && (sf_close(c->out) || fsync(tfd)))
		err = EIO;
	c->out = NULL;
	if (err) {
		web_error(r, 500, "cannot write the greeting", NULL);
		return false;
	}
	return true;
}

/* Whose mailbox, which greeting: false having answered. Checked on the
 * headers (r->early), so a refused upload is not read, and again with
 * the body. */
static bool greeting_check(struct web_req *r)
{
	const char *mb = r->arg[0], *kind = r->arg[1];
	if (!web_vm_may(r, mb))
		return false;
	if (!kind_ok(kind)) {
		web_error(r, 404, "greetings are unavail, busy or name", NULL);
		return false;
	}
	struct db *db = web_db(r);
	struct db_mailbox box;
	int err = db ? db_vm_mailbox_get(db, mb, &box) : 0;
	if (err)
		web_db_error(r, err, "mailbox");
	return db && !err;
}

void web_api_vm_greeting_put(struct web_req *r)
{
	const char *mb = r->arg[0], *kind = r->arg[1];
	if (!greeting_check(r) || r->early)
		return;
	web_db_release(r); /* converting takes a while */
	if (r->upload_len == 0) {
		web_error(r, 400, "no file in the request body", NULL);
		return;
	}
	struct conv c = { 0 };
	char dir[400], tmp[600], dst[600];
	int tfd = -1;
	bool ok = open_input(r, &c) && web_vm_dir(r, mb, true, dir, sizeof(dir));
	if (ok) {
		snprintf(dst, sizeof(dst), "%s/greet-%s.wav", dir, kind);
		snprintf(tmp, sizeof(tmp), "%s/.greet-%s-XXXXXX", dir, kind);
		tfd = mkstemp(tmp);
		if (tfd < 0) {
			log_err(WEB_TAG, "cannot create a file in %s: %s", dir, strerror(errno));
			web_error(r, 500, "cannot write the greeting", NULL);
			ok = false;
		}
	}
	ok = ok && write_greeting(r, &c, tfd);
	if (ok && rename(tmp, dst)) {
		log_err(WEB_TAG, "cannot rename %s to %s: %s", tmp, dst, strerror(errno));
		web_error(r, 500, "cannot write the greeting", NULL);
		ok = false;
	}
	if (c.out) /* before its descriptor is closed (and maybe reused) */
		sf_close(c.out);
	if (tfd >= 0) {
		if (!ok)
			unlink(tmp);
		close(tfd);
	}
	if (c.in)
		sf_close(c.in);
	if (c.rs)
		speex_resampler_destroy(c.rs);
	free(c.buf);
	free(c.mono);
	free(c.res);
	if (!ok)
		return;
	struct db *db = web_db(r);
	if (!db)
		return;
	int err = set_flag(db, mb, kind, true);
	if (err) {
		web_db_error(r, err, "mailbox");
		return;
	}
	log_info(WEB_TAG, "greeting %s of mailbox %s replaced by %s", kind, mb, r->auth.username);
	json_t *o = json_object();
	json_object_set_new(o, "mailbox", json_string(mb));
	json_object_set_new(o, "kind", json_string(kind));
	json_object_set_new(o, "duration_ms", json_integer((json_int_t)(c.written * 1000 / OUT_RATE)));
	json_object_set_new(o, "sample_rate", json_integer(OUT_RATE));
	web_json(r, 201, o);
}

void web_api_vm_greeting_delete(struct web_req *r)
{
	const char *mb = r->arg[0], *kind = r->arg[1];
	if (!web_vm_may(r, mb))
		return;
	if (!kind_ok(kind)) {
		web_error(r, 404, "greetings are unavail, busy or name", NULL);
		return;
	}
	struct db *db = web_db(r);
	if (!db)
		return;
	char dir[400], path[600];
	if (!web_vm_dir(r, mb, false, dir, sizeof(dir)))
		return;
	snprintf(path, sizeof(path), "%s/greet-%s.wav", dir, kind);
	if (unlink(path)) {
		if (errno == ENOENT) {
			web_error(r, 404, "no such greeting recorded", NULL);
		} else {
			log_err(WEB_TAG, "cannot remove %s: %s", path, strerror(errno));
			web_error(r, 500, "cannot remove the greeting", NULL);
		}
		return;
	}
	int err = set_flag(db, mb, kind, false);
	if (err && err != ENOENT) {
		web_db_error(r, err, "mailbox");
		return;
	}
	web_no_content(r);
}
