/*
 * Private to core/media: the objects behind media.h and who owns which
 * field. A call (struct mcall) is allocated by the signalling thread,
 * handed to its worker by the CREATE command, and handed back inside its
 * own MEDIA_EV_DESTROYED event, after which the signalling thread frees it.
 * In between, fields are split by owner (marked below); a thread never
 * touches the other's fields, and the hand-overs go through the queues'
 * mutexes, which order the memory accesses.
 *
 * Files: engine.c (signalling side: API, commands, events), engine_leg.c
 * (its part for formats, SRTP, DTMF, playback and recording), worker.c
 * (the threads and command execution), relay.c (the packet path), latch.c
 * (symmetric-RTP source learning), port.c (port pairs and their sockets),
 * rtp.c / rtp_stats.c (parsing and RFC 3550 statistics). A call that needs
 * more than a relay (formats, SRTP, DTMF, apps) gets a struct dpath:
 * dpath.h says how the decoding path is laid out and which file does what.
 */
#ifndef HF_MEDIA_INT_H
#define HF_MEDIA_INT_H

#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <time.h>

#include "../base/hash.h"
#include "../base/list.h"
#include "../base/loop.h"
#include "media.h"
#include "rtp/rtp.h"

#define MEDIA_TAG "media"

/* --- socket addresses (latch.c) ----------------------------------------- */

bool media_sa_equal(const struct sockaddr_storage *a, const struct sockaddr_storage *b);
socklen_t media_sa_len(const struct sockaddr_storage *a);
uint16_t media_sa_port(const struct sockaddr_storage *a);
void media_sa_set_port(struct sockaddr_storage *a, uint16_t port);
/* "1.2.3.4:5" or "[::1]:5" into buf; returns buf. */
const char *media_sa_fmt(const struct sockaddr_storage *a, char *buf, size_t cap);

/* --- latching (latch.c) --------------------------------------------------- */

/* Packets in a row a new source must send before it is latched: the same
 * SSRC, consecutive sequence numbers, a payload type the leg negotiated
 * (Asterisk's strictrtp probation, since CVE-2017-14099). */
#define LATCH_PROBATION 4u
/* A candidate silent this long gives its place to another source. */
#define LATCH_CAND_STALE_MS 100u
/* The latched source must have been silent this long before another one
 * may take its place (a NAT rebinding mid-call). */
#define LATCH_QUIET_MS 500u

/* Where one socket of a leg sends, and from whom it accepts. */
struct latch {
	struct sockaddr_storage addr; /* latched source; valid when latched */
	uint64_t until;               /* window end (loop ms) */
	uint64_t last;                /* loop ms of the last packet from addr */
	uint32_t ssrc;                /* of the latched stream */
	uint32_t left;                /* packets until the window may close */
	bool latched;
	bool open;
	/* the source on probation: its next sequence number, packets in a
	 * row so far, and whether its host is the SIP peer's */
	struct sockaddr_storage cand;
	uint64_t cand_last;
	uint32_t cand_ssrc;
	uint16_t cand_seq;
	uint8_t cand_n;
	bool cand_pref;
};

enum latch_res {
	LATCH_DROP,  /* foreign source, or one still on probation: refuse */
	LATCH_OK,    /* from the latched source */
	LATCH_NEW,   /* accepted and (re)latched: addr changed */
};

/* One parsed packet as the latch sees it. */
struct latch_pkt {
	const struct sockaddr_storage *src;
	uint32_t ssrc;
	uint16_t seq;   /* RTP only */
	uint8_t pt;     /* RTP only */
	bool rtcp;      /* no sequence or payload type: see latch_check */
};

/* What the signalling said about the leg's phone; any member may be
 * NULL (or family 0). */
struct latch_hint {
	const struct sockaddr_storage *sig;  /* SDP address: latched at once */
	const struct sockaddr_storage *peer; /* SIP peer: its host is preferred */
	const uint32_t *pts;                 /* 128-bit mask of the payload
					      * types the phone may send;
					      * NULL or all zero: any */
	const struct sockaddr_storage *rtp;  /* RTCP: the leg's latched RTP
					      * source, whose host it trusts */
};

/* Opens the learning window for ms milliseconds / pkts packets. */
void latch_open(struct latch *l, uint64_t now, uint32_t ms, uint32_t pkts);
/* Forgets the learnt source (the signalled address changed). */
void latch_reset(struct latch *l);
/* Decides about a well-formed packet. Never allocates. */
enum latch_res latch_check(struct latch *l, const struct latch_pkt *p,
			   const struct latch_hint *h, uint64_t now);
/* true when a and b have the same host (port ignored). */
bool media_sa_same_host(const struct sockaddr_storage *a, const struct sockaddr_storage *b);

/* --- port pairs (port.c) -------------------------------------------------- */

struct port_pool {
	uint16_t base;    /* first (even) RTP port */
	uint32_t npairs;
	uint32_t used;
	uint64_t rng;     /* fallback PRNG state (port.c: draw) */
	uint64_t *bits;
};

int port_pool_init(struct port_pool *pp, uint16_t min, uint16_t max);
void port_pool_fini(struct port_pool *pp);
/* Reserves a free pair chosen at random and binds it: fds[0] RTP (even
 * port), fds[1] RTCP. Pairs another process holds are skipped. ENOSPC
 * when none. */
int port_pair_open(struct port_pool *pp, const struct sockaddr_storage *bind_sa,
		   uint16_t *port_out, int fds[2]);
/* Releases a pair reserved by port_pair_open (sockets already closed). */
void port_pair_release(struct port_pool *pp, uint16_t port);
bool port_pair_in_use(const struct port_pool *pp, uint16_t port);

/* --- calls and legs ------------------------------------------------------- */

struct mcall;
struct media_worker;

/* One socket of a leg: everything worker-owned. */
struct msock {
	int fd;
	struct latch latch;
	struct sockaddr_storage sig; /* signalled address; family 0: none */
};

struct mleg {
	struct mcall *call;
	unsigned idx;
	struct msock rtp, rtcp;
	uint16_t port;
	enum media_dir dir;
	struct rtp_stats rx;
	uint64_t rx_packets, rx_bytes, rx_dropped;
	uint64_t tx_packets, tx_bytes, tx_dropped;
	uint64_t rtcp_rx, rtcp_tx;
	/* the phone's last sender report, for our report blocks' LSR/DLSR
	 * (RFC 3550 6.4.1): rtcp_info.lsr, and when it came (loop ms) */
	uint32_t sr_lsr;
	uint64_t sr_at_ms;
	uint64_t last_rx;         /* loop ms of the last accepted RTP */
	/* from the signalling (media_remote), for the latch: where the
	 * phone's SIP comes from, and the payload types it may send */
	struct sockaddr_storage peer;
	uint32_t pts[4];
	bool timed_out;           /* reported; re-armed by the next packet */
	bool started;             /* media_leg_start: live without connect */
	struct loop_timer timeout;
};

/* An event on its way to the signalling thread. */
struct mevent {
	struct snode qe;          /* in media_engine->events */
	struct mcall *call;
	struct media_event ev;
};

struct mcall {
	/* constant after creation: read by both threads */
	uint32_t id;
	struct media_worker *w;

	/* owned by the signalling thread */
	struct hnode hn;          /* in media_engine->tab, hashed by id */
	media_event_h *h;
	void *arg;
	uint16_t port[2];         /* reserved pairs; 0: none yet */
	bool dying;               /* destroy posted: the id is refused */
	bool recording;           /* media_call_record made, not stopped and
				   * its RECORD_DONE not delivered */
	uint32_t rec_tag;

	/* owned by the worker */
	struct list_node le;      /* in media_worker->calls */
	bool connected;
	uint64_t connected_at;
	struct mleg leg[2];
	struct dpath *proc;       /* NULL: plain relay (dpath.h) */
	struct mevent done;       /* MEDIA_EV_DESTROYED, allocated with the
				   * call so the last event cannot fail */
};

/* --- workers (worker.c, relay.c) ----------------------------------------- */

#define RELAY_BATCH 32
#define RELAY_BUFSZ 2048 /* larger than any RTP over Ethernet; bigger
			  * datagrams are truncated and dropped */
#define RELAY_CTLSZ 64   /* room for one SCM_TIMESTAMPNS */

struct media_worker {
	struct media_engine *me;
	unsigned idx;
	struct loop *loop;
	pthread_t thread;
	bool started;
	unsigned ncalls;      /* owned by the signalling thread: placement */
	atomic_bool quit_posted; /* QUIT is queued: the thread must run it */
	bool quit_done;       /* worker thread: QUIT ran */

	/* owned by the worker thread */
	struct list calls;
	uint8_t *bufs;        /* RELAY_BATCH * RELAY_BUFSZ, allocated once */
	struct mmsghdr rx[RELAY_BATCH];
	struct mmsghdr tx[RELAY_BATCH];
	struct iovec iov[RELAY_BATCH];
	struct sockaddr_storage from[RELAY_BATCH];
	uint8_t ctl[RELAY_BATCH][RELAY_CTLSZ];
	/* the decoding path (dpath_tick.c): calls to service every 20 ms */
	struct list ticking;  /* struct dpath by tle, newest first */
	struct loop_timer tick;
	uint64_t next_tick;   /* loop ms of the next tick (absolute) */
	uint8_t *obuf;        /* RELAY_BUFSZ: a packet we make */
	/* its own CPU each second (media_cfg.opus_low_cpu_above) */
	uint64_t load_ms, load_cpu_ns;
	unsigned load_pct;
	bool opus_lean;       /* busy: opus encoders code CELT */

	/* any thread reads (media_engine_totals) */
	atomic_uint_fast64_t relayed; /* RTP sent towards phones */
	atomic_uint_fast64_t lost;    /* of destroyed calls' legs */
	/* watchdog.c: pings from the signalling thread, answers from the worker */
	atomic_uint_fast64_t wd_pongs;
	uint64_t wd_pings, wd_ping_ms; /* signalling thread */
	bool wd_stalled;
};

/* Commands, run on the worker in the order they were posted. */
enum mcmd_op {
	CMD_CREATE,
	CMD_LEG_OPEN,
	CMD_SET_REMOTE,
	CMD_CONNECT,
	CMD_LEG_START,
	CMD_DIRECTION,
	CMD_STATS,
	CMD_DESTROY,
	CMD_QUIT,
	/* dpath.c */
	CMD_FORMAT,
	CMD_SRTP,
	CMD_DTMF_RELAY,
	CMD_SEND_DTMF,
	CMD_PLAY,
	CMD_TONE,
	CMD_STOP,
	CMD_RECORD,
	CMD_RECORD_STOP,
	CMD_ECHO,
};

#define MCMD_MAX_FILES 16

struct mcmd {
	enum mcmd_op op;
	struct media_worker *w;
	struct mcall *call;
	unsigned leg;
	union {
		struct {
			int fd[2];
			uint16_t port;
		} open;
		struct media_remote remote;
		enum media_dir dir;
		struct media_fmt fmt;
		struct srtp_ctx *srtp;   /* handed over: the worker frees it */
		bool on;
		struct {
			char digit;
			uint32_t ms;
		} dtmf;
		struct {              /* play, tone, record: the strings live
				       * in the command's own allocation */
			uint32_t tag;
			bool loop, stereo;
			int fmt;
			size_t n;
			const char *s[MCMD_MAX_FILES];
		} app;
	} u;
};

struct media_engine {
	struct loop *sig;
	struct media_cfg cfg;
	struct sockaddr_storage bind_sa;
	struct port_pool ports;

	struct media_worker *workers;
	unsigned nworkers;

	/* id table, signalling thread only */
	struct htab tab;          /* struct mcall by id (the id is its hash) */
	uint32_t next_id;

	/* events from the workers: the engine's own queue and eventfd
	 * rather than loop_post, so media_engine_free can take back what
	 * was not delivered yet (loop_post's items cannot be recalled) */
	pthread_mutex_t evlock;
	struct squeue events;     /* struct mevent, oldest first */
	int evfd;
	struct loop_timer wd;     /* watchdog.c, while calls exist */
};

/* watchdog.c, signalling thread: watch the workers while calls exist
 * (kicked at each new call); stop before the workers stop. */
void media_watchdog_kick(struct media_engine *me);
void media_watchdog_stop(struct media_engine *me);

/* worker.c */
int media_worker_start(struct media_worker *w);
/* Runs the remaining commands, then stops and joins the thread. */
void media_worker_stop(struct media_worker *w);
void media_worker_cmd(void *arg); /* loop_work_h for struct mcmd */
/* Opens both sockets' latching windows of the leg (media_cfg's). */
void media_leg_open_windows(struct mleg *l, uint64_t now);

/* engine.c: queues an event for the signalling thread (any thread). */
void media_event_push(struct media_engine *me, struct mevent *e);
/* engine.c, signalling thread: a call the API may act on (NULL: gone or
 * dying); a new command of it with extra bytes after the struct (NULL
 * when memory is short); posting it (on failure cmd is freed). */
struct mcall *media_live_call(struct media_engine *me, uint32_t id);
struct mcmd *media_cmd_new(enum mcmd_op op, struct mcall *c, unsigned leg, size_t extra);
int media_cmd_post(struct mcmd *cmd);

/* Fills a worker-side snapshot of a call's stats. */
void media_call_snapshot(const struct mcall *c, uint64_t now,
			 struct media_call_stats *st);
/* A new event of the call (not DESTROYED) for the caller to fill in and
 * push; NULL, logged, when memory is short: none of them is vital. */
struct mevent *media_event_new(struct mcall *c, enum media_event_type type,
			       unsigned leg);

/* relay.c: loop_fd_h for a leg's RTP and RTCP sockets. */
void relay_on_rtp(int fd, uint32_t events, void *arg);
void relay_on_rtcp(int fd, uint32_t events, void *arg);
/* Starts, re-arms or stops a leg's RTP timeout after a state change. */
void relay_watch(struct mleg *leg);
/* Where RTP (or RTCP) for this socket's phone goes now; NULL: nowhere. */
const struct sockaddr_storage *relay_target(const struct msock *s);

/* Whether a leg is live on its own: its RTP timeout runs, a re-INVITE's
 * new address re-opens its latching window, we report on our streams to
 * it. True for both legs of a connected call and for a started leg. */
static inline bool leg_live(const struct mleg *l)
{
	return l->started || l->call->connected;
}

static inline bool dir_sends(enum media_dir d)
{
	return d == MEDIA_SENDRECV || d == MEDIA_SENDONLY;
}

static inline bool dir_receives(enum media_dir d)
{
	return d == MEDIA_SENDRECV || d == MEDIA_RECVONLY;
}

/* Wall-clock microseconds: the clock of the kernel's receive timestamps
 * (SO_TIMESTAMPNS), which the jitter buffers work in, and of RTCP's NTP
 * time. */
static inline uint64_t media_realtime_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

#endif
