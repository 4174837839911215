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
#include <stddef.h>
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
	/* Transcoding towards opus phones with CELT only at complexity 0
	 * (codec_params.low_cpu): about 1.6 times the calls per core, with
	 * somewhat rougher speech at low bitrates. Off: SILK (VOIP). */
	bool opus_low_cpu;
	/* Load shedding: while a worker spends more than this % of a core
	 * (measured each second), its opus encoders code CELT as above, and
	 * go back to SILK once it is below two thirds of it. Speech gets a
	 * little rougher instead of every call on the worker breaking up.
	 * 0: never. */
	uint32_t opus_low_cpu_above;
	/* RTCP sender reports on legs whose audio we originate: the mean
	 * interval (each one randomised to 0.5-1.5 times it, RFC 3550 6.2).
	 * 0: 5000 */
	uint32_t rtcp_interval_ms;
};

/* The remote end of a leg, as signalled in SDP. */
struct media_remote {
	struct sockaddr_storage rtp;  /* c= address and m= port */
	struct sockaddr_storage rtcp; /* a=rtcp; ss_family 0: RTP port + 1 */
	uint32_t clock_rate;          /* rtpmap clock; 0: engine default */
	/* For latching (RTP bleed): where the phone's SIP comes from (a
	 * source on that host is preferred; family 0: unknown), and the
	 * payload types its m= line lists, bit pt of pts[pt / 32] (a new
	 * source must send these to be learnt; all zero: any). */
	struct sockaddr_storage peer;
	uint32_t pts[4];
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
	/* the jitter buffer, when this leg's audio is decoded and some came
	 * (jbuf.h); concealed counts the frames after the phone stopped too */
	bool decoded;
	uint32_t jb_delay_ms, jb_max_delay_ms; /* buffering now, at most */
	uint64_t jb_concealed; /* frames that never came: PLC or FEC */
	uint64_t jb_late;      /* came after their turn: discarded */
	uint64_t jb_dropped;   /* discarded to shorten the delay */
	struct sockaddr_storage rtp_peer; /* where RTP to this phone goes now */
};

struct media_call_stats {
	struct media_leg_stats leg[2];
	uint64_t duration_ms; /* since media_call_connect or the first
			       * media_leg_start; 0 if neither happened */
};

enum media_event_type {
	MEDIA_EV_LATCHED,     /* leg's phone heard from; addr: its source */
	MEDIA_EV_RTP_TIMEOUT, /* leg sent no RTP for rtp_timeout_ms, not on hold */
	MEDIA_EV_STATS,       /* answer to media_call_stats */
	MEDIA_EV_DESTROYED,   /* final stats; the call id is gone */
	MEDIA_EV_ERROR,       /* the worker could not apply a command: err */
	MEDIA_EV_DTMF,        /* a digit from leg's phone (once per key press,
			       * when the key goes down): digit, dtmf_src */
	MEDIA_EV_PLAY_DONE,   /* a play/tone to leg ended: tag; err 0 when it
			       * played to the end, ECANCELED when stopped or
			       * replaced, else why it could not play (ENOENT,
			       * EBADMSG for a file libsndfile cannot read) */
	MEDIA_EV_RECORD_DONE, /* a recording ended: tag, duration_ms, err (0,
			       * ECANCELED never: stop is the normal end; EIO
			       * when writing failed) */
	MEDIA_EV_TALK,        /* leg's phone started talking (energy VAD) */
	MEDIA_EV_SILENCE,     /* ... and went quiet again */
};

/* How a digit reached us. */
enum media_dtmf_src {
	MEDIA_DTMF_RFC4733 = 0,
	MEDIA_DTMF_INBAND,
	MEDIA_DTMF_INFO,      /* never from the worker: SIP INFO is the
			       * signalling side's; listed for CDR/app use */
};

struct media_event {
	enum media_event_type type;
	uint32_t call;
	unsigned leg;                 /* LATCHED, RTP_TIMEOUT, ERROR, DTMF,
				       * PLAY_DONE, TALK, SILENCE */
	bool rtcp;                    /* LATCHED: the RTCP socket latched */
	int err;                      /* ERROR, PLAY_DONE, RECORD_DONE */
	uint32_t tag;                 /* PLAY_DONE, RECORD_DONE: the caller's */
	char digit;                   /* DTMF: '0'-'9', '*', '#', 'A'-'D' */
	enum media_dtmf_src dtmf_src; /* DTMF */
	uint32_t duration_ms;         /* RECORD_DONE: audio written */
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

/* Makes one leg live on its own, without a connected call: for a phone
 * an app answered (voicemail, IVR, echo test), whose media call has only
 * this leg. Call it when the phone is answered (our 200 OK): the leg's
 * latching window opens (again) then, as media_call_connect opens it
 * (RTP from a phone behind NAT is accepted from where it comes, and our
 * audio follows it there), its RTP timeout runs (MEDIA_EV_RTP_TIMEOUT as
 * on a connected call), a later media_leg_set_remote (a re-INVITE that
 * moves the phone) re-opens the window, and we send RTCP sender reports
 * on the streams we make for it. Stats' duration_ms counts from here.
 * A leg started and later connected to a second leg (the app transfers
 * the caller) just goes on; starting a leg of a connected call changes
 * nothing. ENOTCONN when the leg has no ports. */
int media_leg_start(struct media_engine *me, uint32_t call, unsigned leg);

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

/* --- formats, transcoding and SRTP ----------------------------------------
 *
 * What each leg's phone and Hookflash agreed on in SDP. The worker relays
 * packets unchanged (pass-through, the default and the cheapest) when
 * both legs use the same codec at the same packet time, neither leg is
 * SRTP, nothing is playing or recording and DTMF needs no conversion;
 * it rewrites only the payload type when the legs number the same codec
 * differently. Otherwise the call's audio is decoded: jitter buffer ->
 * decoder (with PLC / Opus FEC) -> 20 ms frames of linear PCM -> encoder
 * of the other leg, with the worker's 20 ms tick as the clock. A leg
 * without a format (never set) is treated as pass-through only.
 */
struct codec_desc;
struct sdes_key;

struct media_fmt {
	const struct codec_desc *codec; /* codec.h; NULL: not one we can decode */
	uint8_t pt;               /* its payload type on this leg (both ways) */
	uint8_t ptime;            /* ms the phone asked for (a=ptime); 0: 20 */
	int16_t dtmf_pt;          /* telephone-event PT on this leg; -1: none,
				   * digits then go in-band to this phone */
	uint32_t dtmf_clock;      /* its clock; 0: the codec's RTP clock */
	/* Our opus encoder towards this phone, from the phone's fmtp
	 * (codec_opus_fmtp_apply): maxaveragebitrate (0: ours), its
	 * maxplaybackrate (0: 48000) and useinbandfec (false: no FEC, as
	 * RFC 7587 reads an absent parameter). The engine picks complexity
	 * and, for a narrowband call, a lower bitrate itself. */
	uint32_t opus_bitrate, opus_max_playback;
	bool opus_fec;
};

/* Sets (or, on a re-INVITE, changes) the leg's format. EINVAL for a ptime
 * the codec cannot produce, a payload type above 127. A leg with a format
 * is listened to (digits, recording, VAD) before media_call_connect; only
 * a connected call relays between its legs.
 *
 * Decoded calls run at one PCM rate: 16 kHz when both legs' codecs are
 * wideband and both carry digits as RFC 4733, else 8 kHz (opus and
 * G.722 then code narrowband). Decoded legs report MEDIA_EV_TALK and
 * MEDIA_EV_SILENCE (energy VAD: -40 dBFS for 60 ms, below -46 dBFS for
 * 500 ms); legs in pass-through report none. A leg is decoded while its
 * audio goes somewhere in PCM: transcoded to the other leg, recorded,
 * echoed, or searched for in-band digits (no dtmf_pt); a lone app leg
 * with RFC 4733 digits is therefore silent to the VAD until it records
 * or echoes. A phone's RTCP is relayed to the other leg while that leg
 * hears its stream unchanged; on a leg whose audio we encode the worker
 * sends its own sender reports (rtp/rtcp_sr.c). */
int media_leg_set_format(struct media_engine *me, uint32_t call, unsigned leg,
			 const struct media_fmt *f);

/* Turns SRTP on for the leg: local is the key we sent in our a=crypto on
 * this leg (we protect with it), remote the phone's (we unprotect with
 * it), same suite (srtp.h explains why they must differ). NULL, NULL:
 * plain RTP again. The context is built here, on the signalling thread,
 * and handed to the worker; the caller wipes its copies of the keys. One
 * leg may be SRTP and the other plain. EINVAL, EIO (libsrtp refused). */
int media_leg_set_srtp(struct media_engine *me, uint32_t call, unsigned leg,
		       const struct sdes_key *local, const struct sdes_key *remote);

/* --- DTMF ------------------------------------------------------------------
 *
 * Digits from a phone are detected by the worker in whatever form it sends
 * them (RFC 4733 on its telephone-event PT, else in-band tones, detected
 * with SpanDSP when the leg has no dtmf_pt) and reported once each as
 * MEDIA_EV_DTMF. Relaying between legs is on by default: the digit is
 * regenerated towards the other leg in that leg's form (RFC 4733 events
 * with their end retransmissions when it has a dtmf_pt, else in-band
 * tones mixed into its audio) and removed from the audio it came in.
 */
int media_call_dtmf_relay(struct media_engine *me, uint32_t call, bool on);

/* Sends a digit to leg's phone in its form (a digit from SIP INFO, or an
 * app's). duration_ms 0: 100. EINVAL for a character that is no DTMF key.
 * Checked on the worker, reported as MEDIA_EV_ERROR: ENOTCONN (the leg
 * has no format), EBUSY (an RFC 4733 digit is still being sent),
 * ENOTSUP (no telephone-event and no codec of ours to carry tones). */
int media_leg_send_dtmf(struct media_engine *me, uint32_t call, unsigned leg,
			char digit, uint32_t duration_ms);

/* --- apps: a media call with only leg 0 ------------------------------------
 *
 * An app (voicemail, IVR, echo test) answers a caller's leg alone: the
 * media call has leg 0 with a phone and leg 1 never allocated (no ports,
 * no remote, no format). media_call_connect is not needed (it refuses a
 * call without leg 1: ENOTCONN); what is needed, in this order:
 * media_call_create, media_leg_alloc(0) (the port for our SDP),
 * media_leg_set_remote(0), media_leg_set_format(0) (and
 * media_leg_set_srtp(0) for an SRTP phone), then media_leg_start(0) when
 * the phone is answered. From the format on, the leg is listened to:
 * MEDIA_EV_DTMF for its digits (RFC 4733 or in-band), media_call_record
 * (its audio alone: the left channel in stereo, leg 1's side silent),
 * media_leg_play / media_leg_tone to it, media_leg_echo. Without
 * media_leg_start all of these work too (the window media_leg_set_format
 * opened latches to the phone's first packets), but the phone's silence
 * is never reported, a re-INVITE that moves it is not followed (its
 * packets from the new address are refused) and we send no RTCP: an app
 * starts the leg when it answers. The app may later allocate leg 1 and
 * connect the call (a transfer): the relay then starts as for any call.
 */

/* While on, leg's phone hears its own audio back instead of the other
 * leg (or instead of nothing, on an app's lone leg): what it sends is
 * decoded through its jitter buffer (PLC, FEC) and encoded to it again
 * in our own stream (our SSRC, sequence, timestamps, SRTP), so it works
 * for every codec and for SRTP, and the phone hears it after its own
 * jitter buffer, one tick and one ptime, like any encoded audio. Why not
 * send its packets straight back: the phone's RTP timing and losses
 * would reach it unsmoothed, a prompt over the echo would need the two
 * streams spliced, and in-band digits could not be taken out; the
 * decoding costs one decode and one encode per 20 ms, trivial for G.711
 * and G.722, affordable for the rare opus echo test.
 * Digits from the phone are still reported as MEDIA_EV_DTMF (and
 * relayed to a connected leg 1 as before), and are not echoed: RFC 4733
 * events are not audio, and an in-band digit is replaced by silence
 * while it is detected (its first ~40 ms may be heard). A play or tone
 * to the leg overrides the echo while it plays; the echo resumes when
 * it ends or is stopped. Off: the leg hears the other leg again (or
 * nothing). The other direction of a connected call is unchanged. Needs
 * the leg's format with a codec of ours: without one the echo is kept
 * and starts once the format comes, and MEDIA_EV_ERROR with ENOTCONN
 * says so. Like every command, it applies in order with the call's
 * other commands, on the worker; nothing comes back on success. */
int media_leg_echo(struct media_engine *me, uint32_t call, unsigned leg, bool on);

/* --- playback, tones and recording (the primitives apps use) --------------
 *
 * While something plays to a leg, that leg hears it instead of the other
 * leg or its own echo (prompts, ringback, music on hold); when it ends
 * the other leg (or the echo) is heard again. A new play or tone to the same leg replaces the old one
 * (which ends with ECANCELED). Every command works whatever codec the leg
 * uses, and on a leg whose other side has no phone yet (ringback before
 * the callee answers, an app talking to the caller alone). The tag is the
 * caller's, echoed in the events.
 */

/* Plays files one after another (WAV or anything libsndfile reads: any
 * rate and channel count, mixed down and resampled). The paths are
 * copied. nfiles 1..16. MEDIA_EV_PLAY_DONE when the last one ends; its err
 * is ENOTCONN when the leg has no format with a codec of ours (set the
 * format first). A re-INVITE that changes the call's PCM rate ends what
 * plays (ECANCELED). */
int media_leg_play(struct media_engine *me, uint32_t call, unsigned leg,
		   const char *const *files, size_t nfiles, bool loop, uint32_t tag);

/* Plays a tone: "ringback", "busy", "congestion", "dial", "beep", or a
 * spec "f1[+f2]/on_ms[/off_ms][,...]" (Hz and ms, e.g. "440+480/2000/4000";
 * off_ms 0 or absent: no pause). Named tones and specs with pauses repeat
 * until stopped, except "beep" which plays once. EINVAL for a bad spec. */
int media_leg_tone(struct media_engine *me, uint32_t call, unsigned leg,
		   const char *tone, uint32_t tag);

/* Stops what plays to leg (PLAY_DONE with ECANCELED follows); nothing
 * playing is no error. */
int media_leg_stop(struct media_engine *me, uint32_t call, unsigned leg);

enum media_rec_format {
	MEDIA_REC_WAV = 0,   /* 16-bit PCM WAV */
	MEDIA_REC_OGG_OPUS,  /* Ogg/Opus (libsndfile >= 1.0.29) */
};

/* Records the call to path (created, 0640; an existing file is
 * replaced): mono mixes both directions, stereo puts what leg 0's phone
 * said on the left channel and leg 1's on the right, at the call's PCM
 * rate. One recording per call: EBUSY when one runs. The file is opened
 * on the worker (no disk access on the signalling thread), so a missing
 * directory comes back as MEDIA_EV_RECORD_DONE with err ENOENT, like any
 * other failure to open or write. While recording, both legs with a
 * codec of ours are decoded (pass-through legs are only tapped). */
int media_call_record(struct media_engine *me, uint32_t call, const char *path,
		      enum media_rec_format fmt, bool stereo, uint32_t tag);
int media_call_record_stop(struct media_engine *me, uint32_t call);

/* Engine-wide RTP counters since start (all workers), for /metrics:
 * packets relayed (sent towards a phone) and lost (RFC 3550, summed over
 * finished calls' legs). Any thread. */
void media_engine_totals(const struct media_engine *me, uint64_t *relayed, uint64_t *lost);

#endif
