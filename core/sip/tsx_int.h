/*
 * Private to the transaction layer (tsx_layer.c, tsx_client.c,
 * tsx_server.c): the transaction and layer structs and the helpers the two
 * state machines share. Nothing outside core/sip/tsx_*.c includes this.
 *
 * Lifetime rule: a transaction may be terminated while one of our frames
 * is still using it (a TU callback or a send function that loops back into
 * the layer can end it). Every frame that calls out and then touches the
 * transaction again brackets the call with tsx_hold()/tsx_release();
 * tsx_terminate() unlinks at once but frees only when nobody holds it.
 */
#ifndef HF_SIP_TSX_INT_H
#define HF_SIP_TSX_INT_H

#include "../base/hash.h"
#include "../base/loop.h"
#include "../base/pl.h"
#include "msg.h"
#include "tsx.h"

#define TSX_TAG "tsx"
#define TSX_TRYING_MS 200 /* RFC 3261 17.2.1: 100 Trying unless TU answered */

enum tsx_state {
	TSX_CALLING = 0, /* INVITE client before any response */
	TSX_TRYING,      /* non-INVITE, client or server, before any response */
	TSX_PROCEEDING,
	TSX_COMPLETED,
	TSX_CONFIRMED,   /* INVITE server after the ACK */
	TSX_TERMINATED,
};

struct sip_tsx {
	struct hnode hn;        /* in tl->tab while not terminated */
	struct sip_tsx_layer *tl;
	bool server;
	bool invite;
	bool rfc2543;    /* server: request had no magic-cookie branch */
	bool reliable;   /* no retransmissions; D/I/J/K are zero */
	enum tsx_state state;
	unsigned busy;   /* frames currently using it (see above) */

	struct sip_peer peer;       /* server: where the request came from;
				     * client: where the request goes */
	struct loop_timer t_retx;   /* A, E, G; server INVITE: the 100 Trying */
	struct loop_timer t_end;    /* B, F, H, then D, I, J, K */
	uint32_t retx_ms;           /* current retransmission interval */

	/* Match key. Server: slices of req, or of key[] once req is freed;
	 * client: slices of data[]. */
	struct pl branch;
	struct pl method;
	struct pl via_host, via_transport; /* server, RFC 3261 matching */
	uint16_t via_port;
	char *key; /* server: the key's own copy after compaction */

	/* What a retransmission or absorbed duplicate makes us send again:
	 * server: the last response; client INVITE: the ACK to a non-2xx. */
	char *last;
	size_t last_len;
	uint16_t status;            /* server: status of last; 0 none */

	/* server */
	struct sip_msg *req;
	struct tsx_src *src;        /* its source's count while req is held */
	char to_tag[17];            /* ours, made on the first non-100 reply */

	/* client */
	sip_tsx_resp_h *h;
	void *arg;
	const char *req_buf;        /* the request text, in data[] */
	size_t req_len;

	char data[];                /* client: request, branch, method */
};

struct sip_tsx_layer {
	struct loop *loop;
	struct sip_tsx_timers tm;
	sip_tsx_send_h *send;
	void *send_arg;
	sip_tsx_req_h *req_h;
	void *req_arg;
	sip_tsx_stray_h *stray_h;
	void *stray_arg;
	struct hash_seed seed;      /* keyed: branches come from peers */
	struct htab tab;            /* every live transaction, by tsx_hash_* */
	/* Server transactions holding their request, per source address and
	 * in all (tsx_src_*): what a flood of requests costs us, capped */
	struct htab srcs;
	size_t held, max_held, max_per_src;
	uint64_t refused;           /* requests answered 503 past the caps */
};

/* One source address's count of server transactions holding a request. */
struct tsx_src {
	struct hnode hn;
	uint32_t n;
	uint8_t klen;
	uint8_t key[17];
};

/* tsx_layer.c */
bool tsx_has_cookie(struct pl branch);
size_t tsx_hash_branch(const struct sip_tsx_layer *tl, struct pl branch);
size_t tsx_hash_2543(const struct sip_tsx_layer *tl, struct pl call_id, uint32_t cseq);
/* The first transaction under hash h, then the next under the same h;
 * callers apply the matching rules. */
static inline struct sip_tsx *tsx_first(const struct sip_tsx_layer *tl, size_t h)
{
	struct hnode *n = htab_first(&tl->tab, h);
	return n ? container_of(n, struct sip_tsx, hn) : NULL;
}
static inline struct sip_tsx *tsx_next(const struct sip_tsx *t)
{
	struct hnode *n = htab_next(&t->hn);
	return n ? container_of(n, struct sip_tsx, hn) : NULL;
}
void tsx_link(struct sip_tsx *t, size_t hash);
int tsx_send(struct sip_tsx *t, const char *data, size_t len);
int tsx_timer_start(struct sip_tsx *t, struct loop_timer *tm, uint64_t ms, loop_timer_h *h);
void tsx_hold(struct sip_tsx *t);
/* Returns false when t has been terminated (and possibly freed): the
 * caller must not touch it again. */
bool tsx_release(struct sip_tsx *t);
void tsx_terminate(struct sip_tsx *t);
void tsx_free(struct sip_tsx *t);
/* Slice length clipped for log lines (peer-chosen branches can be long). */
static inline int tsx_loglen(struct pl p)
{
	return p.l > 64 ? 64 : (int)p.l;
}

/* Counts a new server transaction from from; NULL when a cap is reached
 * (or no memory), and the request is then to be refused statelessly. */
struct tsx_src *tsx_src_admit(struct sip_tsx_layer *tl, const struct sip_peer *from, bool *over);
/* The transaction no longer holds its request (compacted or freed). */
void tsx_src_release(struct sip_tsx *t);

/* tsx_server.c */
void tsx_server_recv(struct sip_tsx_layer *tl, struct sip_msg *msg,
		     const struct sip_peer *from);

/* tsx_client.c */
void tsx_client_recv(struct sip_tsx_layer *tl, struct sip_msg *msg,
		     const struct sip_peer *from);

#endif
