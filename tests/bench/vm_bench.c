/*
 * Voicemail deposit benchmark: N callers leaving a message at the same
 * time on one media worker. Each caller is what the voicemail app makes
 * of a call (media.h, "apps: a media call with only leg 0"): a media call
 * with leg 0 alone, a PCMU format, started, and media_call_record writing
 * it to its own mono WAV file in a temporary directory (TMPDIR, else
 * /tmp). The phones send a 1 kHz tone, 20 ms PCMU packets, 50 a second;
 * every packet goes through the leg's jitter buffer and decoder, and the
 * recorder writes one 20 ms frame per call on every tick of the worker.
 *
 * Reports, over a window after a 2 s warm-up: the worker thread's CPU time
 * (its own clock: the phones' cost is not counted) as % of a core and per
 * deposit, the deposits one core would carry at 100%, and the bytes the
 * recordings grew by per second. Then it checks that no audio was lost:
 * every recording is stopped, read back with libsndfile, and
 *   - its frames must match the duration in MEDIA_EV_RECORD_DONE and the
 *     wall time it was recorded for (a worker that falls behind skips
 *     ticks, and the file comes out short);
 *   - every packet sent must be in it as one 20 ms block of the tone
 *     (a Goertzel filter at 1 kHz), and the jitter buffer must have had
 *     no frame to conceal (its stats, read before the callers hang up).
 * When audio is lost the per-core figure is replaced by OVERLOADED.
 *
 * Built and run by `make bench`; by hand:
 *   make build/bench/vm_bench
 *   build/bench/vm_bench [seconds] [deposits ...]   (default: 10 100 250 500)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sndfile.h>

#include "bench_util.h"

#include "../../core/base/log.h"
#include "../../core/base/loop.h"
#include "../../core/media/codecs/codec.h"
#include "../../core/media/media.h"

#define RATE 8000
#define FRAME 160 /* samples per packet and per tick */
#define TONE_HZ 1000
#define TONE_AMP 8000

struct bench;

struct dep {
	struct bench *b;
	uint32_t id;
	uint16_t port;
	int ph;
	uint16_t seq;
	uint64_t sent;
	char path[64];
	/* what the worker said */
	bool rec_done;
	int rec_err;
	uint32_t rec_ms;
	uint64_t rx_packets, concealed, late, dropped;
	/* read back from the file */
	uint64_t frames, tone_blocks;
};

struct bench {
	struct loop *sig;
	struct media_engine *me;
	struct dep *deps;
	int stats_seen, rec_done, destroyed;
	struct bench_sink sink;
};

static uint8_t pay[FRAME];

static void on_ev(const struct media_event *ev, void *arg)
{
	struct dep *d = arg;
	struct bench *b = d->b;
	switch (ev->type) {
	case MEDIA_EV_STATS:
		b->stats_seen++;
		d->rx_packets = ev->stats.leg[0].rx_packets;
		d->concealed = ev->stats.leg[0].jb_concealed;
		d->late = ev->stats.leg[0].jb_late;
		d->dropped = ev->stats.leg[0].jb_dropped;
		break;
	case MEDIA_EV_RECORD_DONE:
		b->rec_done++;
		d->rec_done = true;
		d->rec_err = ev->err;
		d->rec_ms = ev->duration_ms;
		break;
	case MEDIA_EV_DESTROYED:
		b->destroyed++;
		break;
	default:
		break;
	}
}

static void run_until(struct bench *b, int *counter, int want)
{
	uint64_t end = mono_ns() + 20000000000ull;
	while (*counter < want && mono_ns() < end)
		loop_run_once(b->sig, 10);
	if (*counter < want)
		die("events did not arrive", ETIMEDOUT);
}

/* 20 ms of the tone: 1 kHz is 20 whole periods, so one packet's payload
 * repeated is a continuous tone. */
static void encode_payload(void)
{
	struct codec_enc *e;
	int16_t pcm[FRAME];
	int err = codec_enc_alloc(&e, &codec_pcmu, NULL);
	if (err)
		die("encoder", err);
	for (int i = 0; i < FRAME; i++)
		pcm[i] = (int16_t)lrint(TONE_AMP * sin(2 * M_PI * TONE_HZ * i / RATE));
	if (codec_encode(e, pcm, FRAME, pay, sizeof(pay)) != FRAME)
		die("encode", EINVAL);
	codec_enc_free(e);
}

static size_t packet(uint8_t *p, uint16_t seq, uint32_t ssrc)
{
	uint32_t ts = (uint32_t)seq * FRAME;
	p[0] = 0x80;
	p[1] = 0; /* PCMU */
	p[2] = (uint8_t)(seq >> 8);
	p[3] = (uint8_t)seq;
	for (int i = 0; i < 4; i++) {
		p[4 + i] = (uint8_t)(ts >> (24 - 8 * i));
		p[8 + i] = (uint8_t)(ssrc >> (24 - 8 * i));
	}
	memcpy(p + 12, pay, FRAME);
	return 12 + FRAME;
}

/* Is this 20 ms block the tone? Its power at 1 kHz (Goertzel) must be
 * most of its power, at the level sent (G.711 changes it by far less than
 * 15%). The concealment after the last packet fades (SpanDSP's fill-in:
 * to about 65% of the power over its first 20 ms), so it is no tone. */
static bool is_tone(const int16_t *x)
{
	double w = 2 * M_PI * TONE_HZ / RATE, coef = 2 * cos(w), s1 = 0, s2 = 0, ms = 0;
	for (int i = 0; i < FRAME; i++) {
		double s0 = x[i] + coef * s1 - s2;
		s2 = s1;
		s1 = s0;
		ms += (double)x[i] * x[i];
	}
	ms /= FRAME;
	double p = (s1 * s1 + s2 * s2 - coef * s1 * s2) * 2 / ((double)FRAME * FRAME);
	double want = (double)TONE_AMP * TONE_AMP / 2;
	return p > 0.9 * ms && ms > 0.85 * want && ms < 1.15 * want;
}

/* Reads d's recording back: its frames and how many blocks are the tone
 * (blocks at any offset: counted in steps of one block from the first
 * sample of tone). */
static int read_back(struct dep *d)
{
	SF_INFO info = { 0 };
	SNDFILE *sf = sf_open(d->path, SFM_READ, &info);
	if (!sf)
		return EIO;
	if (info.channels != 1 || info.samplerate != RATE) {
		sf_close(sf);
		return EINVAL;
	}
	d->frames = (uint64_t)info.frames;
	int16_t *x = malloc(((size_t)info.frames + 1) * sizeof(int16_t));
	if (!x) {
		sf_close(sf);
		return ENOMEM;
	}
	sf_count_t n = sf_readf_short(sf, x, info.frames);
	sf_close(sf);
	d->tone_blocks = 0;
	for (sf_count_t i = 0; i + FRAME <= n;) {
		if (is_tone(x + i)) {
			d->tone_blocks++;
			i += FRAME;
		} else {
			i++;
		}
	}
	free(x);
	return n == info.frames ? 0 : EIO;
}

static uint64_t bytes_on_disk(const struct bench *b, int n)
{
	uint64_t sum = 0;
	struct stat st;
	for (int i = 0; i < n; i++)
		if (stat(b->deps[i].path, &st) == 0)
			sum += (uint64_t)st.st_size;
	return sum;
}

/* The worker's CPU, the time and the recordings' size, at one instant */
struct snap {
	uint64_t cpu_ns, t_ns, bytes;
};

static void snap_take(const struct bench *b, int n, struct snap *s)
{
	media_engine_worker_cpu_ns(b->me, 0, &s->cpu_ns);
	s->t_ns = mono_ns();
	s->bytes = bytes_on_disk(b, n);
}

static void run(int n, int seconds, const char *dir)
{
	struct bench b;
	memset(&b, 0, sizeof(b));
	int err = loop_alloc(&b.sig);
	if (err)
		die("loop", err);
	uint32_t lo = 20000 + 2 * (uint32_t)(rand() % 500);
	uint32_t hi = lo + 2 * (uint32_t)n + 200;
	if (hi > 32767)
		hi = 32767;
	struct media_cfg cfg = {
		.nworkers = 1,
		.rtp_min = (uint16_t)lo,
		.rtp_max = (uint16_t)hi,
		.bind_addr = "127.0.0.1",
	};
	if ((err = media_engine_alloc(&b.me, b.sig, &cfg)))
		die("engine", err);
	b.sink.epfd = epoll_create1(0);
	b.deps = calloc((size_t)n, sizeof(*b.deps));
	if (!b.deps)
		die("calloc", ENOMEM);
	struct media_fmt fmt;
	memset(&fmt, 0, sizeof(fmt));
	fmt.codec = &codec_pcmu;
	fmt.pt = 0;
	fmt.dtmf_pt = 101;

	/* as the voicemail app: leg 0 alone, answered, recorded */
	for (int i = 0; i < n; i++) {
		struct dep *d = &b.deps[i];
		d->b = &b;
		snprintf(d->path, sizeof(d->path), "%s/msg%04d.wav", dir, i);
		if ((err = media_call_create(b.me, &d->id, on_ev, d)) ||
		    (err = media_leg_alloc(b.me, d->id, 0, &d->port)))
			die("call/leg", err);
		d->ph = phone_open();
		struct media_remote r;
		memset(&r, 0, sizeof(r));
		socklen_t len = sizeof(r.rtp);
		getsockname(d->ph, (struct sockaddr *)&r.rtp, &len);
		r.clock_rate = RATE;
		if ((err = media_leg_set_remote(b.me, d->id, 0, &r)) ||
		    (err = media_leg_set_format(b.me, d->id, 0, &fmt)) ||
		    (err = media_leg_start(b.me, d->id, 0)) ||
		    (err = media_call_record(b.me, d->id, d->path, MEDIA_REC_WAV, false,
					     (uint32_t)i)) ||
		    (err = media_call_stats(b.me, d->id)))
			die("remote/format/start/record", err);
		struct epoll_event ev = { .events = EPOLLIN, .data.fd = d->ph };
		epoll_ctl(b.sink.epfd, EPOLL_CTL_ADD, d->ph, &ev);
	}
	run_until(&b, &b.stats_seen, n);
	/* every recording runs from here (a few ms earlier for the first) */
	uint64_t rec_t0 = mono_ns();
	if (b.rec_done)
		die("a recording could not start", EIO);

	pthread_t rx;
	pthread_create(&rx, NULL, bench_receiver, &b.sink);
	uint8_t pkt[256];
	struct snap win[2]; /* the window's start and end */
	uint64_t next = mono_ns();
	int ticks = seconds * 50, warm = 100;
	struct sockaddr_in to = { .sin_family = AF_INET };
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (int tick = 0; tick < warm + ticks; tick++) {
		if (tick == warm)
			snap_take(&b, n, &win[0]);
		for (int i = 0; i < n; i++) {
			struct dep *d = &b.deps[i];
			d->seq++;
			size_t len = packet(pkt, d->seq, (uint32_t)i + 1);
			to.sin_port = htons(d->port);
			if (sendto(d->ph, pkt, len, 0, (struct sockaddr *)&to, sizeof(to)) > 0)
				d->sent++;
		}
		loop_run_once(b.sig, 0);
		next += 20000000u;
		struct timespec ts = { (time_t)(next / 1000000000u), (long)(next % 1000000000u) };
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
	}
	snap_take(&b, n, &win[1]);

	/* the jitter buffers' stats while the last packets are still in
	 * them (after, they conceal the silence too); then the callers hang
	 * up, their last packets play out (the buffers hold 200 ms at most)
	 * and the recordings stop */
	b.stats_seen = 0;
	for (int i = 0; i < n; i++)
		media_call_stats(b.me, b.deps[i].id);
	run_until(&b, &b.stats_seen, n);
	usleep(300000);
	uint64_t rec_t1 = mono_ns();
	for (int i = 0; i < n; i++)
		media_call_record_stop(b.me, b.deps[i].id);
	run_until(&b, &b.rec_done, n);
	for (int i = 0; i < n; i++)
		media_call_destroy(b.me, b.deps[i].id);
	run_until(&b, &b.destroyed, n);
	atomic_store(&b.sink.stop, true);
	pthread_join(rx, NULL);

	/* no audio lost? */
	uint64_t sent = 0, rxd = 0, tone = 0, concealed = 0, late = 0, dropped = 0, lost = 0;
	uint64_t frames = 0;
	uint64_t short_frames = 0, rec_ms = 0;
	int bad = 0;
	uint64_t wall_frames = (rec_t1 - rec_t0) / 1000000u * RATE / 1000u;
	for (int i = 0; i < n; i++) {
		struct dep *d = &b.deps[i];
		int e = d->rec_err ? d->rec_err : read_back(d);
		if (e) {
			if (!bad++)
				fprintf(stderr, "%s: %s\n", d->path, strerror(e));
			continue;
		}
		sent += d->sent;
		rxd += d->rx_packets;
		tone += d->tone_blocks;
		concealed += d->concealed;
		late += d->late;
		dropped += d->dropped;
		frames += d->frames;
		rec_ms += d->rec_ms;
		/* packets missing from the file, or concealed in it (the
		 * fill-in fades below is_tone's level, or may not yet) */
		uint64_t miss = d->tone_blocks < d->sent ? d->sent - d->tone_blocks : 0;
		lost += miss > d->concealed ? miss : d->concealed;
		if (d->frames * 1000u / RATE != d->rec_ms && !bad++)
			fprintf(stderr, "%s: %llu frames, RECORD_DONE says %u ms\n", d->path,
				(unsigned long long)d->frames, d->rec_ms);
		/* the recording ran at least from rec_t0 to rec_t1: a tick
		 * of slack for when the commands reached the worker */
		if (d->frames + FRAME < wall_frames)
			short_frames += wall_frames - d->frames;
	}

	double wall = (double)(win[1].t_ns - win[0].t_ns) / 1e9;
	double pct = 100.0 * (double)(win[1].cpu_ns - win[0].cpu_ns) / 1e9 / wall;
	double per = pct / n;
	double kbps = (double)(win[1].bytes - win[0].bytes) / wall / 1000.0;
	/* one packet in a thousand (a phone's sender on a loaded 2-CPU box
	 * can be late past the jitter buffer); any tick skipped */
	char verdict[96];
	if (bad)
		snprintf(verdict, sizeof(verdict), "FAILED: %d recordings unreadable or wrong", bad);
	else if (lost * 1000 > sent || short_frames)
		snprintf(verdict, sizeof(verdict),
			 "OVERLOADED: %.2f%% of audio lost, %.2f s missing from the files",
			 100.0 * (double)lost / (double)(sent ? sent : 1),
			 (double)short_frames / RATE);
	else
		snprintf(verdict, sizeof(verdict), "%4.0f deposits per core", 100.0 / per);
	printf("%5d deposits | worker CPU %6.1f%% of a core | %5.3f%% per deposit |"
	       " %6.0f kB/s written | %s | packets sent %llu, received %llu, in the files"
	        " %llu (jitter buffer: concealed %llu, late %llu, dropped %llu; lost %llu) |"
	       " %.1f s recorded (RECORD_DONE %.1f s)\n",
	       n, pct, per, kbps, verdict, (unsigned long long)sent, (unsigned long long)rxd,
	       (unsigned long long)tone, (unsigned long long)concealed, (unsigned long long)late,
	       (unsigned long long)dropped, (unsigned long long)lost,
	       (double)frames / RATE / n, (double)rec_ms / 1000.0 / n);
	fflush(stdout);

	for (int i = 0; i < n; i++) {
		close(b.deps[i].ph);
		unlink(b.deps[i].path);
	}
	close(b.sink.epfd);
	free(b.deps);
	media_engine_free(b.me);
	loop_free(b.sig);
}

int main(int argc, char **argv)
{
	int seconds = argc > 1 ? atoi(argv[1]) : 10;
	if (seconds < 1)
		seconds = 1;
	bench_setup();
	encode_payload();
	const char *tmp = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	char dir[256];
	snprintf(dir, sizeof(dir), "%s/vm_bench.XXXXXX", tmp);
	if (!mkdtemp(dir))
		die("mkdtemp", errno);
	if (argc > 2) {
		for (int i = 2; i < argc; i++)
			run(atoi(argv[i]), seconds, dir);
	} else {
		run(100, seconds, dir);
		run(250, seconds, dir);
		run(500, seconds, dir);
	}
	rmdir(dir);
	return 0;
}
