/*
 * Private to core/call: the call and leg objects and the helpers the
 * call files share. One file per concern: call_mgr.c (table, lookup,
 * ids, teardown, CDR), call_setup.c (INVITE in, ringing an extension's
 * phones, responses, CANCEL, no-answer), call_route.c (the destinations a
 * call passes through, next destinations), call_app.c (hosting apps),
 * call_dialog.c (requests inside a dialog: BYE, re-INVITE, UPDATE, INFO,
 * ACK, 2xx retransmission, session timers), the media files (see
 * call_media_int.h) and call_nego.c (the codec rules they apply: pure
 * functions, unit-tested).
 */
#ifndef HF_CALL_INT_H
#define HF_CALL_INT_H

#include "../../db/db.h"
#include "../base/hash.h"
#include "../base/list.h"
#include "../base/loop.h"
#include "../base/sbuf.h"
#include "../base/dest.h"
#include "../sip/dialog.h"
#include "app.h"
#include "call.h"

#define CALL_MAX_FORKS 8
#define CALL_TAG "call"
#define CALL_DTMF_KEEP 32
/* Destinations one call may pass through before we call it a loop
 * (forwarding to a forward to a forward...). */
#define CALL_MAX_HOPS 10

struct call;
struct call_mgr;
struct ext;

enum leg_state {
	LEG_TRYING,     /* B: INVITE sent; A: INVITE received */
	LEG_EARLY,      /* 1xx with a tag */
	LEG_UP,         /* 2xx */
	LEG_DONE,       /* final non-2xx, cancelled, or BYE done */
};

/* An outstanding client transaction of a leg, so the leg can forget it
 * when it goes before the answer does. */
struct leg_req {
	struct list_node le; /* in leg->reqs until the final answer */
	struct leg *leg;
	struct sip_tsx *ct;
	int kind;            /* enum req_kind in call_dialog.c / call_setup.c */
};

struct leg {
	struct call *call;
	int idx;             /* 0: A, 1..: B forks */
	enum leg_state state;
	struct sip_dialog dlg;
	struct hnode hn;     /* in call_mgr.legs, by Call-ID and our tag */

	/* A: the INVITE server transaction until its final response */
	struct sip_tsx *inv_st;
	/* B: the INVITE client transaction, and what CANCEL must repeat */
	struct sip_tsx *inv_ct;
	char inv_branch[40];
	uint32_t inv_cseq;
	bool got_provisional;
	bool want_cancel;
	/* rang for a destination the call has since left (no answer, then
	 * voicemail): its answers no longer count */
	bool stale;
	uint16_t final_status;

	/* UAS 2xx retransmission until ACK (13.3.1.4), per leg */
	char *resp2xx;
	size_t resp2xx_len;
	uint32_t resp2xx_cseq;
	struct loop_timer t2xx;
	uint64_t t2xx_interval, t2xx_elapsed;

	/* ACK we sent for a 2xx (re-sent when the 2xx is retransmitted) */
	char *ack;
	size_t ack_len;
	uint32_t ack_cseq;

	/* A request from this leg waiting for the other leg's answer */
	struct sip_tsx *relay_st;
	bool relay_is_invite;
	/* A request we sent on this leg that is not answered yet */
	bool busy_out;
	/* our 2xx to its offer-less re-INVITE carried an offer: the answer
	 * comes in the ACK (callm_ack_answer) */
	bool answer_in_ack;
	/* B: how many times the INVITE was sent again with another RTP
	 * profile (callm_retry_offer_to_b) */
	uint8_t profile_tries;

	struct list reqs;    /* struct leg_req, newest first */
	char via[160];       /* "SIP/2.0/UDP host:port" towards this leg */
	char contact[200];   /* our Contact towards this leg */
	char sdp_sent[2048]; /* last SDP we sent on this leg (refreshes) */
	size_t sdp_sent_len;
};

struct call {
	struct list_node le;        /* in call_mgr.calls */
	struct call_mgr *m;
	uint32_t id;
	bool answered, ending, on_hold;
	bool finished;              /* ended, media gone, CDR written */
	bool late_offer;     /* A's INVITE had no SDP: our 2xx offers, its ACK answers */
	struct leg a;
	struct leg *b[CALL_MAX_FORKS];
	int nb;
	struct leg *winner;
	char caller[32], caller_name[128];
	char callee[64], callee_name[128];
	char caller_ext[32], callee_ext[32];
	struct loop_timer noanswer;
	struct loop_timer session;
	uint32_t session_interval;  /* 0: no session timer */
	bool we_refresh;
	int64_t start_ms, answer_ms; /* unix ms */
	uint64_t start_mono;
	uint16_t best_status;
	char best_reason[64];
	struct db_cdr cdr;
	void *media;                /* call_media.c's state */
	char codec[32];
	char dtmf[CALL_DTMF_KEEP + 1]; /* the last digits either side sent */
	/* A Warning header for the caller's final response (why a 488) */
	char warning[128];

	/* Routing (call_route.c): the destinations so far ("ext:1001 >
	 * app:noservice", for the CDR), and where the current one goes when
	 * it fails. fail_status is what the caller gets if the chain ends in
	 * hangup. */
	char path[256];
	char kind[DEST_KIND_MAX];   /* of the current destination */
	unsigned hops;
	char next_busy[DEST_MAX], next_noanswer[DEST_MAX], next_unavail[DEST_MAX],
		next_fail[DEST_MAX];
	uint16_t fail_status;
	char fail_reason[64], fail_cause[32], fail_side[8];
	bool forking;               /* an ext: destination is ringing */

	/* The app that has the call (call_app.c), its state and timer */
	const struct app_desc *app;
	void *app_state;
	struct loop_timer app_timer;
	uint32_t app_seq;           /* which app run (app_store's done checks it) */
	/* why the call came to the current destination (app_reason), and
	 * why it goes to the next one (call_next sets it, call_goto takes it) */
	char reason[12], reason_next[12];
};

/* Live calls per extension, for the per-extension limit (a counter, not
 * a scan of every call on every INVITE). */
struct ext_calls {
	struct hnode hn;
	char ext[32];
	unsigned n;
};

struct call_mgr {
	struct call_deps d;
	/* keyed with a per-process seed: Call-IDs and tags come from phones,
	 * who must not be able to pile their dialogs into one chain */
	struct hash_seed seed;
	struct htab ext_calls;      /* struct ext_calls by number */
	struct list calls;          /* every call, newest first */
	size_t ncalls;
	uint32_t next_id;
	struct htab legs;           /* struct leg by Call-ID and local tag */
	struct call_stats stats;
	void *media_engine;         /* call_media.c's (not a struct media_engine) */
	unsigned char cid_key[32];  /* signs the Call-IDs of our B legs */
};

/* call_mgr.c */
/* A Call-ID for a new B leg, signed so that a 2xx for a leg we no longer
 * hold can be told from a forged one (only ours get ACK and BYE). */
void call_make_call_id(struct call_mgr *m, char *out, size_t cap);
bool call_id_is_ours(const struct call_mgr *m, struct pl cid);
unsigned call_ext_count(struct call_mgr *m, const char *ext);
void call_ext_add(struct call_mgr *m, const char *ext, int delta);
void call_leg_hash(struct call_mgr *m, struct leg *l);
void call_leg_unhash(struct call_mgr *m, struct leg *l);
struct leg *call_leg_find(struct call_mgr *m, const char *call_id_p, size_t call_id_l,
			  const char *tag_p, size_t tag_l);
struct call *call_new(struct call_mgr *m);
/* Ends the call: BYE to answered legs, CANCEL to ringing ones, the
 * final response to A when it has none yet; CDR; frees. side/cause go
 * into the CDR. */
void call_end(struct call *c, uint16_t status_to_a, const char *reason,
	      const char *side, const char *cause);
void call_free_leg(struct call *c, struct leg *l);
/* Frees B leg b of c (its INVITE got its final answer, or it is no
 * longer wanted) and, when c has ended and nothing else holds it, c. */
void call_forget_fork(struct call *c, struct leg *b);
/* Frees c once it has ended, its CDR is written and no fork waits. */
void call_reap(struct call *c);
/* Hands a finished CDR to the store thread. */
void call_cdr_post(struct call_mgr *m, const struct db_cdr *cdr);
int64_t call_wall_ms(void);
/* A digit from leg (0: caller) arrived by src ("rfc4733", "inband",
 * "INFO"): logged and kept for `hookflash calls`. */
void call_dtmf_note(struct call *c, unsigned leg, char digit, const char *src);

/* Sending on a leg; h gets the final response (or err) with r->leg set
 * or NULL when the leg went away. On success *ct (when ct is not NULL)
 * is the request's client transaction. */
typedef void(leg_resp_h)(struct leg_req *r, const struct sip_msg *resp, int err);
int call_leg_send(struct leg *l, const char *data, size_t len, int kind, leg_resp_h *h,
		  struct sip_tsx **ct);
void call_leg_forget_reqs(struct leg *l);
/* Sends an in-dialog request built by the dialog. */
int call_leg_request(struct leg *l, const char *method, const char *extra,
		     const char *ctype, const char *body, size_t body_len, int kind,
		     leg_resp_h *h);
/* Local Via/Contact towards a peer. */
void call_leg_local(struct call_mgr *m, struct leg *l);
/* Replies on a server transaction with To tag, Contact and optional SDP. */
int call_reply(struct leg *l, struct sip_tsx *st, uint16_t status, const char *reason,
	       const char *extra, const char *sdp, size_t sdp_len);
/* A response with the leg's To tag and nothing else (the 200 to a
 * CANCEL). */
int call_reply_plain(struct leg *l, struct sip_tsx *st, uint16_t status, const char *reason);
struct leg *call_other_leg(struct leg *l);

/* call_setup.c */
void call_fork_cancel(struct leg *b);
/* Rings extension number's phones (the ext: destination). */
void call_ring_ext(struct call *c, const char *number);
/* Cancels what still rings and forgets it: the call moves on. */
void call_forks_abandon(struct call *c);

/* call_route.c */
/* Sends the call to dest (a destination string): the next hop of its
 * path. Ends the call after CALL_MAX_HOPS. */
void call_goto(struct call *c, const char *dest);
enum call_next { CALL_NEXT_BUSY, CALL_NEXT_NOANSWER, CALL_NEXT_UNAVAIL, CALL_NEXT_FAIL };
/* The current destination failed this way (status and reason for the
 * caller, and who failed it, "callee" or "system", for the CDR, if the
 * chain ends in hangup): on to its next destination. */
void call_next(struct call *c, enum call_next why, uint16_t status, const char *reason,
	       const char *side);
/* The info line of a call that ended unanswered: caller, dialled number,
 * status and reason (NULL: the status's phrase), how it is counted
 * (disposition), why and who ended it. */
void call_log_failed(const struct call *c, uint16_t status, const char *reason,
		     const char *disposition, const char *cause, const char *side);

/* call_app.c */
/* Finds the app for a destination (app:NAME or a kind an app serves);
 * NULL when none. *arg points into d. */
const struct app_desc *call_app_find(struct call_mgr *m, const struct dest *d, const char **arg);
/* Answers the caller for app and starts it with arg. */
void call_app_start(struct call *c, const struct app_desc *app, const char *arg);
/* Stops the app that has the call, if any (no event reaches it after). */
void call_app_stop(struct call *c);
/* A media event or a digit for the app, if one has the call. */
void call_app_event(struct call *c, const struct app_event *ev);

/* call_dialog.c */
/* Sends a 2xx on A's INVITE (or re-INVITE) and keeps retransmitting it
 * until the ACK comes. */
int call_send_2xx(struct leg *l, struct sip_tsx *st, const char *sdp, size_t sdp_len,
		  const char *extra);
void call_leg_stop_2xx(struct leg *l);
void call_session_timer_start(struct call *c);
void call_send_bye(struct leg *l);

/* call_media.c: every function returns 0, or an errno with a SIP status
 * suggestion in *status (488 for unusable SDP, 500 otherwise). */
int callm_engine_alloc(struct call_mgr *m);
void callm_engine_free(struct call_mgr *m);
/* media_engine_totals of the engine (zeros before it runs). */
void callm_engine_totals(const struct call_mgr *m, uint64_t *relayed, uint64_t *lost);
/* The call's media, with the caller's and the callee's policies (codecs,
 * SRTP) from their extensions (NULL: the system default). */
int callm_create(struct call *c, const struct ext *caller, const struct ext *callee);
/* A's INVITE came without SDP (a delayed offer): what A would have
 * offered by its policy (its codecs, telephone-event; no address yet), to
 * stand in for its offer; B's answer then becomes our offer to A in the
 * 2xx, with a key of ours unless A's SRTP policy is off (RTP/SAVP when it
 * is required), and A's ACK brings its answer (callm_ack_answer). */
int callm_late_offer(struct call *c, struct sbuf *out, uint16_t *status);
/* A's offer (its INVITE's SDP, or callm_late_offer's stand-in): kept
 * until a destination answers it. */
int callm_take_offer_a(struct call *c, const char *sdp, size_t len, uint16_t *status);
/* The callee's policy (codecs, SRTP) for the B legs about to ring;
 * NULL: the system default. */
void callm_set_callee(struct call *c, const struct ext *callee);
/* A's offer -> the offer for the B legs. */
int callm_offer_to_b(struct call *c, struct sbuf *out, uint16_t *status);
/* A fork refused that offer with status: for 488, 415 and 606 the same
 * offer with another RTP profile, to send the fork again (attempt 1, 2):
 * the other of RTP/AVP and RTP/SAVP (RTP/SAVP for a phone that requires
 * SRTP, RTP/AVP for one that refuses it), then RTP/SAVPF, each where the
 * callee's SRTP policy allows it. ENOENT: nothing else to try. */
int callm_retry_offer_to_b(struct call *c, uint16_t status, int attempt, struct sbuf *out);
/* Our own answer to A's offer, for an app: A's format and keys are set
 * and A hears us (nothing of B). */
int callm_answer_local(struct call *c, struct sbuf *out);
/* The callee's phone is gone (its destination was left): nothing more
 * flows to or from leg 1 until another callee answers. */
void callm_detach_b(struct call *c);
/* Plays tone to the caller (ringback while a destination rings after an
 * app answered); stops when B answers. */
int callm_tone_a(struct call *c, const char *tone);
/* Media commands for the app on leg A (app.h). */
int callm_app_play(struct call *c, const char *const *files, size_t n, bool loop, uint32_t tag);
int callm_app_tone(struct call *c, const char *tone, uint32_t tag);
int callm_app_stop(struct call *c);
int callm_app_echo(struct call *c, bool on);
int callm_app_record(struct call *c, const char *path, uint32_t tag);
/* The PCM rate the caller's audio runs at (8000, or 16000 for a wideband
 * codec): prompts are played from files made for it. */
unsigned callm_app_rate(const struct call *c);
int callm_app_record_stop(struct call *c);
/* An answer from B leg l (183/200) -> the answer for A. */
int callm_answer_b_to_a(struct call *c, struct leg *l, const char *sdp, size_t len,
			struct sbuf *out, uint16_t *status);
/* A mid-call offer from leg `from` -> the offer for the other leg. */
int callm_reoffer(struct call *c, struct leg *from, const char *sdp, size_t len,
		  struct sbuf *out, uint16_t *status);
/* The answer to it from the other leg -> the answer for `from`. */
int callm_reanswer(struct call *c, struct leg *from, const char *sdp, size_t len,
		   struct sbuf *out, uint16_t *status);
/* Ringback (the callee rings without early media): our answer to A's
 * offer in out, chosen from it, and the tone playing to A. ENOTSUP when
 * ringback is off or A already has an answer, ENOSYS when the engine
 * cannot play; nothing is sent or changed then. */
int callm_ringback(struct call *c, struct sbuf *out);
/* A has our SDP answer to its INVITE (early media or ringback). */
bool callm_has_answer_for_a(const struct call *c);
/* An offer-less re-INVITE is relayed: no offer of ours is pending. */
void callm_forget_offer(struct call *c);
/* An offer-less re-INVITE from l is answered here: our offer is what we
 * last sent l (nothing changes unless its answer says so). ENOENT when we
 * never sent it SDP. */
int callm_our_sdp(struct call *c, const struct leg *l, struct sbuf *out);
/* The answer in l's ACK to that offer: its address, direction, codec and
 * SRTP key take effect. */
void callm_ack_answer(struct call *c, struct leg *l, const char *sdp, size_t len);
/* Sends a digit to leg's phone in its form (RFC 4733 or in-band); ENOSYS
 * when the engine cannot. */
int callm_send_dtmf(struct call *c, unsigned leg, char digit, uint32_t duration_ms);
/* Starts relaying once the call is answered. */
void callm_connect(struct call *c);
/* Stops media; the final statistics land in c->cdr before the CDR is
 * written (calls done() synchronously or later from the loop). */
void callm_destroy(struct call *c, void (*done)(struct call *c));

#endif
