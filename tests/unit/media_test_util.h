/*
 * Shared harness of the media engine's decoding-path tests
 * (test_media_transcode.c, test_media_srtp_relay.c, test_media_dtmf.c,
 * test_media_app.c), in the style of test_media.c: a real engine with one
 * worker on 127.0.0.1 and a random port range, "phones" that are plain UDP
 * sockets of this process sending real RTP made with our own codec,
 * SRTP and DTMF units, and a signalling loop run with deadlines. Streams
 * are paced in real time (20 ms a packet) because the jitter buffer and
 * the tick are. Header-only (static inline): include it once, from the
 * test's .c file, after cmocka.h.
 */
#ifndef HF_TESTS_MEDIA_TEST_UTIL_H
#define HF_TESTS_MEDIA_TEST_UTIL_H

#include <arpa/inet.h>
#include <math.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../../core/base/loop.h"
#include "../../core/media/codecs/codec.h"
#include "../../core/media/media.h"
#include "../../core/media/rtp/rtp.h"
#include "../../core/media/rtp/srtp.h"

#define MT_MAXEV 512

struct mt {
	struct loop *sig;
	struct media_engine *me;
	uint16_t lo, hi;
	struct media_event ev[MT_MAXEV];
	bool used[MT_MAXEV];
	int nev;
};

struct mt_phone {
	int fd;
	struct sockaddr_storage addr;
	uint16_t port;
};

static inline uint64_t mt_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static inline void mt_on_ev(const struct media_event *ev, void *arg)
{
	struct mt *t = arg;
	if (t->nev < MT_MAXEV)
		t->ev[t->nev++] = *ev;
}

/* Runs the signalling loop for ms. */
static inline void mt_run(struct mt *t, int ms)
{
	uint64_t end = mt_now_ms() + (uint64_t)ms;
	for (uint64_t n = mt_now_ms(); n < end; n = mt_now_ms())
		loop_run_once(t->sig, (int)(end - n));
}

/* The first unconsumed event of this type/call/leg (-1: any) within ms. */
static inline const struct media_event *mt_wait(struct mt *t, enum media_event_type type,
						uint32_t call, int leg, int ms)
{
	uint64_t end = mt_now_ms() + (uint64_t)ms;
	for (;;) {
		for (int i = 0; i < t->nev; i++) {
			struct media_event *e = &t->ev[i];
			if (!t->used[i] && e->type == type && e->call == call &&
			    (leg < 0 || e->leg == (unsigned)leg)) {
				t->used[i] = true;
				return e;
			}
		}
		uint64_t n = mt_now_ms();
		if (n >= end)
			return NULL;
		loop_run_once(t->sig, (int)(end - n < 20 ? end - n : 20));
	}
}

/* Unconsumed events of a type so far. */
static inline int mt_count(struct mt *t, enum media_event_type type, uint32_t call)
{
	int k = 0;
	for (int i = 0; i < t->nev; i++)
		if (!t->used[i] && t->ev[i].type == type && t->ev[i].call == call)
			k++;
	return k;
}

static inline void mt_barrier(struct mt *t, uint32_t call)
{
	assert_int_equal(media_call_stats(t->me, call), 0);
	assert_non_null(mt_wait(t, MEDIA_EV_STATS, call, -1, 2000));
}

static inline struct media_call_stats mt_destroy(struct mt *t, uint32_t call)
{
	assert_int_equal(media_call_destroy(t->me, call), 0);
	const struct media_event *e = mt_wait(t, MEDIA_EV_DESTROYED, call, -1, 2000);
	assert_non_null(e);
	return e->stats;
}

static inline void mt_phone_open(struct mt_phone *p)
{
	p->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	assert_true(p->fd >= 0);
	int big = 1 << 20;
	setsockopt(p->fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	struct sockaddr_in a = { .sin_family = AF_INET };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(p->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	socklen_t len = sizeof(p->addr);
	memset(&p->addr, 0, sizeof(p->addr));
	assert_int_equal(getsockname(p->fd, (struct sockaddr *)&p->addr, &len), 0);
	p->port = ntohs(((struct sockaddr_in *)&p->addr)->sin_port);
}

static inline void mt_send(int fd, uint16_t port, const void *b, size_t n)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(sendto(fd, b, n, 0, (struct sockaddr *)&a, sizeof(a)), (ssize_t)n);
}

/* One datagram within ms: its length, or -1. */
static inline ssize_t mt_recv(int fd, uint8_t *b, size_t cap, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	if (poll(&pfd, 1, ms) <= 0)
		return -1;
	return recv(fd, b, cap, 0);
}

static inline size_t mt_rtp_hdr(uint8_t *b, uint8_t pt, bool m, uint16_t seq,
				uint32_t ts, uint32_t ssrc)
{
	b[0] = 0x80;
	b[1] = (uint8_t)((m ? 0x80 : 0) | pt);
	b[2] = (uint8_t)(seq >> 8);
	b[3] = (uint8_t)seq;
	for (int i = 0; i < 4; i++) {
		b[4 + i] = (uint8_t)(ts >> (24 - 8 * i));
		b[8 + i] = (uint8_t)(ssrc >> (24 - 8 * i));
	}
	return 12;
}

static inline struct media_fmt mt_fmt(const struct codec_desc *d, uint8_t pt,
				      uint8_t ptime, int16_t dtmf_pt)
{
	struct media_fmt f;
	memset(&f, 0, sizeof(f));
	f.codec = d;
	f.pt = pt;
	f.ptime = ptime;
	f.dtmf_pt = dtmf_pt;
	return f;
}

struct mt_call {
	uint32_t id;
	uint16_t port[2];
	struct mt_phone ph[2];
};

/* A call between two fresh phones; fmt[i] NULL: that leg gets no format.
 * connect: media_call_connect at the end. */
static inline void mt_call_up(struct mt *t, struct mt_call *c, const struct media_fmt *f0,
			      const struct media_fmt *f1)
{
	const struct media_fmt *f[2] = { f0, f1 };
	assert_int_equal(media_call_create(t->me, &c->id, mt_on_ev, t), 0);
	for (unsigned i = 0; i < 2; i++) {
		assert_int_equal(media_leg_alloc(t->me, c->id, i, &c->port[i]), 0);
		mt_phone_open(&c->ph[i]);
		struct media_remote r;
		memset(&r, 0, sizeof(r));
		memcpy(&r.rtp, &c->ph[i].addr, sizeof(r.rtp));
		r.clock_rate = f[i] && f[i]->codec ? f[i]->codec->rtp_clock : 8000;
		assert_int_equal(media_leg_set_remote(t->me, c->id, i, &r), 0);
		if (f[i])
			assert_int_equal(media_leg_set_format(t->me, c->id, i, f[i]), 0);
	}
	assert_int_equal(media_call_connect(t->me, c->id), 0);
	mt_barrier(t, c->id);
}

static inline void mt_phones_close(struct mt_call *c)
{
	close(c->ph[0].fd);
	close(c->ph[1].fd);
}

/* --- a phone's audio stream: a sine through our own encoder ---------------- */

struct mt_tx {
	struct codec_enc *enc;
	const struct codec_desc *d;
	uint8_t pt;
	unsigned ptime;
	uint32_t rate;     /* PCM rate of enc */
	uint16_t seq;
	uint32_t ts, ssrc;
	double hz, dbfs;   /* hz 0: silence */
	uint64_t n;        /* samples made so far (sine phase) */
	struct srtp_ctx *srtp;
};

static inline void mt_tx_init(struct mt_tx *s, const struct codec_desc *d, uint8_t pt,
			      unsigned ptime, double hz, double dbfs, uint32_t ssrc)
{
	memset(s, 0, sizeof(*s));
	struct codec_params p;
	codec_params_default(&p);
	assert_int_equal(codec_enc_alloc(&s->enc, d, &p), 0);
	s->d = d;
	s->pt = pt;
	s->ptime = ptime;
	s->rate = d->pcm_rate;
	s->hz = hz;
	s->dbfs = dbfs;
	s->ssrc = ssrc;
	s->seq = (uint16_t)(ssrc * 7);
	s->ts = ssrc * 13;
}

/* Builds the next packet into b (room 1500); returns its length. */
static inline size_t mt_tx_next(struct mt_tx *s, uint8_t *b)
{
	int16_t pcm[48000 / 1000 * 120];
	size_t n = codec_samples(s->rate, s->ptime);
	double a = 32767.0 * pow(10.0, s->dbfs / 20.0);
	for (size_t i = 0; i < n; i++)
		pcm[i] = s->hz > 0 ? (int16_t)lround(a * sin(2.0 * M_PI * s->hz *
							      (double)(s->n + i) / s->rate))
				   : 0;
	s->n += n;
	size_t h = mt_rtp_hdr(b, s->pt, false, s->seq++, s->ts, s->ssrc);
	s->ts += codec_rtp_ticks(s->d, s->ptime);
	int k = codec_encode(s->enc, pcm, n, b + h, 1400);
	assert_true(k > 0);
	size_t len = h + (size_t)k;
	if (s->srtp)
		assert_int_equal(srtp_ctx_protect_rtp(s->srtp, b, &len, 1500), 0);
	return len;
}

static inline void mt_tx_free(struct mt_tx *s)
{
	codec_enc_free(s->enc);
}

/* --- a phone's receiver: decodes what arrives ---------------------------------- */

#define MT_RX_MAX (48000 * 4)

struct mt_rx {
	struct codec_dec *dec;
	const struct codec_desc *d;
	uint8_t pt;
	uint32_t rate;
	int16_t *pcm;
	size_t n;
	unsigned pkts, other;  /* audio packets; packets of another PT */
	unsigned bad_seq, bad_ts, ssrcs;
	bool started;
	uint16_t last_seq;
	uint32_t last_ts, ssrc, ts_step;
	size_t last_len;       /* payload bytes of the last audio packet */
	uint8_t first_byte, last_byte; /* of the first and last payload (opus TOC) */
	struct srtp_ctx *srtp;
};

static inline void mt_rx_init(struct mt_rx *r, const struct codec_desc *d, uint8_t pt)
{
	memset(r, 0, sizeof(*r));
	r->d = d;
	r->pt = pt;
	r->rate = d->pcm_rate;
	assert_int_equal(codec_dec_alloc(&r->dec, d, 0), 0);
	r->pcm = calloc(MT_RX_MAX, sizeof(int16_t));
	assert_non_null(r->pcm);
}

static inline void mt_rx_free(struct mt_rx *r)
{
	codec_dec_free(r->dec);
	free(r->pcm);
}

/* Takes in every datagram waiting on fd. */
static inline void mt_rx_drain(struct mt_rx *r, int fd)
{
	uint8_t b[2048];
	for (;;) {
		ssize_t k = recv(fd, b, sizeof(b), MSG_DONTWAIT);
		if (k < 0)
			return;
		size_t len = (size_t)k;
		if (r->srtp && srtp_ctx_unprotect_rtp(r->srtp, b, &len))
			continue;
		struct rtp_hdr h;
		if (rtp_hdr_parse(&h, b, len))
			continue;
		if (h.pt != r->pt) {
			r->other++;
			continue;
		}
		if (r->started) {
			if (h.ssrc != r->ssrc)
				r->ssrcs++;
			if ((uint16_t)(r->last_seq + 1) != h.seq)
				r->bad_seq++;
			if (r->ts_step && h.ts - r->last_ts != r->ts_step)
				r->bad_ts++;
			r->ts_step = h.ts - r->last_ts;
		}
		r->started = true;
		r->ssrc = h.ssrc;
		r->last_seq = h.seq;
		r->last_ts = h.ts;
		r->last_len = h.payload_len;
		if (h.payload_len) {
			if (!r->pkts)
				r->first_byte = b[h.hdr_len];
			r->last_byte = b[h.hdr_len];
		}
		r->pkts++;
		int n = codec_decode(r->dec, b + h.hdr_len, h.payload_len, r->pcm + r->n,
				     MT_RX_MAX - r->n);
		if (n > 0)
			r->n += (size_t)n;
	}
}

/* Sends from phone s (n packets of its ptime, paced in real time) to
 * port, draining up to two receivers meanwhile. */
static inline void mt_stream(struct mt *t, struct mt_tx *s, int fd, uint16_t port,
			     unsigned n, struct mt_rx *r0, int fd0, struct mt_rx *r1, int fd1)
{
	uint8_t b[1600];
	uint64_t due = mt_now_ms();
	for (unsigned i = 0; i < n; i++) {
		if (s) {
			size_t len = mt_tx_next(s, b);
			mt_send(fd, port, b, len);
		}
		due += s ? s->ptime : 20;
		for (uint64_t now = mt_now_ms(); now < due; now = mt_now_ms())
			loop_run_once(t->sig, (int)(due - now));
		if (r0)
			mt_rx_drain(r0, fd0);
		if (r1)
			mt_rx_drain(r1, fd1);
	}
}

/* Level (dBFS of the peak of a sine with this RMS) of the last ms of r. */
static inline double mt_level_db(const struct mt_rx *r, unsigned ms, size_t *off)
{
	size_t n = (size_t)r->rate / 1000 * ms;
	assert_true(r->n >= n);
	*off = r->n - n;
	double e = 0;
	for (size_t i = *off; i < r->n; i++)
		e += (double)r->pcm[i] * r->pcm[i];
	double rmsv = sqrt(e / (double)n);
	return 20.0 * log10(rmsv * sqrt(2.0) / 32767.0 + 1e-12);
}

/* An engine with one worker on 100 random ports of 127.0.0.1, and cfg's
 * other settings (its range, workers and address are ours). */
static inline int mt_setup_cfg(void **state, const struct media_cfg *over)
{
	struct mt *t = calloc(1, sizeof(*t));
	if (!t || loop_alloc(&t->sig))
		return -1;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	srand((unsigned)ts.tv_nsec ^ (unsigned)getpid());
	t->lo = (uint16_t)(40000 + 2 * (rand() % 9900));
	t->hi = (uint16_t)(t->lo + 99);
	struct media_cfg cfg = *over;
	cfg.nworkers = 1;
	cfg.rtp_min = t->lo;
	cfg.rtp_max = t->hi;
	cfg.bind_addr = "127.0.0.1";
	if (media_engine_alloc(&t->me, t->sig, &cfg))
		return -1;
	*state = t;
	return 0;
}

/* rtcp_ms: media_cfg.rtcp_interval_ms. The plain setup makes it a
 * minute: the phones have no RTCP sockets, and a report sent to RTP port
 * + 1 could land on another phone's socket. opus_above:
 * media_cfg.opus_low_cpu_above (0 in the plain setup: never). */
static inline int mt_setup_with(void **state, uint32_t rtcp_ms, uint32_t opus_above)
{
	struct media_cfg cfg = { .rtcp_interval_ms = rtcp_ms, .opus_low_cpu_above = opus_above };
	return mt_setup_cfg(state, &cfg);
}

static inline int mt_setup(void **state)
{
	return mt_setup_with(state, 60000, 0);
}

static inline int mt_teardown(void **state)
{
	struct mt *t = *state;
	media_engine_free(t->me);
	loop_free(t->sig);
	free(t);
	return 0;
}

#endif
