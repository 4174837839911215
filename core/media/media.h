/*
 * The media engine, first layer: worker threads that anchor RTP/RTCP for
 * calls and relay it between the two legs of a bridged call. This header is
 * everything the signalling side (the B2BUA) may call.
 *
 * Threads. Every function here is called on the signalling thread, the one
 * running the loop given to media_engine_alloc. They never block: they
 * reserve and bind sockets (non-blocking system calls) and post commands to
 * the call's worker. Results come back later as events, delivered on the
 * signalling loop to the handler given when the call was created. A call
 * and both its legs live on one worker, so relay never crosses threads.
 *
 * Ordering. Commands for one call are executed in the order they were
 * made, and its events arrive in the order the worker produced them, the
 * last being MEDIA_EV_DESTROYED. After media_call_destroy no other event of
 * that call reaches the handler except MEDIA_EV_DESTROYED; the call id is
 * refused (ENOENT) from the moment destroy is called.
 *
 * Sockets. media_leg_alloc binds the leg's RTP socket (even port) and RTCP
 * socket (port + 1) on the signalling thread, so the port it returns is
 * really ours and can go into SDP at once; the file descriptors are then
 * handed to the worker, which alone reads, writes and closes them. The
 * port pair stays reserved until the worker reports the call destroyed.
 */
#ifndef HF_MEDIA_H
#define HF_MEDIA_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

struct loop;
struct media_engine;

/* Stream direction of one leg as negotiated in that phone's SDP (RFC 3264),
 * from the phone's point of view: SENDONLY means the phone sends and does
 * not want to receive. RTP from leg X reaches leg Y only when X may send and
 * Y may receive. A leg that is not SENDRECV is on hold: its RTP timeout is
 * suspended. RTCP is relayed whatever the direction (RFC 3264 section 5.1
 * keeps RTCP flowing even when inactive). */
enum media_dir {
	MEDIA_SENDRECV = 0,
	MEDIA_SENDONLY,
	MEDIA_RECVONLY,
	MEDIA_INACTIVE,
};

struct media_cfg {
	unsigned nworkers;       /* 0: number of online CPUs */
	uint16_t rtp_min;        /* port range, inclusive; an RTP port is even */
	uint16_t rtp_max;        /* and its RTCP port (+1) must fit in the range */
	const char *bind_addr;   /* IPv4/IPv6 literal; NULL: "0.0.0.0" */
	uint32_t rtp_timeout_ms; /* no RTP while not on hold: event. 0: 30000 */
	uint32_t latch_ms;       /* latching window after connect. 0: 2000 */
	uint32_t latch_pkts;     /* ... or this many packets once latched. 0: 10 */
	uint32_t clock_rate;     /* RTP clock for jitter when not given. 0: 8000 */
	/* Interrupt coalescing (loop_set_pace): a worker that handled packets
	 * sleeps this long before polling again, so one wake-up serves many
	 * packets. Adds at most this much delay to relayed audio. */
	uint32_t coalesce_us;
};

/* The remote end of a leg, as signalled in SDP. */
struct media_remote {
	struct sockaddr_storage rtp;  /* c= address and m= port */
	struct sockaddr_storage rtcp; /* a=rtcp; ss_family 0: RTP port + 1 */
	uint32_t clock_rate;          /* rtpmap clock; 0: engine default */
};

struct media_leg_stats {
	uint64_t rx_packets, rx_bytes; /* RTP accepted from this leg's phone */
	uint64_t tx_packets, tx_bytes; /* RTP sent to this leg's phone */
	uint64_t rx_dropped;  /* refused: malformed, foreign source, not connected */
	uint64_t tx_dropped;  /* could not be sent (no address yet, socket full) */
	uint64_t rtcp_rx, rtcp_tx;
	uint64_t lost;        /* RFC 3550 A.3 cumulative loss, 0 if negative */
	double jitter_ms;     /* RFC 3550 A.8 interarrival jitter */
	uint32_t ssrc;        /* last SSRC seen from the phone */
	bool latched;         /* RTP source learnt from packets */
	struct sockaddr_storage rtp_peer; /* where RTP to this phone goes now */
};

struct media_call_stats {
	struct media_leg_stats leg[2];
	uint64_t duration_ms; /* since media_call_connect; 0 if never connected */
};

enum media_event_type {
	MEDIA_EV_LATCHED,     /* leg's phone heard from; addr: its source */
	MEDIA_EV_RTP_TIMEOUT, /* leg sent no RTP for rtp_timeout_ms, not on hold */
	MEDIA_EV_STATS,       /* answer to media_call_stats */
	MEDIA_EV_DESTROYED,   /* final stats; the call id is gone */
	MEDIA_EV_ERROR,       /* the worker could not apply a command: err */
};

struct media_event {
	enum media_event_type type;
	uint32_t call;
	unsigned leg;                 /* LATCHED, RTP_TIMEOUT, ERROR */
	bool rtcp;                    /* LATCHED: the RTCP socket latched */
	int err;                      /* ERROR */
	struct sockaddr_storage addr; /* LATCHED */
	struct media_call_stats stats; /* STATS, DESTROYED */
};

/* Runs on the signalling thread. May call any function of this header for
 * any call except media_engine_free. */
typedef void(media_event_h)(const struct media_event *ev, void *arg);

/* Starts cfg->nworkers worker threads and attaches to the signalling loop
 * sig (to receive their events). Returns 0, EINVAL for a bad range or bind
 * address, or an errno from thread/loop creation. */
int media_engine_alloc(struct media_engine **out, struct loop *sig,
		       const struct media_cfg *cfg);

/* Stops and joins the workers after they ran every command already made,
 * closes every socket and frees every call without further events. Not to
 * be called from a media event handler. */
void media_engine_free(struct media_engine *me);

/* Creates an empty call on the least loaded worker. */
int media_call_create(struct media_engine *me, uint32_t *call_out,
		      media_event_h *h, void *arg);

/* Reserves and binds the port pair of leg (0 or 1); *port_out is the RTP
 * port to put in SDP (RTCP is port + 1). Pairs whose bind fails (another
 * process holds them) are skipped. EALREADY if the leg has its ports,
 * ENOSPC when no pair of the range is free. */
int media_leg_alloc(struct media_engine *me, uint32_t call, unsigned leg,
		    uint16_t *port_out);

/* Sets (or, on re-INVITE, changes) where the leg's phone said it receives.
 * Until the leg latches, RTP to the phone goes there. A change while the
 * call is connected reopens the latching window. EAFNOSUPPORT when the
 * address family is not the engine's. */
int media_leg_set_remote(struct media_engine *me, uint32_t call, unsigned leg,
			 const struct media_remote *r);

/* Relays leg 0 <-> leg 1 from now on, and opens both legs' latching
 * windows. Both legs must have their ports (ENOTCONN otherwise). */
int media_call_connect(struct media_engine *me, uint32_t call);

int media_leg_set_direction(struct media_engine *me, uint32_t call,
			    unsigned leg, enum media_dir dir);

/* Asks for a MEDIA_EV_STATS event with the call's current stats. Because
 * commands run in order, its arrival also says every earlier command of
 * the call has been applied. */
int media_call_stats(struct media_engine *me, uint32_t call);

/* Closes the call's sockets; MEDIA_EV_DESTROYED follows with final stats,
 * after which the port pairs are free again. */
int media_call_destroy(struct media_engine *me, uint32_t call);

/* Diagnostics: port pairs reserved now, calls alive (including those whose
 * destroy has not come back yet), and a worker's thread CPU time. */
unsigned media_engine_ports_in_use(const struct media_engine *me);
unsigned media_engine_calls(const struct media_engine *me);
unsigned media_engine_nworkers(const struct media_engine *me);
int media_engine_worker_cpu_ns(const struct media_engine *me, unsigned idx,
			       uint64_t *ns_out);

const char *media_dir_name(enum media_dir d);

#endif
