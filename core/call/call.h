/*
 * Calls: the back-to-back user agent. An authenticated INVITE from an
 * extension becomes a call with leg A (we are its UAS) and one leg B per
 * contact of the callee (we are their UAC, forked in parallel; the first
 * 2xx wins). Each leg is its own dialog; nothing of one leg's routing
 * state reaches the other. Media is anchored in the media workers; every
 * call leaves one CDR row, written by the store thread.
 */
#ifndef HF_CALL_H
#define HF_CALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct conf;
struct loop;
struct store;
struct sip_transport;
struct sip_tsx_layer;
struct registrar;
struct ext_table;
struct authn;
struct numplan;
struct app_desc;
struct app_services;
struct prompts;
struct sip_tsx;
struct sip_msg;
struct sip_peer;
struct call_mgr;

/* What the call layer uses, and nothing more: it is handed these by
 * whoever wires the signalling side together (core/pbx), never the whole
 * of it. All live on the signalling loop. */
struct call_deps {
	struct loop *loop;
	struct store *store;          /* CDRs go to its thread */
	struct sip_transport *tp;
	struct sip_tsx_layer *tsx;
	struct registrar *reg;        /* where an extension's phones are */
	struct authn *authn;          /* who calls */
	/* the live settings and extension snapshot: both are replaced on
	 * reload, so the call layer reads them through their owner's slot */
	const struct conf *conf;
	struct ext_table *const *exts;
	struct numplan *const *plan;  /* the numbering plan, also replaced on reload */
	/* the dialplan applications, NULL-terminated (apps/apps.c) */
	const struct app_desc *const *apps;
	const char *sounds_dir;       /* prompts by name (app_prompt) */
	/* the prompts converted at start to the calls' rates; NULL: the
	 * files in sounds_dir as they are */
	const struct prompts *prompts;
	/* what core/pbx offers the apps around a call (app.h; each may be
	 * NULL) */
	const struct app_services *services;
};

int call_mgr_alloc(struct call_mgr **out, const struct call_deps *deps);
/* Ends every call (BYE/CANCEL/final responses go out) and frees. */
void call_mgr_free(struct call_mgr *m);

/* A new INVITE (no To tag). */
void call_on_invite(struct call_mgr *m, struct sip_tsx *st, const struct sip_msg *req,
		    const struct sip_peer *from);
/* A CANCEL (17.2.3 matched it to its INVITE, or not). */
void call_on_cancel(struct call_mgr *m, struct sip_tsx *st, const struct sip_msg *req,
		    const struct sip_peer *from);
/* A request with a To tag; st is NULL for ACK. Returns false when no
 * dialog matches (the caller answers 481). */
bool call_on_in_dialog(struct call_mgr *m, struct sip_tsx *st, const struct sip_msg *req,
		       const struct sip_peer *from);
/* A response no transaction wanted: a retransmitted 2xx to our INVITE. */
void call_on_stray_response(struct call_mgr *m, const struct sip_msg *resp,
			    const struct sip_peer *from);

struct call_info {
	uint32_t id;
	const char *caller, *callee;
	const char *state;     /* ringing, answered, hold */
	uint32_t duration_s;
	const char *codec;
	const char *dtmf;      /* the last digits sent by either phone, oldest first */
};
typedef void(call_each_h)(const struct call_info *ci, void *arg);
void call_each(struct call_mgr *m, call_each_h *h, void *arg);
size_t call_count(const struct call_mgr *m);
/* Ends a call as the administrator. ENOENT when no such call. */
int call_hangup(struct call_mgr *m, uint32_t id);

struct call_stats {
	uint64_t started, answered, failed, busy, no_answer, cancelled;
};
void call_mgr_stats(const struct call_mgr *m, struct call_stats *s);
/* RTP packets the media engine relayed and lost since start (zeros while
 * there is no engine), for /metrics. */
void call_mgr_media_totals(const struct call_mgr *m, uint64_t *relayed, uint64_t *lost);

#endif
